package redisstore_test

import (
	"crypto/rand"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessions(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	testSessions(t, c, newPrefix(t, c))
}

// testSessions checks Sessions on c under prefix: it lists a subject's
// live sessions with their client, login time, last use and expiry; it
// leaves out, and drops from the subject's sorted set, those revoked,
// reused, expired or gone, and leaves out those denied or whose refresh
// token has expired though the family is kept; a login drops at most eight
// entries past their time; a subject denied at or after the logins has
// none; a subject's sessions are not another's.
func testSessions(t *testing.T, c redis.UniversalClient, prefix string) {
	ctx := t.Context()
	s := redisstore.New(c, redisstore.WithPrefix(prefix))
	subject := "subject-" + rand.Text()
	keys := keysFor(prefix, subject)
	session := func() testSession {
		sess := newTestSession()
		sess.subject = subject
		sess.authTime = time.Now().Add(-time.Minute)
		return sess
	}

	none, err := s.Sessions(ctx, subject)
	require.NoError(t, err)
	assert.Empty(t, none, "a subject with no session")

	// rotated: started, rotated, then replayed within the grace window.
	rotated := session()
	rotate(t, s, rotated.rotation("", "a0"), passauth.RotateOK, "start")
	r := graceful(rotated.rotation("a0", "a1"))
	rotate(t, s, r, passauth.RotateOK, "rotation")
	replay := graceful(rotated.rotation("a0", "a2"))
	replay.Now = r.Now.Add(time.Second)
	rotate(t, s, replay, passauth.RotateReplayed, "replay")
	// started: started only, with an empty client.
	started := session()
	started.client = ""
	first := started.rotation("", "b0")
	rotate(t, s, first, passauth.RotateOK, "start")

	loggedOut, reused, expired := session(), session(), session()
	for _, sess := range []testSession{loggedOut, reused} {
		rotate(t, s, sess.rotation("", "x0"), passauth.RotateOK, "start")
	}
	end := time.Now().Add(time.Hour)
	require.NoError(t, s.RevokeSession(ctx, passauth.Denial{Subject: subject, Session: loggedOut.family, At: end, Expires: end}))
	rotate(t, s, reused.rotation("x0", "x1"), passauth.RotateOK, "rotation")
	rotate(t, s, reused.rotation("x0", "x2"), passauth.RotateReused, "reuse")
	past := expired.rotation("", "y0")
	past.Expires, past.KeepUntil = time.Now().Add(-time.Second), time.Now().Add(-time.Second)
	rotate(t, s, past, passauth.RotateOK, "start, already expired")
	// Kept in the set, but refused by Rotate: a session denied without
	// being revoked, and one whose refresh token has expired while its
	// family is kept (Config.Leeway).
	denied, lapsed := session(), session()
	rotate(t, s, denied.rotation("", "d0"), passauth.RotateOK, "start")
	require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, Session: denied.family, At: end, Expires: end}))
	l := lapsed.rotation("", "e0")
	l.Expires = time.Now().Add(-time.Second)
	rotate(t, s, l, passauth.RotateOK, "start, its token already expired")
	otherSubject := newTestSession()
	rotate(t, s, otherSubject.rotation("", "z0"), passauth.RotateOK, "another subject's session")
	kept := []string{rotated.family, started.family, denied.family, lapsed.family}
	assert.ElementsMatch(t, kept, c.ZRange(ctx, keys.sessions(), 0, -1).Val(),
		"the subject's sorted set holds the sessions neither revoked nor past their time")

	list, err := s.Sessions(ctx, subject)
	require.NoError(t, err)
	require.Len(t, list, 2)
	slices.SortFunc(list, func(a, b passauth.SessionInfo) int { return a.LastUsed.Compare(b.LastUsed) })
	want := []passauth.SessionInfo{
		{ID: started.family, ClientID: "", Created: started.authTime, LastUsed: first.Now, Expires: first.Expires},
		{ID: rotated.family, ClientID: rotated.client, Created: rotated.authTime, LastUsed: replay.Now, Expires: r.Expires},
	}
	for i := range want {
		assert.Equal(t, want[i].ID, list[i].ID)
		assert.Equal(t, want[i].ClientID, list[i].ClientID)
		for _, tm := range []struct {
			name      string
			got, want time.Time
		}{{"Created", list[i].Created, want[i].Created}, {"LastUsed", list[i].LastUsed, want[i].LastUsed}, {"Expires", list[i].Expires, want[i].Expires}} {
			assert.Equal(t, tm.want.UnixNano(), tm.got.UnixNano(), "%s of %s, to the nanosecond", tm.name, want[i].ID)
		}
	}

	// Entries whose family is gone (lost, say), or past their time, are
	// left out and dropped.
	set := keys.sessions()
	require.NoError(t, c.ZAdd(ctx, set, redis.Z{Score: float64(time.Now().Add(time.Hour).UnixMilli()), Member: "gone"}).Err())
	require.NoError(t, c.ZAdd(ctx, set, redis.Z{Score: float64(time.Now().Add(-time.Hour).UnixMilli()), Member: "past"}).Err())
	list, err = s.Sessions(ctx, subject)
	require.NoError(t, err)
	assert.Len(t, list, 2)
	assert.ElementsMatch(t, kept, c.ZRange(ctx, set, 0, -1).Val(), "the set after Sessions")

	// A login drops up to eight entries past their time.
	for i := range 10 {
		require.NoError(t, c.ZAdd(ctx, set, redis.Z{Score: float64(time.Now().Add(-time.Hour).UnixMilli()), Member: "past-" + strconv.Itoa(i)}).Err())
	}
	rotate(t, s, session().rotation("", "c0"), passauth.RotateOK, "start")
	assert.Equal(t, int64(len(kept)+1+10-8), c.ZCard(ctx, set).Val(), "entries after a login")
	assertTTL(t, c, set, time.Hour)

	require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, At: time.Now(), Expires: end}))
	list, err = s.Sessions(ctx, subject)
	require.NoError(t, err)
	assert.Empty(t, list, "the sessions of a subject denied after their logins")

	list, err = s.Sessions(ctx, otherSubject.subject)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, otherSubject.family, list[0].ID, "another subject's sessions")
}

// TestSessionsBounded checks that Sessions lists at most 1000 sessions,
// those kept longest.
func TestSessionsBounded(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	s := redisstore.New(c, redisstore.WithPrefix(newPrefix(t, c)))
	subject := "subject-" + rand.Text()
	const n = 1010
	now := time.Now()
	families := make([]string, n)
	for i := range n {
		sess := newTestSession()
		sess.subject = subject
		r := sess.rotation("", "id")
		r.KeepUntil = now.Add(time.Hour + time.Duration(i)*time.Second)
		rotate(t, s, r, passauth.RotateOK, "start")
		families[i] = sess.family
	}
	list, err := s.Sessions(t.Context(), subject)
	require.NoError(t, err)
	got := make([]string, len(list))
	for i, info := range list {
		got[i] = info.ID
	}
	assert.ElementsMatch(t, families[n-1000:], got, "the 1000 sessions kept longest")
}
