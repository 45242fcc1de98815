package storetest

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/passauth/passauth"
)

// TestLimiter runs the conformance suite of passauth.Limiter against
// limiters made by newLimiter, which must return a ready limiter enforcing
// limit:
//
//	func TestLimiter(t *testing.T) {
//		storetest.TestLimiter(t, func(t *testing.T, limit passauth.Limit) passauth.Limiter {
//			return mylimiter.New(client, limit)
//		})
//	}
//
// It checks the contract documented on passauth.Limiter and passauth.Limit:
// a fresh key gets Burst attempts and then a wait of at most Interval; a
// denied attempt counts nothing; keys are independent; Forgive takes back
// one counted attempt and never grants more than Burst; Allow decides and
// counts atomically, so that of many concurrent attempts exactly Burst go
// through; and a key that waits as told may try again.
//
// As with TestStore, the cases run as parallel subtests, each calling
// newLimiter, and every key is random, so the limiters may share a backend.
// Most cases use an Interval of an hour and never sleep; the two that check
// that time restores attempts use an Interval of 100ms and sleep once, less
// than half a second.
func TestLimiter(t *testing.T, newLimiter func(t *testing.T, limit passauth.Limit) passauth.Limiter) {
	t.Helper()
	cases := []struct {
		name  string
		limit passauth.Limit
		run   func(t *testing.T, l passauth.Limiter, limit passauth.Limit)
	}{
		{"BurstOne", passauth.Limit{Burst: 1, Interval: time.Hour}, testBurst},
		{"BurstThree", passauth.Limit{Burst: 3, Interval: time.Hour}, testBurst},
		{"BurstTwenty", passauth.Limit{Burst: 20, Interval: 6 * time.Second}, testBurst},
		{"DeniedCountsNothing", passauth.Limit{Burst: 3, Interval: time.Hour}, testDeniedCountsNothing},
		{"IndependentKeys", passauth.Limit{Burst: 2, Interval: time.Hour}, testIndependentKeys},
		{"Forgive", passauth.Limit{Burst: 3, Interval: time.Hour}, testForgive},
		{"ForgiveBeyondBurst", passauth.Limit{Burst: 3, Interval: time.Hour}, testForgiveBeyondBurst},
		{"ForgiveUnknownKey", passauth.Limit{Burst: 2, Interval: time.Hour}, testForgiveUnknownKey},
		{"ConcurrentAllow", passauth.Limit{Burst: 5, Interval: time.Hour}, testConcurrentAllow},
		{"ConcurrentForgive", passauth.Limit{Burst: 10, Interval: time.Hour}, testConcurrentForgive},
		{"WaitIsEnough", passauth.Limit{Burst: 1, Interval: 100 * time.Millisecond}, testWaitIsEnough},
		{"FullRecovery", passauth.Limit{Burst: 3, Interval: 100 * time.Millisecond}, testFullRecovery},
		{"CancelledContext", passauth.Limit{Burst: 1, Interval: time.Hour}, testLimiterCancelledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newLimiter(t, c.limit), c.limit)
		})
	}
}

// testBurst checks that a fresh key is allowed Burst attempts and then told
// to wait at most one Interval.
func testBurst(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	denied1(t, l, key, limit, "after Burst attempts")
}

// testDeniedCountsNothing checks that denied attempts do not lengthen the
// wait and are not counted: after many of them, one Forgive still makes room
// for exactly one attempt.
func testDeniedCountsNothing(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	for range 20 {
		denied1(t, l, key, limit, "denied again")
	}
	forgive(t, l, key)
	allowN(t, l, key, 1, "after Forgive following denied attempts")
	denied1(t, l, key, limit, "after the forgiven attempt")
}

// testIndependentKeys checks that using up one key leaves others whole,
// including keys that differ only by characters a backend might treat
// specially in its own key names.
func testIndependentKeys(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	base := newName("key")
	keys := []string{
		base,
		base + "x",
		"x" + base,
		"user:" + base,
		"addr:" + base,
		base + "}",
		"{" + base + "}",
		base + ":lim",
		base + " ",
		base + "\x00",
		base + "é",
	}
	for i, key := range keys {
		allowN(t, l, key, limit.Burst, "key #"+strconv.Itoa(i)+", fresh")
		denied1(t, l, key, limit, "key #"+strconv.Itoa(i)+", used up")
	}
	// Forgiving one key gives nothing back to the others.
	forgive(t, l, keys[0])
	for i, key := range keys[1:] {
		denied1(t, l, key, limit, "key #"+strconv.Itoa(i+1)+" after another key was forgiven")
	}
	allowN(t, l, keys[0], 1, "forgiven key")
}

// testForgive checks that each Forgive after allowed attempts makes room
// for exactly one more.
func testForgive(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	denied1(t, l, key, limit, "used up")
	forgive(t, l, key)
	allowN(t, l, key, 1, "after one Forgive")
	denied1(t, l, key, limit, "after the forgiven attempt")
	forgive(t, l, key)
	forgive(t, l, key)
	allowN(t, l, key, 2, "after two Forgives")
	denied1(t, l, key, limit, "after the two forgiven attempts")

	// The pattern of the token handler: every success is forgiven, so
	// successes alone never use up the key.
	ok := newName("key")
	for i := range 3 * limit.Burst {
		allowN(t, l, ok, 1, "success #"+strconv.Itoa(i))
		forgive(t, l, ok)
	}
	allowN(t, l, ok, limit.Burst, "after forgiven successes")
}

// testForgiveBeyondBurst checks that forgiving more attempts than were
// counted gives a key no more than Burst.
func testForgiveBeyondBurst(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, 1, "fresh key")
	for range limit.Burst + 3 {
		forgive(t, l, key)
	}
	allowN(t, l, key, limit.Burst, "after more Forgives than attempts")
	denied1(t, l, key, limit, "after Burst attempts")
}

// testForgiveUnknownKey checks that forgiving a key never seen is no error
// and no credit.
func testForgiveUnknownKey(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	for range 3 {
		forgive(t, l, key)
	}
	allowN(t, l, key, limit.Burst, "key forgiven before any attempt")
	denied1(t, l, key, limit, "after Burst attempts")
}

// testConcurrentAllow checks that Allow counts atomically: of many
// simultaneous attempts on one key exactly Burst are allowed, and the others
// are told to wait at most one Interval.
func testConcurrentAllow(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	for range 5 {
		key := newName("key")
		waits, errs := concurrently(t, 50, func(ctx context.Context) (time.Duration, error) {
			return l.Allow(ctx, key)
		})
		allowed := 0
		for i, w := range waits {
			if errs[i] != nil {
				t.Fatalf("concurrent Allow: %v", errs[i])
			}
			switch {
			case w == 0:
				allowed++
			case w < 0 || w > limit.Interval:
				t.Fatalf("concurrent Allow returned a wait of %v, want 0 or in (0, %v]", w, limit.Interval)
			}
		}
		if allowed != limit.Burst {
			t.Fatalf("50 concurrent Allow calls on one key: %d allowed, want exactly Burst = %d", allowed, limit.Burst)
		}
		denied1(t, l, key, limit, "after the concurrent attempts")
	}
}

// testConcurrentForgive checks that Forgive is atomic too: as many
// simultaneous Forgives as counted attempts make the key whole again, and
// more never make it more than whole.
func testConcurrentForgive(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	_, errs := concurrently(t, limit.Burst, func(ctx context.Context) (time.Duration, error) {
		return 0, l.Forgive(ctx, key)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Forgive: %v", err)
		}
	}
	allowN(t, l, key, limit.Burst, "after Burst concurrent Forgives")
	denied1(t, l, key, limit, "used up again")

	_, errs = concurrently(t, 5*limit.Burst, func(ctx context.Context) (time.Duration, error) {
		return 0, l.Forgive(ctx, key)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Forgive: %v", err)
		}
	}
	allowN(t, l, key, limit.Burst, "after more concurrent Forgives than attempts")
	denied1(t, l, key, limit, "after Burst attempts")
}

// testWaitIsEnough checks that a key that waits as long as Allow said may
// try again. It sleeps once, at most Interval plus a margin.
func testWaitIsEnough(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	wait := denied1(t, l, key, limit, "after Burst attempts")
	time.Sleep(wait + limit.Interval/2)
	allowN(t, l, key, 1, "after the wait Allow returned")
}

// testFullRecovery checks that attempts older than Burst×Interval no longer
// count. It sleeps once, Burst×Interval plus a margin.
func testFullRecovery(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	key := newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	time.Sleep(time.Duration(limit.Burst)*limit.Interval + limit.Interval)
	allowN(t, l, key, limit.Burst, "after Burst×Interval")
}

// testLimiterCancelledContext checks that a call with a cancelled context
// either fails or does what it reports.
func testLimiterCancelledContext(t *testing.T, l passauth.Limiter, limit passauth.Limit) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	key := newName("key")
	if wait, err := l.Allow(ctx, key); err == nil {
		if wait != 0 {
			t.Fatalf("Allow on a fresh key with a cancelled context = %v, want an error or 0", wait)
		}
		denied1(t, l, key, limit, "after an attempt allowed with a cancelled context")
	}

	key = newName("key")
	allowN(t, l, key, limit.Burst, "fresh key")
	if err := l.Forgive(ctx, key); err == nil {
		allowN(t, l, key, 1, "after Forgive with a cancelled context")
	}
}

// allowN checks that the next n attempts on key are allowed.
func allowN(t *testing.T, l passauth.Limiter, key string, n int, what string) {
	t.Helper()
	for i := range n {
		wait, err := l.Allow(t.Context(), key)
		if err != nil {
			t.Fatalf("Allow (%s, attempt %d of %d): %v", what, i+1, n, err)
		}
		if wait != 0 {
			t.Fatalf("Allow (%s, attempt %d of %d) = wait %v, want 0", what, i+1, n, wait)
		}
	}
}

// denied1 checks that the next attempt on key is denied with a wait in
// (0, Interval], and returns the wait.
func denied1(t *testing.T, l passauth.Limiter, key string, limit passauth.Limit, what string) time.Duration {
	t.Helper()
	wait, err := l.Allow(t.Context(), key)
	if err != nil {
		t.Fatalf("Allow (%s): %v", what, err)
	}
	if wait <= 0 || wait > limit.Interval {
		t.Fatalf("Allow (%s) = wait %v, want a wait in (0, %v]", what, wait, limit.Interval)
	}
	return wait
}

func forgive(t *testing.T, l passauth.Limiter, key string) {
	t.Helper()
	if err := l.Forgive(t.Context(), key); err != nil {
		t.Fatalf("Forgive: %v", err)
	}
}

// concurrently starts n calls of call at once and returns their results.
func concurrently(t *testing.T, n int, call func(ctx context.Context) (time.Duration, error)) ([]time.Duration, []error) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	waits, errs := make([]time.Duration, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			waits[i], errs[i] = call(ctx)
		})
	}
	close(start)
	wg.Wait()
	return waits, errs
}
