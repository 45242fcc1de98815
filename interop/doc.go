// Package interop tests passauth against third-party OAuth 2.0 and JOSE
// clients. It is a module of its own so that those clients never enter the
// requirements of github.com/passauth/passauth; it has no API.
//
// It checks that:
//
//   - golang.org/x/oauth2 logs in with the password grant, refreshes, and
//     reads passauth's errors as a RetrieveError (oauth2_test.go);
//   - github.com/coreos/go-oidc/v3's RemoteKeySet, pointed at the jwks_uri
//     of the issuer's RFC 8414 metadata, verifies its EdDSA, ES256 and
//     RS256 access tokens unmodified and refuses them tampered with, and its
//     IDTokenVerifier accepts them once given the algorithm and the
//     audience (oidc_test.go);
//   - github.com/lestrrat-go/jwx/v3's jwk.Fetch reads the issuer's JWKS,
//     each key public with its kid (the RFC 7638 thumbprint) and alg, and
//     jwt.Parse and jws.Verify with the set verify the same tokens
//     (jwx_test.go);
//   - a passauth.Verifier that discovered the issuer keeps verifying, with
//     no restart, through a key rollover on the issuer at the same URL: the
//     new key's tokens verify, the old key's while it is listed and are
//     refused once it is retired and the Verifier's set has aged
//     (rollover_test.go).
//
// The issuer of those tests (issuer_test.go) is built from the library as
// the demo mounts it: the token endpoint at /api/auth/login, the JWKS at
// /.well-known/jwks.json and the metadata at
// /.well-known/oauth-authorization-server, on an httptest server.
package interop
