package passauth

import (
	"hash/maphash"
	"sync"
	"time"
)

// verifyCache remembers verified access tokens, so that a token presented
// again is not parsed and its HMAC not recomputed (as gateways such as
// Envoy's jwt_authn do). It is keyed by a seeded hash of the token and
// holds the token itself, so a hash collision is a miss, never a false hit.
// An entry never outlives its token's exp (plus leeway), nor the key set
// that verified it (a Verifier's, when it changes); revocation is
// checked after the cache, on every call, when Config.CheckRevoked is set.
//
// The cache is split into shards, each under its own lock, and holds at
// most Config.VerifyCacheSize entries in all; tokens are at most 8 KiB, so
// its memory is bounded by about VerifyCacheSize × (token size + 300 bytes).
type verifyCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]*cacheEntry
}

type cacheEntry struct {
	token  string
	claims Claims
	until  time.Time // exp plus leeway
	keys   *keySet   // the key set that verified it
}

func newVerifyCache(size int) *verifyCache {
	c := &verifyCache{seed: maphash.MakeSeed(), perShard: max(size/cacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry)
	}
	return c
}

// get returns a copy of the claims of token if it was verified before, with
// the key set keys (a Verifier's set that has changed since, a retired key
// gone, is a miss), and has not expired at now.
func (c *verifyCache) get(token string, keys *keySet, now time.Time) (*Claims, bool) {
	h := maphash.String(c.seed, token)
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	e := s.m[h]
	s.mu.RUnlock()
	if e == nil || e.token != token || e.keys != keys || !now.Before(e.until) {
		return nil, false
	}
	claims := e.claims // a copy: callers may not share one Claims
	return &claims, true
}

// put remembers the claims of token, verified with keys, until until.
func (c *verifyCache) put(token string, claims *Claims, keys *keySet, until, now time.Time) {
	h := maphash.String(c.seed, token)
	s := &c.shards[h%cacheShards]
	e := &cacheEntry{token: token, claims: *claims, until: until, keys: keys}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[h]; !ok && len(s.m) >= c.perShard {
		s.evict(now)
	}
	s.m[h] = e
}

// evict makes room in a full shard in constant time: among a few entries
// picked by map order (effectively at random) it drops the expired ones or,
// when none has expired, the first.
func (s *cacheShard) evict(now time.Time) {
	const sample = 8
	var first uint64
	seen, dropped := 0, false
	for h, e := range s.m {
		if seen == 0 {
			first = h
		}
		if !now.Before(e.until) {
			delete(s.m, h)
			dropped = true
		}
		if seen++; seen == sample {
			break
		}
	}
	if !dropped && seen > 0 {
		delete(s.m, first)
	}
}
