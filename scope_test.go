package passauth_test

// Scopes (RFC 6749 §3.3) through the endpoints and the middleware: what a
// login is granted, how a refresh narrows it, an application's
// ScopePolicy, and RequireScope guarding a handler.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// A login is granted the requested scopes the user holds, in the order
// asked; none held, or a scope outside the grammar, is invalid_scope.
func TestScopeGrant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, user, scope string
		want              string // the scope granted; "" means invalid_scope
	}{
		{"scope me", "alice", "me", "me"},
		{"scope items me keeps the order asked", "alice", "items me", "items me"},
		{"scope not held is dropped", "alice", "me other", "me"},
		{"scope held by nobody", "alice", "other", ""},
		{"scope the user does not hold", "bob", "me", ""},
		{"scope with a quote", "alice", `me"`, ""},
		{"scope with a backslash", "alice", `me\`, ""},
		{"scope with a non-ASCII byte", "alice", "mé", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, f.token, postForm("username", tc.user, "password", passwords[tc.user], "scope", tc.scope))
			if tc.want == "" {
				assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidScope, "")
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
				assert.NotContains(t, rec.Body.String(), "eyJ", "error body contains a token")
				return
			}
			pair := requirePair(t, rec)
			assert.Equal(t, tc.want, pair.Scope)
			assertIssuedTo(t, f, pair, tc.user, tc.want, "")
			assertLifetimes(t, f, pair)
		})
	}
}

// TestScopeLimits checks the caps on a scope that a client sends, checked
// before any limiter, lookup or hashing: 2048 bytes and 64 distinct tokens,
// past which a login or a refresh is invalid_scope; and the same caps on
// IssuePair's WithScope.
func TestScopeLimits(t *testing.T) {
	t.Parallel()
	tokens := func(n int, extra ...string) string {
		list := append([]string(nil), extra...)
		for i := range n {
			list = append(list, fmt.Sprintf("s%d", i))
		}
		return strings.Join(list, " ")
	}
	f := newFixture(t, func(c *passauth.Config) { c.MaxBodyBytes = passauth.DefaultMaxBodyBytes })
	tests := []struct {
		name, scope string
		ok          bool // granted "me"; otherwise invalid_scope
	}{
		{"64 distinct tokens", tokens(63, "me"), true},
		{"65 distinct tokens", tokens(64, "me"), false},
		{"64 tokens repeated four times", strings.Repeat(tokens(63, "me")+" ", 4), true},
		{"2048 bytes", "me " + strings.Repeat("x", 2045), true},
		{"2049 bytes", "me " + strings.Repeat("x", 2046), false},
		{"2049 bytes of one token repeated", strings.Repeat("me ", 683), false},
		{"12 KiB of distinct tokens", tokens(2000, "me"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, f.token, postForm("username", "alice", "password", alicePassword, "scope", tc.scope))
			if !tc.ok {
				assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidScope, "")
				return
			}
			assert.Equal(t, "me", requirePair(t, rec).Scope)
		})
	}
	t.Run("refresh", func(t *testing.T) {
		t.Parallel()
		old := f.login(t, "alice")
		rec := do(t, f.token, postForm("grant_type", "refresh_token", "refresh_token", old.RefreshToken, "scope", tokens(64, "me")))
		assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidScope, "scope longer than 2048 bytes or 64 tokens")
	})
	t.Run("IssuePair", func(t *testing.T) {
		t.Parallel()
		_, err := f.iss.IssuePair(context.Background(), "alice", passauth.WithScope(tokens(65)))
		require.Error(t, err)
		_, err = f.iss.IssuePair(context.Background(), "alice", passauth.WithScope(tokens(64)))
		require.NoError(t, err)
	})
}

// A refresh keeps the scope granted at login or narrows it to the scope
// asked (RFC 6749 §6), never widens it.
func TestScopeNarrowing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		login string // the scope asked at login; "" means every scope held
		ask   string // the scope asked at refresh
		want  string // the scope granted; "" means invalid_scope
	}{
		{name: "narrowed scope", ask: "items", want: "items"},
		{name: "same scope asked", ask: "items me", want: "items me"},
		{name: "widened scope", login: "me", ask: "me items"},
		{name: "malformed scope", ask: `me"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			var kv []string
			if tc.login != "" {
				kv = []string{"scope", tc.login}
			}
			old := f.login(t, "alice", kv...)
			rec := do(t, f.token, postForm("grant_type", "refresh_token", "refresh_token", old.RefreshToken, "scope", tc.ask))
			if tc.want == "" {
				assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidScope, "")
				if strings.Contains(rec.Body.String(), old.RefreshToken) {
					t.Error("error body contains the refresh token")
				}
				return
			}
			pair := requirePair(t, rec)
			assert.Equal(t, tc.want, pair.Scope)
			assert.True(t, pair.AccessToken != old.AccessToken, "refreshing returned the old access token")
			assert.True(t, pair.RefreshToken != old.RefreshToken, "refreshing returned the old refresh token")
			assertIssuedTo(t, f, pair, "alice", tc.want, "")
		})
	}
}

// TestRefreshDropsScopesNoLongerHeld takes a scope from a user, or lets a
// ScopePolicy stop granting it, after the login: a refresh through either
// endpoint no longer carries it (it only ever narrows), and a refresh that
// asks for it is invalid_scope. Refresh, from code, has no user to ask and
// keeps the scope.
func TestRefreshDropsScopesNoLongerHeld(t *testing.T) {
	t.Parallel()
	t.Run("User.Scopes", func(t *testing.T) {
		t.Parallel()
		for _, ep := range refreshEndpoints {
			f := newFixture(t, withMemoryStore)
			p := f.login(t, "alice")
			require.Equal(t, "me items", p.Scope)
			f.users.update("alice", func(u *passauth.User) { u.Scopes = []string{"me", "other"} })
			next := requirePair(t, ep.call(f, t, p.RefreshToken))
			assert.Equal(t, "me", next.Scope, ep.name)
			assertIssuedTo(t, f, next, "alice", "me", "")
		}
	})
	t.Run("asked for", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withMemoryStore)
		p := f.login(t, "alice")
		f.users.update("alice", func(u *passauth.User) { u.Scopes = []string{"me"} })
		rec := do(t, f.token, postForm("grant_type", "refresh_token", "refresh_token", p.RefreshToken, "scope", "items"))
		assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidScope, "requested scope not granted")
	})
	t.Run("ScopePolicy", func(t *testing.T) {
		t.Parallel()
		var revoked atomic.Bool
		f := newFixture(t, withMemoryStore, func(c *passauth.Config) {
			c.ScopePolicy = func(_ context.Context, u passauth.User, requested []string) []string {
				if revoked.Load() {
					return []string{"items", "admin"} // more than asked: a refresh never widens
				}
				return u.Scopes
			}
		})
		p := f.login(t, "alice")
		require.Equal(t, "me items", p.Scope)
		revoked.Store(true)
		next := requirePair(t, f.viaRefresh(t, p.RefreshToken))
		assert.Equal(t, "items", next.Scope)
	})
	t.Run("Refresh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, withMemoryStore)
		p := f.login(t, "alice")
		f.users.update("alice", func(u *passauth.User) { u.Scopes = nil })
		next, err := f.iss.Refresh(context.Background(), p.RefreshToken)
		require.NoError(t, err)
		assert.Equal(t, "me items", next.Scope)
	})
}

// TestScopePolicy replaces the default grant (the requested scopes the user
// holds) with an application's own rule: here admins get "admin" only when
// they ask for it, and everyone gets "me".
func TestScopePolicy(t *testing.T) {
	t.Parallel()
	var seen [][]string
	f := newFixture(t, func(c *passauth.Config) {
		c.ScopePolicy = func(_ context.Context, u passauth.User, requested []string) []string {
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
		}
	})
	hashes, err := testHashes()
	require.NoError(t, err)
	// root logs in with alice's password and, like her, holds neither scope.
	f.users.update("root", func(u *passauth.User) {
		*u = passauth.User{Username: "root", PasswordHash: hashes[alicePassword]}
	})

	for _, tc := range []struct {
		user, scope string
		want        string // the response's scope, or "" for invalid_scope
	}{
		{"alice", "", "me"},
		{"alice", "me admin", "me"},
		{"root", "me admin", "me admin"},
		{"root", "admin", "admin"},
		{"alice", "admin", ""},
	} {
		kv := []string{"username", tc.user, "password", alicePassword}
		if tc.scope != "" {
			kv = append(kv, "scope", tc.scope)
		}
		rec := do(t, f.token, postForm(kv...))
		if tc.want == "" {
			assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidScope, "")
			continue
		}
		assert.Equal(t, tc.want, requirePair(t, rec).Scope, "%s %q", tc.user, tc.scope)
	}
	assert.Equal(t, [][]string{nil, {"me", "admin"}, {"me", "admin"}, {"admin"}, {"admin"}}, seen,
		"the policy sees the requested scope tokens")
}

func TestRequireScope(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	token := func(scopes ...string) string {
		pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope(scopes...))
		require.NoError(t, err)
		return pair.AccessToken
	}

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
			t.Parallel()
			var reached bool
			ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })
			auth := iss.Authenticate
			if tc.optional {
				auth = iss.AuthenticateOptional
			}
			req := httpReq{method: http.MethodGet}
			if tc.token != "" {
				req.header = []string{"Authorization", "Bearer " + tc.token}
			}
			rec := do(t, auth(passauth.RequireScope(tc.require...)(ok)), req)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, tc.status == 200, reached, "next handler reached")
			assert.Equal(t, tc.challenge, rec.Header().Get("WWW-Authenticate"))
			if tc.status == 403 {
				var body map[string]string
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
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
