package passauth_test

// Refresh-token rotation with a Store: reuse detection, family revocation,
// the concurrency guarantee, the stateless fallback and Config.SessionTTL.
// The fixture here (rot…) is shared with revoke_test.go and
// fuzz_revoke_test.go.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// rotOptions configures a rotFixture.
type rotOptions struct {
	store        passauth.Store // nil means a new MemoryStore, unless stateless
	stateless    bool           // no Store at all
	checkRevoked bool
	sessionTTL   time.Duration
}

// rotFixture is an issuer with a store, its handlers, a clock and a record of
// the events it emitted.
type rotFixture struct {
	iss       *passauth.TokenIssuer
	clock     *httpClock
	store     passauth.Store
	token     http.Handler // TokenHandler
	refresh   http.Handler // RefreshHandler
	revoke    http.Handler // RevocationHandler
	protected http.Handler // Authenticate in front of a 204
	events    *rotEvents
}

// newRotFixture builds a fixture. The clock starts at the current time,
// whole seconds, because MemoryStore expires its records by time.Now: a
// clock in the past would make every family expire at once.
func newRotFixture(t testing.TB, o rotOptions) *rotFixture {
	t.Helper()
	clock := &httpClock{now: time.Now().Truncate(time.Second)}
	return newRotFixtureWithClock(t, o, clock)
}

func newRotFixtureWithClock(t testing.TB, o rotOptions, clock *httpClock) *rotFixture {
	t.Helper()
	store := o.store
	if store == nil && !o.stateless {
		store = passauth.NewMemoryStore()
	}
	events := &rotEvents{}
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   httpAccessSecret,
		RefreshSecret:  httpRefreshSecret,
		AccessTTL:      httpAccessTTL,
		RefreshTTL:     httpRefreshTTL,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
		MaxBodyBytes:   httpMaxBody,
		Now:            clock.Now,
		Store:          store,
		SessionTTL:     o.sessionTTL,
		CheckRevoked:   o.checkRevoked,
		OnEvent:        events.add,
	})
	require.NoError(t, err)
	users := newHTTPUsers(t).lookup(false)
	return &rotFixture{
		iss:     iss,
		clock:   clock,
		store:   store,
		token:   iss.TokenHandler(users),
		refresh: iss.RefreshHandler(users),
		revoke:  iss.RevocationHandler(),
		protected: iss.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		})),
		events: events,
	}
}

// rotEvents records the events of an issuer.
type rotEvents struct {
	mu     sync.Mutex
	events []passauth.Event
}

func (r *rotEvents) add(_ context.Context, e passauth.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// of returns the recorded events of kind k.
func (r *rotEvents) of(k passauth.EventKind) []passauth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []passauth.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// assertNoTokens fails t when any recorded event holds one of tokens.
func (r *rotEvents) assertNoTokens(t testing.TB, tokens ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		for _, field := range []string{e.Subject, e.SessionID, e.ClientID} {
			// Every JWT starts with "eyJ", the base64url of `{"`.
			leak := strings.Contains(field, "eyJ")
			for _, tok := range tokens {
				leak = leak || (tok != "" && strings.Contains(field, tok))
			}
			if leak {
				t.Errorf("event #%d (%s) carries a token", i, e.Kind)
			}
		}
	}
}

// login gets a pair with the password grant; user is "alice" or "bob".
func (f *rotFixture) login(t testing.TB, user string) passauth.TokenPair {
	t.Helper()
	pw := map[string]string{"alice": alicePassword, "bob": bobPassword}[user]
	return requirePair(t, do(t, f.token, postForm("username", user, "password", pw)))
}

// viaToken refreshes at the token endpoint (grant_type=refresh_token).
func (f *rotFixture) viaToken(t testing.TB, refresh string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, f.token, postForm("grant_type", "refresh_token", "refresh_token", refresh))
}

// viaRefresh refreshes at the refresh endpoint with a JSON body.
func (f *rotFixture) viaRefresh(t testing.TB, refresh string) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]string{"refresh_token": refresh})
	require.NoError(t, err)
	return do(t, f.refresh, httpReq{contentType: "application/json", body: string(body)})
}

// authStatus is the status Authenticate answers for an access token.
func (f *rotFixture) authStatus(t testing.TB, access string) int {
	t.Helper()
	return do(t, f.protected, httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + access}}).Code
}

// sessionID returns the "sid" of a refresh token.
func (f *rotFixture) sessionID(t testing.TB, refresh string) string {
	t.Helper()
	c, err := f.iss.VerifyRefresh(context.Background(), refresh)
	require.NoError(t, err)
	require.NotEmpty(t, c.SessionID)
	return c.SessionID
}

// rotEndpoint is one of the two ways to refresh and how it refuses a token.
type rotEndpoint struct {
	name    string
	call    func(f *rotFixture, t testing.TB, refresh string) *httptest.ResponseRecorder
	refused func(t testing.TB, rec *httptest.ResponseRecorder, desc string)
}

var rotEndpoints = []rotEndpoint{
	{
		name: "TokenHandler",
		call: (*rotFixture).viaToken,
		refused: func(t testing.TB, rec *httptest.ResponseRecorder, desc string) {
			t.Helper()
			assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidGrant, desc)
		},
	},
	{
		name: "RefreshHandler",
		call: (*rotFixture).viaRefresh,
		refused: func(t testing.TB, rec *httptest.ResponseRecorder, desc string) {
			t.Helper()
			assertError(t, rec, http.StatusUnauthorized, passauth.CodeInvalidToken, desc)
			assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
		},
	},
}

func TestRotationReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	// ErrTokenReused is its own sentinel; the refresh error that carries it
	// also matches ErrTokenInvalid, which the wire answers below reflect.
	assert.NotErrorIs(t, passauth.ErrTokenReused, passauth.ErrTokenInvalid)

	for _, first := range rotEndpoints {
		for _, again := range rotEndpoints {
			t.Run(first.name+"Then"+again.name, func(t *testing.T) {
				t.Parallel()
				f := newRotFixture(t, rotOptions{checkRevoked: true})
				p0 := f.login(t, "alice")
				sid := f.sessionID(t, p0.RefreshToken)

				f.clock.Advance(time.Minute)
				p1 := requirePair(t, first.call(f, t, p0.RefreshToken))
				assert.NotEqual(t, p0.RefreshToken, p1.RefreshToken)
				assert.Equal(t, sid, f.sessionID(t, p1.RefreshToken), "rotation keeps the session")
				assert.Equal(t, http.StatusNoContent, f.authStatus(t, p1.AccessToken))
				assert.Empty(t, f.events.of(passauth.EventRefreshReuse))

				f.clock.Advance(time.Minute)
				again.refused(t, again.call(f, t, p0.RefreshToken), "Invalid token")

				// The family is revoked: the newest refresh token is dead
				// too, on both endpoints, and so are the access tokens.
				for _, ep := range rotEndpoints {
					ep.refused(t, ep.call(f, t, p1.RefreshToken), "Invalid token")
				}
				assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p0.AccessToken))
				assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p1.AccessToken))

				// A second presentation of the stolen token is not a second
				// reuse event: the session is already gone.
				again.refused(t, again.call(f, t, p0.RefreshToken), "Invalid token")
				reuse := f.events.of(passauth.EventRefreshReuse)
				require.Len(t, reuse, 1)
				assert.Equal(t, passauth.Event{Kind: passauth.EventRefreshReuse, Subject: "alice", SessionID: sid}, reuse[0])
				f.events.assertNoTokens(t, p0.AccessToken, p0.RefreshToken, p1.AccessToken, p1.RefreshToken)
			})
		}
	}
}

func TestRotationReuseEventCarriesClient(t *testing.T) {
	t.Parallel()
	f := newRotFixture(t, rotOptions{})
	p0 := requirePair(t, do(t, f.token, postForm("username", "bob", "password", bobPassword, "client_id", "app")))
	requirePair(t, f.viaToken(t, p0.RefreshToken))
	f.viaToken(t, p0.RefreshToken)
	reuse := f.events.of(passauth.EventRefreshReuse)
	require.Len(t, reuse, 1)
	assert.Equal(t, "bob", reuse[0].Subject)
	assert.Equal(t, "app", reuse[0].ClientID)
}

func TestRotationChain(t *testing.T) {
	t.Parallel()
	for _, ep := range rotEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			f := newRotFixture(t, rotOptions{checkRevoked: true})
			login := f.clock.Now()
			pair := f.login(t, "alice")
			sid := f.sessionID(t, pair.RefreshToken)
			seen := map[string]bool{pair.RefreshToken: true}
			for i := range 5 {
				f.clock.Advance(time.Hour)
				pair = requirePair(t, ep.call(f, t, pair.RefreshToken))
				require.False(t, seen[pair.RefreshToken], "refresh #%d returned a token seen before", i)
				seen[pair.RefreshToken] = true
				c, err := f.iss.VerifyRefresh(context.Background(), pair.RefreshToken)
				require.NoError(t, err)
				assert.Equal(t, sid, c.SessionID)
				assert.True(t, login.Equal(c.AuthTime), "auth_time is the login time")
				assert.Equal(t, "me items", pair.Scope)
				assert.Equal(t, http.StatusNoContent, f.authStatus(t, pair.AccessToken))
			}
			assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
		})
	}
}

func TestRotationConcurrentRefreshExactlyOneWins(t *testing.T) {
	t.Parallel()
	const n = 50
	f := newRotFixture(t, rotOptions{})
	pair := f.login(t, "alice")
	srv := httptest.NewServer(f.refresh)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	body, err := json.Marshal(map[string]string{"refresh_token": pair.RefreshToken})
	require.NoError(t, err)

	statuses := make(chan int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(string(body)))
			if err != nil {
				statuses <- -1
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			if err != nil {
				statuses <- -1
				return
			}
			_ = resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	close(statuses)

	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: n - 1}, count)
	// The losers presented a consumed token: reuse, reported once, and the
	// family, the winner's new token included, is revoked.
	assert.Len(t, f.events.of(passauth.EventRefreshReuse), 1)
}

func TestRotationStatelessRefreshIsRepeatable(t *testing.T) {
	t.Parallel()
	for _, ep := range rotEndpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			f := newRotFixture(t, rotOptions{stateless: true})
			pair := f.login(t, "alice")
			// The seed's behaviour: a refresh token is good until it expires.
			for range 2 {
				f.clock.Advance(time.Minute)
				requirePair(t, ep.call(f, t, pair.RefreshToken))
			}
			assert.Empty(t, f.events.of(passauth.EventRefreshReuse))
		})
	}
}

func TestRotationStatelessCannotRevoke(t *testing.T) {
	t.Parallel()
	f := newRotFixture(t, rotOptions{stateless: true})
	pair := f.login(t, "alice")
	ctx := context.Background()

	err := f.iss.Revoke(ctx, pair.RefreshToken)
	require.Error(t, err)
	assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
	require.Error(t, f.iss.RevokeSubject(ctx, "alice"))

	rec := do(t, f.revoke, postForm("token", pair.RefreshToken))
	assertError(t, rec, http.StatusBadRequest, passauth.CodeUnsupportedTokenType, "")
	requirePair(t, f.viaToken(t, pair.RefreshToken))
	assert.Empty(t, f.events.of(passauth.EventRevoke))
}

// rotDecodePair decodes a token answer without requirePair's check that
// expires_in is the full AccessTTL.
func rotDecodePair(t testing.TB, rec *httptest.ResponseRecorder) passauth.TokenPair {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	var pair passauth.TokenPair
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &pair))
	require.NotEmpty(t, pair.AccessToken)
	require.NotEmpty(t, pair.RefreshToken)
	return pair
}

func TestRotationSessionTTLCapsTokens(t *testing.T) {
	t.Parallel()
	const sessionTTL = 72 * time.Hour
	// Each step advances the clock (from the login), refreshes, and checks
	// when the new tokens expire, as offsets from the login.
	steps := []struct {
		at                    time.Duration
		accessExp, refreshExp time.Duration
	}{
		{at: 20 * time.Hour, accessExp: 20*time.Hour + httpAccessTTL, refreshExp: 44 * time.Hour},
		{at: 40 * time.Hour, accessExp: 40*time.Hour + httpAccessTTL, refreshExp: 64 * time.Hour},
		{at: 60 * time.Hour, accessExp: 60*time.Hour + httpAccessTTL, refreshExp: sessionTTL},
		{at: sessionTTL - 10*time.Minute, accessExp: sessionTTL, refreshExp: sessionTTL},
	}
	for _, store := range []struct {
		name      string
		stateless bool
	}{{"MemoryStore", false}, {"Stateless", true}} {
		for _, ep := range rotEndpoints {
			t.Run(store.name+"/"+ep.name, func(t *testing.T) {
				t.Parallel()
				f := newRotFixture(t, rotOptions{stateless: store.stateless, sessionTTL: sessionTTL})
				login := f.clock.Now()
				pair := f.login(t, "alice")
				ctx := context.Background()
				for _, s := range steps {
					f.clock.Advance(login.Add(s.at).Sub(f.clock.Now()))
					pair = rotDecodePair(t, ep.call(f, t, pair.RefreshToken))
					now := f.clock.Now()
					assert.Equal(t, int64(login.Add(s.accessExp).Sub(now)/time.Second), pair.ExpiresIn, "at %v", s.at)
					ac, err := f.iss.VerifyAccess(ctx, pair.AccessToken)
					require.NoError(t, err)
					assert.True(t, login.Add(s.accessExp).Equal(ac.ExpiresAt), "access exp at %v", s.at)
					rc, err := f.iss.VerifyRefresh(ctx, pair.RefreshToken)
					require.NoError(t, err)
					assert.True(t, login.Add(s.refreshExp).Equal(rc.ExpiresAt), "refresh exp at %v", s.at)
					assert.True(t, login.Equal(rc.AuthTime))
				}
				f.clock.Advance(10 * time.Minute) // the session's end
				for _, e := range rotEndpoints {
					e.refused(t, e.call(f, t, pair.RefreshToken), "Token expired")
				}
			})
		}
	}
}

func TestRotationConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(*passauth.Config)
		wantErr string // a field name the error must mention; "" means valid
	}{
		{"SessionTTLShorterThanRefreshTTL", func(c *passauth.Config) { c.SessionTTL = httpRefreshTTL - time.Second }, "SessionTTL"},
		{"SessionTTLNegative", func(c *passauth.Config) { c.SessionTTL = -time.Hour }, "SessionTTL"},
		{"SessionTTLEqualsRefreshTTL", func(c *passauth.Config) { c.SessionTTL = httpRefreshTTL }, ""},
		{"SessionTTLWithoutStore", func(c *passauth.Config) { c.SessionTTL = 2 * httpRefreshTTL; c.Store = nil }, ""},
		{"CheckRevokedWithoutStore", func(c *passauth.Config) { c.CheckRevoked = true; c.Store = nil }, "CheckRevoked"},
		{"CheckRevokedWithStore", func(c *passauth.Config) { c.CheckRevoked = true }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := passauth.Config{
				AccessSecret:   httpAccessSecret,
				RefreshSecret:  httpRefreshSecret,
				AccessTTL:      httpAccessTTL,
				RefreshTTL:     httpRefreshTTL,
				PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
				Store:          passauth.NewMemoryStore(),
			}
			tc.edit(&cfg)
			iss, err := passauth.NewTokenIssuer(cfg)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, iss)
				return
			}
			require.Error(t, err)
			assert.Nil(t, iss)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}
