package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"hash/fnv"
	"strings"
)

// SchemaVersion is the version of the tables this package's statements
// need, and that Migrate creates. Migrate records it in the table
// <prefix>schema_version.
const SchemaVersion = 1

var (
	//go:embed schema_postgres.sql
	schemaPostgres string
	//go:embed schema_sqlite.sql
	schemaSQLite string
)

// Schema returns the DDL that Migrate runs on an empty database, for the
// store's dialect and table prefix: the files schema_postgres.sql and
// schema_sqlite.sql of this package, with the prefix in place of
// DefaultTablePrefix. Every statement in it is idempotent (CREATE … IF NOT
// EXISTS, and an INSERT of the schema version only into an empty table),
// so that an application that runs its own migration tool can apply it as
// it is, instead of calling Migrate.
func (s *Store) Schema() string {
	text := schemaPostgres
	if s.dialect == SQLite {
		text = schemaSQLite
	}
	return strings.ReplaceAll(text, DefaultTablePrefix, s.prefix)
}

// Migrate creates the store's tables and indexes if they do not exist, and
// records their schema version, in one transaction. It is idempotent: run
// it at every start, from any number of processes at once. On PostgreSQL
// it takes a transaction-level advisory lock, keyed by the table prefix,
// so that concurrent calls run one after the other (CREATE TABLE IF NOT
// EXISTS alone can fail when two run at once); on SQLite its transaction
// holds the write lock (BEGIN IMMEDIATE).
//
// On an empty database it runs the statements of Schema. On tables that a
// later version of this package will change, it will run the steps from
// their recorded version to SchemaVersion; it fails, changing nothing, on
// tables of a version newer than this package's. The database user needs
// the right to create tables in the current schema; afterwards the store
// needs only SELECT, INSERT, UPDATE and DELETE on its tables.
func (s *Store) Migrate(ctx context.Context) error {
	stmts := splitStatements(s.Schema())
	var newer error
	err := s.inTx(ctx, func(tx querier) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, s.q.migrateLock, lockKey(s.prefix)); err != nil {
				return err
			}
		}
		// The first statement creates the version table.
		if _, err := tx.ExecContext(ctx, stmts[0]); err != nil {
			return err
		}
		var v sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q.schemaVersion).Scan(&v); err != nil {
			return err
		}
		switch {
		case v.Int64 > SchemaVersion:
			newer = fmt.Errorf("sqlstore: Migrate: the tables are at schema version %d, newer than this package's %d", v.Int64, SchemaVersion)
			return newer
		case v.Int64 == SchemaVersion:
			return nil
		}
		for _, q := range stmts[1:] {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		return nil
	case err == newer:
		return err
	}
	return wrap("migrate", err)
}

// splitStatements returns the statements of a schema file: the text
// between semicolons, without comment lines.
func splitStatements(text string) []string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	var stmts []string
	for q := range strings.SplitSeq(b.String(), ";") {
		if q = strings.TrimSpace(q); q != "" {
			stmts = append(stmts, q)
		}
	}
	return stmts
}

// lockKey returns the key of Migrate's advisory lock on PostgreSQL for the
// tables of prefix.
func lockKey(prefix string) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/passauth/passauth/sqlstore " + prefix))
	return int64(h.Sum64())
}
