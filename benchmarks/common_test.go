package benchmarks_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/passauth/passauth"
)

// The benchmarks share one token shape: an HS256 JWT whose claims are sub,
// iat, exp, jti and scope, signed with the same 32-byte secret. The peers
// verify commonToken ({"alg":"HS256","typ":"JWT"}); passauth verifies a token
// it issued itself, which has the same claims plus the "at+jwt" type, "sid"
// and "auth_time" (about 70 bytes more).
var (
	accessSecret  = []byte("benchmark-access-secret-32-bytes")
	refreshSecret = []byte("benchmark-refresh-secret-32bytes")
)

const (
	subject   = "alice"
	scope     = "read write"
	accessTTL = time.Hour // long enough for any benchmark run
	// refreshTTL is the refresh tokens' lifetime.
	refreshTTL = 7 * 24 * time.Hour
)

// typedClaims is the typed claims set of the golang-jwt benchmarks.
type typedClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope"`
}

// fixture holds what the benchmarks verify. It is built at the start of each
// benchmark function, so the tokens are fresh in long runs.
type fixture struct {
	iss           *passauth.TokenIssuer
	passauthToken string // issued by passauth
	commonToken   string // the peers' token: sub, iat, exp, jti, scope
	auth0Token    string // commonToken's claims plus iss and aud
}

// Claims auth0's validator requires: it refuses to run without an expected
// issuer and audience.
const (
	auth0Issuer   = "https://issuer.example/"
	auth0Audience = "https://api.example/"
)

func newIssuer(tb testing.TB, cacheSize int) *passauth.TokenIssuer {
	tb.Helper()
	if len(accessSecret) != 32 || len(refreshSecret) != 32 {
		tb.Fatal("the benchmark secrets must be 32 bytes")
	}
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:    accessSecret,
		RefreshSecret:   refreshSecret,
		AccessTTL:       accessTTL,
		RefreshTTL:      refreshTTL,
		VerifyCacheSize: cacheSize,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return iss
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	f := &fixture{iss: newIssuer(tb, 0)}
	pair, err := f.iss.IssuePair(context.Background(), subject, passauth.WithScope(scope))
	if err != nil {
		tb.Fatal(err)
	}
	f.passauthToken = pair.AccessToken

	now := time.Now()
	claims := commonClaims(now, rand.Text())
	f.commonToken = signGolangJWT(tb, &claims)
	claims.Issuer = auth0Issuer
	claims.Audience = jwt.ClaimStrings{auth0Audience}
	f.auth0Token = signGolangJWT(tb, &claims)
	return f
}

// commonClaims returns the claims of the peers' token.
func commonClaims(now time.Time, jti string) typedClaims {
	return typedClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(accessTTL)),
			ID:        jti,
		},
		Scope: scope,
	}
}

func signGolangJWT(tb testing.TB, claims jwt.Claims) string {
	tb.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(accessSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// The minimal verifier below is NOT a JWT library and must not be used as
// one. It exists only as the benchmarks' yardstick: about the least work an
// HS256 verifier can do and still check what matters for this one token
// shape (alg and typ, the signature in constant time, exp, a non-empty sub),
// written the plain way with the standard library: split, base64, a fresh
// HMAC-SHA256, encoding/json into structs. Every library is measured as a
// multiple of it ("floor-minimal").

type minimalHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
}

type minimalClaims struct {
	Sub   string `json:"sub"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
	Jti   string `json:"jti"`
	Scope string `json:"scope"`
}

var errMinimal = errors.New("minimal verifier: token rejected")

// minimalVerify verifies token with key at now; see above.
//
//go:noinline
func minimalVerify(key []byte, token string, now time.Time) (minimalClaims, error) {
	var c minimalClaims
	// One copy of the token on the stack gives byte slices to work on.
	var tb [1024]byte
	if len(token) > len(tb) {
		return c, errMinimal
	}
	b := append(tb[:0], token...)
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return c, errMinimal
	}
	enc := base64.RawURLEncoding

	var buf [768]byte
	hdr := buf[:]
	n, err := enc.Decode(hdr, b[:len(h)])
	if err != nil {
		return c, errMinimal
	}
	var mh minimalHeader
	if json.Unmarshal(hdr[:n], &mh) != nil || mh.Alg != "HS256" || mh.Typ != "JWT" {
		return c, errMinimal
	}

	var sig [sha256.Size]byte
	sigB64 := b[len(h)+1+len(p)+1:]
	if enc.DecodedLen(len(sigB64)) != len(sig) {
		return c, errMinimal
	}
	if _, err := enc.Decode(sig[:], sigB64); err != nil {
		return c, errMinimal
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(b[:len(h)+1+len(p)])
	var sum [sha256.Size]byte
	if !hmac.Equal(mac.Sum(sum[:0]), sig[:]) {
		return c, errMinimal
	}

	n, err = enc.Decode(buf[:], b[len(h)+1:len(h)+1+len(p)])
	if err != nil {
		return c, errMinimal
	}
	if json.Unmarshal(buf[:n], &c) != nil || c.Sub == "" || c.Exp <= now.Unix() {
		return c, errMinimal
	}
	return c, nil
}

// TestMinimalVerify keeps the yardstick honest: it accepts the good token
// and rejects a tampered one.
func TestMinimalVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now()
	c, err := minimalVerify(accessSecret, f.commonToken, now)
	if err != nil || c.Sub != subject || c.Scope != scope {
		t.Fatalf("minimal verifier rejected the common token: %v", err)
	}
	for name, bad := range map[string]string{
		"other key":    f.commonToken,
		"passauth typ": f.passauthToken,
		"no signature": f.commonToken[:strings.LastIndexByte(f.commonToken, '.')+1],
		"expired":      f.commonToken,
	} {
		key, at := accessSecret, now
		switch name {
		case "other key":
			key = refreshSecret
		case "expired":
			at = now.Add(2 * accessTTL)
		}
		if _, err := minimalVerify(key, bad, at); err == nil {
			t.Errorf("%s: minimal verifier accepted the token", name)
		}
	}
}
