package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/passauth/passauth/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// redisAddr returns the address of the Redis server to test against, or
// skips the test when none is given.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	addr := os.Getenv("PASSAUTH_REDIS_ADDR")
	if addr == "" {
		tb.Skip("no Redis server: set PASSAUTH_REDIS_ADDR or run ./scripts/with-redis.sh go test ./...")
	}
	return addr
}

// newClient returns a client of the Redis server under test, closed when
// the test ends.
func newClient(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:         redisAddr(tb),
		DialTimeout:  5 * time.Second,
		ReadTimeout:  5 * time.Second,
		WriteTimeout: 5 * time.Second,
	})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// newPrefix returns a key prefix no other test uses, and deletes every key
// under it when the test ends. The tests may share a database with others,
// so they never flush it.
func newPrefix(tb testing.TB, c *redis.Client) string {
	tb.Helper()
	prefix := "passauth-test:" + rand.Text() + ":"
	tb.Cleanup(func() { deleteKeys(tb, c, prefix) })
	return prefix
}

func deleteKeys(tb testing.TB, c *redis.Client, prefix string) {
	ctx := context.Background()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		tb.Errorf("listing the test's keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := c.Del(ctx, keys...).Err(); err != nil {
			tb.Errorf("deleting the test's keys: %v", err)
		}
	}
}

func TestStore(t *testing.T) {
	c := newClient(t)
	storetest.TestStore(t, func(t *testing.T) passauth.Store {
		return redisstore.New(c, redisstore.WithPrefix(newPrefix(t, c)))
	})
}

// testConfig is the Config of the issuers in these tests; the caller sets
// Store and the other fields it needs.
func testConfig() passauth.Config {
	return passauth.Config{
		AccessSecret:   []byte("redisstore-test-access-secret-0123456789"),
		RefreshSecret:  []byte("redisstore-test-refresh-secret-0123456789"),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     24 * time.Hour,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
	}
}

// TestKeyLayout checks the keys a real issuer leaves in Redis against the
// layout the package documents, and that none holds a token.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	cfg := testConfig()
	cfg.Store = redisstore.New(c, redisstore.WithPrefix(prefix))
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)

	login, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	rc, err := iss.VerifyRefresh(ctx, login.RefreshToken)
	require.NoError(t, err)
	famKey := prefix + "{" + rc.SessionID + "}:fam"

	assert.Equal(t, "hash", c.Type(ctx, famKey).Val(), "family key type")
	assert.Equal(t, map[string]string{"cur": rc.ID}, c.HGetAll(ctx, famKey).Val(), "family after login")
	assertTTL(t, c, famKey, cfg.RefreshTTL)

	// Refresh: the family's current ID moves to the new token's.
	refreshed := refresh(t, iss, login.RefreshToken)
	rc2, err := iss.VerifyRefresh(ctx, refreshed.RefreshToken)
	require.NoError(t, err)
	require.Equal(t, rc.SessionID, rc2.SessionID)
	assert.Equal(t, map[string]string{"cur": rc2.ID}, c.HGetAll(ctx, famKey).Val(), "family after refresh")
	assertTTL(t, c, famKey, cfg.RefreshTTL)

	// Revoke the access token, then the session, then the subject.
	ac, err := iss.VerifyAccess(ctx, refreshed.AccessToken)
	require.NoError(t, err)
	before := time.Now()
	require.NoError(t, iss.Revoke(ctx, refreshed.AccessToken))
	require.NoError(t, iss.Revoke(ctx, refreshed.RefreshToken))
	require.NoError(t, iss.RevokeSubject(ctx, "alice"))
	after := time.Now()

	assert.Equal(t, map[string]string{"cur": rc2.ID, "rev": "1"}, c.HGetAll(ctx, famKey).Val(), "family after revocation")
	assertTTL(t, c, famKey, cfg.RefreshTTL)
	// A token's and a session's denial hold their end as their time (they
	// refuse every token of theirs); a subject's holds the time of the
	// revocation (plus Config.Leeway, zero here).
	denyKeys := map[string]struct {
		ttl      time.Duration
		from, to time.Time // the time held
	}{
		prefix + "{jti:" + ac.ID + "}:deny":        {cfg.AccessTTL, ac.ExpiresAt, ac.ExpiresAt},
		prefix + "{sid:" + rc.SessionID + "}:deny": {cfg.AccessTTL, before.Add(cfg.AccessTTL), after.Add(cfg.AccessTTL)},
		prefix + "{sub:alice}:deny":                {cfg.RefreshTTL, before, after},
	}
	for key, want := range denyKeys {
		assert.Equal(t, "string", c.Type(ctx, key).Val(), "type of %s", key)
		ns, err := c.Get(ctx, key).Int64()
		require.NoError(t, err, "value of %s", key)
		at := time.Unix(0, ns)
		assert.False(t, at.Before(want.from) || at.After(want.to), "time in %s is %v, want %v to %v", key, at, want.from, want.to)
		assertTTL(t, c, key, want.ttl)
	}

	// Nothing else is written, and no key or value holds a token or any
	// part of one.
	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	want := []string{famKey}
	for k := range denyKeys {
		want = append(want, k)
	}
	assert.ElementsMatch(t, want, keys)
	var stored []string
	for _, k := range keys {
		stored = append(stored, k)
		if c.Type(ctx, k).Val() == "hash" {
			for f, v := range c.HGetAll(ctx, k).Val() {
				stored = append(stored, f, v)
			}
		} else {
			stored = append(stored, c.Get(ctx, k).Val())
		}
	}
	for _, tok := range []string{login.AccessToken, login.RefreshToken, refreshed.AccessToken, refreshed.RefreshToken} {
		for _, part := range strings.Split(tok, ".") {
			for _, s := range stored {
				assert.NotContains(t, s, part, "Redis holds part of a token")
			}
		}
	}
}

// assertTTL checks that key expires, no later than max from now.
func assertTTL(t *testing.T, c *redis.Client, key string, max time.Duration) {
	t.Helper()
	ttl, err := c.PTTL(t.Context(), key).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 0 && ttl <= max+time.Millisecond, "TTL of %s is %v, want in (0, %v]", key, ttl, max)
}

// anyUser is a UserLookup that finds every user, for the refresh endpoint's
// user check.
var anyUser = passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
	return passauth.User{Username: name}, true, nil
})

// refresh exchanges a refresh token through the issuer's RefreshHandler.
func refresh(t *testing.T, iss *passauth.TokenIssuer, token string) passauth.TokenPair {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/refresh", strings.NewReader(`{"refresh_token":"`+token+`"}`))
	req.Header.Set("Content-Type", "application/json")
	iss.RefreshHandler(anyUser).ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "refresh")
	return decodePair(t, rec.Body.String())
}

// TestPrefix checks that the default prefix is DefaultPrefix and that
// stores with different prefixes do not see each other's records.
func TestPrefix(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := t.Context()
	fam, id := "prefix-test-"+rand.Text(), rand.Text()
	famKey := redisstore.DefaultPrefix + "{" + fam + "}:fam"
	t.Cleanup(func() { c.Del(context.Background(), famKey) })

	def := redisstore.New(c)
	res, err := def.Rotate(ctx, fam, "", id, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, passauth.RotateOK, res)
	assert.Equal(t, id, c.HGet(ctx, famKey, "cur").Val(), "family under the default prefix")

	other := redisstore.New(c, redisstore.WithPrefix(newPrefix(t, c)))
	res, err = other.Rotate(ctx, fam, id, rand.Text(), time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, passauth.RotateRevoked, res, "family seen through another prefix")
	require.NoError(t, other.Deny(ctx, fam, time.Now(), time.Now().Add(time.Minute)))
	_, found, err := def.Denied(ctx, fam)
	require.NoError(t, err)
	assert.False(t, found, "key denied through another prefix")
}

// TestDenyTimes checks that Deny keeps the later time to the nanosecond,
// including times whose decimal forms differ in length or sign, which the
// script compares as strings.
func TestDenyTimes(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	s := redisstore.New(c, redisstore.WithPrefix(newPrefix(t, c)))
	base := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	cases := []struct {
		name          string
		first, second time.Time
	}{
		{"one nanosecond later", base, base.Add(time.Nanosecond)},
		{"one nanosecond earlier", base, base.Add(-time.Nanosecond)},
		{"equal", base, base},
		{"fewer digits later", time.Unix(0, 999_999_999), time.Unix(1, 0)},
		{"fewer digits earlier", time.Unix(1, 0), time.Unix(0, 999_999_999)},
		{"before 1970, later", time.Unix(-100, 0), time.Unix(-99, 0)},
		{"before 1970, earlier", time.Unix(-99, 0), time.Unix(-100, 0)},
		{"before 1970, more digits", time.Unix(-9, 0), time.Unix(-10, 0)},
		{"before and after 1970", time.Unix(-1, 0), time.Unix(1, 0)},
		{"after and before 1970", time.Unix(1, 0), time.Unix(-1, 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, expires := rand.Text(), time.Now().Add(time.Minute)
			require.NoError(t, s.Deny(t.Context(), key, tc.first, expires))
			require.NoError(t, s.Deny(t.Context(), key, tc.second, expires))
			want := tc.first
			if tc.second.After(want) {
				want = tc.second
			}
			at, found, err := s.Denied(t.Context(), key)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, want.UnixNano(), at.UnixNano(), "one key")
			at, found, err = s.Denied(t.Context(), rand.Text(), key)
			require.NoError(t, err)
			require.True(t, found)
			assert.Equal(t, want.UnixNano(), at.UnixNano(), "pipeline")
		})
	}
}

// TestDenyExpiry checks that denying a key again keeps the later expiry and
// that a record already expired is not written.
func TestDenyExpiry(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := redisstore.New(c, redisstore.WithPrefix(prefix))
	ctx := t.Context()
	now := time.Now()

	key := rand.Text()
	redisKey := prefix + "{" + key + "}:deny"
	require.NoError(t, s.Deny(ctx, key, now, now.Add(time.Minute)))
	require.NoError(t, s.Deny(ctx, key, now.Add(-time.Second), now.Add(time.Hour)))
	assert.Greater(t, c.PTTL(ctx, redisKey).Val(), 30*time.Minute, "later expiry kept")
	require.NoError(t, s.Deny(ctx, key, now.Add(time.Second), now.Add(-time.Second)))
	assert.Greater(t, c.PTTL(ctx, redisKey).Val(), 30*time.Minute, "later expiry kept over an expired one")
	at, found, err := s.Denied(ctx, key)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, now.Add(time.Second).UnixNano(), at.UnixNano(), "later time kept, even with a past expiry")

	past := rand.Text()
	require.NoError(t, s.Deny(ctx, past, now, now.Add(-time.Millisecond)))
	assert.Equal(t, int64(0), c.Exists(ctx, prefix+"{"+past+"}:deny").Val(), "record written with a past expiry")
}

// TestMalformedRecord checks that a denylist value this package did not
// write is an error, not "not denied".
func TestMalformedRecord(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := redisstore.New(c, redisstore.WithPrefix(prefix))
	key := rand.Text()
	require.NoError(t, c.Set(t.Context(), prefix+"{"+key+"}:deny", "not a number", time.Minute).Err())
	for _, keys := range [][]string{{key}, {rand.Text(), key}} {
		_, _, err := s.Denied(t.Context(), keys...)
		require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	}
}

// TestRedisDown checks that with Redis unreachable, or reachable but
// silent, every method fails with an error matching ErrStoreUnavailable,
// within the client's timeouts. It needs no Redis server.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	servers := []struct {
		name string
		addr string
	}{
		{"connection refused", closedAddr(t)},
		{"no answer", silentAddr(t)},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			c := redis.NewClient(&redis.Options{
				Addr:          srv.addr,
				DialTimeout:   200 * time.Millisecond,
				ReadTimeout:   200 * time.Millisecond,
				WriteTimeout:  200 * time.Millisecond,
				MaxRetries:    -1,
				DialerRetries: 1,
			})
			t.Cleanup(func() { _ = c.Close() })
			s := redisstore.New(c)
			for _, op := range storeOps(s) {
				t.Run(op.name, func(t *testing.T) {
					err := withinBound(t, func() error { return op.call(context.Background()) })
					require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
					assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "), "error text %q", err)
				})
			}
			_, found, err := s.Denied(context.Background())
			require.NoError(t, err, "Denied with no keys asks Redis")
			assert.False(t, found)
		})
	}
}

// TestContextBoundsWait checks that the request context reaches the client:
// with ContextTimeoutEnabled, a deadline of 200ms ends the wait for a silent
// server, which the client's own timeouts would let last a minute.
func TestContextBoundsWait(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{
		Addr:                  silentAddr(t),
		DialTimeout:           time.Minute,
		ReadTimeout:           time.Minute,
		WriteTimeout:          time.Minute,
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = c.Close() })
	for _, op := range storeOps(redisstore.New(c)) {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			err := withinBound(t, func() error { return op.call(ctx) })
			require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
		})
	}
}

type storeOp struct {
	name string
	call func(ctx context.Context) error
}

// storeOps returns a call of each method of s.
func storeOps(s *redisstore.Store) []storeOp {
	later := time.Now().Add(time.Hour)
	return []storeOp{
		{"Rotate create", func(ctx context.Context) error {
			_, err := s.Rotate(ctx, "family", "", "id1", later)
			return err
		}},
		{"Rotate", func(ctx context.Context) error {
			_, err := s.Rotate(ctx, "family", "id1", "id2", later)
			return err
		}},
		{"RevokeFamily", func(ctx context.Context) error {
			return s.RevokeFamily(ctx, "family")
		}},
		{"Deny", func(ctx context.Context) error {
			return s.Deny(ctx, "key", time.Now(), later)
		}},
		{"Denied one key", func(ctx context.Context) error {
			_, _, err := s.Denied(ctx, "key")
			return err
		}},
		{"Denied several keys", func(ctx context.Context) error {
			_, _, err := s.Denied(ctx, "key", "key2", "key3")
			return err
		}},
	}
}

// withinBound runs call and returns its result, failing the test if call
// does not return in a time far above any timeout the tests set: a hang,
// not a slow answer, is what it catches.
func withinBound(t *testing.T, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the call did not return within 30s")
		return nil
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// silentAddr returns the address of a server that accepts connections and
// never answers, until the test ends.
func silentAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// TestIssuerWithRedisDown checks how passauth answers when its Redis is
// unreachable: refreshing and revoking fail closed with 503, and access
// tokens keep working unless Config.CheckRevoked asks the store. It needs no
// Redis server.
func TestIssuerWithRedisDown(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{
		Addr:          closedAddr(t),
		DialTimeout:   200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { _ = c.Close() })

	// Tokens minted by an issuer with the same secrets and no store.
	stateless, err := passauth.NewTokenIssuer(testConfig())
	require.NoError(t, err)
	pair, err := stateless.IssuePair(t.Context(), "alice")
	require.NoError(t, err)

	newIssuer := func(checkRevoked bool) *passauth.TokenIssuer {
		cfg := testConfig()
		cfg.Store = redisstore.New(c)
		cfg.CheckRevoked = checkRevoked
		iss, err := passauth.NewTokenIssuer(cfg)
		require.NoError(t, err)
		return iss
	}
	lenient, strict := newIssuer(false), newIssuer(true)
	me := func(iss *passauth.TokenIssuer) http.Handler {
		return iss.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	}
	users := passauth.UserLookupFunc(func(context.Context, string) (passauth.User, bool, error) {
		return passauth.User{}, false, nil
	})
	cases := []struct {
		name    string
		handler http.Handler
		req     func() *http.Request
		want    int
	}{
		{"refresh", lenient.RefreshHandler(anyUser), func() *http.Request {
			return jsonRequest("/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`)
		}, http.StatusServiceUnavailable},
		{"refresh grant", lenient.TokenHandler(users), func() *http.Request {
			return formRequest("/token", "grant_type=refresh_token&refresh_token="+pair.RefreshToken)
		}, http.StatusServiceUnavailable},
		{"revoke refresh token", lenient.RevocationHandler(), func() *http.Request {
			return formRequest("/revoke", "token="+pair.RefreshToken)
		}, http.StatusServiceUnavailable},
		{"revoke access token", lenient.RevocationHandler(), func() *http.Request {
			return formRequest("/revoke", "token="+pair.AccessToken)
		}, http.StatusServiceUnavailable},
		{"access without CheckRevoked", me(lenient), func() *http.Request {
			return bearerRequest("/me", pair.AccessToken)
		}, http.StatusOK},
		{"access with CheckRevoked", me(strict), func() *http.Request {
			return bearerRequest("/me", pair.AccessToken)
		}, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			tc.handler.ServeHTTP(rec, tc.req())
			assert.Equal(t, tc.want, rec.Code)
			assert.NotContains(t, rec.Body.String(), pair.RefreshToken)
		})
	}

	_, err = lenient.IssuePair(t.Context(), "alice")
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable, "login")
	require.ErrorIs(t, lenient.RevokeSubject(t.Context(), "alice"), passauth.ErrStoreUnavailable)
}

func jsonRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func formRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func bearerRequest(target, token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// BenchmarkRedisRotate measures one refresh-token rotation: one script call,
// one round trip.
func BenchmarkRedisRotate(b *testing.B) {
	c := newClient(b)
	s := redisstore.New(c, redisstore.WithPrefix(newPrefix(b, c)))
	ctx := b.Context()
	fam, expires := rand.Text(), time.Now().Add(time.Hour)
	prev := "id0"
	if _, err := s.Rotate(ctx, fam, "", prev, expires); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		next := "id" + strconv.Itoa(i)
		res, err := s.Rotate(ctx, fam, prev, next, expires)
		if err != nil || res != passauth.RotateOK {
			b.Fatalf("Rotate = %v, %v", res, err)
		}
		prev = next
	}
}

// BenchmarkRedisDenied measures the lookup Config.CheckRevoked adds to every
// authenticated request: three keys (token, session, subject), one of them
// denied, in one pipeline.
func BenchmarkRedisDenied(b *testing.B) {
	c := newClient(b)
	s := redisstore.New(c, redisstore.WithPrefix(newPrefix(b, c)))
	ctx := b.Context()
	keys := []string{"jti:" + rand.Text(), "sub:" + rand.Text(), "sid:" + rand.Text()}
	if err := s.Deny(ctx, keys[1], time.Now(), time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, found, err := s.Denied(ctx, keys...)
		if err != nil || !found {
			b.Fatalf("Denied = %v, %v", found, err)
		}
	}
}

// decodePair reads a token response; it fails the test with the status
// only, never the body, which holds tokens.
func decodePair(t *testing.T, body string) passauth.TokenPair {
	t.Helper()
	var p passauth.TokenPair
	if err := json.Unmarshal([]byte(body), &p); err != nil || p.AccessToken == "" || p.RefreshToken == "" {
		t.Fatal("response is not a token pair")
	}
	return p
}
