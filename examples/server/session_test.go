package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// The session tests run one scenario against two servers, a and b, that
// share a store: two handlers on one Redis, or one server twice for the
// memory store. Tokens are issued and rotated on a and then presented on b.

// testRefreshReuse checks rotation and reuse detection: a refresh token is
// single-use, and presenting a used one again ends the whole session.
func testRefreshReuse(t *testing.T, a, b *httptest.Server) {
	access1, refresh1 := loginOK(t, a)
	require.Equal(t, http.StatusOK, getMe(t, b, access1).status)

	access2, refresh2 := tokens(t, refresh(t, a, refresh1))
	assert.NotEqual(t, refresh1, refresh2)
	require.Equal(t, http.StatusOK, getMe(t, b, access2).status)

	res := refresh(t, b, refresh1) // reuse
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, "invalid_token", res.body["error"])
	assert.Equal(t, `Bearer error="invalid_token", error_description="Invalid token"`, res.header.Get("WWW-Authenticate"))

	// The reuse revoked the session: its newest refresh token and its access
	// tokens are refused too.
	assert.Equal(t, http.StatusUnauthorized, refresh(t, b, refresh2).status)
	assert.Equal(t, http.StatusUnauthorized, refresh(t, a, refresh2).status)
	assert.Equal(t, http.StatusUnauthorized, getMe(t, b, access2).status)
	assert.Equal(t, http.StatusUnauthorized, getMe(t, a, access1).status)

	// Another login is a new session, untouched.
	access3, refresh3 := loginOK(t, b)
	assert.Equal(t, http.StatusOK, getMe(t, a, access3).status)
	assert.Equal(t, http.StatusOK, refresh(t, a, refresh3).status)
}

// testLogout checks logging out, that is revoking the refresh token: the
// session can no longer be refreshed and its access tokens are refused at
// once (CheckRevoked), on both servers.
func testLogout(t *testing.T, a, b *httptest.Server) {
	_, refresh1 := loginOK(t, a)
	_, other := loginOK(t, a) // another session of the same user
	access, refresh2 := tokens(t, refresh(t, a, refresh1))
	require.Equal(t, http.StatusOK, getMe(t, b, access).status)

	res := revoke(t, a, refresh2)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))

	assert.Equal(t, http.StatusUnauthorized, refresh(t, b, refresh2).status)
	res = getMe(t, b, access)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, "invalid_token", res.body["error"])
	assert.Equal(t, http.StatusUnauthorized, getMe(t, a, access).status)

	// Revoking again, or with a token of the revoked session, still
	// answers 200 (RFC 7009 §2.2).
	assert.Equal(t, http.StatusOK, revoke(t, b, refresh2).status)
	assert.Equal(t, http.StatusOK, revoke(t, b, refresh1).status)

	// The user's other session lives on.
	assert.Equal(t, http.StatusOK, refresh(t, b, other).status)
}

// testRevokeAccessToken checks revoking one access token: that token is
// refused, its session can still be refreshed.
func testRevokeAccessToken(t *testing.T, a, b *httptest.Server) {
	access, refreshToken := loginOK(t, a)
	require.Equal(t, http.StatusOK, revoke(t, a, access).status)
	assert.Equal(t, http.StatusUnauthorized, getMe(t, b, access).status)

	access2, _ := tokens(t, refresh(t, b, refreshToken))
	assert.Equal(t, http.StatusOK, getMe(t, a, access2).status)
}

// testConcurrentRefresh presents one refresh token many times at once,
// alternately to a and b: exactly one request wins.
func testConcurrentRefresh(t *testing.T, a, b *httptest.Server) {
	_, refreshToken := loginOK(t, a)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		srv := a
		if i%2 == 1 {
			srv = b
		}
		wg.Go(func() { statuses[i] = refresh(t, srv, refreshToken).status })
	}
	wg.Wait()
	won := 0
	for _, status := range statuses {
		if status == http.StatusOK {
			won++
		} else {
			assert.Equal(t, http.StatusUnauthorized, status)
		}
	}
	assert.Equal(t, 1, won, "statuses %v", statuses)
}

// sessionScenarios are the scenarios every store runs.
var sessionScenarios = []struct {
	name string
	test func(t *testing.T, a, b *httptest.Server)
}{
	{"refresh reuse", testRefreshReuse},
	{"logout", testLogout},
	{"revoke access token", testRevokeAccessToken},
	{"concurrent refresh", testConcurrentRefresh},
}

func TestSessionsMemoryStore(t *testing.T) {
	t.Parallel()
	for _, sc := range sessionScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t)
			sc.test(t, srv, srv)
		})
	}
}

// syncBuffer is a bytes.Buffer that handlers may log to while a test reads
// it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSecurityEventsAreLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv := serve(t, newTestHandler(t, passauth.NewMemoryStore(), slog.New(slog.NewTextHandler(&logs, nil))))

	access1, refresh1 := loginOK(t, srv)
	access2, refresh2 := tokens(t, refresh(t, srv, refresh1))
	require.Equal(t, http.StatusUnauthorized, refresh(t, srv, refresh1).status)
	access3, refresh3 := loginOK(t, srv)
	require.Equal(t, http.StatusOK, revoke(t, srv, refresh3).status)
	const wrongPassword = "not-the-secret-7f3a"
	require.Equal(t, http.StatusBadRequest, login(t, srv, "johndoe", wrongPassword).status)

	// One line per event, in order; passauth.LogEvents leaves out empty
	// fields (no client here).
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `msg="passauth event"`) {
			lines = append(lines, line)
		}
	}
	want := []struct{ level, prefix string }{
		{"INFO", `msg="passauth event" kind=login_succeeded subject=johndoe addr=127.0.0.1`},
		{"INFO", `msg="passauth event" kind=refresh subject=johndoe session=`},
		{"WARN", `msg="passauth event" kind=refresh_reuse subject=johndoe session=`},
		{"INFO", `msg="passauth event" kind=login_succeeded subject=johndoe addr=127.0.0.1`},
		{"INFO", `msg="passauth event" kind=revoke subject=johndoe session=`},
		{"WARN", `msg="passauth event" kind=login_failed subject=johndoe addr=127.0.0.1 reason=bad_password`},
	}
	require.Len(t, lines, len(want), "one line per event: %q", lines)
	for i, w := range want {
		assert.Contains(t, lines[i], "level="+w.level)
		assert.Contains(t, lines[i], w.prefix)
		assert.NotContains(t, lines[i], "client=", "an empty field is left out")
		if strings.HasSuffix(w.prefix, "session=") {
			assert.NotRegexp(t, `session=(\s|$)`, lines[i], "the session is known")
		}
	}
	assert.NotContains(t, logs.String(), wrongPassword)
	assert.NotContains(t, logs.String(), "=secret")
	for _, token := range []string{access1, refresh1, access2, refresh2, access3, refresh3} {
		assert.NotContains(t, logs.String(), token)
		// Not even a token's signature or payload.
		for part := range strings.SplitSeq(token, ".") {
			if len(part) > 40 {
				assert.NotContains(t, logs.String(), part)
			}
		}
	}
}
