package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// sendJSON sends method url with body as JSON and, unless empty, access as
// a Bearer token.
func sendJSON(t *testing.T, method, url, access, body string) result {
	t.Helper()
	req := newRequest(t, method, url, "application/json", body)
	if body == "" {
		req.Header.Del("Content-Type")
	}
	if access != "" {
		req.Header.Set("Authorization", "Bearer "+access)
	}
	return do(t, req)
}

func signUp(t *testing.T, srv *httptest.Server, username, password string) result {
	t.Helper()
	b, err := json.Marshal(map[string]string{"username": username, "password": password})
	require.NoError(t, err)
	return sendJSON(t, http.MethodPost, srv.URL+"/api/users", "", string(b))
}

func TestSignUp(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	res := signUp(t, srv, "Zoë.Smith", "correct horse")
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	assert.Equal(t, map[string]any{"username": "Zoë.Smith"}, res.body)
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))

	// The new user logs in, in any case and either way of writing ë, and
	// its tokens speak for the name as signed up.
	for _, typed := range []string{"Zoë.Smith", "zoë.smith", "ZOË.SMITH", "Zoe\u0308.Smith"} {
		access, _ := tokens(t, login(t, srv, typed, "correct horse"))
		me := getMe(t, srv, access)
		assert.Equal(t, map[string]any{"username": "Zoë.Smith"}, me.body, "logged in as %q", typed)
	}

	for _, taken := range []string{"Zoë.Smith", "zoë.smith", "Zoe\u0308.SMITH", "JohnDoe"} {
		res := signUp(t, srv, taken, "another password")
		assert.Equal(t, http.StatusConflict, res.status, taken)
		assert.Equal(t, "invalid_request", res.body["error"], taken)
		assert.Equal(t, "username is taken", res.body["error_description"], taken)
	}
	tokens(t, login(t, srv, "johndoe", "secret")) // the existing user is unchanged
}

func TestSignUpRefuses(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	long := strings.Repeat("p", maxPasswordLen+1)
	tests := []struct {
		name, contentType, body string
		status                  int
		description             string // a part of it
	}{
		{"name too short", "application/json", `{"username":"jo","password":"long enough"}`, 400, "username must be 3 to 32"},
		{"name too long", "application/json", `{"username":"` + strings.Repeat("a", 33) + `","password":"long enough"}`, 400, "username must be 3 to 32"},
		{"name with a space", "application/json", `{"username":"john doe","password":"long enough"}`, 400, "username must be"},
		{"name with a control character", "application/json", `{"username":"john\u0000doe","password":"long enough"}`, 400, "username must be"},
		{"name starting with a dot", "application/json", `{"username":".john","password":"long enough"}`, 400, "username must be"},
		{"password too short", "application/json", `{"username":"newuser","password":"short"}`, 400, "password must be 8 to 128 characters"},
		{"password too long", "application/json", `{"username":"newuser","password":"` + long + `"}`, 400, "password must be 8 to 128 characters"},
		{"no password", "application/json", `{"username":"newuser"}`, 400, "username and password are required"},
		{"unknown field", "application/json", `{"username":"newuser","password":"long enough","admin":true}`, 400, "not the JSON object"},
		{"two values", "application/json", `{"username":"newuser","password":"long enough"}{}`, 400, "more than one JSON value"},
		{"not JSON", "application/json", `username=newuser`, 400, "not the JSON object"},
		{"a form", "application/x-www-form-urlencoded", `username=newuser&password=long+enough`, 415, "application/json"},
		{"too large", "application/json", `{"username":"newuser","password":"` + strings.Repeat("p", 5000) + `"}`, 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, newRequest(t, http.MethodPost, srv.URL+"/api/users", tt.contentType, tt.body))
			assert.Equal(t, tt.status, res.status, "%s", res.raw)
			assert.Equal(t, "invalid_request", res.body["error"])
			assert.Contains(t, res.body["error_description"], tt.description)
		})
	}
	res := login(t, srv, "newuser", "long enough")
	assert.Equal(t, http.StatusBadRequest, res.status, "no refused sign-up created a user")
}

func TestSignUpThrottled(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	for i := range signUpBurst {
		res := signUp(t, srv, "user"+string(rune('a'+i)), "long enough")
		require.Equal(t, http.StatusCreated, res.status, "sign-up %d", i)
	}
	res := signUp(t, srv, "onemore", "long enough")
	assert.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Equal(t, "slow_down", res.body["error"])
	assert.NotEmpty(t, res.header.Get("Retry-After"))
}

// sessionsOf lists the sessions access's user sees.
func sessionsOf(t *testing.T, srv *httptest.Server, access string) []map[string]any {
	t.Helper()
	res := sendJSON(t, http.MethodGet, srv.URL+sessionsPath, access, "")
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	var list []map[string]any
	require.NoError(t, json.Unmarshal(res.raw, &list))
	return list
}

func TestSessionRoutes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	require.Equal(t, http.StatusCreated, signUp(t, srv, "mallory", "mallory's password").status)
	phoneAccess, phoneRefresh := tokens(t, login(t, srv, "johndoe", "secret"))
	laptopAccess, laptopRefresh := tokens(t, login(t, srv, "johndoe", "secret"))
	malloryAccess, _ := tokens(t, login(t, srv, "mallory", "mallory's password"))

	list := sessionsOf(t, srv, laptopAccess)
	require.Len(t, list, 2)
	var phoneID, laptopID string
	for _, s := range list {
		assert.ElementsMatch(t, []string{"id", "client_id", "created", "last_used", "expires", "current"}, keys(s))
		for _, field := range []string{"created", "last_used", "expires"} {
			_, err := time.Parse(time.RFC3339, s[field].(string))
			assert.NoError(t, err, "%s is RFC 3339", field)
		}
		if s["current"] == true {
			laptopID = s["id"].(string)
		} else {
			phoneID = s["id"].(string)
		}
	}
	require.NotEmpty(t, laptopID, "the caller's session is marked current")
	require.NotEmpty(t, phoneID)
	assert.Len(t, sessionsOf(t, srv, malloryAccess), 1, "another user's sessions are not listed")

	// Another user cannot end johndoe's session: 404, as for an unknown ID.
	for _, id := range []string{phoneID, "no-such-session"} {
		res := sendJSON(t, http.MethodDelete, srv.URL+sessionsPath+"/"+id, malloryAccess, "")
		assert.Equal(t, http.StatusNotFound, res.status)
		assert.Equal(t, "no such session", res.body["error_description"])
	}
	assert.Equal(t, http.StatusOK, getMe(t, srv, phoneAccess).status)

	res := sendJSON(t, http.MethodDelete, srv.URL+sessionsPath+"/"+phoneID, laptopAccess, "")
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.raw)
	assert.Equal(t, http.StatusUnauthorized, getMe(t, srv, phoneAccess).status, "the ended session's access token")
	assert.Equal(t, http.StatusUnauthorized, refresh(t, srv, phoneRefresh).status, "the ended session's refresh token")
	assert.Equal(t, http.StatusOK, getMe(t, srv, laptopAccess).status)
	tokens(t, refresh(t, srv, laptopRefresh))
	list = sessionsOf(t, srv, laptopAccess)
	require.Len(t, list, 1)
	assert.Equal(t, laptopID, list[0]["id"])

	for _, r := range []struct{ method, path string }{
		{http.MethodGet, sessionsPath}, {http.MethodDelete, sessionsPath + "/" + laptopID}, {http.MethodPost, "/api/users/me/password"},
	} {
		res := sendJSON(t, r.method, srv.URL+r.path, "", "")
		assert.Equal(t, http.StatusUnauthorized, res.status, "%s %s without a token", r.method, r.path)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	require.Equal(t, http.StatusCreated, signUp(t, srv, "alice", "alice's old password").status)
	access, refreshToken := tokens(t, login(t, srv, "alice", "alice's old password"))
	otherAccess, otherRefresh := tokens(t, login(t, srv, "alice", "alice's old password"))
	johnAccess, _ := loginOK(t, srv)
	change := func(access, current, next string) result {
		b, err := json.Marshal(map[string]string{"current_password": current, "new_password": next})
		require.NoError(t, err)
		return sendJSON(t, http.MethodPost, srv.URL+"/api/users/me/password", access, string(b))
	}

	res := change(access, "wrong password", "alice's new password")
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, "current_password does not match", res.body["error_description"])
	res = change(access, "alice's old password", "short")
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body["error_description"], "new_password: password must be 8 to 128 characters")
	assert.Equal(t, http.StatusOK, getMe(t, srv, otherAccess).status, "refused changes end no session")

	res = change(access, "alice's old password", "alice's new password")
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.raw)

	assert.Equal(t, http.StatusUnauthorized, getMe(t, srv, otherAccess).status, "another session's access token")
	assert.Equal(t, http.StatusUnauthorized, refresh(t, srv, otherRefresh).status, "another session's refresh token")
	assert.Equal(t, http.StatusOK, getMe(t, srv, access).status, "the session that changed it")
	tokens(t, refresh(t, srv, refreshToken))
	assert.Equal(t, http.StatusOK, getMe(t, srv, johnAccess).status, "another user's session")

	assert.Equal(t, http.StatusBadRequest, login(t, srv, "alice", "alice's old password").status)
	tokens(t, login(t, srv, "alice", "alice's new password"))
}

func TestChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	access, _ := loginOK(t, srv)
	body := `{"current_password":"guess","new_password":"a new password"}`
	for i := range changeBurst {
		res := sendJSON(t, http.MethodPost, srv.URL+"/api/users/me/password", access, body)
		require.Equal(t, http.StatusForbidden, res.status, "guess %d", i)
	}
	res := sendJSON(t, http.MethodPost, srv.URL+"/api/users/me/password", access,
		`{"current_password":"secret","new_password":"a new password"}`)
	assert.Equal(t, http.StatusTooManyRequests, res.status, "even the right password, once throttled")
	assert.NotEmpty(t, res.header.Get("Retry-After"))
}

// TestAccountRoutesRefuseCrossOrigin checks that the account routes, which
// take the access cookie, refuse an unsafe request from another origin.
func TestAccountRoutesRefuseCrossOrigin(t *testing.T) {
	t.Parallel()
	srv := serve(t, newTestHandler(t, passauth.NewMemoryStore(), slog.New(slog.DiscardHandler)))
	access, _ := loginOK(t, srv)
	req := newRequest(t, http.MethodDelete, srv.URL+sessionsPath+"/x", "", "")
	req.AddCookie(&http.Cookie{Name: passauth.AccessCookie, Value: access})
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res := do(t, req)
	assert.Equal(t, http.StatusForbidden, res.status, "%s", res.raw)
	assert.Equal(t, "cross-origin request refused", res.body["error_description"])

	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res = do(t, req)
	assert.Equal(t, http.StatusNotFound, res.status, "the same request from the same origin reaches the route: %s", res.raw)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
