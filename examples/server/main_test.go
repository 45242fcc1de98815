package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// Test secrets, long enough for passauth. Every test server uses them, so
// that two servers accept each other's tokens.
const (
	testAccessSecret  = "demo-test-access-secret-0123456789abcdef"
	testRefreshSecret = "demo-test-refresh-secret-0123456789abcdef"
)

// testIssuer is the issuer of the test servers, as run makes it from the
// address it listens on.
const testIssuer = "http://127.0.0.1:8000"

// testSwaggerUI is the Swagger UI asset base of the test servers.
const testSwaggerUI = "https://swagger-ui.test/dist"

// newTestAccounts returns the users table of a fresh SQLite database in a
// directory of the test's own, holding johndoe / secret with a cheap bcrypt
// hash, so that the tests run fast.
func newTestAccounts(t *testing.T) *accounts {
	t.Helper()
	spec, err := parseDatabaseURL(filepath.Join(t.TempDir(), "demo.db"))
	require.NoError(t, err)
	db, err := openDatabase(t.Context(), spec)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	accts, err := newAccounts(t.Context(), db, true, passauth.Bcrypt{Cost: bcrypt.MinCost})
	require.NoError(t, err)
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	_, err = accts.create(t.Context(), "johndoe", string(hash))
	require.NoError(t, err)
	return accts
}

// testConfig is the Config of the test servers, before demoConfig.
func testConfig() passauth.Config {
	return passauth.Config{
		AccessSecret:   []byte(testAccessSecret),
		RefreshSecret:  []byte(testRefreshSecret),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     24 * time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
		Issuer:         testIssuer,
	}
}

// newTestHandler returns the demo's handler for johndoe / secret as run
// configures it, on store, logging to logger, for the users of accts (a
// new newTestAccounts when nil).
func newTestHandler(t *testing.T, store passauth.Store, logger *slog.Logger, accts ...*accounts) http.Handler {
	t.Helper()
	var a *accounts
	if len(accts) > 0 {
		a = accts[0]
	}
	if a == nil {
		a = newTestAccounts(t)
	}
	iss, err := passauth.NewTokenIssuer(demoConfig(testConfig(), store, logger))
	require.NoError(t, err)
	h, err := newHandler(iss, a, testSwaggerUI)
	require.NoError(t, err)
	return h
}

// serve serves h until the test ends.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newTestServer serves the demo's handler on a fresh memory store.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	return serve(t, newTestHandler(t, passauth.NewMemoryStore(), slog.New(slog.DiscardHandler)))
}

// result is a response's status, headers and body, decoded when it is a
// JSON object.
type result struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends req and reads the answer, checking that a JSON one is valid.
func do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	res := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/jwk-set+json") {
		require.True(t, json.Valid(raw), "invalid JSON: %s", raw)
		if len(raw) > 0 && raw[0] == '{' {
			require.NoError(t, json.Unmarshal(raw, &res.body))
		}
	}
	return res
}

func newRequest(t *testing.T, method, url, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func login(t *testing.T, srv *httptest.Server, username, password string) result {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/login", "application/x-www-form-urlencoded", form))
}

func getMe(t *testing.T, srv *httptest.Server, accessToken string) result {
	t.Helper()
	req := newRequest(t, http.MethodGet, srv.URL+"/api/users/me", "", "")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return do(t, req)
}

// tokens returns the access and refresh tokens of a successful token
// response.
func tokens(t *testing.T, res result) (access, refresh string) {
	t.Helper()
	require.Equal(t, http.StatusOK, res.status)
	access, _ = res.body["access_token"].(string)
	refresh, _ = res.body["refresh_token"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)
	return access, refresh
}

// loginOK logs johndoe in and returns his tokens.
func loginOK(t *testing.T, srv *httptest.Server) (access, refresh string) {
	t.Helper()
	return tokens(t, login(t, srv, "johndoe", "secret"))
}

// refresh exchanges a refresh token at /api/auth/refresh.
func refresh(t *testing.T, srv *httptest.Server, refreshToken string) result {
	t.Helper()
	body, err := json.Marshal(map[string]string{"refresh_token": refreshToken})
	require.NoError(t, err)
	return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/refresh", "application/json", string(body)))
}

// revoke revokes a token at /api/auth/revoke.
func revoke(t *testing.T, srv *httptest.Server, token string) result {
	t.Helper()
	form := url.Values{"token": {token}}.Encode()
	return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/revoke", "application/x-www-form-urlencoded", form))
}

func TestLoginMeRefresh(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	res := login(t, srv, "johndoe", "secret")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "bearer", res.body["token_type"])
	assert.Equal(t, "me items", res.body["scope"])
	access, refreshToken := tokens(t, res)

	me := getMe(t, srv, access)
	require.Equal(t, http.StatusOK, me.status)
	assert.Equal(t, map[string]any{"username": "johndoe"}, me.body)
	assert.Equal(t, "no-store", me.header.Get("Cache-Control"))

	res = refresh(t, srv, refreshToken)
	require.Equal(t, http.StatusOK, res.status)
	newAccess, newRefresh := tokens(t, res)
	assert.NotEqual(t, access, newAccess)
	assert.NotEqual(t, refreshToken, newRefresh, "refreshing rotates the refresh token")
	assert.Equal(t, "me items", res.body["scope"])

	me = getMe(t, srv, newAccess)
	require.Equal(t, http.StatusOK, me.status)
	assert.Equal(t, map[string]any{"username": "johndoe"}, me.body)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	tests := []struct {
		name      string
		send      func(t *testing.T) result
		status    int
		code      string // the JSON "error", "" for none
		challenge string // the WWW-Authenticate header, "" for none
		allow     string // the Allow header, "" for none
	}{
		{
			name:      "me without token",
			send:      func(t *testing.T) result { return getMe(t, srv, "") },
			status:    http.StatusUnauthorized,
			challenge: "Bearer",
		},
		{
			name:      "me with a bad token",
			send:      func(t *testing.T) result { return getMe(t, srv, "not.a.token") },
			status:    http.StatusUnauthorized,
			code:      "invalid_token",
			challenge: `Bearer error="invalid_token", error_description="Invalid token"`,
		},
		{
			name:   "wrong password",
			send:   func(t *testing.T) result { return login(t, srv, "johndoe", "wrong") },
			status: http.StatusBadRequest,
			code:   "invalid_grant",
		},
		{
			name:   "unknown user",
			send:   func(t *testing.T) result { return login(t, srv, "janedoe", "secret") },
			status: http.StatusBadRequest,
			code:   "invalid_grant",
		},
		{
			name: "refresh with an access token",
			send: func(t *testing.T) result {
				access, _ := login(t, srv, "johndoe", "secret").body["access_token"].(string)
				body := `{"refresh_token":"` + access + `"}`
				return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/refresh", "application/json", body))
			},
			status:    http.StatusUnauthorized,
			code:      "invalid_token",
			challenge: `Bearer error="invalid_token", error_description="Invalid token"`,
		},
		{
			name:   "revoke an invalid token",
			send:   func(t *testing.T) result { return revoke(t, srv, "not.a.token") },
			status: http.StatusOK, // RFC 7009 §2.2
		},
		{
			name: "revoke without a token",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/revoke", "application/x-www-form-urlencoded", ""))
			},
			status: http.StatusBadRequest,
			code:   "invalid_request",
		},
		{
			name: "revoke with GET",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodGet, srv.URL+"/api/auth/revoke", "", ""))
			},
			status: http.StatusMethodNotAllowed,
			code:   "invalid_request",
			allow:  http.MethodPost,
		},
		{
			name: "login with GET",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodGet, srv.URL+"/api/auth/login", "", ""))
			},
			status: http.StatusMethodNotAllowed,
			code:   "invalid_request",
			allow:  http.MethodPost,
		},
		{
			name: "me with POST",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/users/me", "", ""))
			},
			status: http.StatusMethodNotAllowed,
		},
		{
			name: "unknown path",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodGet, srv.URL+"/api/nothing", "", ""))
			},
			status: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.send(t)
			assert.Equal(t, tt.status, res.status)
			assert.Equal(t, tt.challenge, res.header.Get("WWW-Authenticate"))
			if tt.allow != "" {
				assert.Equal(t, tt.allow, res.header.Get("Allow"))
			}
			if tt.code != "" {
				assert.Equal(t, tt.code, res.body["error"])
			}
		})
	}
}

// The demo's user store takes the new hash the token handler makes after a
// login with a hash weaker than the policy: a bcrypt user moves to Argon2id.
func TestAccountsUpgradeHash(t *testing.T) {
	t.Parallel()
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   []byte(testAccessSecret),
		RefreshSecret:  []byte(testRefreshSecret),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     24 * time.Hour,
		PasswordHasher: passauth.Argon2id{Memory: 1024, Time: 1},
	})
	require.NoError(t, err)
	users := newTestAccounts(t) // johndoe has a bcrypt hash
	token := iss.TokenHandler(users)
	login := func(name string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/auth/login",
			strings.NewReader(url.Values{"username": {name}, "password": {"secret"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		token.ServeHTTP(rec, req)
		return rec.Code
	}

	require.Equal(t, http.StatusOK, login("JohnDoe"))
	u, found, err := users.LookupUser(t.Context(), "johndoe")
	require.NoError(t, err)
	require.True(t, found)
	assert.True(t, strings.HasPrefix(u.PasswordHash, "$argon2id$"), "the bcrypt hash was not upgraded")
	assert.Equal(t, http.StatusOK, login("johndoe"), "login with the upgraded hash")

	_, found, err = users.LookupUser(t.Context(), "someone")
	require.NoError(t, err)
	assert.False(t, found)
}
