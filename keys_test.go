package passauth_test

// Keys: key IDs, rotation of secrets and of asymmetric keys with nobody
// logged out, the JWKS and metadata documents, the attacks on key
// selection, and keys from the environment.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// TestSecretRotation rotates both secrets with nobody logged out: tokens
// minted before tokens named their key (no "kid"), and tokens of the
// previous secret, verify and refresh on an issuer that signs with the new
// secret and keeps the previous one listed; its new tokens name the new
// secret. Once the previous secret is retired, its tokens are refused.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	store := passauth.NewMemoryStore()
	old := newFixture(t, withStore(store))
	before := old.login(t, "alice")
	noKID := mintHS256(t, map[string]any{"kid": nil}, map[string]any{"iat": old.clock.Now().Unix(), "exp": old.clock.Now().Add(time.Minute).Unix()})

	newAccess := []byte("tests: the NEXT access secret, 32+ bytes!")
	newRefresh := []byte("tests: the NEXT refresh secret, 32+ bytes")
	rotated := fixtureOnClockOf(t, old, withStore(store), func(c *passauth.Config) {
		c.AccessSecret, c.RefreshSecret = nil, nil
		c.AccessKeys = []passauth.Key{passauth.SecretKey(newAccess), passauth.SecretKey(testAccessSecret)}
		c.RefreshKeys = []passauth.Key{passauth.SecretKey(newRefresh), passauth.SecretKey(testRefreshSecret)}
	})
	assert.Equal(t, http.StatusNoContent, rotated.authStatus(t, before.AccessToken), "an access token of the previous secret")
	assert.Equal(t, http.StatusNoContent, rotated.authStatus(t, noKID), "an access token without kid")
	next := requirePair(t, rotated.viaRefresh(t, before.RefreshToken))
	assert.Equal(t, passauth.SecretKey(newAccess).ID(), tokenHeader(t, next.AccessToken)["kid"])
	assert.Equal(t, passauth.SecretKey(newRefresh).ID(), tokenHeader(t, next.RefreshToken)["kid"])
	assert.Equal(t, http.StatusNoContent, rotated.authStatus(t, next.AccessToken))

	// The old issuer does not know the new secret; the retired one is gone.
	assert.Equal(t, http.StatusUnauthorized, old.authStatus(t, next.AccessToken))
	retired := fixtureOnClockOf(t, old, withStore(store), func(c *passauth.Config) {
		c.AccessSecret, c.RefreshSecret = newAccess, newRefresh
	})
	assert.Equal(t, http.StatusNoContent, retired.authStatus(t, next.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, retired.authStatus(t, before.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, retired.authStatus(t, noKID))
	requirePair(t, retired.viaRefresh(t, next.RefreshToken))
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

// TestJWKSHandler checks the JWK Set of the public access keys: every one,
// the signing key first, each with kty, kid, alg and use and its public
// members only; none for secrets; public caching; GET and HEAD only.
func TestJWKSHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withAccessKeys(passauth.SigningKey(edKey()), passauth.VerifyingKey(ecKey().Public()),
		passauth.VerifyingKey(rsaKey().Public()), passauth.SecretKey([]byte("tests: an old access secret, 32+ bytes"))))
	h := f.iss.JWKSHandler()
	rec := do(t, h, httpReq{method: http.MethodGet})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/jwk-set+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &set))
	require.Len(t, set.Keys, 3, "the three public keys, not the secret")
	want := []struct{ kty, alg string }{{"OKP", "EdDSA"}, {"EC", "ES256"}, {"RSA", "RS256"}}
	for i, k := range set.Keys {
		assert.Equal(t, want[i].kty, k["kty"])
		assert.Equal(t, want[i].alg, k["alg"])
		assert.Equal(t, "sig", k["use"])
		assert.NotEmpty(t, k["kid"])
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			assert.NotContains(t, k, private)
		}
	}
	assert.Equal(t, passauth.SigningKey(edKey()).ID(), set.Keys[0]["kid"])
	assert.Empty(t, do(t, h, httpReq{method: http.MethodHead}).Body.String())
	rec = do(t, h, httpReq{method: http.MethodPost})
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "on an error too")

	rec = do(t, newFixture(t).iss.JWKSHandler(), httpReq{method: http.MethodGet})
	assert.JSONEq(t, `{"keys":[]}`, rec.Body.String(), "secrets only: an empty set")
}

// TestMetadataHandler checks the RFC 8414 document and what the handler
// refuses.
func TestMetadataHandler(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withIssuer("https://auth.example.test/tenant"), withMemoryStore)
	h, err := f.iss.MetadataHandler(passauth.Metadata{
		TokenEndpoint: "/tenant/token", JWKSURI: "https://keys.example.test/jwks.json",
		RevocationEndpoint: "revoke", Scopes: []string{"me", "items"},
	})
	require.NoError(t, err)
	rec := do(t, h, httpReq{method: http.MethodGet})
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.JSONEq(t, `{
		"issuer": "https://auth.example.test/tenant",
		"token_endpoint": "https://auth.example.test/tenant/token",
		"jwks_uri": "https://keys.example.test/jwks.json",
		"revocation_endpoint": "https://auth.example.test/revoke",
		"scopes_supported": ["me", "items"],
		"response_types_supported": [],
		"grant_types_supported": ["password", "refresh_token"],
		"token_endpoint_auth_methods_supported": ["none"],
		"revocation_endpoint_auth_methods_supported": ["none"]
	}`, rec.Body.String())

	for name, issuer := range map[string]string{
		"no issuer": "", "not a URL": "my-service", "http": "http://auth.example.test",
		"a query": "https://auth.example.test/?t=1", "a fragment": "https://auth.example.test/#x",
	} {
		_, err := newFixture(t, withIssuer(issuer)).iss.MetadataHandler(passauth.Metadata{TokenEndpoint: "/token"})
		assert.Error(t, err, name)
	}
	_, err = newFixture(t, withIssuer("http://127.0.0.1:8000")).iss.MetadataHandler(passauth.Metadata{TokenEndpoint: "/token"})
	assert.NoError(t, err, "http on loopback, for development")
	_, err = f.iss.MetadataHandler(passauth.Metadata{})
	assert.Error(t, err, "no token endpoint")
	_, err = f.iss.MetadataHandler(passauth.Metadata{TokenEndpoint: "http://evil.example/token"})
	assert.Error(t, err, "an http endpoint")
}

// TestKeySelectionAttacks sends the classic attacks on key selection to an
// issuer that signs with RSA and keeps a previous secret, and to a Verifier
// of its keys: each is 401 invalid_token, never 500, and never accepted.
func TestKeySelectionAttacks(t *testing.T) {
	t.Parallel()
	signing := passauth.SigningKey(rsaKey())
	oldSecret := []byte("tests: an old access secret, 32+ bytes")
	f := newFixture(t, withAccessKeys(signing, passauth.SecretKey(oldSecret)), withIssuer(testIssuerName))
	v, err := passauth.NewVerifier(passauth.VerifierConfig{Issuer: testIssuerName,
		Keys: []passauth.Key{passauth.VerifyingKey(rsaKey().Public())}, Now: f.clock.Now})
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(rsaKey().Public())
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	kid := signing.ID()
	claims := map[string]any{"iss": testIssuerName}
	jwk, err := json.Marshal(map[string]string{"kty": "RSA", "n": "x", "e": "AQAB"})
	require.NoError(t, err)

	attacks := map[string]string{
		"HS256 with the public key's PEM as secret, our kid": mintToken(t, jwt.SigningMethodHS256, pubPEM, map[string]any{"kid": kid}, claims),
		"HS256 with the public key's DER, no kid":            mintToken(t, jwt.SigningMethodHS256, pubDER, nil, claims),
		"our kid with ES256":                                 mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": kid}, claims),
		"our kid with EdDSA":                                 mintToken(t, jwt.SigningMethodEdDSA, edKey(), map[string]any{"kid": kid}, claims),
		"another RSA key with our kid":                       mintToken(t, jwt.SigningMethodRS256, otherRSAKey(), map[string]any{"kid": kid}, claims),
		"an unknown kid":                                     mintToken(t, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": "not-a-key"}, claims),
		"a kid that is not a string":                         mintToken(t, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": 7}, claims),
		"RS256 without kid":                                  mintToken(t, jwt.SigningMethodRS256, rsaKey(), nil, claims),
		"jwk header":                                         mintToken(t, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": kid, "jwk": json.RawMessage(jwk)}, claims),
		"jku header":                                         mintToken(t, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": kid, "jku": "https://evil.example/jwks"}, claims),
		"x5u header":                                         mintToken(t, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": kid, "x5u": "https://evil.example/cert"}, claims),
		"x5c header":                                         mintToken(t, jwt.SigningMethodRS256, rsaKey(), map[string]any{"kid": kid, "x5c": []string{"MIIB"}}, claims),
		"alg none with our kid":                              noneToken(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": kid}, claims),
		"alg none without kid":                               noneToken(t, map[string]any{"alg": "none", "typ": "at+jwt"}, claims),
		"the old secret, its kid claimed by the RSA key":     mintToken(t, jwt.SigningMethodHS256, oldSecret, map[string]any{"kid": kid}, claims),
	}
	for name, token := range attacks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for who, verify := range map[string]func(context.Context, string) (*passauth.Claims, error){
				"issuer": f.iss.VerifyAccess, "verifier": v.VerifyAccess,
			} {
				c, err := verify(context.Background(), token)
				require.ErrorIs(t, err, passauth.ErrTokenInvalid, who)
				assert.Nil(t, c, who)
			}
			rec := do(t, f.protected, httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + token}})
			assertError(t, rec, http.StatusUnauthorized, passauth.CodeInvalidToken, "Invalid token")
			rec = do(t, v.Authenticate(f.protected), httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + token}})
			assertError(t, rec, http.StatusUnauthorized, passauth.CodeInvalidToken, "Invalid token")
		})
	}
	// The genuine token passes both, and one of the old secret (its own kid).
	good := f.login(t, "alice").AccessToken
	_, err = v.VerifyAccess(context.Background(), good)
	require.NoError(t, err)
	old := mintToken(t, jwt.SigningMethodHS256, oldSecret, map[string]any{"kid": passauth.SecretKey(oldSecret).ID()}, claims)
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, old))
}

// noneToken is an unsigned token with the given header.
func noneToken(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"sub": "alice", "jti": "x", "iat": testEpoch.Unix(), "exp": testEpoch.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	return segment(t, header) + "." + segment(t, c) + "."
}

// TestConfigFromEnvKeys reads the key variables: a PKCS#8 signing key, the
// previous keys as PKCS#8 or PKIX files, the previous secrets. Errors name
// the variable and never a key's bytes.
func TestConfigFromEnvKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey())
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKIXPublicKey(ecKey().Public())
	require.NoError(t, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	require.NoError(t, err)
	signing := write("signing.pem", "PRIVATE KEY", edDER)
	previous := write("previous.pem", "PUBLIC KEY", ecDER) + ", " + write("old-rsa.pem", "PRIVATE KEY", rsaDER)

	setConfigEnv(t, map[string]string{
		"ACCESS_TOKEN_SIGNING_KEY":      signing,
		"ACCESS_TOKEN_PREVIOUS_KEYS":    previous,
		"ACCESS_TOKEN_PREVIOUS_SECRET":  string(testAccessSecret),
		"REFRESH_TOKEN_SECRET":          string(testRefreshSecret),
		"REFRESH_TOKEN_PREVIOUS_SECRET": "tests: the OLD refresh secret, 32+ bytes",
		"ACCESS_TOKEN_TTL":              "15m", "REFRESH_TOKEN_TTL": "24h",
	})
	cfg, err := passauth.ConfigFromEnv()
	require.NoError(t, err)
	require.Nil(t, cfg.AccessSecret)
	ids := make([]string, len(cfg.AccessKeys))
	for i, k := range cfg.AccessKeys {
		ids[i] = k.ID()
	}
	assert.Equal(t, []string{passauth.SigningKey(edKey()).ID(), passauth.VerifyingKey(ecKey().Public()).ID(),
		passauth.VerifyingKey(rsaKey().Public()).ID(), passauth.SecretKey(testAccessSecret).ID()}, ids)
	require.Len(t, cfg.RefreshKeys, 2)
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	pair, err := iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", tokenHeader(t, pair.AccessToken)["alg"])

	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGJ5dGVzIGhlcmU=\n-----END PRIVATE KEY-----\n"), 0o600))
	for name, env := range map[string]map[string]string{
		"ACCESS_TOKEN_SIGNING_KEY":   {"ACCESS_TOKEN_SIGNING_KEY": garbage},
		"ACCESS_TOKEN_PREVIOUS_KEYS": {"ACCESS_TOKEN_SECRET": string(testAccessSecret), "ACCESS_TOKEN_PREVIOUS_KEYS": filepath.Join(dir, "missing.pem")},
	} {
		env["REFRESH_TOKEN_SECRET"], env["ACCESS_TOKEN_TTL"], env["REFRESH_TOKEN_TTL"] = string(testRefreshSecret), "1m", "1h"
		setConfigEnv(t, env)
		_, err := passauth.ConfigFromEnv()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		assert.NotContains(t, err.Error(), "c2VjcmV0")
		assert.NotContains(t, err.Error(), dir, "the error holds no path")
	}
}
