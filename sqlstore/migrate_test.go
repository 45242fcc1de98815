package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/sqlstore"
)

// schemaFile is the DDL file of each dialect.
var schemaFile = map[sqlstore.Dialect]string{
	sqlstore.Postgres: "schema_postgres.sql",
	sqlstore.SQLite:   "schema_sqlite.sql",
}

// TestSchemaIsTheFile checks that Schema returns the package's DDL file,
// with the table prefix in place of the default one.
func TestSchemaIsTheFile(t *testing.T) {
	t.Parallel()
	for dialect, file := range schemaFile {
		text, err := os.ReadFile(file)
		require.NoError(t, err)
		s, err := sqlstore.New(&sql.DB{}, dialect)
		require.NoError(t, err)
		assert.Equal(t, string(text), s.Schema(), "%v, default prefix", dialect)
		s, err = sqlstore.New(&sql.DB{}, dialect, sqlstore.WithTablePrefix("app_"))
		require.NoError(t, err)
		assert.Equal(t, strings.ReplaceAll(string(text), "passauth_", "app_"), s.Schema(), "%v, prefix app_", dialect)
		assert.NotContains(t, s.Schema(), "passauth_", "%v, prefix app_", dialect)
	}
}

// TestMigrateIsTheDDL checks that Migrate leaves a database as applying the
// DDL file by hand does: the same tables, columns, constraints, indexes and
// schema version.
func TestMigrateIsTheDDL(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		byMigrate := newTestDB(t, b)
		s, err := sqlstore.New(byMigrate.DB, b.dialect)
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))

		byHand := newTestDB(t, b)
		text, err := os.ReadFile(schemaFile[b.dialect])
		require.NoError(t, err)
		_, err = byHand.ExecContext(t.Context(), string(text))
		require.NoError(t, err, "applying %s as it is", schemaFile[b.dialect])

		want := byHand.catalog(t)
		require.NotEmpty(t, want)
		assert.Equal(t, want, byMigrate.catalog(t))
		assert.Equal(t, [][]string{{fmt.Sprint(sqlstore.SchemaVersion)}}, byHand.rows(t, "passauth_schema_version"))
	})
}

// catalog describes the tables, columns, constraints and indexes of the
// database, with names of its own (the PostgreSQL schema) left out.
func (d *testDB) catalog(tb testing.TB) []string {
	tb.Helper()
	q := `SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') FROM sqlite_schema ORDER BY name`
	if d.dialect == sqlstore.Postgres {
		q = `SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
	FROM information_schema.columns WHERE table_schema = current_schema()
UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
	FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
UNION ALL SELECT 'index ' || replace(indexdef, current_schema() || '.', '')
	FROM pg_indexes WHERE schemaname = current_schema()
ORDER BY 1`
	}
	rows, err := d.QueryContext(context.Background(), q)
	require.NoError(tb, err)
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var line string
		require.NoError(tb, rows.Scan(&line))
		lines = append(lines, line)
	}
	require.NoError(tb, rows.Err())
	return lines
}

// TestMigrateIdempotent runs Migrate again, and from several pools at
// once, as replicas starting together do: no error, one version row.
func TestMigrateIdempotent(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, d := newStore(t, b)
		sess, id := newTestSession(), rand.Text()
		rotate(t, s, sess.rotation("", id), passauth.RotateOK, "start")
		require.NoError(t, s.Migrate(t.Context()), "Migrate again")
		rotate(t, s, sess.rotation(id, rand.Text()), passauth.RotateOK, "the family after Migrate")

		fresh := newTestDB(t, b)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			s, err := sqlstore.New(fresh.another(t), b.dialect)
			require.NoError(t, err)
			wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err, "concurrent Migrate")
		}
		for _, db := range []*testDB{d, fresh} {
			assert.Equal(t, [][]string{{fmt.Sprint(sqlstore.SchemaVersion)}}, db.rows(t, "passauth_schema_version"))
		}
	})
}

// TestMigrateNewerSchema checks that Migrate refuses tables of a later
// schema version, and says so, rather than as a store failure.
func TestMigrateNewerSchema(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, d := newStore(t, b)
		_, err := d.ExecContext(t.Context(), "UPDATE passauth_schema_version SET version = version + 1")
		require.NoError(t, err)
		err = s.Migrate(t.Context())
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("schema version %d, newer", sqlstore.SchemaVersion+1))
		assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
	})
}

// TestTablePrefix checks that stores with different prefixes keep their
// records in tables of their own, in one database.
func TestTablePrefix(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, d := newStore(t, b)
		other := d.store(t, d.DB, sqlstore.WithTablePrefix("other_"))
		sess, id := newTestSession(), rand.Text()
		rotate(t, s, sess.rotation("", id), passauth.RotateOK, "start with the default prefix")
		rotate(t, other, sess.rotation(id, rand.Text()), passauth.RotateRevoked, "the family under another prefix")
		rotate(t, s, sess.rotation(id, rand.Text()), passauth.RotateOK, "the family under its own prefix")
		assert.Equal(t, 1, d.count(t, "passauth_families"))
		assert.Equal(t, 0, d.count(t, "other_families"))
	})
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	db := &sql.DB{}
	for _, c := range []struct {
		name    string
		db      *sql.DB
		dialect sqlstore.Dialect
		prefix  string
	}{
		{"nil db", nil, sqlstore.SQLite, ""},
		{"no dialect", db, 0, ""},
		{"unknown dialect", db, 3, ""},
		{"empty prefix", db, sqlstore.Postgres, ""},
		{"upper case", db, sqlstore.Postgres, "Passauth_"},
		{"leading digit", db, sqlstore.Postgres, "1_"},
		{"dash", db, sqlstore.Postgres, "pass-auth_"},
		{"schema-qualified", db, sqlstore.Postgres, "auth.passauth_"},
		{"quote", db, sqlstore.SQLite, `x"_`},
		{"41 bytes", db, sqlstore.SQLite, strings.Repeat("x", 41)},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := []sqlstore.Option{}
			if c.prefix != "" || c.name == "empty prefix" {
				opts = append(opts, sqlstore.WithTablePrefix(c.prefix))
			}
			s, err := sqlstore.New(c.db, c.dialect, opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.True(t, strings.HasPrefix(err.Error(), "sqlstore: New: "), err.Error())
		})
	}
	for _, prefix := range []string{"x", "_", "auth_", "a1_", strings.Repeat("x", 40)} {
		_, err := sqlstore.New(db, sqlstore.SQLite, sqlstore.WithTablePrefix(prefix))
		assert.NoError(t, err, "prefix %q", prefix)
	}
}

func TestDialectString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "PostgreSQL", sqlstore.Postgres.String())
	assert.Equal(t, "SQLite", sqlstore.SQLite.String())
	assert.Equal(t, "Dialect(7)", sqlstore.Dialect(7).String())
}
