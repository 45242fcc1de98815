// Package routertest holds the tests every router example runs: login, the
// protected endpoint with and without the scope, refresh, and the RFC 6750
// answers, through the example's own router.
package routertest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// NewRouter builds an example's router over iss for the user johndoe whose
// password has the given hash.
type NewRouter func(iss *passauth.TokenIssuer, passwordHash string) http.Handler

// Run runs the shared tests against the router newRouter builds: every
// example must mount the handlers and the middleware so that they pass.
func Run(t *testing.T, newRouter NewRouter) {
	t.Run("LoginMeRefresh", func(t *testing.T) { t.Parallel(); testLoginMeRefresh(t, newRouter) })
	t.Run("MeRejects", func(t *testing.T) { t.Parallel(); testMeRejects(t, newRouter) })
	t.Run("LoginRejectsWrongPassword", func(t *testing.T) { t.Parallel(); testLoginRejectsWrongPassword(t, newRouter) })
}

// newTestRouter returns the router over an issuer with fixed secrets and a
// cheap bcrypt hash of johndoe's password.
func newTestRouter(t *testing.T, newRouter NewRouter) (*passauth.TokenIssuer, http.Handler) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   []byte(strings.Repeat("a", passauth.MinSecretLen)),
		RefreshSecret:  []byte(strings.Repeat("r", passauth.MinSecretLen)),
		AccessTTL:      time.Minute,
		RefreshTTL:     time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
	})
	require.NoError(t, err)
	return iss, newRouter(iss, string(hash))
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func postForm(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func getMe(token string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/api/users/me", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// decodePair requires a 200 token response and returns its pair.
func decodePair(t *testing.T, rec *httptest.ResponseRecorder) passauth.TokenPair {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var pair passauth.TokenPair
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &pair))
	require.NotEmpty(t, pair.AccessToken)
	require.NotEmpty(t, pair.RefreshToken)
	return pair
}

// assertMe requires GET /api/users/me with token to answer johndoe.
func assertMe(t *testing.T, h http.Handler, token string) {
	t.Helper()
	rec := serve(h, getMe(token))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"username":"johndoe"}`, rec.Body.String())
}

func testLoginMeRefresh(t *testing.T, newRouter NewRouter) {
	_, h := newTestRouter(t, newRouter)

	login := decodePair(t, serve(h, postForm("/api/auth/login",
		url.Values{"username": {"johndoe"}, "password": {"secret"}})))
	assert.Equal(t, "me", login.Scope)
	assertMe(t, h, login.AccessToken)

	refreshed := decodePair(t, serve(h, postForm("/api/auth/refresh",
		url.Values{"refresh_token": {login.RefreshToken}})))
	assertMe(t, h, refreshed.AccessToken)
}

func testMeRejects(t *testing.T, newRouter NewRouter) {
	iss, h := newTestRouter(t, newRouter)
	unscoped, err := iss.IssuePair(t.Context(), "johndoe") // no scope "me"
	require.NoError(t, err)

	tests := []struct {
		name      string
		token     string
		status    int
		challenge string
		code      string
	}{
		{"no token", "", http.StatusUnauthorized, "Bearer", ""},
		{"bad token", "not-a-jwt", http.StatusUnauthorized,
			`Bearer error="invalid_token", error_description="Invalid token"`, "invalid_token"},
		{"refresh token", unscoped.RefreshToken, http.StatusUnauthorized,
			`Bearer error="invalid_token", error_description="Invalid token"`, "invalid_token"},
		{"token without scope me", unscoped.AccessToken, http.StatusForbidden,
			`Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="me"`,
			"insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(h, getMe(tt.token))
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, tt.challenge, rec.Header().Get("WWW-Authenticate"))
			var body struct {
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tt.code, body.Error)
			assert.NotContains(t, rec.Body.String(), "username")
		})
	}
}

func testLoginRejectsWrongPassword(t *testing.T, newRouter NewRouter) {
	_, h := newTestRouter(t, newRouter)
	rec := serve(h, postForm("/api/auth/login", url.Values{"username": {"johndoe"}, "password": {"wrong"}}))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), `"error":"invalid_grant"`)
}
