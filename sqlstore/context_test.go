package sqlstore_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/sqlstore"
)

// TestDeadline holds the locks the store's writes need, from another
// connection, and checks that each write given a deadline returns once the
// deadline passes, with an error that matches both
// passauth.ErrStoreUnavailable and context.DeadlineExceeded, having changed
// nothing. On SQLite the other connection holds the database's write lock;
// on PostgreSQL, the family's row and a denial's.
//
// On PostgreSQL a deadline ends the call (pgx closes the connection) but
// not the statement waiting on the server, which would go on waiting and,
// once the locks are released, carry out a single-statement write (a
// transaction's writes never commit, its connection being gone). The
// store's connections here carry the lock_timeout that the package
// documentation recommends for that, and the test waits until the server
// has ended the waiting statements before it releases the locks.
func TestDeadline(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		d := newTestDB(t, b)
		db := d.DB
		if b.dialect == sqlstore.Postgres {
			db = openDB(t, d.driver, withParam(d.dsn, "lock_timeout", "300ms"))
		}
		s := d.store(t, db)
		sess, id := newTestSession(), rand.Text()
		rotate(t, s, sess.rotation("", id), passauth.RotateOK, "start")
		subject := "subject-" + rand.Text()

		h := holdLocks(t, d, sess, subject)
		for _, c := range []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Rotate", func(ctx context.Context) error {
				_, err := s.Rotate(ctx, sess.rotation(id, rand.Text()))
				return err
			}},
			{"RevokeSession", func(ctx context.Context) error {
				return s.RevokeSession(ctx, passauth.Denial{Subject: sess.subject, Session: sess.family, At: time.Now(), Expires: time.Now().Add(time.Hour)})
			}},
			{"Deny", func(ctx context.Context) error {
				return s.Deny(ctx, passauth.Denial{Subject: subject, At: time.Now(), Expires: time.Now().Add(time.Hour)})
			}},
		} {
			err := returns(t, h.release, func() error {
				ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
				defer cancel()
				return c.call(ctx)
			})
			require.Error(t, err, c.name)
			assert.ErrorIs(t, err, passauth.ErrStoreUnavailable, c.name)
			assert.ErrorIs(t, err, context.DeadlineExceeded, c.name)
		}
		if b.dialect == sqlstore.Postgres {
			h.waitUnblocked(t, d)
		}
		h.release()

		rotate(t, s, sess.rotation(id, rand.Text()), passauth.RotateOK, "the family after the calls that timed out")
		_, found, err := s.Denied(t.Context(), passauth.DenyQuery{Subject: subject})
		require.NoError(t, err)
		assert.False(t, found, "a denial that timed out")
	})
}

// locks are the locks holdLocks holds.
type locks struct {
	release func() // releases them; the test's cleanup calls it too
	pid     int    // on PostgreSQL, the backend process that holds them
}

// holdLocks takes, from a connection of its own, the locks that writes to
// sess's family and to subject's denial need.
func holdLocks(t *testing.T, d *testDB, sess testSession, subject string) locks {
	t.Helper()
	ctx := context.Background()
	conn, err := d.another(t).Conn(ctx)
	require.NoError(t, err)
	done := false
	h := locks{release: func() {
		if !done {
			done = true
			_, err := conn.ExecContext(ctx, "ROLLBACK")
			assert.NoError(t, err, "releasing the locks")
			assert.NoError(t, conn.Close())
		}
	}}
	t.Cleanup(h.release)
	if d.dialect == sqlstore.SQLite {
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
		require.NoError(t, err)
		return h
	}
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&h.pid))
	_, err = conn.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	var one int
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT 1 FROM passauth_families WHERE subject = $1 AND family = $2 FOR UPDATE",
		sess.subject, sess.family).Scan(&one))
	_, err = conn.ExecContext(ctx, "INSERT INTO passauth_denials (subject, kind, id, denied_at, expires) VALUES ($1, 'sub', '', 0, 0)", subject)
	require.NoError(t, err)
	return h
}

// waitUnblocked waits until no statement on the PostgreSQL server waits
// for the locks h holds, polling at most 500 times.
func (h locks) waitUnblocked(t *testing.T, d *testDB) {
	t.Helper()
	for range 500 {
		var n int
		require.NoError(t, d.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", h.pid).Scan(&n))
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("statements still wait for the locks, past their lock_timeout")
}

// returns runs call and returns its error. Should call not return within a
// minute, which would mean that it ignores its deadline, it releases the
// locks, so that call ends, and fails the test.
func returns(t *testing.T, release func(), call func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- call() }()
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case err := <-errc:
		return err
	case <-timer.C:
		release()
		<-errc
		t.Fatal("a call with a deadline of 100ms did not return within a minute")
		return nil
	}
}

// TestCancelledContextChangesNothing checks that a call whose context is
// already done fails, matching passauth.ErrStoreUnavailable and
// context.Canceled, before touching the database.
func TestCancelledContextChangesNothing(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, _ := newStore(t, b)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		sess := newTestSession()
		_, err := s.Rotate(ctx, sess.rotation("", rand.Text()))
		checkCancelled(t, err, "Rotate")
		checkCancelled(t, s.RevokeSession(ctx, passauth.Denial{Subject: sess.subject, Session: sess.family}), "RevokeSession")
		checkCancelled(t, s.Deny(ctx, passauth.Denial{Subject: sess.subject}), "Deny")
		_, _, err = s.Denied(ctx, passauth.DenyQuery{Subject: sess.subject})
		checkCancelled(t, err, "Denied")
		_, err = s.Sessions(ctx, sess.subject)
		checkCancelled(t, err, "Sessions")
		_, err = s.Sweep(ctx, 10)
		checkCancelled(t, err, "Sweep")
		checkCancelled(t, s.Migrate(ctx), "Migrate")

		got, err := s.Sessions(t.Context(), sess.subject)
		require.NoError(t, err)
		assert.Empty(t, got, "a session started with a cancelled context")
	})
}

func checkCancelled(t *testing.T, err error, what string) {
	t.Helper()
	assert.ErrorIs(t, err, passauth.ErrStoreUnavailable, what)
	assert.ErrorIs(t, err, context.Canceled, what)
}
