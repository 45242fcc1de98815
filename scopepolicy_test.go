package passauth_test

import (
	"context"
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

// TestScopePolicy replaces the default grant (the requested scopes the user
// holds) with an application's own rule: here admins get "admin" only when
// they ask for it, and everyone gets "me".
func TestScopePolicy(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(t, err)
	var seen [][]string
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   []byte("policy-test-access-secret-0123456789"),
		RefreshSecret:  []byte("policy-test-refresh-secret-0123456789"),
		AccessTTL:      time.Minute,
		RefreshTTL:     time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
		ScopePolicy: func(_ context.Context, u passauth.User, requested []string) []string {
			seen = append(seen, requested)
			granted := []string{}
			for _, s := range requested {
				if s == "me" || (s == "admin" && u.Username == "root") {
					granted = append(granted, s)
				}
			}
			if len(requested) == 0 {
				granted = append(granted, "me")
			}
			return granted
		},
	})
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		return passauth.User{Username: name, PasswordHash: string(hash)}, name == "root" || name == "alice", nil
	})
	h := iss.TokenHandler(users)
	login := func(user, scope string) (int, map[string]any) {
		form := url.Values{"username": {user}, "password": {"pw"}}
		if scope != "" {
			form.Set("scope", scope)
		}
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var body map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		return w.Code, body
	}

	for _, tc := range []struct {
		user, scope string
		status      int
		want        any // the response's scope, or its error code
	}{
		{"alice", "", 200, "me"},
		{"alice", "me admin", 200, "me"},
		{"root", "me admin", 200, "me admin"},
		{"root", "admin", 200, "admin"},
		{"alice", "admin", 400, "invalid_scope"},
	} {
		status, body := login(tc.user, tc.scope)
		assert.Equal(t, tc.status, status, "%s %q", tc.user, tc.scope)
		if status == 200 {
			assert.Equal(t, tc.want, body["scope"], "%s %q", tc.user, tc.scope)
		} else {
			assert.Equal(t, tc.want, body["error"], "%s %q", tc.user, tc.scope)
		}
	}
	assert.Equal(t, [][]string{nil, {"me", "admin"}, {"me", "admin"}, {"admin"}, {"admin"}}, seen,
		"the policy sees the requested scope tokens")
}
