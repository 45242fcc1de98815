package passauth_test

// The refresh grace window (Config.RefreshGrace): the token a rotation
// replaced, presented again soon by the same client, is answered with the
// session's current refresh token, never a second chain; anything else is
// reuse as without grace.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// withGrace sets Config.RefreshGrace.
func withGrace(d time.Duration) func(*passauth.Config) {
	return func(c *passauth.Config) { c.RefreshGrace = d }
}

// refreshID returns the "jti" of a refresh token.
func refreshID(t testing.TB, f *fixture, token string) string {
	t.Helper()
	c, err := f.iss.VerifyRefresh(context.Background(), token)
	require.NoError(t, err)
	return c.ID
}

// TestGraceTwoTabs refreshes one token twice within the window, through
// each way: both answers carry the same refresh token ID, and either
// refresh token then rotates the session once; the session is never
// revoked.
func TestGraceTwoTabs(t *testing.T) {
	t.Parallel()
	for _, ep := range refreshEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore, withCheckRevoked, withGrace(10*time.Second))
			p := f.login(t, "alice")
			a := requirePair(t, ep.call(f, t, p.RefreshToken))
			f.clock.Advance(2 * time.Second)
			b := requirePair(t, ep.call(f, t, p.RefreshToken)) // the second tab
			assert.Equal(t, refreshID(t, f, a.RefreshToken), refreshID(t, f, b.RefreshToken), "one refresh token ID")
			assert.NotEqual(t, a.AccessToken, b.AccessToken)
			for name, tok := range map[string]string{"first": a.AccessToken, "second": b.AccessToken} {
				assert.Equal(t, http.StatusNoContent, f.authStatus(t, tok), name)
			}
			replays := f.events.of(passauth.EventRefreshReplayed)
			require.Len(t, replays, 1)
			assert.Equal(t, f.sessionID(t, p.RefreshToken), replays[0].SessionID)
			assert.Empty(t, f.events.of(passauth.EventRefreshReuse))

			// Tab b rotates on; tab a's copy, the token just replaced, is
			// answered with the new current one.
			next := requirePair(t, ep.call(f, t, b.RefreshToken))
			again := requirePair(t, ep.call(f, t, a.RefreshToken))
			assert.Equal(t, refreshID(t, f, next.RefreshToken), refreshID(t, f, again.RefreshToken))
			assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
		})
	}
}

// TestGraceLostAnswer refreshes and loses the answer, as a client whose
// connection dropped: its retry with the same token gets the refresh token
// the lost answer carried, and the session goes on.
func TestGraceLostAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, withGrace(10*time.Second))
	p := f.login(t, "alice")
	lost := requirePair(t, f.viaToken(t, p.RefreshToken)) // the client never sees this
	f.clock.Advance(time.Second)
	retry := requirePair(t, f.viaToken(t, p.RefreshToken))
	assert.Equal(t, refreshID(t, f, lost.RefreshToken), refreshID(t, f, retry.RefreshToken))
	requirePair(t, f.viaToken(t, retry.RefreshToken))
	assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
}

// TestGraceParallel sends 20 refreshes of one token at once, as a page
// rendered on the server may: every one succeeds, and every answer carries
// the same refresh token ID.
func TestGraceParallel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, withGrace(10*time.Second))
	p := f.login(t, "alice")
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			pair, err := f.iss.Refresh(context.Background(), p.RefreshToken)
			if assert.NoError(t, err, "refresh %d", i) {
				ids[i] = refreshID(t, f, pair.RefreshToken)
			}
		})
	}
	wg.Wait()
	for i := range ids {
		assert.Equal(t, ids[0], ids[i], "refresh %d", i)
	}
	assert.Len(t, f.events.of(passauth.EventRefresh), 1)
	assert.Len(t, f.events.of(passauth.EventRefreshReplayed), n-1)
	assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
}

// TestGraceLimits checks what the window does not allow: a replay after it,
// a token two rotations back, more than 32 replays of one rotation, each
// reuse that revokes the session; and without grace, the second
// presentation is reuse at once.
func TestGraceLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		grace   time.Duration
		present func(t *testing.T, f *fixture, old string) *httpResult
	}{
		{"after the window", 10 * time.Second, func(t *testing.T, f *fixture, old string) *httpResult {
			requirePair(t, f.viaRefresh(t, old))
			f.clock.Advance(11 * time.Second)
			return result(f.viaRefresh(t, old))
		}},
		{"two rotations back", 10 * time.Second, func(t *testing.T, f *fixture, old string) *httpResult {
			next := requirePair(t, f.viaRefresh(t, old))
			requirePair(t, f.viaRefresh(t, next.RefreshToken))
			return result(f.viaRefresh(t, old))
		}},
		{"a 33rd replay", 10 * time.Second, func(t *testing.T, f *fixture, old string) *httpResult {
			requirePair(t, f.viaRefresh(t, old))
			for range 32 {
				requirePair(t, f.viaRefresh(t, old))
			}
			return result(f.viaRefresh(t, old))
		}},
		{"no grace", 0, func(t *testing.T, f *fixture, old string) *httpResult {
			requirePair(t, f.viaRefresh(t, old))
			return result(f.viaRefresh(t, old))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore, withCheckRevoked, withGrace(tc.grace))
			p := f.login(t, "alice")
			refreshEndpoints[1].refused(t, tc.present(t, f, p.RefreshToken).rec, "Invalid token")
			require.Len(t, f.events.of(passauth.EventRefreshReuse), 1, "the reuse is detected")
			assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p.AccessToken), "the session is revoked")
		})
	}
}

// httpResult wraps an answer so that a table can return it.
type httpResult struct{ rec *httptest.ResponseRecorder }

func result(rec *httptest.ResponseRecorder) *httpResult { return &httpResult{rec} }

// TestGraceConfig checks the bounds of Config.RefreshGrace.
func TestGraceConfig(t *testing.T) {
	t.Parallel()
	for name, mod := range map[string]func(*passauth.Config){
		"over a minute": func(c *passauth.Config) {
			c.Store, c.RefreshGrace = passauth.NewMemoryStore(), passauth.MaxRefreshGrace+time.Second
		},
		"negative":      func(c *passauth.Config) { c.Store, c.RefreshGrace = passauth.NewMemoryStore(), -time.Second },
		"without Store": withGrace(time.Second),
	} {
		_, err := passauth.NewTokenIssuer(testConfig(mod))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "RefreshGrace", name)
	}
	_, err := passauth.NewTokenIssuer(testConfig(withMemoryStore, withGrace(passauth.MaxRefreshGrace)))
	require.NoError(t, err)
}
