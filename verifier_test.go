package passauth_test

// The Verifier of a service that verifies but cannot mint: its answers,
// and its remote key set, fetched once per need, never more often than
// allowed, never making a request wait for the next allowed fetch, kept
// while its issuer is down and refused once too old.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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

// TestVerifierRemoteKeys fetches the JWKS when first needed, verifies with
// it without fetching again until its max-age passes, and then fetches in
// the background while the old set keeps serving.
func TestVerifierRemoteKeys(t *testing.T) {
	t.Parallel()
	f := signingIssuer(t, passauth.SigningKey(ecKey()))
	srv := newKeyServer(t, f.iss.JWKSHandler())
	events := &eventRecorder{}
	v := newTestVerifier(t, srv.URL, f.clock, events)
	token := f.login(t, "alice").AccessToken
	for range 10 {
		c, err := v.VerifyAccess(context.Background(), token)
		require.NoError(t, err)
		assert.Equal(t, "alice", c.Subject)
	}
	assert.Equal(t, int64(1), srv.fetches.Load(), "one fetch for ten tokens")
	require.Len(t, events.of(passauth.EventKeysRefreshed), 1)

	f.clock.Advance(301 * time.Second) // past the JWKS's max-age=300
	_, err := v.VerifyAccess(context.Background(), token)
	require.NoError(t, err, "the old set serves while the new is fetched")
	require.Eventually(t, func() bool { return srv.fetches.Load() == 2 }, 5*time.Second, 10*time.Millisecond)
}

// TestVerifierUnknownKeys floods a Verifier with tokens that name unknown
// keys: the first causes one fetch, which it waits for; the rest, within
// RefetchInterval, are answered 401 at once without a fetch; after the
// interval one more fetch may run. A key published since (a rollover on
// the issuer, no restart of the verifier) is found by that fetch.
func TestVerifierUnknownKeys(t *testing.T) {
	t.Parallel()
	f := signingIssuer(t, passauth.SigningKey(ecKey()))
	srv := newKeyServer(t, f.iss.JWKSHandler())
	events := &eventRecorder{}
	v := newTestVerifier(t, srv.URL, f.clock, events, func(c *passauth.VerifierConfig) { c.RefetchInterval = time.Minute })
	_, err := v.VerifyAccess(context.Background(), f.login(t, "alice").AccessToken)
	require.NoError(t, err)
	require.Equal(t, int64(1), srv.fetches.Load())

	forged := func(i int) string {
		return mintToken(t, jwt.SigningMethodES256, ecKey(), map[string]any{"kid": fmt.Sprintf("unknown-%d", i)}, map[string]any{"iss": testIssuerName})
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			_, err := v.VerifyAccess(context.Background(), forged(i))
			assert.ErrorIs(t, err, passauth.ErrTokenInvalid)
			assert.NotErrorIs(t, err, passauth.ErrKeysUnavailable)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(2), srv.fetches.Load(), "one refetch for 200 unknown keys within the interval")
	assert.Less(t, time.Since(start), 10*time.Second, "no request waited for the next interval")
	assert.Len(t, events.of(passauth.EventUnknownKey), 200)

	// A rollover on the issuer: the next key is published, then signs.
	next := signingIssuer(t, passauth.SigningKey(edKey()), passauth.VerifyingKey(ecKey().Public()))
	next.clock.Set(f.clock.Now())
	srv.jwks.set(next.iss.JWKSHandler())
	token := next.login(t, "alice").AccessToken
	_, err = v.VerifyAccess(context.Background(), token)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "within the interval the new key is not fetched yet")
	f.clock.Advance(time.Minute)
	_, err = v.VerifyAccess(context.Background(), token)
	require.NoError(t, err, "after the interval, the token's unknown key is fetched")
	assert.Equal(t, int64(3), srv.fetches.Load())
}

// TestVerifierIssuerDown keeps the last good set while the JWKS cannot be
// fetched, for MaxStale, and then answers 503, not 401; a Verifier that
// never had a set answers 503 at once.
func TestVerifierIssuerDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withAccessKeys(passauth.SigningKey(edKey())), withIssuer(testIssuerName), func(c *passauth.Config) {
		c.AccessTTL = 4 * time.Hour // outlives the outage below
	})
	srv := newKeyServer(t, f.iss.JWKSHandler())
	events := &eventRecorder{}
	v := newTestVerifier(t, srv.URL, f.clock, events, func(c *passauth.VerifierConfig) { c.MaxStale = time.Hour })
	pair, err := f.iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	token := pair.AccessToken
	protected := v.Authenticate(f.protected)
	authz := httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + token}}
	require.Equal(t, http.StatusNoContent, do(t, protected, authz).Code)

	srv.fail.Store(true)
	f.clock.Advance(10 * time.Minute) // the set has aged: a fetch is tried, and fails
	require.Equal(t, http.StatusNoContent, do(t, protected, authz).Code)
	require.Eventually(t, func() bool { return len(events.of(passauth.EventKeysRefreshFailed)) > 0 }, 5*time.Second, 10*time.Millisecond)
	f.clock.Advance(30 * time.Minute)
	assert.Equal(t, http.StatusNoContent, do(t, protected, authz).Code, "within MaxStale the last good set serves")

	f.clock.Advance(time.Hour)
	require.Eventually(t, func() bool {
		return do(t, protected, authz).Code == http.StatusServiceUnavailable
	}, 5*time.Second, 20*time.Millisecond, "past MaxStale: 503")
	rec := do(t, protected, authz)
	assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "not the token's fault")

	srv.fail.Store(false)
	f.clock.Advance(time.Minute)
	require.Eventually(t, func() bool { return do(t, protected, authz).Code == http.StatusNoContent }, 5*time.Second, 20*time.Millisecond)

	down := newKeyServer(t, f.iss.JWKSHandler())
	down.fail.Store(true)
	never := newTestVerifier(t, down.URL, f.clock, &eventRecorder{})
	_, err = never.VerifyAccess(context.Background(), token)
	require.ErrorIs(t, err, passauth.ErrKeysUnavailable)
	assert.NotErrorIs(t, err, passauth.ErrTokenInvalid)
	require.Error(t, never.Refresh(context.Background()))
}

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

// TestVerifierCacheForgetsRetiredKeys verifies a token through a Verifier's
// verified-token cache, then retires its key at the issuer: once the
// Verifier has the new set, the cached token is refused too, not accepted
// until its expiry. (Removing a compromised key takes effect at once.)
func TestVerifierCacheForgetsRetiredKeys(t *testing.T) {
	t.Parallel()
	f := signingIssuer(t, passauth.SigningKey(ecKey()))
	srv := newKeyServer(t, f.iss.JWKSHandler())
	events := &eventRecorder{}
	v := newTestVerifier(t, srv.URL, f.clock, events, func(c *passauth.VerifierConfig) { c.VerifyCacheSize = 64 })
	token := f.login(t, "alice").AccessToken
	for range 3 {
		_, err := v.VerifyAccess(context.Background(), token)
		require.NoError(t, err)
	}

	next := signingIssuer(t, passauth.SigningKey(edKey()))
	srv.jwks.set(next.iss.JWKSHandler())
	f.clock.Advance(301 * time.Second) // the set has aged: the next call fetches in the background
	_, _ = v.VerifyAccess(context.Background(), token)
	require.Eventually(t, func() bool { return len(events.of(passauth.EventKeysRefreshed)) == 2 }, 5*time.Second, 10*time.Millisecond)
	_, err := v.VerifyAccess(context.Background(), token)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "the cached token of a retired key")
}
