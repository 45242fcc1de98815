package passauth_test

// Fetching and reading a JWK Set: the keys a Verifier must not trust,
// discovery through RFC 8414 metadata, and the fetch's own limits.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestVerifierRefusesUnsafeKeys serves a JWKS whose keys a Verifier must
// not trust: a symmetric key (with which a forged HS256 token is signed),
// a key with private members, one for encryption, one whose "alg" is not
// its type's. Tokens naming them are refused; the good key still works.
func TestVerifierRefusesUnsafeKeys(t *testing.T) {
	t.Parallel()
	f := signingIssuer(t, passauth.SigningKey(ecKey()))
	good := f.iss.JWKSHandler()
	rec := do(t, good, httpReq{method: http.MethodGet})
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &set))
	secret := []byte("a symmetric key an attacker put in the set!")
	ec := set.Keys[0]
	withMembers := func(extra map[string]any) map[string]any {
		k := map[string]any{}
		for n, v := range ec {
			k[n] = v
		}
		for n, v := range extra {
			k[n] = v
		}
		return k
	}
	set.Keys = append(set.Keys,
		map[string]any{"kty": "oct", "kid": "oct", "alg": "HS256", "k": b64URL(secret)},
		withMembers(map[string]any{"kid": "private", "d": "AAAA"}),
		withMembers(map[string]any{"kid": "enc", "use": "enc"}),
		withMembers(map[string]any{"kid": "ps256", "alg": "PS256"}),
		map[string]any{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
		map[string]any{"kty": "EC", "kid": "off-curve", "crv": "P-256", "x": b64URL(make([]byte, 32)), "y": b64URL(make([]byte, 32))},
	)
	body, err := json.Marshal(set)
	require.NoError(t, err)
	srv := newKeyServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	v := newTestVerifier(t, srv.URL, f.clock, &eventRecorder{})
	claims := map[string]any{"iss": testIssuerName}
	for kid, token := range map[string]string{
		"oct":       mintToken(t, jwt.SigningMethodHS256, secret, map[string]any{"kid": "oct"}, claims),
		"private":   mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": "private"}, claims),
		"enc":       mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": "enc"}, claims),
		"ps256":     mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": "ps256"}, claims),
		"p384":      mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": "p384"}, claims),
		"off-curve": mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": "off-curve"}, claims),
	} {
		_, err := v.VerifyAccess(context.Background(), token)
		require.ErrorIs(t, err, passauth.ErrTokenInvalid, kid)
	}
	_, err = v.VerifyAccess(context.Background(), f.login(t, "alice").AccessToken)
	require.NoError(t, err)
}

func b64URL(b []byte) string {
	return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(b64(string(b))), "=")
}

// TestVerifierDiscovery finds the JWKS through the issuer's RFC 8414
// metadata, and refuses metadata that names another issuer.
func TestVerifierDiscovery(t *testing.T) {
	t.Parallel()
	srv := newKeyServer(t, nil)
	f := newFixture(t, withAccessKeys(passauth.SigningKey(edKey())), withIssuer(srv.URL))
	srv.jwks.set(f.iss.JWKSHandler())
	meta, err := f.iss.MetadataHandler(passauth.Metadata{TokenEndpoint: "/token", JWKSURI: "/jwks.json"})
	require.NoError(t, err)
	srv.meta.set(meta)
	v, err := passauth.NewVerifier(passauth.VerifierConfig{Issuer: srv.URL, Discover: true, Now: f.clock.Now})
	require.NoError(t, err)
	require.NoError(t, v.Refresh(context.Background()))
	_, err = v.VerifyAccess(context.Background(), f.login(t, "alice").AccessToken)
	require.NoError(t, err)

	liar := newKeyServer(t, f.iss.JWKSHandler())
	liarMeta, err := f.iss.MetadataHandler(passauth.Metadata{TokenEndpoint: "/token", JWKSURI: liar.URL + "/jwks.json"})
	require.NoError(t, err)
	liar.meta.set(liarMeta)
	v, err = passauth.NewVerifier(passauth.VerifierConfig{Issuer: liar.URL, Discover: true, Now: f.clock.Now})
	require.NoError(t, err)
	err = v.Refresh(context.Background())
	require.ErrorIs(t, err, passauth.ErrKeysUnavailable)
	assert.Contains(t, err.Error(), "names another issuer")
}

// TestVerifierFetchLimits checks the fetch's own limits: https only (http
// on loopback), no redirect to plain http, at most 1 MiB, no refetch
// interval under a second.
func TestVerifierFetchLimits(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]passauth.VerifierConfig{
		"http JWKS":        {Issuer: testIssuerName, JWKSURL: "http://keys.example.test/jwks.json"},
		"no issuer":        {JWKSURL: "https://keys.example.test/jwks.json"},
		"two sources":      {Issuer: testIssuerName, JWKSURL: "https://keys.example.test/jwks.json", Discover: true},
		"none":             {Issuer: testIssuerName},
		"discover, no URL": {Issuer: "my-service", Discover: true},
		"a private key":    {Issuer: testIssuerName, Keys: []passauth.Key{passauth.SigningKey(edKey())}},
		"a secret":         {Issuer: testIssuerName, Keys: []passauth.Key{passauth.SecretKey(testAccessSecret)}},
		"refetch under 1s": {Issuer: testIssuerName, JWKSURL: "https://keys.example.test/jwks.json", RefetchInterval: 999 * time.Millisecond},
		"negative refetch": {Issuer: testIssuerName, JWKSURL: "https://keys.example.test/jwks.json", RefetchInterval: -time.Second},
	} {
		_, err := passauth.NewVerifier(cfg)
		assert.Error(t, err, name)
	}
	clock := newTestClock()
	huge := newKeyServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[` + strings.Repeat(`{"kty":"oct"},`, 100000) + `{}]}`))
	}))
	err := newTestVerifier(t, huge.URL, clock, &eventRecorder{}).Refresh(context.Background())
	require.ErrorIs(t, err, passauth.ErrKeysUnavailable)
	assert.Contains(t, err.Error(), "1 MiB")

	redirect := newKeyServer(t, http.RedirectHandler("http://keys.example.test/jwks.json", http.StatusFound))
	err = newTestVerifier(t, redirect.URL, clock, &eventRecorder{}).Refresh(context.Background())
	require.ErrorIs(t, err, passauth.ErrKeysUnavailable)
}
