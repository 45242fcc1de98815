package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// retry runs f, and runs it again while it fails because the database is
// busy (see busy), at most maxAttempts times in all, sleeping a little
// between attempts, and never once ctx is done: then its error matches
// ctx's. Each attempt must be safe to repeat: a statement that failed as
// busy changed nothing.
func (s *Store) retry(ctx context.Context, f func() error) error {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctxError(ctx, err)
		}
		if attempt == maxAttempts || !s.busy(err) {
			return err
		}
		t := time.NewTimer(rand.N(backoff) + time.Microsecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctxError(ctx, err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// maxAttempts bounds how many times a statement or transaction is tried
// when the database answers that it is busy; see retry.
const maxAttempts = 50

// Between attempts retry sleeps a random time up to a delay that starts at
// minBackoff and doubles up to maxBackoff: about a second in all over
// maxAttempts, besides what the database itself waits.
const (
	minBackoff = time.Millisecond
	maxBackoff = 32 * time.Millisecond
)

// rollbackTimeout bounds the ROLLBACK that ends a failed SQLite
// transaction, which runs even once the call's context is done.
const rollbackTimeout = 5 * time.Second

// ctxError returns err, the error of a call whose context is done, so that
// it matches ctx's error: drivers report a cancelled call in their own
// ways (SQLite's "interrupted", or its busy error when the wait for a
// lock was cut short).
func ctxError(ctx context.Context, err error) error {
	if errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w: %w", ctx.Err(), err)
}

// busy reports whether err says that the database could not take the
// statement now and changed nothing, so that trying again is right:
//
//   - on SQLite, SQLITE_BUSY or SQLITE_LOCKED (another connection holds
//     the write lock beyond the busy timeout, or a read snapshot went
//     stale), as an error with a Code method (modernc.org/sqlite) or the
//     text SQLite gives them (other drivers);
//   - on PostgreSQL, a serialization failure (SQLSTATE 40001) or a
//     deadlock (40P01), which roll the transaction back, as an error with
//     an SQLState method (pgx, lib/pq).
func (s *Store) busy(err error) bool {
	if s.dialect == Postgres {
		var e interface{ SQLState() string }
		if errors.As(err, &e) {
			code := e.SQLState()
			return code == "40001" || code == "40P01"
		}
		return false
	}
	var e interface{ Code() int }
	if errors.As(err, &e) {
		code := e.Code() & 0xff // the primary result code
		return code == sqliteBusy || code == sqliteLocked
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "database table is locked")
}

// SQLite's primary result codes for a busy database.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// inTx runs f in a transaction, and commits it, with retry: the whole
// transaction is tried again when the database is busy.
//
// On PostgreSQL the transaction is READ COMMITTED, whatever the server's
// default, so that SELECT … FOR UPDATE waits for the row and then reads
// its latest version, rather than failing. On SQLite it starts with BEGIN
// IMMEDIATE, which takes the database's write lock at once (waiting, as
// any write does, up to the connection's busy timeout): nothing else
// writes until it ends, and its reads are the latest. database/sql's
// BeginTx would start a deferred transaction, whose first write may find
// its snapshot stale and fail without waiting.
func (s *Store) inTx(ctx context.Context, f func(tx querier) error) error {
	return s.retry(ctx, func() error {
		if s.dialect == SQLite {
			return s.sqliteTx(ctx, f)
		}
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
		if err != nil {
			return err
		}
		if err := f(tx); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
}

// sqliteTx runs f between BEGIN IMMEDIATE and COMMIT on one connection of
// the pool. When anything fails after BEGIN, it rolls back, even once ctx
// is done; a connection it cannot roll back is closed rather than returned
// to the pool with a transaction open.
func (s *Store) sqliteTx(ctx context.Context, f func(tx querier) error) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err == nil {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if _, rerr := conn.ExecContext(rctx, "ROLLBACK"); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if err := f(conn); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}
