package passauth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestSessions checks the list of a subject's sessions: one entry per live
// login, oldest first, with its ID (the tokens' sid), client, login time,
// last use and expiry; none of another subject's, and none that was
// revoked.
func TestSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore)
	ctx := t.Context()

	none, err := f.iss.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, none)

	first := f.login(t, "alice", "client_id", "phone")
	f.clock.Advance(time.Minute)
	second := f.login(t, "alice", "client_id", "laptop")
	f.login(t, "bob")
	third := f.login(t, "alice")
	f.clock.Advance(time.Minute)
	first = requirePair(t, f.viaRefresh(t, first.RefreshToken))

	list, err := f.iss.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 3)
	start, refreshed := testEpoch, testEpoch.Add(2*time.Minute)
	want := []passauth.SessionInfo{
		{ID: f.sessionID(t, first.RefreshToken), ClientID: "phone", Created: start, LastUsed: refreshed, Expires: refreshed.Add(testRefreshTTL)},
		{ID: f.sessionID(t, second.RefreshToken), ClientID: "laptop", Created: start.Add(time.Minute), LastUsed: start.Add(time.Minute), Expires: start.Add(time.Minute + testRefreshTTL)},
		{ID: f.sessionID(t, third.RefreshToken), Created: start.Add(time.Minute), LastUsed: start.Add(time.Minute), Expires: start.Add(time.Minute + testRefreshTTL)},
	}
	if want[1].ID > want[2].ID { // same login time: by ID
		want[1], want[2] = want[2], want[1]
	}
	for i := range want {
		assert.Equal(t, want[i].ID, list[i].ID, "session %d", i)
		assert.Equal(t, want[i].ClientID, list[i].ClientID, "session %d", i)
		assert.True(t, want[i].Created.Equal(list[i].Created), "session %d created %v, want %v", i, list[i].Created, want[i].Created)
		assert.True(t, want[i].LastUsed.Equal(list[i].LastUsed), "session %d last used %v, want %v", i, list[i].LastUsed, want[i].LastUsed)
		assert.True(t, want[i].Expires.Equal(list[i].Expires), "session %d expires %v, want %v", i, list[i].Expires, want[i].Expires)
	}

	require.NoError(t, f.iss.Revoke(ctx, second.RefreshToken))
	list, err = f.iss.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Len(t, list, 2, "after one session was revoked")
	for _, s := range list {
		assert.NotEqual(t, f.sessionID(t, second.RefreshToken), s.ID)
	}

	require.NoError(t, f.iss.RevokeSubject(ctx, "alice"))
	list, err = f.iss.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list, "after RevokeSubject")
	bobs, err := f.iss.Sessions(ctx, "bob")
	require.NoError(t, err)
	assert.Len(t, bobs, 1, "another subject's sessions")
}

// TestRevokeSession checks that revoking one session by ID ends its
// refresh and access tokens and no other session's, and that an ID of
// another subject's session, an ended one or an unknown one is
// ErrNoSession and changes nothing.
func TestRevokeSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, withCheckRevoked)
	ctx := t.Context()
	phone, laptop, bob := f.login(t, "alice"), f.login(t, "alice"), f.login(t, "bob")

	for name, id := range map[string]string{
		"another subject's session": f.sessionID(t, bob.RefreshToken),
		"an unknown session":        "no-such-session",
		"no session":                "",
	} {
		err := f.iss.RevokeSession(ctx, "alice", id)
		assert.ErrorIs(t, err, passauth.ErrNoSession, name)
	}
	bob = requirePair(t, f.viaRefresh(t, bob.RefreshToken))
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, bob.AccessToken), "bob's session after alice tried to revoke it")

	f.events.take()
	require.NoError(t, f.iss.RevokeSession(ctx, "alice", f.sessionID(t, phone.RefreshToken)))
	assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, phone.AccessToken), "the revoked session's access token")
	assert.Equal(t, http.StatusUnauthorized, f.viaRefresh(t, phone.RefreshToken).Code, "the revoked session's refresh token")
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, laptop.AccessToken), "the other session's access token")
	requirePair(t, f.viaRefresh(t, laptop.RefreshToken))
	revokes := f.events.of(passauth.EventRevoke)
	require.Len(t, revokes, 1)
	assert.Equal(t, f.sessionID(t, phone.RefreshToken), revokes[0].SessionID)

	err := f.iss.RevokeSession(ctx, "alice", f.sessionID(t, phone.RefreshToken))
	assert.ErrorIs(t, err, passauth.ErrNoSession, "a session already revoked")
}

// TestRevokeOtherSessions checks that every session of the subject but the
// one kept ends, and no other subject's.
func TestRevokeOtherSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, withCheckRevoked)
	ctx := t.Context()
	keep, other1, other2, bob := f.login(t, "alice"), f.login(t, "alice"), f.login(t, "alice"), f.login(t, "bob")

	require.NoError(t, f.iss.RevokeOtherSessions(ctx, "alice", f.sessionID(t, keep.RefreshToken)))
	for _, p := range []passauth.TokenPair{other1, other2} {
		assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p.AccessToken))
		assert.Equal(t, http.StatusUnauthorized, f.viaRefresh(t, p.RefreshToken).Code)
	}
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, keep.AccessToken))
	requirePair(t, f.viaRefresh(t, keep.RefreshToken))
	requirePair(t, f.viaRefresh(t, bob.RefreshToken))
	list, err := f.iss.Sessions(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, f.sessionID(t, keep.RefreshToken), list[0].ID)

	require.NoError(t, f.iss.RevokeOtherSessions(ctx, "alice", ""))
	list, err = f.iss.Sessions(ctx, "alice")
	require.NoError(t, err)
	assert.Empty(t, list, "after revoking all with keep empty")
}

// TestSessionsNeedALister checks the session methods' errors: without a
// store, or with one that cannot list, an error that is not a store
// failure; with a store that fails, ErrStoreUnavailable, and nothing
// revoked.
func TestSessionsNeedALister(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	type plainStore struct{ passauth.Store }
	for name, store := range map[string]passauth.Store{
		"no store":           nil,
		"a store, no lister": plainStore{passauth.NewMemoryStore()},
	} {
		f := newFixture(t, withStore(store))
		_, err := f.iss.Sessions(ctx, "alice")
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable, name)
		assert.Contains(t, err.Error(), "SessionLister", name)
		assert.Error(t, f.iss.RevokeSession(ctx, "alice", "x"), name)
		assert.Error(t, f.iss.RevokeOtherSessions(ctx, "alice", "x"), name)
	}

	store := newFlakyStore()
	f := newFixture(t, withStore(store))
	pair := f.login(t, "alice")
	store.down.Store(true)
	_, err := f.iss.Sessions(ctx, "alice")
	assert.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	assert.ErrorIs(t, f.iss.RevokeSession(ctx, "alice", f.sessionID(t, pair.RefreshToken)), passauth.ErrStoreUnavailable)
	err = f.iss.RevokeOtherSessions(ctx, "alice", "")
	assert.True(t, errors.Is(err, passauth.ErrStoreUnavailable), "RevokeOtherSessions: %v", err)
	assert.NotEmpty(t, f.events.of(passauth.EventStoreUnavailable))
	store.down.Store(false)
	requirePair(t, f.viaRefresh(t, pair.RefreshToken))
}
