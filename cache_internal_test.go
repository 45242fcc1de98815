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
		c.put("token"+strconv.Itoa(i), &Claims{Subject: "s"}, nil, now.Add(time.Hour), now)
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

	// A full shard drops an expired entry before a live one.
	s := &c.shards[0]
	for h, e := range s.m {
		e.until = now // expired at now
		s.m[h] = e
	}
	n := len(s.m)
	s.evict(now.Add(time.Second))
	if got := len(s.m); got >= n || n-got > 8 {
		t.Fatalf("evict went from %d to %d entries, want 1 to 8 fewer", n, got)
	}
}
