package redisstore

import (
	"strings"
	"time"
)

// DefaultPrefix is the prefix of every key when WithPrefix is not given.
const DefaultPrefix = "passauth:"

// Option configures a Store or a Limiter, and tells CheckServer what they
// will need.
type Option func(*options)

// options is what the Options set, shared by New, NewLimiter and
// CheckServer.
type options struct {
	prefix   string
	replicas int
	timeout  time.Duration // of WAIT, when replicas > 0
}

func newOptions(opts []Option) options {
	o := options{prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithPrefix sets the prefix of every key the store or limiter writes, so
// that several services or environments can share a Redis database. The
// default is DefaultPrefix.
//
// WithPrefix panics if prefix contains "{" or "}": Redis Cluster would then
// hash the prefix's braces instead of each key's, and every key would share
// one slot. A prefix is part of the program, not its input, so this is a
// programming mistake, as with regexp.MustCompile.
func WithPrefix(prefix string) Option {
	if strings.ContainsAny(prefix, "{}") {
		panic("redisstore: WithPrefix: the prefix must not contain { or }")
	}
	return func(o *options) { o.prefix = prefix }
}

// WithReplicas makes every write of the store or limiter wait until at least
// n replicas of the Redis server that took it have acknowledged it (Redis's
// WAIT), for at most timeout, so that a write reported as done survives the
// loss of that server and the promotion of one of those replicas. When fewer
// than n replicas acknowledge in time, the write fails with an error that
// matches both passauth.ErrStoreUnavailable and ErrNotReplicated, although
// the server may have applied it; the package documentation says what that
// means for each operation.
//
// The wait adds a replication round trip to every write, and with fewer than
// n replicas reachable every write fails: a replica that is down makes the
// service refuse logins, refreshes and revocations rather than risk undoing
// them. timeout must stay below the client's ReadTimeout and below the
// deadline passauth gives each store call (CheckServer checks the first).
// Reads (Denied) never wait.
//
// n = 0, the default, keeps Redis's asynchronous replication: a write is
// reported as done once the server has applied it, and a failover right
// after it can undo it. WithReplicas panics if n is negative, or if n is
// positive and timeout is not, since WAIT with a zero timeout never gives
// up.
func WithReplicas(n int, timeout time.Duration) Option {
	if n < 0 || (n > 0 && timeout < time.Millisecond) {
		panic("redisstore: WithReplicas: n must be at least 0 and, if n is positive, timeout at least a millisecond")
	}
	return func(o *options) { o.replicas, o.timeout = n, timeout }
}
