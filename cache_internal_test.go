package passauth

import (
	"strconv"
	"testing"
	"time"
)

// TestVerifyCacheBound checks the invariant the black-box tests cannot see:
// however many tokens pass, no shard holds more than its share, and expired
// entries are what a full shard drops first.
func TestVerifyCacheBound(t *testing.T) {
	c := newVerifyCache(64)
	now := time.Now()
	for i := range 10_000 {
		c.put("token"+strconv.Itoa(i), &Claims{Subject: "s"}, now.Add(time.Hour), now)
	}
	total := 0
	for i := range c.shards {
		n := len(c.shards[i].m)
		if n > c.perShard {
			t.Fatalf("shard %d holds %d entries, over its %d", i, n, c.perShard)
		}
		total += n
	}
	if total > 64 {
		t.Fatalf("cache holds %d entries, over its size 64", total)
	}

	// A full shard whose entries have expired drops them all for a new one.
	s := &c.shards[0]
	later := now.Add(2 * time.Hour)
	for h, e := range s.m {
		e.until = now
		s.m[h] = e
	}
	s.evict(later)
	if len(s.m) != 0 {
		t.Fatalf("evict kept %d expired entries", len(s.m))
	}
}
