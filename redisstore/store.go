package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/passauth/passauth"
	"github.com/redis/go-redis/v9"
)

var _ passauth.Store = (*Store)(nil)

// Store is a passauth.Store kept in Redis. It holds no state of its own
// besides the client, and is safe for concurrent use by any number of
// goroutines and processes.
type Store struct {
	client redis.UniversalClient
	writer writer
	prefix string
}

// New returns a Store that keeps its records through client, which may be
// a *redis.Client (from NewClient or NewFailoverClient), a
// *redis.ClusterClient or a *redis.Ring. The context of each call and the
// client's settings bound how long it may wait; see the package
// documentation for the settings to use, and CheckServer for the server's.
//
// New panics if WithReplicas is given with a client of another type, which
// it cannot ask for the connection to a key's server.
func New(client redis.UniversalClient, opts ...Option) *Store {
	o := newOptions(opts)
	return &Store{client: client, writer: newWriter(client, o), prefix: o.prefix}
}

// Results of rotateScript.
const (
	scriptOK      = 1
	scriptReused  = 2
	scriptRevoked = 3
)

// rotateScript implements Rotate on the family hash KEYS[1], with ARGV the
// old ID, the new ID and the expiry in Unix milliseconds. Creating a family
// that already exists is reuse, as in passauth.MemoryStore: "" is never a
// family's current token. A repeat of a rotation that succeeded (the new ID
// is already current) succeeds again, so a client retry after a lost answer
// is not mistaken for reuse.
var rotateScript = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'cur', 'rev')
if f[2] == '1' then
	return 3
end
if not f[1] then
	if ARGV[1] ~= '' then
		return 3
	end
elseif f[1] == ARGV[2] then
	redis.call('PEXPIREAT', KEYS[1], ARGV[3])
	return 1
elseif ARGV[1] == '' or f[1] ~= ARGV[1] then
	redis.call('HSET', KEYS[1], 'rev', '1')
	return 2
end
redis.call('HSET', KEYS[1], 'cur', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
`)

// Rotate implements [passauth.Store.Rotate] in one round trip. An expiry
// already past leaves no record, so the family is then unknown.
func (s *Store) Rotate(ctx context.Context, family, oldID, newID string, expires time.Time) (passauth.RotateResult, error) {
	n, err := s.writer.run(ctx, rotateScript, s.familyKey(family), oldID, newID, unixMilliCeil(expires)).Int()
	if err != nil {
		return 0, wrap("rotate", err)
	}
	switch n {
	case scriptOK:
		return passauth.RotateOK, nil
	case scriptReused:
		return passauth.RotateReused, nil
	case scriptRevoked:
		return passauth.RotateRevoked, nil
	}
	return 0, wrap("rotate", errors.New("unexpected script result "+strconv.Itoa(n)))
}

// revokeScript marks the family hash KEYS[1] revoked if it exists, keeping
// its expiry.
var revokeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	redis.call('HSET', KEYS[1], 'rev', '1')
end
return 1
`)

// RevokeFamily implements [passauth.Store.RevokeFamily]. An unknown or
// expired family is left unknown: Rotate reports it revoked anyway.
func (s *Store) RevokeFamily(ctx context.Context, family string) error {
	if err := s.writer.run(ctx, revokeScript, s.familyKey(family)).Err(); err != nil {
		return wrap("revoke family", err)
	}
	return nil
}

// denyScript implements Deny on the string KEYS[1], with ARGV the time
// denied in Unix nanoseconds and the expiry in Unix milliseconds. It keeps
// the later of the two times and the later of the two expiries. The times
// are compared as decimal strings, since Lua's numbers (doubles) cannot hold
// nanoseconds exactly. A record that exists is written even when it keeps
// its time, so that a WAIT after it (WithReplicas) waits for the replicas
// to hold the record, whoever wrote it first.
var denyScript = redis.NewScript(`
local function later(a, b)
	local na, nb = a:sub(1, 1) == '-', b:sub(1, 1) == '-'
	if na ~= nb then
		return nb
	end
	if na then
		a, b = b:sub(2), a:sub(2)
	end
	if #a ~= #b then
		return #a > #b
	end
	return a > b
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if not cur then
	if exp > now then
		redis.call('SET', KEYS[1], ARGV[1])
		redis.call('PEXPIREAT', KEYS[1], ARGV[2])
	end
	return 1
end
if later(ARGV[1], cur) then
	cur = ARGV[1]
end
redis.call('SET', KEYS[1], cur, 'KEEPTTL')
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= 0 and exp > now + ttl then
	redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1
`)

// Deny implements [passauth.Store.Deny] in one round trip. Times keep their
// nanoseconds; expiries are rounded up to the millisecond.
func (s *Store) Deny(ctx context.Context, key string, at, expires time.Time) error {
	err := s.writer.run(ctx, denyScript, s.denyKey(key), at.UnixNano(), unixMilliCeil(expires)).Err()
	if err != nil {
		return wrap("deny", err)
	}
	return nil
}

// Denied implements [passauth.Store.Denied] in one round trip: a GET for a
// single key, a pipeline of GETs for several. With no keys it reports not
// found without asking Redis.
func (s *Store) Denied(ctx context.Context, keys ...string) (time.Time, bool, error) {
	switch len(keys) {
	case 0:
		return time.Time{}, false, nil
	case 1:
		v, err := s.client.Get(ctx, s.denyKey(keys[0])).Result()
		if err == redis.Nil {
			return time.Time{}, false, nil
		}
		if err != nil {
			return time.Time{}, false, wrap("denied", err)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, wrap("denied", errMalformed)
		}
		return time.Unix(0, n), true, nil
	}

	pipe := s.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Get(ctx, s.denyKey(k))
	}
	// Exec reports the first failed command, a missing key (redis.Nil)
	// included; each command's own error says which.
	_, _ = pipe.Exec(ctx)
	var latest int64
	found := false
	for _, c := range cmds {
		v, err := c.Result()
		if err == redis.Nil {
			continue
		}
		if err != nil {
			return time.Time{}, false, wrap("denied", err)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false, wrap("denied", errMalformed)
		}
		if !found || n > latest {
			latest, found = n, true
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return time.Unix(0, latest), true, nil
}

// errMalformed reports a denylist value that is not a decimal integer,
// written by something other than this package.
var errMalformed = errors.New("denylist record is not a Unix time in nanoseconds")

// familyKey returns the key of a family's hash.
func (s *Store) familyKey(family string) string {
	return s.prefix + "{" + family + "}:fam"
}

// denyKey returns the key of a denylist record.
func (s *Store) denyKey(key string) string {
	return s.prefix + "{" + key + "}:deny"
}

// unixMilliCeil returns t in Unix milliseconds, rounded up so that a record
// is never dropped before t.
func unixMilliCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// storeError is a failure of Redis: it matches passauth.ErrStoreUnavailable
// and unwraps to the client's error. Its text holds the operation and the
// client's error, never a token (the store is never given one).
type storeError struct {
	op  string
	err error
}

func wrap(op string, err error) error {
	return &storeError{op: op, err: err}
}

func (e *storeError) Error() string {
	return "redisstore: " + e.op + ": " + e.err.Error()
}

// Unwrap returns the client's error.
func (e *storeError) Unwrap() error { return e.err }

// Is reports whether target is passauth.ErrStoreUnavailable.
func (e *storeError) Is(target error) bool {
	return target == passauth.ErrStoreUnavailable
}
