//go:build unix

package redisstore_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// The commands of each store operation, as roundTripCommand names them:
// the command and the kinds of the keys it names.
const (
	cmdRotate  = "evalsha fam,deny:sub,deny:sid,sessions"
	cmdRevoke  = "evalsha fam,deny:sid,sessions"
	cmdLimiter = "evalsha lim"
)

// TestRoundTrips counts, with MONITOR on a Redis server of the test's own,
// the commands each passauth operation sends to Redis through a real
// TokenIssuer with the store and two Limiters: a refresh, a reuse and a
// logout are one script call each, a protected request with CheckRevoked
// one MGET, an access-token revocation and RevokeSubject one script call
// each; a password login is the limiters' calls (counted, then forgiven,
// each pair at once) and the session's start; with WithReplicas a write is
// its script and a WAIT, sent in one pipeline. Connection set-up commands
// (HELLO, CLIENT) are left out: they come once per connection, not per
// operation.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	c := redis.NewClient(recommendedOptions(srv.addr))
	t.Cleanup(func() { _ = c.Close() })
	store := redisstore.New(c)
	cfg := testConfig()
	cfg.Store = store
	cfg.CheckRevoked = true
	cfg.UserLimiter = redisstore.NewLimiter(c, passauth.Limit{Burst: 5, Interval: time.Minute})
	cfg.AddrLimiter = redisstore.NewLimiter(c, passauth.Limit{Burst: 50, Interval: time.Minute})
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	hash, err := bcrypt.GenerateFromPassword([]byte(e2ePassword), bcrypt.MinCost)
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		return passauth.User{Username: name, PasswordHash: string(hash)}, true, nil
	})
	token := iss.TokenHandler(users)
	me := iss.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	ctx := t.Context()

	type step struct {
		name string
		run  func(t *testing.T)
		want []string // nil: a login, checked apart
	}
	// steps returns the operations, in order, for user.
	steps := func(user string) []step {
		var first, second, refreshed passauth.TokenPair
		login := func(p *passauth.TokenPair) func(t *testing.T) {
			return func(t *testing.T) {
				rec := httptest.NewRecorder()
				token.ServeHTTP(rec, loginRequest(user, e2ePassword))
				require.Equal(t, http.StatusOK, rec.Code, "login")
				*p = decodePair(t, rec.Body.String())
			}
		}
		return []step{
			{"login", login(&first), nil},
			{"refresh", func(t *testing.T) {
				var err error
				refreshed, err = iss.Refresh(ctx, first.RefreshToken)
				require.NoError(t, err)
			}, []string{cmdRotate}},
			{"protected request", func(t *testing.T) {
				rec := httptest.NewRecorder()
				me.ServeHTTP(rec, bearerRequest("/me", refreshed.AccessToken))
				require.Equal(t, http.StatusOK, rec.Code)
			}, []string{"mget deny:sub,deny:sid,deny:jti"}},
			{"reuse", func(t *testing.T) {
				_, err := iss.Refresh(ctx, first.RefreshToken)
				require.ErrorIs(t, err, passauth.ErrTokenReused)
			}, []string{cmdRotate}},
			{"second login", login(&second), nil},
			{"Sessions", func(t *testing.T) {
				list, err := store.Sessions(ctx, user)
				require.NoError(t, err)
				require.Len(t, list, 1)
			}, []string{"zrevrangebyscore sessions", "zrangebyscore sessions", "hmget fam", "mget deny:sub", "mget deny:sid"}},
			{"access token revocation", func(t *testing.T) {
				require.NoError(t, iss.Revoke(ctx, second.AccessToken))
			}, []string{"evalsha deny:jti"}},
			{"logout", func(t *testing.T) {
				require.NoError(t, iss.Revoke(ctx, second.RefreshToken))
			}, []string{cmdRevoke}},
			{"RevokeSubject", func(t *testing.T) {
				require.NoError(t, iss.RevokeSubject(ctx, user))
			}, []string{"evalsha deny:sub"}},
		}
	}

	// Once for another user, so that the server has the scripts and the
	// client its connections.
	for _, s := range steps("warm-up") {
		s.run(t)
	}
	m := newMonitor(t, srv.addr)
	m.since()
	for _, s := range steps("alice") {
		t.Run(s.name, func(t *testing.T) {
			s.run(t)
			got := m.since()
			t.Logf("%s: %d commands %q; in scripts: %q", s.name, len(got.sent), got.sent, got.scripted)
			if s.want != nil {
				assert.Equal(t, s.want, got.sent)
				return
			}
			// A login: the two limiters' Allow, their Forgive, and the
			// session's start.
			assert.LessOrEqual(t, len(got.sent), 5)
			assert.Equal(t, 1, strings.Count(strings.Join(got.sent, "\n"), cmdRotate), "rotations")
			for _, c := range got.sent {
				assert.Contains(t, []string{cmdLimiter, cmdRotate}, c)
			}
		})
	}

	t.Run("refresh with WithReplicas", func(t *testing.T) {
		master, _ := startPair(t)
		c := redis.NewClient(slowly(recommendedOptions(master.addr)))
		t.Cleanup(func() { _ = c.Close() })
		cfg := testConfig()
		cfg.Store = redisstore.New(c, redisstore.WithReplicas(1, slowWait))
		iss, err := passauth.NewTokenIssuer(cfg)
		require.NoError(t, err)
		warmUp, err := iss.IssuePair(ctx, "warm-up")
		require.NoError(t, err)
		_, err = iss.Refresh(ctx, warmUp.RefreshToken)
		require.NoError(t, err)
		pair, err := iss.IssuePair(ctx, "alice")
		require.NoError(t, err)

		m := newMonitor(t, master.addr)
		m.since()
		_, err = iss.Refresh(ctx, pair.RefreshToken)
		require.NoError(t, err)
		got := m.since()
		t.Logf("refresh with WithReplicas: %q, sent in one pipeline", got.sent)
		assert.Equal(t, []string{cmdRotate, "wait 1 " + strconv.FormatInt(slowWait.Milliseconds(), 10)}, got.sent)
	})
}

// monitor reads the commands a Redis server runs, through MONITOR.
type monitor struct {
	t     *testing.T
	conn  net.Conn
	r     *bufio.Reader
	admin *redis.Client
	n     int
}

func newMonitor(t *testing.T, addr string) *monitor {
	t.Helper()
	admin := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = admin.Close() })
	require.NoError(t, admin.Ping(t.Context()).Err()) // its connection set up before MONITOR
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.Write([]byte("MONITOR\r\n"))
	require.NoError(t, err)
	m := &monitor{t: t, conn: conn, r: bufio.NewReader(conn), admin: admin}
	require.Equal(t, "+OK\r\n", m.line())
	return m
}

// commands are what the server ran: the commands clients sent, and those
// scripts ran, each named by roundTripCommand.
type commands struct {
	sent, scripted []string
}

// since returns the commands the server ran since the last call, read up
// to a marker the monitor sends through its own client. Connection set-up
// commands are left out.
func (m *monitor) since() commands {
	m.t.Helper()
	m.n++
	marker := "passauth-roundtrip-marker-" + strconv.Itoa(m.n)
	require.NoError(m.t, m.admin.Echo(m.t.Context(), marker).Err())
	var got commands
	for {
		source, args := parseMonitorLine(m.t, m.line())
		switch {
		case len(args) == 2 && args[0] == "echo" && args[1] == marker:
			return got
		case source == "lua":
			got.scripted = append(got.scripted, roundTripCommand(args))
		case args[0] != "hello" && args[0] != "client":
			got.sent = append(got.sent, roundTripCommand(args))
		}
	}
}

func (m *monitor) line() string {
	m.t.Helper()
	require.NoError(m.t, m.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	line, err := m.r.ReadString('\n')
	require.NoError(m.t, err, "reading MONITOR")
	return line
}

// parseMonitorLine splits a line of MONITOR,
//
//	+1701878789.123456 [0 127.0.0.1:60326] "evalsha" "…" "4" "…"
//
// into its source (an address, or "lua" for a script's command) and its
// arguments, the command's name in lower case.
func parseMonitorLine(t *testing.T, line string) (source string, args []string) {
	t.Helper()
	_, rest, ok := strings.Cut(line, " [")
	require.True(t, ok, "MONITOR line %q", line)
	src, rest, ok := strings.Cut(rest, "] ")
	require.True(t, ok, "MONITOR line %q", line)
	_, source, _ = strings.Cut(src, " ")
	rest = strings.TrimRight(rest, "\r\n")
	for rest != "" {
		require.Equal(t, byte('"'), rest[0], "MONITOR line %q", line)
		end := 1
		for rest[end] != '"' {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		arg, err := strconv.Unquote(rest[:end+1])
		require.NoError(t, err, "MONITOR argument %q", rest[:end+1])
		args = append(args, arg)
		rest = strings.TrimPrefix(rest[end+1:], " ")
	}
	require.NotEmpty(t, args, "MONITOR line %q", line)
	args[0] = strings.ToLower(args[0])
	return source, args
}

// roundTripCommand names a command by its name and the kinds of the keys
// it names (the part after a key's hash tag, less its IDs: "fam",
// "deny:sid", "lim" …): "evalsha fam,deny:sub,deny:sid,sessions". WAIT
// keeps its arguments.
func roundTripCommand(args []string) string {
	var keys []string
	switch args[0] {
	case "evalsha", "eval":
		n, _ := strconv.Atoi(args[2])
		keys = args[3 : 3+n]
	case "wait":
		return strings.Join(args, " ")
	default:
		if len(args) > 1 && strings.Contains(args[1], "}:") {
			keys = args[1:]
			if args[0] != "mget" {
				keys = keys[:1]
			}
		}
	}
	kinds := make([]string, len(keys))
	for i, k := range keys {
		_, kind, _ := strings.Cut(k, "}:")
		for _, p := range []string{"fam:", "deny:sid:", "deny:jti:"} {
			if strings.HasPrefix(kind, p) {
				kind = strings.TrimSuffix(p, ":")
			}
		}
		kinds[i] = kind
	}
	if len(kinds) == 0 {
		return args[0]
	}
	return args[0] + " " + strings.Join(kinds, ",")
}
