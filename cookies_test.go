package passauth_test

// The cookie transport: the attributes of every cookie, the flows of the
// three cookie routes, the middleware's choice between the header and the
// cookie, and the refusal of cross-origin requests (CSRF), same-site
// siblings included.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

const cookiePath = "/api/auth/cookie"

// cookieFixture is a fixture with the cookie transport mounted.
type cookieFixture struct {
	*fixture
	cookies   *passauth.Cookies
	login     http.Handler
	refreshC  http.Handler
	logout    http.Handler
	protected http.Handler // Cookies.Authenticate in front of a 204
}

func newCookieFixture(t *testing.T, cfg passauth.CookieConfig, mods ...func(*passauth.Config)) *cookieFixture {
	t.Helper()
	f := newFixture(t, append([]func(*passauth.Config){withMemoryStore, withCheckRevoked}, mods...)...)
	if cfg.Path == "" {
		cfg.Path = cookiePath
	}
	c, err := f.iss.Cookies(cfg, f.users)
	require.NoError(t, err)
	return &cookieFixture{
		fixture: f, cookies: c,
		login: c.LoginHandler(), refreshC: c.RefreshHandler(), logout: c.LogoutHandler(),
		protected: c.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})),
	}
}

// jar keeps the cookies a browser would, by name.
type jar map[string]*http.Cookie

// take records the Set-Cookie headers of rec, deleting cleared cookies.
func (j jar) take(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(j, c.Name)
		} else {
			j[c.Name] = c
		}
	}
}

// header returns the Cookie header a browser would send to path.
func (j jar) header(path string) string {
	var parts []string
	for _, c := range j {
		if strings.HasPrefix(path, c.Path) {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// post is a POST to path with the jar's cookies and more header pairs.
func (j jar) post(path string, r httpReq, kv ...string) httpReq {
	r.target = path
	if h := j.header(path); h != "" {
		r.header = append(r.header, "Cookie", h)
	}
	r.header = append(r.header, kv...)
	return r
}

// loginJar logs alice in through the cookie login and returns her cookies.
func (f *cookieFixture) loginJar(t *testing.T) jar {
	t.Helper()
	j := jar{}
	rec := do(t, f.login, j.post(cookiePath+"/login", postForm("username", "alice", "password", alicePassword)))
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	j.take(rec)
	require.Len(t, j, 2)
	return j
}

// TestCookieLogin checks the cookie login's answer: both cookies with their
// fixed attributes, and a body with the access token's lifetime and scope
// and no token.
func TestCookieLogin(t *testing.T) {
	t.Parallel()
	f := newCookieFixture(t, passauth.CookieConfig{})
	rec := do(t, f.login, postForm("username", "alice", "password", alicePassword))
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	assertTokenHeaders(t, rec)
	assert.JSONEq(t, `{"token_type":"cookie","expires_in":900,"scope":"me items"}`, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), "eyJ", "the body holds a token")

	set := rec.Header().Values("Set-Cookie")
	require.Len(t, set, 2)
	cookies := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		cookies[c.Name] = c
	}
	for name, want := range map[string]struct {
		path   string
		maxAge int
	}{
		passauth.AccessCookie:  {"/", int(testAccessTTL / time.Second)},
		passauth.RefreshCookie: {cookiePath, int(testRefreshTTL / time.Second)},
	} {
		c := cookies[name]
		require.NotNil(t, c, name)
		assert.True(t, c.HttpOnly, name)
		assert.True(t, c.Secure, name)
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite, name)
		assert.Equal(t, want.path, c.Path, name)
		assert.Empty(t, c.Domain, name)
		assert.InDelta(t, want.maxAge, c.MaxAge, 2, name)
		assert.True(t, strings.HasPrefix(c.Value, "eyJ"), name)
	}
	for _, h := range set {
		assert.Contains(t, h, "; HttpOnly; Secure; SameSite=Strict")
	}

	// The cookie login is the password grant: its refusals are the token
	// endpoint's.
	rec = do(t, f.login, postForm("username", "alice", "password", "wrong"))
	assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidGrant, "Incorrect username or password")
	assert.Empty(t, rec.Header().Values("Set-Cookie"))
	rec = do(t, f.login, postForm("grant_type", "refresh_token", "refresh_token", "x"))
	assertError(t, rec, http.StatusBadRequest, passauth.CodeUnsupportedGrantType, "")
	assert.Equal(t, http.StatusMethodNotAllowed, do(t, f.login, httpReq{method: http.MethodGet}).Code)
}

// TestCookieFlow walks a session: the access cookie authenticates, the
// refresh cookie (sent to the cookie routes only) rotates the session, its
// reuse ends it and clears the cookies, and logout revokes and clears.
func TestCookieFlow(t *testing.T) {
	t.Parallel()
	f := newCookieFixture(t, passauth.CookieConfig{})
	j := f.loginJar(t)
	assert.NotContains(t, j.header("/api/users/me"), passauth.RefreshCookie, "the refresh cookie goes to the cookie routes only")
	me := httpReq{method: http.MethodGet, target: "/api/users/me", header: []string{"Cookie", j.header("/api/users/me")}}
	assert.Equal(t, http.StatusNoContent, do(t, f.protected, me).Code)

	old := j[passauth.RefreshCookie].Value
	rec := do(t, f.refreshC, j.post(cookiePath+"/refresh", httpReq{}))
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	assert.JSONEq(t, `{"token_type":"cookie","expires_in":900,"scope":"me items"}`, rec.Body.String())
	j.take(rec)
	assert.NotEqual(t, old, j[passauth.RefreshCookie].Value)

	// The consumed refresh cookie again: reuse, the session ends, both
	// cookies are cleared with the attributes they were set with.
	stale := jar{passauth.RefreshCookie: &http.Cookie{Name: passauth.RefreshCookie, Value: old, Path: cookiePath}}
	rec = do(t, f.refreshC, stale.post(cookiePath+"/refresh", httpReq{}))
	assertError(t, rec, http.StatusUnauthorized, passauth.CodeInvalidToken, "Invalid token")
	assertCleared(t, rec)
	me.header = []string{"Cookie", j.header("/api/users/me")}
	assert.Equal(t, http.StatusUnauthorized, do(t, f.protected, me).Code, "the session's access cookie after the reuse")

	// A new session, logged out: revoked, cookies cleared.
	j = f.loginJar(t)
	rec = do(t, f.logout, j.post(cookiePath+"/logout", httpReq{}))
	require.Equal(t, http.StatusNoContent, rec.Code, describe(rec))
	assertCleared(t, rec)
	me.header = []string{"Cookie", j.header("/api/users/me")}
	assert.Equal(t, http.StatusUnauthorized, do(t, f.protected, me).Code, "the access cookie after logout")
	rec = do(t, f.refreshC, j.post(cookiePath+"/refresh", httpReq{}))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "the refresh cookie after logout")
	assert.Equal(t, http.StatusNoContent, do(t, f.logout, jar{}.post(cookiePath+"/logout", httpReq{})).Code, "logout without cookies")
	assert.Equal(t, http.StatusUnauthorized, do(t, f.refreshC, jar{}.post(cookiePath+"/refresh", httpReq{})).Code, "refresh without cookies")
}

// assertCleared checks that rec clears both cookies with their attributes.
func assertCleared(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	cleared := map[string]string{}
	for _, c := range rec.Result().Cookies() {
		assert.Negative(t, c.MaxAge, c.Name)
		assert.Empty(t, c.Value, c.Name)
		assert.True(t, c.HttpOnly && c.Secure && c.SameSite == http.SameSiteStrictMode, c.Name)
		cleared[c.Name] = c.Path
	}
	assert.Equal(t, map[string]string{passauth.AccessCookie: "/", passauth.RefreshCookie: cookiePath}, cleared)
}

// TestCookieGrace refreshes one refresh cookie from two tabs within the
// grace window: both succeed, with the same refresh token.
func TestCookieGrace(t *testing.T) {
	t.Parallel()
	f := newCookieFixture(t, passauth.CookieConfig{}, withGrace(10*time.Second))
	j := f.loginJar(t)
	var got []string
	for range 2 {
		rec := do(t, f.refreshC, j.post(cookiePath+"/refresh", httpReq{}))
		require.Equal(t, http.StatusOK, rec.Code, describe(rec))
		next := jar{}
		next.take(rec)
		got = append(got, refreshID(t, f.fixture, next[passauth.RefreshCookie].Value))
	}
	assert.Equal(t, got[0], got[1])
	assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
}

// TestCookieCrossOrigin sends each cookie route, and an unsafe
// cookie-authenticated request, from other origins as browsers mark them:
// all refused 403 with the RFC 6749 error body, same-site siblings too,
// unless the origin is trusted; same-origin requests, requests without the
// headers (not a browser), and safe methods pass.
func TestCookieCrossOrigin(t *testing.T) {
	t.Parallel()
	f := newCookieFixture(t, passauth.CookieConfig{TrustedOrigins: []string{"https://app.example.test"}})
	j := f.loginJar(t)
	put := func(path string) httpReq {
		return httpReq{method: http.MethodPut, target: path, header: []string{"Cookie", j.header(path)}}
	}
	routes := map[string]struct {
		h   http.Handler
		req func() httpReq
	}{
		"login":                      {f.login, func() httpReq { return postForm("username", "alice", "password", alicePassword) }},
		"refresh":                    {f.refreshC, func() httpReq { return j.post(cookiePath+"/refresh", httpReq{}) }},
		"logout":                     {f.logout, func() httpReq { return j.post(cookiePath+"/logout", httpReq{}) }},
		"PUT with the access cookie": {f.protected, func() httpReq { return put("/api/items/1") }},
	}
	refused := [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"},
	}
	for name, rt := range routes {
		for _, kv := range refused {
			req := rt.req()
			req.header = append(req.header, kv...)
			rec := do(t, rt.h, req)
			assertError(t, rec, http.StatusForbidden, passauth.CodeInvalidRequest, "cross-origin request refused")
			assert.Empty(t, rec.Header().Values("Set-Cookie"), name)
		}
		req := rt.req()
		req.header = append(req.header, "Sec-Fetch-Site", "cross-site", "Origin", "https://app.example.test")
		assert.NotEqual(t, http.StatusForbidden, do(t, rt.h, req).Code, name+" from the trusted origin")
	}
	// What passes: same-origin, no header at all, and safe methods (a new
	// session: the trusted origin's logout above ended the first).
	j = f.loginJar(t)
	assert.Equal(t, http.StatusNoContent, do(t, f.protected, withHeader(put("/api/items/1"), "Sec-Fetch-Site", "same-origin")).Code)
	assert.Equal(t, http.StatusNoContent, do(t, f.protected, put("/api/items/1")).Code)
	get := httpReq{method: http.MethodGet, target: "/api/users/me", header: []string{"Cookie", j.header("/api/users/me"), "Sec-Fetch-Site", "cross-site"}}
	assert.Equal(t, http.StatusNoContent, do(t, f.protected, get).Code)
	// A Bearer header is no cookie: CSRF cannot forge it.
	bearer := httpReq{method: http.MethodPut, header: []string{"Authorization", "Bearer " + f.fixture.login(t, "alice").AccessToken, "Sec-Fetch-Site", "cross-site"}}
	assert.Equal(t, http.StatusNoContent, do(t, f.protected, bearer).Code)
}

// TestCookieMiddleware checks the choice of credential: the Authorization
// header first, decided as Authenticate decides it (a bad header is not
// rescued by a good cookie); otherwise the access cookie; and that
// TokenIssuer.Authenticate and the token endpoints never read cookies.
func TestCookieMiddleware(t *testing.T) {
	t.Parallel()
	f := newCookieFixture(t, passauth.CookieConfig{})
	j := f.loginJar(t)
	good := j.header("/api/users/me")
	bearer := f.fixture.login(t, "alice").AccessToken
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"cookie", []string{"Cookie", good}, http.StatusNoContent},
		{"header", []string{"Authorization", "Bearer " + bearer}, http.StatusNoContent},
		{"good header, bad cookie", []string{"Authorization", "Bearer " + bearer, "Cookie", passauth.AccessCookie + "=x.y.z"}, http.StatusNoContent},
		{"bad header, good cookie", []string{"Authorization", "Bearer x.y.z", "Cookie", good}, http.StatusUnauthorized},
		{"Basic header, good cookie", []string{"Authorization", basic("a", "b"), "Cookie", good}, http.StatusUnauthorized},
		{"a bad cookie", []string{"Cookie", passauth.AccessCookie + "=x.y.z"}, http.StatusUnauthorized},
		{"a malformed cookie", []string{"Cookie", passauth.AccessCookie + "=a b"}, http.StatusBadRequest},
		{"two access cookies", []string{"Cookie", good + "; " + passauth.AccessCookie + "=x.y.z"}, http.StatusBadRequest},
		{"the refresh token as access cookie", []string{"Cookie", passauth.AccessCookie + "=" + j[passauth.RefreshCookie].Value}, http.StatusUnauthorized},
		{"an unprefixed cookie", []string{"Cookie", "passauth-access=" + j[passauth.AccessCookie].Value}, http.StatusUnauthorized},
		{"nothing", nil, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		rec := do(t, f.protected, httpReq{method: http.MethodGet, header: tc.header})
		assert.Equal(t, tc.want, rec.Code, tc.name)
	}
	assert.Equal(t, http.StatusUnauthorized, do(t, f.fixture.protected, httpReq{method: http.MethodGet, header: []string{"Cookie", good}}).Code,
		"Authenticate reads no cookie")
	rec := do(t, f.fixture.refresh, j.post(cookiePath+"/refresh", httpReq{contentType: "application/json", body: "{}"}))
	assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidRequest, "missing refresh_token")
	optional := f.cookies.AuthenticateOptional(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	assert.Equal(t, http.StatusNoContent, do(t, optional, httpReq{method: http.MethodGet}).Code)
}

// TestCookieConfig checks what Cookies refuses.
func TestCookieConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore)
	for name, cfg := range map[string]passauth.CookieConfig{
		"no path": {}, "root": {Path: "/"}, "relative": {Path: "api/auth"}, "a semicolon": {Path: "/a;b"},
		"a bad origin": {Path: cookiePath, TrustedOrigins: []string{"not an origin"}},
	} {
		_, err := f.iss.Cookies(cfg, f.users)
		assert.Error(t, err, name)
	}
	_, err := f.iss.Cookies(passauth.CookieConfig{Path: cookiePath}, nil)
	assert.Error(t, err, "no UserLookup")
}

// FuzzCookieAuthenticate sends any Cookie header, method and fetch metadata
// to the cookie middleware: it never panics and never answers 5xx, and it
// lets a request through only with the valid access token as the only
// access cookie, and, for an unsafe method, not from a cross-site or
// same-site origin.
func FuzzCookieAuthenticate(f *testing.F) {
	fx := newFixture(f, withMemoryStore)
	c, err := fx.iss.Cookies(passauth.CookieConfig{Path: cookiePath}, fx.users)
	if err != nil {
		f.Fatal(err)
	}
	pair, err := fx.iss.IssuePair(context.Background(), "alice")
	if err != nil {
		f.Fatal(err)
	}
	valid := pair.AccessToken
	passed := false
	h := c.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { passed = true }))
	f.Add(passauth.AccessCookie+"="+valid, "GET", "")
	f.Add(passauth.AccessCookie+"="+valid, "POST", "cross-site")
	f.Add(passauth.AccessCookie+"="+valid+"; "+passauth.AccessCookie+"="+valid, "GET", "")
	f.Add(passauth.AccessCookie+"=\""+valid+"\"", "DELETE", "same-origin")
	f.Add("a=b; ;;=; "+passauth.AccessCookie+"=", "PUT", "none")
	f.Fuzz(func(t *testing.T, cookie, method, site string) {
		if !validMethod(method) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Method = method
		req.Header["Cookie"] = []string{cookie}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		passed = false
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("answered %d", rec.Code)
		}
		if !passed {
			return
		}
		// (Fuzz workers mint their own "valid" token: check the cookie the
		// request had, not that string.)
		values := req.CookiesNamed(passauth.AccessCookie)
		if len(values) != 1 {
			t.Fatalf("let a request with %d access cookies through", len(values))
		}
		if _, err := fx.iss.VerifyAccess(context.Background(), values[0].Value); err != nil {
			t.Fatalf("let a request through with an access cookie that does not verify: %v", err)
		}
		safe := method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
		if !safe && (site == "cross-site" || site == "same-site") {
			t.Fatalf("let an unsafe %s request through", site)
		}
	})
}

// validMethod reports whether m is an HTTP token, as a request method must
// be.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}
