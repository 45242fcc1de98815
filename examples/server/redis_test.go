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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
)

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

// newRedisServer serves the demo's handler on a store that openStore
// opened for rawURL, with its own Redis client, under prefix.
func newRedisServer(t *testing.T, rawURL, prefix string, logger *slog.Logger) (*httptest.Server, func() error) {
	t.Helper()
	store, closeStore, err := openStore(t.Context(), slog.New(slog.DiscardHandler), rawURL, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeStore() })
	return serve(t, newTestHandler(t, store, logger)), closeStore
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
			a, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.DiscardHandler))
			b, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.DiscardHandler))
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
	a, _ := newRedisServer(t, rawURL, newPrefix(t, rawURL), slog.New(slog.DiscardHandler))
	b, _ := newRedisServer(t, rawURL, newPrefix(t, rawURL), slog.New(slog.DiscardHandler))

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
	a, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.DiscardHandler))
	b, _ := newRedisServer(t, rawURL, prefix, slog.New(slog.NewTextHandler(&logsB, nil)))

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
	srv, closeStore := newRedisServer(t, rawURL, newPrefix(t, rawURL), slog.New(slog.DiscardHandler))
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
	store, closeStore, err := openStore(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), rawURL)
	require.NoError(t, err)
	assert.IsType(t, &redisstore.Store{}, store)
	assert.Contains(t, logs.String(), "kind=redis")
	require.NoError(t, closeStore())
}

func TestOpenStoreMemory(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	store, closeStore, err := openStore(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), "")
	require.NoError(t, err)
	assert.IsType(t, &passauth.MemoryStore{}, store)
	assert.Contains(t, logs.String(), "kind=memory")
	assert.NoError(t, closeStore())
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
			dial: 2 * time.Second, read: time.Second, write: time.Second, retries: -1,
		},
		{
			name: "password and database",
			url:  "redis://:hunter2@redis.example:6380/3",
			addr: "redis.example:6380", db: 3, password: "hunter2",
			dial: 2 * time.Second, read: time.Second, write: time.Second, retries: -1,
		},
		{
			name: "limits set in the URL",
			url:  "redis://localhost/1?dial_timeout=5s&read_timeout=3s&write_timeout=4s&max_retries=2",
			addr: "localhost:6379", db: 1,
			dial: 5 * time.Second, read: 3 * time.Second, write: 4 * time.Second, retries: 2,
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

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestOpenStoreRedisDown checks that an unreachable Redis is an error at
// startup, never a silent fall back to memory.
func TestOpenStoreRedisDown(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	var logs bytes.Buffer
	store, closeStore, err := openStore(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)),
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
	setEnv(t, map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": "redis://" + closedPort(t) + "/0"})
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
