package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/passauth/passauth"
	_ "modernc.org/sqlite" // registers the "sqlite" driver, no cgo
)

// defaultDatabaseFile is the SQLite file the demo keeps its users and
// sessions in when DATABASE_URL is unset, in the working directory.
const defaultDatabaseFile = "passauth-demo.db"

// dbPingTimeout bounds the check at start-up that the database answers.
const dbPingTimeout = 5 * time.Second

// databaseSpec is what DATABASE_URL says: the driver, its data source name
// and, for the logs, a description that never holds a password.
type databaseSpec struct {
	postgres bool   // PostgreSQL through pgx, else SQLite
	dsn      string // what sql.Open takes
	display  string // "sqlite passauth-demo.db", "postgres db.example:5432/app"
}

// errDatabaseURL is the error for a DATABASE_URL the demo cannot use. It
// never repeats the value, which may hold a password.
var errDatabaseURL = errors.New("DATABASE_URL is neither a postgres:// URL such as postgres://user:password@127.0.0.1:5432/app, " +
	"nor a SQLite file: a path such as data/app.db or a sqlite: URL such as sqlite:data/app.db")

// parseDatabaseURL reads DATABASE_URL's value: unset, the SQLite file
// passauth-demo.db in the working directory; a postgres:// or
// postgresql:// URL, that PostgreSQL database; a sqlite: URL (sqlite:path,
// sqlite:///absolute/path) or a plain path, that SQLite file.
func parseDatabaseURL(value string) (databaseSpec, error) {
	switch {
	case value == "":
		return sqliteSpec(defaultDatabaseFile)
	case strings.HasPrefix(value, "postgres://"), strings.HasPrefix(value, "postgresql://"):
		u, err := url.Parse(value)
		if err != nil || u.Host == "" {
			return databaseSpec{}, errDatabaseURL
		}
		// A statement that waits for a lock past its deadline could still
		// be carried out once pgx has given up on it (see sqlstore's
		// Failures): bound the wait on the server too.
		q := u.Query()
		if q.Get("lock_timeout") == "" {
			q.Set("lock_timeout", "1s")
			u.RawQuery = q.Encode()
		}
		return databaseSpec{postgres: true, dsn: u.String(), display: "postgres " + u.Host + u.Path}, nil
	case strings.HasPrefix(value, "sqlite://"):
		return sqliteSpec(strings.TrimPrefix(value, "sqlite://"))
	case strings.HasPrefix(value, "sqlite:"):
		return sqliteSpec(strings.TrimPrefix(value, "sqlite:"))
	case strings.Contains(value, "://"):
		return databaseSpec{}, errDatabaseURL
	}
	return sqliteSpec(value)
}

// sqliteSpec is the SQLite file at path: written ahead (WAL) so that
// readers do not wait for the writer, waiting up to five seconds for a
// lock, and taking the write lock when a transaction begins, so that two
// writers never deadlock on an upgrade.
func sqliteSpec(path string) (databaseSpec, error) {
	if path == "" || strings.ContainsRune(path, 0) {
		return databaseSpec{}, errDatabaseURL
	}
	// The DSN is an SQLite URI: the characters it gives a meaning to are
	// escaped in the path.
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := url.Values{"_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(NORMAL)"}, "_txlock": {"immediate"}}
	return databaseSpec{dsn: "file:" + escaped + "?" + q.Encode(), display: "sqlite " + path}, nil
}

// openDatabase opens the database of spec and checks that it answers. Its
// errors name DATABASE_URL and never repeat the URL.
func openDatabase(ctx context.Context, spec databaseSpec) (*sql.DB, error) {
	driver := "sqlite"
	if spec.postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, spec.dsn)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: opening %s: %w", spec.display, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, dbPingTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("DATABASE_URL: %s does not answer: %s", spec.display, redactError(err, spec.dsn))
	}
	if !spec.postgres {
		// One file, one writer at a time: a small pool is enough.
		db.SetMaxOpenConns(4)
	}
	return db, nil
}

// redactError returns err's text without dsn's password, which a driver
// may quote.
func redactError(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "REDACTED")
		}
	}
	return msg
}

// secretsSchema keeps the token secrets the environment leaves unset, so
// that they, and the sessions signed with them, survive a restart, and so
// that two servers on one PostgreSQL database agree on them.
const secretsSchema = `CREATE TABLE IF NOT EXISTS demo_secrets (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
)`

// keepSecrets replaces the secrets of cfg that loadConfig made up (named
// in generated) by those the database keeps, storing the made-up ones when
// it keeps none yet. Secrets inside key lists (with a previous secret set)
// are left as they are.
func keepSecrets(ctx context.Context, db *sql.DB, sqlite bool, cfg *passauth.Config, generated []string) error {
	if len(generated) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, dbPingTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, secretsSchema); err != nil {
		return fmt.Errorf("creating the secrets table: %w", err)
	}
	q := func(stmt string) string {
		if sqlite {
			return strings.ReplaceAll(stmt, "$", "?")
		}
		return stmt
	}
	keep := func(name string, secret *[]byte) error {
		if _, err := db.ExecContext(ctx, q("INSERT INTO demo_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"), name, string(*secret)); err != nil {
			return err
		}
		var v string
		if err := db.QueryRowContext(ctx, q("SELECT value FROM demo_secrets WHERE name = $1"), name).Scan(&v); err != nil {
			return err
		}
		*secret = []byte(v)
		return nil
	}
	for _, name := range generated {
		var err error
		switch {
		case name == "ACCESS_TOKEN_SECRET" && len(cfg.AccessKeys) == 0:
			err = keep(name, &cfg.AccessSecret)
		case name == "REFRESH_TOKEN_SECRET" && len(cfg.RefreshKeys) == 0:
			err = keep(name, &cfg.RefreshSecret)
		}
		if err != nil {
			return fmt.Errorf("keeping %s in the database: %w", name, err)
		}
	}
	return nil
}
