package interop_test

// github.com/lestrrat-go/jwx/v3 against the issuer's JWKS.

import (
	"crypto"
	"encoding/base64"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// publicMembers are the members a public key of each type may have in the
// issuer's JWKS: RFC 7517's kty, kid, alg and use, and those of RFC 7518
// §6.2 (EC), §6.3.1 (RSA) or RFC 8037 §2 (OKP).
var publicMembers = map[string][]string{
	"OKP": {"kty", "kid", "alg", "use", "crv", "x"},
	"EC":  {"kty", "kid", "alg", "use", "crv", "x", "y"},
	"RSA": {"kty", "kid", "alg", "use", "n", "e"},
}

// TestJWXFetch fetches the issuer's JWKS with jwx's jwk.Fetch and verifies
// the issuer's access tokens, one algorithm at a time, with jwt.Parse and
// the set. The set holds a second key, of another type, as during a
// rollover. jwx insists on what passauth publishes: a "kid" in the token
// (WithKeySet refuses a token without one, even for a set of one key,
// unless given jws.WithUseDefault) and an "alg" on the key (without
// jws.WithInferAlgorithmFromKey it skips a key that has none). The test checks the set as jwx reads it: the token's key,
// whose kid is its RFC 7638 thumbprint as jwx computes it and whose alg is
// the token's; every key public, with use "sig" and no member beyond the
// public ones.
func TestJWXFetch(t *testing.T) {
	t.Parallel()
	for i, alg := range algorithms {
		t.Run(alg.name, func(t *testing.T) {
			t.Parallel()
			srv := newIssuerServer(t, "")
			signer := alg.newKey(t)
			other := algorithms[(i+1)%len(algorithms)].newKey(t)
			srv.deploy(t, passauth.SigningKey(signer), passauth.VerifyingKey(other.Public()))
			token := srv.login(t)
			set, err := jwk.Fetch(t.Context(), srv.discover(t), jwk.WithHTTPClient(srv.Client()))
			require.NoError(t, err)
			require.Equal(t, 2, set.Len())

			// The token's header names its key and algorithm.
			msg, err := jws.Parse([]byte(token))
			require.NoError(t, err)
			require.Len(t, msg.Signatures(), 1)
			header := msg.Signatures()[0].ProtectedHeaders()
			kid, ok := header.KeyID()
			require.True(t, ok, "the token has a kid")
			tokenAlg, _ := header.Algorithm()
			assert.Equal(t, alg.name, tokenAlg.String())
			typ, _ := header.Type()
			assert.Equal(t, passauth.AccessTokenType, typ)

			key, ok := set.LookupKeyID(kid)
			require.True(t, ok, "the set has the token's kid")
			keyAlg, ok := key.Algorithm()
			require.True(t, ok, "the key has an alg")
			assert.Equal(t, alg.name, keyAlg.String())
			thumbprint, err := key.Thumbprint(crypto.SHA256)
			require.NoError(t, err)
			assert.Equal(t, kid, base64.RawURLEncoding.EncodeToString(thumbprint), "the kid is the RFC 7638 thumbprint")
			var public any
			require.NoError(t, jwk.Export(key, &public))
			assert.True(t, signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(public),
				"the key is the signer's public key")

			for i := range set.Len() {
				k, _ := set.Key(i)
				private, err := jwk.IsPrivateKey(k)
				require.NoError(t, err)
				assert.False(t, private)
				use, _ := k.KeyUsage()
				assert.Equal(t, "sig", use)
				_, ok := k.Algorithm()
				assert.True(t, ok, "every key has an alg")
				assert.Subset(t, publicMembers[k.KeyType().String()], k.Keys(), "only public members")
			}

			parsed, err := jwt.Parse([]byte(token), jwt.WithKeySet(set), jwt.WithIssuer(srv.URL),
				jwt.WithClock(jwt.ClockFunc(srv.clock.Now)))
			require.NoError(t, err)
			sub, _ := parsed.Subject()
			assert.Equal(t, "johndoe", sub)
			payload, err := jws.Verify([]byte(token), jws.WithKeySet(set))
			require.NoError(t, err)
			assert.Contains(t, string(payload), `"sub":"johndoe"`)

			for _, tt := range tamperings {
				_, err := jwt.Parse([]byte(tt.tamper(t, token)), jwt.WithKeySet(set), jwt.WithIssuer(srv.URL),
					jwt.WithClock(jwt.ClockFunc(srv.clock.Now)))
				assert.Error(t, err, tt.name)
			}
		})
	}
}
