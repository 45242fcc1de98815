package benchmarks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v2/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/passauth/passauth"
)

// BenchmarkVerify measures the verification of one HS256 access token, from
// the token string to claims the caller can use. Everything a library lets
// its user build once (parsers, options, keys) is built before the timer
// starts; each case is checked to accept its token before it is timed.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()

	b.Run("floor-hmac", func(b *testing.B) {
		// HMAC-SHA256 of the signing input and nothing else: no parsing,
		// no decoding, a keyed hash reused across iterations.
		input := f.commonToken[:strings.LastIndexByte(f.commonToken, '.')]
		want, err := base64.RawURLEncoding.DecodeString(f.commonToken[len(input)+1:])
		if err != nil {
			b.Fatal(err)
		}
		mac := hmac.New(sha256.New, accessSecret)
		in := []byte(input)
		var sum []byte
		b.ReportAllocs()
		for b.Loop() {
			mac.Reset()
			mac.Write(in)
			sum = mac.Sum(sum[:0])
		}
		if !hmac.Equal(sum, want) {
			b.Fatal("floor-hmac: the signature does not match")
		}
	})

	b.Run("floor-minimal", func(b *testing.B) {
		if _, err := minimalVerify(accessSecret, f.commonToken, time.Now()); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = minimalVerify(accessSecret, f.commonToken, time.Now())
		}
	})

	b.Run("passauth", func(b *testing.B) {
		benchPassauthVerify(b, ctx, f.iss, f.passauthToken)
	})

	// The cache cases: a hit verifies one token again and again; a miss
	// presents tokens the full cache has never seen, so that every call is
	// a lookup, a full verification and an insertion with an eviction.
	b.Run("passauth-cache-hit", func(b *testing.B) {
		iss := newIssuer(b, 1024)
		benchPassauthVerify(b, ctx, iss, issueTokens(b, iss, 1)[0])
	})
	b.Run("passauth-cache-miss", func(b *testing.B) {
		// 16 tokens per cache slot: after one pass over them a token has
		// (63/64)^1024 ≈ 1e-7 odds of still being cached in its shard.
		iss := newIssuer(b, cacheMissSize)
		tokens := issueTokens(b, iss, 16*cacheMissSize)
		for _, tok := range tokens { // fills the cache, checks every token
			if _, err := iss.VerifyAccess(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_, _ = verifyPassauth(ctx, iss, tokens[i])
			if i++; i == len(tokens) {
				i = 0
			}
		}
	})

	b.Run("golang-jwt-map", func(b *testing.B) {
		p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
		keyFunc := constKey(accessSecret)
		check := func() error {
			_, err := p.ParseWithClaims(f.commonToken, jwt.MapClaims{}, keyFunc)
			return err
		}
		if err := check(); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = p.ParseWithClaims(f.commonToken, jwt.MapClaims{}, keyFunc)
		}
	})

	b.Run("golang-jwt-typed", func(b *testing.B) {
		p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
		keyFunc := constKey(accessSecret)
		c, err := verifyTyped(p, keyFunc, f.commonToken)
		if err != nil || c.Subject != subject || c.Scope != scope {
			b.Fatalf("golang-jwt-typed rejected the token: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = verifyTyped(p, keyFunc, f.commonToken)
		}
	})

	// The issue's target compares passauth with golang-jwt typed claims "on
	// the same token": this case verifies passauth's own token, decoding
	// every claim it carries.
	b.Run("golang-jwt-typed-same-token", func(b *testing.B) {
		p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
		keyFunc := constKey(accessSecret)
		c, err := verifyTypedSameToken(p, keyFunc, f.passauthToken)
		if err != nil || c.Subject != subject || c.Scope != scope || c.SessionID == "" {
			b.Fatalf("golang-jwt-typed-same-token rejected the token: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = verifyTypedSameToken(p, keyFunc, f.passauthToken)
		}
	})

	b.Run("jwx", func(b *testing.B) {
		// jwx takes the token as bytes; the conversion is done once.
		tok := []byte(f.commonToken)
		opts := []jwxjwt.ParseOption{jwxjwt.WithKey(jwa.HS256, accessSecret), jwxjwt.WithValidate(true)}
		t, err := jwxjwt.Parse(tok, opts...)
		if err != nil || t.Subject() != subject {
			b.Fatalf("jwx rejected the token: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = jwxjwt.Parse(tok, opts...)
		}
	})

	b.Run("go-jose", func(b *testing.B) {
		algs := []jose.SignatureAlgorithm{jose.HS256}
		verify := func() (*josejwt.Claims, error) {
			t, err := josejwt.ParseSigned(f.commonToken, algs)
			if err != nil {
				return nil, err
			}
			var c josejwt.Claims
			var extra struct {
				Scope string `json:"scope"`
			}
			if err := t.Claims(accessSecret, &c, &extra); err != nil {
				return nil, err
			}
			if err := c.Validate(josejwt.Expected{}); err != nil {
				return nil, err
			}
			return &c, nil
		}
		if c, err := verify(); err != nil || c.Subject != subject {
			b.Fatalf("go-jose rejected the token: %v", err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, _ = verify()
		}
	})
}

// cacheMissSize is the cache size of the cache-miss case.
const cacheMissSize = 1024

func benchPassauthVerify(b *testing.B, ctx context.Context, iss *passauth.TokenIssuer, token string) {
	c, err := verifyPassauth(ctx, iss, token)
	if err != nil || c.Subject != subject || c.Scope != scope {
		b.Fatalf("passauth rejected its own token: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = verifyPassauth(ctx, iss, token)
	}
}

// The verifiers callgrind.sh counts instructions in are named functions, so
// that callgrind's --toggle-collect can find them.

//go:noinline
func verifyPassauth(ctx context.Context, iss *passauth.TokenIssuer, token string) (*passauth.Claims, error) {
	return iss.VerifyAccess(ctx, token)
}

//go:noinline
func verifyTyped(p *jwt.Parser, keyFunc jwt.Keyfunc, token string) (*typedClaims, error) {
	c := new(typedClaims)
	if _, err := p.ParseWithClaims(token, c, keyFunc); err != nil {
		return nil, err
	}
	return c, nil
}

// sameTokenClaims are the claims of passauth's access token.
type sameTokenClaims struct {
	jwt.RegisteredClaims
	Scope     string           `json:"scope"`
	SessionID string           `json:"sid"`
	AuthTime  *jwt.NumericDate `json:"auth_time"`
}

//go:noinline
func verifyTypedSameToken(p *jwt.Parser, keyFunc jwt.Keyfunc, token string) (*sameTokenClaims, error) {
	c := new(sameTokenClaims)
	if _, err := p.ParseWithClaims(token, c, keyFunc); err != nil {
		return nil, err
	}
	return c, nil
}

// constKey returns a jwt.Keyfunc handing out key, converted to an interface
// once rather than on every call.
func constKey(key []byte) jwt.Keyfunc {
	var k any = key
	return func(*jwt.Token) (any, error) { return k, nil }
}

// issueTokens issues n distinct access tokens with iss.
func issueTokens(b *testing.B, iss *passauth.TokenIssuer, n int) []string {
	b.Helper()
	tokens := make([]string, n)
	opt := passauth.WithScope(scope)
	for i := range tokens {
		pair, err := iss.IssuePair(context.Background(), subject, opt)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = pair.AccessToken
	}
	return tokens
}
