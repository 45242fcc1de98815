package passauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestEvents drives every event through the public API and checks each is
// emitted once, with its fields, and never with a secret or a password.
func TestEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, func(c *passauth.Config) {
		c.UserLimiter = passauth.NewMemoryLimiter(passauth.Limit{Burst: 2, Interval: time.Hour})
	})
	login := func(user, password string) *httptest.ResponseRecorder {
		r := postForm("username", user, "password", password, "client_id", "web")
		r.remote = "192.0.2.7:4321"
		return do(t, f.token, r)
	}
	ctx := context.Background()
	ev := func(kind passauth.EventKind, subject, reason string) passauth.Event {
		return passauth.Event{Kind: kind, Subject: subject, ClientID: "web", Addr: "192.0.2.7", Reason: reason}
	}

	require.Equal(t, 200, login("alice", alicePassword).Code)
	assert.Equal(t, []passauth.Event{ev(passauth.EventLoginSucceeded, "alice", "")}, f.events.take())

	for _, tc := range []struct{ user, password, reason string }{
		{"nobody", "wrong pass!", "unknown_user"},
		{"alice", "wrong pass!", "bad_password"},
		{"carol", carolPassword, "disabled"},
	} {
		require.Equal(t, 400, login(tc.user, tc.password).Code)
		assert.Equal(t, []passauth.Event{ev(passauth.EventLoginFailed, tc.user, tc.reason)}, f.events.take(), tc.reason)
	}

	require.Equal(t, 400, login("nobody", "wrong pass!").Code) // the second failure of "nobody"
	f.events.take()
	require.Equal(t, 429, login("nobody", "wrong pass!").Code)
	assert.Equal(t, []passauth.Event{ev(passauth.EventThrottled, "nobody", "user")}, f.events.take())

	pair, err := f.iss.IssuePair(ctx, "bob", passauth.WithClientID("cli"))
	require.NoError(t, err)
	claims, err := f.iss.VerifyRefresh(ctx, pair.RefreshToken)
	require.NoError(t, err)
	session := func(kind passauth.EventKind) passauth.Event {
		return passauth.Event{Kind: kind, Subject: "bob", SessionID: claims.SessionID, ClientID: "cli"}
	}
	next, err := f.iss.Refresh(ctx, pair.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, []passauth.Event{session(passauth.EventRefresh)}, f.events.take())

	_, err = f.iss.Refresh(ctx, pair.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenReused)
	assert.Equal(t, []passauth.Event{session(passauth.EventRefreshReuse)}, f.events.take())

	require.NoError(t, f.iss.Revoke(ctx, next.AccessToken))
	assert.Equal(t, []passauth.Event{session(passauth.EventRevoke)}, f.events.take())

	require.NoError(t, f.iss.RevokeSubject(ctx, "bob"))
	assert.Equal(t, []passauth.Event{{Kind: passauth.EventRevokeSubject, Subject: "bob"}}, f.events.take())
}

func TestLogEvents(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	onEvent := passauth.LogEvents(logger)
	ctx := context.Background()
	onEvent(ctx, passauth.Event{Kind: passauth.EventLoginSucceeded, Subject: "alice", Addr: "192.0.2.7"})
	onEvent(ctx, passauth.Event{Kind: passauth.EventLoginFailed, Subject: "bob", Reason: "bad_password"})
	onEvent(ctx, passauth.Event{Kind: passauth.EventRefreshReuse, Subject: "carol", SessionID: "S1", ClientID: "web"})
	assert.Equal(t, `level=INFO msg="passauth event" kind=login_succeeded subject=alice addr=192.0.2.7
level=WARN msg="passauth event" kind=login_failed subject=bob reason=bad_password
level=WARN msg="passauth event" kind=refresh_reuse subject=carol session=S1 client=web
`, buf.String())
}

// TestLogEventsBounds checks what LogEvents lets the request put in the log:
// fields cut to 64 bytes on a character boundary, the store's error cut
// too, and at most 20 throttled events a second with a count of the others.
func TestLogEventsBounds(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	onEvent := passauth.LogEvents(logger)
	ctx := context.Background()
	long := strings.Repeat("é", 100) // 200 bytes
	onEvent(ctx, passauth.Event{Kind: passauth.EventLoginFailed, Subject: long, ClientID: strings.Repeat("c", 255), Addr: strings.Repeat("a", 300), Reason: "bad_password"})
	onEvent(ctx, passauth.Event{Kind: passauth.EventStoreUnavailable, Reason: "rotating a refresh token", Err: errors.New(strings.Repeat("x", 10000))})
	records := decodeRecords(t, &buf)
	require.Len(t, records, 2)
	for _, field := range []string{"subject", "client", "addr"} {
		v := records[0][field].(string)
		assert.LessOrEqual(t, len(v), 64, field)
		assert.True(t, utf8.ValidString(v), field)
		assert.True(t, strings.HasSuffix(v, "…"), field)
	}
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(records[0]["subject"].(string), "…")))
	assert.Equal(t, "ERROR", records[1]["level"])
	assert.Equal(t, "store_unavailable", records[1]["kind"])
	assert.LessOrEqual(t, len(records[1]["err"].(string)), 256)

	// A flood of each sampled kind within about a second: at most 20 of a
	// kind are logged in any one second, two seconds at the most here, and
	// the next one logged counts those dropped.
	for _, kind := range []passauth.EventKind{passauth.EventThrottled, passauth.EventStoreUnavailable, passauth.EventUnknownKey} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			onEvent := passauth.LogEvents(slog.New(slog.NewJSONHandler(&buf, nil)))
			// Another kind, sampled or not, does not use up this one's share.
			onEvent(ctx, passauth.Event{Kind: passauth.EventThrottled, Reason: "addr"})
			onEvent(ctx, passauth.Event{Kind: passauth.EventRefresh})
			require.Len(t, decodeRecords(t, &buf), 2)
			start := time.Now()
			for range 5000 {
				onEvent(ctx, passauth.Event{Kind: kind, Subject: long, Reason: "user"})
			}
			seconds := int(time.Since(start)/time.Second) + 2
			records := decodeRecords(t, &buf)
			assert.LessOrEqual(t, len(records), 20*seconds)
			assert.GreaterOrEqual(t, len(records), 20-1) // the throttled event above may share the second
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
			onEvent(ctx, passauth.Event{Kind: kind, Subject: "x", Reason: "user"})
			last := decodeRecords(t, &buf)
			require.Len(t, last, 1)
			total := len(records) + 1
			for _, r := range append(records, last...) {
				assert.Equal(t, string(kind), r["kind"])
				if n, ok := r["suppressed"].(float64); ok {
					total += int(n)
				}
			}
			assert.Equal(t, 5001, total, "logged plus suppressed")
		})
	}
}

// decodeRecords decodes and drains the JSON log records in buf.
func decodeRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(buf)
	for dec.More() {
		var r map[string]any
		require.NoError(t, dec.Decode(&r))
		out = append(out, r)
	}
	buf.Reset()
	return out
}
