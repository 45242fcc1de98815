//go:build unix

package redisstore_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headroom is the memory a test server gets above what it uses when empty:
// room for a few thousand denylist records.
const headroom = 1 << 20

// limitMemory sets the server's maxmemory to what it uses now plus
// headroom.
func limitMemory(t *testing.T, c *redis.Client) {
	t.Helper()
	info, err := c.Info(t.Context(), "memory").Result()
	require.NoError(t, err)
	used, err := strconv.Atoi(infoValue(t, info, "used_memory"))
	require.NoError(t, err)
	require.NoError(t, c.ConfigSet(t.Context(), "maxmemory", strconv.Itoa(used+headroom)).Err())
}

// TestFullRedisFailsClosed fills a Redis that runs with noeviction, the
// policy CheckServer requires: once it is full, writes fail with an error
// matching ErrStoreUnavailable (logins and refreshes answer 503, and a
// revocation reports failure), and no record is dropped: an access token
// revoked before stays revoked.
func TestFullRedisFailsClosed(t *testing.T) {
	t.Parallel()
	srv := startRedis(t, "--maxmemory-policy", "noeviction")
	admin := srv.client()
	c := redis.NewClient(recommendedOptions(srv.addr))
	t.Cleanup(func() { _ = c.Close() })
	_, err := redisstore.CheckServer(t.Context(), c)
	require.NoError(t, err, "CheckServer accepts noeviction")

	store := redisstore.New(c)
	cfg := testConfig()
	cfg.Store = store
	cfg.CheckRevoked = true
	cfg.UserLimiter = redisstore.NewLimiter(c, passauth.Limit{Burst: 5, Interval: time.Minute})
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	revoked, err := iss.IssuePair(t.Context(), "victim")
	require.NoError(t, err)
	require.NoError(t, iss.Revoke(t.Context(), revoked.AccessToken))
	live, err := iss.IssuePair(t.Context(), "alice")
	require.NoError(t, err)

	limitMemory(t, admin)
	denied, lastErr := fill(t, store, 200_000)
	require.ErrorIs(t, lastErr, passauth.ErrStoreUnavailable, "the write that found Redis full")
	assert.Contains(t, lastErr.Error(), "OOM")
	t.Logf("Redis was full after %d denylist records", len(denied))

	info, err := admin.Info(t.Context(), "stats").Result()
	require.NoError(t, err)
	assert.Equal(t, "0", infoValue(t, info, "evicted_keys"))
	// Redis trims the buffers of idle clients soon after, which would make
	// room for a few writes more: keep it full, with the limit below what it
	// uses.
	info, err = admin.Info(t.Context(), "memory").Result()
	require.NoError(t, err)
	used, err := strconv.Atoi(infoValue(t, info, "used_memory"))
	require.NoError(t, err)
	require.NoError(t, admin.ConfigSet(t.Context(), "maxmemory", strconv.Itoa(used-headroom/4)).Err())
	for _, q := range denied {
		_, found, err := store.Denied(t.Context(), q)
		require.NoError(t, err)
		require.True(t, found, "record %+v dropped", q)
	}

	me := iss.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	me.ServeHTTP(rec, bearerRequest("/me", revoked.AccessToken))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "revoked access token on a full Redis")
	rec = httptest.NewRecorder()
	me.ServeHTTP(rec, bearerRequest("/me", live.AccessToken))
	assert.Equal(t, http.StatusOK, rec.Code, "live access token on a full Redis (reads still work)")

	_, err = iss.IssuePair(t.Context(), "bob")
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable, "login on a full Redis")
	require.ErrorIs(t, iss.Revoke(t.Context(), live.AccessToken), passauth.ErrStoreUnavailable, "revocation on a full Redis")
	rec = httptest.NewRecorder()
	iss.RefreshHandler(anyUser).ServeHTTP(rec, jsonRequest("/refresh", `{"refresh_token":"`+live.RefreshToken+`"}`))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "refresh on a full Redis")
	rec = httptest.NewRecorder()
	iss.TokenHandler(anyUser).ServeHTTP(rec, loginRequest("carol", "a password"))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "login through the limiter on a full Redis")
}

// TestEvictionDropsRevocations shows what CheckServer's refusal of an
// evicting policy protects against: with allkeys-lru, or volatile-lru
// (every record of the store expires, so "volatile" spares none), a client
// that writes enough records (each revocation is one) makes Redis drop
// earlier revocations without a word, and the access tokens they revoked
// are accepted again.
func TestEvictionDropsRevocations(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"allkeys-lru", "volatile-lru"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t, "--maxmemory-policy", policy)
			c := redis.NewClient(recommendedOptions(srv.addr))
			t.Cleanup(func() { _ = c.Close() })
			_, err := redisstore.CheckServer(t.Context(), c)
			require.ErrorContains(t, err, "maxmemory-policy is "+policy)

			store := redisstore.New(c)
			cfg := testConfig()
			cfg.Store = store
			cfg.CheckRevoked = true
			iss, err := passauth.NewTokenIssuer(cfg)
			require.NoError(t, err)
			const victims = 100
			tokens := make([]string, victims)
			for i := range tokens {
				pair, err := iss.IssuePair(t.Context(), "victim-"+strconv.Itoa(i))
				require.NoError(t, err)
				require.NoError(t, iss.Revoke(t.Context(), pair.AccessToken))
				tokens[i] = pair.AccessToken
			}

			limitMemory(t, srv.client())
			// Several times what fits: every write succeeds.
			denied, lastErr := fill(t, store, 60_000)
			require.NoError(t, lastErr)
			require.Len(t, denied, 60_000)

			accepted := 0
			for _, tok := range tokens {
				if _, err := iss.VerifyAccess(t.Context(), tok); err == nil {
					accepted++
				}
			}
			t.Logf("%s: %d of %d revoked access tokens accepted again", policy, accepted, victims)
			assert.Positive(t, accepted, "revoked access tokens accepted again after eviction")
		})
	}
}

// fill denies random access tokens of random subjects with four writers
// until a write fails or max tokens are denied, and returns the queries
// that find the denials and the error, if any. It stops after a minute at
// most.
func fill(t *testing.T, s *redisstore.Store, max int) (denied []passauth.DenyQuery, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var (
		mu      sync.Mutex
		n       atomic.Int64
		firstEr error
		wg      sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for n.Add(1) <= int64(max) && ctx.Err() == nil {
				q := passauth.DenyQuery{Subject: rand.Text(), Token: rand.Text()}
				err := s.Deny(ctx, passauth.Denial{Subject: q.Subject, Token: q.Token, At: time.Now(), Expires: time.Now().Add(time.Hour)})
				mu.Lock()
				if err != nil {
					if firstEr == nil {
						firstEr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				denied = append(denied, q)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstEr == nil && len(denied) < max {
		t.Fatalf("filling Redis timed out after %d records", len(denied))
	}
	return denied, firstEr
}
