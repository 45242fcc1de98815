package passauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestRequireScope(t *testing.T) {
	t.Parallel()
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:  []byte("scope-test-access-secret-0123456789ab"),
		RefreshSecret: []byte("scope-test-refresh-secret-0123456789ab"),
		AccessTTL:     time.Minute,
		RefreshTTL:    time.Hour,
	})
	require.NoError(t, err)
	token := func(scopes ...string) string {
		pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope(scopes...))
		require.NoError(t, err)
		return pair.AccessToken
	}
	var reached bool
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })

	tests := []struct {
		name      string
		require   []string
		optional  bool
		token     string
		status    int
		challenge string
	}{
		{"holds the scope", []string{"me"}, false, token("me", "items"), 200, ""},
		{"holds every scope", []string{"me items"}, false, token("items", "me"), 200, ""},
		{"lacks the scope", []string{"me"}, false, token("items"), 403,
			`Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="me"`},
		{"lacks one of two", []string{"me", "items"}, false, token("me"), 403,
			`Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="me items"`},
		{"no scope at all", []string{"me"}, false, token(), 403,
			`Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="me"`},
		{"a scope is not a prefix", []string{"me"}, false, token("meta"), 403,
			`Bearer error="insufficient_scope", error_description="The access token does not grant the scope this resource requires", scope="me"`},
		{"anonymous behind AuthenticateOptional", []string{"me"}, true, "", 401, "Bearer"},
		{"no token behind Authenticate", []string{"me"}, false, "", 401, "Bearer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reached = false
			auth := iss.Authenticate
			if tc.optional {
				auth = iss.AuthenticateOptional
			}
			h := auth(passauth.RequireScope(tc.require...)(ok))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.token != "" {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.status == 200, reached, "next handler reached")
			assert.Equal(t, tc.challenge, w.Header().Get("WWW-Authenticate"))
			if tc.status == 403 {
				var body map[string]string
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
				assert.Equal(t, "insufficient_scope", body["error"])
				assert.NotEmpty(t, body["scope"])
			}
		})
	}
}

func TestRequireScopePanicsOnBadScope(t *testing.T) {
	t.Parallel()
	for _, bad := range [][]string{nil, {""}, {"a\"b"}, {"tab\there"}} {
		assert.Panics(t, func() { passauth.RequireScope(bad...) }, "%q", bad)
	}
}
