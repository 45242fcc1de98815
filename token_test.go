package passauth_test

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestIssuePairRoundTrip(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, nil)
	pair, err := iss.IssuePair(context.Background(), "alice",
		passauth.WithScope("read write"), passauth.WithClientID("web-app"))
	require.NoError(t, err)

	assert.Equal(t, "bearer", pair.TokenType)
	assert.Equal(t, int64(tokAccessTTL/time.Second), pair.ExpiresIn)
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
		{"access", ac, tokAccessTTL},
		{"refresh", rc, tokRefreshTTL},
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
			assert.True(t, c.IssuedAt.Equal(tokNow), "IssuedAt %v, want %v", c.IssuedAt, tokNow)
			assert.True(t, c.ExpiresAt.Equal(tokNow.Add(tc.ttl)), "ExpiresAt %v, want %v", c.ExpiresAt, tokNow.Add(tc.ttl))
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

// TestIssuePairWireFormat checks the tokens independently with golang-jwt:
// HS256, the typ header of each kind, and the secret of each kind.
func TestIssuePairWireFormat(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, tokWithIssAud)
	pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope("read"))
	require.NoError(t, err)

	tests := []struct {
		name   string
		token  string
		secret []byte
		typ    string
	}{
		{"access", pair.AccessToken, tokAccessSecret, passauth.AccessTokenType},
		{"refresh", pair.RefreshToken, tokRefreshSecret, passauth.RefreshTokenType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := jwt.MapClaims{}
			tok, err := jwt.ParseWithClaims(tc.token, claims,
				func(*jwt.Token) (any, error) { return tc.secret, nil },
				jwt.WithValidMethods([]string{"HS256"}),
				jwt.WithTimeFunc(tokClock(tokNow)),
				jwt.WithExpirationRequired(),
				jwt.WithIssuer(tokIssuerName),
				jwt.WithAudience(tokAudience),
			)
			require.NoError(t, err)
			assert.Equal(t, "HS256", tok.Header["alg"])
			assert.Equal(t, tc.typ, tok.Header["typ"])
			assert.Equal(t, "alice", claims["sub"])
			assert.Equal(t, "read", claims["scope"])
			assert.NotEmpty(t, claims["jti"])
			// 128 random bits at least: 26 base32 characters from rand.Text.
			assert.GreaterOrEqual(t, len(claims["jti"].(string)), 22)
		})
	}
}

func TestVerifyWithIssuerAndAudience(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, tokWithIssAud)
	pair, err := iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		verify func(context.Context, string) (*passauth.Claims, error)
		token  string
	}{
		{"access", iss.VerifyAccess, pair.AccessToken},
		{"refresh", iss.VerifyRefresh, pair.RefreshToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.verify(context.Background(), tc.token)
			require.NoError(t, err)
			assert.Equal(t, tokIssuerName, c.Issuer)
			assert.Equal(t, []string{tokAudience}, c.Audience)
		})
	}

	// A hand-made token with aud as a list holding the audience is accepted.
	tok := tokHS256(t, nil, map[string]any{"iss": tokIssuerName, "aud": []string{"other", tokAudience}})
	_, err = iss.VerifyAccess(context.Background(), tok)
	require.NoError(t, err)
}

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*passauth.Config)
		refresh bool
		token   string
	}{
		{name: "hand-made HS256 at+jwt", token: tokHS256(t, nil, nil)},
		{name: "typ application/at+jwt", token: tokHS256(t, map[string]any{"typ": "application/at+jwt"}, nil)},
		{name: "typ AT+JWT", token: tokHS256(t, map[string]any{"typ": "AT+JWT"}, nil)},
		{name: "typ Application/At+Jwt", token: tokHS256(t, map[string]any{"typ": "Application/At+Jwt"}, nil)},
		{name: "refresh typ application/rt+jwt", refresh: true,
			token: tokMint(t, jwt.SigningMethodHS256, tokRefreshSecret, map[string]any{"typ": "application/" + passauth.RefreshTokenType}, nil)},
		{name: "no iat", token: tokHS256(t, nil, map[string]any{"iat": nil})},
		{name: "past nbf", token: tokHS256(t, nil, map[string]any{"nbf": tokNow.Add(-time.Minute).Unix()})},
		{name: "iat within leeway", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: tokHS256(t, nil, map[string]any{"iat": tokNow.Add(29 * time.Second).Unix()})},
		{name: "nbf within leeway", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: tokHS256(t, nil, map[string]any{"nbf": tokNow.Add(29 * time.Second).Unix()})},
		{name: "unknown extra header", token: tokHS256(t, map[string]any{"kid": "k1"}, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := tokIssuer(t, tc.mod)
			verify := iss.VerifyAccess
			if tc.refresh {
				verify = iss.VerifyRefresh
			}
			c, err := verify(context.Background(), tc.token)
			require.NoError(t, err)
			assert.Equal(t, "alice", c.Subject)
		})
	}
}

func TestVerifyExpiry(t *testing.T) {
	t.Parallel()
	issuer := tokIssuer(t, nil)
	pair, err := issuer.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	accessExp := tokNow.Add(tokAccessTTL)
	refreshExp := tokNow.Add(tokRefreshTTL)
	const leeway = 30 * time.Second

	tests := []struct {
		name    string
		now     time.Time
		leeway  time.Duration
		refresh bool
		expired bool
	}{
		{name: "access just before exp", now: accessExp.Add(-time.Second)},
		{name: "access at exp", now: accessExp, expired: true}, // RFC 7519 §4.1.4: now must be before exp
		{name: "access after exp", now: accessExp.Add(time.Second), expired: true},
		{name: "access long after exp", now: accessExp.Add(24 * time.Hour), expired: true},
		{name: "access expired by less than leeway", now: accessExp.Add(leeway - time.Second), leeway: leeway},
		{name: "access expired by more than leeway", now: accessExp.Add(leeway + time.Second), leeway: leeway, expired: true},
		{name: "refresh after access expired", now: accessExp.Add(time.Hour), refresh: true},
		{name: "refresh after exp", now: refreshExp.Add(time.Second), refresh: true, expired: true},
		{name: "refresh expired by less than leeway", now: refreshExp.Add(leeway - time.Second), leeway: leeway, refresh: true},
		{name: "refresh expired by more than leeway", now: refreshExp.Add(leeway + time.Second), leeway: leeway, refresh: true, expired: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := tokIssuer(t, func(c *passauth.Config) {
				c.Now = tokClock(tc.now)
				c.Leeway = tc.leeway
			})
			verify, token := iss.VerifyAccess, pair.AccessToken
			if tc.refresh {
				verify, token = iss.VerifyRefresh, pair.RefreshToken
			}
			c, err := verify(context.Background(), token)
			if !tc.expired {
				require.NoError(t, err)
				assert.Equal(t, "alice", c.Subject)
				return
			}
			require.ErrorIs(t, err, passauth.ErrTokenExpired)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid)
			assert.Nil(t, c)
			tokAssertNoLeak(t, err, token)
		})
	}
}

// TestVerifyBadSignatureNotExpired checks that the signature is judged before
// the expiry: a forged expired token is invalid, never "expired".
func TestVerifyBadSignatureNotExpired(t *testing.T) {
	t.Parallel()
	later := tokIssuer(t, tokAt(tokNow.Add(tokRefreshTTL+time.Hour)))
	expired := tokHS256(t, nil, nil)
	forged := tokMint(t, jwt.SigningMethodHS256, []byte("an-attacker-secret-0123456789abcdefghij"), nil, nil)
	parts := strings.Split(expired, ".")
	tests := []struct {
		name  string
		token string
		want  error // nil: must not match ErrTokenExpired
	}{
		{"correctly signed", expired, passauth.ErrTokenExpired},
		{"wrong secret", forged, nil},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(forged, ".")[2], nil},
		{"alg none", tokMint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil), nil},
		{"wrong type", tokHS256(t, map[string]any{"typ": "JWT"}, nil), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := later.VerifyAccess(context.Background(), tc.token)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			} else {
				require.NotErrorIs(t, err, passauth.ErrTokenExpired)
			}
		})
	}
}

func TestIssuePairErrors(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, nil)
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
			assert.NotContains(t, err.Error(), string(tokAccessSecret))
		})
	}
}

func TestWithClaimsDecode(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, nil)
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

	t.Run("decode into wrong type", func(t *testing.T) {
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

func TestWithScope(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, nil)
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

// TestTokenIssuerConcurrent issues and verifies from many goroutines with one
// issuer; run with -race it checks that the issuer needs no locks.
func TestTokenIssuerConcurrent(t *testing.T) {
	t.Parallel()
	iss := tokIssuer(t, nil)
	ctx := context.Background()
	shared, err := iss.IssuePair(ctx, "shared")
	require.NoError(t, err)

	const goroutines, rounds = 16, 25
	var wg sync.WaitGroup
	ids := make(chan string, goroutines*rounds)
	for g := range goroutines {
		wg.Go(func() {
			subject := "user" + string(rune('a'+g))
			for range rounds {
				pair, err := iss.IssuePair(ctx, subject, passauth.WithScope("read"))
				if !assert.NoError(t, err) {
					return
				}
				ac, err := iss.VerifyAccess(ctx, pair.AccessToken)
				if assert.NoError(t, err) {
					assert.Equal(t, subject, ac.Subject)
					ids <- ac.ID
				}
				rc, err := iss.VerifyRefresh(ctx, pair.RefreshToken)
				if assert.NoError(t, err) {
					assert.Equal(t, subject, rc.Subject)
				}
				sc, err := iss.VerifyAccess(ctx, shared.AccessToken)
				if assert.NoError(t, err) {
					assert.Equal(t, "shared", sc.Subject)
				}
				_, err = iss.VerifyAccess(ctx, pair.RefreshToken)
				assert.ErrorIs(t, err, passauth.ErrTokenInvalid)
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := make(map[string]bool)
	for id := range ids {
		assert.False(t, seen[id], "jti issued twice")
		seen[id] = true
	}
	assert.Len(t, seen, goroutines*rounds)
}
