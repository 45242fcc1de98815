package passauth_test

import (
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/storetest"
)

func TestMemoryLimiter(t *testing.T) {
	storetest.TestLimiter(t, func(_ *testing.T, limit passauth.Limit) passauth.Limiter {
		return passauth.NewMemoryLimiter(limit)
	})
}

// TestMemoryLimiterNormalises checks that a Burst below 1 is taken as 1 and
// an Interval below a millisecond as a millisecond, rather than as a limiter
// that allows nothing or everything.
func TestMemoryLimiterNormalises(t *testing.T) {
	t.Parallel()
	t.Run("burst", func(t *testing.T) {
		t.Parallel()
		for _, burst := range []int{0, -1, -1 << 62} {
			l := passauth.NewMemoryLimiter(passauth.Limit{Burst: burst, Interval: time.Hour})
			key := rand.Text()
			wait, err := l.Allow(t.Context(), key)
			require.NoError(t, err)
			assert.Zero(t, wait, "first attempt with Burst %d", burst)
			wait, err = l.Allow(t.Context(), key)
			require.NoError(t, err)
			assert.True(t, wait > 0 && wait <= time.Hour, "second attempt with Burst %d: wait %v, want in (0, 1h]", burst, wait)
		}
	})
	t.Run("interval", func(t *testing.T) {
		t.Parallel()
		for _, interval := range []time.Duration{0, -time.Second, time.Nanosecond, time.Millisecond - 1} {
			l := passauth.NewMemoryLimiter(passauth.Limit{Burst: 1, Interval: interval})
			key := rand.Text()
			// Without normalisation an Interval of zero or less would let
			// every attempt through. At one attempt per millisecond, the
			// loop can be allowed at most one attempt per millisecond it
			// takes, plus the burst.
			const attempts = 200
			allowed := 0
			start := time.Now()
			for range attempts {
				wait, err := l.Allow(t.Context(), key)
				require.NoError(t, err)
				if wait == 0 {
					allowed++
					continue
				}
				require.True(t, wait > 0 && wait <= time.Millisecond, "Interval %v: wait %v, want in (0, 1ms]", interval, wait)
			}
			bound := 1 + int(time.Since(start)/time.Millisecond) + 1
			assert.LessOrEqual(t, allowed, bound, "Interval %v: attempts allowed in a tight loop", interval)
		}
	})
}

// TestMemoryLimiterLen checks that the limiter forgets keys once they have
// nothing left to count, within a round of its sweep (n/4 calls for n
// keys), so that its memory follows the recent keys rather than every key
// ever seen; that a key forgiven its only attempt, left with nothing to
// count, goes the same way; and that forgiving an unknown key adds none.
func TestMemoryLimiterLen(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	l := passauth.NewMemoryLimiter(passauth.Limit{Burst: 1, Interval: interval})
	ctx := t.Context()
	assert.Zero(t, l.Len(), "new limiter")

	const keys = 1000
	for i := range keys {
		_, err := l.Allow(ctx, "addr:192.0.2."+strconv.Itoa(i))
		require.NoError(t, err)
	}
	require.Equal(t, keys, l.Len(), "after one attempt on each of %d keys", keys)
	_, err := l.Allow(ctx, "user:alice")
	require.NoError(t, err)
	require.NoError(t, l.Forgive(ctx, "user:alice"))
	require.NoError(t, l.Forgive(ctx, "user:nobody"))
	require.Equal(t, keys+1, l.Len(), "after forgiving a key's only attempt, and an unknown key")

	// Past Burst×Interval every key is idle, and a round of the sweep, four
	// keys a call, drops them all.
	time.Sleep(2*interval + interval/2)
	const round = (keys + 1 + 3) / 4
	for range round {
		_, err := l.Allow(ctx, "addr:198.51.100.1")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, l.Len(), "after the keys went idle and %d calls", round)
}

// BenchmarkMemoryLimiterAllow measures the limiter's cost per login attempt:
// an Allow, on keys spread like the addresses of a busy endpoint, from many
// goroutines at once.
func BenchmarkMemoryLimiterAllow(b *testing.B) {
	l := passauth.NewMemoryLimiter(passauth.Limit{Burst: 20, Interval: 6 * time.Second})
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "addr:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
