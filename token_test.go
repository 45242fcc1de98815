package passauth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestVerifyAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mod     func(*passauth.Config)
		refresh bool
		token   string
	}{
		{name: "hand-made HS256 at+jwt", token: mintHS256(t, nil, nil)},
		{name: "typ application/at+jwt", token: mintHS256(t, map[string]any{"typ": "application/at+jwt"}, nil)},
		{name: "typ AT+JWT", token: mintHS256(t, map[string]any{"typ": "AT+JWT"}, nil)},
		{name: "typ Application/At+Jwt", token: mintHS256(t, map[string]any{"typ": "Application/At+Jwt"}, nil)},
		{name: "refresh typ application/rt+jwt", refresh: true,
			token: mintToken(t, jwt.SigningMethodHS256, testRefreshSecret, map[string]any{"typ": "application/" + passauth.RefreshTokenType}, nil)},
		{name: "no iat", token: mintHS256(t, nil, map[string]any{"iat": nil})},
		{name: "past nbf", token: mintHS256(t, nil, map[string]any{"nbf": testEpoch.Add(-time.Minute).Unix()})},
		{name: "iat within leeway", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: mintHS256(t, nil, map[string]any{"iat": testEpoch.Add(29 * time.Second).Unix()})},
		{name: "nbf within leeway", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: mintHS256(t, nil, map[string]any{"nbf": testEpoch.Add(29 * time.Second).Unix()})},
		{name: "unknown extra header", token: mintHS256(t, map[string]any{"x-app": "k1"}, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := newIssuer(t, tc.mod)
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
	issuer := newIssuer(t)
	pair, err := issuer.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	accessExp := testEpoch.Add(testAccessTTL)
	refreshExp := testEpoch.Add(testRefreshTTL)
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
			iss := newIssuer(t, at(tc.now), func(c *passauth.Config) { c.Leeway = tc.leeway })
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
			assertNoTokenLeak(t, err, token)
		})
	}
}

// TestVerifyExpOfZero checks that "exp": 0 is a time, 1970, not an absent
// claim: the token is expired (and would be refused as missing its "exp"
// if it were read as absent).
func TestVerifyExpOfZero(t *testing.T) {
	t.Parallel()
	token := mintHS256(t, nil, map[string]any{"exp": 0})
	c, err := newIssuer(t).VerifyAccess(context.Background(), token)
	require.ErrorIs(t, err, passauth.ErrTokenExpired)
	assert.Nil(t, c)
}

// TestVerifyBadSignatureNotExpired checks that the signature is judged before
// the expiry: a forged expired token is invalid, never "expired".
func TestVerifyBadSignatureNotExpired(t *testing.T) {
	t.Parallel()
	later := newIssuer(t, at(testEpoch.Add(testRefreshTTL+time.Hour)))
	expired := mintHS256(t, nil, nil)
	forged := mintToken(t, jwt.SigningMethodHS256, []byte("an-attacker-secret-0123456789abcdefghij"), nil, nil)
	parts := strings.Split(expired, ".")
	tests := []struct {
		name  string
		token string
		want  error // nil: must not match ErrTokenExpired
	}{
		{"correctly signed", expired, passauth.ErrTokenExpired},
		{"wrong secret", forged, nil},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(forged, ".")[2], nil},
		{"alg none", mintToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil), nil},
		{"wrong type", mintHS256(t, map[string]any{"typ": "JWT"}, nil), nil},
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

func TestVerifyWithIssuerAndAudience(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t, withIssuerAudience)
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
			assert.Equal(t, testIssuerName, c.Issuer)
			assert.Equal(t, []string{testAudience}, c.Audience)
		})
	}

	// A hand-made token with aud as a list holding the audience is accepted.
	tok := mintHS256(t, nil, map[string]any{"iss": testIssuerName, "aud": []string{"other", testAudience}})
	_, err = iss.VerifyAccess(context.Background(), tok)
	require.NoError(t, err)
}

// TestIssuePairWireFormat checks the tokens independently with golang-jwt:
// HS256, the typ header of each kind, and the secret of each kind.
func TestIssuePairWireFormat(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t, withIssuerAudience)
	pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope("read"))
	require.NoError(t, err)

	tests := []struct {
		name   string
		token  string
		secret []byte
		typ    string
	}{
		{"access", pair.AccessToken, testAccessSecret, passauth.AccessTokenType},
		{"refresh", pair.RefreshToken, testRefreshSecret, passauth.RefreshTokenType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := jwt.MapClaims{}
			tok, err := jwt.ParseWithClaims(tc.token, claims,
				func(*jwt.Token) (any, error) { return tc.secret, nil },
				jwt.WithValidMethods([]string{"HS256"}),
				jwt.WithTimeFunc(stoppedAt(testEpoch)),
				jwt.WithExpirationRequired(),
				jwt.WithIssuer(testIssuerName),
				jwt.WithAudience(testAudience),
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

// TestTokenIssuerConcurrent issues and verifies from many goroutines with one
// issuer; run with -race it checks that the issuer needs no locks.
func TestTokenIssuerConcurrent(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t)
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
