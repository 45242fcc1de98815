package passauth

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMemoryLimiterAllow500k measures an attempt on a limiter that
// holds 500 000 keys: the cost per Allow, sweeping included (ns/op), and
// the longest single call (worst-ns), for which every other attempt waits
// on the lock. The clock is simulated and moves 10µs a call. In "live" each
// call tries the next key, every key is tried every 5s, within its
// Interval of 6s, and none goes idle; in "idle" every key has gone idle and
// each call tries one again. Run it with -benchtime=1000000x or more, so
// that the loop covers a full pass over the keys and more than an
// Interval; ns/op includes the two clock reads that time each call.
func BenchmarkMemoryLimiterAllow500k(b *testing.B) {
	const n = 500_000
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "addr:" + strconv.Itoa(i)
	}
	for _, idle := range []bool{false, true} {
		name := "live"
		if idle {
			name = "idle"
		}
		b.Run(name, func(b *testing.B) {
			l := NewMemoryLimiter(Limit{Burst: 20, Interval: 6 * time.Second})
			now := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
			l.now = func() time.Time { return now }
			for _, key := range keys {
				now = now.Add(10 * time.Microsecond)
				if _, err := l.Allow(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
			if idle {
				now = now.Add(time.Hour)
			}
			var worst time.Duration
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				now = now.Add(10 * time.Microsecond)
				start := time.Now()
				_, err := l.Allow(ctx, keys[i%n])
				worst = max(worst, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(worst.Nanoseconds()), "worst-ns")
		})
	}
}
