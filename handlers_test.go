package passauth_test

// The endpoints: TokenHandler's password and refresh grants and
// RefreshHandler, their answers and what their tokens carry. How they parse
// requests is in request_test.go, what the password grant checks in
// login*_test.go, and the scope they grant in scope_test.go.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestTokenHandlerPasswordGrant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := func(user string, kv ...string) httpReq {
		return postForm(append([]string{"username", user, "password", passwords[strings.ToLower(user)]}, kv...)...)
	}
	tests := []struct {
		name       string
		req        httpReq
		wantSub    string
		wantScope  string
		wantClient string
	}{
		{name: "no grant_type", req: login("alice"),
			wantSub: "alice", wantScope: "me items"},
		{name: "grant_type password", req: login("alice", "grant_type", "password"),
			wantSub: "alice", wantScope: "me items"},
		{name: "canonical user name from the lookup", req: login("ALICE"),
			wantSub: "alice", wantScope: "me items"},
		{name: "login name when the lookup gives none", req: login("Bob"),
			wantSub: "Bob"},
		{name: "Basic with empty credentials", req: withHeader(login("alice"), "Authorization", basic("", "")),
			wantSub: "alice", wantScope: "me items"},
		{name: "Basic client id recorded", req: withHeader(login("alice"), "Authorization", basic("web app", "")),
			wantSub: "alice", wantScope: "me items", wantClient: "web app"},
		{name: "Basic client id and the same form client_id", req: withHeader(login("alice", "client_id", "web"), "Authorization", basic("web", "s3")),
			wantSub: "alice", wantScope: "me items", wantClient: "web"},
		{name: "form client_id recorded", req: login("alice", "client_id", "cli"),
			wantSub: "alice", wantScope: "me items", wantClient: "cli"},
		{name: "Bearer header ignored", req: withHeader(login("alice"), "Authorization", "Bearer abc"),
			wantSub: "alice", wantScope: "me items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pair := requirePair(t, do(t, f.token, tc.req))
			assert.Equal(t, tc.wantScope, pair.Scope)
			assertIssuedTo(t, f, pair, tc.wantSub, tc.wantScope, tc.wantClient)
			assertLifetimes(t, f, pair)
		})
	}
}

// assertIssuedTo checks the subject, scope and client of both tokens of
// pair.
func assertIssuedTo(t *testing.T, f *fixture, pair passauth.TokenPair, sub, scope, client string) {
	t.Helper()
	for _, kind := range []string{"access", "refresh"} {
		verify, tok := f.iss.VerifyAccess, pair.AccessToken
		if kind == "refresh" {
			verify, tok = f.iss.VerifyRefresh, pair.RefreshToken
		}
		claims, err := verify(context.Background(), tok)
		require.NoError(t, err, kind)
		assert.Equal(t, sub, claims.Subject, kind)
		assert.Equal(t, scope, claims.Scope, kind)
		assert.Equal(t, client, claims.ClientID, kind)
	}
}

// assertLifetimes checks that both tokens of pair expire their lifetime
// after the fixture's clock.
func assertLifetimes(t *testing.T, f *fixture, pair passauth.TokenPair) {
	t.Helper()
	claims, err := f.iss.VerifyAccess(context.Background(), pair.AccessToken)
	require.NoError(t, err)
	assert.True(t, f.clock.Now().Add(testAccessTTL).Equal(claims.ExpiresAt), "access exp")
	rclaims, err := f.iss.VerifyRefresh(context.Background(), pair.RefreshToken)
	require.NoError(t, err)
	assert.True(t, f.clock.Now().Add(testRefreshTTL).Equal(rclaims.ExpiresAt), "refresh exp")
}

func TestTokenHandlerErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pair, err := f.iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	const badLogin = "Incorrect username or password"
	tests := []struct {
		name   string
		req    httpReq
		status int
		code   string
		desc   string
	}{
		{"GET", httpReq{method: http.MethodGet}, 405, "invalid_request", ""},
		{"PUT with a good form", withMethod(postForm("username", "alice", "password", alicePassword), http.MethodPut), 405, "invalid_request", ""},
		{"missing username", postForm("password", alicePassword), 400, "invalid_request", "missing username"},
		{"empty username", postForm("username", "", "password", alicePassword), 400, "invalid_request", "missing username"},
		{"missing password", postForm("username", "alice"), 400, "invalid_request", "missing password"},
		{"empty password", postForm("username", "alice", "password", ""), 400, "invalid_request", "missing password"},
		{"username not UTF-8", postForm("username", "alice\xff", "password", alicePassword), 400, "invalid_request", "username is not valid UTF-8"},
		{"empty form", httpReq{contentType: form}, 400, "invalid_request", "missing username"},
		{"unknown grant_type", postForm("grant_type", "client_credentials", "username", "alice", "password", alicePassword), 400, "unsupported_grant_type", ""},
		{"grant_type in another case", postForm("grant_type", "Password", "username", "alice", "password", alicePassword), 400, "unsupported_grant_type", ""},
		{"wrong password", postForm("username", "alice", "password", bobPassword), 400, "invalid_grant", badLogin},
		{"unknown user", postForm("username", "mallory", "password", alicePassword), 400, "invalid_grant", badLogin},
		{"disabled user", postForm("username", "carol", "password", carolPassword), 400, "invalid_grant", badLogin},
		{"password over 72 bytes", postForm("username", "alice", "password", alicePassword+strings.Repeat("x", passauth.MaxBcryptPasswordLen)), 400, "invalid_grant", badLogin},
		{"lookup fails", postForm("username", failingUser, "password", alicePassword), 500, "server_error", ""},
		{"refresh_token grant without the token", postForm("grant_type", "refresh_token"), 400, "invalid_request", "missing refresh_token"},
		{"refresh_token grant with garbage", postForm("grant_type", "refresh_token", "refresh_token", "garbage"), 400, "invalid_grant", "Invalid token"},
		{"refresh_token grant with an access token", postForm("grant_type", "refresh_token", "refresh_token", pair.AccessToken), 400, "invalid_grant", "Invalid token"},
		{"refresh token as a password", postForm("username", "alice", "password", pair.RefreshToken), 400, "invalid_grant", badLogin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, f.token, tc.req)
			assertError(t, rec, tc.status, tc.code, tc.desc)
			if tc.status == http.StatusMethodNotAllowed {
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			}
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			if strings.Contains(rec.Body.String(), pair.AccessToken) || strings.Contains(rec.Body.String(), pair.RefreshToken) {
				t.Error("error body contains a token")
			}
		})
	}
}

// TokenHandler needs a user lookup and panics without one.
func TestTokenHandlerNilUsers(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	assert.PanicsWithValue(t, "passauth: TokenHandler needs a UserLookup", func() { iss.TokenHandler(nil) })
}

func TestTokenHandlerRefreshGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		login  []string         // extra form fields of the login
		setup  func(f *fixture) // runs between login and refresh
		token  string           // "refresh" (default), "access" or "none"
		form   []string         // extra form fields of the refresh
		authz  string           // Authorization header of the refresh
		status int
		code   string
		desc   string
		// On success:
		scope, client string
	}{
		{name: "new pair, same scope", status: 200, scope: "me items"},
		{name: "after the access token expired", setup: func(f *fixture) { f.clock.Advance(testAccessTTL + time.Second) },
			status: 200, scope: "me items"},
		{name: "same client in the form", login: []string{"client_id", "web"}, form: []string{"client_id", "web"},
			status: 200, scope: "me items", client: "web"},
		{name: "same client in Basic", login: []string{"client_id", "web"}, authz: basic("web", ""),
			status: 200, scope: "me items", client: "web"},
		{name: "client kept when none is sent", login: []string{"client_id", "web"}, status: 200, scope: "me items", client: "web"},
		{name: "expired refresh token", setup: func(f *fixture) { f.clock.Advance(testRefreshTTL + time.Second) },
			status: 400, code: "invalid_grant", desc: "Token expired"},
		{name: "access token as refresh token", token: "access", status: 400, code: "invalid_grant", desc: "Invalid token"},
		{name: "missing refresh_token", token: "none", form: []string{"username", "alice"},
			status: 400, code: "invalid_request", desc: "missing refresh_token"},
		{name: "another client in the form", login: []string{"client_id", "web"}, form: []string{"client_id", "evil"},
			status: 400, code: "invalid_grant", desc: "Invalid token"},
		{name: "another client in Basic", login: []string{"client_id", "web"}, authz: basic("evil", ""),
			status: 400, code: "invalid_grant", desc: "Invalid token"},
		{name: "a client when the token has none", form: []string{"client_id", "web"},
			status: 400, code: "invalid_grant", desc: "Invalid token"},
		{name: "user deleted since login", setup: func(f *fixture) { f.users.remove("alice") },
			status: 400, code: "invalid_grant", desc: "Invalid token"},
		{name: "user disabled since login", setup: func(f *fixture) { f.users.disable("alice") },
			status: 400, code: "invalid_grant", desc: "Invalid token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			old := f.login(t, "alice", tc.login...)
			if tc.setup != nil {
				tc.setup(f)
			}
			kv := []string{"grant_type", "refresh_token"}
			switch tc.token {
			case "", "refresh":
				kv = append(kv, "refresh_token", old.RefreshToken)
			case "access":
				kv = append(kv, "refresh_token", old.AccessToken)
			}
			req := postForm(append(kv, tc.form...)...)
			if tc.authz != "" {
				req = withHeader(req, "Authorization", tc.authz)
			}
			rec := do(t, f.token, req)
			if tc.status != http.StatusOK {
				assertError(t, rec, tc.status, tc.code, tc.desc)
				if strings.Contains(rec.Body.String(), old.RefreshToken) {
					t.Error("error body contains the refresh token")
				}
				return
			}
			pair := requirePair(t, rec)
			assert.Equal(t, tc.scope, pair.Scope)
			assert.True(t, pair.AccessToken != old.AccessToken, "refreshing returned the old access token")
			assert.True(t, pair.RefreshToken != old.RefreshToken, "refreshing returned the old refresh token")
			assertIssuedTo(t, f, pair, "alice", tc.scope, tc.client)
		})
	}
}

func TestRefreshHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name string
		req  func(refresh string) httpReq
	}{
		{"JSON body", func(rt string) httpReq {
			return httpReq{contentType: "application/json", body: `{"refresh_token":"` + rt + `"}`}
		}},
		{"JSON body with charset and spaces", func(rt string) httpReq {
			return httpReq{contentType: "application/json; charset=utf-8", body: "{ \"refresh_token\" : \"" + rt + "\" }\n"}
		}},
		{"JSON body with another field", func(rt string) httpReq {
			return httpReq{contentType: "application/json", body: `{"refresh_token":"` + rt + `","device":"phone"}`}
		}},
		{"form body", func(rt string) httpReq { return postForm("refresh_token", rt) }},
		{"form body with grant_type", func(rt string) httpReq { return postForm("grant_type", "refresh_token", "refresh_token", rt) }},
		{"Bearer header", func(rt string) httpReq { return httpReq{header: []string{"Authorization", "Bearer " + rt}} }},
		{"bearer header, lower case", func(rt string) httpReq { return httpReq{header: []string{"Authorization", "bearer " + rt}} }},
		{"Bearer header and an empty JSON token", func(rt string) httpReq {
			return httpReq{contentType: "application/json", body: `{"refresh_token":""}`, header: []string{"Authorization", "Bearer " + rt}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			old, err := f.iss.IssuePair(context.Background(), "alice", passauth.WithScope("me items"), passauth.WithClientID("web"))
			require.NoError(t, err)
			pair := requirePair(t, do(t, f.refresh, tc.req(old.RefreshToken)))
			assert.Equal(t, "me items", pair.Scope)
			assertIssuedTo(t, f, pair, "alice", "me items", "web")
		})
	}
}

func TestRefreshHandlerErrors(t *testing.T) {
	t.Parallel()
	const (
		expiredChallenge = `Bearer error="invalid_token", error_description="Token expired"`
		invalidChallenge = `Bearer error="invalid_token", error_description="Invalid token"`
	)
	jsonReq := func(body string) httpReq { return httpReq{contentType: "application/json", body: body} }
	tests := []struct {
		name      string
		setup     func(f *fixture)
		req       func(p passauth.TokenPair) httpReq
		status    int
		code      string
		desc      string
		challenge string // exact WWW-Authenticate, when set
	}{
		{name: "GET", req: func(p passauth.TokenPair) httpReq {
			return httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + p.RefreshToken}}
		}, status: 405, code: "invalid_request"},
		{name: "header and JSON", req: func(p passauth.TokenPair) httpReq {
			return withHeader(jsonReq(`{"refresh_token":"`+p.RefreshToken+`"}`), "Authorization", "Bearer "+p.RefreshToken)
		}, status: 400, code: "invalid_request"},
		{name: "header and form", req: func(p passauth.TokenPair) httpReq {
			return withHeader(postForm("refresh_token", p.RefreshToken), "Authorization", "Bearer "+p.RefreshToken)
		}, status: 400, code: "invalid_request"},
		{name: "no token anywhere", req: func(passauth.TokenPair) httpReq { return httpReq{} },
			status: 400, code: "invalid_request", desc: "missing refresh_token"},
		{name: "empty JSON object", req: func(passauth.TokenPair) httpReq { return jsonReq(`{}`) },
			status: 400, code: "invalid_request", desc: "missing refresh_token"},
		{name: "null refresh_token", req: func(passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":null}`) },
			status: 400, code: "invalid_request", desc: "missing refresh_token"},
		{name: "malformed JSON", req: func(p passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":"` + p.RefreshToken) },
			status: 400, code: "invalid_request"},
		{name: "trailing garbage", req: func(p passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":"` + p.RefreshToken + `"} x`) },
			status: 400, code: "invalid_request"},
		{name: "two JSON values", req: func(p passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":"` + p.RefreshToken + `"}{}`) },
			status: 400, code: "invalid_request"},
		{name: "number refresh_token", req: func(passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":123}`) },
			status: 400, code: "invalid_request"},
		{name: "array body", req: func(p passauth.TokenPair) httpReq { return jsonReq(`["` + p.RefreshToken + `"]`) },
			status: 400, code: "invalid_request"},
		{name: "text/plain body", req: func(p passauth.TokenPair) httpReq { return httpReq{contentType: "text/plain", body: p.RefreshToken} },
			status: 400, code: "invalid_request"},
		{name: "body without Content-Type", req: func(p passauth.TokenPair) httpReq { return httpReq{body: `{"refresh_token":"` + p.RefreshToken + `"}`} },
			status: 400, code: "invalid_request"},
		{name: "expired", setup: func(f *fixture) { f.clock.Advance(testRefreshTTL + time.Second) },
			req:    func(p passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":"` + p.RefreshToken + `"}`) },
			status: 401, code: "invalid_token", desc: "Token expired", challenge: expiredChallenge},
		{name: "expired, in the header", setup: func(f *fixture) { f.clock.Advance(testRefreshTTL + time.Second) },
			req: func(p passauth.TokenPair) httpReq {
				return httpReq{header: []string{"Authorization", "Bearer " + p.RefreshToken}}
			},
			status: 401, code: "invalid_token", desc: "Token expired", challenge: expiredChallenge},
		{name: "access token", req: func(p passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":"` + p.AccessToken + `"}`) },
			status: 401, code: "invalid_token", desc: "Invalid token", challenge: invalidChallenge},
		{name: "garbage", req: func(passauth.TokenPair) httpReq { return jsonReq(`{"refresh_token":"a.b.c"}`) },
			status: 401, code: "invalid_token", desc: "Invalid token", challenge: invalidChallenge},
		{name: "user deleted", setup: func(f *fixture) { f.users.remove("alice") },
			req:    func(p passauth.TokenPair) httpReq { return postForm("refresh_token", p.RefreshToken) },
			status: 401, code: "invalid_token", desc: "Invalid token", challenge: invalidChallenge},
		{name: "user disabled", setup: func(f *fixture) { f.users.disable("alice") },
			req:    func(p passauth.TokenPair) httpReq { return postForm("refresh_token", p.RefreshToken) },
			status: 401, code: "invalid_token", desc: "Invalid token", challenge: invalidChallenge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			pair, err := f.iss.IssuePair(context.Background(), "alice")
			require.NoError(t, err)
			if tc.setup != nil {
				tc.setup(f)
			}
			rec := do(t, f.refresh, tc.req(pair))
			assertError(t, rec, tc.status, tc.code, tc.desc)
			switch {
			case tc.status == http.StatusMethodNotAllowed:
				assert.Equal(t, "POST", rec.Header().Get("Allow"))
			case tc.challenge != "":
				assert.Equal(t, tc.challenge, rec.Header().Get("WWW-Authenticate"))
			}
			if strings.Contains(rec.Body.String(), pair.RefreshToken) || strings.Contains(rec.Body.String(), pair.AccessToken) {
				t.Error("error body contains a token")
			}
		})
	}
}

// RefreshHandler checks that the user may still log in; it needs a lookup
// for that, and panics without one. Refresh, from code, skips the check.
func TestRefreshHandlerUserCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pair := f.login(t, "alice")
	f.users.remove("alice")

	assert.PanicsWithValue(t, "passauth: RefreshHandler needs a UserLookup", func() { f.iss.RefreshHandler(nil) })
	rec := do(t, f.refresh, postForm("refresh_token", pair.RefreshToken))
	assertError(t, rec, http.StatusUnauthorized, "invalid_token", "Invalid token")

	next, err := f.iss.Refresh(context.Background(), pair.RefreshToken)
	require.NoError(t, err)
	claims, err := f.iss.VerifyAccess(context.Background(), next.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", claims.Subject)
}

// Application claims added with WithClaims survive refreshing at both
// endpoints, with the client and the scope.
func TestRefreshCarriesExtraClaims(t *testing.T) {
	t.Parallel()
	type appClaims struct {
		Tenant string   `json:"tenant"`
		Roles  []string `json:"roles"`
		Level  int      `json:"level"`
	}
	want := appClaims{Tenant: "acme", Roles: []string{"admin", "ops"}, Level: 3}
	f := newFixture(t)
	old, err := f.iss.IssuePair(context.Background(), "alice",
		passauth.WithScope("me"), passauth.WithClientID("web"),
		passauth.WithClaims(map[string]any{"tenant": want.Tenant, "roles": want.Roles, "level": want.Level}))
	require.NoError(t, err)

	// Without a store the same refresh token serves both endpoints.
	for _, ep := range refreshEndpoints {
		pair := requirePair(t, ep.call(f, t, old.RefreshToken))
		for kind, verify := range map[string]func(context.Context, string) (*passauth.Claims, error){
			"access": f.iss.VerifyAccess, "refresh": f.iss.VerifyRefresh,
		} {
			tok := pair.AccessToken
			if kind == "refresh" {
				tok = pair.RefreshToken
			}
			claims, err := verify(context.Background(), tok)
			require.NoError(t, err, ep.name+" "+kind)
			var got appClaims
			require.NoError(t, claims.Decode(&got))
			assert.Equal(t, want, got, ep.name+" "+kind)
			assert.Equal(t, "web", claims.ClientID, ep.name+" "+kind)
			assert.Equal(t, "me", claims.Scope, ep.name+" "+kind)
		}
	}
}
