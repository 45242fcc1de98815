package passauth_test

import (
	"context"
	"runtime"
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

// The calls of the MemoryStore tests, on records of one subject: families
// by ID, and token denials by key.

func memRotate(ctx context.Context, s *passauth.MemoryStore, family, oldID, newID string, expires time.Time) (passauth.RotateResult, error) {
	r, err := s.Rotate(ctx, passauth.Rotation{Subject: "mem", Family: family, OldID: oldID, NewID: newID,
		Now: time.Now(), Expires: expires, KeepUntil: expires, DenyUntil: expires})
	return r.Result, err
}

func memDeny(ctx context.Context, s *passauth.MemoryStore, key string, at, expires time.Time) error {
	return s.Deny(ctx, passauth.Denial{Subject: "mem", Token: key, At: at, Expires: expires})
}

func memDenied(ctx context.Context, s *passauth.MemoryStore, keys ...string) (time.Time, bool, error) {
	var at time.Time
	var found bool
	for _, k := range keys {
		a, f, err := s.Denied(ctx, passauth.DenyQuery{Subject: "mem", Token: k})
		if err != nil {
			return time.Time{}, false, err
		}
		if f && (!found || a.After(at)) {
			at, found = a, true
		}
	}
	return at, found, nil
}

func memRevoke(ctx context.Context, s *passauth.MemoryStore, family string) error {
	return s.RevokeSession(ctx, passauth.Denial{Subject: "mem", Session: family, At: time.Now(), Expires: time.Now().Add(time.Hour)})
}

// memorySweepBatch is the number of records of each kind that a write call
// to a MemoryStore sweeps, as its documentation says.
const memorySweepBatch = 4

// writeExpired writes n records that have already expired, alternating
// between token families and denylist keys.
func writeExpired(t *testing.T, s *passauth.MemoryStore, prefix string, n int) {
	t.Helper()
	past := time.Now().Add(-time.Second)
	for i := range n {
		id := prefix + strconv.Itoa(i)
		if i%2 == 0 {
			_, err := memRotate(t.Context(), s, "family-"+id, "", "jti-"+id, past)
			require.NoError(t, err)
		} else {
			require.NoError(t, memDeny(t.Context(), s, "key-"+id, past, past))
		}
	}
}

// TestMemoryStoreBounded checks that expired records do not pile up: each
// write sweeps away the expired record the previous one wrote.
func TestMemoryStoreBounded(t *testing.T) {
	t.Parallel()
	s := passauth.NewMemoryStore()
	most := 0
	for i := range 20 {
		writeExpired(t, s, strconv.Itoa(i)+"-", 1000)
		most = max(most, s.Len())
	}
	assert.LessOrEqual(t, most, 2, "records held while writing 20 000 expired ones")
	assert.Positive(t, most, "records held before the next write")
}

func TestMemoryStoreKeepsUnexpired(t *testing.T) {
	t.Parallel()
	const live = 3000 // per kind
	ctx := t.Context()
	s := passauth.NewMemoryStore()
	at, expires := time.Now().Round(0), time.Now().Add(time.Hour)
	for i := range live {
		id := strconv.Itoa(i)
		res, err := memRotate(ctx, s, "live-family-"+id, "", "jti-"+id, expires)
		require.NoError(t, err)
		require.Equal(t, passauth.RotateOK, res)
		require.NoError(t, memDeny(ctx, s, "live-key-"+id, at, expires))
		writeExpired(t, s, id+"-", 4)
	}

	// The store holds at most about 4/3 of its unexpired records.
	n := s.Len()
	assert.GreaterOrEqual(t, n, 2*live, "records held")
	assert.LessOrEqual(t, n, 4*(2*live)/3, "records held")
	requireLive(t, s, live, expires, at)
}

// requireLive checks that the live families and denials written before a
// sweep or a flood are all still there: each family rotates (its next token
// expiring at expires) and each key is denied at at.
func requireLive(t *testing.T, s *passauth.MemoryStore, live int, expires, at time.Time) {
	t.Helper()
	ctx := context.Background()
	for i := range live {
		id := strconv.Itoa(i)
		res, err := memRotate(ctx, s, "live-family-"+id, "jti-"+id, "next-"+id, expires)
		require.NoError(t, err)
		require.Equal(t, passauth.RotateOK, res, "family %d", i)
		got, found, err := memDenied(ctx, s, "live-key-"+id)
		require.NoError(t, err)
		require.True(t, found, "key %d", i)
		require.True(t, got.Equal(at), "key %d denied at %v, want %v", i, got, at)
	}
}

// TestMemoryStoreFlood checks the sweep as the MemoryStore documentation
// describes it, on a flood of 200 000 records, half token families and half
// denylist keys, that expire together: no write call drops more than four
// records of each kind, however many have expired; a round later (n/4
// writes for n records) every expired record is gone; another round later
// the memory the flood took has returned; and the unexpired records outlive
// it all, the replacement of both maps included.
//
// Memory is measured as the live heap after a collection, against a
// baseline taken just before the flood: what stays of the heap the flood
// took must be under a tenth, where maps that never shrink keep most of it.
// With tens of megabytes at stake, a collection's noise of some hundred
// kilobytes does not matter; the test is not parallel, so that no other
// test allocates meanwhile.
//
// The store reads the clock itself, so the test waits once, until the flood
// expires, about two seconds after it began. The flood must be written
// before it expires: a part swept while it is written would not be in the
// heap measured. On a machine too busy for that, the test starts again
// with twice the time, up to 16 seconds.
func TestMemoryStoreFlood(t *testing.T) {
	const flood, live = 100_000, 1000 // records of each kind
	ctx := t.Context()
	var (
		s           *passauth.MemoryStore
		base, grown int64
		at, later   time.Time
	)
	for window := 2 * time.Second; ; window *= 2 {
		s = nil
		base = liveHeap()
		s = passauth.NewMemoryStore()
		at, later = time.Now().Round(0), time.Now().Add(time.Hour)
		for i := range live {
			id := strconv.Itoa(i)
			res, err := memRotate(ctx, s, "live-family-"+id, "", "jti-"+id, later)
			require.NoError(t, err)
			require.Equal(t, passauth.RotateOK, res)
			require.NoError(t, memDeny(ctx, s, "live-key-"+id, at, later))
		}
		expiry := time.Now().Add(window)
		for i := range flood {
			id := strconv.Itoa(i)
			if _, err := memRotate(ctx, s, "flood-family-"+id, "", "jti-0", expiry); err != nil {
				t.Fatal(err)
			}
			if err := memDeny(ctx, s, "flood-key-"+id, at, expiry); err != nil {
				t.Fatal(err)
			}
		}
		grown = liveHeap() - base
		spare := time.Until(expiry)
		t.Logf("filled with %v to spare before the flood expires", spare)
		if spare > 0 {
			time.Sleep(spare)
			break
		}
		if window >= 16*time.Second {
			t.Fatalf("writing the flood took longer than %v", window)
		}
	}

	// The writes below revoke one unknown session, whose denial is one
	// record more, written once. From here on no write adds a record, so
	// each drop of Len is what a call swept. A round over either kind takes
	// (flood+live)/4 writes.
	require.NoError(t, memRevoke(ctx, s, "unknown-family"))
	const kept = 2*live + 1
	n := s.Len()
	t.Logf("%d records held when the flood expired; the flood took %d kB of heap", n, grown/1000)
	round := (flood + live + memorySweepBatch - 1) / memorySweepBatch
	most, writes := 0, 0
	write := func() {
		t.Helper()
		if err := memRevoke(ctx, s, "unknown-family"); err != nil {
			t.Fatal(err)
		}
		writes++
		got := s.Len()
		most = max(most, n-got)
		n = got
	}
	for giveUp := 2 * n; n > kept && writes < giveUp; {
		write()
	}
	assert.LessOrEqual(t, most, 2*memorySweepBatch, "records a write call swept at once")
	assert.LessOrEqual(t, writes, round, "writes until every expired record was swept")
	require.Equal(t, kept, s.Len(), "records held once the flood was swept")
	for range (live + memorySweepBatch - 1) / memorySweepBatch {
		write()
	}
	heap := liveHeap() - base
	t.Logf("%d kB of heap kept two rounds after the flood expired", heap/1000)
	assert.Less(t, heap, grown/10, "heap kept of the %d kB the flood took", grown/1000)

	requireLive(t, s, live, later, at)
	runtime.KeepAlive(s)
}

// liveHeap returns the bytes of heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
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
			res, err := memRotate(ctx, s, family, old, ids[i%2], expires)
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
		if err := memDeny(ctx, s, "key-"+strconv.Itoa(i), now, now.Add(time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// What CheckRevoked asks on every request: the subject, the
			// session and the token.
			if _, found, err := s.Denied(ctx, passauth.DenyQuery{Subject: "mem", Session: "sid-unknown", Token: "key-42"}); err != nil || !found {
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
			if _, err := memRotate(ctx, s, family, "", "jti-0", expires); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	b.Run("live", func(b *testing.B) {
		expires := time.Now().Add(time.Hour)
		s := fill(b, expires)
		ids := [2]string{"jti-0", "jti-1"}
		runtime.GC() // leave the setup's garbage out of the loop
		var worst time.Duration
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			lap := i / n
			start := time.Now()
			res, err := memRotate(ctx, s, families[i%n], ids[lap%2], ids[(lap+1)%2], expires)
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
		runtime.GC() // leave the setup's garbage out of the loop
		var worst time.Duration
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			res, err := memRotate(ctx, s, families[i%n], "", "jti-0", expires)
			worst = max(worst, time.Since(start))
			if err != nil || res != passauth.RotateOK {
				b.Fatalf("Rotate = %v, %v; want ok", res, err)
			}
		}
		b.ReportMetric(float64(worst.Nanoseconds()), "worst-ns")
	})
}
