package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
	"github.com/passauth/passauth/redisstore"
	"github.com/passauth/passauth/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestLimiter(t *testing.T) {
	c := newClient(t)
	storetest.TestLimiter(t, func(t *testing.T, limit passauth.Limit) passauth.Limiter {
		return redisstore.NewLimiter(c, limit, redisstore.WithPrefix(newPrefix(t, c)))
	})
}

// TestLimiterKeyLayout checks the record a Limiter leaves in Redis against
// the layout the package documents: one string per key, the theoretical
// arrival time in microseconds of the server's clock, expiring within
// Burst×Interval, and gone once the only attempt is forgiven.
func TestLimiterKeyLayout(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	limit := passauth.Limit{Burst: 3, Interval: time.Minute}
	l := redisstore.NewLimiter(c, limit, redisstore.WithPrefix(prefix))

	key := "user:" + strings.ToLower(rand.Text())
	redisKey := redisstore.LimiterKey(prefix, key)
	before := c.Time(ctx).Val()
	for range 2 {
		wait, err := l.Allow(ctx, key)
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	after := c.Time(ctx).Val()

	assert.Equal(t, "string", c.Type(ctx, redisKey).Val(), "limiter key type")
	tat, err := strconv.ParseInt(c.Get(ctx, redisKey).Val(), 10, 64)
	require.NoError(t, err, "limiter record is not decimal microseconds")
	assert.GreaterOrEqual(t, tat, before.Add(2*limit.Interval).UnixMicro(), "TAT after two attempts")
	assert.LessOrEqual(t, tat, after.Add(2*limit.Interval).UnixMicro(), "TAT after two attempts")
	assertTTL(t, c, redisKey, time.Duration(limit.Burst)*limit.Interval)
	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.Equal(t, []string{redisKey}, keys, "keys under the prefix")

	require.NoError(t, l.Forgive(ctx, key))
	assertTTL(t, c, redisKey, limit.Interval)
	require.NoError(t, l.Forgive(ctx, key))
	assert.Zero(t, c.Exists(ctx, redisKey).Val(), "record left after forgiving every attempt")
}

// TestLimiterDefaultPrefix checks that without WithPrefix the keys start
// with DefaultPrefix.
func TestLimiterDefaultPrefix(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	key := "addr:limiter-prefix-test-" + rand.Text()
	redisKey := redisstore.LimiterKey(redisstore.DefaultPrefix, key)
	t.Cleanup(func() { c.Del(context.Background(), redisKey) })

	l := redisstore.NewLimiter(c, passauth.Limit{Burst: 1, Interval: time.Minute})
	wait, err := l.Allow(t.Context(), key)
	require.NoError(t, err)
	require.Zero(t, wait)
	assert.Equal(t, int64(1), c.Exists(t.Context(), redisKey).Val(), "record under the default prefix")
}

// TestLimiterNormalises checks that a Burst below 1 is taken as 1 and an
// Interval below a millisecond as a millisecond, as NewMemoryLimiter does.
func TestLimiterNormalises(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	l := redisstore.NewLimiter(c, passauth.Limit{Burst: -3, Interval: time.Hour}, redisstore.WithPrefix(newPrefix(t, c)))
	key := rand.Text()
	wait, err := l.Allow(t.Context(), key)
	require.NoError(t, err)
	assert.Zero(t, wait, "first attempt with a negative Burst")
	wait, err = l.Allow(t.Context(), key)
	require.NoError(t, err)
	assert.True(t, wait > 0 && wait <= time.Hour, "second attempt with a negative Burst: wait %v", wait)

	prefix := newPrefix(t, c)
	l = redisstore.NewLimiter(c, passauth.Limit{Burst: 1, Interval: 0}, redisstore.WithPrefix(prefix))
	key = rand.Text()
	wait, err = l.Allow(t.Context(), key)
	require.NoError(t, err)
	require.Zero(t, wait)
	// An Interval of zero would leave the record expiring at once (or fail
	// SET … PX 0); a millisecond leaves a TTL of at most a millisecond.
	pttl := c.PTTL(t.Context(), redisstore.LimiterKey(prefix, key)).Val()
	assert.LessOrEqual(t, pttl, time.Millisecond, "TTL with an Interval of zero")
}

// TestLimiterMalformedRecord checks that a record this package did not
// write is an error, not an open door or a panic.
func TestLimiterMalformedRecord(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	l := redisstore.NewLimiter(c, passauth.Limit{Burst: 1, Interval: time.Minute}, redisstore.WithPrefix(prefix))
	key := rand.Text()
	require.NoError(t, c.Set(t.Context(), redisstore.LimiterKey(prefix, key), "not a number", time.Minute).Err())

	_, err := l.Allow(t.Context(), key)
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	require.ErrorIs(t, l.Forgive(t.Context(), key), passauth.ErrStoreUnavailable)
}

// TestLimiterRedisDown checks that with Redis unreachable, or reachable but
// silent, Allow and Forgive fail with an error matching ErrStoreUnavailable,
// and that the token handler then answers 503 without looking the user up.
// It needs no Redis server.
func TestLimiterRedisDown(t *testing.T) {
	t.Parallel()
	servers := []struct {
		name string
		addr string
	}{
		{"connection refused", nettest.ClosedAddr(t)},
		{"no answer", nettest.SilentAddr(t)},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			c := redis.NewClient(&redis.Options{
				Addr:          srv.addr,
				DialTimeout:   200 * time.Millisecond,
				ReadTimeout:   200 * time.Millisecond,
				WriteTimeout:  200 * time.Millisecond,
				MaxRetries:    -1,
				DialerRetries: 1,
			})
			t.Cleanup(func() { _ = c.Close() })
			l := redisstore.NewLimiter(c, passauth.Limit{Burst: 5, Interval: time.Minute})

			err := withinBound(t, func() error {
				_, err := l.Allow(context.Background(), "user:alice")
				return err
			})
			require.ErrorIs(t, err, passauth.ErrStoreUnavailable, "Allow")
			assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "), "error text %q", err)
			err = withinBound(t, func() error { return l.Forgive(context.Background(), "user:alice") })
			require.ErrorIs(t, err, passauth.ErrStoreUnavailable, "Forgive")

			for _, field := range []string{"UserLimiter", "AddrLimiter"} {
				cfg := testConfig()
				if field == "UserLimiter" {
					cfg.UserLimiter = l
				} else {
					cfg.AddrLimiter = l
				}
				iss, err := passauth.NewTokenIssuer(cfg)
				require.NoError(t, err)
				var lookups atomic.Int64
				users := passauth.UserLookupFunc(func(context.Context, string) (passauth.User, bool, error) {
					lookups.Add(1)
					return passauth.User{}, false, nil
				})
				rec := httptest.NewRecorder()
				iss.TokenHandler(users).ServeHTTP(rec, loginRequest("alice", "a password"))
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "login with the %s down", field)
				assert.Equal(t, passauth.CodeTemporarilyUnavailable, errorCode(t, rec), "login with the %s down", field)
				assert.Zero(t, lookups.Load(), "lookups with the %s down", field)
			}
		})
	}
}

// TestLimiterAcrossIssuers checks what the Limiter is for: two issuers, as
// two replicas of a service, sharing one Redis, count the same failures, so
// that a guesser gains nothing by alternating between them, and successes on
// one leave the budget whole on the other.
func TestLimiterAcrossIssuers(t *testing.T) {
	t.Parallel()
	const password = "alice's password"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	var lookups atomic.Int64
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		lookups.Add(1)
		if strings.ToLower(name) != "alice" {
			return passauth.User{}, false, nil
		}
		return passauth.User{Username: "alice", PasswordHash: string(hash)}, true, nil
	})
	c := newClient(t)
	prefix := newPrefix(t, c)
	limit := passauth.Limit{Burst: 3, Interval: time.Hour}
	newHandler := func() http.Handler {
		cfg := testConfig()
		// Each replica has its own client and its own Limiter value; only
		// Redis is shared.
		cfg.UserLimiter = redisstore.NewLimiter(newClient(t), limit, redisstore.WithPrefix(prefix))
		iss, err := passauth.NewTokenIssuer(cfg)
		require.NoError(t, err)
		return iss.TokenHandler(users)
	}
	a, b := newHandler(), newHandler()
	login := func(h http.Handler, user, pw string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, loginRequest(user, pw))
		return rec
	}

	// Successes on A use none of the budget on B.
	for range 2 * limit.Burst {
		require.Equal(t, http.StatusOK, login(a, "alice", password).Code, "correct login on A")
	}
	// Failures alternate between the replicas; together they use it up.
	for i := range limit.Burst {
		h, name := a, "A"
		if i%2 == 1 {
			h, name = b, "B"
		}
		rec := login(h, "Alice", "wrong password "+strconv.Itoa(i))
		require.Equal(t, http.StatusBadRequest, rec.Code, "failure #%d on %s", i+1, name)
		assert.Equal(t, passauth.CodeInvalidGrant, errorCode(t, rec))
	}

	seen := lookups.Load()
	for _, tc := range []struct {
		name string
		h    http.Handler
		pw   string
	}{
		{"wrong password on A", a, "another wrong password"},
		{"wrong password on B", b, "another wrong password"},
		{"correct password on A", a, password},
		{"correct password on B", b, password},
	} {
		rec := login(tc.h, "alice", tc.pw)
		require.Equal(t, http.StatusTooManyRequests, rec.Code, tc.name)
		assert.Equal(t, passauth.CodeSlowDown, errorCode(t, rec), tc.name)
		secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		require.NoError(t, err, "%s: Retry-After is not whole seconds", tc.name)
		assert.True(t, secs >= 1 && secs <= int(limit.Interval/time.Second), "%s: Retry-After %d", tc.name, secs)
	}
	assert.Equal(t, seen, lookups.Load(), "lookups for throttled logins")

	// Another user name is not affected.
	assert.Equal(t, http.StatusBadRequest, login(b, "bob", password).Code, "another user on B")
}

// loginRequest is a password-grant request to the token endpoint.
func loginRequest(user, password string) *http.Request {
	return formRequest("/token", url.Values{"username": {user}, "password": {password}}.Encode())
}

// errorCode returns the "error" member of a JSON error body.
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), "error body is not JSON")
	return e.Error
}
