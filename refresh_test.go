package passauth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// refreshIssuer returns an issuer on the real clock (MemoryStore expires
// records by the real clock) with the given store.
func refreshIssuer(t *testing.T, store passauth.Store, events *[]passauth.Event) *passauth.TokenIssuer {
	t.Helper()
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:  []byte("refresh-test-access-secret-0123456789"),
		RefreshSecret: []byte("refresh-test-refresh-secret-0123456789"),
		AccessTTL:     time.Minute,
		RefreshTTL:    time.Hour,
		Store:         store,
		OnEvent: func(_ context.Context, e passauth.Event) {
			if events != nil {
				*events = append(*events, e)
			}
		},
	})
	require.NoError(t, err)
	return iss
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	t.Parallel()
	var events []passauth.Event
	iss := refreshIssuer(t, passauth.NewMemoryStore(), &events)
	ctx := context.Background()

	first, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me"), passauth.WithClaims(map[string]any{"tenant": "acme"}))
	require.NoError(t, err)
	second, err := iss.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	assert.Equal(t, "me", second.Scope)

	c1, err := iss.VerifyRefresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	c2, err := iss.VerifyAccess(ctx, second.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, c1.SessionID, c2.SessionID, "refreshing continues the session")
	assert.Equal(t, c1.AuthTime, c2.AuthTime)
	var extra struct{ Tenant string }
	require.NoError(t, c2.Decode(&extra))
	assert.Equal(t, "acme", extra.Tenant, "application claims carry over")

	_, err = iss.Refresh(ctx, first.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenReused)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
	assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
	require.Len(t, events, 2)
	assert.Equal(t, passauth.Event{Kind: passauth.EventRefresh, Subject: "alice", SessionID: c1.SessionID}, events[0])
	assert.Equal(t, passauth.Event{Kind: passauth.EventRefreshReuse, Subject: "alice", SessionID: c1.SessionID}, events[1])

	_, err = iss.Refresh(ctx, second.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "reuse revoked the whole session")
	assert.NotErrorIs(t, err, passauth.ErrTokenReused, "the newest token was never used: it is revoked, not reused")
}

func TestRefreshWithoutStoreIsStateless(t *testing.T) {
	t.Parallel()
	iss := refreshIssuer(t, nil, nil)
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	for range 2 {
		next, err := iss.Refresh(ctx, pair.RefreshToken)
		require.NoError(t, err)
		c, err := iss.VerifyAccess(ctx, next.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, "alice", c.Subject)
	}
	_, err = iss.Refresh(ctx, pair.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "an access token is not a refresh token")
}

// failingStore fails every call, as a store whose server is down.
type failingStore struct{}

var errDown = errors.New("connection refused")

func (failingStore) Rotate(context.Context, string, string, string, time.Time) (passauth.RotateResult, error) {
	return 0, errDown
}
func (failingStore) RevokeFamily(context.Context, string) error               { return errDown }
func (failingStore) Deny(context.Context, string, time.Time, time.Time) error { return errDown }
func (failingStore) Denied(context.Context, ...string) (time.Time, bool, error) {
	return time.Time{}, false, errDown
}

func TestRefreshStoreDown(t *testing.T) {
	t.Parallel()
	stateless := refreshIssuer(t, nil, nil)
	pair, err := stateless.IssuePair(context.Background(), "alice")
	require.NoError(t, err)

	iss := refreshIssuer(t, failingStore{}, nil)
	_, err = iss.Refresh(context.Background(), pair.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, passauth.ErrTokenInvalid, "a store failure is not the token's fault")
	assert.Equal(t, "passauth: checking revocation: passauth: token store unavailable: connection refused", err.Error())

	_, err = iss.IssuePair(context.Background(), "alice")
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	require.ErrorIs(t, err, errDown, "the store's error stays in the chain for the application's logs")
}
