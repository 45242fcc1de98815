package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/passauth/passauth"
)

// Rotate implements [passauth.Store.Rotate].
//
// A rotation of the current token, and the start of a session, take one
// statement: a conditional UPDATE (or INSERT … ON CONFLICT DO UPDATE) whose
// WHERE clause holds every check, the session's and the subject's denials
// included, so that it changes the family only when the token presented is
// still current at the moment the row is written. That is every honest
// refresh: one round trip. When it changes nothing, Rotate decides in a
// transaction that locks the family's row (SELECT … FOR UPDATE on
// PostgreSQL, BEGIN IMMEDIATE on SQLite): a retry of a rotation that
// succeeded (RotateOK), a replay within the grace window (RotateReplayed),
// reuse (the family revoked and the session denied, in that transaction:
// RotateReused), or a family revoked, expired, unknown or denied
// (RotateRevoked). The package documentation gives the argument.
//
// Starting a family that exists and is live reports RotateRevoked if it is
// revoked and RotateReused, revoking it, if not, as passauth.MemoryStore
// does. Expiry is judged by time.Now.
func (s *Store) Rotate(ctx context.Context, r passauth.Rotation) (passauth.Rotated, error) {
	if err := ctx.Err(); err != nil {
		return passauth.Rotated{}, wrap("rotate", err)
	}
	now := nanos(time.Now())
	done, err := s.rotateAtOnce(ctx, r, now)
	if err != nil {
		return passauth.Rotated{}, wrap("rotate", err)
	}
	if done {
		return passauth.Rotated{Result: passauth.RotateOK, Current: r.NewID, Expires: r.Expires}, nil
	}
	var res passauth.Rotated
	err = s.inTx(ctx, func(tx querier) (err error) {
		res, err = s.rotateLocked(ctx, tx, r, now)
		return err
	})
	if err != nil {
		return passauth.Rotated{}, wrap("rotate", err)
	}
	return res, nil
}

// rotateAtOnce runs the one statement that rotates r's family when r.OldID
// is its current token, or starts it (r.OldID == "") when no live family
// has its name, and reports whether it did.
func (s *Store) rotateAtOnce(ctx context.Context, r passauth.Rotation, now int64) (bool, error) {
	var res sql.Result
	err := s.retry(ctx, func() (err error) {
		if r.OldID == "" {
			res, err = s.exec(ctx, &s.hot.start, s.startArgs(r, now)...)
		} else {
			res, err = s.exec(ctx, &s.hot.rotate, r.Subject, r.Family, r.OldID, r.NewID,
				nanos(r.Now), nanos(r.Expires), nanos(r.KeepUntil), now, nanos(r.AuthTime))
		}
		return err
	})
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// startArgs are the arguments of the start statement for r.
func (s *Store) startArgs(r passauth.Rotation, now int64) []any {
	return []any{r.Subject, r.Family, r.ClientID, nanos(r.AuthTime), nanos(r.Now), r.NewID,
		nanos(r.Expires), nanos(r.KeepUntil), now}
}

// family is a family's row as rotateLocked reads it, and whether it is
// denied.
type family struct {
	found          bool
	client         string
	current        string
	currentExpires int64
	previous       string
	replaced       int64
	replays        int
	revoked        bool
	expires        int64
	denied         bool // its session's denial, or its subject's at or after its login
}

// rotateLocked decides r in transaction tx, which holds the family's row
// from the moment lockFamily reads it, and writes what it decided.
func (s *Store) rotateLocked(ctx context.Context, tx querier, r passauth.Rotation, now int64) (passauth.Rotated, error) {
	var f family
	err := tx.QueryRowContext(ctx, s.q.lockFamily, r.Subject, r.Family, now, nanos(r.AuthTime)).Scan(
		&f.client, &f.current, &f.currentExpires, &f.previous, &f.replaced, &f.replays, &f.revoked, &f.expires, &f.denied)
	switch {
	case err == nil:
		f.found = true
	case errors.Is(err, sql.ErrNoRows):
		err = nil
	default:
		return passauth.Rotated{}, err
	}

	res, act := decide(f, r, now)
	switch act {
	case actStart:
		started, err := tx.ExecContext(ctx, s.q.start, s.startArgs(r, now)...)
		if err != nil {
			return passauth.Rotated{}, err
		}
		if n, err := started.RowsAffected(); err != nil || n != 1 {
			// On PostgreSQL, a start of the same family, unknown when
			// lockFamily looked, has committed since: a second start of one
			// session, which cannot happen honestly.
			return passauth.Rotated{Result: passauth.RotateRevoked}, err
		}
	case actRotate:
		_, err = tx.ExecContext(ctx, s.q.rotateLocked, r.Subject, r.Family, nanos(r.Now), r.NewID,
			nanos(r.Expires), nanos(r.KeepUntil))
	case actReplay:
		_, err = tx.ExecContext(ctx, s.q.replay, r.Subject, r.Family, nanos(r.Now))
	case actReuse:
		if _, err = tx.ExecContext(ctx, s.q.revoke, r.Subject, r.Family); err == nil {
			err = s.deny(ctx, tx, r.Subject, kindSession, r.Family, r.DenyUntil, r.DenyUntil, now)
		}
	}
	if err != nil {
		return passauth.Rotated{}, err
	}
	return res, nil
}

// What a rotation writes, besides its answer.
type action int

const (
	actNone   action = iota
	actStart         // record the family, over an expired one of its name
	actRotate        // make NewID current
	actReplay        // count a replay of the predecessor
	actReuse         // revoke the family and deny the session
)

// decide returns what Rotate answers r with, given the family's row f at
// now, and what it must write: the rules of passauth.Rotation, in the order
// passauth.MemoryStore applies them.
func decide(f family, r passauth.Rotation, now int64) (passauth.Rotated, action) {
	live := f.found && now < f.expires
	switch {
	case !live && r.OldID == "":
		return passauth.Rotated{Result: passauth.RotateOK, Current: r.NewID, Expires: r.Expires}, actStart
	case !live || f.revoked || (r.OldID != "" && f.denied):
		return passauth.Rotated{Result: passauth.RotateRevoked}, actNone
	case r.NewID == f.current:
		// A repeat of the call that made NewID current: its answer was lost.
		return passauth.Rotated{Result: passauth.RotateOK, Current: f.current, Expires: time.Unix(0, f.currentExpires)}, actNone
	case r.OldID != "" && r.OldID == f.current:
		return passauth.Rotated{Result: passauth.RotateOK, Current: r.NewID, Expires: r.Expires}, actRotate
	case r.Grace > 0 && r.OldID != "" && r.OldID == f.previous &&
		!r.Now.After(time.Unix(0, f.replaced).Add(r.Grace)) && r.ClientID == f.client && f.replays < r.MaxReplays:
		return passauth.Rotated{Result: passauth.RotateReplayed, Current: f.current, Expires: time.Unix(0, f.currentExpires)}, actReplay
	}
	return passauth.Rotated{Result: passauth.RotateReused}, actReuse
}
