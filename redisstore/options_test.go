package redisstore_test

import (
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
)

// TestWithPrefixBraces checks that a prefix with a brace, which would make
// Redis Cluster hash every key to the prefix's slot, is refused with a
// panic, and that other prefixes are taken.
func TestWithPrefixBraces(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"{", "}", "app{1}:", "{app}:", "app}"} {
		assert.PanicsWithValue(t, "redisstore: WithPrefix: the prefix must not contain { or }",
			func() { redisstore.WithPrefix(prefix) }, "prefix %q", prefix)
	}
	c := redis.NewClient(&redis.Options{Addr: nettest.ClosedAddr(t)})
	t.Cleanup(func() { _ = c.Close() })
	for _, prefix := range []string{"", "app:", "app:1:", "passauth:"} {
		assert.NotPanics(t, func() {
			redisstore.New(c, redisstore.WithPrefix(prefix))
			redisstore.NewLimiter(c, passauth.Limit{}, redisstore.WithPrefix(prefix))
		}, "prefix %q", prefix)
	}
}

// TestWithReplicasArguments checks that WithReplicas refuses a negative
// count and, for a positive one, a timeout under a millisecond (WAIT with
// a timeout of 0 waits for ever), and that New and NewLimiter refuse it with
// a client whose connection to a key's server they cannot ask for.
func TestWithReplicasArguments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n       int
		timeout time.Duration
	}{{-1, time.Second}, {1, 0}, {2, -time.Second}, {1, time.Microsecond}} {
		assert.Panics(t, func() { redisstore.WithReplicas(tc.n, tc.timeout) }, "WithReplicas(%d, %v)", tc.n, tc.timeout)
	}
	assert.NotPanics(t, func() { redisstore.WithReplicas(0, 0) })

	c := redis.NewClient(&redis.Options{Addr: nettest.ClosedAddr(t)})
	t.Cleanup(func() { _ = c.Close() })
	wrapped := struct{ *redis.Client }{c} // a redis.UniversalClient of another type
	opt := redisstore.WithReplicas(1, time.Millisecond)
	assert.Panics(t, func() { redisstore.New(wrapped, opt) })
	assert.Panics(t, func() { redisstore.NewLimiter(wrapped, passauth.Limit{}, opt) })
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nettest.ClosedAddr(t)}})
	t.Cleanup(func() { _ = cluster.Close() })
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": nettest.ClosedAddr(t)}})
	t.Cleanup(func() { _ = ring.Close() })
	assert.NotPanics(t, func() {
		redisstore.New(wrapped)
		redisstore.New(c, opt)
		redisstore.New(cluster, opt)
		redisstore.NewLimiter(ring, passauth.Limit{}, opt)
	})
}
