package passauth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// Fixtures shared by the token, config and fuzz tests. The tok prefix keeps
// them apart from the helpers of other test files in the package.
var (
	tokAccessSecret  = []byte("token-test-access-secret-0123456789abcdef")
	tokRefreshSecret = []byte("token-test-refresh-secret-0123456789abcdef")
	tokNow           = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
)

const (
	tokAccessTTL  = 15 * time.Minute
	tokRefreshTTL = 7 * 24 * time.Hour
	tokIssuerName = "https://auth.example.test"
	tokAudience   = "api.example.test"
)

// tokClock returns a Config.Now that always reports t.
func tokClock(t time.Time) func() time.Time {
	return func() time.Time { return t }
}

// tokConfig returns a valid Config with fixed secrets and a clock stopped at
// tokNow. Each call returns fresh secret slices.
func tokConfig() passauth.Config {
	return passauth.Config{
		AccessSecret:  append([]byte(nil), tokAccessSecret...),
		RefreshSecret: append([]byte(nil), tokRefreshSecret...),
		AccessTTL:     tokAccessTTL,
		RefreshTTL:    tokRefreshTTL,
		Now:           tokClock(tokNow),
		BcryptCost:    bcrypt.MinCost,
	}
}

// tokIssuer builds an issuer from tokConfig changed by mod (which may be nil).
func tokIssuer(tb testing.TB, mod func(*passauth.Config)) *passauth.TokenIssuer {
	tb.Helper()
	cfg := tokConfig()
	if mod != nil {
		mod(&cfg)
	}
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(tb, err)
	return iss
}

// tokAt returns a Config modifier that stops the clock at t.
func tokAt(t time.Time) func(*passauth.Config) {
	return func(c *passauth.Config) { c.Now = tokClock(t) }
}

// tokWithIssAud sets Config.Issuer and Config.Audience.
func tokWithIssAud(c *passauth.Config) {
	c.Issuer = tokIssuerName
	c.Audience = tokAudience
}

// tokMint signs a token by hand with golang-jwt. It starts from the header
// and claims of a valid access token issued at tokNow and applies the
// overrides: a nil value deletes the entry.
func tokMint(tb testing.TB, method jwt.SigningMethod, key any, header, claims map[string]any) string {
	tb.Helper()
	mc := jwt.MapClaims{
		"sub": "alice",
		"jti": "token-test-jti",
		"iat": tokNow.Unix(),
		"exp": tokNow.Add(tokAccessTTL).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(mc, k)
		} else {
			mc[k] = v
		}
	}
	tok := jwt.NewWithClaims(method, mc)
	tok.Header["typ"] = passauth.AccessTokenType
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	require.NoError(tb, err)
	return s
}

// tokHS256 mints an HS256 token signed with the access secret.
func tokHS256(tb testing.TB, header, claims map[string]any) string {
	tb.Helper()
	return tokMint(tb, jwt.SigningMethodHS256, tokAccessSecret, header, claims)
}

// tokRaw builds an HS256 token from already encoded header and payload
// segments, signing exactly those bytes with secret.
func tokRaw(headerSeg, payloadSeg string, secret []byte) string {
	input := headerSeg + "." + payloadSeg
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// tokSeg base64url-encodes a JSON value as a JWT segment.
func tokSeg(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	require.NoError(tb, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokNonCanonical flips the lowest bit of the last character of seg, one of
// the unused padding bits when len(seg)%4 != 0: lenient base64 decodes the
// result to the same bytes, strict base64 rejects it.
func tokNonCanonical(tb testing.TB, seg string) string {
	tb.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	require.NotZero(tb, len(seg)%4, "segment has no padding bits")
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	require.GreaterOrEqual(tb, last, 0)
	out := seg[:len(seg)-1] + string(alphabet[last^1])
	a, errA := base64.RawURLEncoding.DecodeString(seg)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	require.NoError(tb, errA)
	require.NoError(tb, errB)
	require.Equal(tb, a, b, "lenient decoding must not see the change")
	_, err := base64.RawURLEncoding.Strict().DecodeString(out)
	require.Error(tb, err, "strict decoding must see the change")
	return out
}

// tokNonCanonicalPayload returns a correctly signed access token whose
// payload segment is non-canonical base64.
func tokNonCanonicalPayload(tb testing.TB) string {
	tb.Helper()
	payload := map[string]any{
		"sub": "alice",
		"jti": "token-test-jti",
		"iat": tokNow.Unix(),
		"exp": tokNow.Add(tokAccessTTL).Unix(),
	}
	b, err := json.Marshal(payload)
	require.NoError(tb, err)
	if len(b)%3 == 0 {
		b = append(b, ' ') // JSON allows trailing white space
	}
	seg := tokNonCanonical(tb, base64.RawURLEncoding.EncodeToString(b))
	header := tokSeg(tb, map[string]string{"alg": "HS256", "typ": passauth.AccessTokenType})
	return tokRaw(header, seg, tokAccessSecret)
}

// tokRSAKey and tokECKey are generated once per test binary.
var (
	tokRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	tokECKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// tokRejectCase is a token one of the verify methods must reject.
type tokRejectCase struct {
	name    string
	why     string                 // the reason the error message gives
	refresh bool                   // verify with VerifyRefresh instead of VerifyAccess
	mod     func(*passauth.Config) // issuer used to verify; nil for tokConfig
	token   string
}

// tokRejectCases returns every token the issuer must reject as invalid but
// not expired. The fuzz targets seed from it too.
func tokRejectCases(tb testing.TB) []tokRejectCase {
	tb.Helper()
	iss := tokIssuer(tb, nil)
	pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope("read"))
	require.NoError(tb, err)
	access, refresh := pair.AccessToken, pair.RefreshToken
	parts := strings.Split(access, ".")
	require.Len(tb, parts, 3)

	// The access token's own header and payload, re-signed with the refresh
	// secret: correct HS256, right secret for a refresh token, but typ at+jwt.
	resignedWithRefresh := tokRaw(parts[0], parts[1], tokRefreshSecret)
	// And a refresh token's header and payload re-signed with the access secret.
	rparts := strings.Split(refresh, ".")
	resignedWithAccess := tokRaw(rparts[0], rparts[1], tokAccessSecret)

	tamperedPayload := parts[0] + "." + tokSeg(tb, map[string]any{
		"sub": "admin", "jti": "x", "iat": tokNow.Unix(), "exp": tokNow.Add(time.Hour).Unix(),
	}) + "." + parts[2]
	sig := []byte(parts[2])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	tamperedSignature := parts[0] + "." + parts[1] + "." + string(sig)

	big := tokHS256(tb, nil, map[string]any{"pad": strings.Repeat("x", 9000)})
	require.Greater(tb, len(big), 8<<10)

	none := tokMint(tb, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil, nil)

	return []tokRejectCase{
		{name: "alg none", why: "unsupported algorithm", token: none},
		{name: "alg none with HS256 signature appended", why: "unsupported algorithm", token: none + parts[2]},
		{name: "alg header HS256 but none-style empty signature", why: "bad signature", token: parts[0] + "." + parts[1] + "."},
		{name: "HS384 with the right secret", why: "unsupported algorithm", token: tokMint(tb, jwt.SigningMethodHS384, tokAccessSecret, nil, nil)},
		{name: "HS512 with the right secret", why: "unsupported algorithm", token: tokMint(tb, jwt.SigningMethodHS512, tokAccessSecret, nil, nil)},
		{name: "RS256", why: "unsupported algorithm", token: tokMint(tb, jwt.SigningMethodRS256, tokRSAKey(), nil, nil)},
		{name: "ES256", why: "unsupported algorithm", token: tokMint(tb, jwt.SigningMethodES256, tokECKey(), nil, nil)},
		{name: "unknown alg", why: "unsupported algorithm", token: tokRaw(tokSeg(tb, map[string]string{"alg": "XS256", "typ": "at+jwt"}), parts[1], tokAccessSecret)},
		{name: "missing alg", why: "unsupported algorithm", token: tokRaw(tokSeg(tb, map[string]string{"typ": "at+jwt"}), parts[1], tokAccessSecret)},
		{name: "missing exp", why: "missing exp", token: tokHS256(tb, nil, map[string]any{"exp": nil})},
		{name: "exp not a number", why: "malformed", token: tokHS256(tb, nil, map[string]any{"exp": "tomorrow"})},
		{name: "empty sub", why: "missing sub", token: tokHS256(tb, nil, map[string]any{"sub": ""})},
		{name: "missing sub", why: "missing sub", token: tokHS256(tb, nil, map[string]any{"sub": nil})},
		{name: "missing jti", why: "missing jti", token: tokHS256(tb, nil, map[string]any{"jti": nil})},
		{name: "invalid scope claim", why: "invalid scope", token: tokHS256(tb, nil, map[string]any{"scope": `a"b`})},
		{name: "missing typ", why: "wrong token type", token: tokHS256(tb, map[string]any{"typ": nil}, nil)},
		{name: "typ JWT", why: "wrong token type", token: tokHS256(tb, map[string]any{"typ": "JWT"}, nil)},
		{name: "typ not a string", why: "wrong token type", token: tokHS256(tb, map[string]any{"typ": 1}, nil)},
		{name: "typ with other prefix", why: "wrong token type", token: tokHS256(tb, map[string]any{"typ": "text/at+jwt"}, nil)},
		{name: "refresh token typ to VerifyAccess", why: "wrong token type", token: tokHS256(tb, map[string]any{"typ": passauth.RefreshTokenType}, nil)},
		{name: "issued refresh token to VerifyAccess", why: "wrong token type", token: refresh},
		{name: "issued access token to VerifyRefresh", why: "wrong token type", refresh: true, token: access},
		{name: "access payload re-signed with refresh secret to VerifyRefresh", why: "wrong token type", refresh: true, token: resignedWithRefresh},
		{name: "access payload re-signed with refresh secret to VerifyAccess", why: "bad signature", token: resignedWithRefresh},
		{name: "refresh payload re-signed with access secret to VerifyAccess", why: "wrong token type", token: resignedWithAccess},
		{name: "crit header", why: "unsupported critical header", token: tokHS256(tb, map[string]any{"crit": []string{"exp"}}, nil)},
		{name: "tampered payload", why: "bad signature", token: tamperedPayload},
		{name: "tampered signature", why: "bad signature", token: tamperedSignature},
		{name: "signed with another secret", why: "bad signature", token: tokMint(tb, jwt.SigningMethodHS256, []byte("some-other-secret-0123456789abcdefghij"), nil, nil)},
		{name: "truncated", why: "malformed", token: access[:len(access)/2]},
		{name: "truncated signature", why: "malformed", token: access[:len(access)-2]}, // 41 characters: never valid base64
		{name: "two segments", why: "malformed", token: parts[0] + "." + parts[1]},
		{name: "four segments", why: "malformed", token: access + "." + parts[2]},
		{name: "non-canonical base64 payload", why: "malformed", token: tokNonCanonicalPayload(tb)},
		{name: "non-canonical base64 signature", why: "malformed", token: parts[0] + "." + parts[1] + "." + tokNonCanonical(tb, parts[2])},
		{name: "padded base64 signature", why: "malformed", token: access + "="},
		{name: "standard base64 alphabet", why: "malformed", token: strings.NewReplacer("-", "+", "_", "/").Replace(access) + "+/"},
		{name: "oversize but correctly signed", why: "too large", token: big},
		{name: "empty", why: "malformed", token: ""},
		{name: "garbage", why: "malformed", token: "not a token"},
		{name: "dots only", why: "malformed", token: ".."},
		{name: "bearer prefix kept", why: "malformed", token: "Bearer " + access},
		{name: "white space around", why: "malformed", token: " " + access + " "},
		{name: "json payload null", why: "missing sub", token: tokRaw(parts[0], tokSeg(tb, nil), tokAccessSecret)},
		{name: "json payload array", why: "malformed", token: tokRaw(parts[0], tokSeg(tb, []int{1}), tokAccessSecret)},
		{name: "json header null", why: "unsupported algorithm", token: tokRaw(tokSeg(tb, nil), parts[1], tokAccessSecret)},
		{name: "binary garbage", why: "malformed", token: "\x00\xff\xfe.\x01.\x02"},
		{name: "future nbf", why: "not yet valid", token: tokHS256(tb, nil, map[string]any{"nbf": tokNow.Add(time.Hour).Unix()})},
		{name: "future iat", why: "not yet valid", token: tokHS256(tb, nil, map[string]any{"iat": tokNow.Add(time.Hour).Unix()})},
		{name: "iat beyond leeway", why: "not yet valid", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: tokHS256(tb, nil, map[string]any{"iat": tokNow.Add(31 * time.Second).Unix()})},
		{name: "nbf beyond leeway", why: "not yet valid", mod: func(c *passauth.Config) { c.Leeway = 30 * time.Second },
			token: tokHS256(tb, nil, map[string]any{"nbf": tokNow.Add(31 * time.Second).Unix()})},
		{name: "wrong iss", why: "wrong issuer", mod: tokWithIssAud,
			token: tokHS256(tb, nil, map[string]any{"iss": "https://evil.example.test", "aud": tokAudience})},
		{name: "missing iss", why: "wrong issuer", mod: tokWithIssAud,
			token: tokHS256(tb, nil, map[string]any{"aud": tokAudience})},
		{name: "wrong aud", why: "wrong audience", mod: tokWithIssAud,
			token: tokHS256(tb, nil, map[string]any{"iss": tokIssuerName, "aud": "other.example.test"})},
		{name: "missing aud", why: "wrong audience", mod: tokWithIssAud,
			token: tokHS256(tb, nil, map[string]any{"iss": tokIssuerName})},
		{name: "token without iss and aud when both configured", why: "wrong issuer", mod: tokWithIssAud, token: access},
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range tokRejectCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss := tokIssuer(t, tc.mod)
			verify := iss.VerifyAccess
			if tc.refresh {
				verify = iss.VerifyRefresh
			}
			claims, err := verify(context.Background(), tc.token)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid)
			assert.NotErrorIs(t, err, passauth.ErrTokenExpired)
			assert.Nil(t, claims)
			// The reason shows the token was rejected for the intended cause,
			// not because the test built it wrong.
			assert.Contains(t, err.Error(), tc.why)
			tokAssertNoLeak(t, err, tc.token)
		})
	}
}

// tokAssertNoLeak checks that err repeats neither a secret nor the token or
// any of its segments.
func tokAssertNoLeak(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "passauth: "), "error %q lacks the package prefix", msg)
	assert.NotContains(t, msg, string(tokAccessSecret))
	assert.NotContains(t, msg, string(tokRefreshSecret))
	for _, part := range append(strings.Split(token, "."), token) {
		if len(part) >= 8 {
			assert.NotContains(t, msg, part)
		}
	}
}

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
