package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// newTestServer serves the demo's handler for johndoe / secret, with a
// cheap bcrypt cost so the tests run fast.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	require.NoError(t, err)
	h, err := newHandler(passauth.Config{
		AccessSecret:  []byte("demo-test-access-secret-0123456789abcdef"),
		RefreshSecret: []byte("demo-test-refresh-secret-0123456789abcdef"),
		AccessTTL:     15 * time.Minute,
		RefreshTTL:    24 * time.Hour,
		BcryptCost:    bcrypt.MinCost,
	}, "johndoe", string(hash))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// result is a response's status, headers and JSON body.
type result struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends req and decodes the JSON answer.
func do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	res := result{status: resp.StatusCode, header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &res.body))
	}
	return res
}

func newRequest(t *testing.T, method, url, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func login(t *testing.T, srv *httptest.Server, username, password string) result {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/login", "application/x-www-form-urlencoded", form))
}

func getMe(t *testing.T, srv *httptest.Server, accessToken string) result {
	t.Helper()
	req := newRequest(t, http.MethodGet, srv.URL+"/api/users/me", "", "")
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return do(t, req)
}

func TestLoginMeRefresh(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	res := login(t, srv, "johndoe", "secret")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "bearer", res.body["token_type"])
	assert.Equal(t, "me items", res.body["scope"])
	access, _ := res.body["access_token"].(string)
	refresh, _ := res.body["refresh_token"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)

	me := getMe(t, srv, access)
	require.Equal(t, http.StatusOK, me.status)
	assert.Equal(t, map[string]any{"username": "johndoe"}, me.body)
	assert.Equal(t, "no-store", me.header.Get("Cache-Control"))

	body, err := json.Marshal(map[string]string{"refresh_token": refresh})
	require.NoError(t, err)
	res = do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/refresh", "application/json", string(body)))
	require.Equal(t, http.StatusOK, res.status)
	newAccess, _ := res.body["access_token"].(string)
	require.NotEmpty(t, newAccess)
	assert.NotEqual(t, access, newAccess)
	assert.Equal(t, "me items", res.body["scope"])

	me = getMe(t, srv, newAccess)
	require.Equal(t, http.StatusOK, me.status)
	assert.Equal(t, map[string]any{"username": "johndoe"}, me.body)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	tests := []struct {
		name      string
		send      func(t *testing.T) result
		status    int
		code      string // the JSON "error", "" for none
		challenge string // the WWW-Authenticate header, "" for none
	}{
		{
			name:      "me without token",
			send:      func(t *testing.T) result { return getMe(t, srv, "") },
			status:    http.StatusUnauthorized,
			challenge: "Bearer",
		},
		{
			name:      "me with a bad token",
			send:      func(t *testing.T) result { return getMe(t, srv, "not.a.token") },
			status:    http.StatusUnauthorized,
			code:      "invalid_token",
			challenge: `Bearer error="invalid_token", error_description="Invalid token"`,
		},
		{
			name:   "wrong password",
			send:   func(t *testing.T) result { return login(t, srv, "johndoe", "wrong") },
			status: http.StatusBadRequest,
			code:   "invalid_grant",
		},
		{
			name:   "unknown user",
			send:   func(t *testing.T) result { return login(t, srv, "janedoe", "secret") },
			status: http.StatusBadRequest,
			code:   "invalid_grant",
		},
		{
			name: "refresh with an access token",
			send: func(t *testing.T) result {
				access, _ := login(t, srv, "johndoe", "secret").body["access_token"].(string)
				body := `{"refresh_token":"` + access + `"}`
				return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/auth/refresh", "application/json", body))
			},
			status:    http.StatusUnauthorized,
			code:      "invalid_token",
			challenge: `Bearer error="invalid_token", error_description="Invalid token"`,
		},
		{
			name: "me with POST",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodPost, srv.URL+"/api/users/me", "", ""))
			},
			status: http.StatusMethodNotAllowed,
		},
		{
			name: "unknown path",
			send: func(t *testing.T) result {
				return do(t, newRequest(t, http.MethodGet, srv.URL+"/api/users", "", ""))
			},
			status: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := tt.send(t)
			assert.Equal(t, tt.status, res.status)
			assert.Equal(t, tt.challenge, res.header.Get("WWW-Authenticate"))
			if tt.code != "" {
				assert.Equal(t, tt.code, res.body["error"])
			}
		})
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	_, err := newHandler(passauth.Config{
		AccessSecret:  []byte("short"),
		RefreshSecret: []byte("demo-test-refresh-secret-0123456789abcdef"),
		AccessTTL:     time.Minute,
		RefreshTTL:    time.Hour,
	}, "johndoe", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AccessSecret")
}

// envNames are the variables loadConfig and run read.
var envNames = []string{
	"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET",
	"ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL",
	"ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_MINUTES",
	"ADDR", "DEMO_USERNAME", "DEMO_PASSWORD",
}

// setEnv clears every variable the demo reads, then sets env. t.Setenv
// restores the old values, including those loadConfig sets, when t ends;
// tests that call it cannot run in parallel.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, name := range envNames {
		t.Setenv(name, env[name])
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
		warn          bool
		wantErrNaming string // a variable the error must name, "" for no error
	}{
		{
			name:       "nothing set",
			env:        nil,
			accessTTL:  15 * time.Minute,
			refreshTTL: 24 * time.Hour,
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
			warn:       true,
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
			cfg, err := loadConfig(slog.New(slog.NewTextHandler(&logs, nil)))
			if tt.wantErrNaming != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErrNaming)
				assert.NotContains(t, err.Error(), tt.env[tt.wantErrNaming])
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.accessTTL, cfg.AccessTTL)
			assert.Equal(t, tt.refreshTTL, cfg.RefreshTTL)
			checkSecret(t, tt.access, cfg.AccessSecret)
			checkSecret(t, tt.refresh, cfg.RefreshSecret)
			assert.NotEqual(t, cfg.AccessSecret, cfg.RefreshSecret)
			assert.Equal(t, tt.warn, strings.Contains(logs.String(), "level=WARN"))
			assert.NotContains(t, logs.String(), string(cfg.AccessSecret))
			assert.NotContains(t, logs.String(), string(cfg.RefreshSecret))

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
	setEnv(t, map[string]string{"ACCESS_TOKEN_TTL": "soon"})
	err := run(context.Background(), slog.New(slog.DiscardHandler), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ACCESS_TOKEN_TTL")
}

// TestRunShutsDown runs the real server on a free port, makes a request and
// checks that cancelling the context stops it cleanly. run hashes the demo
// password at cost 12, the only such hash of the suite.
func TestRunShutsDown(t *testing.T) {
	setEnv(t, map[string]string{"ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var logs bytes.Buffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(&logs, nil)), func(addr string) { addrc <- addr })
	}()

	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("run did not start listening")
	}

	resp, err := http.Get("http://" + addr + "/api/users/me")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("run did not return after its context was cancelled")
	}
	assert.Contains(t, logs.String(), "listening")
	assert.Contains(t, logs.String(), "shutting down")
	assert.NotContains(t, logs.String(), os.Getenv("ACCESS_TOKEN_SECRET"))
	assert.NotContains(t, logs.String(), os.Getenv("REFRESH_TOKEN_SECRET"))
}
