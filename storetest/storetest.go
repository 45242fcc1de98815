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
// may share one backend (one Redis database, say): every subject, family
// ID and token ID the suite uses is random, so cases never see each other's
// records, and newStore neither needs to nor may clear the backend. The
// suite never sleeps: it checks expiry with times already in the past, and
// the grace window with the Rotation's own clock.
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
// Its Sessions case runs when the store is a passauth.SessionLister and is
// skipped otherwise.
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
		{"RevokeSession", testRevokeSession},
		{"Expiry", testExpiry},
		{"Concurrent", testConcurrent},
		{"ReuseDenies", testReuseDenies},
		{"RotateChecksDenials", testRotateChecksDenials},
		{"Grace", testGrace},
		{"GraceConcurrent", testGraceConcurrent},
		{"Deny", testDeny},
		{"SeparateKeyspaces", testSeparateKeyspaces},
		{"CancelledContext", testCancelledContext},
		{"Sessions", testSessions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newStore(t))
		})
	}
}

const (
	ok       = passauth.RotateOK
	reused   = passauth.RotateReused
	revoked  = passauth.RotateRevoked
	replayed = passauth.RotateReplayed
)

// session is one test session: its subject, its family ID and its client.
type session struct {
	subject, family, client string
	authTime                time.Time
}

func newSession() session {
	return session{subject: newName("subject"), family: newName("family"), client: newName("client"), authTime: time.Now().Round(0)}
}

// rotation returns the Rotation of s from oldID to newID at now, strict,
// kept an hour.
func (s session) rotation(oldID, newID string, now time.Time) passauth.Rotation {
	exp := now.Add(time.Hour)
	return passauth.Rotation{
		Subject: s.subject, Family: s.family, OldID: oldID, NewID: newID, ClientID: s.client,
		AuthTime: s.authTime, Now: now, Expires: exp, KeepUntil: exp, DenyUntil: later(),
	}
}

func testRotate(t *testing.T, s passauth.Store) {
	sess, a, b := newSession(), newName("id"), newName("id")
	now := time.Now()
	got := rotate(t, s, "start", sess.rotation("", a, now), ok)
	if got.Current != a {
		t.Fatalf("Rotate (start) Current = %q, want the new ID", got.Current)
	}
	r := sess.rotation(a, b, now)
	got = rotate(t, s, "current token", r, ok)
	if got.Current != b || !sameTime(got.Expires, r.Expires) {
		t.Fatalf("Rotate (current token) = %+v, want Current %q and Expires %v", got, b, r.Expires)
	}
	rotate(t, s, "consumed token", sess.rotation(a, newName("id"), now), reused)
	rotate(t, s, "current token after reuse", sess.rotation(b, newName("id"), now), revoked)
}

// testRetry repeats calls that succeeded, as a client does whose answer was
// lost: they succeed again and are not taken for reuse.
func testRetry(t *testing.T, s passauth.Store) {
	sess, a, b, c := newSession(), newName("id"), newName("id"), newName("id")
	now := time.Now()
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	rotate(t, s, "start again", sess.rotation("", a, now), ok)
	rotate(t, s, "rotation", sess.rotation(a, b, now), ok)
	if got := rotate(t, s, "the same rotation again", sess.rotation(a, b, now), ok); got.Current != b {
		t.Fatalf("a repeated rotation answers Current %q, want %q", got.Current, b)
	}
	rotate(t, s, "next rotation", sess.rotation(b, c, now), ok)
	rotate(t, s, "a stale retry is reuse", sess.rotation(a, b, now), reused)
	rotate(t, s, "family revoked", sess.rotation(c, newName("id"), now), revoked)
}

// testCreateExisting starts a family that exists with another ID: reuse,
// which revokes it.
func testCreateExisting(t *testing.T, s passauth.Store) {
	sess, a := newSession(), newName("id")
	now := time.Now()
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	rotate(t, s, "start over it", sess.rotation("", newName("id"), now), reused)
	rotate(t, s, "family revoked", sess.rotation(a, newName("id"), now), revoked)
}

func testChain(t *testing.T, s passauth.Store) {
	sess := newSession()
	now := time.Now()
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = newName("id")
	}
	rotate(t, s, "start", sess.rotation("", ids[0], now), ok)
	for i := 1; i < len(ids); i++ {
		rotate(t, s, "rotation", sess.rotation(ids[i-1], ids[i], now), ok)
	}
	rotate(t, s, "token from two rotations back", sess.rotation(ids[3], newName("id"), now), reused)

	// A token is current only in its own family.
	s1, s2, x, y := newSession(), newSession(), newName("id"), newName("id")
	rotate(t, s, "start first family", s1.rotation("", x, now), ok)
	rotate(t, s, "start second family", s2.rotation("", y, now), ok)
	rotate(t, s, "current token of the first family in the second", s2.rotation(x, newName("id"), now), reused)
	rotate(t, s, "first family after that", s1.rotation(x, newName("id"), now), ok)
}

func testUnknownFamily(t *testing.T, s passauth.Store) {
	sess, a := newSession(), newName("id")
	now := time.Now()
	rotate(t, s, "unknown family", sess.rotation(newName("id"), a, now), revoked)
	rotate(t, s, "unknown family, new ID of the failed call", sess.rotation(a, newName("id"), now), revoked)
}

func testRevokeSession(t *testing.T, s passauth.Store) {
	sess, a := newSession(), newName("id")
	now := time.Now()
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	end := later()
	revokeSession(t, s, passauth.Denial{Subject: sess.subject, Session: sess.family, At: end, Expires: end})
	rotate(t, s, "current token after RevokeSession", sess.rotation(a, newName("id"), now), revoked)
	denied(t, s, "the revoked session", passauth.DenyQuery{Subject: sess.subject, Session: sess.family}, end, true)
	revokeSession(t, s, passauth.Denial{Subject: sess.subject, Session: sess.family, At: end, Expires: end}) // again: no error

	unknown := newSession()
	revokeSession(t, s, passauth.Denial{Subject: unknown.subject, Session: unknown.family, At: end, Expires: end})
	rotate(t, s, "family revoked while unknown", unknown.rotation(newName("id"), newName("id"), now), revoked)
	denied(t, s, "an unknown session revoked", passauth.DenyQuery{Subject: unknown.subject, Session: unknown.family}, end, true)
}

func testExpiry(t *testing.T, s passauth.Store) {
	now := time.Now()
	past := now.Add(-time.Second)

	sess, a := newSession(), newName("id")
	r := sess.rotation("", a, now)
	r.Expires, r.KeepUntil = past, past
	if _, err := s.Rotate(t.Context(), r); err != nil {
		t.Fatalf("Rotate starting an expired family: %v", err)
	}
	rotate(t, s, "expired family", sess.rotation(a, newName("id"), now), revoked)

	sess, a, b := newSession(), newName("id"), newName("id")
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	r = sess.rotation(a, b, now)
	r.KeepUntil = now.Add(2 * time.Hour)
	rotate(t, s, "rotation extending expiry", r, ok)
	rotate(t, s, "rotation after extending", sess.rotation(b, newName("id"), now), ok)

	sess, a, b = newSession(), newName("id"), newName("id")
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	r = sess.rotation(a, b, now)
	r.Expires, r.KeepUntil = past, past
	rotate(t, s, "rotation moving expiry to the past", r, ok)
	rotate(t, s, "family past its new expiry", sess.rotation(b, newName("id"), now), revoked)

	subject := newName("subject")
	deny(t, s, passauth.Denial{Subject: subject, Token: newName("token"), At: past, Expires: past})
	deny(t, s, passauth.Denial{Subject: subject, At: past, Expires: past})
	denied(t, s, "denials with past expiry", passauth.DenyQuery{Subject: subject}, time.Time{}, false)
}

// testConcurrent checks that of many concurrent rotations of one token
// exactly one wins and that, without grace, the losers revoke the family.
func testConcurrent(t *testing.T, s passauth.Store) {
	const callers = 50
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for range 5 {
		sess, old := newSession(), newName("id")
		now := time.Now()
		rotate(t, s, "start", sess.rotation("", old, now), ok)
		results, newIDs := rotateConcurrently(t, ctx, s, callers, func(newID string) passauth.Rotation {
			return sess.rotation(old, newID, now)
		})
		winner, counts := -1, map[passauth.RotateResult]int{}
		for i, res := range results {
			counts[res.Result]++
			if res.Result == ok {
				winner = i
			}
		}
		if counts[ok] != 1 || counts[reused] == 0 || counts[reused]+counts[revoked] != callers-1 {
			t.Fatalf("%d concurrent Rotate calls with one token: %d ok, %d reused, %d revoked; want exactly 1 ok, at least 1 reused, the rest reused or revoked",
				callers, counts[ok], counts[reused], counts[revoked])
		}
		rotate(t, s, "winner's token after the others' reuse", sess.rotation(newIDs[winner], newName("id"), now), revoked)
	}
}

// rotateConcurrently runs n rotations made by r at once, each with a new
// ID, and returns their answers and the IDs.
func rotateConcurrently(t *testing.T, ctx context.Context, s passauth.Store, n int, r func(newID string) passauth.Rotation) ([]passauth.Rotated, []string) {
	t.Helper()
	newIDs := make([]string, n)
	for i := range newIDs {
		newIDs[i] = newName("id")
	}
	results := make([]passauth.Rotated, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.Rotate(ctx, r(newIDs[i]))
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Rotate: %v", err)
		}
	}
	return results, newIDs
}

// testReuseDenies checks that reuse, besides revoking the family, denies
// the session until DenyUntil, in the same call.
func testReuseDenies(t *testing.T, s passauth.Store) {
	sess, a, b := newSession(), newName("id"), newName("id")
	now := time.Now()
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	rotate(t, s, "rotation", sess.rotation(a, b, now), ok)
	r := sess.rotation(a, newName("id"), now)
	r.DenyUntil = now.Add(30 * time.Minute)
	rotate(t, s, "reuse", r, reused)
	denied(t, s, "the session after reuse", passauth.DenyQuery{Subject: sess.subject, Session: sess.family}, r.DenyUntil, true)
}

// testRotateChecksDenials checks that a rotation is refused, in the same
// atomic step, when its session is denied or its subject was denied at or
// after the session's login time, and not for a subject denial older than
// the login.
func testRotateChecksDenials(t *testing.T, s passauth.Store) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		deny func(sess session) passauth.Denial
		want passauth.RotateResult
	}{
		{"session denied", func(sess session) passauth.Denial {
			return passauth.Denial{Subject: sess.subject, Session: sess.family, At: later(), Expires: later()}
		}, revoked},
		{"subject denied after the login", func(sess session) passauth.Denial {
			return passauth.Denial{Subject: sess.subject, At: sess.authTime.Add(time.Second), Expires: later()}
		}, revoked},
		{"subject denied at the login", func(sess session) passauth.Denial {
			return passauth.Denial{Subject: sess.subject, At: sess.authTime, Expires: later()}
		}, revoked},
		{"subject denied before the login", func(sess session) passauth.Denial {
			return passauth.Denial{Subject: sess.subject, At: sess.authTime.Add(-time.Second), Expires: later()}
		}, ok},
		{"another session's token denied", func(sess session) passauth.Denial {
			return passauth.Denial{Subject: sess.subject, Token: sess.family, At: later(), Expires: later()}
		}, ok},
	} {
		sess, a := newSession(), newName("id")
		rotate(t, s, "start", sess.rotation("", a, now), ok)
		deny(t, s, tc.deny(sess))
		rotate(t, s, tc.name, sess.rotation(a, newName("id"), now), tc.want)
	}
}

// testGrace checks the grace window: the predecessor of the current token,
// presented within Grace by the session's client, is answered with the
// current token and moves nothing, at most MaxReplays times; past Grace,
// from another client, two generations back, or beyond the count, it is
// reuse. Grace zero is strict.
func testGrace(t *testing.T, s passauth.Store) {
	start := time.Now().Round(0)
	graceful := func(r passauth.Rotation) passauth.Rotation {
		r.Grace, r.MaxReplays = 10*time.Second, 3
		return r
	}
	setup := func() (session, string, string, passauth.Rotated) {
		sess, a, b := newSession(), newName("id"), newName("id")
		rotate(t, s, "start", graceful(sess.rotation("", a, start)), ok)
		got := rotate(t, s, "rotation", graceful(sess.rotation(a, b, start)), ok)
		return sess, a, b, got
	}

	sess, a, b, rotated := setup()
	for i := range 3 {
		got := rotate(t, s, "replay within the window", graceful(sess.rotation(a, newName("id"), start.Add(time.Duration(i+1)*time.Second))), replayed)
		if got.Current != b || !sameTime(got.Expires, rotated.Expires) {
			t.Fatalf("replay %d = %+v, want the current token %q, expiring %v", i, got, b, rotated.Expires)
		}
	}
	rotate(t, s, "a fourth replay", graceful(sess.rotation(a, newName("id"), start.Add(5*time.Second))), reused)
	rotate(t, s, "the current token after that", graceful(sess.rotation(b, newName("id"), start)), revoked)

	sess, a, b, _ = setup()
	rotate(t, s, "replay at the window's end", graceful(sess.rotation(a, newName("id"), start.Add(10*time.Second))), replayed)
	rotate(t, s, "the current token still rotates", graceful(sess.rotation(b, newName("id"), start.Add(11*time.Second))), ok)

	sess, a, _, _ = setup()
	rotate(t, s, "replay past the window", graceful(sess.rotation(a, newName("id"), start.Add(11*time.Second))), reused)

	sess, a, _, _ = setup()
	other := graceful(sess.rotation(a, newName("id"), start.Add(time.Second)))
	other.ClientID = newName("client")
	rotate(t, s, "replay from another client", other, reused)

	sess, a, b, _ = setup()
	c := newName("id")
	rotate(t, s, "second rotation", graceful(sess.rotation(b, c, start.Add(time.Second))), ok)
	rotate(t, s, "the token two rotations back", graceful(sess.rotation(a, newName("id"), start.Add(2*time.Second))), reused)

	sess, a, _, _ = setup()
	rotate(t, s, "replay without grace", sess.rotation(a, newName("id"), start.Add(time.Second)), reused)

	sess, a, _, _ = setup()
	deny(t, s, passauth.Denial{Subject: sess.subject, Session: sess.family, At: later(), Expires: later()})
	rotate(t, s, "replay of a denied session", graceful(sess.rotation(a, newName("id"), start.Add(time.Second))), revoked)
}

// testGraceConcurrent presents one token from many callers at once within
// the grace window: one rotation, every other answer a replay of that
// rotation's token, and no second chain.
func testGraceConcurrent(t *testing.T, s passauth.Store) {
	const callers = 20
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for range 5 {
		sess, old := newSession(), newName("id")
		now := time.Now()
		r := sess.rotation("", old, now)
		r.Grace, r.MaxReplays = 10*time.Second, callers
		rotate(t, s, "start", r, ok)
		results, newIDs := rotateConcurrently(t, ctx, s, callers, func(newID string) passauth.Rotation {
			r := sess.rotation(old, newID, now)
			r.Grace, r.MaxReplays = 10*time.Second, callers
			return r
		})
		current, counts := "", map[passauth.RotateResult]int{}
		for i, res := range results {
			counts[res.Result]++
			if res.Result == ok {
				current = newIDs[i]
			}
		}
		if counts[ok] != 1 || counts[replayed] != callers-1 {
			t.Fatalf("%d concurrent presentations within the grace window: %d ok, %d replayed, %d reused, %d revoked; want 1 ok and the rest replayed",
				callers, counts[ok], counts[replayed], counts[reused], counts[revoked])
		}
		for _, res := range results {
			if res.Current != current {
				t.Fatalf("an answer carries refresh token %q, the rotation made %q", res.Current, current)
			}
		}
		rotate(t, s, "the one current token", sess.rotation(current, newName("id"), now), ok)
	}
}

func testDeny(t *testing.T, s passauth.Store) {
	t1 := time.Now().Round(0)
	t0, t2 := t1.Add(-time.Minute), t1.Add(time.Minute)
	subject, session, token := newName("subject"), newName("session"), newName("token")
	q := passauth.DenyQuery{Subject: subject, Session: session, Token: token}

	denied(t, s, "nothing denied", q, time.Time{}, false)
	denied(t, s, "empty query", passauth.DenyQuery{}, time.Time{}, false)

	deny(t, s, passauth.Denial{Subject: subject, Token: token, At: t1, Expires: later()})
	denied(t, s, "token denied", q, t1, true)
	denied(t, s, "without the token", passauth.DenyQuery{Subject: subject, Session: session}, time.Time{}, false)
	denied(t, s, "another subject's query for the token", passauth.DenyQuery{Subject: newName("subject"), Token: newName("token")}, time.Time{}, false)

	deny(t, s, passauth.Denial{Subject: subject, Token: token, At: t0, Expires: later()})
	denied(t, s, "token denied again earlier", q, t1, true)
	deny(t, s, passauth.Denial{Subject: subject, Token: token, At: t2, Expires: later()})
	denied(t, s, "token denied again later", q, t2, true)

	other := newName("subject")
	deny(t, s, passauth.Denial{Subject: other, At: t0, Expires: later()})
	denied(t, s, "subject denied", passauth.DenyQuery{Subject: other, Session: newName("session")}, t0, true)
	deny(t, s, passauth.Denial{Subject: other, Session: session, At: t2.Add(time.Minute), Expires: later()})
	denied(t, s, "session and subject: the later", passauth.DenyQuery{Subject: other, Session: session}, t2.Add(time.Minute), true)
}

// testSeparateKeyspaces checks that subjects, session IDs, token IDs and
// family IDs do not collide even when they are equal strings.
func testSeparateKeyspaces(t *testing.T, s passauth.Store) {
	at := time.Now().Round(0)
	name := newName("shared")
	deny(t, s, passauth.Denial{Subject: name, Token: name, At: at, Expires: later()})
	denied(t, s, "a session named like a denied token", passauth.DenyQuery{Subject: name, Session: name}, time.Time{}, false)
	denied(t, s, "a subject named like a denied token", passauth.DenyQuery{Subject: name}, time.Time{}, false)

	sess := session{subject: name, family: name, client: name, authTime: at}
	a, b := newName("id"), newName("id")
	rotate(t, s, "start a family named like a denied token", sess.rotation("", a, at), ok)
	rotate(t, s, "rotate it", sess.rotation(a, b, at), ok)

	name = newName("shared")
	deny(t, s, passauth.Denial{Subject: name, At: later(), Expires: later()})
	denied(t, s, "a token named like a denied subject", passauth.DenyQuery{Subject: newName("subject"), Token: name}, time.Time{}, false)
}

// testCancelledContext checks that a call with a cancelled context either
// fails or does what it reports.
func testCancelledContext(t *testing.T, s passauth.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	now := time.Now()

	sess, a := newSession(), newName("id")
	if res, err := s.Rotate(ctx, sess.rotation("", a, now)); err == nil {
		if res.Result != ok {
			t.Fatalf("Rotate starting a family with a cancelled context = %v, want an error or ok", res.Result)
		}
		rotate(t, s, "family started with a cancelled context", sess.rotation(a, newName("id"), now), ok)
	}

	sess, a = newSession(), newName("id")
	rotate(t, s, "start", sess.rotation("", a, now), ok)
	end := later()
	if err := s.RevokeSession(ctx, passauth.Denial{Subject: sess.subject, Session: sess.family, At: end, Expires: end}); err == nil {
		rotate(t, s, "family revoked with a cancelled context", sess.rotation(a, newName("id"), now), revoked)
	}

	at, d := time.Now().Round(0), passauth.Denial{Subject: newName("subject"), At: time.Now().Round(0), Expires: later()}
	if err := s.Deny(ctx, d); err == nil {
		denied(t, s, "subject denied with a cancelled context", passauth.DenyQuery{Subject: d.Subject}, at, true)
	}
	deny(t, s, d)
	if got, found, err := s.Denied(ctx, passauth.DenyQuery{Subject: d.Subject}); err == nil && (!found || !sameTime(got, at)) {
		t.Fatalf("Denied with a cancelled context = %v, %v; want an error or %v, true", got, found, at)
	}
}

// testSessions checks that a SessionLister lists the live sessions of a
// subject, with their client, login time, last use and expiry, and none
// that is revoked, denied, expired or another subject's.
func testSessions(t *testing.T, s passauth.Store) {
	lister, isLister := s.(passauth.SessionLister)
	if !isLister {
		t.Skip("the store is not a passauth.SessionLister")
	}
	list := func(what, subject string) map[string]passauth.SessionInfo {
		t.Helper()
		infos, err := lister.Sessions(t.Context(), subject)
		if err != nil {
			t.Fatalf("Sessions (%s): %v", what, err)
		}
		got := make(map[string]passauth.SessionInfo, len(infos))
		for _, in := range infos {
			if _, dup := got[in.ID]; dup {
				t.Fatalf("Sessions (%s) lists %q twice", what, in.ID)
			}
			got[in.ID] = in
		}
		return got
	}
	if got := list("unknown subject", newName("subject")); len(got) != 0 {
		t.Fatalf("Sessions (unknown subject) = %v, want none", got)
	}

	now := time.Now().Round(0)
	login := now.Add(-time.Hour)
	subject := newName("subject")
	sess := func() session {
		return session{subject: subject, family: newName("family"), client: newName("client"), authTime: login}
	}
	live, rotated, revokedS, deniedS, expired := sess(), sess(), sess(), sess(), sess()
	for _, x := range []session{live, revokedS, deniedS} {
		rotate(t, s, "start", x.rotation("", newName("id"), now), ok)
	}
	a := newName("id")
	rotate(t, s, "start", rotated.rotation("", a, now.Add(-time.Minute)), ok)
	r := rotated.rotation(a, newName("id"), now)
	r.Expires, r.KeepUntil = now.Add(2*time.Hour), now.Add(3*time.Hour)
	rotate(t, s, "rotate", r, ok)
	end := later()
	revokeSession(t, s, passauth.Denial{Subject: subject, Session: revokedS.family, At: end, Expires: end})
	deny(t, s, passauth.Denial{Subject: subject, Session: deniedS.family, At: end, Expires: end})
	e := expired.rotation("", newName("id"), now)
	e.Expires, e.KeepUntil = now.Add(-time.Second), now.Add(-time.Second)
	if _, err := s.Rotate(t.Context(), e); err != nil {
		t.Fatalf("Rotate starting an expired family: %v", err)
	}
	other := session{subject: newName("subject"), family: newName("family"), client: live.client, authTime: login}
	rotate(t, s, "another subject's session", other.rotation("", newName("id"), now), ok)

	got := list("subject", subject)
	want := map[string]passauth.SessionInfo{
		live.family:    {ID: live.family, ClientID: live.client, Created: login, LastUsed: now, Expires: now.Add(time.Hour)},
		rotated.family: {ID: rotated.family, ClientID: rotated.client, Created: login, LastUsed: now, Expires: now.Add(2 * time.Hour)},
	}
	if len(got) != len(want) {
		t.Fatalf("Sessions lists %d sessions, want %d (one started, one rotated, not the revoked, denied or expired ones): %+v", len(got), len(want), got)
	}
	for id, w := range want {
		g, found := got[id]
		if !found {
			t.Fatalf("Sessions does not list the live session %q: %+v", id, got)
		}
		if g.ClientID != w.ClientID || !sameTime(g.Created, w.Created) || !sameTime(g.LastUsed, w.LastUsed) || !sameTime(g.Expires, w.Expires) {
			t.Fatalf("Sessions lists %+v, want %+v", g, w)
		}
	}

	deny(t, s, passauth.Denial{Subject: subject, At: login, Expires: end})
	if got := list("subject denied", subject); len(got) != 0 {
		t.Fatalf("Sessions after the subject was denied at its logins' time = %+v, want none", got)
	}
	if got := list("another subject", other.subject); len(got) != 1 {
		t.Fatalf("Sessions of another subject = %+v, want its one session", got)
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

func rotate(t *testing.T, s passauth.Store, what string, r passauth.Rotation, want passauth.RotateResult) passauth.Rotated {
	t.Helper()
	got, err := s.Rotate(t.Context(), r)
	if err != nil {
		t.Fatalf("Rotate (%s): %v", what, err)
	}
	if got.Result != want {
		t.Fatalf("Rotate (%s) = %v, want %v", what, got.Result, want)
	}
	return got
}

func revokeSession(t *testing.T, s passauth.Store, d passauth.Denial) {
	t.Helper()
	if err := s.RevokeSession(t.Context(), d); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
}

func deny(t *testing.T, s passauth.Store, d passauth.Denial) {
	t.Helper()
	if err := s.Deny(t.Context(), d); err != nil {
		t.Fatalf("Deny: %v", err)
	}
}

// denied checks the answer of s.Denied(q), comparing times to the
// millisecond, the precision a store may keep.
func denied(t *testing.T, s passauth.Store, what string, q passauth.DenyQuery, wantAt time.Time, wantFound bool) {
	t.Helper()
	at, found, err := s.Denied(t.Context(), q)
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
