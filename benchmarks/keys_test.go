package benchmarks_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/passauth/passauth"
)

// BenchmarkVerifyKeys measures the verification of one access token per
// algorithm passauth signs with: HS256 for reference, then EdDSA (Ed25519),
// ES256 (P-256) and RS256 (RSA 2048). Its cases, named so that benchstat
// can put them side by side (-row /alg -col /case):
//
//   - golang-jwt: golang-jwt v5 parsing passauth's token into typed claims
//     of all its claims, with the checks passauth makes that golang-jwt
//     offers (see keysParser) and a Keyfunc that checks "typ" and "kid";
//   - passauth: (*TokenIssuer).VerifyAccess;
//   - passauth-verifier: (*Verifier).VerifyAccess with the public key given
//     in VerifierConfig.Keys (the cached-key path: nothing is fetched);
//   - passauth-verifier-jwks: the same with the key set fetched from the
//     issuer's JWKSHandler over loopback HTTP (fetched once, before the
//     timer: what a resource server such as examples/resource runs);
//   - passauth-cache-hit, passauth-verifier-cache-hit: the same with
//     VerifyCacheSize 1024 and the token already cached.
//
// Every token carries "iss" (a Verifier requires it) and is checked.
//
// All cases verify one token per algorithm, the same in every run, so that
// callgrind.sh counts the same work in each of its runs: Ed25519 verifies
// in variable time, and its instruction count differs by about 1% from one
// random token to the next. The keys come from fixed seeds, every clock
// is stopped at keysNow, and the token is what IssuePair makes at keysNow
// but for its two random values, jti and sid, which are fixed; the setup
// checks that. ES256 signatures stay random (golang-jwt draws the nonce),
// which P-256 verification, in constant time, does not see.
func BenchmarkVerifyKeys(b *testing.B) {
	ctx := context.Background()
	for _, alg := range accessAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			k := newAlgKey(b, alg)
			iss := newKeysIssuer(b, k, 0, stoppedClock)
			token := fixedToken(b, k, iss)

			b.Run("case=golang-jwt", func(b *testing.B) {
				p, keyFunc := keysParser(k, stoppedClock), checkedKey(k.verify, k.access.ID())
				c, err := verifyTypedSameToken(p, keyFunc, token)
				if err != nil || c.Subject != subject || c.Scope != scope || c.SessionID == "" {
					b.Fatalf("golang-jwt rejected the token: %v", err)
				}
				b.ReportAllocs()
				for b.Loop() {
					_, _ = verifyTypedSameToken(p, keyFunc, token)
				}
			})
			b.Run("case=passauth", func(b *testing.B) {
				benchPassauthVerify(b, ctx, iss, token)
			})
			if alg != "HS256" { // a Verifier holds public keys only
				b.Run("case=passauth-verifier", func(b *testing.B) {
					benchVerifierVerify(b, ctx, newKeysVerifier(b, k, 0, stoppedClock), token)
				})
				b.Run("case=passauth-verifier-jwks", func(b *testing.B) {
					benchVerifierVerify(b, ctx, newJWKSVerifier(b, iss), token)
				})
			}
			b.Run("case=passauth-cache-hit", func(b *testing.B) {
				// The check before the timer puts the token in the cache.
				benchPassauthVerify(b, ctx, newKeysIssuer(b, k, 1024, stoppedClock), token)
			})
			if alg != "HS256" {
				b.Run("case=passauth-verifier-cache-hit", func(b *testing.B) {
					benchVerifierVerify(b, ctx, newKeysVerifier(b, k, 1024, stoppedClock), token)
				})
			}
		})
	}
}

// BenchmarkIssueKeys measures IssuePair per access-token algorithm
// (stateless, the WithScope option built once) against golang-jwt signing
// the same two tokens: the access token with the algorithm's key, the
// refresh token with the refresh secret (refresh tokens are HS256 whatever
// signs access tokens), both with passauth's headers (typ, kid) and claims
// (iss, sid, auth_time) and three rand.Text values, as IssuePair draws.
// The setup checks that both make tokens of the same length that passauth
// accepts.
func BenchmarkIssueKeys(b *testing.B) {
	ctx := context.Background()
	for _, alg := range accessAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			k := newAlgKey(b, alg)
			iss := newKeysIssuer(b, k, 0, nil) // the real clock, as golang-jwt's signing reads it
			opt := passauth.WithScope(scope)
			want, err := iss.IssuePair(ctx, subject, opt)
			if err != nil {
				b.Fatal(err)
			}

			b.Run("case=golang-jwt", func(b *testing.B) {
				accessKID, refreshKID := k.access.ID(), passauth.SecretKey(refreshSecret).ID()
				sign := func() (string, string, error) {
					now, sid := time.Now(), rand.Text()
					a, err := signPassauthShape(k.method, k.sign, accessKID, passauth.AccessTokenType, sid, rand.Text(), now, now.Add(accessTTL))
					if err != nil {
						return "", "", err
					}
					r, err := signPassauthShape(jwt.SigningMethodHS256, refreshSecret, refreshKID, passauth.RefreshTokenType, sid, rand.Text(), now, now.Add(refreshTTL))
					return a, r, err
				}
				a, r, err := sign()
				if err != nil {
					b.Fatal(err)
				}
				if len(a) != len(want.AccessToken) || len(r) != len(want.RefreshToken) {
					b.Fatalf("golang-jwt's tokens have %d and %d bytes, passauth's %d and %d",
						len(a), len(r), len(want.AccessToken), len(want.RefreshToken))
				}
				if _, err := iss.VerifyAccess(ctx, a); err != nil {
					b.Fatalf("passauth rejected the access token signed with golang-jwt: %v", err)
				}
				if _, err := iss.VerifyRefresh(ctx, r); err != nil {
					b.Fatalf("passauth rejected the refresh token signed with golang-jwt: %v", err)
				}
				b.ReportAllocs()
				for b.Loop() {
					issueOnce(sign)
				}
			})
			b.Run("case=passauth-IssuePair", func(b *testing.B) { benchIssuePair(b, iss, opt, want) })
		})
	}
}

// accessAlgs are the algorithms of access tokens, HS256 first for
// reference.
var accessAlgs = []string{"HS256", "EdDSA", "ES256", "RS256"}

// keysIssuer is the "iss" of the tokens of BenchmarkVerifyKeys and
// BenchmarkIssueKeys.
const keysIssuer = "https://auth.example/"

// The asymmetric keys, made once per test binary and only when a
// benchmark of their algorithm runs (an RSA key takes a while to make).
// They come from fixed seeds, so that the tokens BenchmarkVerifyKeys
// verifies, and what signing costs, are the same in every run.
var (
	edKey = sync.OnceValue(func() ed25519.PrivateKey {
		return ed25519.NewKeyFromSeed(keySeed("Ed25519"))
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), keySeed("P-256"))
		if err != nil {
			panic(err)
		}
		return k
	})
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		p, q := seededPrime("RSA p"), seededPrime("RSA q")
		one := big.NewInt(1)
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
			D:         new(big.Int).ModInverse(big.NewInt(65537), phi),
			Primes:    []*big.Int{p, q},
		}
		k.Precompute()
		if err := k.Validate(); err != nil || k.N.BitLen() != 2048 {
			panic(fmt.Sprintf("the benchmark RSA key: %v", err))
		}
		return k
	})
)

// seededPrime returns the first 1024-bit prime p from a number fixed by
// name such that 65537 does not divide p-1: half of an RSA key that is the
// same in every run (rsa.GenerateKey draws its own randomness, and a key's
// primes change what signing costs by about 1%).
func seededPrime(name string) *big.Int {
	var b []byte
	for i := byte(0); len(b) < 128; i++ {
		b = append(b, keySeed(name+string('0'+i))...)
	}
	n := new(big.Int).SetBytes(b[:128])
	n.SetBit(n, 1023, 1).SetBit(n, 1022, 1).SetBit(n, 0, 1) // p·q has 2048 bits
	two, e, r := big.NewInt(2), big.NewInt(65537), new(big.Int)
	for !n.ProbablyPrime(20) || r.Mod(r.Sub(n, big.NewInt(1)), e).Sign() == 0 {
		n.Add(n, two)
	}
	return n
}

// keySeed returns 32 bytes fixed by name: a test key's seed, never a real
// one's.
func keySeed(name string) []byte {
	sum := sha256.Sum256([]byte("passauth benchmark key " + name))
	return sum[:]
}

// keysNow is the time BenchmarkVerifyKeys's clocks are stopped at.
var keysNow = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func stoppedClock() time.Time { return keysNow }

// The token BenchmarkVerifyKeys verifies has these for its two random
// values, of rand.Text's length and alphabet.
const (
	fixedJTI = "BENCHMARKTOKENID2345672345"
	fixedSID = "BENCHMARKSESSIONID23456723"
)

// fixedToken returns the token BenchmarkVerifyKeys verifies: k's access
// token at keysNow with fixedJTI and fixedSID, signed with golang-jwt. It
// checks that the token is what iss's IssuePair makes, whose clock must be
// stopped at keysNow, but for those two values.
func fixedToken(tb testing.TB, k algKey, iss *passauth.TokenIssuer) string {
	tb.Helper()
	token, err := signPassauthShape(k.method, k.sign, k.access.ID(), passauth.AccessTokenType,
		fixedSID, fixedJTI, keysNow, keysNow.Add(accessTTL))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, subject, passauth.WithScope(scope))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := iss.VerifyAccess(ctx, pair.AccessToken)
	if err != nil {
		tb.Fatal(err)
	}
	if len(c.ID) != len(fixedJTI) || len(c.SessionID) != len(fixedSID) {
		tb.Fatalf("IssuePair's jti and sid have %d and %d characters", len(c.ID), len(c.SessionID))
	}
	wantHeader, wantPayload, _ := strings.Cut(pair.AccessToken, ".")
	wantPayload, _, _ = strings.Cut(wantPayload, ".")
	header, payload, _ := strings.Cut(token, ".")
	payload, _, _ = strings.Cut(payload, ".")
	want, err1 := base64.RawURLEncoding.DecodeString(wantPayload)
	got, err2 := base64.RawURLEncoding.DecodeString(payload)
	if err1 != nil || err2 != nil {
		tb.Fatal("a token's claims do not decode")
	}
	got = bytes.Replace(got, []byte(fixedJTI), []byte(c.ID), 1)
	got = bytes.Replace(got, []byte(fixedSID), []byte(c.SessionID), 1)
	if header != wantHeader || !bytes.Equal(got, want) || len(token) != len(pair.AccessToken) {
		tb.Fatalf("the fixed %s token is not IssuePair's:\n%s\n%s", k.method.Alg(), got, want)
	}
	return token
}

// algKey is one algorithm's key, as passauth and as golang-jwt take it.
type algKey struct {
	access passauth.Key // in Config.AccessKeys
	public passauth.Key // in VerifierConfig.Keys; the zero Key for HS256
	method jwt.SigningMethod
	sign   any // what golang-jwt signs with
	verify any // what golang-jwt verifies with
}

func newAlgKey(tb testing.TB, alg string) algKey {
	tb.Helper()
	var k algKey
	switch alg {
	case "HS256":
		k = algKey{access: passauth.SecretKey(accessSecret), method: jwt.SigningMethodHS256, sign: accessSecret, verify: accessSecret}
	case "EdDSA":
		priv := edKey()
		pub := priv.Public().(ed25519.PublicKey)
		k = algKey{access: passauth.SigningKey(priv), public: passauth.VerifyingKey(pub), method: jwt.SigningMethodEdDSA, sign: priv, verify: pub}
	case "ES256":
		priv := ecKey()
		k = algKey{access: passauth.SigningKey(priv), public: passauth.VerifyingKey(&priv.PublicKey), method: jwt.SigningMethodES256, sign: priv, verify: &priv.PublicKey}
	case "RS256":
		priv := rsaKey()
		k = algKey{access: passauth.SigningKey(priv), public: passauth.VerifyingKey(&priv.PublicKey), method: jwt.SigningMethodRS256, sign: priv, verify: &priv.PublicKey}
	default:
		tb.Fatalf("no key for %s", alg)
	}
	if k.method.Alg() != alg {
		tb.Fatalf("%s: golang-jwt method %s", alg, k.method.Alg())
	}
	return k
}

// newKeysIssuer is an issuer whose access tokens k signs, under
// keysIssuer, on the clock now (nil for the real one).
func newKeysIssuer(tb testing.TB, k algKey, cacheSize int, now func() time.Time) *passauth.TokenIssuer {
	tb.Helper()
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessKeys:      []passauth.Key{k.access},
		RefreshSecret:   refreshSecret,
		AccessTTL:       accessTTL,
		RefreshTTL:      refreshTTL,
		Issuer:          keysIssuer,
		VerifyCacheSize: cacheSize,
		Now:             now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return iss
}

// newKeysVerifier is a Verifier of keysIssuer's tokens that knows k's
// public key ahead, on the clock now.
func newKeysVerifier(tb testing.TB, k algKey, cacheSize int, now func() time.Time) *passauth.Verifier {
	tb.Helper()
	v, err := passauth.NewVerifier(passauth.VerifierConfig{
		Issuer:          keysIssuer,
		Keys:            []passauth.Key{k.public},
		VerifyCacheSize: cacheSize,
		Now:             now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// newJWKSVerifier is a Verifier of iss's tokens that fetches iss's JWK Set
// from a loopback server, once, before it returns, on the stopped clock.
func newJWKSVerifier(tb testing.TB, iss *passauth.TokenIssuer) *passauth.Verifier {
	tb.Helper()
	srv := httptest.NewServer(iss.JWKSHandler())
	tb.Cleanup(srv.Close)
	v, err := passauth.NewVerifier(passauth.VerifierConfig{
		Issuer:  keysIssuer,
		JWKSURL: srv.URL,
		Now:     stoppedClock,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return v
}

// keysParser is golang-jwt's parser with the checks passauth's makes: the
// one algorithm, "exp" required, "iat" not in the future, "iss", strict
// base64; on the clock now, as passauth's.
func keysParser(k algKey, now func() time.Time) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{k.method.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(keysIssuer),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(now),
	)
}

var errHeader = errors.New("unexpected typ or kid")

// checkedKey returns the Keyfunc a careful golang-jwt user writes for
// passauth's access tokens: "typ" and "kid" checked, the key converted to
// an interface once.
func checkedKey(key any, kid string) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if t.Header["typ"] != passauth.AccessTokenType || t.Header["kid"] != kid {
			return nil, errHeader
		}
		return key, nil
	}
}

func benchVerifierVerify(b *testing.B, ctx context.Context, v *passauth.Verifier, token string) {
	c, err := verifyVerifier(ctx, v, token)
	if err != nil || c.Subject != subject || c.Scope != scope {
		b.Fatalf("the Verifier rejected the issuer's token: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = verifyVerifier(ctx, v, token)
	}
}

// verifyVerifier is a Verifier's VerifyAccess, a named function for
// callgrind.sh.
//
//go:noinline
func verifyVerifier(ctx context.Context, v *passauth.Verifier, token string) (*passauth.Claims, error) {
	return v.VerifyAccess(ctx, token)
}

// issuedClaims are the claims of passauth's tokens, as golang-jwt signs
// them: the same names in the same order.
type issuedClaims struct {
	jwt.RegisteredClaims
	Scope     string           `json:"scope,omitempty"`
	SessionID string           `json:"sid,omitempty"`
	AuthTime  *jwt.NumericDate `json:"auth_time,omitempty"`
}

// signPassauthShape signs, with golang-jwt, a token of passauth's shape.
func signPassauthShape(m jwt.SigningMethod, key any, kid, typ, sid, jti string, now, exp time.Time) (string, error) {
	t := jwt.NewWithClaims(m, &issuedClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    keysIssuer,
			Subject:   subject,
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
		Scope:     scope,
		SessionID: sid,
		AuthTime:  jwt.NewNumericDate(now),
	})
	t.Header["typ"] = typ
	t.Header["kid"] = kid
	return t.SignedString(key)
}
