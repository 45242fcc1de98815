//go:build unix

package redisstore_test

import (
	"strings"
	"testing"

	"github.com/passauth/passauth/internal/nettest"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evictingPolicies are every maxmemory-policy of Redis 7 but noeviction.
var evictingPolicies = []string{
	"volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu",
	"volatile-random", "allkeys-random", "volatile-ttl",
}

// TestCheckServerPolicy checks that CheckServer refuses every evicting
// maxmemory-policy, naming the server, the policy and the fix, and accepts
// noeviction.
func TestCheckServerPolicy(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := redis.NewClient(recommendedOptions(srv.addr))
	t.Cleanup(func() { _ = c.Close() })
	for _, policy := range evictingPolicies {
		t.Run(policy, func(t *testing.T) {
			require.NoError(t, srv.client().ConfigSet(t.Context(), "maxmemory-policy", policy).Err())
			_, err := redisstore.CheckServer(t.Context(), c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), srv.addr)
			assert.Contains(t, err.Error(), "maxmemory-policy is "+policy)
			assert.Contains(t, err.Error(), "set maxmemory-policy noeviction")
		})
	}
	t.Run("noeviction", func(t *testing.T) {
		require.NoError(t, srv.client().ConfigSet(t.Context(), "maxmemory-policy", "noeviction").Err())
		_, err := redisstore.CheckServer(t.Context(), c)
		require.NoError(t, err)
	})
}

// TestCheckServerWithoutConfig checks CheckServer where CONFIG is disabled,
// as on managed services: it reads the policy and whether AOF is on from
// INFO, and warns that it cannot tell the rest.
func TestCheckServerWithoutConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		args        []string
		wantErr     string
		wantWarning string // "" for none
	}{
		{"allkeys-lru", []string{"--maxmemory-policy", "allkeys-lru"}, "maxmemory-policy is allkeys-lru", "persistence unknown"},
		{"noeviction, AOF", []string{"--appendonly", "yes"}, "", ""},
		{"noeviction, no AOF", nil, "", "persistence unknown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t, append(tc.args, "--rename-command", "CONFIG", "")...)
			c := redis.NewClient(recommendedOptions(srv.addr))
			t.Cleanup(func() { _ = c.Close() })
			require.ErrorContains(t, c.ConfigGet(t.Context(), "maxmemory-policy").Err(), "unknown command", "CONFIG is disabled")

			warnings, err := redisstore.CheckServer(t.Context(), c)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assertWarning(t, warnings, tc.wantWarning)
		})
	}
}

// TestCheckServerPersistence checks the warnings about persistence: none
// with AOF, one that a restart loses everything with neither AOF nor RDB,
// one that a crash rolls back with RDB snapshots only.
func TestCheckServerPersistence(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		args        []string
		wantWarning string
	}{
		{"none", nil, "no persistence (appendonly no, no RDB save points): a restart loses every session"},
		{"AOF", []string{"--appendonly", "yes"}, ""},
		{"AOF and RDB", []string{"--appendonly", "yes", "--save", "3600 1"}, ""},
		{"RDB only", []string{"--save", "3600 1"}, "RDB snapshots only (appendonly no): a crash rolls back"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t, tc.args...)
			c := redis.NewClient(recommendedOptions(srv.addr))
			t.Cleanup(func() { _ = c.Close() })
			warnings, err := redisstore.CheckServer(t.Context(), c)
			require.NoError(t, err)
			assertWarning(t, warnings, tc.wantWarning)
			for _, w := range warnings {
				assert.True(t, strings.HasPrefix(w, "redisstore: "+srv.addr+": "), "warning %q", w)
			}
		})
	}
}

// TestCheckServerClient checks what CheckServer says of the client's own
// settings: ContextTimeoutEnabled false and a WithReplicas wait not below
// ReadTimeout are errors; too few replicas is a warning; a server that does
// not answer is an error.
func TestCheckServerClient(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)

	opts := recommendedOptions(srv.addr)
	opts.ContextTimeoutEnabled = false
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	_, err := redisstore.CheckServer(t.Context(), c)
	require.ErrorContains(t, err, "ContextTimeoutEnabled is false")

	c = redis.NewClient(recommendedOptions(srv.addr))
	t.Cleanup(func() { _ = c.Close() })
	_, err = redisstore.CheckServer(t.Context(), c, redisstore.WithReplicas(1, recIOTimeout))
	require.ErrorContains(t, err, "not less than the client's ReadTimeout")

	warnings, err := redisstore.CheckServer(t.Context(), c, redisstore.WithReplicas(1, recWait))
	require.NoError(t, err)
	assertWarning(t, warnings, "0 connected replicas, fewer than the 1 WithReplicas waits for")

	down := redis.NewClient(recommendedOptions(nettest.ClosedAddr(t)))
	t.Cleanup(func() { _ = down.Close() })
	_, err = redisstore.CheckServer(t.Context(), down)
	require.ErrorContains(t, err, "reading the configuration")
}

// assertWarning checks that one of warnings contains want, or, when want is
// "", that there are none.
func assertWarning(t *testing.T, warnings []string, want string) {
	t.Helper()
	if want == "" {
		assert.Empty(t, warnings)
		return
	}
	for _, w := range warnings {
		if strings.Contains(w, want) {
			return
		}
	}
	t.Errorf("no warning contains %q; warnings: %q", want, warnings)
}
