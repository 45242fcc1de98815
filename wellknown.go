package passauth

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// JWKSHandler returns the JSON Web Key Set (RFC 7517 §5) of the public
// keys of access tokens, the one that signs and those that verify (listed
// in Config.AccessKeys), each with "kty", "kid", "alg" and "use": "sig":
// what another service needs to verify this issuer's access tokens, with
// NewVerifier or any JOSE library. It never holds a secret or a private
// member; with secrets only, the set is empty. Serve it at the jwks_uri of
// MetadataHandler, for example /.well-known/jwks.json.
//
// It answers GET and HEAD with the set and Cache-Control: public,
// max-age=300, so that verifiers fetch it at most every five minutes; other
// methods are 405 with Allow: GET, HEAD. The set is encoded once, when the
// handler is made.
func (iss *TokenIssuer) JWKSHandler() http.Handler {
	keys := make([]jsonWebKey, 0, len(iss.tokens.access.keys.load().public))
	for _, k := range iss.tokens.access.keys.load().public {
		j, err := encodeJWK(k.public)
		if err != nil {
			continue // checked by NewTokenIssuer
		}
		j.Kid, j.Use, j.Alg = k.id, "sig", k.method.Alg()
		keys = append(keys, j)
	}
	body, _ := json.Marshal(struct {
		Keys []jsonWebKey `json:"keys"`
	}{keys})
	return publicDocument(body, "application/jwk-set+json")
}

// Metadata is what MetadataHandler publishes beside what the issuer knows
// itself. The URLs are absolute, or relative to Config.Issuer.
type Metadata struct {
	// TokenEndpoint is where TokenHandler is served. Required.
	TokenEndpoint string
	// JWKSURI is where JWKSHandler is served; empty for none.
	JWKSURI string
	// RevocationEndpoint is where RevocationHandler is served; empty for
	// none.
	RevocationEndpoint string
	// Scopes are the scopes the server grants, published as
	// scopes_supported; nil for none published.
	Scopes []string
}

// MetadataHandler returns the authorization server metadata of RFC 8414
// §2, for /.well-known/oauth-authorization-server: "issuer" (Config.Issuer),
// "token_endpoint", "jwks_uri" and "revocation_endpoint" from m, the grant
// types passauth serves ("password", "refresh_token"), "none" as the only
// client authentication (passauth does not authenticate clients),
// "scopes_supported" from m, and an empty "response_types_supported",
// since there is no authorization endpoint. It answers GET and HEAD, as
// JWKSHandler does.
//
// MetadataHandler fails when Config.Issuer is not an https URL (http only
// on a loopback host) without query or fragment, as RFC 8414 §2 requires,
// or when m.TokenEndpoint is empty or a URL of m does not resolve against
// it to one.
func (iss *TokenIssuer) MetadataHandler(m Metadata) (http.Handler, error) {
	issuer, err := url.Parse(iss.tokens.issuer)
	if err != nil || !secureURL(issuer) || issuer.RawQuery != "" || issuer.Fragment != "" || issuer.ForceQuery {
		return nil, errors.New("passauth: MetadataHandler needs Config.Issuer, an https URL without query or fragment")
	}
	if m.TokenEndpoint == "" {
		return nil, errors.New("passauth: MetadataHandler needs Metadata.TokenEndpoint")
	}
	var bad bool
	resolve := func(ref string) string {
		if ref == "" {
			return ""
		}
		u, err := issuer.Parse(ref)
		if err != nil || !secureURL(u) {
			bad = true
			return ""
		}
		return u.String()
	}
	doc := struct {
		Issuer                        string   `json:"issuer"`
		TokenEndpoint                 string   `json:"token_endpoint"`
		JWKSURI                       string   `json:"jwks_uri,omitempty"`
		RevocationEndpoint            string   `json:"revocation_endpoint,omitempty"`
		ScopesSupported               []string `json:"scopes_supported,omitempty"`
		ResponseTypesSupported        []string `json:"response_types_supported"`
		GrantTypesSupported           []string `json:"grant_types_supported"`
		TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
		RevocationEndpointAuthMethods []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	}{
		Issuer:                   iss.tokens.issuer,
		TokenEndpoint:            resolve(m.TokenEndpoint),
		JWKSURI:                  resolve(m.JWKSURI),
		RevocationEndpoint:       resolve(m.RevocationEndpoint),
		ScopesSupported:          m.Scopes,
		ResponseTypesSupported:   []string{},
		GrantTypesSupported:      []string{"password", "refresh_token"},
		TokenEndpointAuthMethods: []string{"none"},
	}
	if bad {
		return nil, errors.New("passauth: MetadataHandler: an endpoint of Metadata is not an https URL")
	}
	if doc.RevocationEndpoint != "" {
		doc.RevocationEndpointAuthMethods = []string{"none"}
	}
	body, _ := json.Marshal(doc)
	return publicDocument(body, "application/json"), nil
}

// secureURL reports whether u is an absolute https URL, or an http one on a
// loopback host (for development).
func secureURL(u *url.URL) bool {
	switch {
	case u.Host == "" || u.User != nil:
		return false
	case u.Scheme == "https":
		return true
	case u.Scheme == "http":
		return isLoopback(u.Hostname())
	}
	return false
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicDocument serves body, a public JSON document that caches may keep
// five minutes, to GET and HEAD.
func publicDocument(body []byte, contentType string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, errMethodGet)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
