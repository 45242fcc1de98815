package passauth_test

// Login throttling seen from the token endpoint: the limiters are asked
// before the user is looked up or any password checked, so a throttled
// guess costs nothing and learns nothing.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// throttleSlowUser is a name whose lookup blocks while the fixture's gate
// is closed.
const throttleSlowUser = "slow"

// TestThrottleUser checks the per-user limit: after Burst wrong passwords,
// every attempt on the user, the right password included, is 429 without a
// lookup or a password check; other users are not affected.
func TestThrottleUser(t *testing.T) {
	t.Parallel()
	f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.UserLimiter = passauth.NewMemoryLimiter(small) })
	for i := range small.Burst {
		assertFailed(t, f.login(t, "alice", "wrong "+strconv.Itoa(i), ""), "wrong password #"+strconv.Itoa(i+1))
	}
	before := f.work()
	for i, pw := range []string{"wrong again", alicePassword, alicePassword} {
		assertThrottled(t, f.login(t, "alice", pw, ""), small.Interval, "attempt #"+strconv.Itoa(i+1)+" past the limit")
		assertThrottled(t, f.login(t, "alice", pw, "198.51.100.7:5555"), small.Interval, "from another address")
	}
	assert.Equal(t, before, f.work(), "lookups, checks and hashes for throttled attempts")

	assertLoggedIn(t, f.login(t, "bob", bobPassword, ""), "another user")
}

// countingHasher is the cheap bcrypt policy of the tests, counting the
// password checks and hashes it is asked for.
type countingHasher struct {
	passauth.Bcrypt
	checks, hashes atomic.Int64
}

func (h *countingHasher) Check(hash, password string) error {
	h.checks.Add(1)
	return h.Bcrypt.Check(hash, password)
}

func (h *countingHasher) Hash(password string) (string, error) {
	h.hashes.Add(1)
	return h.Bcrypt.Hash(password)
}

// throttleFixture is a token endpoint of the shared fixture's issuer and
// users, with the lookups and password checks counted.
type throttleFixture struct {
	token   http.Handler // TokenHandler over the counted lookups
	hasher  *countingHasher
	lookups atomic.Int64

	entered chan struct{} // receives when a lookup of throttleSlowUser starts
	gate    chan struct{} // closed by release to let those lookups finish
	release func()
}

// newThrottleFixture builds the fixture from testConfig changed by mods,
// which set the limits and whatever else the test needs.
func newThrottleFixture(t *testing.T, mods ...func(*passauth.Config)) *throttleFixture {
	t.Helper()
	f := &throttleFixture{
		hasher:  &countingHasher{Bcrypt: passauth.Bcrypt{Cost: bcrypt.MinCost}},
		entered: make(chan struct{}, 1),
		gate:    make(chan struct{}),
	}
	f.release = sync.OnceFunc(func() { close(f.gate) })
	// Lookups still blocked when the test ends must not hang forever.
	t.Cleanup(f.release)
	fx := newFixture(t, append([]func(*passauth.Config){withHasher(f.hasher)}, mods...)...)
	// The issuer hashed its dummy when it was built; count from here.
	f.hasher.hashes.Store(0)
	f.token = fx.iss.TokenHandler(passauth.UserLookupFunc(func(ctx context.Context, name string) (passauth.User, bool, error) {
		f.lookups.Add(1)
		if name == throttleSlowUser {
			f.entered <- struct{}{}
			<-f.gate
		}
		return fx.users.LookupUser(ctx, name)
	}))
	return f
}

// login sends a password-grant request from remote ("" means httptest's
// 192.0.2.1:1234) with more header name, value pairs.
func (f *throttleFixture) login(t *testing.T, user, password, remote string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := postForm("username", user, "password", password)
	r.remote = remote
	r.header = header
	return do(t, f.token, r)
}

// work is what the fixture has spent on passwords so far: lookups, checks
// and hashes.
func (f *throttleFixture) work() [3]int64 {
	return [3]int64{f.lookups.Load(), f.hasher.checks.Load(), f.hasher.hashes.Load()}
}

// small is the limit of most tests: three failures, then one an hour, so
// that nothing is let through again while a test runs.
var small = passauth.Limit{Burst: 3, Interval: time.Hour}

// assertFailed checks the answer to a wrong password.
func assertFailed(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", what, describe(rec))
	assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidGrant, "")
}

// assertLoggedIn checks a successful login.
func assertLoggedIn(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, "%s: %s", what, describe(rec))
}

// assertThrottled checks a 429 answer: slow_down in the RFC 6749 §5.2 body,
// no-store caching, and Retry-After in whole seconds, at least one and at
// most maxWait rounded up.
func assertThrottled(t *testing.T, rec *httptest.ResponseRecorder, maxWait time.Duration, what string) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "%s: %s", what, describe(rec))
	assertError(t, rec, http.StatusTooManyRequests, passauth.CodeSlowDown, "")
	secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err, "%s: Retry-After %q is not whole seconds", what, rec.Header().Get("Retry-After"))
	assert.GreaterOrEqual(t, secs, 1, "%s: Retry-After", what)
	assert.LessOrEqual(t, secs, int((maxWait+time.Second-1)/time.Second), "%s: Retry-After", what)
}

// TestThrottleNoEnumeration checks that an unknown user is throttled
// exactly like a known one: the same answers, before and past the limit.
func TestThrottleNoEnumeration(t *testing.T) {
	t.Parallel()
	f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.UserLimiter = passauth.NewMemoryLimiter(small) })
	var known, unknown []*httptest.ResponseRecorder
	for i := range small.Burst + 2 {
		pw := "wrong " + strconv.Itoa(i)
		known = append(known, f.login(t, "alice", pw, ""))
		unknown = append(unknown, f.login(t, "mallory", pw, ""))
	}
	for i := range known {
		what := "attempt #" + strconv.Itoa(i+1)
		if i < small.Burst {
			assertFailed(t, known[i], what+", known user")
		} else {
			assertThrottled(t, known[i], small.Interval, what+", known user")
		}
		k, u := known[i], unknown[i]
		assert.Equal(t, k.Code, u.Code, "%s: status", what)
		assert.Equal(t, k.Body.String(), u.Body.String(), "%s: body", what)
		kh, uh := k.Header().Clone(), u.Header().Clone()
		// Retry-After counts down between the two answers; both were
		// checked above to be within the limit's interval.
		if i >= small.Burst {
			assertThrottled(t, u, small.Interval, what+", unknown user")
			kh.Del("Retry-After")
			uh.Del("Retry-After")
		}
		assert.Equal(t, kh, uh, "%s: headers", what)
	}
}

// TestThrottleFoldsCase checks that the user names "Alice" and "alice"
// share a budget, whatever the lookup does with case.
func TestThrottleFoldsCase(t *testing.T) {
	t.Parallel()
	f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.UserLimiter = passauth.NewMemoryLimiter(small) })
	for _, name := range []string{"Alice", "ALICE", "alice"} {
		assertFailed(t, f.login(t, name, "wrong", ""), name)
	}
	assertThrottled(t, f.login(t, "aLiCe", alicePassword, ""), small.Interval, "aLiCe with the right password")

	// Names that strings.EqualFold calls equal, as a case-insensitive lookup
	// matches them, share one budget, beyond ASCII too: U+017F (long s),
	// U+03D0/U+03B2 (beta), U+03D1/U+03B8 (theta), U+03C2/U+03C3 (sigma),
	// U+212A (Kelvin sign).
	for _, names := range [][]string{
		{"sam", "ſam", "SAM", "ſAM"},
		{"ϐeta", "βeta", "ΒETA", "ϐETA"},
		{"ϑeo", "θeo", "ΘEO", "ϑEO"},
		{"oς", "oσ", "OΣ", "Oς"},
		{"kay", "\u212aay", "KAY", "\u212aAY"},
	} {
		f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.UserLimiter = passauth.NewMemoryLimiter(small) })
		for _, name := range names[:small.Burst] {
			assertFailed(t, f.login(t, name, "wrong", ""), name)
		}
		before := f.work()
		assertThrottled(t, f.login(t, names[small.Burst], "wrong", ""), small.Interval, names[small.Burst]+" after "+strings.Join(names[:small.Burst], ", "))
		assert.Equal(t, before, f.work(), "work for a throttled variant")
	}
}

// TestThrottleNormalizedNames checks Config.NormalizeUsername: the limiter
// counts, and the lookup finds, the normalised name, so that two spellings
// of one name (here a toy normalisation that composes "e" and U+0301 into
// "é", as NFC does) share one budget; a name it refuses is 400 before any
// lookup.
func TestThrottleNormalizedNames(t *testing.T) {
	t.Parallel()
	var looked []string
	var mu sync.Mutex
	f := newThrottleFixture(t, func(cfg *passauth.Config) {
		cfg.UserLimiter = passauth.NewMemoryLimiter(small)
		cfg.NormalizeUsername = func(name string) (string, error) {
			if strings.Contains(name, "!") {
				return "", errors.New("not in the profile")
			}
			mu.Lock()
			looked = append(looked, name)
			mu.Unlock()
			return strings.ReplaceAll(name, "e\u0301", "é"), nil
		}
	})
	names := []string{"rené", "rene\u0301", "rené"}
	for _, name := range names {
		assertFailed(t, f.login(t, name, "wrong", ""), name)
	}
	before := f.work()
	assertThrottled(t, f.login(t, "rene\u0301", "wrong", ""), small.Interval, "the other spelling")
	assert.Equal(t, before, f.work())
	assert.Equal(t, append(names, "rene\u0301"), looked, "NormalizeUsername saw the names as typed")

	before = f.work()
	rec := f.login(t, "bob!", "wrong", "")
	assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidRequest, "username is not valid")
	assert.Equal(t, before, f.work(), "work for a name the profile refuses")
}

// TestThrottleResentFailures checks the default user limit against a client
// that sends every failed login twice, as golang.org/x/oauth2 does: two
// mistakes do not lock the user out, and the limit still holds.
func TestThrottleResentFailures(t *testing.T) {
	t.Parallel()
	t.Run("two mistakes, then the right password", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t)
		for i := range 2 {
			for range 2 {
				assertFailed(t, f.login(t, "alice", "mistake "+strconv.Itoa(i), ""), "mistake #"+strconv.Itoa(i+1))
			}
		}
		assertLoggedIn(t, f.login(t, "alice", alicePassword, ""), "after two mistakes sent twice")
	})
	t.Run("three mistakes", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t)
		for i := range 5 {
			assertFailed(t, f.login(t, "alice", "mistake "+strconv.Itoa(i/2), ""), "failure #"+strconv.Itoa(i+1))
		}
		assertThrottled(t, f.login(t, "alice", "mistake 2", ""), time.Minute, "the sixth failure")
	})
}

// TestThrottleSuccesses checks that successful logins neither use the
// budget nor reset it.
func TestThrottleSuccesses(t *testing.T) {
	t.Parallel()
	t.Run("many successes from one address", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t) // the default limits: 20 failures per address
		for i := range 30 {
			user := []string{"alice", "bob"}[i%2]
			assertLoggedIn(t, f.login(t, user, passwords[user], ""), "login #"+strconv.Itoa(i+1))
		}
	})
	t.Run("successes between failures", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.UserLimiter = passauth.NewMemoryLimiter(small) })
		assertFailed(t, f.login(t, "alice", "wrong 1", ""), "failure #1")
		assertFailed(t, f.login(t, "alice", "wrong 2", ""), "failure #2")
		for range 5 {
			assertLoggedIn(t, f.login(t, "alice", alicePassword, ""), "success after two failures")
		}
		assertFailed(t, f.login(t, "alice", "wrong 3", ""), "failure #3")
		assertThrottled(t, f.login(t, "alice", alicePassword, ""), small.Interval, "after three failures and some successes")
	})
}

// TestThrottleAddress checks the per-address limit: failures under many
// user names from one host use up its budget, whatever the port, and other
// hosts keep theirs.
func TestThrottleAddress(t *testing.T) {
	t.Parallel()
	hosts := []struct {
		name  string
		addrs []string // one per attempt, same host
		other string
	}{
		{"IPv4", []string{"192.0.2.1:1234", "192.0.2.1:1235", "192.0.2.1:40000", "192.0.2.1:1"}, "192.0.2.2:1234"},
		{"IPv6", []string{"[2001:db8::1]:443", "[2001:db8::1]:444", "[2001:db8::1]:445", "[2001:db8::1]:446"}, "[2001:db8:0:1::1]:443"},
		// An IPv6 host picks its interface identifier (RFC 8981): every
		// address of one /64 shares the budget; the next /64 has its own.
		{"IPv6, a new address in the /64 each time", []string{"[2001:db8::1]:443", "[2001:db8::a:b:c:d]:443", "[2001:db8::ffff:ffff:ffff:ffff]:443", "[2001:db8::1234]:1"}, "[2001:db8:0:1::1]:443"},
		{"IPv4-mapped IPv6 is IPv4", []string{"192.0.2.1:1234", "[::ffff:192.0.2.1]:1234", "192.0.2.1:2", "[::ffff:c000:201]:3"}, "[::ffff:192.0.2.2]:1234"},
	}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.AddrLimiter = passauth.NewMemoryLimiter(small) })
			for i := range small.Burst {
				user := []string{"alice", "bob", "mallory"}[i]
				assertFailed(t, f.login(t, user, "wrong", h.addrs[i]), "failure #"+strconv.Itoa(i+1)+" as "+user)
			}
			before := f.work()
			assertThrottled(t, f.login(t, "alice", alicePassword, h.addrs[small.Burst]), small.Interval, "a fourth user name from the host")
			assert.Equal(t, before, f.work(), "lookups, checks and hashes for a throttled attempt")
			assertLoggedIn(t, f.login(t, "alice", alicePassword, h.other), "another host")
		})
	}
}

// TestThrottleIgnoresForwardedHeaders checks that by default the address is
// the connection's: headers the client writes, such as X-Forwarded-For, do
// not give it a fresh budget.
func TestThrottleIgnoresForwardedHeaders(t *testing.T) {
	t.Parallel()
	f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.AddrLimiter = passauth.NewMemoryLimiter(small) })
	spoof := func(i int) []string {
		ip := "203.0.113." + strconv.Itoa(i+1)
		return []string{"X-Forwarded-For", ip, "X-Real-IP", ip, "Forwarded", "for=" + ip, "True-Client-IP", ip}
	}
	for i := range small.Burst {
		assertFailed(t, f.login(t, "user"+strconv.Itoa(i), "wrong", "", spoof(i)...), "failure #"+strconv.Itoa(i+1))
	}
	assertThrottled(t, f.login(t, "alice", alicePassword, "", spoof(99)...), small.Interval, "with yet another forwarded address")
}

// TestThrottleCustomClientAddr checks that Config.ClientAddr decides the
// address, here from a header a trusted proxy sets.
func TestThrottleCustomClientAddr(t *testing.T) {
	t.Parallel()
	f := newThrottleFixture(t, func(cfg *passauth.Config) {
		cfg.AddrLimiter = passauth.NewMemoryLimiter(small)
		cfg.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Client-IP") }
	})
	// Failures from one client behind the proxy, through different proxy
	// connections.
	for i := range small.Burst {
		remote := "10.0.0." + strconv.Itoa(i+1) + ":8080"
		assertFailed(t, f.login(t, "user"+strconv.Itoa(i), "wrong", remote, "X-Client-IP", "203.0.113.5"), "failure #"+strconv.Itoa(i+1))
	}
	assertThrottled(t, f.login(t, "alice", alicePassword, "10.0.0.9:8080", "X-Client-IP", "203.0.113.5"), small.Interval, "the same client through another connection")
	assertLoggedIn(t, f.login(t, "alice", alicePassword, "10.0.0.1:8080", "X-Client-IP", "203.0.113.6"), "another client through the same connection")
}

// TestThrottleWaitPasses checks that a throttled user, the right password
// included, gets in once the wait is over. It sleeps once, for a short
// Interval.
func TestThrottleWaitPasses(t *testing.T) {
	t.Parallel()
	const interval = 300 * time.Millisecond
	f := newThrottleFixture(t, func(cfg *passauth.Config) {
		cfg.UserLimiter = passauth.NewMemoryLimiter(passauth.Limit{Burst: 1, Interval: interval})
	})
	start := time.Now()
	assertFailed(t, f.login(t, "alice", "wrong", ""), "failure")
	assertThrottled(t, f.login(t, "alice", alicePassword, ""), interval, "right password right after")
	time.Sleep(time.Until(start.Add(interval + interval/2)))
	assertLoggedIn(t, f.login(t, "alice", alicePassword, ""), "right password after the wait")
}

// TestThrottleUsedLimitOnly checks that an attempt one limiter throttles is
// not counted by the other: a user's throttled guesses do not use up the
// address, and an address's throttled guesses do not use up the user.
func TestThrottleUsedLimitOnly(t *testing.T) {
	t.Parallel()
	t.Run("user throttled", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t, func(cfg *passauth.Config) {
			cfg.UserLimiter = passauth.NewMemoryLimiter(passauth.Limit{Burst: 1, Interval: time.Hour})
			cfg.AddrLimiter = passauth.NewMemoryLimiter(small)
		})
		assertFailed(t, f.login(t, "alice", "wrong", ""), "alice's failure")
		for range 10 {
			assertThrottled(t, f.login(t, "alice", "wrong", ""), time.Hour, "alice again")
		}
		assertFailed(t, f.login(t, "bob", "wrong", ""), "bob's failure, the address's second")
		assertFailed(t, f.login(t, "carol", "wrong", ""), "carol's failure, the address's third")
		assertThrottled(t, f.login(t, "dave", "wrong", ""), small.Interval, "the address's fourth")
	})
	t.Run("address throttled", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t, func(cfg *passauth.Config) {
			cfg.UserLimiter = passauth.NewMemoryLimiter(small)
			cfg.AddrLimiter = passauth.NewMemoryLimiter(passauth.Limit{Burst: 1, Interval: time.Hour})
		})
		assertFailed(t, f.login(t, "bob", "wrong", "192.0.2.1:1"), "the address's failure")
		for range 10 {
			assertThrottled(t, f.login(t, "alice", "wrong", "192.0.2.1:1"), time.Hour, "alice from the throttled address")
		}
		assertLoggedIn(t, f.login(t, "alice", alicePassword, "192.0.2.2:1"), "alice from another address")
	})
}

// TestThrottleCountsOnlyPasswordChecks checks that a login answered before
// any password was checked (the lookup failed, or no hashing slot was free)
// is not counted, by the user's limiter or the address's: a client retrying
// through an outage or a flood is not locked out by its retries.
func TestThrottleCountsOnlyPasswordChecks(t *testing.T) {
	t.Parallel()
	one := passauth.Limit{Burst: 1, Interval: time.Hour}
	t.Run("lookup fails", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t, func(cfg *passauth.Config) { cfg.UserLimiter = passauth.NewMemoryLimiter(one) })
		for range 3 {
			rec := f.login(t, failingUser, "a password", "")
			assertError(t, rec, http.StatusInternalServerError, passauth.CodeServerError, "")
		}
	})
	t.Run("no hashing slot", func(t *testing.T) {
		t.Parallel()
		f := newThrottleFixture(t, func(cfg *passauth.Config) {
			cfg.UserLimiter = passauth.NewMemoryLimiter(one)
			cfg.AddrLimiter = passauth.NewMemoryLimiter(passauth.Limit{Burst: 2, Interval: time.Hour})
			cfg.MaxConcurrentHashes = 1
			cfg.HashWait = time.Millisecond
		})
		// A login whose lookup hangs holds the only slot. It fails in the
		// end: the one failure the address has room for besides alice's
		// last login.
		done := make(chan int, 1)
		go func() {
			done <- do(t, f.token, postForm("username", throttleSlowUser, "password", "a password")).Code
		}()
		<-f.entered
		for i := range 5 {
			rec := f.login(t, "alice", alicePassword, "")
			assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
			secs, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			require.NoError(t, err, "busy answer #%d: Retry-After is not a number of seconds", i+1)
			assert.Positive(t, secs, "busy answer #%d: Retry-After", i+1)
		}
		f.release()
		assert.Equal(t, http.StatusBadRequest, <-done, "the slow login")
		assertLoggedIn(t, f.login(t, "alice", alicePassword, ""), "once a slot is free")
	})
}

// failingLimiter is a Limiter whose backend is down.
type failingLimiter struct{ calls atomic.Int64 }

func (l *failingLimiter) Allow(context.Context, string) (time.Duration, error) {
	l.calls.Add(1)
	return 0, errors.New("limiter backend down")
}

func (l *failingLimiter) Forgive(context.Context, string) error {
	return errors.New("limiter backend down")
}

// TestThrottleLimiterFails checks that a limiter that fails closes the
// login: 503 temporarily_unavailable, without a lookup or a password check,
// even for the right password; and that an address attempt counted before
// the user limiter failed is taken back.
func TestThrottleLimiterFails(t *testing.T) {
	t.Parallel()
	for _, which := range []string{"UserLimiter", "AddrLimiter", "both"} {
		t.Run(which, func(t *testing.T) {
			t.Parallel()
			broken := &failingLimiter{}
			f := newThrottleFixture(t, func(cfg *passauth.Config) {
				switch which {
				case "UserLimiter":
					cfg.UserLimiter = broken
					cfg.AddrLimiter = passauth.NewMemoryLimiter(passauth.Limit{Burst: 1, Interval: time.Hour})
				case "AddrLimiter":
					cfg.AddrLimiter = broken
				default:
					cfg.UserLimiter, cfg.AddrLimiter = broken, broken
				}
			})
			for i, pw := range []string{alicePassword, "wrong", alicePassword, alicePassword} {
				rec := f.login(t, "alice", pw, "")
				assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
				assert.NotContains(t, rec.Body.String(), "limiter backend down", "attempt #%d", i+1)
			}
			assert.Equal(t, [3]int64{}, f.work(), "lookups, checks and hashes with a failing limiter")
			assert.Positive(t, broken.calls.Load(), "calls of the failing limiter")
		})
	}
}

// TestLoginAsksLimitersAtOnce checks that a login makes its store and
// limiter calls in two rounds, not five: both limiters are asked at once,
// and after the password both attempts are taken back while the session
// starts. Each call here waits until its whole round has begun; calls made
// one after another would wait for ever (here, until the timeout fails
// them).
func TestLoginAsksLimitersAtOnce(t *testing.T) {
	t.Parallel()
	allows := newRound(2)   // Allow, Allow
	forgives := newRound(3) // Forgive, Forgive, Rotate
	store := &roundStore{Store: passauth.NewMemoryStore(), round: forgives}
	user := &roundLimiter{allow: allows, forgive: forgives}
	addr := &roundLimiter{allow: allows, forgive: forgives}
	f := newFixture(t, withStore(store), func(c *passauth.Config) { c.UserLimiter, c.AddrLimiter = user, addr })
	requirePair(t, do(t, f.token, postForm("username", "alice", "password", alicePassword)))
	assert.True(t, allows.met.Load(), "the limiters were asked one after the other")
	assert.True(t, forgives.met.Load(), "the attempts were taken back before or after the session started, not while")
}

// round is a barrier of n calls: each waits until all n have begun, or 5 s.
type round struct {
	wg  sync.WaitGroup
	met atomic.Bool
}

func newRound(n int) *round {
	r := &round{}
	r.wg.Add(n)
	r.met.Store(true)
	return r
}

func (r *round) arrive() {
	r.wg.Done()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		r.met.Store(false)
	}
}

// roundLimiter lets every attempt through, each call in its round.
type roundLimiter struct{ allow, forgive *round }

func (l *roundLimiter) Allow(context.Context, string) (time.Duration, error) {
	l.allow.arrive()
	return 0, nil
}

func (l *roundLimiter) Forgive(context.Context, string) error {
	l.forgive.arrive()
	return nil
}

// roundStore is a Store whose first Rotate is in round.
type roundStore struct {
	passauth.Store
	round *round
	once  sync.Once
}

func (s *roundStore) Rotate(ctx context.Context, r passauth.Rotation) (passauth.Rotated, error) {
	s.once.Do(s.round.arrive)
	return s.Store.Rotate(ctx, r)
}
