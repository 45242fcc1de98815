package passauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestClaimsScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scope  string
		want   []string
		has    []string
		hasNot []string
	}{
		{scope: "", want: nil, hasNot: []string{"", "read", " "}},
		{scope: "read", want: []string{"read"}, has: []string{"read"}, hasNot: []string{"", "rea", "reads", "write"}},
		{scope: "read write", want: []string{"read", "write"}, has: []string{"read", "write"}, hasNot: []string{"", "read write", "ead", "writ", " "}},
		{scope: "a:b c/d", want: []string{"a:b", "c/d"}, has: []string{"a:b", "c/d"}, hasNot: []string{"a", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.scope, func(t *testing.T) {
			t.Parallel()
			c := &passauth.Claims{Subject: "alice", Scope: tc.scope}
			if tc.want == nil {
				assert.Empty(t, c.Scopes())
			} else {
				assert.Equal(t, tc.want, c.Scopes())
			}
			for _, s := range tc.has {
				assert.True(t, c.HasScope(s), "HasScope(%q)", s)
			}
			for _, s := range tc.hasNot {
				assert.False(t, c.HasScope(s), "HasScope(%q)", s)
			}
		})
	}
}

// TestClaimsDecode checks how Decode fails; TestWithClaims checks what it
// decodes.
func TestClaimsDecode(t *testing.T) {
	t.Parallel()
	t.Run("decode into wrong type", func(t *testing.T) {
		iss := newIssuer(t)
		ctx := context.Background()
		pair, err := iss.IssuePair(ctx, "alice",
			passauth.WithScope("read"),
			passauth.WithClaims(map[string]any{"tenant": "acme", "roles": []string{"admin", "dev"}}))
		require.NoError(t, err)
		c, err := iss.VerifyAccess(ctx, pair.AccessToken)
		require.NoError(t, err)
		var n int
		require.Error(t, c.Decode(&n))
	})
	t.Run("zero Claims", func(t *testing.T) {
		var c passauth.Claims
		var m map[string]any
		require.Error(t, c.Decode(&m))
		assert.Nil(t, m)
	})
	t.Run("hand-built Claims", func(t *testing.T) {
		c := passauth.Claims{Subject: "alice", Scope: "read"}
		var m map[string]any
		require.Error(t, c.Decode(&m))
	})
}

func TestContextWithClaims(t *testing.T) {
	t.Parallel()
	_, ok := passauth.ClaimsFromContext(context.Background())
	assert.False(t, ok, "claims in an empty context")

	_, ok = passauth.ClaimsFromContext(passauth.ContextWithClaims(context.Background(), nil))
	assert.False(t, ok, "nil claims reported as found")

	want := &passauth.Claims{Subject: "alice", Scope: "me"}
	got, ok := passauth.ClaimsFromContext(passauth.ContextWithClaims(context.Background(), want))
	require.True(t, ok)
	assert.Same(t, want, got)

	// A handler behind the middleware can be tested with ContextWithClaims
	// alone.
	var seen *passauth.Claims
	next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen, _ = passauth.ClaimsFromContext(r.Context())
	})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	next.ServeHTTP(httptest.NewRecorder(), r.WithContext(passauth.ContextWithClaims(r.Context(), want)))
	assert.Same(t, want, seen)
}
