package passauth_test

// Key sets: rotating secrets with nobody logged out, and the classic
// attacks on key selection.

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

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
