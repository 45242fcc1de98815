package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
)

// envNames are the variables loadConfig and run read.
var envNames = []string{
	"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET",
	"ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL",
	"ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_MINUTES",
	"ADDR", "DEMO_USERNAME", "DEMO_PASSWORD", "REDIS_URL", "HASH_SLOTS", "VERIFY_CACHE_SIZE",
	"SWAGGER_UI_URL", "ISSUER", "REFRESH_GRACE", "DATABASE_URL",
	"ACCESS_TOKEN_SIGNING_KEY", "ACCESS_TOKEN_PREVIOUS_KEYS", "ACCESS_TOKEN_PREVIOUS_SECRET", "REFRESH_TOKEN_PREVIOUS_SECRET",
}

// setEnv clears every variable the demo reads, then sets env, with
// DATABASE_URL a file in a directory of the test's own unless env sets it.
// t.Setenv restores the old values, including those loadConfig sets, when t
// ends; tests that call it cannot run in parallel.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, name := range envNames {
		t.Setenv(name, env[name])
	}
	if _, ok := env["DATABASE_URL"]; !ok {
		t.Setenv("DATABASE_URL", filepath.Join(t.TempDir(), "demo.db"))
	}
}

// Secrets that are long enough for passauth.
const (
	envAccessSecret  = "env-access-secret-0123456789abcdefghij"
	envRefreshSecret = "env-refresh-secret-0123456789abcdefghij"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name          string
		env           map[string]string
		access        string // the expected AccessSecret, "" for a generated one
		refresh       string // the expected RefreshSecret, "" for a generated one
		accessTTL     time.Duration
		refreshTTL    time.Duration
		hashSlots     int
		grace         time.Duration
		cacheSize     int
		warn          bool
		wantErrNaming string // a variable the error must name, "" for no error
	}{
		{
			name:       "nothing set",
			env:        nil,
			accessTTL:  15 * time.Minute,
			refreshTTL: 24 * time.Hour,
			cacheSize:  defaultVerifyCacheSize,
			warn:       true,
		},
		{
			name: "seed variables",
			env: map[string]string{
				"ACCESS_TOKEN_SECRET":          envAccessSecret,
				"REFRESH_TOKEN_SECRET":         envRefreshSecret,
				"ACCESS_TOKEN_EXPIRE_MINUTES":  "1",
				"REFRESH_TOKEN_EXPIRE_MINUTES": "10",
			},
			access:     envAccessSecret,
			refresh:    envRefreshSecret,
			accessTTL:  time.Minute,
			refreshTTL: 10 * time.Minute,
			cacheSize:  defaultVerifyCacheSize,
		},
		{
			name: "durations win over minutes",
			env: map[string]string{
				"ACCESS_TOKEN_SECRET":          envAccessSecret,
				"REFRESH_TOKEN_SECRET":         envRefreshSecret,
				"ACCESS_TOKEN_TTL":             "90s",
				"ACCESS_TOKEN_EXPIRE_MINUTES":  "1",
				"REFRESH_TOKEN_TTL":            "168h",
				"REFRESH_TOKEN_EXPIRE_MINUTES": "10",
			},
			access:     envAccessSecret,
			refresh:    envRefreshSecret,
			accessTTL:  90 * time.Second,
			refreshTTL: 168 * time.Hour,
			cacheSize:  defaultVerifyCacheSize,
		},
		{
			name: "one secret and one lifetime set",
			env: map[string]string{
				"REFRESH_TOKEN_SECRET":        envRefreshSecret,
				"ACCESS_TOKEN_EXPIRE_MINUTES": "5",
			},
			refresh:    envRefreshSecret,
			accessTTL:  5 * time.Minute,
			refreshTTL: 24 * time.Hour,
			cacheSize:  defaultVerifyCacheSize,
			warn:       true,
		},
		{
			name: "hash slots",
			env: map[string]string{
				"ACCESS_TOKEN_SECRET":  envAccessSecret,
				"REFRESH_TOKEN_SECRET": envRefreshSecret,
				"HASH_SLOTS":           "3",
			},
			access:     envAccessSecret,
			refresh:    envRefreshSecret,
			accessTTL:  15 * time.Minute,
			refreshTTL: 24 * time.Hour,
			cacheSize:  defaultVerifyCacheSize,
			hashSlots:  3,
		},
		{
			name: "refresh grace",
			env: map[string]string{
				"ACCESS_TOKEN_SECRET":  envAccessSecret,
				"REFRESH_TOKEN_SECRET": envRefreshSecret,
				"REFRESH_GRACE":        "10s",
			},
			access:     envAccessSecret,
			refresh:    envRefreshSecret,
			accessTTL:  15 * time.Minute,
			refreshTTL: 24 * time.Hour,
			cacheSize:  defaultVerifyCacheSize,
			grace:      10 * time.Second,
		},
		{
			name:          "malformed hash slots",
			env:           map[string]string{"HASH_SLOTS": "many"},
			wantErrNaming: "HASH_SLOTS",
		},
		{
			name:          "negative hash slots",
			env:           map[string]string{"HASH_SLOTS": "-2"},
			wantErrNaming: "HASH_SLOTS",
		},
		{
			name:          "malformed refresh grace",
			env:           map[string]string{"REFRESH_GRACE": "a while"},
			wantErrNaming: "REFRESH_GRACE",
		},
		{
			name:          "refresh grace over a minute",
			env:           map[string]string{"REFRESH_GRACE": "2m"},
			wantErrNaming: "REFRESH_GRACE",
		},
		{
			name: "verify cache off",
			env: map[string]string{
				"ACCESS_TOKEN_SECRET":  envAccessSecret,
				"REFRESH_TOKEN_SECRET": envRefreshSecret,
				"VERIFY_CACHE_SIZE":    "0",
			},
			access:     envAccessSecret,
			refresh:    envRefreshSecret,
			accessTTL:  15 * time.Minute,
			refreshTTL: 24 * time.Hour,
		},
		{
			name: "verify cache size",
			env: map[string]string{
				"ACCESS_TOKEN_SECRET":  envAccessSecret,
				"REFRESH_TOKEN_SECRET": envRefreshSecret,
				"VERIFY_CACHE_SIZE":    "50",
			},
			access:     envAccessSecret,
			refresh:    envRefreshSecret,
			accessTTL:  15 * time.Minute,
			refreshTTL: 24 * time.Hour,
			cacheSize:  50,
		},
		{
			name:          "malformed verify cache size",
			env:           map[string]string{"VERIFY_CACHE_SIZE": "big"},
			wantErrNaming: "VERIFY_CACHE_SIZE",
		},
		{
			name:          "negative verify cache size",
			env:           map[string]string{"VERIFY_CACHE_SIZE": "-1"},
			wantErrNaming: "VERIFY_CACHE_SIZE",
		},
		{
			name:          "malformed duration",
			env:           map[string]string{"ACCESS_TOKEN_TTL": "soon"},
			wantErrNaming: "ACCESS_TOKEN_TTL",
		},
		{
			name:          "malformed minutes",
			env:           map[string]string{"REFRESH_TOKEN_EXPIRE_MINUTES": "ten"},
			wantErrNaming: "REFRESH_TOKEN_EXPIRE_MINUTES",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			var logs bytes.Buffer
			cfg, _, err := loadConfig(slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.wantErrNaming != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErrNaming)
				assert.NotContains(t, err.Error(), tt.env[tt.wantErrNaming])
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.accessTTL, cfg.AccessTTL)
			assert.Equal(t, tt.refreshTTL, cfg.RefreshTTL)
			assert.Equal(t, tt.hashSlots, cfg.MaxConcurrentHashes)
			assert.Equal(t, tt.grace, cfg.RefreshGrace)
			assert.Equal(t, tt.cacheSize, cfg.VerifyCacheSize)
			checkSecret(t, tt.access, cfg.AccessSecret)
			checkSecret(t, tt.refresh, cfg.RefreshSecret)
			assert.NotEqual(t, cfg.AccessSecret, cfg.RefreshSecret)
			assert.Equal(t, tt.warn, strings.Contains(logs.String(), "level=WARN"))
			assert.NotContains(t, logs.String(), string(cfg.AccessSecret))
			assert.NotContains(t, logs.String(), string(cfg.RefreshSecret))

			cfg.Store = passauth.NewMemoryStore() // as run sets it
			_, err = passauth.NewTokenIssuer(cfg)
			assert.NoError(t, err)
		})
	}
}

// checkSecret checks got is want, or a generated secret of 32 random bytes
// when want is empty.
func checkSecret(t *testing.T, want string, got []byte) {
	t.Helper()
	if want != "" {
		assert.Equal(t, want, string(got))
		return
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(got))
	require.NoError(t, err)
	assert.Len(t, raw, 32)
}

func TestRandomSecret(t *testing.T) {
	t.Parallel()
	a, b := randomSecret(), randomSecret()
	assert.NotEqual(t, a, b)
	assert.GreaterOrEqual(t, len(a), passauth.MinSecretLen)
	raw, err := base64.RawURLEncoding.DecodeString(a)
	require.NoError(t, err)
	assert.Len(t, raw, 32)
}

func TestRunFailsOnBadEnv(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		naming string // the variable the error must name
	}{
		{"lifetime", map[string]string{"ACCESS_TOKEN_TTL": "soon"}, "ACCESS_TOKEN_TTL"},
		{"lifetimes in the wrong order", map[string]string{"ACCESS_TOKEN_TTL": "2h", "REFRESH_TOKEN_TTL": "1h"}, "REFRESH_TOKEN_TTL (1h0m0s) is not longer than ACCESS_TOKEN_TTL (2h0m0s)"},
		{"short secret", map[string]string{"ACCESS_TOKEN_SECRET": "hunter2"}, "ACCESS_TOKEN_SECRET is shorter than 32 bytes; make one with: openssl rand -base64 48"},
		{"swagger ui", map[string]string{"SWAGGER_UI_URL": "javascript:alert(1)", "ADDR": "127.0.0.1:0"}, "SWAGGER_UI_URL"},
		{"address", map[string]string{"ADDR": "8000"}, "ADDR"},
		{"issuer", map[string]string{"ISSUER": "http://auth.example.com"}, "ISSUER"},
		{"database", map[string]string{"DATABASE_URL": "mysql://root:hunter2@127.0.0.1/app"}, "DATABASE_URL"},
		{"demo user name", map[string]string{"DEMO_USERNAME": "john doe"}, "DEMO_USERNAME"},
		{"grace", map[string]string{"REFRESH_GRACE": "2m"}, "REFRESH_GRACE"},
		// Each setting is checked before any connection: the bad one is
		// named, not the server that does not answer.
		{"database before redis", map[string]string{"DATABASE_URL": "ftp://x", "REDIS_URL": "redis://" + nettest.ClosedAddr(t) + "/0"}, "DATABASE_URL"},
		{"swagger ui before postgres", map[string]string{"SWAGGER_UI_URL": "ftp://x", "DATABASE_URL": "postgres://u:hunter2@" + nettest.ClosedAddr(t) + "/app"}, "SWAGGER_UI_URL"},
		{"postgres down", map[string]string{"ADDR": "127.0.0.1:0", "DATABASE_URL": "postgres://u:hunter2@" + nettest.ClosedAddr(t) + "/app"}, "DATABASE_URL: postgres "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			err := run(context.Background(), slog.New(slog.DiscardHandler), func(string) {
				t.Error("run started listening")
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.naming)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

// TestRunKeepsUsers restarts the demo on one database: users who signed up
// are there after a restart, DEMO_PASSWORD sets the demo user's password
// when it changes, and a restart without it keeps the password.
func TestRunKeepsUsers(t *testing.T) {
	env := map[string]string{
		"ADDR":                 "127.0.0.1:0",
		"DATABASE_URL":         "sqlite:" + filepath.Join(t.TempDir(), "users.db"),
		"ACCESS_TOKEN_SECRET":  envAccessSecret,
		"REFRESH_TOKEN_SECRET": envRefreshSecret,
		"DEMO_PASSWORD":        "first password",
	}
	post := func(r *running, path, contentType, body string) int {
		t.Helper()
		resp, err := http.Post("http://"+r.addr+path, contentType, strings.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	loginStatus := func(r *running, name, password string) int {
		t.Helper()
		return post(r, "/api/auth/login", "application/x-www-form-urlencoded", url.Values{"username": {name}, "password": {password}}.Encode())
	}

	r := startRun(t, env)
	assert.Equal(t, http.StatusOK, loginStatus(r, "johndoe", "first password"))
	assert.Equal(t, http.StatusCreated, post(r, "/api/users", "application/json", `{"username":"carol","password":"carol's password"}`))
	require.NoError(t, r.stop())
	assert.Contains(t, r.logs.String(), "created the demo user")

	env["DEMO_PASSWORD"] = "second password"
	r = startRun(t, env)
	assert.Equal(t, http.StatusOK, loginStatus(r, "Carol", "carol's password"), "a user who signed up, after a restart")
	assert.Equal(t, http.StatusBadRequest, loginStatus(r, "johndoe", "first password"))
	assert.Equal(t, http.StatusOK, loginStatus(r, "johndoe", "second password"))
	require.NoError(t, r.stop())
	assert.Contains(t, r.logs.String(), "set the demo user's password from DEMO_PASSWORD")
	assert.NotContains(t, r.logs.String(), "second password")

	delete(env, "DEMO_PASSWORD")
	r = startRun(t, env)
	assert.Equal(t, http.StatusOK, loginStatus(r, "johndoe", "second password"), "a restart without DEMO_PASSWORD keeps it")
	require.NoError(t, r.stop())
	assert.NotContains(t, r.logs.String(), "demo user")
}

// TestRunShutsDown runs the real server on a free port, makes a request and
// checks that cancelling the context stops it cleanly. run hashes the demo
// password at cost 12, the only such hash of the suite.
// running is the demo as run serves it, started by startRun.
type running struct {
	addr   string
	logs   *bytes.Buffer // what run logged; read it only after stop
	stop   func() error  // cancels run's context and returns what run returned
	cancel context.CancelFunc
}

// startRun starts run with the environment env (see setEnv) and waits until
// it listens. The test must call stop, or run is stopped when it ends.
func startRun(t *testing.T, env map[string]string) *running {
	t.Helper()
	setEnv(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{logs: &bytes.Buffer{}, cancel: cancel}
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(r.logs, nil)), func(addr string) { addrc <- addr })
	}()
	select {
	case r.addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(time.Minute):
		cancel()
		t.Fatal("run did not start listening")
	}
	var once sync.Once
	var err error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				err = errors.New("run did not return after its context was cancelled")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = r.stop() })
	return r
}

func TestRunShutsDown(t *testing.T) {
	r := startRun(t, map[string]string{"ADDR": "127.0.0.1:0", "SWAGGER_UI_URL": "http://127.0.0.1:9/swagger-ui/"})
	addr := r.addr

	resp, err := http.Get("http://" + addr + "/api/users/me")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))

	// Revocation answers 200, not 400 unsupported_token_type: run gave
	// passauth a store.
	resp, err = http.PostForm("http://"+addr+"/api/auth/revoke", url.Values{"token": {"not.a.token"}})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// The docs load Swagger UI from SWAGGER_UI_URL.
	resp, err = http.Get("http://" + addr + "/docs")
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(page), `src="http://127.0.0.1:9/swagger-ui/swagger-ui-bundle.js"`)

	require.NoError(t, r.stop())
	logs := r.logs.String()
	assert.Contains(t, logs, "listening")
	assert.Contains(t, logs, `database="sqlite `)
	assert.Contains(t, logs, "sessions=")
	assert.Contains(t, logs, "shutting down")
	assert.NotContains(t, logs, os.Getenv("ACCESS_TOKEN_SECRET"))
	assert.NotContains(t, logs, os.Getenv("REFRESH_TOKEN_SECRET"))
}
