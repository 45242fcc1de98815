package passauth_test

// The issuer's well-known documents: its JWK Set and its RFC 8414
// metadata.

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

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
