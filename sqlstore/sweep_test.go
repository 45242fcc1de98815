package sqlstore_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestSweep checks that Sweep deletes at most its batch, families first,
// only rows that have expired, and that what it leaves works as before.
func TestSweep(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, d := newStore(t, b)
		ctx := t.Context()
		past := time.Now().Add(-time.Minute)
		for range 5 {
			sess := newTestSession()
			r := sess.rotation("", rand.Text())
			r.Expires, r.KeepUntil = past, past
			rotate(t, s, r, passauth.RotateOK, "start an expired family")
		}
		type liveFamily struct {
			sess testSession
			id   string
		}
		var live []liveFamily
		for range 3 {
			f := liveFamily{newTestSession(), rand.Text()}
			rotate(t, s, f.sess.rotation("", f.id), passauth.RotateOK, "start a live family")
			live = append(live, f)
		}
		for range 4 {
			require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: "subject-" + rand.Text(), Token: rand.Text(), At: past, Expires: past}))
		}
		subject, token := "subject-"+rand.Text(), rand.Text()
		at := time.Now().Round(0)
		require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, At: at, Expires: at.Add(time.Hour)}))
		require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, Token: token, At: at, Expires: at.Add(time.Hour)}))
		require.Equal(t, 8, d.count(t, "passauth_families"))
		require.Equal(t, 6, d.count(t, "passauth_denials"))

		for i, want := range []int{3, 3, 3, 0} {
			n, err := s.Sweep(ctx, 3)
			require.NoError(t, err)
			require.Equal(t, want, n, "sweep %d", i)
		}
		assert.Equal(t, 3, d.count(t, "passauth_families"), "live families left")
		assert.Equal(t, 2, d.count(t, "passauth_denials"), "live denials left")
		for _, f := range live {
			rotate(t, s, f.sess.rotation(f.id, rand.Text()), passauth.RotateOK, "a live family after the sweeps")
		}
		got, found, err := s.Denied(ctx, passauth.DenyQuery{Subject: subject, Token: token})
		require.NoError(t, err)
		require.True(t, found)
		assert.True(t, got.Equal(at), "denied at %v, want %v", got, at)

		n, err := s.Sweep(ctx, 0)
		require.Error(t, err, "Sweep with batch 0")
		assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
		assert.Zero(t, n)
	})
}

// TestSweepSkipsLockedRows checks that on PostgreSQL a sweep does not wait
// for a row another transaction holds, such as a family being rotated: it
// deletes the others, and a later sweep the one skipped.
func TestSweepSkipsLockedRows(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		if b.name != "postgres" {
			t.Skip("SQLite runs one writer at a time: a sweep waits for the write lock")
		}
		s, d := newStore(t, b)
		ctx := t.Context()
		past := time.Now().Add(-time.Minute)
		var locked testSession
		for i := range 3 {
			sess := newTestSession()
			r := sess.rotation("", rand.Text())
			r.Expires, r.KeepUntil = past, past
			rotate(t, s, r, passauth.RotateOK, "start an expired family")
			if i == 0 {
				locked = sess
			}
		}
		tx, err := d.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		var family string
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT family FROM passauth_families WHERE subject = $1 AND family = $2 FOR UPDATE",
			locked.subject, locked.family).Scan(&family))

		n, err := s.Sweep(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "rows swept while one is locked")
		require.NoError(t, tx.Rollback())
		n, err = s.Sweep(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "rows swept once it is not")
	})
}
