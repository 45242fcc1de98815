package main

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// graceClock is a clock the tests move by hand.
type graceClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *graceClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *graceClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newGraceServer serves the demo with REFRESH_GRACE=10s on a memory store,
// with passauth's clock on clock.
func newGraceServer(t *testing.T, clock *graceClock) *httptest.Server {
	t.Helper()
	cfg := testConfig()
	cfg.RefreshGrace = 10 * time.Second
	cfg.Now = clock.Now
	iss, err := passauth.NewTokenIssuer(demoConfig(cfg, passauth.NewMemoryStore(), slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	h, err := newHandler(iss, newTestAccounts(t), testSwaggerUI)
	require.NoError(t, err)
	return serve(t, h)
}

// jti returns the "jti" of a token, read without verifying it.
func jti(t *testing.T, token string) string {
	t.Helper()
	return unverifiedClaim(t, token, "jti")
}

// unverifiedClaim returns the string claim name of a token, read without
// verifying it; the test fails when it is missing or empty.
func unverifiedClaim(t *testing.T, token, name string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	v, _ := claims[name].(string)
	require.NotEmpty(t, v, "the token's %s", name)
	return v
}

// TestGraceTwoTabs: two tabs hold one refresh token; one refreshes, then
// the other. The second gets the session's current refresh token, the one
// the first got, and the session goes on.
func TestGraceTwoTabs(t *testing.T) {
	t.Parallel()
	clock := &graceClock{now: time.Now()}
	srv := newGraceServer(t, clock)
	_, r1 := loginOK(t, srv)

	accessA, r2 := tokens(t, refresh(t, srv, r1))
	clock.Advance(2 * time.Second)
	accessB, r2b := tokens(t, refresh(t, srv, r1))
	assert.Equal(t, jti(t, r2), jti(t, r2b), "the second tab got the current refresh token, not a branch")
	assert.NotEqual(t, jti(t, accessA), jti(t, accessB), "each answer has a new access token")
	for _, access := range []string{accessA, accessB} {
		assert.Equal(t, http.StatusOK, getMe(t, srv, access).status)
	}
	_, r3 := tokens(t, refresh(t, srv, r2b))
	assert.NotEqual(t, jti(t, r2), jti(t, r3))
}

// TestGraceLostAnswer: the answer to a refresh is lost; the client sends
// the same request again and gets the refresh token it missed.
func TestGraceLostAnswer(t *testing.T) {
	t.Parallel()
	clock := &graceClock{now: time.Now()}
	srv := newGraceServer(t, clock)
	_, r1 := loginOK(t, srv)
	lost := refresh(t, srv, r1) // the client never reads this
	require.Equal(t, http.StatusOK, lost.status)

	clock.Advance(time.Second)
	access, r2 := tokens(t, refresh(t, srv, r1))
	assert.Equal(t, jti(t, lost.body["refresh_token"].(string)), jti(t, r2), "the retry carries the lost answer's refresh token ID")
	assert.Equal(t, http.StatusOK, getMe(t, srv, access).status)
	tokens(t, refresh(t, srv, r2))
	assert.Len(t, sessionsOf(t, srv, access), 1, "one session, no branch")
}

// TestGraceParallel: 20 requests refresh one token at once. All succeed,
// all carry one refresh token ID, and the session goes on from it.
func TestGraceParallel(t *testing.T) {
	t.Parallel()
	clock := &graceClock{now: time.Now()}
	srv := newGraceServer(t, clock)
	_, r1 := loginOK(t, srv)

	const n = 20
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = refresh(t, srv, r1) })
	}
	wg.Wait()
	ids := map[string]bool{}
	var next string
	for i, res := range results {
		require.Equal(t, http.StatusOK, res.status, "refresh %d: %s", i, res.raw)
		next = res.body["refresh_token"].(string)
		ids[jti(t, next)] = true
	}
	assert.Len(t, ids, 1, "every answer carries one refresh token ID")
	access, _ := tokens(t, refresh(t, srv, next))
	assert.Len(t, sessionsOf(t, srv, access), 1)
}

// TestGraceThief: a copy of a refresh token presented after the window,
// or two generations back, is reuse and ends the session.
func TestGraceThief(t *testing.T) {
	t.Parallel()
	for name, steal := range map[string]func(t *testing.T, srv *httptest.Server, clock *graceClock, r1 string) (current string){
		"after the window": func(t *testing.T, srv *httptest.Server, clock *graceClock, r1 string) string {
			_, r2 := tokens(t, refresh(t, srv, r1))
			clock.Advance(11 * time.Second)
			return r2
		},
		"two generations back": func(t *testing.T, srv *httptest.Server, clock *graceClock, r1 string) string {
			_, r2 := tokens(t, refresh(t, srv, r1))
			_, r3 := tokens(t, refresh(t, srv, r2))
			return r3
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := &graceClock{now: time.Now()}
			srv := newGraceServer(t, clock)
			_, r1 := loginOK(t, srv)
			current := steal(t, srv, clock, r1)
			res := refresh(t, srv, r1)
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, http.StatusUnauthorized, refresh(t, srv, current).status, "the session was revoked")
		})
	}
}
