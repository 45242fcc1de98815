package passauth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

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
		AccessSecret:   append([]byte(nil), tokAccessSecret...),
		RefreshSecret:  append([]byte(nil), tokRefreshSecret...),
		AccessTTL:      tokAccessTTL,
		RefreshTTL:     tokRefreshTTL,
		Now:            tokClock(tokNow),
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
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
