package passauth_test

// Bounded hashing, seen from outside: a hasher whose Check waits on a gate
// lets a test hold hashing slots as long as it likes, and then checks what
// the other logins get (Config.MaxConcurrentHashes, Config.HashWait).

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

const (
	slotWrong     = "wrong pass!word" // nobody's password
	slotShortWait = 50 * time.Millisecond
	// slotDeadline bounds every wait of these tests for an answer that
	// should come at once; it is only reached when something is broken.
	slotDeadline = 10 * time.Second
)

func TestHashSlotsBusy(t *testing.T) {
	t.Parallel()
	// holder logs in first and stays inside Check; second finds no slot.
	tests := []struct {
		name           string
		holder, holdPW string
		holderCode     int
		second         string
	}{
		{"right password holds, known user waits", "alice", alicePassword, http.StatusOK, "alice"},
		{"wrong password holds, known user waits", "alice", slotWrong, http.StatusBadRequest, "alice"},
		{"unknown user holds, known user waits", "mallory", slotWrong, http.StatusBadRequest, "alice"},
		{"disabled user holds, known user waits", "carol", alicePassword, http.StatusBadRequest, "alice"},
		{"known user holds, unknown user waits", "alice", alicePassword, http.StatusOK, "mallory"},
		{"unknown user holds, unknown user waits", "trudy", slotWrong, http.StatusBadRequest, "mallory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSlotFixture(t, newGateHasher(false), func(c *passauth.Config) {
				c.MaxConcurrentHashes = 1
				c.HashWait = slotShortWait
			})
			held := f.start(context.Background(), tc.holder, tc.holdPW)
			f.hasher.waitEntered(t)

			before := f.users.count(tc.second)
			assertBusy(t, do(t, f.token, postForm("username", tc.second, "password", alicePassword)))
			assert.Equal(t, before, f.users.count(tc.second), "the user was looked up without a hashing slot")

			f.hasher.release()
			assert.Equal(t, tc.holderCode, answer(t, held).Code)

			// The slot is free again, after the answer and after the 503;
			// logins keep getting it one after another.
			for i := range 3 {
				rec := do(t, f.token, postForm("username", "alice", "password", alicePassword))
				require.Equal(t, http.StatusOK, rec.Code, "login %d after the release: %s", i, describe(rec))
			}
		})
	}
}

// gateHasher is a PasswordHasher whose hash of p is "gate:" + p. Each Check
// sends its hash to entered and then waits for open to be closed, so the
// test decides how long a login holds its hashing slot. It records every
// hash it makes.
type gateHasher struct {
	entered chan string
	open    chan struct{}

	mu   sync.Mutex
	made []string
}

// newGateHasher returns a closed gate when open is true.
func newGateHasher(open bool) *gateHasher {
	h := &gateHasher{entered: make(chan string, 64), open: make(chan struct{})}
	if open {
		close(h.open)
	}
	return h
}

func (h *gateHasher) Hash(password string) (string, error) {
	hash := "gate:" + password
	h.mu.Lock()
	defer h.mu.Unlock()
	h.made = append(h.made, hash)
	return hash, nil
}

func (h *gateHasher) Check(hash, password string) error {
	h.entered <- hash
	<-h.open
	if hash != "gate:"+password {
		return passauth.ErrPasswordMismatch
	}
	return nil
}

func (h *gateHasher) NeedsRehash(string) bool { return false }

// hashes returns a copy of the hashes h made so far.
func (h *gateHasher) hashes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.made...)
}

// release opens the gate once; later calls do nothing.
func (h *gateHasher) release() {
	select {
	case <-h.open:
	default:
		close(h.open)
	}
}

// waitEntered waits for a Check to start and returns its hash.
func (h *gateHasher) waitEntered(t *testing.T) string {
	t.Helper()
	select {
	case hash := <-h.entered:
		return hash
	case <-time.After(slotDeadline):
		t.Fatal("no password check started")
		return ""
	}
}

// countingUsers knows alice and carol (disabled), both with alicePassword,
// and counts the lookups of every name.
type countingUsers struct {
	mu    sync.Mutex
	calls map[string]int
}

func (u *countingUsers) LookupUser(_ context.Context, name string) (passauth.User, bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.calls == nil {
		u.calls = make(map[string]int)
	}
	u.calls[name]++
	switch name {
	case "alice":
		return passauth.User{PasswordHash: "gate:" + alicePassword}, true, nil
	case "carol":
		return passauth.User{PasswordHash: "gate:" + alicePassword, Disabled: true}, true, nil
	}
	return passauth.User{}, false, nil
}

func (u *countingUsers) count(name string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls[name]
}

// slotFixture is a token handler over countingUsers with hasher h.
type slotFixture struct {
	token  http.Handler
	users  *countingUsers
	hasher *gateHasher
}

// newSlotFixture builds the issuer from testConfig with hasher h, changed by
// mods.
func newSlotFixture(t *testing.T, h *gateHasher, mods ...func(*passauth.Config)) *slotFixture {
	t.Helper()
	iss := newIssuer(t, append([]func(*passauth.Config){withHasher(h)}, mods...)...)
	// Logins still held when the test ends must not hang forever.
	t.Cleanup(h.release)
	users := &countingUsers{}
	return &slotFixture{token: iss.TokenHandler(users), users: users, hasher: h}
}

// start serves a login in the background and returns where its answer
// will come.
func (f *slotFixture) start(ctx context.Context, username, password string) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	req := postForm("username", username, "password", password).build().WithContext(ctx)
	go func() {
		rec := httptest.NewRecorder()
		f.token.ServeHTTP(rec, req)
		done <- rec
	}()
	return done
}

// answer waits for a login started with start.
func answer(t *testing.T, done <-chan *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	t.Helper()
	select {
	case rec := <-done:
		assertNoLeak(t, rec.Body.Bytes())
		return rec
	case <-time.After(slotDeadline):
		t.Fatal("the login did not answer")
		return nil
	}
}

// assertBusy checks the answer to a login that found no free hashing slot.
func assertBusy(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err, "Retry-After is not a number of seconds")
	assert.Positive(t, secs, "Retry-After")
}

func TestHashSlotsCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	// The wait is far longer than the test's deadline, so only the
	// cancellation can end it in time.
	users := &signalLimiter{Limiter: passauth.NewMemoryLimiter(passauth.Limit{Burst: 100, Interval: time.Second}),
		allowed: make(chan string, 8)}
	f := newSlotFixture(t, newGateHasher(false), func(c *passauth.Config) {
		c.MaxConcurrentHashes = 1
		c.HashWait = time.Hour
		c.UserLimiter = users
	})
	held := f.start(context.Background(), "alice", alicePassword)
	f.hasher.waitEntered(t)
	require.Equal(t, "user:alice", users.waitAllowed(t))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waiting := f.start(ctx, "mallory", alicePassword)
	// The user limiter is the last step before the slot is asked for: once
	// it let mallory through, the login is waiting for the slot or about to.
	require.Equal(t, "user:mallory", users.waitAllowed(t))
	cancel()
	rec := answer(t, waiting)
	assert.NotEqual(t, http.StatusOK, rec.Code, describe(rec))
	assert.Zero(t, f.users.count("mallory"), "the user was looked up without a hashing slot")
	select {
	case hash := <-f.hasher.entered:
		t.Errorf("a cancelled login checked a password (hash of %d bytes)", len(hash))
	default:
	}

	f.hasher.release()
	assert.Equal(t, http.StatusOK, answer(t, held).Code)
	requirePair(t, do(t, f.token, postForm("username", "alice", "password", alicePassword)))
}

// signalLimiter reports each key its Limiter allowed.
type signalLimiter struct {
	passauth.Limiter
	allowed chan string
}

func (l *signalLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	wait, err := l.Limiter.Allow(ctx, key)
	if err == nil && wait == 0 {
		l.allowed <- key
	}
	return wait, err
}

func (l *signalLimiter) waitAllowed(t *testing.T) string {
	t.Helper()
	select {
	case key := <-l.allowed:
		return key
	case <-time.After(slotDeadline):
		t.Fatal("the limiter was not asked")
		return ""
	}
}

func TestHashSlotsDefault(t *testing.T) {
	t.Parallel()
	// Config.MaxConcurrentHashes documents its zero value as half of
	// GOMAXPROCS, at least one, for a hasher that is not Argon2id.
	want := max(runtime.GOMAXPROCS(0)/2, 1)
	require.GreaterOrEqual(t, want, 1)
	f := newSlotFixture(t, newGateHasher(false), func(c *passauth.Config) { c.HashWait = slotShortWait })

	held := make([]<-chan *httptest.ResponseRecorder, want)
	for i := range held {
		held[i] = f.start(context.Background(), "alice", alicePassword)
	}
	for range held {
		f.hasher.waitEntered(t)
	}
	assertBusy(t, do(t, f.token, postForm("username", "alice", "password", alicePassword)))

	f.hasher.release()
	for i, done := range held {
		rec := answer(t, done)
		assert.Equal(t, http.StatusOK, rec.Code, "held login %d: %s", i, describe(rec))
	}
}

// The unknown-user path checks the password against a dummy hash that the
// configured hasher made, once, at the policy's parameters.
func TestHashSlotsDummyHashFromHasher(t *testing.T) {
	t.Parallel()
	h := newGateHasher(true)
	f := newSlotFixture(t, h)
	// A policy of the application's own hashes its dummy when the issuer is
	// built, so that one that cannot hash is refused there.
	made := h.hashes()
	require.Len(t, made, 1, "NewTokenIssuer made the dummy hash")
	dummy := made[0]
	assert.True(t, strings.HasPrefix(dummy, "gate:"), "the dummy is not the hasher's own")

	for i, name := range []string{"mallory", "trudy", "mallory"} {
		assertError(t, do(t, f.token, postForm("username", name, "password", slotWrong)),
			http.StatusBadRequest, passauth.CodeInvalidGrant, "")
		assert.Equal(t, []string{dummy}, h.hashes(), "Hash calls after unknown-user login %d", i)
		assert.Equal(t, dummy, h.waitEntered(t), "login %d checked another hash", i)
	}

	// A known user's login checks the stored hash and makes no new one.
	requirePair(t, do(t, f.token, postForm("username", "alice", "password", alicePassword)))
	assert.Equal(t, "gate:"+alicePassword, h.waitEntered(t))
	assert.Equal(t, []string{dummy}, h.hashes())
}
