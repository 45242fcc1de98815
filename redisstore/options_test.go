package redisstore_test

import (
	"testing"

	"github.com/passauth/passauth"
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
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t)})
	t.Cleanup(func() { _ = c.Close() })
	for _, prefix := range []string{"", "app:", "app:1:", "passauth:"} {
		assert.NotPanics(t, func() {
			redisstore.New(c, redisstore.WithPrefix(prefix))
			redisstore.NewLimiter(c, passauth.Limit{}, redisstore.WithPrefix(prefix))
		}, "prefix %q", prefix)
	}
}
