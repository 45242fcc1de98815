package passauth_test

// Refresh-token rotation with a Store: reuse detection, family revocation,
// the concurrency guarantee, the stateless fallback and Config.SessionTTL,
// through both endpoints and TokenIssuer.Refresh.

import (
	"context"
	"encoding/json"
	"errors"
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

func TestRotationReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	// ErrTokenReused is its own sentinel; the refresh error that carries it
	// also matches ErrTokenInvalid, which the wire answers reflect.
	assert.NotErrorIs(t, passauth.ErrTokenReused, passauth.ErrTokenInvalid)

	for _, first := range rotationWays {
		for _, again := range rotationWays {
			t.Run(first.name+"Then"+again.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, withMemoryStore, withCheckRevoked)
				ctx := context.Background()
				login := f.clock.Now()
				p0, err := f.iss.IssuePair(ctx, "alice", passauth.WithScope("me"), passauth.WithClaims(map[string]any{"tenant": "acme"}))
				require.NoError(t, err)
				sid := f.sessionID(t, p0.RefreshToken)

				f.clock.Advance(time.Minute)
				p1 := first.next(f, t, p0.RefreshToken)
				assert.NotEqual(t, p0.RefreshToken, p1.RefreshToken)
				assert.Equal(t, "me", p1.Scope, "the scope carries over")
				ac, err := f.iss.VerifyAccess(ctx, p1.AccessToken)
				require.NoError(t, err)
				rc, err := f.iss.VerifyRefresh(ctx, p1.RefreshToken)
				require.NoError(t, err)
				for _, c := range []*passauth.Claims{ac, rc} {
					assert.Equal(t, sid, c.SessionID, "rotation keeps the session")
					assert.True(t, login.Equal(c.AuthTime), "auth_time is the login time")
					var extra struct{ Tenant string }
					require.NoError(t, c.Decode(&extra))
					assert.Equal(t, "acme", extra.Tenant, "application claims carry over")
				}
				assert.Equal(t, http.StatusNoContent, f.authStatus(t, p1.AccessToken))
				assert.Empty(t, f.events.of(passauth.EventRefreshReuse))

				f.clock.Advance(time.Minute)
				again.refused(f, t, p0.RefreshToken, passauth.ErrTokenReused)

				// The family is revoked: the newest refresh token is dead
				// too, every way, and so are the access tokens. It was never
				// used: it is revoked, not reused.
				for _, w := range rotationWays {
					w.refused(f, t, p1.RefreshToken, passauth.ErrTokenInvalid)
				}
				assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p0.AccessToken))
				assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p1.AccessToken))

				// A second presentation of the stolen token is not a second
				// reuse: the session is already gone.
				again.refused(f, t, p0.RefreshToken, passauth.ErrTokenInvalid)
				f.events.assertNoTokens(t, p0.AccessToken, p0.RefreshToken, p1.AccessToken, p1.RefreshToken)
				assert.Equal(t, []passauth.Event{
					{Kind: passauth.EventRefresh, Subject: "alice", SessionID: sid},
					{Kind: passauth.EventRefreshReuse, Subject: "alice", SessionID: sid},
				}, f.events.take())
			})
		}
	}
}

// rotationWay is one of the ways to refresh a session: an endpoint of
// refreshEndpoints, or TokenIssuer.Refresh in code.
type rotationWay struct {
	name string
	// next refreshes and returns the next pair, whose access token has the
	// full AccessTTL; it fails t when the refresh is refused.
	next func(f *fixture, t testing.TB, refresh string) passauth.TokenPair
	// refused checks that refreshing is refused for want: ErrTokenReused,
	// ErrTokenExpired, or ErrTokenInvalid for a token that is neither.
	refused func(f *fixture, t testing.TB, refresh string, want error)
}

// rotationWays are the endpoints, then TokenIssuer.Refresh.
var rotationWays = append(rotationEndpointWays(), rotationWay{
	name: "Refresh",
	next: func(f *fixture, t testing.TB, refresh string) passauth.TokenPair {
		t.Helper()
		pair, err := f.iss.Refresh(context.Background(), refresh)
		require.NoError(t, err)
		assert.Equal(t, "bearer", pair.TokenType)
		assert.Equal(t, int64(testAccessTTL/time.Second), pair.ExpiresIn)
		require.NotEmpty(t, pair.AccessToken)
		require.NotEmpty(t, pair.RefreshToken)
		return pair
	},
	refused: func(f *fixture, t testing.TB, refresh string, want error) {
		t.Helper()
		_, err := f.iss.Refresh(context.Background(), refresh)
		require.ErrorIs(t, err, want)
		require.ErrorIs(t, err, passauth.ErrTokenInvalid)
		assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
		if !errors.Is(want, passauth.ErrTokenReused) {
			assert.NotErrorIs(t, err, passauth.ErrTokenReused)
		}
	},
})

// rotationEndpointWays are refreshEndpoints as rotationWays. Over HTTP a
// reused token is refused as "Invalid token", like any other bad token.
func rotationEndpointWays() []rotationWay {
	var ways []rotationWay
	for _, ep := range refreshEndpoints {
		ways = append(ways, rotationWay{
			name: ep.name,
			next: func(f *fixture, t testing.TB, refresh string) passauth.TokenPair {
				t.Helper()
				return requirePair(t, ep.call(f, t, refresh))
			},
			refused: func(f *fixture, t testing.TB, refresh string, want error) {
				t.Helper()
				desc := "Invalid token"
				if errors.Is(want, passauth.ErrTokenExpired) {
					desc = "Token expired"
				}
				ep.refused(t, ep.call(f, t, refresh), desc)
			},
		})
	}
	return ways
}

func TestRotationReuseEventCarriesClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore)
	p0 := f.login(t, "bob", "client_id", "app")
	requirePair(t, f.viaToken(t, p0.RefreshToken))
	f.viaToken(t, p0.RefreshToken)
	reuse := f.events.of(passauth.EventRefreshReuse)
	require.Len(t, reuse, 1)
	assert.Equal(t, "bob", reuse[0].Subject)
	assert.Equal(t, "app", reuse[0].ClientID)
}

func TestRotationChain(t *testing.T) {
	t.Parallel()
	for _, w := range rotationWays {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore, withCheckRevoked)
			login := f.clock.Now()
			pair := f.login(t, "alice")
			sid := f.sessionID(t, pair.RefreshToken)
			seen := map[string]bool{pair.RefreshToken: true}
			for i := range 5 {
				f.clock.Advance(time.Hour)
				pair = w.next(f, t, pair.RefreshToken)
				require.False(t, seen[pair.RefreshToken], "refresh #%d returned a token seen before", i)
				seen[pair.RefreshToken] = true
				c, err := f.iss.VerifyRefresh(context.Background(), pair.RefreshToken)
				require.NoError(t, err)
				assert.Equal(t, sid, c.SessionID)
				assert.True(t, login.Equal(c.AuthTime), "auth_time is the login time")
				assert.Equal(t, "me items", pair.Scope)
				assert.Equal(t, http.StatusNoContent, f.authStatus(t, pair.AccessToken))
			}
			assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
		})
	}
}

func TestRotationConcurrentRefreshExactlyOneWins(t *testing.T) {
	t.Parallel()
	const n = 50
	f := newFixture(t, withMemoryStore)
	pair := f.login(t, "alice")
	srv := httptest.NewServer(f.refresh)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	body, err := json.Marshal(map[string]string{"refresh_token": pair.RefreshToken})
	require.NoError(t, err)

	statuses := make(chan int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(string(body)))
			if err != nil {
				statuses <- -1
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			_ = resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)

	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: n - 1}, count)
	// The losers presented a consumed token: reuse, reported once, and the
	// family, the winner's new token included, is revoked.
	assert.Len(t, f.events.of(passauth.EventRefreshReuse), 1)
}

func TestRotationStatelessRefreshIsRepeatable(t *testing.T) {
	t.Parallel()
	for _, w := range rotationWays {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t) // no Store
			pair := f.login(t, "alice")
			// The seed's behaviour: a refresh token is good until it expires.
			for range 2 {
				f.clock.Advance(time.Minute)
				next := w.next(f, t, pair.RefreshToken)
				c, err := f.iss.VerifyAccess(context.Background(), next.AccessToken)
				require.NoError(t, err)
				assert.Equal(t, "alice", c.Subject)
			}
			// An access token is not a refresh token, stateless or not.
			w.refused(f, t, pair.AccessToken, passauth.ErrTokenInvalid)
			assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
		})
	}
}

func TestRotationStatelessCannotRevoke(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // no Store
	pair := f.login(t, "alice")
	ctx := context.Background()

	err := f.iss.Revoke(ctx, pair.RefreshToken)
	require.Error(t, err)
	assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
	require.Error(t, f.iss.RevokeSubject(ctx, "alice"))

	rec := do(t, f.revoke, postForm("token", pair.RefreshToken))
	assertError(t, rec, http.StatusBadRequest, passauth.CodeUnsupportedTokenType, "")
	requirePair(t, f.viaToken(t, pair.RefreshToken))
	assert.Empty(t, f.events.of(passauth.EventRevoke))
}

func TestRotationSessionTTLCapsTokens(t *testing.T) {
	t.Parallel()
	const sessionTTL = 72 * time.Hour
	// Each step advances the clock (from the login), refreshes, and checks
	// when the new tokens expire, as offsets from the login.
	steps := []struct {
		at                    time.Duration
		accessExp, refreshExp time.Duration
	}{
		{at: 20 * time.Hour, accessExp: 20*time.Hour + testAccessTTL, refreshExp: 20*time.Hour + testRefreshTTL},
		{at: 40 * time.Hour, accessExp: 40*time.Hour + testAccessTTL, refreshExp: 40*time.Hour + testRefreshTTL},
		{at: 60 * time.Hour, accessExp: 60*time.Hour + testAccessTTL, refreshExp: sessionTTL},
		{at: sessionTTL - 10*time.Minute, accessExp: sessionTTL, refreshExp: sessionTTL},
	}
	for _, store := range []struct {
		name string
		mods []func(*passauth.Config)
	}{{"MemoryStore", []func(*passauth.Config){withMemoryStore}}, {"Stateless", nil}} {
		for _, ep := range refreshEndpoints {
			t.Run(store.name+"/"+ep.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, append(store.mods, func(c *passauth.Config) { c.SessionTTL = sessionTTL })...)
				login := f.clock.Now()
				pair := f.login(t, "alice")
				ctx := context.Background()
				for _, s := range steps {
					f.clock.Set(login.Add(s.at))
					pair = decodeCappedPair(t, ep.call(f, t, pair.RefreshToken))
					now := f.clock.Now()
					assert.Equal(t, int64(login.Add(s.accessExp).Sub(now)/time.Second), pair.ExpiresIn, "at %v", s.at)
					ac, err := f.iss.VerifyAccess(ctx, pair.AccessToken)
					require.NoError(t, err)
					assert.True(t, login.Add(s.accessExp).Equal(ac.ExpiresAt), "access exp at %v", s.at)
					rc, err := f.iss.VerifyRefresh(ctx, pair.RefreshToken)
					require.NoError(t, err)
					assert.True(t, login.Add(s.refreshExp).Equal(rc.ExpiresAt), "refresh exp at %v", s.at)
					assert.True(t, login.Equal(rc.AuthTime))
				}
				f.clock.Advance(10 * time.Minute) // the session's end
				for _, e := range refreshEndpoints {
					e.refused(t, e.call(f, t, pair.RefreshToken), "Token expired")
				}
			})
		}
	}
}

// decodeCappedPair decodes a token answer without requirePair's check that
// expires_in is the full AccessTTL.
func decodeCappedPair(t testing.TB, rec *httptest.ResponseRecorder) passauth.TokenPair {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	assertTokenHeaders(t, rec)
	var pair passauth.TokenPair
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &pair))
	require.NotEmpty(t, pair.AccessToken)
	require.NotEmpty(t, pair.RefreshToken)
	return pair
}

func TestRotationConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*passauth.Config)
		wantErr string // a field name the error must mention; "" means valid
	}{
		{"SessionTTLShorterThanRefreshTTL", func(c *passauth.Config) { c.SessionTTL = testRefreshTTL - time.Second }, "SessionTTL"},
		{"SessionTTLNegative", func(c *passauth.Config) { c.SessionTTL = -time.Hour }, "SessionTTL"},
		{"SessionTTLEqualsRefreshTTL", func(c *passauth.Config) { c.SessionTTL = testRefreshTTL }, ""},
		{"SessionTTLWithoutStore", func(c *passauth.Config) { c.SessionTTL = 2 * testRefreshTTL; c.Store = nil }, ""},
		{"CheckRevokedWithoutStore", func(c *passauth.Config) { c.CheckRevoked = true; c.Store = nil }, "CheckRevoked"},
		{"CheckRevokedWithStore", func(c *passauth.Config) { c.CheckRevoked = true }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			iss, err := passauth.NewTokenIssuer(testConfig(withMemoryStore, tc.edit))
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, iss)
				return
			}
			require.Error(t, err)
			assert.Nil(t, iss)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}
