package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/passauth/passauth"
	"github.com/redis/go-redis/v9"
)

// Limiter is a passauth.Limiter kept in Redis, so that every replica of a
// service counts the same failed logins: a guesser who spreads attempts
// over the servers behind a load balancer gets no more than one server
// would give. It runs the same generic cell rate algorithm as
// passauth.MemoryLimiter, one Lua script per call, on the Redis server's
// clock, so that servers with skewed clocks agree on every wait.
//
// A Limiter holds no state of its own besides the client, and is safe for
// concurrent use by any number of goroutines and processes.
type Limiter struct {
	writer writer
	prefix string
	// The policy in microseconds, the unit of the scripts.
	interval  int64
	tolerance int64 // (Burst-1)×Interval
}

var _ passauth.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter enforcing limit through client, for
// Config.UserLimiter or Config.AddrLimiter. As with NewMemoryLimiter, a
// Burst below 1 is taken as 1 and an Interval below a millisecond as a
// millisecond. Two limiters with different policies (one for user names,
// one for addresses) may share a prefix, and a Store too, since the token
// handler's keys never collide ("user:…" and "addr:…"). Like New, it panics
// if WithReplicas is given with a client it cannot ask for the connection
// to a key's server.
func NewLimiter(client redis.UniversalClient, limit passauth.Limit, opts ...Option) *Limiter {
	o := newOptions(opts)
	burst := int64(max(limit.Burst, 1))
	interval := max(limit.Interval, time.Millisecond).Microseconds()
	return &Limiter{writer: newWriter(client, o), prefix: o.prefix, interval: interval, tolerance: (burst - 1) * interval}
}

// limiterNow is the Lua prelude of the limiter scripts: the server's time in
// microseconds, which a double holds exactly. Reading TIME before writing
// is allowed since Redis 5, which replicates a script's effects rather than
// the script.
const limiterNow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`

// allowScript implements Allow on the string KEYS[1], the key's theoretical
// arrival time (TAT) in Unix microseconds, with ARGV the interval and the
// tolerance in microseconds. It returns 0 after counting the attempt, or the
// wait in microseconds, counting nothing. The record expires when the TAT
// passes, when it would count nothing any more. The TAT is written with
// %.0f, since Redis may format a large Lua number in exponent form.
var allowScript = redis.NewScript(limiterNow + `
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = now
local v = redis.call('GET', KEYS[1])
if v then
	tat = tonumber(v)
	if not tat then
		return redis.error_reply('limiter record is not a number')
	end
	if tat < now then
		tat = now
	end
end
local wait = tat - now - tolerance
if wait > 0 then
	return wait
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return 0
`)

// Allow implements [passauth.Limiter.Allow] in one round trip.
func (l *Limiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	n, err := l.writer.run(ctx, allowScript, []string{l.key(key)}, l.interval, l.tolerance).Int64()
	if err != nil {
		return 0, wrap("limiter allow", err)
	}
	if n < 0 {
		return 0, wrap("limiter allow", errors.New("unexpected script result "+strconv.FormatInt(n, 10)))
	}
	return time.Duration(n) * time.Microsecond, nil
}

// forgiveScript implements Forgive on KEYS[1], with ARGV the interval in
// microseconds: it moves the TAT back one interval, and drops the record
// when that leaves nothing to count, so that a key never gets more than
// Burst attempts. An unknown key is left unknown.
var forgiveScript = redis.NewScript(limiterNow + `
local v = redis.call('GET', KEYS[1])
if not v then
	return 0
end
local tat = tonumber(v)
if not tat then
	return redis.error_reply('limiter record is not a number')
end
tat = tat - tonumber(ARGV[1])
if tat > now then
	redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
else
	redis.call('DEL', KEYS[1])
end
return 1
`)

// Forgive implements [passauth.Limiter.Forgive] in one round trip.
func (l *Limiter) Forgive(ctx context.Context, key string) error {
	if err := l.writer.run(ctx, forgiveScript, []string{l.key(key)}, l.interval).Err(); err != nil {
		return wrap("limiter forgive", err)
	}
	return nil
}

// key returns the Redis key of a limiter key.
func (l *Limiter) key(key string) string {
	return LimiterKey(l.prefix, key)
}

// LimiterKey returns the Redis key under which a Limiter with prefix counts
// key: the prefix, then in a hash tag the SHA-256 of key in hex, so that
// what clients typed as user names (a password, sometimes) is never stored.
func LimiterKey(prefix, key string) string {
	sum := sha256.Sum256([]byte(key))
	return prefix + "{" + hex.EncodeToString(sum[:]) + "}:lim"
}
