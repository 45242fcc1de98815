package interop_test

// github.com/coreos/go-oidc/v3 against the issuer's JWKS.

import (
	"encoding/json"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestGoOIDCRemoteKeySet verifies the issuer's access tokens, one
// algorithm at a time, with go-oidc's RemoteKeySet pointed at the jwks_uri
// of the issuer's RFC 8414 metadata (go-oidc's own discovery reads OpenID
// Connect's /.well-known/openid-configuration, which passauth, no OpenID
// provider, does not serve). The set holds a second key, of another type,
// as during a rollover: go-oidc picks the key by "kid". It accepts the
// tokens unmodified and refuses them tampered with; it fetches the set
// again for every token it cannot verify, not only for an unknown "kid",
// as the fetch count shows.
func TestGoOIDCRemoteKeySet(t *testing.T) {
	t.Parallel()
	for i, alg := range algorithms {
		t.Run(alg.name, func(t *testing.T) {
			t.Parallel()
			srv := newIssuerServer(t, "")
			other := algorithms[(i+1)%len(algorithms)].newKey(t)
			srv.deploy(t, passauth.SigningKey(alg.newKey(t)), passauth.VerifyingKey(other.Public()))
			jwksURL := srv.discover(t)
			token := srv.login(t)
			ctx := oidc.ClientContext(t.Context(), srv.Client())
			keys := oidc.NewRemoteKeySet(ctx, jwksURL)

			payload, err := keys.VerifySignature(ctx, token)
			require.NoError(t, err)
			var claims struct {
				Issuer  string `json:"iss"`
				Subject string `json:"sub"`
			}
			require.NoError(t, json.Unmarshal(payload, &claims))
			assert.Equal(t, srv.URL, claims.Issuer)
			assert.Equal(t, "johndoe", claims.Subject)
			_, err = keys.VerifySignature(ctx, token)
			require.NoError(t, err)
			assert.Equal(t, int64(1), srv.jwksFetches.Load(), "the set is fetched once, then cached")

			for _, tt := range tamperings {
				_, err := keys.VerifySignature(ctx, tt.tamper(t, token))
				assert.Error(t, err, tt.name)
			}
			assert.Equal(t, int64(1+len(tamperings)), srv.jwksFetches.Load(),
				"go-oidc fetches the set again for each token it cannot verify")
		})
	}
}

// TestGoOIDCIDTokenVerifier runs go-oidc's IDTokenVerifier on the issuer's
// access tokens. It is made for OpenID Connect ID tokens, but what it
// checks (the signature with the jwks_uri's keys, the algorithm against an
// allow-list, "iss", "aud", "exp", "nbf") are claims passauth's access
// tokens carry, so it accepts them once configured for them:
// SupportedSigningAlgs must list the algorithm, since it defaults to RS256
// alone (with discovery it would take OpenID's
// id_token_signing_alg_values_supported, which RFC 8414 metadata does not
// have), and ClientID must be the issuer's Config.Audience (or
// SkipClientIDCheck set, for an issuer without one). It does not check the
// "typ" at+jwt that RFC 9068 §4 asks of a resource server, which passauth's
// Verifier does: it is no full access-token validator.
func TestGoOIDCIDTokenVerifier(t *testing.T) {
	t.Parallel()
	const audience = "interop-api"
	for _, alg := range algorithms {
		t.Run(alg.name, func(t *testing.T) {
			t.Parallel()
			srv := newIssuerServer(t, audience)
			srv.deploy(t, passauth.SigningKey(alg.newKey(t)))
			token := srv.login(t)
			ctx := oidc.ClientContext(t.Context(), srv.Client())
			keys := oidc.NewRemoteKeySet(ctx, srv.discover(t))

			tests := []struct {
				name   string
				config oidc.Config
				ok     bool
			}{
				{"algorithm listed", oidc.Config{ClientID: audience, SupportedSigningAlgs: []string{alg.name}}, true},
				{"audience not checked", oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{alg.name}}, true},
				{"default algorithms", oidc.Config{ClientID: audience}, alg.name == oidc.RS256},
				{"no client ID", oidc.Config{SupportedSigningAlgs: []string{alg.name}}, false},
				{"other audience", oidc.Config{ClientID: "other-api", SupportedSigningAlgs: []string{alg.name}}, false},
			}
			for _, tt := range tests {
				tt.config.Now = srv.clock.Now
				idt, err := oidc.NewVerifier(srv.URL, keys, &tt.config).Verify(ctx, token)
				if !tt.ok {
					assert.Error(t, err, tt.name)
					continue
				}
				require.NoError(t, err, tt.name)
				assert.Equal(t, "johndoe", idt.Subject, tt.name)
				assert.Equal(t, srv.URL, idt.Issuer, tt.name)
				assert.Equal(t, []string{audience}, idt.Audience, tt.name)
			}
		})
	}
}
