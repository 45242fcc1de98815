package passauth

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// TestMemoryLimiterFlood checks the sweep as the MemoryLimiter
// documentation describes it, on a flood of 200 000 keys that each make
// one attempt and go idle a minute later, with a simulated clock: no Allow
// drops more than four keys, however many are idle; a round later (n/4
// calls for n keys) only the busy keys are left; another round later the
// memory the flood took has returned; and the busy keys keep their counts
// throughout, the replacement of the map included.
//
// Memory is measured as in TestMemoryStoreFlood, and for the same reason
// the test is not parallel.
func TestMemoryLimiterFlood(t *testing.T) {
	const flood, busy = 200_000, 1000
	limit := Limit{Burst: 5, Interval: time.Minute}
	ctx := t.Context()
	base := heapInUse()
	l := NewMemoryLimiter(limit)
	t0 := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	l.now = func() time.Time { return now }
	allow := func(key string) time.Duration {
		t.Helper()
		wait, err := l.Allow(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	// Each busy key uses up its burst: it is busy for five minutes.
	for i := range busy {
		for range limit.Burst {
			if wait := allow("busy-" + strconv.Itoa(i)); wait != 0 {
				t.Fatalf("attempt of a fresh key told to wait %v", wait)
			}
		}
	}
	for i := range flood {
		now = now.Add(time.Microsecond)
		allow("flood-" + strconv.Itoa(i))
	}
	grown := heapInUse() - base

	// Two minutes on, the flood is idle and every busy key has a backlog
	// of three minutes. Every call now tries busy-0, so that no call adds
	// a key and each drop of Len is what a call swept.
	now = t0.Add(2 * time.Minute)
	n := l.Len()
	t.Logf("%d keys held when the flood went idle; the flood took %d kB of heap", n, grown/1000)
	round := (n + sweepBatch - 1) / sweepBatch
	most, calls := 0, 0
	call := func() {
		t.Helper()
		allow("busy-0")
		calls++
		got := l.Len()
		most = max(most, n-got)
		n = got
	}
	for giveUp := 2 * n; n > busy && calls < giveUp; {
		call()
	}
	if most > sweepBatch {
		t.Errorf("an Allow swept %d keys at once, want at most %d", most, sweepBatch)
	}
	if calls > round || n != busy {
		t.Fatalf("Len = %d after %d calls, want %d after at most %d", n, calls, busy, round)
	}
	for range (n + sweepBatch - 1) / sweepBatch {
		call()
	}
	kept := heapInUse() - base
	t.Logf("%d kB of heap kept two rounds after the flood went idle", kept/1000)
	if kept >= grown/10 {
		t.Errorf("%d kB of heap kept of the %d kB the flood took, want under a tenth", kept/1000, grown/1000)
	}

	// With a backlog of three minutes and a tolerance of four, each busy
	// key may go twice more, and then waits a minute.
	for i := 1; i < busy; i++ {
		key := "busy-" + strconv.Itoa(i)
		if w0, w1, w2 := allow(key), allow(key), allow(key); w0 != 0 || w1 != 0 || w2 != time.Minute {
			t.Fatalf("%s after the flood: waits %v, %v, %v; want 0, 0, 1m0s", key, w0, w1, w2)
		}
	}
	runtime.KeepAlive(l)
}

// TestMemoryLimiterCallsSweepFewKeys checks what TestMemoryLimiterFlood can
// only see as drops of Len: however many keys the limiter holds, busy or
// idle, no Allow takes more than sweepBatch entries of its queue, and
// neither Forgive nor Len takes any.
func TestMemoryLimiterCallsSweepFewKeys(t *testing.T) {
	t.Parallel()
	const n = 200_000
	ctx := t.Context()
	l := NewMemoryLimiter(Limit{Burst: 2, Interval: time.Minute})
	now := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	most := 0
	call := func(f func() error) {
		t.Helper()
		popped := l.keys.queue.popped
		if err := f(); err != nil {
			t.Fatal(err)
		}
		most = max(most, int(l.keys.queue.popped-popped))
	}
	// Every key is busy, then every key is idle and comes back.
	for range 2 {
		for i := range n {
			call(func() error { _, err := l.Allow(ctx, "key-"+strconv.Itoa(i)); return err })
		}
		now = now.Add(time.Hour)
	}
	if most != sweepBatch {
		t.Errorf("an Allow took up to %d entries of the queue, want %d", most, sweepBatch)
	}
	most = 0
	call(func() error { return l.Forgive(ctx, "key-0") })
	call(func() error { _ = l.Len(); return nil })
	if most != 0 {
		t.Errorf("Forgive or Len took %d entries of the queue, want none", most)
	}
}

// heapInUse returns the bytes of heap in use after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

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
			runtime.GC() // leave the setup's garbage out of the loop
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

// FuzzFoldKey checks that two user names share a limiter key exactly when
// strings.EqualFold calls them equal, and that any name and its case
// variants (each character replaced by another of its folding orbit) share
// one.
func FuzzFoldKey(f *testing.F) {
	for _, seed := range [][2]string{
		{"alice", "ALICE"}, {"ſam", "SAM"}, {"ſAM", "sam"}, {"ϐeta", "βETA"}, {"ϑ", "Θ"},
		{"ς", "Σ"}, {"K", "k"}, {"ß", "ẞ"}, {"ß", "ss"}, {"İ", "i"}, {"µ", "Μ"}, {"Ǳ", "ǲ"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return // refused before any key is made
		}
		if same, equal := foldKey(a) == foldKey(b), strings.EqualFold(a, b); same != equal {
			t.Fatalf("foldKey equal %v, EqualFold %v for %q and %q", same, equal, a, b)
		}
		variant := strings.Map(unicode.SimpleFold, a)
		if foldKey(variant) != foldKey(a) {
			t.Fatalf("%q and its case variant %q have different keys", a, variant)
		}
	})
}

func TestAddrKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"unix-socket", "unix-socket"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := addrKey(tt.addr); got != tt.want {
			t.Errorf("addrKey(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
