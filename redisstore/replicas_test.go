//go:build unix

package redisstore_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
	"github.com/passauth/passauth/redisstore"
	"github.com/passauth/passauth/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startPair starts a master and one replica of it, and waits until the
// replica is in sync.
func startPair(t *testing.T) (master, replica *redisServer) {
	t.Helper()
	master = startRedis(t)
	replica = startRedis(t, "--replicaof", "127.0.0.1", master.port())
	waitInSync(t, master.client(), 1)
	return master, replica
}

// waitInSync waits, for at most 20 seconds, until n replicas of master are
// online and have acknowledged everything master had replicated when it was
// called.
func waitInSync(t *testing.T, master *redis.Client, n int) {
	t.Helper()
	var target int64 = -1
	for range 200 {
		if info, err := master.Info(t.Context(), "replication").Result(); err == nil {
			if target < 0 {
				target, _ = strconv.ParseInt(infoValue(t, info, "master_repl_offset"), 10, 64)
			}
			inSync := 0
			for i := range n {
				line, _ := infoField(info, "slave"+strconv.Itoa(i))
				if strings.Contains(line, "state=online") {
					_, off, _ := strings.Cut(line, "offset=")
					off, _, _ = strings.Cut(off, ",")
					if o, err := strconv.ParseInt(off, 10, 64); err == nil && o >= target {
						inSync++
					}
				}
			}
			if inSync == n {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%d replicas did not catch up with %s", n, master.Options().Addr)
}

// TestReplicasConformance runs the conformance suites on a store and a
// limiter that wait for a replica after every write.
func TestReplicasConformance(t *testing.T) {
	t.Parallel()
	master, _ := startPair(t)
	c := redis.NewClient(slowly(recommendedOptions(master.addr)))
	t.Cleanup(func() { _ = c.Close() })
	opt := redisstore.WithReplicas(1, slowWait)
	t.Run("Store", func(t *testing.T) {
		storetest.TestStore(t, func(t *testing.T) passauth.Store { return redisstore.New(c, opt) })
	})
	t.Run("Limiter", func(t *testing.T) {
		storetest.TestLimiter(t, func(t *testing.T, limit passauth.Limit) passauth.Limiter {
			return redisstore.NewLimiter(c, limit, opt, redisstore.WithPrefix("passauth-test:"+rand.Text()+":"))
		})
	})
}

// TestReplicaStoppedFailsClosed stops the replica (SIGSTOP) and checks that
// with WithReplicas every write fails with an error matching
// ErrNotReplicated and ErrStoreUnavailable, though the master applied it;
// that a repeat of a write that changes nothing (the retry of a rotation,
// denying a key again with an earlier time) is not confirmed either while
// the replica lacks what it repeats; that reads go on; that without
// WithReplicas writes go on (and are at risk); and that once the replica is
// back, the retry of the failed rotation answers RotateOK.
func TestReplicaStoppedFailsClosed(t *testing.T) {
	t.Parallel()
	master, replica := startPair(t)
	c := redis.NewClient(recommendedOptions(master.addr))
	t.Cleanup(func() { _ = c.Close() })
	admin := master.client()
	prefix := "passauth-test:" + rand.Text() + ":"
	opts := []redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithReplicas(1, recWait)}
	s := redisstore.New(c, opts...)
	l := redisstore.NewLimiter(c, passauth.Limit{Burst: 5, Interval: time.Hour}, opts...)
	// The writes that must succeed wait longer, for loaded machines.
	slow := redis.NewClient(slowly(recommendedOptions(master.addr)))
	t.Cleanup(func() { _ = slow.Close() })
	slowOpts := []redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithReplicas(1, slowWait)}
	sSlow := redisstore.New(slow, slowOpts...)
	later := time.Now().Add(time.Hour)

	// Confirmed before the replica stops.
	sess, sess2 := newTestSession(), newTestSession()
	for _, x := range []testSession{sess, sess2} {
		rotate(t, sSlow, x.rotation("", "id0"), passauth.RotateOK, "start")
	}
	denial := passauth.Denial{Subject: sess.subject, Token: rand.Text(), At: time.Now(), Expires: later}
	require.NoError(t, sSlow.Deny(t.Context(), denial))
	user := "user:" + rand.Text()
	_, err := redisstore.NewLimiter(slow, passauth.Limit{Burst: 5, Interval: time.Hour}, slowOpts...).Allow(t.Context(), user)
	require.NoError(t, err)

	resume := replica.pause()
	// A fresh client: its connection has written nothing, so that a WAIT
	// after a script that wrote nothing would find nothing to wait for.
	fresh := redis.NewClient(recommendedOptions(master.addr))
	t.Cleanup(func() { _ = fresh.Close() })
	sFresh := redisstore.New(fresh, opts...)
	lost := sess.rotation("id0", "id1")
	earlier := denial
	earlier.At = denial.At.Add(-time.Second)
	writes := []storeOp{
		{"Rotate", func(ctx context.Context) error { _, err := s.Rotate(ctx, lost); return err }},
		{"Rotate repeated on another connection", func(ctx context.Context) error {
			_, err := sFresh.Rotate(ctx, lost)
			return err
		}},
		{"Rotate replayed within grace on another connection", func(ctx context.Context) error {
			_, err := sFresh.Rotate(ctx, graceful(sess.rotation("id0", "id2")))
			return err
		}},
		{"Rotate starting", func(ctx context.Context) error {
			_, err := s.Rotate(ctx, newTestSession().rotation("", "id0"))
			return err
		}},
		{"RevokeSession", func(ctx context.Context) error {
			return s.RevokeSession(ctx, passauth.Denial{Subject: sess2.subject, Session: sess2.family, At: later, Expires: later})
		}},
		{"Deny", func(ctx context.Context) error {
			return s.Deny(ctx, passauth.Denial{Subject: rand.Text(), Token: rand.Text(), At: time.Now(), Expires: later})
		}},
		{"Deny again, earlier, on another connection", func(ctx context.Context) error { return sFresh.Deny(ctx, earlier) }},
		{"Allow", func(ctx context.Context) error { _, err := l.Allow(ctx, user); return err }},
		{"Forgive", func(ctx context.Context) error { return l.Forgive(ctx, user) }},
	}
	for _, op := range writes {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := op.call(ctx)
		cancel()
		require.ErrorIs(t, err, redisstore.ErrNotReplicated, op.name)
		require.ErrorIs(t, err, passauth.ErrStoreUnavailable, op.name)
		assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "), "error text %q", err)
	}
	fam := keysFor(prefix, sess.subject).fam(sess.family)
	assert.Equal(t, "id1", admin.HGet(t.Context(), fam, "cur").Val(), "the master applied the rotation")
	assert.Equal(t, "1", admin.HGet(t.Context(), fam, "n").Val(), "the master applied the replay")
	assert.Equal(t, "1", admin.HGet(t.Context(), keysFor(prefix, sess2.subject).fam(sess2.family), "rev").Val(), "the master applied the revocation")

	_, found, err := s.Denied(t.Context(), passauth.DenyQuery{Subject: denial.Subject, Token: denial.Token})
	require.NoError(t, err, "reads do not wait")
	assert.True(t, found)

	plain := redisstore.New(c, redisstore.WithPrefix(prefix))
	rotate(t, plain, newTestSession().rotation("", "id0"), passauth.RotateOK, "a write without WithReplicas")

	resume()
	waitInSync(t, admin, 1)
	rotate(t, sSlow, lost, passauth.RotateOK, "the retry of a rotation that was applied but not confirmed, once the replica is back")
}

// TestLostAnswerWithReplicas loses the answer to a rotation with
// WithReplicas: the client retries the pipeline of the script and WAIT, and
// the retry answers RotateOK once the replica holds the rotation.
func TestLostAnswerWithReplicas(t *testing.T) {
	t.Parallel()
	master, _ := startPair(t)
	p := nettest.NewLossyProxy(t, master.addr, false)
	c := redis.NewClient(slowly(recommendedOptions(p.Addr)))
	t.Cleanup(func() { _ = c.Close() })
	s := redisstore.New(c, redisstore.WithReplicas(1, slowWait))
	sess := newTestSession()
	rotate(t, s, sess.rotation("", "id0"), passauth.RotateOK, "start")

	lost := sess.rotation("id0", "lost-answer-"+rand.Text())
	p.DropAnswerTo(lost.NewID)
	ctx, cancel := context.WithTimeout(t.Context(), 3*slowIOTimeout)
	defer cancel()
	res, err := s.Rotate(ctx, lost)
	require.True(t, p.Dropped(), "the proxy dropped no answer")
	require.NoError(t, err)
	assert.Equal(t, passauth.RotateOK, res.Result)
	assert.Equal(t, lost.NewID, res.Current)
	assert.GreaterOrEqual(t, p.Sent(), int32(2), "times the rotation was sent")
}

// confirmedWrites are the writes the failover tests make with WithReplicas
// right before they kill a master, all of them to that master's keys: a
// session rotated once, another logged out, an access token and a subject
// denied, and a login limit's whole burst used.
type confirmedWrites struct {
	sess, loggedOut testSession
	token, subject  passauth.Denial
	user            string
	limit           passauth.Limit
}

// write makes the writes through s and l (a limiter of w.limit), each of
// which must be confirmed.
func (w confirmedWrites) write(t *testing.T, s passauth.Store, l passauth.Limiter) {
	t.Helper()
	ctx := t.Context()
	rotate(t, s, w.sess.rotation("", "id0"), passauth.RotateOK, "start")
	rotate(t, s, w.sess.rotation("id0", "id1"), passauth.RotateOK, "rotation")
	rotate(t, s, w.loggedOut.rotation("", "id0"), passauth.RotateOK, "start")
	require.NoError(t, s.RevokeSession(ctx, passauth.Denial{Subject: w.loggedOut.subject, Session: w.loggedOut.family, At: w.token.Expires, Expires: w.token.Expires}), "logout")
	require.NoError(t, s.Deny(ctx, w.token), "revocation")
	require.NoError(t, s.Deny(ctx, w.subject), "RevokeSubject")
	for range w.limit.Burst {
		wait, err := l.Allow(ctx, w.user)
		require.NoError(t, err)
		require.Zero(t, wait)
	}
}

// survived checks, through s and l (stores without WithReplicas, on the
// new master), that every write survived the failover: the consumed
// refresh token is reuse, the logged-out session revoked, the token and
// the subject denied, the key throttled. It rotates both sessions.
func (w confirmedWrites) survived(t *testing.T, s passauth.Store, l passauth.Limiter) {
	t.Helper()
	ctx := t.Context()
	for what, q := range map[string]passauth.DenyQuery{
		"the access token":       {Subject: w.token.Subject, Token: w.token.Token},
		"the subject":            {Subject: w.subject.Subject},
		"the logged-out session": {Subject: w.loggedOut.subject, Session: w.loggedOut.family},
	} {
		_, found, err := s.Denied(ctx, q)
		require.NoError(t, err)
		assert.True(t, found, "%s denied after the failover", what)
	}
	rotate(t, s, w.sess.rotation("id0", rand.Text()), passauth.RotateReused, "the consumed refresh token")
	rotate(t, s, w.loggedOut.rotation("id0", rand.Text()), passauth.RotateRevoked, "the logged-out session")
	wait, err := l.Allow(ctx, w.user)
	require.NoError(t, err)
	assert.Positive(t, wait, "the throttled key")
}
