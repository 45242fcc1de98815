package passauth_test

// The fixture of the HTTP tests (handlers_test.go, middleware_test.go,
// oauth2form_test.go, fuzz_http_test.go): an issuer on an injected clock,
// users behind a UserLookupFunc, and helpers that build requests and check
// answers without ever printing a token, a secret or a password.

import (
	"bytes"
	"context"
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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// The secrets and passwords of the HTTP tests contain spaces and "!", which
// never appear in a token response or a fixed error text, so a response
// that contains one has leaked it.
var (
	httpAccessSecret  = []byte("http tests: the access secret, 32+ bytes!")
	httpRefreshSecret = []byte("http tests: the refresh secret, 32+ bytes")
)

const (
	alicePassword = "alice pass!word" // holds scopes "me" and "items"
	bobPassword   = "bob pass!word"   // holds no scope
	carolPassword = "carol pass!word" // disabled
	failingUser   = "db-down"         // the lookup fails for this name
	lookupFailure = "dial tcp 10.0.0.7:5432: password authentication failed for hunter2"

	httpAccessTTL  = 15 * time.Minute
	httpRefreshTTL = 24 * time.Hour
	httpMaxBody    = 1024
)

// httpEpoch is the time a fixture's clock starts at.
var httpEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var httpPasswords = []string{alicePassword, bobPassword, carolPassword}

// httpHashes hashes the test passwords once, at the lowest bcrypt cost.
var httpHashes = sync.OnceValues(func() (map[string]string, error) {
	hashes := make(map[string]string)
	for _, pw := range httpPasswords {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		hashes[pw] = string(h)
	}
	return hashes, nil
})

// httpClock is the injected clock of a fixture.
type httpClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *httpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *httpClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// httpUsers is a user store over a map. Names are matched case-insensitively
// and alice's canonical name is returned in User.Username; bob's is left
// empty, meaning the name he logged in with.
type httpUsers struct {
	mu    sync.Mutex
	users map[string]passauth.User
}

func newHTTPUsers(t testing.TB) *httpUsers {
	hashes, err := httpHashes()
	require.NoError(t, err)
	return &httpUsers{users: map[string]passauth.User{
		"alice": {Username: "alice", PasswordHash: hashes[alicePassword], Scopes: []string{"me", "items"}},
		"bob":   {PasswordHash: hashes[bobPassword]},
		"carol": {Username: "carol", PasswordHash: hashes[carolPassword], Disabled: true},
	}}
}

// lookup returns the store as a passauth.UserLookup. When failing is set,
// looking up failingUser fails.
func (s *httpUsers) lookup(failing bool) passauth.UserLookup {
	return passauth.UserLookupFunc(func(ctx context.Context, name string) (passauth.User, bool, error) {
		if failing && name == failingUser {
			return passauth.User{}, false, errors.New(lookupFailure)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		u, ok := s.users[strings.ToLower(name)]
		return u, ok, nil
	})
}

func (s *httpUsers) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, name)
}

func (s *httpUsers) disable(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[name]
	u.Disabled = true
	s.users[name] = u
}

// httpFixture is an issuer with its clock, users and handlers.
type httpFixture struct {
	iss     *passauth.TokenIssuer
	clock   *httpClock
	users   *httpUsers
	token   http.Handler // TokenHandler over users
	refresh http.Handler // RefreshHandler over users
}

func newHTTPFixture(t testing.TB) *httpFixture {
	t.Helper()
	clock := &httpClock{now: httpEpoch}
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:   httpAccessSecret,
		RefreshSecret:  httpRefreshSecret,
		AccessTTL:      httpAccessTTL,
		RefreshTTL:     httpRefreshTTL,
		PasswordHasher: passauth.Bcrypt{Cost: bcrypt.MinCost},
		MaxBodyBytes:   httpMaxBody,
		Now:            clock.Now,
	})
	require.NoError(t, err)
	users := newHTTPUsers(t)
	return &httpFixture{
		iss:     iss,
		clock:   clock,
		users:   users,
		token:   iss.TokenHandler(users.lookup(true)),
		refresh: iss.RefreshHandler(users.lookup(true)),
	}
}

// httpReq describes a request to a handler under test.
type httpReq struct {
	method      string   // "" means POST
	target      string   // "" means "/"
	contentType string   // "" means no Content-Type header
	body        string   // "" means no body
	header      []string // name, value pairs, added in order
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
	return req
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

// assertNoLeak fails t, without printing anything secret, when body holds
// one of the secrets, a test password or the failing lookup's error text.
func assertNoLeak(t testing.TB, body []byte) {
	t.Helper()
	if bytes.Contains(body, httpAccessSecret) || bytes.Contains(body, httpRefreshSecret) {
		t.Error("response body contains a token secret")
	}
	for i, pw := range httpPasswords {
		if bytes.Contains(body, []byte(pw)) {
			t.Errorf("response body contains test password #%d", i)
		}
	}
	if bytes.Contains(body, []byte("hunter2")) || bytes.Contains(body, []byte("10.0.0.7")) {
		t.Error("response body contains the lookup's error text")
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
// (RFC 6749 §5.1).
func assertTokenHeaders(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no-cache", rec.Header().Get("Pragma"))
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
	assert.Equal(t, int64(httpAccessTTL/time.Second), n)

	var pair passauth.TokenPair
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&pair))
	assert.Equal(t, "bearer", pair.TokenType)
	require.NotEmpty(t, pair.AccessToken)
	require.NotEmpty(t, pair.RefreshToken)
	return pair
}

// login gets a pair from the token endpoint with the password grant.
func (f *httpFixture) login(t testing.TB, kv ...string) passauth.TokenPair {
	t.Helper()
	return requirePair(t, do(t, f.token, postForm(kv...)))
}

// basic is an Authorization: Basic value, the credentials form-encoded first
// as RFC 6749 §2.3.1 asks.
func basic(id, secret string) string {
	return "Basic " + b64(url.QueryEscape(id)+":"+url.QueryEscape(secret))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

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
