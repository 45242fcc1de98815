package interop_test

// The issuer that the key tests verify: a server mounting what the demo
// mounts for asymmetric tokens, the token endpoint, the JWKS and the RFC
// 8414 metadata, built from the library with the keys a test gives, and
// redeployed with other keys at the same URL for a rollover.

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
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/passauth/passauth"
)

// The demo's paths.
const (
	loginPath    = "/api/auth/login"
	jwksPath     = "/.well-known/jwks.json"
	metadataPath = "/.well-known/oauth-authorization-server"
)

// jwksMaxAge is the max-age of JWKSHandler's answers, which a Verifier
// keeps its copy of the set for.
const jwksMaxAge = 300 * time.Second

// algorithms are the asymmetric algorithms of access tokens, each with a
// maker of its key.
var algorithms = []struct {
	name   string
	newKey func(t *testing.T) crypto.Signer
}{
	{"EdDSA", func(t *testing.T) crypto.Signer {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		return k
	}},
	{"ES256", func(t *testing.T) crypto.Signer {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}},
	{"RS256", func(t *testing.T) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		return k
	}},
}

// issuerServer is an issuer at one URL, its Config.Issuer, whose instance
// deploy replaces without a restart of the server. There is one user,
// johndoe / secret. It counts the fetches of the JWKS and the metadata.
type issuerServer struct {
	*httptest.Server
	clock    *clock
	audience string
	users    passauth.UserLookup

	mu      sync.Mutex
	handler http.Handler // the instance deployed last; nil before the first

	jwksFetches     atomic.Int64
	metadataFetches atomic.Int64
}

// newIssuerServer starts a server whose instances write audience as "aud"
// (none when it is empty).
func newIssuerServer(t *testing.T, audience string) *issuerServer {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	s := &issuerServer{
		clock:    &clock{now: time.Now()},
		audience: audience,
		users: passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
			if name != "johndoe" {
				return passauth.User{}, false, nil
			}
			return passauth.User{PasswordHash: string(hash), Scopes: []string{"me"}}, true, nil
		}),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// deploy builds an issuer instance with access keys keys, mounts its
// handlers at the demo's paths and puts it in place of the last one.
func (s *issuerServer) deploy(t *testing.T, keys ...passauth.Key) *passauth.TokenIssuer {
	t.Helper()
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessKeys:     keys,
		RefreshSecret:  []byte("interop-refresh-secret-0123456789abcdef"),
		AccessTTL:      accessTTL,
		RefreshTTL:     refreshTTL,
		Issuer:         s.URL,
		Audience:       s.audience,
		Now:            s.clock.Now,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(loginPath, iss.TokenHandler(s.users))
	mux.Handle(jwksPath, iss.JWKSHandler())
	meta, err := iss.MetadataHandler(passauth.Metadata{TokenEndpoint: loginPath, JWKSURI: jwksPath})
	require.NoError(t, err)
	mux.Handle(metadataPath, meta)
	s.mu.Lock()
	s.handler = mux
	s.mu.Unlock()
	return iss
}

func (s *issuerServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case jwksPath:
		s.jwksFetches.Add(1)
	case metadataPath:
		s.metadataFetches.Add(1)
	}
	s.mu.Lock()
	h := s.handler
	s.mu.Unlock()
	if h == nil {
		http.Error(w, "no instance deployed", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// login logs johndoe in with x/oauth2's password grant and returns the
// access token.
func (s *issuerServer) login(t *testing.T) string {
	t.Helper()
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, s.Client())
	conf := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: s.URL + loginPath, AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := conf.PasswordCredentialsToken(ctx, "johndoe", "secret")
	require.NoError(t, err)
	require.Equal(t, "bearer", tok.TokenType)
	return tok.AccessToken
}

// discover reads the issuer's RFC 8414 metadata, as a service that knows
// only the issuer would, and returns its jwks_uri.
func (s *issuerServer) discover(t *testing.T) string {
	t.Helper()
	resp, err := s.Client().Get(s.URL + metadataPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var m struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		JWKSURI       string `json:"jwks_uri"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	assert.Equal(t, s.URL, m.Issuer)
	assert.Equal(t, s.URL+loginPath, m.TokenEndpoint)
	require.Equal(t, s.URL+jwksPath, m.JWKSURI)
	return m.JWKSURI
}

// tamperings are the ways a tampered token is made from a good one; every
// verifier must refuse each.
var tamperings = []struct {
	name   string
	tamper func(t *testing.T, token string) string
}{
	{"signature bit flipped", func(t *testing.T, token string) string {
		parts := splitToken(t, token)
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		require.NoError(t, err)
		sig[len(sig)/2] ^= 1 // inside, not in the last character's padding bits
		parts[2] = base64.RawURLEncoding.EncodeToString(sig)
		return strings.Join(parts, ".")
	}},
	{"subject changed", func(t *testing.T, token string) string {
		parts := splitToken(t, token)
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var claims map[string]any
		require.NoError(t, json.Unmarshal(payload, &claims))
		claims["sub"] = "admin"
		payload, err = json.Marshal(claims)
		require.NoError(t, err)
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}},
}

// splitToken returns the three segments of a compact JWS.
func splitToken(t *testing.T, token string) []string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	return parts
}
