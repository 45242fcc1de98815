package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
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

// clusterAddrs returns the addresses of the Redis Cluster under test, or
// skips the test when none is given.
func clusterAddrs(tb testing.TB) []string {
	tb.Helper()
	addrs := os.Getenv("PASSAUTH_REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		tb.Skip("no Redis Cluster: set PASSAUTH_REDIS_CLUSTER_ADDRS or run ./scripts/with-redis-cluster.sh go test ./...")
	}
	return strings.Split(addrs, ",")
}

// newClusterClient returns a cluster client with the recommended settings,
// changed by edit if not nil, closed when the test ends.
func newClusterClient(tb testing.TB, edit func(*redis.ClusterOptions)) *redis.ClusterClient {
	tb.Helper()
	opts := recommendedClusterOptions(clusterAddrs(tb))
	if edit != nil {
		edit(opts)
	}
	c := redis.NewClusterClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// clusterPrefix returns a key prefix no other test uses, and deletes every
// key under it on every master when the test ends.
func clusterPrefix(tb testing.TB, c *redis.ClusterClient) string {
	tb.Helper()
	prefix := "passauth-test:" + rand.Text() + ":"
	tb.Cleanup(func() {
		err := c.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
			keys, err := m.Keys(ctx, prefix+"*").Result()
			for _, k := range keys {
				if err == nil {
					err = m.Del(ctx, k).Err()
				}
			}
			return err
		})
		if err != nil {
			tb.Logf("deleting the test's keys: %v", err)
		}
	})
	return prefix
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

// layout names the keys of one subject's records as the package
// documentation describes them, for the tests that look at Redis directly.
type layout struct{ base string }

func keysFor(prefix, subject string) layout {
	sum := sha256.Sum256([]byte(subject))
	return layout{prefix + "{" + hex.EncodeToString(sum[:16]) + "}:"}
}

func (l layout) fam(id string) string     { return l.base + "fam:" + id }
func (l layout) sessions() string         { return l.base + "sessions" }
func (l layout) denySub() string          { return l.base + "deny:sub" }
func (l layout) denySID(id string) string { return l.base + "deny:sid:" + id }
func (l layout) denyJTI(id string) string { return l.base + "deny:jti:" + id }

// testSession is a session of a random subject, for the tests that call the
// Store directly.
type testSession struct {
	subject, family, client string
	authTime                time.Time
}

func newTestSession() testSession {
	return testSession{subject: "subject-" + rand.Text(), family: rand.Text(), client: "client-" + rand.Text(), authTime: time.Now()}
}

// rotation returns the rotation of s from oldID ("" to start it) to newID
// now, strict, kept an hour.
func (s testSession) rotation(oldID, newID string) passauth.Rotation {
	now := time.Now()
	return passauth.Rotation{
		Subject: s.subject, Family: s.family, OldID: oldID, NewID: newID, ClientID: s.client,
		AuthTime: s.authTime, Now: now, Expires: now.Add(time.Hour), KeepUntil: now.Add(time.Hour), DenyUntil: now.Add(time.Hour),
	}
}

// graceful returns r with a grace window of a minute and 32 replays.
func graceful(r passauth.Rotation) passauth.Rotation {
	r.Grace, r.MaxReplays = time.Minute, 32
	return r
}

// rotate runs r on s and checks its result.
func rotate(t *testing.T, s passauth.Store, r passauth.Rotation, want passauth.RotateResult, what string) passauth.Rotated {
	t.Helper()
	got, err := s.Rotate(t.Context(), r)
	require.NoError(t, err, what)
	require.Equal(t, want, got.Result, what)
	return got
}

// TestPrefix checks that the default prefix is DefaultPrefix and that
// stores with different prefixes do not see each other's records.
func TestPrefix(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := t.Context()
	sess, id := newTestSession(), rand.Text()
	keys := keysFor(redisstore.DefaultPrefix, sess.subject)
	t.Cleanup(func() { c.Del(context.Background(), keys.fam(sess.family), keys.sessions()) })

	def := redisstore.New(c)
	rotate(t, def, sess.rotation("", id), passauth.RotateOK, "start")
	assert.Equal(t, id, c.HGet(ctx, keys.fam(sess.family), "cur").Val(), "family under the default prefix")

	other := redisstore.New(c, redisstore.WithPrefix(newPrefix(t, c)))
	rotate(t, other, sess.rotation(id, rand.Text()), passauth.RotateRevoked, "family seen through another prefix")
	token := rand.Text()
	require.NoError(t, other.Deny(ctx, passauth.Denial{Subject: sess.subject, Token: token, At: time.Now(), Expires: time.Now().Add(time.Minute)}))
	_, found, err := def.Denied(ctx, passauth.DenyQuery{Subject: sess.subject, Token: token})
	require.NoError(t, err)
	assert.False(t, found, "token denied through another prefix")
}

// TestDenyTimes checks that Deny keeps the later time to the nanosecond,
// including times whose decimal forms differ in length or sign, which the
// script compares as strings, for each kind of denial, and that Denied
// reports the latest of several to the nanosecond.
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
	kinds := []struct {
		name   string
		denial func(subject, name string) passauth.Denial
	}{
		{"subject", func(subject, _ string) passauth.Denial { return passauth.Denial{Subject: subject} }},
		{"session", func(subject, name string) passauth.Denial { return passauth.Denial{Subject: subject, Session: name} }},
		{"token", func(subject, name string) passauth.Denial { return passauth.Denial{Subject: subject, Token: name} }},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				subject, name, expires := rand.Text(), rand.Text(), time.Now().Add(time.Minute)
				for _, at := range []time.Time{tc.first, tc.second} {
					d := kind.denial(subject, name)
					d.At, d.Expires = at, expires
					require.NoError(t, s.Deny(t.Context(), d))
				}
				want := tc.first
				if tc.second.After(want) {
					want = tc.second
				}
				d := kind.denial(subject, name)
				at, found, err := s.Denied(t.Context(), passauth.DenyQuery{Subject: d.Subject, Session: d.Session, Token: d.Token})
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, want.UnixNano(), at.UnixNano(), "alone")
				at, found, err = s.Denied(t.Context(), passauth.DenyQuery{Subject: subject, Session: name, Token: name})
				require.NoError(t, err)
				require.True(t, found)
				assert.Equal(t, want.UnixNano(), at.UnixNano(), "with the other two kinds")
			})
		}
	}

	t.Run("the latest of three", func(t *testing.T) {
		t.Parallel()
		subject, sid, jti, expires := rand.Text(), rand.Text(), rand.Text(), time.Now().Add(time.Minute)
		for i, d := range []passauth.Denial{{Subject: subject}, {Subject: subject, Session: sid}, {Subject: subject, Token: jti}} {
			d.At, d.Expires = base.Add(time.Duration(i%2)*time.Nanosecond), expires
			require.NoError(t, s.Deny(t.Context(), d))
		}
		at, found, err := s.Denied(t.Context(), passauth.DenyQuery{Subject: subject, Session: sid, Token: jti})
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, base.Add(time.Nanosecond).UnixNano(), at.UnixNano())
	})
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

	subject, token := rand.Text(), rand.Text()
	redisKey := keysFor(prefix, subject).denyJTI(token)
	deny := func(at, expires time.Time) {
		require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: subject, Token: token, At: at, Expires: expires}))
	}
	deny(now, now.Add(time.Minute))
	deny(now.Add(-time.Second), now.Add(time.Hour))
	assert.Greater(t, c.PTTL(ctx, redisKey).Val(), 30*time.Minute, "later expiry kept")
	deny(now.Add(time.Second), now.Add(-time.Second))
	assert.Greater(t, c.PTTL(ctx, redisKey).Val(), 30*time.Minute, "later expiry kept over an expired one")
	at, found, err := s.Denied(ctx, passauth.DenyQuery{Subject: subject, Token: token})
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, now.Add(time.Second).UnixNano(), at.UnixNano(), "later time kept, even with a past expiry")

	past := rand.Text()
	require.NoError(t, s.Deny(ctx, passauth.Denial{Subject: past, At: now, Expires: now.Add(-time.Millisecond)}))
	assert.Equal(t, int64(0), c.Exists(ctx, keysFor(prefix, past).denySub()).Val(), "record written with a past expiry")
}

// TestMalformedRecord checks that a value this package did not write, in
// a denial or in a family, is an error, not "not denied".
func TestMalformedRecord(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := redisstore.New(c, redisstore.WithPrefix(prefix))
	subject, token := rand.Text(), rand.Text()
	keys := keysFor(prefix, subject)
	require.NoError(t, c.Set(t.Context(), keys.denyJTI(token), "not a number", time.Minute).Err())
	for _, q := range []passauth.DenyQuery{{Subject: subject, Token: token}, {Subject: subject, Session: rand.Text(), Token: token}} {
		_, _, err := s.Denied(t.Context(), q)
		require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	}

	sess, id := newTestSession(), rand.Text()
	rotate(t, s, sess.rotation("", id), passauth.RotateOK, "start")
	require.NoError(t, c.HSet(t.Context(), keysFor(prefix, sess.subject).fam(sess.family), "exp", "soon").Err())
	_, err := s.Rotate(t.Context(), sess.rotation("", id))
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable, "a repeated start answering a malformed expiry")
	_, err = s.Sessions(t.Context(), sess.subject)
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable, "Sessions reading a malformed expiry")
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
		{"connection refused", nettest.ClosedAddr(t)},
		{"no answer", nettest.SilentAddr(t)},
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
			_, found, err := s.Denied(context.Background(), passauth.DenyQuery{})
			require.NoError(t, err, "Denied with nothing to look up asks Redis")
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
		Addr:                  nettest.SilentAddr(t),
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
	sess := newTestSession()
	later := time.Now().Add(time.Hour)
	return []storeOp{
		{"Rotate start", func(ctx context.Context) error {
			_, err := s.Rotate(ctx, sess.rotation("", "id1"))
			return err
		}},
		{"Rotate", func(ctx context.Context) error {
			_, err := s.Rotate(ctx, graceful(sess.rotation("id1", "id2")))
			return err
		}},
		{"RevokeSession", func(ctx context.Context) error {
			return s.RevokeSession(ctx, passauth.Denial{Subject: sess.subject, Session: sess.family, At: later, Expires: later})
		}},
		{"Deny", func(ctx context.Context) error {
			return s.Deny(ctx, passauth.Denial{Subject: sess.subject, Token: "jti", At: time.Now(), Expires: later})
		}},
		{"Denied subject", func(ctx context.Context) error {
			_, _, err := s.Denied(ctx, passauth.DenyQuery{Subject: sess.subject})
			return err
		}},
		{"Denied subject, session and token", func(ctx context.Context) error {
			_, _, err := s.Denied(ctx, passauth.DenyQuery{Subject: sess.subject, Session: sess.family, Token: "jti"})
			return err
		}},
		{"Sessions", func(ctx context.Context) error {
			_, err := s.Sessions(ctx, sess.subject)
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

// TestIssuerWithRedisDown checks how passauth answers when its Redis is
// unreachable: refreshing and revoking fail closed with 503, and access
// tokens keep working unless Config.CheckRevoked asks the store. It needs no
// Redis server.
func TestIssuerWithRedisDown(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{
		Addr:          nettest.ClosedAddr(t),
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
	cases := []struct {
		name    string
		handler http.Handler
		req     func() *http.Request
		want    int
	}{
		{"refresh", lenient.RefreshHandler(anyUser), func() *http.Request {
			return jsonRequest("/refresh", `{"refresh_token":"`+pair.RefreshToken+`"}`)
		}, http.StatusServiceUnavailable},
		// The user is found: a refresh looks its user up before its one
		// store call.
		{"refresh grant", lenient.TokenHandler(anyUser), func() *http.Request {
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
