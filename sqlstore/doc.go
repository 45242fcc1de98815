// Package sqlstore is a passauth.Store kept in the tables of a SQL
// database, PostgreSQL or SQLite, through database/sql: every replica of a
// service that shares the database shares one view of its login sessions,
// and the sessions survive restarts. The application brings the driver and
// the *sql.DB; this package imports no driver.
//
// For most uses: open the database, New, Migrate at start-up, set the
// Store as passauth.Config.Store, and run Sweep from time to time:
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	db, err := sql.Open("pgx", "postgres://app@db.internal/app")
//	…
//	db.SetMaxOpenConns(25)
//	db.SetMaxIdleConns(25) // reconnecting costs more than a rotation
//	store, err := sqlstore.New(db, sqlstore.Postgres)
//	…
//	if err := store.Migrate(ctx); err != nil {
//		log.Fatal(err)
//	}
//	iss, err := passauth.NewTokenIssuer(passauth.Config{
//		// secrets and lifetimes …
//		Store:        store,
//		CheckRevoked: true,
//	})
//
// and for SQLite, with modernc.org/sqlite (no cgo), one file on a local
// disk:
//
//	import _ "modernc.org/sqlite"
//
//	db, err := sql.Open("sqlite", "file:/var/lib/app/passauth.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
//	…
//	db.SetMaxOpenConns(4)
//	db.SetMaxIdleConns(4)
//	store, err := sqlstore.New(db, sqlstore.SQLite)
//
// Store also implements passauth.SessionLister. The tests run
// storetest.TestStore, with -race, against PostgreSQL 15 through
// github.com/jackc/pgx/v5/stdlib and SQLite 3.54 through
// modernc.org/sqlite v1.62.
//
// # What is stored
//
// A Store never sees a token: passauth gives it token IDs ("jti"), session
// IDs, client IDs and subjects, and the tables hold those and times, all
// times as BIGINT Unix nanoseconds (so a denial's time comes back as it was
// given). Every name starts with the table prefix, DefaultTablePrefix
// ("passauth_") unless WithTablePrefix says otherwise:
//
//   - <prefix>families: one row per login session (token family), keyed
//     by (subject, family), family being the session ID ("sid"). client is
//     the client the session was started for ("" for none); created, the
//     login time (Rotation.AuthTime); last_used, passauth's time of the
//     last rotation or replay; current_id, the ID of the session's only
//     valid refresh token, and current_expires, its expiry; previous_id,
//     the ID current_id replaced ("" before the first rotation), replaced,
//     when (passauth's clock), and replays, how many times previous_id has
//     been presented again within the grace window since; revoked, set by
//     a logout or a reuse; and expires, when the row may be forgotten: the
//     current refresh token's expiry plus Config.Leeway. Each rotation
//     moves expires; revoking keeps it, so that a revoked session cannot be
//     started again while any of its tokens could be presented.
//   - <prefix>denials: one row per denial, keyed by (subject, kind, id):
//     kind "sub" (with an empty id) refuses every session of the subject
//     that logged in by denied_at (RevokeSubject); "sid" a session (a
//     logout, a reuse, Revoke past three access tokens); "jti" an access
//     token (Revoke).
//     denied_at is the latest time it was denied with, and expires the
//     latest expiry.
//   - <prefix>schema_version: one row, the schema version (SchemaVersion).
//
// Each table has an index on expires, for Sweep. Subjects are stored as
// passauth gives them (redisstore hashes them instead): the database is
// usually the application's own, which holds its users already.
//
// # Schema and migrations
//
// Migrate creates the tables and indexes if they do not exist and records
// the schema version, in one transaction; run it at every start, from any
// number of replicas at once. Schema returns the same DDL as text, and the
// package's files schema_postgres.sql and schema_sqlite.sql hold it (with
// the default prefix), for an application that applies its migrations
// with a tool of its own; the tests check that Migrate and the files
// leave identical catalogs. A later version of this package that changes
// the tables will bring steps from each recorded version, which Migrate
// runs; Migrate refuses tables newer than it knows. Migrate needs the
// right to create tables; the store then needs only SELECT, INSERT, UPDATE
// and DELETE on its tables.
//
// # Atomicity
//
// Every passauth operation is one call, and every call is one statement or
// one transaction:
//
//   - A refresh of the current token is one UPDATE of the family's row,
//     found by its primary key, whose WHERE clause holds every check: that
//     current_id is the token presented, that the family is neither
//     revoked nor expired, and that neither its session nor its subject
//     (at or after its login time) is denied. A login is one INSERT … ON
//     CONFLICT DO UPDATE that writes over a family of the same name only
//     once it has expired. Either takes one round trip.
//   - When that statement changes nothing, Rotate decides in a
//     transaction that holds the family's row from its first read:
//     a retry of a rotation whose answer was lost (RotateOK, nothing
//     written), a replay within the grace window (the count raised), reuse
//     (the family revoked and the session denied, in that transaction), or
//     a family revoked, expired, unknown or denied. It applies
//     passauth.MemoryStore's rules, in its order. RevokeSession revokes the
//     family and denies the session in one transaction.
//
// On PostgreSQL, the UPDATEs of one row queue on the row's lock; when the
// first commits, each waiting one evaluates its WHERE clause again on the
// row's new version (READ COMMITTED, PostgreSQL's default), where
// current_id is the winner's token, so it changes nothing and goes on to
// the transaction. That transaction is READ COMMITTED whatever the
// server's default and starts with SELECT … FOR UPDATE, which waits for
// the row and then reads its latest committed version. Of any number of
// concurrent refreshes of one token, on any number of servers, exactly one
// rotates; the others are replays (within the grace window) or reuse. A
// server whose default isolation is REPEATABLE READ or SERIALIZABLE fails
// the UPDATE instead when a concurrent one commits first (SQLSTATE 40001),
// and the store runs it again. A logout and a reuse mark the family's own
// row revoked, which every rotation reads under the row's lock. Denials,
// though, are rows of another table, which a statement reads as they were
// when it started: a RevokeSubject that commits while a rotation of one of
// the subject's sessions runs may be missed by that rotation, which then
// answers as if it had come first. The tokens it answers with are refused
// from then on all the same: by the next rotation and, with
// Config.CheckRevoked, at every request, like those of a refresh that ended
// just before the RevokeSubject.
//
// On SQLite, one connection at a time writes to a database, across
// processes too. The UPDATE takes that write lock before it reads the row,
// so nothing writes between its checks and its write; the transaction
// starts with BEGIN IMMEDIATE, which takes the write lock at once, so its
// reads are the latest and nothing else writes until it commits.
//
// The tests check it with 50 concurrent refreshes of one token through two
// TokenIssuers on two connection pools, and 50 concurrent rotations from
// five processes: one winner, on each database.
//
// # Sweeping expired rows
//
// Nothing deletes rows but Sweep: every statement compares expiry times
// with the time, so an expired row is never reported, but it stays in its
// table until swept. Rows to sweep accumulate at about the rate of logins
// (a family row expires a RefreshTTL after its session's last refresh) and
// of revocations. The application runs Sweep, from every replica or from
// one; New starts nothing. Each call deletes at most its batch, those that
// expired first, in one DELETE per table, so it runs in a bounded time:
// 1000 rows took about 6ms on either database in the tests. Every minute,
// and again at once while it deletes a full batch, is plenty:
//
//	go func() {
//		tick := time.NewTicker(time.Minute)
//		defer tick.Stop()
//		for {
//			select {
//			case <-ctx.Done():
//				return
//			case <-tick.C:
//			}
//			for range 100 { // at most 100,000 rows a minute
//				n, err := store.Sweep(ctx, 1000)
//				if err != nil {
//					log.Print(err)
//					break
//				}
//				if n < 1000 {
//					break
//				}
//			}
//		}
//	}()
//
// On PostgreSQL, a sweep skips rows another transaction holds (FOR UPDATE
// SKIP LOCKED) rather than wait, and sweeps on several replicas delete
// different rows. On SQLite, a sweep holds the write lock for its DELETE:
// keep batches small, so that refreshes wait little behind it.
//
// # Time
//
// The store compares expiry times with time.Now of the process calling
// it; the times it stores come from passauth's clock (Config.Now).
// Replicas sharing a database should keep their clocks within
// Config.Leeway of each other, as passauth requires anyway.
//
// # PostgreSQL
//
// Any driver that honours a context's deadline will do; the tests use pgx
// (github.com/jackc/pgx/v5/stdlib). On a deadline pgx closes the
// connection, so that a call waiting for a row lock gives up when
// passauth's Config.StoreTimeout runs out; but the server does not learn
// of it, and a statement it was running goes on waiting, and may be
// carried out once it gets the lock (see Failures). Set lock_timeout for
// the store's connections, about as long as Config.StoreTimeout (pgx:
// "…?lock_timeout=1s", or ALTER ROLE … SET lock_timeout), so that the
// server gives up too. Keep as many idle
// connections as open ones (SetMaxIdleConns): a new connection costs a TCP
// handshake and an authentication, far more than a rotation, and
// database/sql keeps only two idle connections by default. The store sets
// no session state and prepares no statements of its own; pgx prepares
// and caches them per connection, which a pooler in transaction mode must
// allow (or set default_query_exec_mode=exec in pgx's DSN). To keep the
// tables in a schema of their own, put it in the connection's search_path
// (pgx: "…?search_path=auth"), as the tests do.
//
// # SQLite
//
// SQLite 3.37 or later (STRICT tables). Settings, in the DSN of
// modernc.org/sqlite:
//
//   - busy_timeout, required: how long a connection waits for another's
//     write lock, 5000ms above. Without one, a write that meets another
//     fails at once with SQLITE_BUSY, and only the store's own retry
//     waits: at most 50 attempts with a growing random backoff, about a
//     second in all, which 50 concurrent rotations of one token on an
//     unbounded pool outlasted. modernc.org/sqlite ends the wait when the
//     call's context is done; another driver may wait out the timeout.
//   - journal_mode(WAL), recommended (it persists in the file): readers,
//     such as the denylist checks of CheckRevoked, do not wait for the
//     writer, nor the writer for them.
//   - synchronous: the default, FULL, syncs every commit to disk. NORMAL
//     (with WAL) made a rotation several times faster in the tests but
//     may lose the last commits on a power loss or an OS crash (not on a
//     crash of the application): a lost rotation makes its new refresh
//     token unknown (the user logs in again, fail closed), and a lost
//     revocation is undone (fail open).
//
// A few connections are best (SetMaxOpenConns(4) above): writers then
// queue in database/sql's pool, which hands connections over in turn,
// rather than poll SQLite's lock with the busy handler's sleeps. Five
// rounds of 50 concurrent rotations of one token took 0.1s with 4
// connections and 0.4s with database/sql's default, unbounded pool. Several
// processes may share the file, each with these settings, on a local file
// system (SQLite's locks do not work over NFS). On SQLite the store
// prepares its most used statements once and keeps them, since SQLite
// compiles each statement in the calling process; a call with a deadline
// costs modernc.org/sqlite a goroutine that watches it, about 35µs in the
// tests.
//
// # Failures
//
// Every error from the database is returned wrapped so that it matches
// passauth.ErrStoreUnavailable with errors.Is, with the driver's error in
// its chain for the application's logs, and, when the call's context is
// done, so that it matches the context's error too; passauth then fails
// closed (503 from its handlers). A call whose context is already done
// fails before it touches the database. The store retries only what the
// database reports as busy (SQLITE_BUSY, SQLITE_LOCKED) or, on PostgreSQL,
// as a serialization failure or a deadlock, all of which change nothing:
// at most 50 attempts, within the context. Any other failure is returned,
// even one that leaves the outcome unknown. On PostgreSQL that includes a
// deadline that passes while a statement runs or waits for a lock: the
// call fails at once, but the server may still carry out a single
// statement (a refresh, a login, Deny) unless lock_timeout ends it, though
// never a transaction, whose connection is gone before it commits. So a
// refresh reported as failed may have rotated the session: the client's
// next try with its old token is then a replay within the grace window,
// or reuse without one (the session ends: fail closed); a revocation
// reported as failed may be in effect, and may be repeated. On SQLite,
// modernc.org/sqlite interrupts the statement, which then changes
// nothing.
//
// # Releases
//
// sqlstore is a module of its own, github.com/passauth/passauth/sqlstore,
// tagged sqlstore/vX.Y.Z beside the root's vX.Y.Z. Its go.mod requires a
// tagged version of the root module (never a pseudo-version) and keeps a
// replace ../ for development, which go get ignores in a dependency.
package sqlstore
