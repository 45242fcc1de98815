package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/sqlstore"
	"github.com/passauth/passauth/storetest"
)

// A backend is a kind of database the tests run against.
type backend struct {
	name    string
	dialect sqlstore.Dialect
	// create makes an empty database of this kind for one test, removed
	// when the test ends, and returns its driver name and DSN.
	create func(tb testing.TB) (driver, dsn string)
	// pool sets up each connection pool the tests open on it.
	pool func(*sql.DB)
}

// backends returns SQLite, always, and PostgreSQL when
// PASSAUTH_POSTGRES_DSN names a server.
func backends(tb testing.TB) []backend {
	tb.Helper()
	bs := []backend{{"sqlite", sqlstore.SQLite, createSQLite, sqlitePool}}
	if os.Getenv("PASSAUTH_POSTGRES_DSN") != "" {
		bs = append(bs, backend{"postgres", sqlstore.Postgres, createPostgres, postgresPool})
	} else {
		tb.Log("no PostgreSQL server: set PASSAUTH_POSTGRES_DSN or run ../scripts/with-postgres.sh go test ./...; testing SQLite only")
	}
	return bs
}

// forEach runs f as a parallel subtest on each backend.
func forEach(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// sqlitePool and postgresPool are the pool settings the package
// documentation recommends: for SQLite, a few connections, so that
// writers queue in the pool rather than poll SQLite's lock; for
// PostgreSQL, as many idle connections kept as the tests open (50 at
// most), so that each round of concurrent calls does not connect again.
func sqlitePool(db *sql.DB) {
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
}

func postgresPool(db *sql.DB) {
	db.SetMaxIdleConns(64)
}

// sqliteDSN is the DSN the tests open SQLite files with: the settings the
// package documentation recommends.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
}

func createSQLite(tb testing.TB) (string, string) {
	return "sqlite", sqliteDSN(filepath.Join(tb.TempDir(), "passauth.db"))
}

// createPostgres makes a schema of its own on the server under test, and
// returns a DSN whose search_path puts the store's tables there.
func createPostgres(tb testing.TB) (string, string) {
	tb.Helper()
	base := os.Getenv("PASSAUTH_POSTGRES_DSN")
	admin := openDB(tb, "pgx", base)
	schema := "test_" + strings.ToLower(rand.Text())
	_, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("dropping the test's schema: %v", err)
		}
	})
	return "pgx", withParam(base, "search_path", schema)
}

// withParam returns a PostgreSQL DSN, a URL or keyword/value pairs, with a
// run-time parameter added.
func withParam(dsn, key, value string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " " + key + "=" + value
	}
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err) // the DSN was good enough to connect with
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// openDB opens a connection pool, closed when the test ends (after the
// cleanups registered later, which may still use it).
func openDB(tb testing.TB, driver, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open(driver, dsn)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// testDB is one test's database: a pool on it, and what opens others.
type testDB struct {
	*sql.DB
	backend
	driver, dsn string
}

func newTestDB(tb testing.TB, b backend) *testDB {
	tb.Helper()
	driver, dsn := b.create(tb)
	d := &testDB{backend: b, driver: driver, dsn: dsn}
	d.DB = d.another(tb)
	return d
}

// another opens another pool on the same database, as another process
// would.
func (d *testDB) another(tb testing.TB) *sql.DB {
	db := openDB(tb, d.driver, d.dsn)
	if d.pool != nil {
		d.pool(db)
	}
	return db
}

// store returns a Store on db, with its tables migrated.
func (d *testDB) store(tb testing.TB, db *sql.DB, opts ...sqlstore.Option) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(db, d.dialect, opts...)
	require.NoError(tb, err)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

// newStore returns a Store on a new database of backend b.
func newStore(tb testing.TB, b backend) (*sqlstore.Store, *testDB) {
	tb.Helper()
	d := newTestDB(tb, b)
	return d.store(tb, d.DB), d
}

func TestStore(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, _ := newStore(t, b)
		storetest.TestStore(t, func(t *testing.T) passauth.Store { return s })
	})
}

// TestStoreSQLiteDefaultPool runs the conformance suite on SQLite with
// database/sql's default pool, as many connections as there are callers,
// so that they contend for SQLite's write lock in SQLite's busy handler
// rather than wait for a connection in the pool.
func TestStoreSQLiteDefaultPool(t *testing.T) {
	t.Parallel()
	b := backend{dialect: sqlstore.SQLite, create: createSQLite}
	s, _ := newStore(t, b)
	storetest.TestStore(t, func(t *testing.T) passauth.Store { return s })
}

// testConfig is the Config of the issuers in these tests; the caller sets
// Store and the other fields it needs.
func testConfig() passauth.Config {
	return passauth.Config{
		AccessSecret:   []byte("sqlstore-test-access-secret-0123456789"),
		RefreshSecret:  []byte("sqlstore-test-refresh-secret-0123456789"),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     24 * time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
	}
}

// newIssuer returns an issuer keeping its sessions in s.
func newIssuer(tb testing.TB, s passauth.Store, mods ...func(*passauth.Config)) *passauth.TokenIssuer {
	tb.Helper()
	cfg := testConfig()
	cfg.Store = s
	for _, mod := range mods {
		mod(&cfg)
	}
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(tb, err)
	return iss
}

// testSession is a session of a random subject, for the tests that call
// the Store directly.
type testSession struct {
	subject, family, client string
	authTime                time.Time
}

func newTestSession() testSession {
	return testSession{subject: "subject-" + rand.Text(), family: rand.Text(), client: "client-" + rand.Text(), authTime: time.Now()}
}

// rotation returns the rotation of s from oldID ("" to start it) to newID
// now, strict, kept an hour.
func (s testSession) rotation(oldID, newID string) passauth.Rotation {
	now := time.Now()
	return passauth.Rotation{
		Subject: s.subject, Family: s.family, OldID: oldID, NewID: newID, ClientID: s.client,
		AuthTime: s.authTime, Now: now, Expires: now.Add(time.Hour), KeepUntil: now.Add(time.Hour), DenyUntil: now.Add(time.Hour),
	}
}

// rotate runs r on s and checks its result.
func rotate(t *testing.T, s passauth.Store, r passauth.Rotation, want passauth.RotateResult, what string) passauth.Rotated {
	t.Helper()
	got, err := s.Rotate(t.Context(), r)
	require.NoError(t, err, what)
	require.Equal(t, want, got.Result, what)
	return got
}

// rows returns every row of table (a name with the default prefix), each
// column as text, for the tests that look at the tables.
func (d *testDB) rows(tb testing.TB, table string) [][]string {
	tb.Helper()
	rows, err := d.QueryContext(context.Background(), "SELECT * FROM "+table)
	require.NoError(tb, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(tb, err)
	var all [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(tb, rows.Scan(ptrs...))
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		all = append(all, row)
	}
	require.NoError(tb, rows.Err())
	return all
}

// count returns the number of rows of table.
func (d *testDB) count(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	require.NoError(tb, d.QueryRowContext(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}
