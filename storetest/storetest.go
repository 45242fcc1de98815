// Package storetest checks an implementation of passauth.Store against the
// contract documented on that interface, the way testing/fstest checks an
// fs.FS. Every store, in this module or another, should pass it.
//
// Call TestStore from a test of the implementation, with a function that
// returns a ready store:
//
//	func TestStore(t *testing.T) {
//		storetest.TestStore(t, func(t *testing.T) passauth.Store {
//			return mystore.New(client)
//		})
//	}
//
// TestStore runs its cases as parallel subtests and calls newStore once for
// each, so newStore must be safe to call concurrently. The stores it returns
// may share one backend (one Redis database, say): every family ID, token ID
// and denylist key the suite uses is random, so cases never see each other's
// records, and newStore neither needs to nor may clear the backend. The
// suite never sleeps: it checks expiry with times already in the past.
package storetest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/passauth/passauth"
)

// TestStore runs the conformance suite against stores made by newStore.
func TestStore(t *testing.T, newStore func(t *testing.T) passauth.Store) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, s passauth.Store)
	}{
		{"Rotate", testRotate},
		{"Chain", testChain},
		{"Retry", testRetry},
		{"CreateExisting", testCreateExisting},
		{"UnknownFamily", testUnknownFamily},
		{"RevokeFamily", testRevokeFamily},
		{"Expiry", testExpiry},
		{"Concurrent", testConcurrent},
		{"Deny", testDeny},
		{"SeparateKeyspaces", testSeparateKeyspaces},
		{"CancelledContext", testCancelledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

const (
	ok      = passauth.RotateOK
	reused  = passauth.RotateReused
	revoked = passauth.RotateRevoked
)

func testRotate(t *testing.T, s passauth.Store) {
	fam, a, b := newName("family"), newName("id"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	rotate(t, s, "current token", fam, a, b, later(), ok)
	rotate(t, s, "consumed token", fam, a, newName("id"), later(), reused)
	rotate(t, s, "current token after reuse", fam, b, newName("id"), later(), revoked)
}

// testRetry repeats calls that succeeded, as a client does whose answer was
// lost: they succeed again and are not taken for reuse.
func testRetry(t *testing.T, s passauth.Store) {
	fam, a, b, c := newName("family"), newName("id"), newName("id"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	rotate(t, s, "create again", fam, "", a, later(), ok)
	rotate(t, s, "rotation", fam, a, b, later(), ok)
	rotate(t, s, "the same rotation again", fam, a, b, later(), ok)
	rotate(t, s, "next rotation", fam, b, c, later(), ok)
	rotate(t, s, "a stale retry is reuse", fam, a, b, later(), reused)
	rotate(t, s, "family revoked", fam, c, newName("id"), later(), revoked)
}

// testCreateExisting creates a family that exists with another ID: reuse,
// which revokes it.
func testCreateExisting(t *testing.T, s passauth.Store) {
	fam, a := newName("family"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	rotate(t, s, "create over it", fam, "", newName("id"), later(), reused)
	rotate(t, s, "family revoked", fam, a, newName("id"), later(), revoked)
}

func testChain(t *testing.T, s passauth.Store) {
	fam := newName("family")
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = newName("id")
	}
	rotate(t, s, "create", fam, "", ids[0], later(), ok)
	for i := 1; i < len(ids); i++ {
		rotate(t, s, "rotation", fam, ids[i-1], ids[i], later(), ok)
	}
	rotate(t, s, "token from two rotations back", fam, ids[3], newName("id"), later(), reused)

	// A token is current only in its own family.
	f1, f2, x, y := newName("family"), newName("family"), newName("id"), newName("id")
	rotate(t, s, "create first family", f1, "", x, later(), ok)
	rotate(t, s, "create second family", f2, "", y, later(), ok)
	rotate(t, s, "current token of the first family in the second", f2, x, newName("id"), later(), reused)
	rotate(t, s, "first family after that", f1, x, newName("id"), later(), ok)
}

func testUnknownFamily(t *testing.T, s passauth.Store) {
	fam, a := newName("family"), newName("id")
	rotate(t, s, "unknown family", fam, newName("id"), a, later(), revoked)
	rotate(t, s, "unknown family, new ID of the failed call", fam, a, newName("id"), later(), revoked)
}

func testRevokeFamily(t *testing.T, s passauth.Store) {
	fam, a := newName("family"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	revokeFamily(t, s, fam)
	rotate(t, s, "current token after RevokeFamily", fam, a, newName("id"), later(), revoked)
	revokeFamily(t, s, fam) // again: still no error

	unknown := newName("family")
	revokeFamily(t, s, unknown)
	rotate(t, s, "family revoked while unknown", unknown, newName("id"), newName("id"), later(), revoked)
}

func testExpiry(t *testing.T, s passauth.Store) {
	past := time.Now().Add(-time.Second)

	fam, a := newName("family"), newName("id")
	if _, err := s.Rotate(t.Context(), fam, "", a, past); err != nil {
		t.Fatalf("Rotate creating an expired family: %v", err)
	}
	rotate(t, s, "expired family", fam, a, newName("id"), later(), revoked)

	fam, a, b := newName("family"), newName("id"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	rotate(t, s, "rotation extending expiry", fam, a, b, later().Add(time.Hour), ok)
	rotate(t, s, "rotation after extending", fam, b, newName("id"), later(), ok)

	fam, a, b = newName("family"), newName("id"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	rotate(t, s, "rotation moving expiry to the past", fam, a, b, past, ok)
	rotate(t, s, "family past its new expiry", fam, b, newName("id"), later(), revoked)

	key := newName("key")
	deny(t, s, key, past, past)
	denied(t, s, "key denied with past expiry", []string{key}, time.Time{}, false)
}

// testConcurrent checks that of many concurrent rotations of one token
// exactly one wins and that the losers revoke the family.
func testConcurrent(t *testing.T, s passauth.Store) {
	const callers = 50
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for range 5 {
		fam, old := newName("family"), newName("id")
		rotate(t, s, "create", fam, "", old, later(), ok)

		newIDs := make([]string, callers)
		for i := range newIDs {
			newIDs[i] = newName("id")
		}
		results := make([]passauth.RotateResult, callers)
		errs := make([]error, callers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				<-start
				results[i], errs[i] = s.Rotate(ctx, fam, old, newIDs[i], later())
			})
		}
		close(start)
		wg.Wait()

		winner, counts := -1, map[passauth.RotateResult]int{}
		for i, res := range results {
			if errs[i] != nil {
				t.Fatalf("concurrent Rotate: %v", errs[i])
			}
			counts[res]++
			if res == ok {
				winner = i
			}
		}
		if counts[ok] != 1 || counts[reused] == 0 || counts[reused]+counts[revoked] != callers-1 {
			t.Fatalf("%d concurrent Rotate calls with one token: %d ok, %d reused, %d revoked; want exactly 1 ok, at least 1 reused, the rest reused or revoked",
				callers, counts[ok], counts[reused], counts[revoked])
		}
		rotate(t, s, "winner's token after the others' reuse", fam, newIDs[winner], newName("id"), later(), revoked)
	}
}

func testDeny(t *testing.T, s passauth.Store) {
	t1 := time.Now().Round(0)
	t0, t2 := t1.Add(-time.Minute), t1.Add(time.Minute)
	k, k2, unknown := newName("key"), newName("key"), newName("key")

	denied(t, s, "unknown key", []string{unknown}, time.Time{}, false)
	denied(t, s, "no keys", nil, time.Time{}, false)

	deny(t, s, k, t1, later())
	denied(t, s, "denied key", []string{k}, t1, true)
	denied(t, s, "other key", []string{k2}, time.Time{}, false)

	deny(t, s, k, t0, later())
	denied(t, s, "key denied again earlier", []string{k}, t1, true)
	deny(t, s, k, t2, later())
	denied(t, s, "key denied again later", []string{k}, t2, true)

	deny(t, s, k2, t0, later())
	denied(t, s, "second key", []string{k2}, t0, true)
	denied(t, s, "several keys", []string{k2, k, unknown}, t2, true)
	denied(t, s, "several keys, unknown first", []string{unknown, k2}, t0, true)
}

// testSeparateKeyspaces checks that family IDs and denylist keys do not
// collide even when they are equal strings.
func testSeparateKeyspaces(t *testing.T, s passauth.Store) {
	at := time.Now().Round(0)
	name, a, b := newName("shared"), newName("id"), newName("id")
	deny(t, s, name, at, later())
	rotate(t, s, "create family named like a denied key", name, "", a, later(), ok)
	rotate(t, s, "rotate it", name, a, b, later(), ok)
	revokeFamily(t, s, name)
	denied(t, s, "key named like a revoked family", []string{name}, at, true)

	name = newName("shared")
	rotate(t, s, "create family", name, "", newName("id"), later(), ok)
	denied(t, s, "key named like a family", []string{name}, time.Time{}, false)
}

// testCancelledContext checks that a call with a cancelled context either
// fails or does what it reports.
func testCancelledContext(t *testing.T, s passauth.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	fam, a := newName("family"), newName("id")
	if res, err := s.Rotate(ctx, fam, "", a, later()); err == nil {
		if res != ok {
			t.Fatalf("Rotate creating a family with a cancelled context = %v, want an error or ok", res)
		}
		rotate(t, s, "family created with a cancelled context", fam, a, newName("id"), later(), ok)
	}

	fam, a = newName("family"), newName("id")
	rotate(t, s, "create", fam, "", a, later(), ok)
	if err := s.RevokeFamily(ctx, fam); err == nil {
		rotate(t, s, "family revoked with a cancelled context", fam, a, newName("id"), later(), revoked)
	}

	at, key := time.Now().Round(0), newName("key")
	if err := s.Deny(ctx, key, at, later()); err == nil {
		denied(t, s, "key denied with a cancelled context", []string{key}, at, true)
	}
	deny(t, s, key, at, later())
	if got, found, err := s.Denied(ctx, key); err == nil && (!found || !sameTime(got, at)) {
		t.Fatalf("Denied with a cancelled context = %v, %v; want an error or %v, true", got, found, at)
	}
}

// newName returns a random name, so that cases sharing a backend do not
// collide.
func newName(kind string) string {
	return "storetest-" + kind + "-" + rand.Text()
}

// later returns an expiry time far enough ahead for any case to finish.
func later() time.Time {
	return time.Now().Add(time.Hour)
}

func rotate(t *testing.T, s passauth.Store, what, family, oldID, newID string, expires time.Time, want passauth.RotateResult) {
	t.Helper()
	got, err := s.Rotate(t.Context(), family, oldID, newID, expires)
	if err != nil {
		t.Fatalf("Rotate (%s): %v", what, err)
	}
	if got != want {
		t.Fatalf("Rotate (%s) = %v, want %v", what, got, want)
	}
}

func revokeFamily(t *testing.T, s passauth.Store, family string) {
	t.Helper()
	if err := s.RevokeFamily(t.Context(), family); err != nil {
		t.Fatalf("RevokeFamily: %v", err)
	}
}

func deny(t *testing.T, s passauth.Store, key string, at, expires time.Time) {
	t.Helper()
	if err := s.Deny(t.Context(), key, at, expires); err != nil {
		t.Fatalf("Deny: %v", err)
	}
}

// denied checks the answer of s.Denied(keys...), comparing times to the
// millisecond, the precision a store may keep.
func denied(t *testing.T, s passauth.Store, what string, keys []string, wantAt time.Time, wantFound bool) {
	t.Helper()
	at, found, err := s.Denied(t.Context(), keys...)
	if err != nil {
		t.Fatalf("Denied (%s): %v", what, err)
	}
	if found != wantFound || (found && !sameTime(at, wantAt)) {
		t.Fatalf("Denied (%s) = %v, %v; want %v, %v", what, at, found, wantAt, wantFound)
	}
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Millisecond && d < time.Millisecond
}
