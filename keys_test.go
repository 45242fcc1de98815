package passauth_test

// Keys: key IDs, asymmetric access tokens, the rollover of a signing key
// with nobody logged out, and the key fields NewTokenIssuer refuses.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// The asymmetric test keys, made once per test binary.
var (
	edKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	otherRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// withAccessKeys replaces the access secret with keys.
func withAccessKeys(keys ...passauth.Key) func(*passauth.Config) {
	return func(c *passauth.Config) { c.AccessSecret, c.AccessKeys = nil, keys }
}

// withIssuer sets Config.Issuer.
func withIssuer(issuer string) func(*passauth.Config) {
	return func(c *passauth.Config) { c.Issuer = issuer }
}

// tokenHeader returns the decoded header of a token.
func tokenHeader(t testing.TB, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(b, &h))
	return h
}

// TestKeyIDs checks the "kid" of each kind of key: the RFC 7638 thumbprint
// of a public key (the RFC's own example as a known answer), the same for a
// private key and its public half; and for a secret 16 characters that
// differ between secrets and hold nothing of them.
func TestKeyIDs(t *testing.T) {
	t.Parallel()
	// RFC 7638 §3.1.
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	require.NoError(t, err)
	rfcKey := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	assert.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", passauth.VerifyingKey(rfcKey).ID())

	for name, pair := range map[string][2]passauth.Key{
		"Ed25519":   {passauth.SigningKey(edKey()), passauth.VerifyingKey(edKey().Public())},
		"ECDSA":     {passauth.SigningKey(ecKey()), passauth.VerifyingKey(ecKey().Public())},
		"RSA":       {passauth.SigningKey(rsaKey()), passauth.VerifyingKey(rsaKey().Public())},
		"KMS-style": {passauth.SigningKey(opaqueSigner{ecKey()}), passauth.VerifyingKey(ecKey().Public())},
	} {
		require.Len(t, pair[0].ID(), 43, name) // base64url of SHA-256
		assert.Equal(t, pair[0].ID(), pair[1].ID(), name+": a private key and its public half")
	}
	a, b := passauth.SecretKey(testAccessSecret).ID(), passauth.SecretKey(testRefreshSecret).ID()
	assert.Len(t, a, 16)
	assert.NotEqual(t, a, b)
	assert.NotContains(t, string(testAccessSecret), a)
	assert.Empty(t, passauth.SecretKey([]byte("short")).ID(), "a key NewTokenIssuer refuses has no ID")
	assert.Empty(t, passauth.Key{}.ID())
}

// opaqueSigner hides the type of its key, as a KMS or HSM signer does, so
// that passauth signs through crypto.Signer rather than golang-jwt's own
// code for the type.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }
func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

// TestAsymmetricAccessTokens signs access tokens with each supported key
// type, through golang-jwt's signing or through a bare crypto.Signer, and
// checks them with golang-jwt alone, pinned to the algorithm the key type
// fixes: the header carries that "alg" and the key's "kid"; refresh tokens
// stay HS256.
func TestAsymmetricAccessTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		signer crypto.Signer
		method jwt.SigningMethod
	}{
		{"Ed25519", edKey(), jwt.SigningMethodEdDSA},
		{"ECDSA P-256", ecKey(), jwt.SigningMethodES256},
		{"RSA", rsaKey(), jwt.SigningMethodRS256},
		{"Ed25519 signer", opaqueSigner{edKey()}, jwt.SigningMethodEdDSA},
		{"ECDSA signer", opaqueSigner{ecKey()}, jwt.SigningMethodES256},
		{"RSA signer", opaqueSigner{rsaKey()}, jwt.SigningMethodRS256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key := passauth.SigningKey(tc.signer)
			f := newFixture(t, withAccessKeys(key))
			pair := f.login(t, "alice")
			h := tokenHeader(t, pair.AccessToken)
			assert.Equal(t, tc.method.Alg(), h["alg"])
			assert.Equal(t, key.ID(), h["kid"])
			assert.Equal(t, "HS256", tokenHeader(t, pair.RefreshToken)["alg"])

			tok, err := jwt.Parse(pair.AccessToken, func(*jwt.Token) (any, error) { return tc.signer.Public(), nil },
				jwt.WithValidMethods([]string{tc.method.Alg()}), jwt.WithTimeFunc(f.clock.Now))
			require.NoError(t, err)
			assert.True(t, tok.Valid)
			assert.Equal(t, http.StatusNoContent, f.authStatus(t, pair.AccessToken))
			requirePair(t, f.viaRefresh(t, pair.RefreshToken))
		})
	}
}

// TestAsymmetricRollover walks the rollover recipe of the README: publish
// the next key, wait, sign with it, wait, retire the old one. At every step
// a Verifier that fetches the issuer's JWKS accepts every token still in
// use, and the issuer refreshes every session.
func TestAsymmetricRollover(t *testing.T) {
	t.Parallel()
	k1, k2 := ecKey(), edKey()
	store := passauth.NewMemoryStore()
	steps := []struct {
		name string
		keys []passauth.Key
	}{
		{"k1 signs", []passauth.Key{passauth.SigningKey(k1)}},
		{"k2 published", []passauth.Key{passauth.SigningKey(k1), passauth.VerifyingKey(k2.Public())}},
		{"k2 signs", []passauth.Key{passauth.SigningKey(k2), passauth.VerifyingKey(k1.Public())}},
		{"k1 retired", []passauth.Key{passauth.SigningKey(k2)}},
	}
	var jwks jwksSwitch
	srv := httptest.NewServer(&jwks)
	t.Cleanup(srv.Close)
	clock := newTestClock()
	v, err := passauth.NewVerifier(passauth.VerifierConfig{Issuer: testIssuerName, JWKSURL: srv.URL, Now: clock.Now})
	require.NoError(t, err)

	var live []passauth.TokenPair // the sessions' current pairs
	for i, step := range steps {
		f := newFixture(t, withStore(store), withAccessKeys(step.keys...), withIssuer(testIssuerName),
			func(c *passauth.Config) { c.Now = clock.Now })
		jwks.set(f.iss.JWKSHandler())
		clock.Advance(6 * time.Minute) // the verifier's set has aged: it fetches again
		for j, p := range live {
			next := requirePair(t, f.viaRefresh(t, p.RefreshToken))
			live[j] = next
		}
		live = append(live, f.login(t, "alice"))
		for j, p := range live {
			_, err := v.VerifyAccess(context.Background(), p.AccessToken)
			if err != nil { // the fetch started in the background: it is done on the next call
				time.Sleep(50 * time.Millisecond)
				_, err = v.VerifyAccess(context.Background(), p.AccessToken)
			}
			require.NoError(t, err, "step %d (%s), session %d", i, step.name, j)
		}
	}
}

// jwksSwitch serves the JWKS handler set last.
type jwksSwitch struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *jwksSwitch) set(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func (s *jwksSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// TestKeysConfigRejects checks what NewTokenIssuer refuses in the key
// lists, naming the field and the position.
func TestKeysConfigRejects(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name, want string
		mod        func(*passauth.Config)
	}{
		{"a verifying key first", "Config.AccessKeys[0]", withAccessKeys(passauth.VerifyingKey(edKey().Public()))},
		{"RSA of 1024 bits", "Config.AccessKeys[1]", withAccessKeys(passauth.SigningKey(edKey()), passauth.VerifyingKey(small.Public()))},
		{"P-384", "Config.AccessKeys[0]", withAccessKeys(passauth.SigningKey(p384))},
		{"a short secret", "Config.AccessKeys[1]", withAccessKeys(passauth.SigningKey(edKey()), passauth.SecretKey([]byte("short")))},
		{"an unsupported type", "Config.AccessKeys[1]", withAccessKeys(passauth.SigningKey(edKey()), passauth.VerifyingKey("not a key"))},
		{"an empty Key", "Config.AccessKeys[0]", withAccessKeys(passauth.Key{})},
		{"the same key twice", "Config.AccessKeys[1]", withAccessKeys(passauth.SigningKey(edKey()), passauth.VerifyingKey(edKey().Public()))},
		{"an asymmetric refresh key", "Config.RefreshKeys[0]", func(c *passauth.Config) {
			c.RefreshSecret, c.RefreshKeys = nil, []passauth.Key{passauth.SigningKey(edKey())}
		}},
		{"a secret of both kinds", "share a secret", func(c *passauth.Config) {
			c.AccessSecret, c.AccessKeys = nil, []passauth.Key{passauth.SigningKey(edKey()), passauth.SecretKey(testRefreshSecret)}
		}},
		{"secret and keys", "Config.AccessSecret and Config.AccessKeys", func(c *passauth.Config) {
			c.AccessKeys = []passauth.Key{passauth.SigningKey(edKey())}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := passauth.NewTokenIssuer(testConfig(tc.mod))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), string(testRefreshSecret))
		})
	}
}
