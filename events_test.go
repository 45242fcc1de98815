package passauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

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
