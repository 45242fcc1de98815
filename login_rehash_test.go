package passauth_test

// Upgrading stored hashes at login: the token endpoint rehashes through
// PasswordUpdater after a successful login with a hash weaker than the
// policy, and a custom PasswordHasher plugged into Config takes over the
// hashes of migrated users.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	store := newRehashStore(migratedAlice(t))
	old := store.hash("alice")
	token := newIssuer(t, withHasher(cheapArgon2)).TokenHandler(store)

	// A wrong password changes nothing.
	assertError(t, do(t, token, loginAs("alice", bobPassword)), http.StatusBadRequest, passauth.CodeInvalidGrant, "")
	assert.Empty(t, store.updated())
	assert.Equal(t, old, store.hash("alice"))

	// The first good login replaces the bcrypt hash, under the canonical
	// name whatever case the client typed.
	requirePair(t, do(t, token, loginAs("ALICE", alicePassword)))
	assert.Equal(t, []string{"alice"}, store.updated())
	upgraded := store.hash("alice")
	require.True(t, strings.HasPrefix(upgraded, "$argon2id$v=19$m=1024,t=1,p=1$"), "stored hash is not the policy's")
	require.NoError(t, passauth.CheckPassword(upgraded, alicePassword))
	require.ErrorIs(t, passauth.CheckPassword(upgraded, bobPassword), passauth.ErrPasswordMismatch)
	assert.False(t, cheapArgon2.NeedsRehash(upgraded))

	// Later logins check the new hash and leave it alone.
	for range 2 {
		requirePair(t, do(t, token, loginAs("alice", alicePassword)))
	}
	assertError(t, do(t, token, loginAs("alice", alicePassword+"x")), http.StatusBadRequest, passauth.CodeInvalidGrant, "")
	assert.Len(t, store.updated(), 1)
	assert.Equal(t, upgraded, store.hash("alice"))
}

// rehashStore is a user store that can take new hashes: it implements
// UserLookup and PasswordUpdater. Names match case-insensitively, and
// Username holds the canonical name.
type rehashStore struct {
	mu        sync.Mutex
	users     map[string]passauth.User
	updates   []string // the names UpdatePasswordHash was called with
	updateErr error    // when set, UpdatePasswordHash fails and stores nothing
}

func newRehashStore(users ...passauth.User) *rehashStore {
	s := &rehashStore{users: make(map[string]passauth.User)}
	for _, u := range users {
		s.users[strings.ToLower(u.Username)] = u
	}
	return s
}

func (s *rehashStore) LookupUser(_ context.Context, name string) (passauth.User, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[strings.ToLower(name)]
	return u, ok, nil
}

func (s *rehashStore) UpdatePasswordHash(_ context.Context, name, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, name)
	if s.updateErr != nil {
		return s.updateErr
	}
	u, ok := s.users[strings.ToLower(name)]
	if !ok {
		return errors.New("no such user")
	}
	u.PasswordHash = hash
	s.users[strings.ToLower(name)] = u
	return nil
}

func (s *rehashStore) hash(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[name].PasswordHash
}

func (s *rehashStore) updated() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.updates...)
}

// migratedAlice is a user brought over from a FastAPI app whose passlib
// context stored bcrypt hashes.
func migratedAlice(t *testing.T) passauth.User {
	hashes, err := testHashes()
	require.NoError(t, err)
	return passauth.User{Username: "alice", PasswordHash: hashes[alicePassword], Scopes: []string{"me"}}
}

func loginAs(name, password string) httpReq {
	return postForm("grant_type", "password", "username", name, "password", password)
}

func TestRehashArgon2id(t *testing.T) {
	t.Parallel()
	weak, err := cheapArgon2.Hash(alicePassword)
	require.NoError(t, err)
	strong := passauth.Argon2id{Memory: 2048, Time: 2}

	tests := []struct {
		name     string
		policy   passauth.Argon2id
		hash     string
		password string
		prefix   string // of the stored hash after login; "" means unchanged
	}{
		{"weaker params", strong, weak, alicePassword, "$argon2id$v=19$m=2048,t=2,p=1$"},
		{"equal params", cheapArgon2, weak, alicePassword, ""},
		{"stronger params", passauth.Argon2id{Memory: 512, Time: 1}, weak, alicePassword, ""},
		// passlib 1.7.4 and argon2-cffi 21.1 write 16-byte hashes.
		{"passlib 16-byte hash", cheapArgon2, passlibLowHash, vecUnicode, "$argon2id$v=19$m=1024,t=1,p=1$"},
		{"argon2-cffi 16-byte hash", cheapArgon2, cffiLowHash, vecUnicode, "$argon2id$v=19$m=1024,t=1,p=1$"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newRehashStore(passauth.User{Username: "alice", PasswordHash: tc.hash})
			token := newIssuer(t, withHasher(tc.policy)).TokenHandler(store)
			requirePair(t, do(t, token, loginAs("alice", tc.password)))
			got := store.hash("alice")
			if tc.prefix == "" {
				assert.Empty(t, store.updated())
				assert.Equal(t, tc.hash, got)
				return
			}
			assert.Equal(t, []string{"alice"}, store.updated())
			require.True(t, strings.HasPrefix(got, tc.prefix), "stored hash is not the policy's")
			require.NoError(t, passauth.CheckPassword(got, tc.password))
			assert.False(t, tc.policy.NeedsRehash(got))

			requirePair(t, do(t, token, loginAs("alice", tc.password)))
			assert.Len(t, store.updated(), 1)
		})
	}
}

func TestRehashNotOnFailure(t *testing.T) {
	t.Parallel()
	alice := migratedAlice(t)
	disabled := alice
	disabled.Disabled = true
	tests := []struct {
		name     string
		user     passauth.User
		login    string
		password string
	}{
		{"wrong password", alice, "alice", bobPassword},
		{"empty-ish password", alice, "alice", " "},
		{"disabled account, right password", disabled, "alice", alicePassword},
		{"unknown user", alice, "mallory", alicePassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newRehashStore(tc.user)
			token := newIssuer(t, withHasher(cheapArgon2)).TokenHandler(store)
			assertError(t, do(t, token, loginAs(tc.login, tc.password)), http.StatusBadRequest, passauth.CodeInvalidGrant, "")
			assert.Empty(t, store.updated())
			assert.Equal(t, tc.user.PasswordHash, store.hash("alice"))
		})
	}
}

func TestRehashUpdateFails(t *testing.T) {
	t.Parallel()
	store := newRehashStore(migratedAlice(t))
	store.updateErr = errors.New("read-only replica")
	old := store.hash("alice")
	token := newIssuer(t, withHasher(cheapArgon2)).TokenHandler(store)

	// The login succeeds; the next one tries again.
	for range 2 {
		requirePair(t, do(t, token, loginAs("alice", alicePassword)))
	}
	assert.Equal(t, []string{"alice", "alice"}, store.updated())
	assert.Equal(t, old, store.hash("alice"))
}

func TestRehashWithoutUpdater(t *testing.T) {
	t.Parallel()
	store := newRehashStore(migratedAlice(t))
	old := store.hash("alice")
	lookupOnly := passauth.UserLookupFunc(store.LookupUser)
	var _ passauth.UserLookup = lookupOnly
	_, isUpdater := any(lookupOnly).(passauth.PasswordUpdater)
	require.False(t, isUpdater)

	token := newIssuer(t, withHasher(cheapArgon2)).TokenHandler(lookupOnly)
	for range 2 {
		requirePair(t, do(t, token, loginAs("alice", alicePassword)))
	}
	assert.Empty(t, store.updated())
	assert.Equal(t, old, store.hash("alice"))
}

func TestCustomPasswordHasher(t *testing.T) {
	t.Parallel()
	toy := &toyHasher{}
	store := newRehashStore(migratedAlice(t))
	token := newIssuer(t, withHasher(toy)).TokenHandler(store)

	// An unknown user is checked against the hasher's own dummy hash.
	assertError(t, do(t, token, loginAs("mallory", alicePassword)), http.StatusBadRequest, passauth.CodeInvalidGrant, "")
	assert.Equal(t, int32(1), toy.hashes.Load(), "dummy hash")
	assert.Equal(t, int32(1), toy.toyChecks.Load(), "dummy check")

	// The bcrypt user logs in and moves to the toy scheme.
	requirePair(t, do(t, token, loginAs("alice", alicePassword)))
	stored := store.hash("alice")
	require.True(t, strings.HasPrefix(stored, "$toy$"), "stored hash is not the toy scheme's")
	require.NoError(t, toy.Check(stored, alicePassword))
	assert.Equal(t, int32(2), toy.hashes.Load())
	assert.ErrorIs(t, passauth.CheckPassword(stored, alicePassword), passauth.ErrInvalidHash, "passauth itself does not read it")

	// From now on the toy scheme checks the password.
	checks := toy.toyChecks.Load()
	requirePair(t, do(t, token, loginAs("alice", alicePassword)))
	assertError(t, do(t, token, loginAs("alice", bobPassword)), http.StatusBadRequest, passauth.CodeInvalidGrant, "")
	assert.Equal(t, checks+2, toy.toyChecks.Load())
	assert.Equal(t, int32(2), toy.hashes.Load(), "no rehash of a current hash")
	assert.Equal(t, []string{"alice"}, store.updated())
}

// toyHasher is a scheme passauth does not know, for the test only: "$toy$",
// a salt, "$" and the hex SHA-256 of salt and password. It still reads the
// bcrypt and argon2id hashes of migrated users through CheckPassword.
type toyHasher struct {
	hashes, toyChecks atomic.Int32
}

func (h *toyHasher) Hash(password string) (string, error) {
	h.hashes.Add(1)
	salt := rand.Text()[:16]
	return "$toy$" + salt + "$" + toyDigest(salt, password), nil
}

func (h *toyHasher) Check(hash, password string) error {
	rest, ok := strings.CutPrefix(hash, "$toy$")
	if !ok {
		return passauth.CheckPassword(hash, password)
	}
	h.toyChecks.Add(1)
	salt, digest, ok := strings.Cut(rest, "$")
	if !ok {
		return passauth.ErrInvalidHash
	}
	if subtle.ConstantTimeCompare([]byte(digest), []byte(toyDigest(salt, password))) != 1 {
		return passauth.ErrPasswordMismatch
	}
	return nil
}

func (h *toyHasher) NeedsRehash(hash string) bool { return !strings.HasPrefix(hash, "$toy$") }

func toyDigest(salt, password string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + password))
	return hex.EncodeToString(sum[:])
}
