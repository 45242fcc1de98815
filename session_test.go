package passauth_test

// Sessions beyond rotation and revocation: starting one, at a login or with
// IssuePair, what a refresh carries over, and what one refresh costs.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestSessionStartRefusedByStore checks that a login and IssuePair fail
// closed when the Store cannot record the new session: it is down, or it
// answers the creation of a family with anything but RotateOK.
func TestSessionStartRefusedByStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		store func() *flakyStore
	}{
		{"down", downStore},
		{passauth.RotateRevoked.String(), func() *flakyStore {
			s := newFlakyStore()
			s.create = passauth.RotateRevoked
			return s
		}},
		{passauth.RotateReused.String(), func() *flakyStore {
			s := newFlakyStore()
			s.create = passauth.RotateReused
			return s
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(tc.store()))
			rec := do(t, f.token, postForm("username", "alice", "password", alicePassword))
			assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
			assert.Empty(t, f.events.of(passauth.EventLoginSucceeded))

			_, err := f.iss.IssuePair(context.Background(), "alice")
			require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
			assert.NotErrorIs(t, err, passauth.ErrTokenInvalid)
			if tc.name == "down" {
				require.ErrorIs(t, err, errStoreDown, "the store's error stays in the chain for the application's logs")
			}
		})
	}
}

// BenchmarkRefresh measures one refresh: verify the refresh token, issue the
// next pair and, with a store, check the denylist and rotate atomically.
// Compare the sub-benchmarks in one run; the Redis store's figure is the
// redisstore module's BenchmarkRefreshRedis.
// TestRefreshKeepsClaimsExactly checks that a refresh copies application
// claims byte for byte (RFC 7519 §4.3): integers beyond 2^53, which a
// float64 cannot hold, nested objects and escaped strings come back as the
// token first carried them, through every way to refresh and through two
// generations.
func TestRefreshKeepsClaimsExactly(t *testing.T) {
	t.Parallel()
	claims := map[string]any{
		"uid":    uint64(18446744073709551615), // 2^64-1
		"tenant": int64(9007199254740993),      // 2^53+1
		"org":    json.RawMessage(`{"id":12345678901234567891,"tags":["a","b"]}`),
		"name":   "J\u00f6rg \"the <admin>\"",
		"ratio":  json.RawMessage(`0.1000000000000000055511151231257827`),
	}
	for _, way := range []struct {
		name    string
		refresh func(f *fixture, token string) passauth.TokenPair
	}{
		{"Refresh", func(f *fixture, token string) passauth.TokenPair {
			p, err := f.iss.Refresh(context.Background(), token)
			require.NoError(t, err)
			return p
		}},
		{"TokenHandler", func(f *fixture, token string) passauth.TokenPair { return requirePair(t, f.viaToken(t, token)) }},
		{"RefreshHandler", func(f *fixture, token string) passauth.TokenPair { return requirePair(t, f.viaRefresh(t, token)) }},
	} {
		t.Run(way.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore)
			first, err := f.iss.IssuePair(context.Background(), "alice", passauth.WithClaims(claims))
			require.NoError(t, err)
			want := rawClaims(t, first.AccessToken)
			second := way.refresh(f, first.RefreshToken)
			third := way.refresh(f, second.RefreshToken)
			for _, tok := range []string{first.RefreshToken, second.AccessToken, second.RefreshToken, third.AccessToken, third.RefreshToken} {
				got := rawClaims(t, tok)
				for name := range claims {
					assert.Equal(t, string(want[name]), string(got[name]), "claim %q", name)
				}
			}
			var typed struct {
				UID    uint64 `json:"uid"`
				Tenant int64  `json:"tenant"`
			}
			c, err := f.iss.VerifyAccess(context.Background(), third.AccessToken)
			require.NoError(t, err)
			require.NoError(t, c.Decode(&typed))
			assert.Equal(t, uint64(18446744073709551615), typed.UID)
			assert.Equal(t, int64(9007199254740993), typed.Tenant)
		})
	}
}

// rawClaims returns the members of a token's claims set as raw JSON.
func rawClaims(t *testing.T, token string) map[string]json.RawMessage {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name string
		mods []func(*passauth.Config)
	}{
		{"stateless", nil},
		{"memory", []func(*passauth.Config){withMemoryStore}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			iss := newIssuer(b, bc.mods...)
			ctx := context.Background()
			pair, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me items"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				// With a store the presented token is consumed: go on with
				// the new one (stateless, reusing one token would do too).
				if pair, err = iss.Refresh(ctx, pair.RefreshToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestStoreCallsGetLeewayAndDeadline checks what the store is given: a
// family kept until its refresh token's expiry plus Config.Leeway (during
// which the token still verifies, so the rotation must find it), and a
// context whose deadline is Config.StoreTimeout away on every call, of which
// each operation makes exactly one.
func TestStoreCallsGetLeewayAndDeadline(t *testing.T) {
	t.Parallel()
	store := &recordingStore{Store: passauth.NewMemoryStore()}
	f := newFixture(t, withStore(store), withCheckRevoked, func(c *passauth.Config) {
		c.Leeway = 30 * time.Second
		c.StoreTimeout = 250 * time.Millisecond
	})
	ctx := context.Background()
	p := f.login(t, "alice")
	next := requirePair(t, f.viaRefresh(t, p.RefreshToken))
	require.Equal(t, http.StatusNoContent, f.authStatus(t, next.AccessToken))
	assertRevocationOK(t, do(t, f.revoke, postForm("token", next.AccessToken)))
	require.NoError(t, f.iss.RevokeSubject(ctx, "alice"))

	for i, tok := range []string{p.RefreshToken, next.RefreshToken} {
		c, err := f.iss.VerifyRefresh(ctx, tok)
		require.NoError(t, err)
		assert.Equal(t, c.ExpiresAt.Add(30*time.Second), store.expires[i], "family expiry of rotation %d", i)
	}
	calls := store.deadlines
	require.Len(t, calls, 5, "one store call each: login, refresh, protected request, revocation, RevokeSubject")
	for i, d := range calls {
		assert.Positive(t, d, "call %d has no deadline", i)
		assert.LessOrEqual(t, d, 250*time.Millisecond, "call %d", i)
	}
}

// recordingStore is a Store that records the expiry of every rotation and
// how far off each call's deadline was.
type recordingStore struct {
	passauth.Store
	mu        sync.Mutex
	expires   []time.Time
	deadlines []time.Duration // 0 when a call had none
}

func (s *recordingStore) record(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var left time.Duration
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	s.deadlines = append(s.deadlines, left)
}

func (s *recordingStore) Rotate(ctx context.Context, r passauth.Rotation) (passauth.Rotated, error) {
	s.record(ctx)
	s.mu.Lock()
	s.expires = append(s.expires, r.KeepUntil)
	s.mu.Unlock()
	return s.Store.Rotate(ctx, r)
}

func (s *recordingStore) RevokeSession(ctx context.Context, d passauth.Denial) error {
	s.record(ctx)
	return s.Store.RevokeSession(ctx, d)
}

func (s *recordingStore) Deny(ctx context.Context, d passauth.Denial) error {
	s.record(ctx)
	return s.Store.Deny(ctx, d)
}

func (s *recordingStore) Denied(ctx context.Context, q passauth.DenyQuery) (time.Time, bool, error) {
	s.record(ctx)
	return s.Store.Denied(ctx, q)
}

// TestStoreTimeoutBoundsEveryWait runs every operation against a store and
// a limiter that never answer: each fails closed, as a store failure, once
// Config.StoreTimeout has passed, instead of waiting as long as the
// request's context allows (here, forever).
func TestStoreTimeoutBoundsEveryWait(t *testing.T) {
	t.Parallel()
	live := newFixture(t, withMemoryStore)
	p := live.login(t, "alice")
	hung := &hungStore{}
	f := newFixture(t, withStore(hung), withCheckRevoked, func(c *passauth.Config) {
		c.StoreTimeout = 20 * time.Millisecond
		c.UserLimiter = hung
	})
	ctx := context.Background()
	_, issueErr := f.iss.IssuePair(ctx, "alice")
	_, verifyErr := f.iss.VerifyAccess(ctx, p.AccessToken)
	_, refreshErr := f.iss.Refresh(ctx, p.RefreshToken)
	for name, err := range map[string]error{
		"IssuePair":     issueErr,
		"VerifyAccess":  verifyErr,
		"Refresh":       refreshErr,
		"Revoke":        f.iss.Revoke(ctx, p.RefreshToken),
		"RevokeSubject": f.iss.RevokeSubject(ctx, "alice"),
	} {
		require.ErrorIs(t, err, passauth.ErrStoreUnavailable, name)
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
	}
	rec := do(t, f.token, postForm("username", "alice", "password", alicePassword))
	assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
	assert.Positive(t, hung.calls.Load())
}

// hungStore is a Store and a Limiter that never answer: every call waits
// for its context to end.
type hungStore struct{ calls atomic.Int64 }

func (s *hungStore) wait(ctx context.Context) error {
	s.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

func (s *hungStore) Rotate(ctx context.Context, _ passauth.Rotation) (passauth.Rotated, error) {
	return passauth.Rotated{}, s.wait(ctx)
}
func (s *hungStore) RevokeSession(ctx context.Context, _ passauth.Denial) error { return s.wait(ctx) }
func (s *hungStore) Deny(ctx context.Context, _ passauth.Denial) error          { return s.wait(ctx) }
func (s *hungStore) Denied(ctx context.Context, _ passauth.DenyQuery) (time.Time, bool, error) {
	return time.Time{}, false, s.wait(ctx)
}
func (s *hungStore) Allow(ctx context.Context, _ string) (time.Duration, error) {
	return 0, s.wait(ctx)
}
func (s *hungStore) Forgive(ctx context.Context, _ string) error { return s.wait(ctx) }

// TestRefreshWithinLeewayAfterExpiry: a refresh token presented after its
// exp but within Config.Leeway still verifies, so its family must still be
// in the store and the refresh succeeds; past the leeway it is expired
// (ErrTokenExpired), not unknown. It runs on the real clock, by which a
// MemoryStore expires its records.
func TestRefreshWithinLeewayAfterExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	realClock := func(leeway time.Duration) func(*passauth.Config) {
		return func(c *passauth.Config) {
			c.Now, c.Leeway = nil, leeway
			c.AccessTTL, c.RefreshTTL = time.Second, 2*time.Second
			c.Store = passauth.NewMemoryStore()
		}
	}
	within, without := newIssuer(t, realClock(3*time.Second)), newIssuer(t, realClock(0))
	p, err := within.IssuePair(ctx, "alice")
	require.NoError(t, err)
	q, err := without.IssuePair(ctx, "alice")
	require.NoError(t, err)
	c, err := within.VerifyRefresh(ctx, p.RefreshToken)
	require.NoError(t, err)
	// exp is in whole seconds: past both tokens' exp, well within 3 s of it.
	time.Sleep(time.Until(c.ExpiresAt.Add(1200 * time.Millisecond)))

	next, err := within.Refresh(ctx, p.RefreshToken)
	require.NoError(t, err, "a refresh token within the leeway after its exp")
	_, err = within.VerifyRefresh(ctx, next.RefreshToken)
	assert.NoError(t, err)
	_, err = without.Refresh(ctx, q.RefreshToken)
	assert.ErrorIs(t, err, passauth.ErrTokenExpired, "no leeway: expired")
}
