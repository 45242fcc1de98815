package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/passauth/passauth"
)

// Store is a passauth.Store, and a passauth.SessionLister, kept in the
// tables of a SQL database. It holds no state of its own besides the
// *sql.DB and the statements New built (on SQLite, prepared on first use),
// and is safe for concurrent use by any number of goroutines and processes
// sharing the database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	prefix  string
	q       statements
	hot     hotStatements
}

var (
	_ passauth.Store         = (*Store)(nil)
	_ passauth.SessionLister = (*Store)(nil)
)

// Dialect is the SQL database a Store runs on.
type Dialect int

const (
	// Postgres is PostgreSQL, through any database/sql driver for it, such
	// as github.com/jackc/pgx/v5/stdlib.
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.37 or later, through any database/sql driver for
	// it, such as modernc.org/sqlite (no cgo).
	SQLite
)

// String returns the name of d.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "PostgreSQL"
	case SQLite:
		return "SQLite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DefaultTablePrefix starts the name of every table and index when
// WithTablePrefix is not given: passauth_families, passauth_denials and
// passauth_schema_version.
const DefaultTablePrefix = "passauth_"

// maxPrefix is the longest table prefix: with the longest suffix,
// "families_expires", a name stays within PostgreSQL's 63 bytes.
const maxPrefix = 40

// An Option configures a Store.
type Option func(*Store)

// WithTablePrefix sets the prefix of the names of the store's tables and
// indexes, so that several services or environments can share a database.
// The prefix is 1 to 40 lower-case ASCII letters, digits and underscores,
// and does not start with a digit; New rejects any other. To keep the
// tables in a PostgreSQL schema of their own, put the schema in the
// connection's search_path instead.
func WithTablePrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// New returns a Store that keeps its records in db, a database of the given
// dialect. It only checks its arguments and builds the statements it will
// run: it does not touch the database, and starts nothing. Run Migrate (or
// the DDL that Schema returns) before the first call, and Sweep from time
// to time. The application opens db with its driver and keeps it open
// while the store is in use; see the package documentation for the
// settings that matter.
func New(db *sql.DB, dialect Dialect, opts ...Option) (*Store, error) {
	s := &Store{db: db, dialect: dialect, prefix: DefaultTablePrefix}
	for _, opt := range opts {
		opt(s)
	}
	switch {
	case db == nil:
		return nil, errors.New("sqlstore: New: db is nil")
	case dialect != Postgres && dialect != SQLite:
		return nil, fmt.Errorf("sqlstore: New: unknown dialect %v", dialect)
	case !validPrefix(s.prefix):
		return nil, errors.New("sqlstore: New: WithTablePrefix: the prefix must be 1 to 40 lower-case letters, digits and underscores, not starting with a digit")
	}
	s.q = newStatements(dialect, s.prefix)
	s.hot.rotate.query, s.hot.start.query = s.q.rotate, s.q.start
	s.hot.deny.query, s.hot.denied.query = s.q.deny, s.q.denied
	return s, nil
}

func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > maxPrefix || (p[0] >= '0' && p[0] <= '9') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// RevokeSession implements [passauth.Store.RevokeSession] in one
// transaction: it marks the family revoked (an unknown one stays unknown,
// which Rotate reports as revoked all the same) and records the session's
// denial. The family is kept until it expires, so that it cannot be
// started again.
func (s *Store) RevokeSession(ctx context.Context, d passauth.Denial) error {
	if err := ctx.Err(); err != nil {
		return wrap("revoke session", err)
	}
	now := nanos(time.Now())
	err := s.inTx(ctx, func(tx querier) error {
		if _, err := tx.ExecContext(ctx, s.q.revoke, d.Subject, d.Session); err != nil {
			return err
		}
		return s.deny(ctx, tx, d.Subject, kindSession, d.Session, d.At, d.Expires, now)
	})
	if err != nil {
		return wrap("revoke session", err)
	}
	return nil
}

// Deny implements [passauth.Store.Deny] in one statement. Denying again
// keeps the later time and the later expiry, unless the denial there has
// expired, which the new one replaces.
func (s *Store) Deny(ctx context.Context, d passauth.Denial) error {
	if err := ctx.Err(); err != nil {
		return wrap("deny", err)
	}
	kind, id := kindSubject, ""
	switch {
	case d.Token != "":
		kind, id = kindToken, d.Token
	case d.Session != "":
		kind, id = kindSession, d.Session
	}
	now := nanos(time.Now())
	err := s.retry(ctx, func() error {
		_, err := s.exec(ctx, &s.hot.deny, d.Subject, kind, id, nanos(d.At), nanos(d.Expires), now)
		return err
	})
	if err != nil {
		return wrap("deny", err)
	}
	return nil
}

// The kinds of denial, the denials table's kind column.
const (
	kindSubject = "sub" // every session of the subject that logged in by denied_at; id is ""
	kindSession = "sid" // the session id
	kindToken   = "jti" // the access token id
)

// deny records a denial in transaction q.
func (s *Store) deny(ctx context.Context, q querier, subject, kind, id string, at, expires time.Time, now int64) error {
	_, err := q.ExecContext(ctx, s.q.deny, subject, kind, id, nanos(at), nanos(expires), now)
	return err
}

// Denied implements [passauth.Store.Denied] in one query, which reads only
// rows of the subject by their primary key. An empty Subject names no
// subject denial, as with passauth.MemoryStore; with nothing to look up it
// reports not found without asking the database.
func (s *Store) Denied(ctx context.Context, q passauth.DenyQuery) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, wrap("denied", err)
	}
	if q.Subject == "" && q.Session == "" && q.Token == "" {
		return time.Time{}, false, nil
	}
	subject := sql.NullString{Valid: q.Subject != ""} // the subject denial's id, ""
	session := sql.NullString{String: q.Session, Valid: q.Session != ""}
	token := sql.NullString{String: q.Token, Valid: q.Token != ""}
	var at sql.NullInt64
	err := s.retry(ctx, func() error {
		return s.queryRow(ctx, &s.hot.denied, []any{&at}, q.Subject, nanos(time.Now()), subject, session, token)
	})
	if err != nil {
		return time.Time{}, false, wrap("denied", err)
	}
	if !at.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, at.Int64), true, nil
}

// querier is what a statement runs on: the *sql.DB, a *sql.Tx, or the
// *sql.Conn of a SQLite transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nanos returns t in Unix nanoseconds, the times' representation in the
// tables, clamped to the years 1678 to 2262 that an int64 holds.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// storeError is a failure of the database: it matches
// passauth.ErrStoreUnavailable and unwraps to the driver's error. Its text
// holds the operation and the driver's error, never a token (the store is
// never given one).
type storeError struct {
	op  string
	err error
}

func wrap(op string, err error) error {
	return &storeError{op: op, err: err}
}

func (e *storeError) Error() string {
	return "sqlstore: " + e.op + ": " + e.err.Error()
}

// Unwrap returns the driver's error.
func (e *storeError) Unwrap() error { return e.err }

// Is reports whether target is passauth.ErrStoreUnavailable.
func (e *storeError) Is(target error) bool {
	return target == passauth.ErrStoreUnavailable
}
