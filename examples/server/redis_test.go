package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
	"github.com/passauth/passauth/redisstore"
)

// openRedisURL is openRedisStore for a REDIS_URL value, as run reads it.
func openRedisURL(t *testing.T, logger *slog.Logger, rawURL string, opts ...redisstore.Option) (passauth.Store, func() error, error) {
	t.Helper()
	ropts, err := redisOptions(rawURL)
	require.NoError(t, err)
	return openRedisStore(t.Context(), logger, ropts, opts...)
}

// redisURL returns a REDIS_URL for the Redis server under test, or skips
// the test when none is given.
func redisURL(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("PASSAUTH_REDIS_ADDR")
	if addr == "" {
		t.Skip("no Redis server: set PASSAUTH_REDIS_ADDR or run ../scripts/with-redis.sh go test ./...")
	}
	return "redis://" + addr + "/0"
}

// newPrefix returns a key prefix no other test uses, and deletes every key
// under it when the test ends: the tests may share a database with others,
// so they never flush it.
func newPrefix(t *testing.T, rawURL string) string {
	t.Helper()
	prefix := "passauth-demo-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(rawURL)
		require.NoError(t, err)
		c := redis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		keys, err := c.Keys(ctx, prefix+"*").Result()
		require.NoError(t, err)
		if len(keys) > 0 {
			require.NoError(t, c.Del(ctx, keys...).Err())
		}
	})
	return prefix
}

// newRedisServer serves the demo's handler for the users of accts on a
// store that openRedisStore opened for rawURL, with its own Redis client,
// under prefix.
func newRedisServer(t *testing.T, rawURL, prefix string, logger *slog.Logger, accts *accounts) (*httptest.Server, func() error) {
	t.Helper()
	store, closeStore, err := openRedisURL(t, slog.New(slog.DiscardHandler), rawURL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeStore() })
	return serve(t, newTestHandler(t, store, logger, accts)), closeStore
}

// TestTwoServersShareRedis runs two demo servers, each with its own Redis
// client, on one Redis: a refresh token rotated on one is reuse on the
// other, and a revocation made on one holds on the other.
func TestTwoServersShareRedis(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	for _, sc := range sessionScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			prefix := newPrefix(t, rawURL)
			accts := newTestAccounts(t)
			a, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.DiscardHandler), accts)
			b, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.DiscardHandler), accts)
			require.NotEqual(t, a.URL, b.URL)
			sc.test(t, a, b)
		})
	}
}

// TestRedisPrefixesSeparate checks that two servers with different key
// prefixes share nothing: a session of one is unknown to the other.
func TestRedisPrefixesSeparate(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	accts := newTestAccounts(t)
	a, _ := newRedisServer(t, rawURL, newPrefix(t, rawURL), slog.New(slog.DiscardHandler), accts)
	b, _ := newRedisServer(t, rawURL, newPrefix(t, rawURL), slog.New(slog.DiscardHandler), accts)

	_, refreshToken := loginOK(t, a)
	assert.Equal(t, http.StatusUnauthorized, refresh(t, b, refreshToken).status)
	assert.Equal(t, http.StatusOK, refresh(t, a, refreshToken).status)
}

// TestRedisReuseLogged checks that the server that detects reuse logs it.
func TestRedisReuseLogged(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	prefix := newPrefix(t, rawURL)
	var logsB syncBuffer
	accts := newTestAccounts(t)
	a, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.DiscardHandler), accts)
	b, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.NewTextHandler(&logsB, nil)), accts)

	_, refresh1 := loginOK(t, a)
	_, refresh2 := tokens(t, refresh(t, a, refresh1))
	require.Equal(t, http.StatusUnauthorized, refresh(t, b, refresh1).status)

	assert.Contains(t, logsB.String(), "kind=refresh_reuse subject=johndoe")
	assert.NotContains(t, logsB.String(), refresh1)
	assert.NotContains(t, logsB.String(), refresh2)
}

// TestRedisFailsClosed loses Redis after startup: refreshing, revoking and,
// since the demo checks revocation, authenticating answer 503 instead of
// falling back to memory or to stateless tokens.
func TestRedisFailsClosed(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	accts := newTestAccounts(t)
	srv, closeStore := newRedisServer(t, rawURL, newPrefix(t, rawURL), slog.New(slog.DiscardHandler), accts)
	access, refreshToken := loginOK(t, srv)
	require.NoError(t, closeStore())

	tests := []struct {
		name string
		send func(t *testing.T) result
	}{
		{"login", func(t *testing.T) result { return login(t, srv, "johndoe", "secret") }},
		{"refresh", func(t *testing.T) result { return refresh(t, srv, refreshToken) }},
		{"revoke", func(t *testing.T) result { return revoke(t, srv, refreshToken) }},
		{"me", func(t *testing.T) result { return getMe(t, srv, access) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.send(t)
			assert.Equal(t, http.StatusServiceUnavailable, res.status)
			assert.Equal(t, "temporarily_unavailable", res.body["error"])
		})
	}
}

func TestOpenStoreRedis(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	var logs bytes.Buffer
	store, closeStore, err := openRedisURL(t, slog.New(slog.NewTextHandler(&logs, nil)), rawURL)
	require.NoError(t, err)
	assert.IsType(t, &redisstore.Store{}, store)
	assert.Contains(t, logs.String(), "kind=redis")
	require.NoError(t, closeStore())
}

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		addr     string
		db       int
		password string
		dial     time.Duration
		read     time.Duration
		write    time.Duration
		retries  int
		wantErr  string // a part of the error, "" for no error
		secret   string // a part of the URL the error must not repeat
	}{
		{
			name: "defaults",
			url:  "redis://127.0.0.1:6379/0",
			addr: "127.0.0.1:6379",
			dial: 500 * time.Millisecond, read: 400 * time.Millisecond, write: 400 * time.Millisecond, retries: 2,
		},
		{
			name: "password and database",
			url:  "redis://:hunter2@redis.example:6380/3",
			addr: "redis.example:6380", db: 3, password: "hunter2",
			dial: 500 * time.Millisecond, read: 400 * time.Millisecond, write: 400 * time.Millisecond, retries: 2,
		},
		{
			name: "limits set in the URL",
			url:  "redis://localhost/1?dial_timeout=5s&read_timeout=3s&write_timeout=4s&max_retries=5",
			addr: "localhost:6379", db: 1,
			dial: 5 * time.Second, read: 3 * time.Second, write: 4 * time.Second, retries: 5,
		},
		{
			name: "no retries",
			url:  "redis://localhost/1?max_retries=-1",
			addr: "localhost:6379", db: 1,
			dial: 500 * time.Millisecond, read: 400 * time.Millisecond, write: 400 * time.Millisecond, retries: -1,
		},
		{name: "wrong scheme", url: "http://127.0.0.1:6379/0", wantErr: "invalid URL scheme"},
		{name: "bad database", url: "redis://127.0.0.1:6379/zero", wantErr: "invalid database number"},
		{name: "bad port", url: "redis://127.0.0.1:port/0", wantErr: "invalid port"},
		{name: "unknown option", url: "redis://127.0.0.1/0?colour=blue", wantErr: "unexpected option"},
		{
			name:    "bad port with a password",
			url:     "redis://user:s3cr3t-pw@127.0.0.1:port/0",
			wantErr: "REDIS_URL",
			secret:  "s3cr3t-pw",
		},
		{
			name:    "bad escape in the password",
			url:     "redis://user:pa%zzword@127.0.0.1/0",
			wantErr: "REDIS_URL",
			secret:  "%zz",
		},
		{
			name:    "unknown option with a password",
			url:     "redis://:hunter2@127.0.0.1/0?colour=blue",
			wantErr: "REDIS_URL",
			secret:  "hunter2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, err := redisOptions(tt.url)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "REDIS_URL")
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), tt.url)
				if tt.secret != "" {
					assert.NotContains(t, err.Error(), tt.secret)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.addr, opts.Addr)
			assert.Equal(t, tt.db, opts.DB)
			assert.Equal(t, tt.password, opts.Password)
			assert.Equal(t, tt.dial, opts.DialTimeout)
			assert.Equal(t, tt.read, opts.ReadTimeout)
			assert.Equal(t, tt.write, opts.WriteTimeout)
			assert.Equal(t, tt.retries, opts.MaxRetries)
			assert.True(t, opts.ContextTimeoutEnabled)
		})
	}
}

// TestOpenStoreRedisDown checks that an unreachable Redis is an error at
// startup, never a silent fall back to memory.
func TestOpenStoreRedisDown(t *testing.T) {
	t.Parallel()
	addr := nettest.ClosedAddr(t)
	var logs bytes.Buffer
	store, closeStore, err := openRedisURL(t, slog.New(slog.NewTextHandler(&logs, nil)),
		"redis://:hunter2@"+addr+"/0")
	require.Error(t, err)
	assert.Nil(t, store)
	assert.Nil(t, closeStore)
	assert.Contains(t, err.Error(), "REDIS_URL")
	assert.Contains(t, err.Error(), addr)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, logs.String(), "token store")
}

// TestRunRedisDown checks that the server does not start when REDIS_URL
// names a Redis that does not answer. The test's deadline only guards
// against a hang; run returns as soon as the connection is refused.
func TestRunRedisDown(t *testing.T) {
	setEnv(t, map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": "redis://" + nettest.ClosedAddr(t) + "/0"})
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), slog.New(slog.DiscardHandler), func(string) {
			t.Error("the server started listening without Redis")
		})
	}()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "REDIS_URL")
		assert.Contains(t, err.Error(), "does not answer")
	case <-time.After(time.Minute):
		t.Fatal("run did not return")
	}
}

func TestRunBadRedisURL(t *testing.T) {
	setEnv(t, map[string]string{"REDIS_URL": "redis://:hunter2@127.0.0.1:port/0"})
	err := run(t.Context(), slog.New(slog.DiscardHandler), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "REDIS_URL")
	assert.NotContains(t, err.Error(), "hunter2")
}

// startRedis starts a redis-server of the test's own on a free loopback
// port, with persistence off and args appended to its command line, waits
// until it answers, and kills it when the test ends. It skips the test when
// redis-server is not installed (scripts/test.sh installs it). The tests
// that need a server configured in a way the shared one of with-redis.sh
// must not be use it.
func startRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: ./scripts/test.sh installs it")
	}
	dir := t.TempDir()
	for range 3 { // the port may be taken between nettest.ClosedAddr and the bind
		addr := nettest.ClosedAddr(t)
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--logfile", filepath.Join(dir, "redis.log")}, args...)...)
		require.NoError(t, cmd.Start())
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() {
			_ = cmd.Process.Kill()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("redis-server on %s did not exit", addr)
			}
		}
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
		for range 100 { // up to 10 s
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := c.Ping(ctx).Err()
			cancel()
			if err == nil {
				_ = c.Close()
				t.Cleanup(stop)
				return addr
			}
			select {
			case <-done:
			case <-time.After(100 * time.Millisecond):
				continue
			}
			break
		}
		_ = c.Close()
		stop()
	}
	t.Fatal("redis-server did not start")
	return ""
}

// TestOpenStoreRefusesEviction checks that the demo refuses to start on a
// Redis that would evict revocations under memory pressure.
func TestOpenStoreRefusesEviction(t *testing.T) {
	t.Parallel()
	addr := startRedis(t, "--maxmemory-policy", "volatile-lru")
	var logs bytes.Buffer
	store, closeStore, err := openRedisURL(t, slog.New(slog.NewTextHandler(&logs, nil)), "redis://:hunter2@"+addr+"/0")
	require.Error(t, err)
	assert.Nil(t, store)
	assert.Nil(t, closeStore)
	assert.Contains(t, err.Error(), "REDIS_URL")
	assert.Contains(t, err.Error(), "maxmemory-policy is volatile-lru")
	assert.Contains(t, err.Error(), "set maxmemory-policy noeviction")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, logs.String(), "kind=redis")
}

// TestRunRefusesEviction checks that the server does not start on a Redis
// that would evict revocations. The deadline only guards against a server
// that starts anyway.
func TestRunRefusesEviction(t *testing.T) {
	addr := startRedis(t, "--maxmemory-policy", "allkeys-lru")
	setEnv(t, map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": "redis://" + addr + "/0"})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.DiscardHandler), func(string) {
			t.Error("the server started listening on an evicting Redis")
			cancel()
		})
	}()
	err := <-done
	require.ErrorContains(t, err, "maxmemory-policy is allkeys-lru")
}

// TestOpenStoreWarnsNoPersistence checks that the demo starts on a Redis
// without persistence, as the throwaway one of the tests, and logs why it
// should not.
func TestOpenStoreWarnsNoPersistence(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	var logs syncBuffer
	_, closeStore, err := openRedisURL(t, slog.New(slog.NewTextHandler(&logs, nil)), rawURL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeStore() })
	assert.Contains(t, logs.String(), "level=WARN msg=\"token store\"")
	assert.Contains(t, logs.String(), "no persistence")
}

// TestRedisLostAnswer loses the answer to the rotation of a refresh, which
// Redis ran: a proxy between the demo and Redis reads the answer and drops
// it. With the demo's settings the client retries, the store answers the
// retry as the rotation it repeats, and the refresh succeeds. With retries
// off (max_retries=-1, the demo's setting before) the refresh answers 503,
// and the client's second try is taken for reuse: the session ends.
func TestRedisLostAnswer(t *testing.T) {
	rawURL := redisURL(t)
	t.Parallel()
	target := strings.TrimSuffix(strings.TrimPrefix(rawURL, "redis://"), "/0")
	for _, tc := range []struct {
		name         string
		query        string
		first, again int // statuses of the refresh and of the client sending it again
	}{
		{"retried", "", http.StatusOK, http.StatusUnauthorized},
		{"not retried", "?max_retries=-1", http.StatusServiceUnavailable, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := nettest.NewLossyProxy(t, target, false)
			proxied := "redis://" + p.Addr + "/0" + tc.query
			accts := newTestAccounts(t)
			srv, _ := newRedisServer(t, proxied, newPrefix(t, rawURL), slog.New(slog.DiscardHandler), accts)
			access, refreshToken := loginOK(t, srv)

			p.DropAnswerTo(":fam:" + sessionID(t, refreshToken))
			res := refresh(t, srv, refreshToken)
			require.True(t, p.Dropped(), "the proxy dropped no answer")
			require.Equal(t, tc.first, res.status, "the refresh whose answer was lost")
			assert.Equal(t, tc.again, refresh(t, srv, refreshToken).status, "the old refresh token sent again")
			if tc.first == http.StatusOK {
				_, next := tokens(t, res)
				assert.Equal(t, http.StatusUnauthorized, refresh(t, srv, next).status,
					"the new token after the old one was reused: the session has ended")
				return
			}
			assert.Equal(t, http.StatusUnauthorized, getMe(t, srv, access).status, "the session's access token after reuse")
		})
	}
}

// sessionID returns the sid claim of a token, read without verifying it.
func sessionID(t *testing.T, token string) string {
	t.Helper()
	return unverifiedClaim(t, token, "sid")
}

// TestRedisOptionsBound checks the demo's Redis settings against a Redis
// that accepts connections and never answers: a store call with the
// deadline of one second that passauth gives it fails with
// ErrStoreUnavailable within a bound far above that (for loaded machines),
// retries included, and without any deadline the settings alone end it.
func TestRedisOptionsBound(t *testing.T) {
	t.Parallel()
	opts, err := redisOptions("redis://" + nettest.SilentAddr(t) + "/0")
	require.NoError(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	s := redisstore.New(c)
	for _, deadline := range []time.Duration{time.Second, 0} {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if deadline > 0 {
			ctx, cancel = context.WithTimeout(ctx, deadline)
		}
		start := time.Now()
		_, _, err := s.Denied(ctx, passauth.DenyQuery{Subject: "b", Session: "c", Token: "a"})
		cancel()
		require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
		assert.Less(t, time.Since(start), 10*time.Second, "a denylist check with a deadline of %v", deadline)
	}
}
