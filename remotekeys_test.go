package passauth_test

// A Verifier's remote key set: fetched once per need, never more often than
// allowed, never making a request wait for the next allowed fetch, kept
// while its issuer is down and refused once too old; retired keys are
// forgotten, cached tokens of them too.

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

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
	// At least two fetches: when the background one ends before the call
	// verifies, the call finds the token's key unknown and fetches again.
	require.Eventually(t, func() bool { return len(events.of(passauth.EventKeysRefreshed)) >= 2 }, 5*time.Second, 10*time.Millisecond)
	_, err := v.VerifyAccess(context.Background(), token)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "the cached token of a retired key")
}
