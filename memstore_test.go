package passauth_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/storetest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	storetest.TestStore(t, func(*testing.T) passauth.Store {
		return passauth.NewMemoryStore()
	})
}

// memorySweepEvery is the number of writes after which a MemoryStore holding
// only expired records sweeps them, as its documentation says.
const memorySweepEvery = 1024

// writeExpired writes n records that have already expired, alternating
// between token families and denylist keys.
func writeExpired(t *testing.T, s *passauth.MemoryStore, prefix string, n int) {
	t.Helper()
	past := time.Now().Add(-time.Second)
	for i := range n {
		id := prefix + strconv.Itoa(i)
		if i%2 == 0 {
			_, err := s.Rotate(t.Context(), "family-"+id, "", "jti-"+id, past)
			require.NoError(t, err)
		} else {
			require.NoError(t, s.Deny(t.Context(), "key-"+id, past, past))
		}
	}
}

func TestMemoryStoreBounded(t *testing.T) {
	t.Parallel()
	s := passauth.NewMemoryStore()
	most := 0
	for i := range 20 {
		writeExpired(t, s, strconv.Itoa(i)+"-", 1000)
		most = max(most, s.Len())
	}
	assert.LessOrEqual(t, most, memorySweepEvery, "records held while writing 20 000 expired ones")
	assert.Positive(t, most, "records held before any sweep")
}

func TestMemoryStoreKeepsUnexpired(t *testing.T) {
	t.Parallel()
	const live = 3000 // per kind
	ctx := t.Context()
	s := passauth.NewMemoryStore()
	at, expires := time.Now().Round(0), time.Now().Add(time.Hour)
	for i := range live {
		id := strconv.Itoa(i)
		res, err := s.Rotate(ctx, "live-family-"+id, "", "jti-"+id, expires)
		require.NoError(t, err)
		require.Equal(t, passauth.RotateOK, res)
		require.NoError(t, s.Deny(ctx, "live-key-"+id, at, expires))
		writeExpired(t, s, id+"-", 4) // enough to trigger several sweeps
	}

	n := s.Len()
	assert.GreaterOrEqual(t, n, 2*live, "records held")
	assert.LessOrEqual(t, n, 2*(2*live)+memorySweepEvery, "records held")
	for i := range live {
		id := strconv.Itoa(i)
		res, err := s.Rotate(ctx, "live-family-"+id, "jti-"+id, "next-"+id, expires)
		require.NoError(t, err)
		require.Equal(t, passauth.RotateOK, res, "family %d", i)
		got, found, err := s.Denied(ctx, "live-key-"+id)
		require.NoError(t, err)
		require.True(t, found, "key %d", i)
		require.True(t, got.Equal(at), "key %d denied at %v, want %v", i, got, at)
	}
}

func BenchmarkMemoryStoreRotate(b *testing.B) {
	s := passauth.NewMemoryStore()
	ctx := context.Background()
	expires := time.Now().Add(time.Hour)
	var families atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		family := "family-" + strconv.FormatInt(families.Add(1), 10)
		ids := [2]string{"jti-a", "jti-b"}
		old := ""
		for i := 0; pb.Next(); i++ {
			res, err := s.Rotate(ctx, family, old, ids[i%2], expires)
			if err != nil || res != passauth.RotateOK {
				b.Errorf("Rotate = %v, %v; want ok", res, err)
				return
			}
			old = ids[i%2]
		}
	})
}

func BenchmarkMemoryStoreDenied(b *testing.B) {
	s := passauth.NewMemoryStore()
	ctx := context.Background()
	now := time.Now()
	for i := range 10000 {
		if err := s.Deny(ctx, "key-"+strconv.Itoa(i), now, now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, found, err := s.Denied(ctx, "key-42", "sub-unknown"); err != nil || !found {
				b.Errorf("Denied = %v, %v; want found", found, err)
				return
			}
		}
	})
}

// BenchmarkMemoryStoreWrite500k measures a write to a store that holds
// 500 000 token families: the cost per write, sweeping included (ns/op),
// and the longest single call (worst-ns), for which every other call,
// revocation checks included, waits on the lock. In "live" every family is
// live and each write rotates one, so the store neither grows nor shrinks;
// in "expired" every family has expired and each write creates one again
// (later passes repeat the creation, which Rotate takes as a retry).
// Run it with -benchtime=1000000x or more, so that the loop covers a full
// pass over the records; ns/op includes the two clock reads that time each
// call. Setting up "expired" waits until the families expire, a second or
// two.
func BenchmarkMemoryStoreWrite500k(b *testing.B) {
	const n = 500_000
	ctx := context.Background()
	families := make([]string, n)
	for i := range families {
		families[i] = "family-" + strconv.Itoa(i)
	}
	fill := func(b *testing.B, expires time.Time) *passauth.MemoryStore {
		s := passauth.NewMemoryStore()
		for _, family := range families {
			if _, err := s.Rotate(ctx, family, "", "jti-0", expires); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	b.Run("live", func(b *testing.B) {
		expires := time.Now().Add(time.Hour)
		s := fill(b, expires)
		ids := [2]string{"jti-0", "jti-1"}
		var worst time.Duration
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			lap := i / n
			start := time.Now()
			res, err := s.Rotate(ctx, families[i%n], ids[lap%2], ids[(lap+1)%2], expires)
			worst = max(worst, time.Since(start))
			if err != nil || res != passauth.RotateOK {
				b.Fatalf("Rotate = %v, %v; want ok", res, err)
			}
		}
		b.ReportMetric(float64(worst.Nanoseconds()), "worst-ns")
	})
	b.Run("expired", func(b *testing.B) {
		// Long enough to fill the store before the families expire.
		expired := time.Now().Add(2 * time.Second)
		s := fill(b, expired)
		time.Sleep(time.Until(expired))
		expires := time.Now().Add(time.Hour)
		var worst time.Duration
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			res, err := s.Rotate(ctx, families[i%n], "", "jti-0", expires)
			worst = max(worst, time.Since(start))
			if err != nil || res != passauth.RotateOK {
				b.Fatalf("Rotate = %v, %v; want ok", res, err)
			}
		}
		b.ReportMetric(float64(worst.Nanoseconds()), "worst-ns")
	})
}
