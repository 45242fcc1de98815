package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
)

// statements holds every statement the store runs, built once by New for
// its dialect and table prefix. Each is written here for PostgreSQL, with
// $1, $2 … as parameters; for SQLite, build turns those into ?1, ?2 …,
// GREATEST into SQLite's max, and drops the row-locking clauses, which
// SQLite does not need: it runs one writer at a time.
//
// In each template {f}, {d} and {v} stand for the families, denials and
// schema version tables. Times are Unix nanoseconds; "now" is the store's
// clock.
type statements struct {
	// rotate moves family ($1 subject, $2 family) from current token $3 to
	// $4 at passauth's time $5, with $6 the expiry of $4 and $7 the
	// family's, provided the family is live at $8, not revoked, and denied
	// neither as a session nor as a subject at or after its login time $9.
	rotate string
	// start records family $2 of $1 for client $3, logged in at $4, used
	// at $5, with current token $6 expiring at $7 and the family at $8,
	// unless a family of that name is live at $9.
	start string
	// lockFamily reads family ($1, $2) and whether it is denied at $3 (as
	// a session, or as a subject at or after $4), locking its row.
	lockFamily string
	// rotateLocked, replay and revoke change a family the transaction
	// holds.
	rotateLocked string
	replay       string
	revoke       string
	// deny records denial ($1 subject, $2 kind, $3 ID) at $4 until $5,
	// keeping the later of each with a denial that is live at $6.
	deny string
	// denied reads the latest time of the denials of subject $1 live at $2
	// that are of the subject ($3 = ''), of session $4 or of token $5; a
	// NULL parameter names nothing.
	denied string
	// sessions lists the live sessions of $1 at $2.
	sessions string
	// sweepFamilies and sweepDenials delete at most $2 rows expired at $1.
	sweepFamilies string
	sweepDenials  string
	// Migrate's: the schema version and, on PostgreSQL, its lock.
	migrateLock   string
	schemaVersion string
}

func newStatements(d Dialect, prefix string) statements {
	r := strings.NewReplacer(
		"{f}", prefix+"families",
		"{d}", prefix+"denials",
		"{v}", prefix+"schema_version",
	)
	b := func(q string) string {
		q = r.Replace(q)
		if d == SQLite {
			q = strings.NewReplacer("$", "?", "GREATEST(", "max(", " FOR UPDATE SKIP LOCKED", "", " FOR UPDATE", "").Replace(q)
		}
		return q
	}
	return statements{
		rotate: b(`UPDATE {f} SET previous_id = current_id, replaced = $5, replays = 0,
	current_id = $4, current_expires = $6, expires = $7, last_used = $5
WHERE subject = $1 AND family = $2 AND current_id = $3 AND current_id <> $4
	AND NOT revoked AND expires > $8
	AND NOT EXISTS (SELECT 1 FROM {d} WHERE subject = $1 AND kind = 'sid' AND id = $2 AND expires > $8)
	AND NOT EXISTS (SELECT 1 FROM {d} WHERE subject = $1 AND kind = 'sub' AND id = '' AND denied_at >= $9 AND expires > $8)`),

		start: b(`INSERT INTO {f} (subject, family, client, created, last_used, current_id, current_expires,
	previous_id, replaced, replays, revoked, expires)
VALUES ($1, $2, $3, $4, $5, $6, $7, '', 0, 0, FALSE, $8)
ON CONFLICT (subject, family) DO UPDATE SET client = excluded.client, created = excluded.created,
	last_used = excluded.last_used, current_id = excluded.current_id, current_expires = excluded.current_expires,
	previous_id = '', replaced = 0, replays = 0, revoked = FALSE, expires = excluded.expires
WHERE {f}.expires <= $9`),

		lockFamily: b(`SELECT client, current_id, current_expires, previous_id, replaced, replays, revoked, expires,
	EXISTS (SELECT 1 FROM {d} WHERE subject = $1 AND kind = 'sid' AND id = $2 AND expires > $3)
	OR EXISTS (SELECT 1 FROM {d} WHERE subject = $1 AND kind = 'sub' AND id = '' AND denied_at >= $4 AND expires > $3)
FROM {f} WHERE subject = $1 AND family = $2 FOR UPDATE`),

		rotateLocked: b(`UPDATE {f} SET previous_id = current_id, replaced = $3, replays = 0,
	current_id = $4, current_expires = $5, expires = $6, last_used = $3
WHERE subject = $1 AND family = $2`),
		replay: b(`UPDATE {f} SET replays = replays + 1, last_used = $3 WHERE subject = $1 AND family = $2`),
		revoke: b(`UPDATE {f} SET revoked = TRUE WHERE subject = $1 AND family = $2`),

		deny: b(`INSERT INTO {d} (subject, kind, id, denied_at, expires) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (subject, kind, id) DO UPDATE SET
	denied_at = CASE WHEN {d}.expires <= $6 THEN excluded.denied_at ELSE GREATEST({d}.denied_at, excluded.denied_at) END,
	expires = CASE WHEN {d}.expires <= $6 THEN excluded.expires ELSE GREATEST({d}.expires, excluded.expires) END`),

		denied: b(`SELECT max(denied_at) FROM {d} WHERE subject = $1 AND expires > $2
	AND ((kind = 'sub' AND id = $3) OR (kind = 'sid' AND id = $4) OR (kind = 'jti' AND id = $5))`),

		sessions: b(`SELECT f.family, f.client, f.created, f.last_used, f.current_expires FROM {f} AS f
WHERE f.subject = $1 AND NOT f.revoked AND f.expires > $2
	AND NOT EXISTS (SELECT 1 FROM {d} AS d WHERE d.subject = f.subject AND d.kind = 'sid' AND d.id = f.family AND d.expires > $2)
	AND NOT EXISTS (SELECT 1 FROM {d} AS d WHERE d.subject = f.subject AND d.kind = 'sub' AND d.id = ''
		AND d.denied_at >= f.created AND d.expires > $2)
ORDER BY f.expires DESC, f.family
LIMIT 1000`),

		sweepFamilies: b(`DELETE FROM {f} WHERE (subject, family) IN
	(SELECT subject, family FROM {f} WHERE expires <= $1 ORDER BY expires LIMIT $2 FOR UPDATE SKIP LOCKED)`),
		sweepDenials: b(`DELETE FROM {d} WHERE (subject, kind, id) IN
	(SELECT subject, kind, id FROM {d} WHERE expires <= $1 ORDER BY expires LIMIT $2 FOR UPDATE SKIP LOCKED)`),

		migrateLock:   `SELECT pg_advisory_xact_lock($1)`,
		schemaVersion: b(`SELECT max(version) FROM {v}`),
	}
}

// hotStatements are the statements of the calls passauth makes most: a
// refresh, a login, a revocation and a check of the denylist. On SQLite
// the store prepares each once, on first use, rather than on every call:
// SQLite compiles a statement in the calling process, which took three
// times as long as running it (25µs and 8µs for the rotation's UPDATE
// when it matches no row). On PostgreSQL the driver prepares and caches
// them (pgx does), and the store passes the text.
type hotStatements struct {
	rotate, start, deny, denied prepared
}

// prepared is a statement prepared on first use. The *sql.Stmt lives as
// long as the *sql.DB, which closes it.
type prepared struct {
	query string
	stmt  atomic.Pointer[sql.Stmt]
}

// exec runs p on the pool.
func (s *Store) exec(ctx context.Context, p *prepared, args ...any) (sql.Result, error) {
	if s.dialect != SQLite {
		return s.db.ExecContext(ctx, p.query, args...)
	}
	st, err := s.prepare(ctx, p)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs p on the pool and scans its one row into dest.
func (s *Store) queryRow(ctx context.Context, p *prepared, dest []any, args ...any) error {
	if s.dialect != SQLite {
		return s.db.QueryRowContext(ctx, p.query, args...).Scan(dest...)
	}
	st, err := s.prepare(ctx, p)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// prepare returns p's *sql.Stmt, preparing it on first use. Concurrent
// first uses may each prepare it: one keeps its statement, the others
// close theirs. A failure (before Migrate, say) is not kept.
func (s *Store) prepare(ctx context.Context, p *prepared) (*sql.Stmt, error) {
	if st := p.stmt.Load(); st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, p.query)
	if err != nil {
		return nil, err
	}
	if !p.stmt.CompareAndSwap(nil, st) {
		_ = st.Close()
		return p.stmt.Load(), nil
	}
	return st, nil
}
