package passauth_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// idUsers is a user store keyed by ID, looked up by name (case-insensitively)
// at login and by ID at refresh: a passauth.SubjectLookup.
type idUsers struct {
	mu     sync.Mutex
	byID   map[string]passauth.User
	byName []string // the names LookupUser was called with
	bySub  []string // the subjects LookupSubject was called with
}

func (s *idUsers) LookupUser(_ context.Context, name string) (passauth.User, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byName = append(s.byName, name)
	for _, u := range s.byID {
		if strings.EqualFold(u.Username, name) {
			return u, true, nil
		}
	}
	return passauth.User{}, false, nil
}

func (s *idUsers) LookupSubject(_ context.Context, subject string) (passauth.User, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bySub = append(s.bySub, subject)
	u, ok := s.byID[subject]
	return u, ok, nil
}

// TestUserSubjectAndClaims checks that a password login writes User.Subject
// as "sub", whatever case the name was typed in, and User.Claims into both
// tokens; that refreshing looks the user up by subject through
// LookupSubject and carries the claims over; and that a user the lookup no
// longer finds by subject cannot refresh.
func TestUserSubjectAndClaims(t *testing.T) {
	t.Parallel()
	hashes, err := testHashes()
	require.NoError(t, err)
	users := &idUsers{byID: map[string]passauth.User{
		"user-42": {Username: "alice", Subject: "user-42", PasswordHash: hashes[alicePassword], Claims: map[string]any{"role": "admin", "tenant": 7}},
	}}
	f := newFixture(t, withMemoryStore)
	token, refresh := f.iss.TokenHandler(users), f.iss.RefreshHandler(users)

	type appClaims struct {
		Sub    string `json:"sub"`
		Role   string `json:"role"`
		Tenant int    `json:"tenant"`
	}
	check := func(what string, pair passauth.TokenPair) {
		t.Helper()
		for kind, verify := range map[string]func(context.Context, string) (*passauth.Claims, error){
			"access": f.iss.VerifyAccess, "refresh": f.iss.VerifyRefresh,
		} {
			tok := pair.AccessToken
			if kind == "refresh" {
				tok = pair.RefreshToken
			}
			c, err := verify(t.Context(), tok)
			require.NoError(t, err, "%s: %s token", what, kind)
			var got appClaims
			require.NoError(t, c.Decode(&got))
			assert.Equal(t, appClaims{Sub: "user-42", Role: "admin", Tenant: 7}, got, "%s: %s token", what, kind)
			assert.Equal(t, "user-42", c.Subject)
		}
	}
	for _, typed := range []string{"alice", "ALICE", "Alice"} {
		pair := requirePair(t, do(t, token, postForm("username", typed, "password", alicePassword)))
		check("login as "+typed, pair)
	}
	logins := f.events.of(passauth.EventLoginSucceeded)
	require.Len(t, logins, 3)
	assert.Equal(t, "user-42", logins[0].Subject)

	pair := requirePair(t, do(t, token, postForm("username", "alice", "password", alicePassword)))
	users.bySub = nil
	next := requirePair(t, do(t, refresh, httpReq{contentType: "application/json", body: `{"refresh_token":"` + pair.RefreshToken + `"}`}))
	check("refresh", next)
	assert.Equal(t, []string{"user-42"}, users.bySub, "the refresh looked the user up by subject")

	// The claims came from the login: a change of the user's claims shows
	// at the next login, not in the session.
	users.mu.Lock()
	u := users.byID["user-42"]
	u.Claims = map[string]any{"role": "reader", "tenant": 7}
	users.byID["user-42"] = u
	users.mu.Unlock()
	next = requirePair(t, do(t, refresh, httpReq{contentType: "application/json", body: `{"refresh_token":"` + next.RefreshToken + `"}`}))
	check("refresh after the user's claims changed", next)

	users.mu.Lock()
	delete(users.byID, "user-42")
	users.byID["user-43"] = u // the name alone is not the subject
	users.mu.Unlock()
	rec := do(t, refresh, httpReq{contentType: "application/json", body: `{"refresh_token":"` + next.RefreshToken + `"}`})
	assert.Equal(t, http.StatusUnauthorized, rec.Code, describe(rec))
}

// TestUserSubjectWithoutSubjectLookup checks that, when the UserLookup is
// no SubjectLookup, refreshing looks the user up by subject with
// LookupUser.
func TestUserSubjectWithoutSubjectLookup(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore)
	f.users.update("alice", func(u *passauth.User) { u.Subject = "alice-id" })
	pair := requirePair(t, do(t, f.token, postForm("username", "Alice", "password", alicePassword)))
	c, err := f.iss.VerifyAccess(t.Context(), pair.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice-id", c.Subject)

	// testUsers has no "alice-id": the refresh finds no user.
	rec := f.viaRefresh(t, pair.RefreshToken)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, describe(rec))
}

// TestUserReservedClaims checks that a User.Claims name the package sets
// fails the login with 500 server_error and no token, as a mistake in the
// program, rather than being written or dropped.
func TestUserReservedClaims(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sub", "exp", "sid", "scope", "auth_time"} {
		f := newFixture(t, withMemoryStore)
		f.users.update("alice", func(u *passauth.User) { u.Claims = map[string]any{name: "x"} })
		rec := do(t, f.token, postForm("username", "alice", "password", alicePassword))
		assertError(t, rec, http.StatusInternalServerError, passauth.CodeServerError, "")
		assert.NotContains(t, rec.Body.String(), "access_token", name)
	}
}
