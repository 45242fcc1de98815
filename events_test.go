package passauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// eventLog records events for a test.
type eventLog struct {
	mu     sync.Mutex
	events []passauth.Event
}

func (l *eventLog) record(_ context.Context, e passauth.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// take returns the events recorded since the last call.
func (l *eventLog) take() []passauth.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.events
	l.events = nil
	return e
}

// TestEvents drives every event through the public API and checks each is
// emitted once, with its fields, and never with a secret or a password.
func TestEvents(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("right pass!"), bcrypt.MinCost)
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		switch name {
		case "alice":
			return passauth.User{PasswordHash: string(hash)}, true, nil
		case "carol":
			return passauth.User{PasswordHash: string(hash), Disabled: true}, true, nil
		}
		return passauth.User{}, false, nil
	})
	var log eventLog
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   []byte("events-test-access-secret-0123456789"),
		RefreshSecret:  []byte("events-test-refresh-secret-0123456789"),
		AccessTTL:      time.Minute,
		RefreshTTL:     time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
		Store:          passauth.NewMemoryStore(),
		UserLimiter:    passauth.NewMemoryLimiter(passauth.Limit{Burst: 2, Interval: time.Hour}),
		OnEvent:        log.record,
	})
	require.NoError(t, err)
	token := iss.TokenHandler(users)
	login := func(user, password string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(url.Values{
			"username": {user}, "password": {password}, "client_id": {"web"},
		}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "192.0.2.7:4321"
		w := httptest.NewRecorder()
		token.ServeHTTP(w, r)
		return w
	}
	ctx := context.Background()
	ev := func(kind passauth.EventKind, subject, reason string) passauth.Event {
		return passauth.Event{Kind: kind, Subject: subject, ClientID: "web", Addr: "192.0.2.7", Reason: reason}
	}

	require.Equal(t, 200, login("alice", "right pass!").Code)
	assert.Equal(t, []passauth.Event{ev(passauth.EventLoginSucceeded, "alice", "")}, log.take())

	for _, tc := range []struct{ user, reason string }{
		{"nobody", "unknown_user"}, {"alice", "bad_password"}, {"carol", "disabled"},
	} {
		password := "wrong pass!"
		if tc.reason == "disabled" {
			password = "right pass!"
		}
		require.Equal(t, 400, login(tc.user, password).Code)
		assert.Equal(t, []passauth.Event{ev(passauth.EventLoginFailed, tc.user, tc.reason)}, log.take(), tc.reason)
	}

	require.Equal(t, 400, login("nobody", "wrong pass!").Code) // the second failure of "nobody"
	log.take()
	require.Equal(t, 429, login("nobody", "wrong pass!").Code)
	assert.Equal(t, []passauth.Event{ev(passauth.EventThrottled, "nobody", "user")}, log.take())

	pair, err := iss.IssuePair(ctx, "bob", passauth.WithClientID("cli"))
	require.NoError(t, err)
	claims, err := iss.VerifyRefresh(ctx, pair.RefreshToken)
	require.NoError(t, err)
	session := func(kind passauth.EventKind) passauth.Event {
		return passauth.Event{Kind: kind, Subject: "bob", SessionID: claims.SessionID, ClientID: "cli"}
	}
	next, err := iss.Refresh(ctx, pair.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, []passauth.Event{session(passauth.EventRefresh)}, log.take())

	_, err = iss.Refresh(ctx, pair.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenReused)
	assert.Equal(t, []passauth.Event{session(passauth.EventRefreshReuse)}, log.take())

	require.NoError(t, iss.Revoke(ctx, next.AccessToken))
	assert.Equal(t, []passauth.Event{session(passauth.EventRevoke)}, log.take())

	require.NoError(t, iss.RevokeSubject(ctx, "bob"))
	assert.Equal(t, []passauth.Event{{Kind: passauth.EventRevokeSubject, Subject: "bob"}}, log.take())
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
