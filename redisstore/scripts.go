package redisstore

import "github.com/redis/go-redis/v9"

// The Lua scripts of the Store. Each reads and writes the records of one
// subject, which share a hash slot (see keysOf), in one atomic step. Times
// the contract compares are decimal Unix nanoseconds, compared as strings
// by later, since Lua's numbers (doubles) cannot hold nanoseconds exactly;
// expiry times are Unix milliseconds, which a double holds exactly, passed
// on to Redis as the strings they came as.

// scriptPrelude is the start of every script: later, the server's clock in
// milliseconds (read before writing, allowed since Redis 5, which
// replicates a script's effects rather than the script), deny and index.
const scriptPrelude = `
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

-- deny records a denial at 'at' (ns) on the string key until exp (ms):
-- the later of the two times and the later of the two expiries. A record
-- whose expiry is past is not written; one that exists is written even
-- when it keeps its time, so that a WAIT after it (WithReplicas) waits for
-- the replicas to hold it, whoever wrote it first.
local function deny(key, at, exp)
	local e = tonumber(exp)
	local cur = redis.call('GET', key)
	if not cur then
		if e > now then
			redis.call('SET', key, at)
			redis.call('PEXPIREAT', key, exp)
		end
		return
	end
	if later(at, cur) then
		cur = at
	end
	redis.call('SET', key, cur, 'KEEPTTL')
	local ttl = redis.call('PTTL', key)
	if ttl >= 0 and e > now + ttl then
		redis.call('PEXPIREAT', key, exp)
	end
end

-- index scores family id in the sorted set key with keep (ms), when the
-- family may be forgotten, or drops it when that is past; the set is kept
-- until its last family may be forgotten.
local function index(key, id, keep)
	local k = tonumber(keep)
	if k <= now then
		redis.call('ZREM', key, id)
		return
	end
	redis.call('ZADD', key, keep, id)
	local ttl = redis.call('PTTL', key)
	if ttl < 0 or k > now + ttl then
		redis.call('PEXPIREAT', key, keep)
	end
end
`

// Results of rotateScript, the first element of its answer.
const (
	scriptOK       = 1
	scriptReused   = 2
	scriptRevoked  = 3
	scriptReplayed = 4
)

// rotateScript implements Rotate, as passauth.MemoryStore does, with
//
//	KEYS: the family hash, the subject's denial, the session's denial, the
//	      subject's sorted set of sessions;
//	ARGV: the family ID, the old ID, the new ID, the client, the login
//	      time (ns), now (ns, passauth's clock), the new ID's expiry (ns),
//	      keep until (ms), deny until (ns, then ms), the start of the grace
//	      window (ns; "" without grace), the replays allowed.
//
// It answers {result, current ID, its expiry (ns)} for RotateOK and
// RotateReplayed, {result} otherwise. A repeat of a rotation that succeeded
// (the new ID is already current) succeeds again, so that a client's retry
// after a lost answer is not reuse; it writes the current ID again, so that
// a WAIT after it waits for the replicas to hold the rotation. Starting a
// family that exists is reuse: "" is never a current token. A login drops
// up to eight families already past from the subject's sorted set, so that
// the set holds little more than the live sessions.
var rotateScript = redis.NewScript(scriptPrelude + `
local f = redis.call('HMGET', KEYS[1], 'cur', 'exp', 'prev', 'repl', 'n', 'cli', 'rev')
local cur, old, new = f[1], ARGV[2], ARGV[3]
if f[7] == '1' then
	return {3}
end
if not cur then
	if old ~= '' then
		return {3}
	end
	redis.call('HSET', KEYS[1], 'cur', new, 'exp', ARGV[7], 'cli', ARGV[4], 'auth', ARGV[5], 'used', ARGV[6])
	redis.call('PEXPIREAT', KEYS[1], ARGV[8])
	local past = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 8)
	if #past > 0 then
		redis.call('ZREM', KEYS[4], unpack(past))
	end
	index(KEYS[4], ARGV[1], ARGV[8])
	return {1, new, ARGV[7]}
end
if old ~= '' then
	if redis.call('EXISTS', KEYS[3]) == 1 then
		return {3}
	end
	local sub = redis.call('GET', KEYS[2])
	if sub and not later(ARGV[5], sub) then
		return {3}
	end
end
if new == cur then
	redis.call('HSET', KEYS[1], 'cur', cur)
	return {1, cur, f[2]}
end
if old ~= '' and old == cur then
	redis.call('HSET', KEYS[1], 'cur', new, 'exp', ARGV[7], 'prev', cur, 'repl', ARGV[6], 'n', 0, 'used', ARGV[6])
	redis.call('PEXPIREAT', KEYS[1], ARGV[8])
	index(KEYS[4], ARGV[1], ARGV[8])
	return {1, new, ARGV[7]}
end
local n = tonumber(f[5]) or 0
if ARGV[11] ~= '' and old ~= '' and old == f[3] and f[4] and not later(ARGV[11], f[4]) and
	ARGV[4] == f[6] and n < tonumber(ARGV[12]) then
	redis.call('HSET', KEYS[1], 'n', n + 1, 'used', ARGV[6])
	return {4, cur, f[2]}
end
redis.call('HSET', KEYS[1], 'rev', '1')
redis.call('ZREM', KEYS[4], ARGV[1])
deny(KEYS[3], ARGV[9], ARGV[10])
return {2}
`)

// revokeScript implements RevokeSession, with KEYS the family hash, the
// session's denial and the subject's sorted set of sessions, and ARGV the
// family ID, the denial's time (ns) and its expiry (ms). It marks the
// family revoked if it exists, keeping its expiry, so that it cannot be
// started again while any of its tokens could be presented, takes it out
// of the sorted set, and records the denial.
var revokeScript = redis.NewScript(scriptPrelude + `
if redis.call('EXISTS', KEYS[1]) == 1 then
	redis.call('HSET', KEYS[1], 'rev', '1')
end
redis.call('ZREM', KEYS[3], ARGV[1])
deny(KEYS[2], ARGV[2], ARGV[3])
return 1
`)

// denyScript implements Deny on the denial KEYS[1], with ARGV the time
// (ns) and the expiry (ms).
var denyScript = redis.NewScript(scriptPrelude + `
deny(KEYS[1], ARGV[1], ARGV[2])
return 1
`)
