package passauth_test

// The Verifier of a service that verifies but cannot mint, and the fixtures
// of its tests: it answers as the issuer does. Its remote key set is tested
// in remotekeys_test.go, the fetching and reading of a JWKS in jwks_test.go.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// keyServer serves an issuer's JWKS (and, for discovery, its metadata) and
// counts the fetches; fail makes it answer 500, slow holds answers.
type keyServer struct {
	*httptest.Server
	jwks    jwksSwitch
	meta    jwksSwitch
	fetches atomic.Int64
	fail    atomic.Bool
}

func newKeyServer(t *testing.T, jwks http.Handler) *keyServer {
	t.Helper()
	s := &keyServer{}
	s.jwks.set(jwks)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case s.fail.Load():
			http.Error(w, "down", http.StatusInternalServerError)
		case r.URL.Path == "/.well-known/oauth-authorization-server":
			s.meta.ServeHTTP(w, r)
		default:
			s.fetches.Add(1)
			s.jwks.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// signingIssuer is a fixture that signs access tokens with signer, under
// testIssuerName.
func signingIssuer(t *testing.T, keys ...passauth.Key) *fixture {
	t.Helper()
	return newFixture(t, withAccessKeys(keys...), withIssuer(testIssuerName))
}

// newTestVerifier is a Verifier of JWKSURL on clock, recording its events.
func newTestVerifier(t *testing.T, jwksURL string, clock *testClock, events *eventRecorder, mods ...func(*passauth.VerifierConfig)) *passauth.Verifier {
	t.Helper()
	cfg := passauth.VerifierConfig{Issuer: testIssuerName, JWKSURL: jwksURL, Now: clock.Now, OnEvent: events.record}
	for _, mod := range mods {
		mod(&cfg)
	}
	v, err := passauth.NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// TestVerifierAnswersAsTheIssuer checks that a Verifier's middleware, and
// RequireScope behind it, answer every case as the issuer's do.
func TestVerifierAnswersAsTheIssuer(t *testing.T) {
	t.Parallel()
	f := signingIssuer(t, passauth.SigningKey(edKey()))
	v, err := passauth.NewVerifier(passauth.VerifierConfig{Issuer: testIssuerName,
		Keys: []passauth.Key{passauth.VerifyingKey(edKey().Public())}, Now: f.clock.Now})
	require.NoError(t, err)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := passauth.ClaimsFromContext(r.Context()); ok {
			fmt.Fprint(w, c.Subject)
		}
	})
	me := f.login(t, "alice", "scope", "me").AccessToken
	items := f.login(t, "alice", "scope", "items").AccessToken
	expired := newFixture(t, withAccessKeys(passauth.SigningKey(edKey())), withIssuer(testIssuerName),
		at(testEpoch.Add(-time.Hour))).login(t, "alice").AccessToken
	other := newFixture(t, withAccessKeys(passauth.SigningKey(edKey())), withIssuer("https://other.example.test")).login(t, "alice").AccessToken
	for name, authz := range map[string][]string{
		"no token": nil, "good token": {"Bearer " + me}, "no scope me": {"Bearer " + items},
		"expired": {"Bearer " + expired}, "another issuer": {"Bearer " + other},
		"refresh token": {"Bearer " + f.login(t, "alice").RefreshToken}, "malformed": {"Bearer a b"},
	} {
		var header []string
		if authz != nil {
			header = []string{"Authorization", authz[0]}
		}
		req := httpReq{method: http.MethodGet, header: header}
		want := do(t, f.iss.Authenticate(passauth.RequireScope("me")(ok)), req)
		got := do(t, v.Authenticate(passauth.RequireScope("me")(ok)), req)
		assert.Equal(t, want.Code, got.Code, name)
		assert.Equal(t, want.Header().Get("WWW-Authenticate"), got.Header().Get("WWW-Authenticate"), name)
		assert.Equal(t, want.Body.String(), got.Body.String(), name)
	}
	rec := do(t, v.AuthenticateOptional(ok), httpReq{method: http.MethodGet})
	assert.Equal(t, http.StatusOK, rec.Code)
}
