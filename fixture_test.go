package passauth_test

// The shared fixture of the package's tests: secrets and passwords that
// show when they leak, an injected clock, users behind a UserLookup, a
// testConfig builder, an issuer with its handlers mounted, request helpers
// that check every answer for leaks, an event recorder, a store that can be
// taken down, and hand-made tokens for the verification tests.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// Secrets and passwords.

// The secrets and passwords contain spaces and "!", which never appear in a
// token, a token response or a fixed error text, so an answer, an error or
// an event that contains one has leaked it.
var (
	testAccessSecret  = []byte("tests: the access secret, 32+ bytes!")
	testRefreshSecret = []byte("tests: the refresh secret, 32+ bytes!")
)

const (
	alicePassword = "alice pass!word" // holds scopes "me" and "items"
	bobPassword   = "bob pass!word"   // holds no scope
	carolPassword = "carol pass!word" // disabled
	failingUser   = "db-down"         // the lookup fails for this name
	lookupFailure = "dial tcp 10.0.0.7:5432: password authentication failed for hunter2"

	testAccessTTL  = 15 * time.Minute
	testRefreshTTL = 24 * time.Hour
	testMaxBody    = 1024

	testIssuerName = "https://auth.example.test"
	testAudience   = "api.example.test"
)

var testPasswords = []string{alicePassword, bobPassword, carolPassword}

// testHashes hashes the test passwords once, at the lowest bcrypt cost.
var testHashes = sync.OnceValues(func() (map[string]string, error) {
	hashes := make(map[string]string)
	for _, pw := range testPasswords {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		hashes[pw] = string(h)
	}
	return hashes, nil
})

// The clock.

// testEpoch is where every test clock starts: the real time, in whole
// seconds, since MemoryStore expires its records by time.Now and a clock in
// the past would make every session expire at once. It differs from one test
// process to the next (fuzz workers included).
var testEpoch = time.Now().Truncate(time.Second)

// testClock is an injected clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: testEpoch} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// stoppedAt is a Config.Now that always reports t.
func stoppedAt(t time.Time) func() time.Time {
	return func() time.Time { return t }
}

// Users.

// testUsers is a user store over a map. Names are matched case-insensitively
// and alice's canonical name is returned in User.Username; bob's is left
// empty, meaning the name he logged in with. Looking up failingUser fails.
type testUsers struct {
	mu    sync.Mutex
	users map[string]passauth.User
}

func newTestUsers(t testing.TB) *testUsers {
	hashes, err := testHashes()
	require.NoError(t, err)
	return &testUsers{users: map[string]passauth.User{
		"alice": {Username: "alice", PasswordHash: hashes[alicePassword], Scopes: []string{"me", "items"}},
		"bob":   {PasswordHash: hashes[bobPassword]},
		"carol": {Username: "carol", PasswordHash: hashes[carolPassword], Disabled: true},
	}}
}

// LookupUser implements passauth.UserLookup.
func (s *testUsers) LookupUser(_ context.Context, name string) (passauth.User, bool, error) {
	if name == failingUser {
		return passauth.User{}, false, errors.New(lookupFailure)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[strings.ToLower(name)]
	return u, ok, nil
}

func (s *testUsers) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, name)
}

func (s *testUsers) update(name string, change func(*passauth.User)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[name]
	change(&u)
	s.users[name] = u
}

func (s *testUsers) disable(name string) {
	s.update(name, func(u *passauth.User) { u.Disabled = true })
}

// Configs and issuers.

// testConfig returns a valid Config with the test secrets and lifetimes, the
// cheapest bcrypt policy, a small body limit and a clock stopped at
// testEpoch, changed by mods in order (a nil mod is skipped). Each call
// returns fresh secret slices.
func testConfig(mods ...func(*passauth.Config)) passauth.Config {
	cfg := passauth.Config{
		AccessSecret:   bytes.Clone(testAccessSecret),
		RefreshSecret:  bytes.Clone(testRefreshSecret),
		AccessTTL:      testAccessTTL,
		RefreshTTL:     testRefreshTTL,
		Now:            stoppedAt(testEpoch),
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
		MaxBodyBytes:   testMaxBody,
	}
	for _, mod := range mods {
		if mod != nil {
			mod(&cfg)
		}
	}
	return cfg
}

// newIssuer builds an issuer from testConfig(mods...).
func newIssuer(tb testing.TB, mods ...func(*passauth.Config)) *passauth.TokenIssuer {
	tb.Helper()
	iss, err := passauth.NewTokenIssuer(testConfig(mods...))
	require.NoError(tb, err)
	return iss
}

// Config modifiers.

// withStore sets Config.Store.
func withStore(s passauth.Store) func(*passauth.Config) {
	return func(c *passauth.Config) { c.Store = s }
}

// withMemoryStore sets Config.Store to a new MemoryStore.
func withMemoryStore(c *passauth.Config) { c.Store = passauth.NewMemoryStore() }

// withHasher sets Config.PasswordHasher.
func withHasher(h passauth.PasswordHasher) func(*passauth.Config) {
	return func(c *passauth.Config) { c.PasswordHasher = h }
}

// withCheckRevoked sets Config.CheckRevoked.
func withCheckRevoked(c *passauth.Config) { c.CheckRevoked = true }

// withIssuerAudience sets Config.Issuer and Config.Audience.
func withIssuerAudience(c *passauth.Config) {
	c.Issuer = testIssuerName
	c.Audience = testAudience
}

// at stops the clock at t.
func at(t time.Time) func(*passauth.Config) {
	return func(c *passauth.Config) { c.Now = stoppedAt(t) }
}

// The fixture: an issuer with its clock, users, events and handlers.

// fixture is an issuer on a testClock, its users, what it emitted, and its
// handlers mounted as the demo mounts them.
type fixture struct {
	iss    *passauth.TokenIssuer
	cfg    passauth.Config // what iss was built from
	clock  *testClock
	users  *testUsers
	events *eventRecorder

	token     http.Handler // TokenHandler(users)
	refresh   http.Handler // RefreshHandler(users)
	revoke    http.Handler // RevocationHandler()
	protected http.Handler // Authenticate in front of a 204
}

// newFixture builds a fixture from testConfig with the fixture's clock and
// event recorder, changed by mods (which may replace either).
func newFixture(t testing.TB, mods ...func(*passauth.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: newTestClock(), users: newTestUsers(t), events: &eventRecorder{}}
	base := func(c *passauth.Config) {
		c.Now = f.clock.Now
		c.OnEvent = f.events.record
	}
	f.cfg = testConfig(append([]func(*passauth.Config){base}, mods...)...)
	iss, err := passauth.NewTokenIssuer(f.cfg)
	require.NoError(t, err)
	f.iss = iss
	f.token = iss.TokenHandler(f.users)
	f.refresh = iss.RefreshHandler(f.users)
	f.revoke = iss.RevocationHandler()
	f.protected = iss.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	return f
}

// passwords are the test users' passwords by name.
var passwords = map[string]string{"alice": alicePassword, "bob": bobPassword, "carol": carolPassword}

// login gets a pair from the token endpoint with the password grant for
// user ("alice" or "bob") and more name, value pairs.
func (f *fixture) login(t testing.TB, user string, kv ...string) passauth.TokenPair {
	t.Helper()
	return requirePair(t, do(t, f.token, postForm(append([]string{"username", user, "password", passwords[user]}, kv...)...)))
}

// viaToken refreshes at the token endpoint (grant_type=refresh_token).
func (f *fixture) viaToken(t testing.TB, refresh string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, f.token, postForm("grant_type", "refresh_token", "refresh_token", refresh))
}

// viaRefresh refreshes at the refresh endpoint with a JSON body.
func (f *fixture) viaRefresh(t testing.TB, refresh string) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]string{"refresh_token": refresh})
	require.NoError(t, err)
	return do(t, f.refresh, httpReq{contentType: "application/json", body: string(body)})
}

// authStatus is the status Authenticate answers for an access token.
func (f *fixture) authStatus(t testing.TB, access string) int {
	t.Helper()
	return do(t, f.protected, httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + access}}).Code
}

// sessionID returns the "sid" of a refresh token.
func (f *fixture) sessionID(t testing.TB, refresh string) string {
	t.Helper()
	c, err := f.iss.VerifyRefresh(context.Background(), refresh)
	require.NoError(t, err)
	require.NotEmpty(t, c.SessionID)
	return c.SessionID
}

// refreshEndpoint is one of the two ways to refresh over HTTP and how it
// refuses a token.
type refreshEndpoint struct {
	name    string
	call    func(f *fixture, t testing.TB, refresh string) *httptest.ResponseRecorder
	refused func(t testing.TB, rec *httptest.ResponseRecorder, desc string)
}

var refreshEndpoints = []refreshEndpoint{
	{
		name: "TokenHandler",
		call: (*fixture).viaToken,
		refused: func(t testing.TB, rec *httptest.ResponseRecorder, desc string) {
			t.Helper()
			assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidGrant, desc)
		},
	},
	{
		name: "RefreshHandler",
		call: (*fixture).viaRefresh,
		refused: func(t testing.TB, rec *httptest.ResponseRecorder, desc string) {
			t.Helper()
			assertError(t, rec, http.StatusUnauthorized, passauth.CodeInvalidToken, desc)
			assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
		},
	},
}

// Requests and answers.

// httpReq describes a request to a handler under test.
type httpReq struct {
	method      string   // "" means POST
	target      string   // "" means "/"
	contentType string   // "" means no Content-Type header
	body        string   // "" means no body
	header      []string // name, value pairs, added in order
	remote      string   // RemoteAddr; "" means httptest's 192.0.2.1:1234
}

// form is the content type of an HTML form.
const form = "application/x-www-form-urlencoded"

// postForm is a POST of a form body made of name, value pairs.
func postForm(kv ...string) httpReq {
	return httpReq{contentType: form, body: formBody(kv...)}
}

// formBody encodes name, value pairs; a name may repeat.
func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func (r httpReq) build() *http.Request {
	method, target := r.method, r.target
	if method == "" {
		method = http.MethodPost
	}
	if target == "" {
		target = "/"
	}
	req := httptest.NewRequest(method, target, strings.NewReader(r.body))
	if r.body == "" {
		req.Body = http.NoBody
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	for i := 0; i+1 < len(r.header); i += 2 {
		req.Header.Add(r.header[i], r.header[i+1])
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	return req
}

// withHeader returns r with more header name, value pairs.
func withHeader(r httpReq, kv ...string) httpReq {
	r.header = append(append([]string(nil), r.header...), kv...)
	return r
}

// withMethod returns r with another method.
func withMethod(r httpReq, method string) httpReq {
	r.method = method
	return r
}

// do serves r with h and checks that the response leaks no secret and no
// password.
func do(t testing.TB, h http.Handler, r httpReq) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r.build())
	assertNoLeak(t, rec.Body.Bytes())
	return rec
}

// assertNoLeak fails t, without printing anything secret, when b holds one
// of the secrets, a test password or the failing lookup's error text.
func assertNoLeak(t testing.TB, b []byte) {
	t.Helper()
	if bytes.Contains(b, testAccessSecret) || bytes.Contains(b, testRefreshSecret) {
		t.Error("output contains a token secret")
	}
	for i, pw := range testPasswords {
		if bytes.Contains(b, []byte(pw)) {
			t.Errorf("output contains test password #%d", i)
		}
	}
	if bytes.Contains(b, []byte("hunter2")) || bytes.Contains(b, []byte("10.0.0.7")) {
		t.Error("output contains a failing dependency's error text")
	}
}

// oauthError is the JSON body of an error answer.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// decodeError decodes an error body strictly: the two RFC 6749 §5.2 fields
// and nothing else.
func decodeError(t testing.TB, rec *httptest.ResponseRecorder) oauthError {
	t.Helper()
	var e oauthError
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&e), "error body is not {error, error_description} JSON")
	return e
}

// describe summarises a response for failure messages without showing a
// token: its status and, for an error, its code and description.
func describe(rec *httptest.ResponseRecorder) string {
	var e oauthError
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	return fmt.Sprintf("status %d, error %q, description %q", rec.Code, e.Error, e.Description)
}

// assertTokenHeaders checks the headers of every token endpoint answer
// (RFC 6749 §5.1), and nosniff, which every answer of passauth carries.
func assertTokenHeaders(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

// assertError checks an error answer: status, code, and description unless
// desc is empty.
func assertError(t testing.TB, rec *httptest.ResponseRecorder, status int, code, desc string) {
	t.Helper()
	require.Equal(t, status, rec.Code, describe(rec))
	assertTokenHeaders(t, rec)
	e := decodeError(t, rec)
	assert.Equal(t, code, e.Error)
	if desc != "" {
		assert.Equal(t, desc, e.Description)
	}
	assert.NotEmpty(t, e.Description)
}

// requirePair checks a successful token answer and returns its pair.
func requirePair(t testing.TB, rec *httptest.ResponseRecorder) passauth.TokenPair {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	assertTokenHeaders(t, rec)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	n, err := strconv.ParseInt(string(raw["expires_in"]), 10, 64)
	require.NoError(t, err, "expires_in is not a JSON integer")
	assert.Equal(t, int64(testAccessTTL/time.Second), n)

	var pair passauth.TokenPair
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&pair))
	assert.Equal(t, "bearer", pair.TokenType)
	require.NotEmpty(t, pair.AccessToken)
	require.NotEmpty(t, pair.RefreshToken)
	return pair
}

// basic is an Authorization: Basic value, the credentials form-encoded first
// as RFC 6749 §2.3.1 asks.
func basic(id, secret string) string {
	return "Basic " + b64(url.QueryEscape(id)+":"+url.QueryEscape(secret))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// Events.

// eventRecorder records the events of an issuer, as Config.OnEvent.
type eventRecorder struct {
	mu     sync.Mutex
	events []passauth.Event
}

func (r *eventRecorder) record(_ context.Context, e passauth.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// take returns the events recorded since the last call.
func (r *eventRecorder) take() []passauth.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// of returns the recorded events of kind k.
func (r *eventRecorder) of(k passauth.EventKind) []passauth.Event {
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

// assertNoTokens fails t when any recorded event holds a token (every JWT
// starts with "eyJ", the base64url of `{"`), one of tokens, a secret or a
// password.
func (r *eventRecorder) assertNoTokens(t testing.TB, tokens ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		for _, field := range []string{e.Subject, e.SessionID, e.ClientID, e.Addr, e.Reason} {
			leak := strings.Contains(field, "eyJ")
			for _, tok := range tokens {
				leak = leak || (tok != "" && strings.Contains(field, tok))
			}
			if leak {
				t.Errorf("event #%d (%s) carries a token", i, e.Kind)
			}
			assertNoLeak(t, []byte(field))
		}
	}
}

// A store that fails.

// errStoreDown is what a flakyStore says while down; assertNoLeak (through
// do) checks that no answer repeats it.
var errStoreDown = errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")

// flakyStore is a MemoryStore that can be taken down, when every method
// fails with errStoreDown, and told to answer the creation of families
// with create.
type flakyStore struct {
	inner  *passauth.MemoryStore
	down   atomic.Bool
	create passauth.RotateResult // when set, Rotate with oldID == "" answers it
}

func newFlakyStore() *flakyStore { return &flakyStore{inner: passauth.NewMemoryStore()} }

// downStore returns a flakyStore that is down from the start.
func downStore() *flakyStore {
	s := newFlakyStore()
	s.down.Store(true)
	return s
}

func (s *flakyStore) Rotate(ctx context.Context, r passauth.Rotation) (passauth.Rotated, error) {
	if s.down.Load() {
		return passauth.Rotated{}, errStoreDown
	}
	if r.OldID == "" && s.create != 0 {
		return passauth.Rotated{Result: s.create}, nil
	}
	return s.inner.Rotate(ctx, r)
}

func (s *flakyStore) RevokeSession(ctx context.Context, d passauth.Denial) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.inner.RevokeSession(ctx, d)
}

func (s *flakyStore) Deny(ctx context.Context, d passauth.Denial) error {
	if s.down.Load() {
		return errStoreDown
	}
	return s.inner.Deny(ctx, d)
}

func (s *flakyStore) Denied(ctx context.Context, q passauth.DenyQuery) (time.Time, bool, error) {
	if s.down.Load() {
		return time.Time{}, false, errStoreDown
	}
	return s.inner.Denied(ctx, q)
}

// Hand-made tokens, for the verification tests.

// mintToken signs a token by hand with golang-jwt. It starts from the header
// and claims of a valid access token issued at testEpoch and applies the
// overrides: a nil value deletes the entry.
func mintToken(tb testing.TB, method jwt.SigningMethod, key any, header, claims map[string]any) string {
	tb.Helper()
	mc := jwt.MapClaims{
		"sub": "alice",
		"jti": "token-test-jti",
		"iat": testEpoch.Unix(),
		"exp": testEpoch.Add(testAccessTTL).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(mc, k)
		} else {
			mc[k] = v
		}
	}
	tok := jwt.NewWithClaims(method, mc)
	tok.Header["typ"] = passauth.AccessTokenType
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	require.NoError(tb, err)
	return s
}

// mintHS256 mints an HS256 token signed with the access secret.
func mintHS256(tb testing.TB, header, claims map[string]any) string {
	tb.Helper()
	return mintToken(tb, jwt.SigningMethodHS256, testAccessSecret, header, claims)
}

// rawToken builds an HS256 token from already encoded header and payload
// segments, signing exactly those bytes with secret.
func rawToken(headerSeg, payloadSeg string, secret []byte) string {
	input := headerSeg + "." + payloadSeg
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// segment base64url-encodes a JSON value as a JWT segment.
func segment(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	require.NoError(tb, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// nonCanonical flips the lowest bit of the last character of seg, one of
// the unused padding bits when len(seg)%4 != 0: lenient base64 decodes the
// result to the same bytes, strict base64 rejects it.
func nonCanonical(tb testing.TB, seg string) string {
	tb.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	require.NotZero(tb, len(seg)%4, "segment has no padding bits")
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	require.GreaterOrEqual(tb, last, 0)
	out := seg[:len(seg)-1] + string(alphabet[last^1])
	a, errA := base64.RawURLEncoding.DecodeString(seg)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	require.NoError(tb, errA)
	require.NoError(tb, errB)
	require.Equal(tb, a, b, "lenient decoding must not see the change")
	_, err := base64.RawURLEncoding.Strict().DecodeString(out)
	require.Error(tb, err, "strict decoding must see the change")
	return out
}

// nonCanonicalPayload returns a correctly signed access token whose payload
// segment is non-canonical base64.
func nonCanonicalPayload(tb testing.TB) string {
	tb.Helper()
	payload := map[string]any{
		"sub": "alice",
		"jti": "token-test-jti",
		"iat": testEpoch.Unix(),
		"exp": testEpoch.Add(testAccessTTL).Unix(),
	}
	b, err := json.Marshal(payload)
	require.NoError(tb, err)
	if len(b)%3 == 0 {
		b = append(b, ' ') // JSON allows trailing white space
	}
	seg := nonCanonical(tb, base64.RawURLEncoding.EncodeToString(b))
	header := segment(tb, map[string]string{"alg": "HS256", "typ": passauth.AccessTokenType})
	return rawToken(header, seg, testAccessSecret)
}

// rsaKey and ecKey are generated once per test binary.
var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// Sessions implements passauth.SessionLister.
func (s *flakyStore) Sessions(ctx context.Context, subject string) ([]passauth.SessionInfo, error) {
	if s.down.Load() {
		return nil, errStoreDown
	}
	return s.inner.Sessions(ctx, subject)
}
