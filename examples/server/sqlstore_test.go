package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/sqlstore"
)

// postgresSpec returns a PostgreSQL database for the test: a schema of its
// own on the server PASSAUTH_POSTGRES_DSN names, dropped when the test
// ends, or skips the test when no server is given.
func postgresSpec(t *testing.T) databaseSpec {
	t.Helper()
	base := os.Getenv("PASSAUTH_POSTGRES_DSN")
	if base == "" {
		t.Skip("no PostgreSQL server: set PASSAUTH_POSTGRES_DSN or run ../scripts/with-postgres.sh go test ./...")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { _ = admin.Close() })
	schema := "demo_" + strings.ToLower(rand.Text())
	_, err = admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		assert.NoError(t, err)
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	spec, err := parseDatabaseURL(u.String())
	require.NoError(t, err)
	return spec
}

// sqliteTestSpec returns a SQLite file of the test's own.
func sqliteTestSpec(t *testing.T) databaseSpec {
	t.Helper()
	spec, err := parseDatabaseURL(filepath.Join(t.TempDir(), "demo.db"))
	require.NoError(t, err)
	return spec
}

// newSQLServer serves the demo as run wires it on the database of spec,
// with a connection pool of its own: users and sessions in the database.
// johndoe / secret is created when missing.
func newSQLServer(t *testing.T, spec databaseSpec) *httptest.Server {
	t.Helper()
	db, err := openDatabase(t.Context(), spec)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	accts, err := newAccounts(t.Context(), db, !spec.postgres, passauth.Bcrypt{Cost: bcrypt.MinCost})
	require.NoError(t, err)
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	if _, err := accts.create(t.Context(), "johndoe", string(hash)); err != nil {
		require.ErrorIs(t, err, errNameTaken)
	}
	store, kind, closeStore, err := openStore(t.Context(), slog.New(slog.DiscardHandler), settings{database: spec}, db)
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeStore() })
	assert.Equal(t, "the database", kind)
	require.IsType(t, &sqlstore.Store{}, store)
	return serve(t, newTestHandler(t, store, slog.New(slog.DiscardHandler), accts))
}

// TestTwoServersShareDatabase runs two demo servers, each with its own
// connection pool, on one database, PostgreSQL or a SQLite file: a refresh
// token rotated on one is reuse on the other, a revocation made on one
// holds on the other, and of concurrent refreshes of one token one wins.
func TestTwoServersShareDatabase(t *testing.T) {
	t.Parallel()
	for name, spec := range map[string]func(*testing.T) databaseSpec{"postgres": postgresSpec, "sqlite": sqliteTestSpec} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, sc := range sessionScenarios {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					s := spec(t)
					a, b := newSQLServer(t, s), newSQLServer(t, s)
					sc.test(t, a, b)
				})
			}
			t.Run("sessions and password change", func(t *testing.T) {
				t.Parallel()
				s := spec(t)
				a, b := newSQLServer(t, s), newSQLServer(t, s)
				require.Equal(t, http.StatusCreated, signUp(t, a, "alice", "alice's password").status)
				phone, _ := tokens(t, login(t, a, "alice", "alice's password"))
				laptop, _ := tokens(t, login(t, b, "Alice", "alice's password"))
				assert.Len(t, sessionsOf(t, b, phone), 2, "both servers' sessions, listed on either")
				b2 := sendJSON(t, http.MethodPost, b.URL+"/api/users/me/password", laptop,
					`{"current_password":"alice's password","new_password":"alice's new password"}`)
				require.Equal(t, http.StatusNoContent, b2.status, "%s", b2.raw)
				assert.Equal(t, http.StatusUnauthorized, getMe(t, a, phone).status, "the other server's session ended")
				assert.Equal(t, http.StatusOK, getMe(t, a, laptop).status)
				tokens(t, login(t, a, "alice", "alice's new password"))
			})
		})
	}
}

// TestRunKeepsSessions restarts the demo on one SQLite file without token
// secrets in the environment: the secrets it made are kept in the database,
// so a session of the first run refreshes in the second, and is still
// single-use.
func TestRunKeepsSessions(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "DATABASE_URL": filepath.Join(t.TempDir(), "demo.db")}
	r := startRun(t, env)
	srv := &httptest.Server{URL: "http://" + r.addr}
	_, refresh1 := loginOK(t, srv)
	require.NoError(t, r.stop())
	assert.Contains(t, r.logs.String(), `sessions="the database"`)

	// The same address, as a restarted server has: the issuer is its URL.
	env["ADDR"] = r.addr
	r = startRun(t, env)
	srv = &httptest.Server{URL: "http://" + r.addr}
	access, refresh2 := tokens(t, refresh(t, srv, refresh1))
	assert.Equal(t, http.StatusOK, getMe(t, srv, access).status)
	assert.Len(t, sessionsOf(t, srv, access), 1)
	assert.Equal(t, http.StatusUnauthorized, refresh(t, srv, refresh1).status, "the first run's token again: reuse")
	assert.Equal(t, http.StatusUnauthorized, refresh(t, srv, refresh2).status, "the reuse ended the session")
	require.NoError(t, r.stop())
}
