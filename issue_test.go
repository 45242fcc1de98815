package passauth_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestIssuePairRoundTrip(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	pair, err := iss.IssuePair(context.Background(), "alice",
		passauth.WithScope("read write"), passauth.WithClientID("web-app"))
	require.NoError(t, err)

	assert.Equal(t, "bearer", pair.TokenType)
	assert.Equal(t, int64(testAccessTTL/time.Second), pair.ExpiresIn)
	assert.Equal(t, "read write", pair.Scope)
	require.NotEmpty(t, pair.AccessToken)
	require.NotEmpty(t, pair.RefreshToken)
	assert.NotEqual(t, pair.AccessToken, pair.RefreshToken)

	ctx := context.Background()
	ac, err := iss.VerifyAccess(ctx, pair.AccessToken)
	require.NoError(t, err)
	rc, err := iss.VerifyRefresh(ctx, pair.RefreshToken)
	require.NoError(t, err)

	tests := []struct {
		name   string
		claims *passauth.Claims
		ttl    time.Duration
	}{
		{"access", ac, testAccessTTL},
		{"refresh", rc, testRefreshTTL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.claims
			assert.Equal(t, "alice", c.Subject)
			assert.Equal(t, "read write", c.Scope)
			assert.Equal(t, "web-app", c.ClientID)
			assert.NotEmpty(t, c.ID)
			assert.Empty(t, c.Issuer)
			assert.Empty(t, c.Audience)
			assert.True(t, c.IssuedAt.Equal(testEpoch), "IssuedAt %v, want %v", c.IssuedAt, testEpoch)
			assert.True(t, c.ExpiresAt.Equal(testEpoch.Add(tc.ttl)), "ExpiresAt %v, want %v", c.ExpiresAt, testEpoch.Add(tc.ttl))
		})
	}
	assert.NotEqual(t, ac.ID, rc.ID, "access and refresh tokens share a jti")

	// Second pair: fresh IDs again.
	pair2, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	ac2, err := iss.VerifyAccess(ctx, pair2.AccessToken)
	require.NoError(t, err)
	assert.NotEqual(t, ac.ID, ac2.ID)
	assert.Empty(t, pair2.Scope)
	assert.Empty(t, ac2.Scope)
}

func TestIssuePairErrors(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	tests := []struct {
		name    string
		subject string
		opts    []passauth.IssueOption
	}{
		{name: "empty subject", subject: ""},
		{name: "invalid UTF-8 subject", subject: "al\xffice"},
		{name: "scope with quote", subject: "alice", opts: []passauth.IssueOption{passauth.WithScope(`a"b`)}},
		{name: "scope with backslash", subject: "alice", opts: []passauth.IssueOption{passauth.WithScope(`a\b`)}},
		{name: "scope with control char", subject: "alice", opts: []passauth.IssueOption{passauth.WithScope("a\tb")}},
		{name: "scope with non-ASCII", subject: "alice", opts: []passauth.IssueOption{passauth.WithScope("l\u00e9cture")}},
		{name: "claim not JSON", subject: "alice", opts: []passauth.IssueOption{passauth.WithClaims(map[string]any{"x": math.Inf(1)})}},
	}
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "client_id"} {
		tests = append(tests, struct {
			name    string
			subject string
			opts    []passauth.IssueOption
		}{
			name:    "reserved claim " + name,
			subject: "alice",
			opts:    []passauth.IssueOption{passauth.WithClaims(map[string]any{"tenant": "acme", name: "x"})},
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pair, err := iss.IssuePair(context.Background(), tc.subject, tc.opts...)
			require.Error(t, err)
			assert.Empty(t, pair.AccessToken)
			assert.Empty(t, pair.RefreshToken)
			assert.True(t, strings.HasPrefix(err.Error(), "passauth: "), err.Error())
			assertNoLeak(t, []byte(err.Error()))
		})
	}
}

func TestWithScope(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	tests := []struct {
		name   string
		scopes [][]string // one WithScope option per element
		want   string
	}{
		{name: "none", want: ""},
		{name: "empty string", scopes: [][]string{{""}}, want: ""},
		{name: "single", scopes: [][]string{{"read"}}, want: "read"},
		{name: "space-separated split", scopes: [][]string{{"a b"}}, want: "a b"},
		{name: "variadic", scopes: [][]string{{"a", "b"}}, want: "a b"},
		{name: "duplicates dropped", scopes: [][]string{{"a b", "b", "c", "a"}}, want: "a b c"},
		{name: "duplicates across options", scopes: [][]string{{"a"}, {"b a"}, {"a"}}, want: "a b"},
		{name: "extra spaces", scopes: [][]string{{" a  b "}}, want: "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []passauth.IssueOption
			for _, s := range tc.scopes {
				opts = append(opts, passauth.WithScope(s...))
			}
			pair, err := iss.IssuePair(context.Background(), "alice", opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, pair.Scope)
			c, err := iss.VerifyAccess(context.Background(), pair.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.Scope)
			assert.Equal(t, strings.Fields(tc.want), c.Scopes())
		})
	}
}

// TestWithClaims checks that extra claims, from one WithClaims option or
// several, reach both tokens beside the registered ones and read back with
// Claims.Decode.
func TestWithClaims(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice",
		passauth.WithScope("read"),
		passauth.WithClaims(map[string]any{"tenant": "acme", "roles": []string{"admin", "dev"}}),
		passauth.WithClaims(map[string]any{"level": 3}))
	require.NoError(t, err)

	type custom struct {
		Tenant  string   `json:"tenant"`
		Roles   []string `json:"roles"`
		Level   int      `json:"level"`
		Subject string   `json:"sub"`
		Scope   string   `json:"scope"`
	}
	want := custom{Tenant: "acme", Roles: []string{"admin", "dev"}, Level: 3, Subject: "alice", Scope: "read"}

	for _, tc := range []struct {
		name   string
		verify func(context.Context, string) (*passauth.Claims, error)
		token  string
	}{
		{"access", iss.VerifyAccess, pair.AccessToken},
		{"refresh", iss.VerifyRefresh, pair.RefreshToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.verify(ctx, tc.token)
			require.NoError(t, err)
			var got custom
			require.NoError(t, c.Decode(&got))
			assert.Equal(t, want, got)
			assert.Equal(t, "alice", c.Subject)
		})
	}
}
