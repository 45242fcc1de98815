package passauth_test

// The password grant's checks, seen from the token endpoint: what a failed
// login tells the client. Throttling, hashing slots, timing and rehashing
// each have their own login_*_test.go.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// A wrong password, an unknown user and a disabled user get the same answer,
// byte for byte, so that it tells nothing about which names exist.
func TestLoginFailuresIndistinguishable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	reqs := map[string]httpReq{
		"wrong password": postForm("username", "alice", "password", "wrong pass!word"),
		"unknown user":   postForm("username", "mallory", "password", "wrong pass!word"),
		"disabled user":  postForm("username", "carol", "password", carolPassword),
	}
	want := do(t, f.token, reqs["wrong password"])
	assertError(t, want, http.StatusBadRequest, "invalid_grant", "Incorrect username or password")
	for name, r := range reqs {
		got := do(t, f.token, r)
		assert.Equal(t, want.Code, got.Code, name)
		assert.Equal(t, want.Body.Bytes(), got.Body.Bytes(), name)
		assert.Equal(t, want.Header(), got.Header(), name)
	}
}

// A lookup that fails is a 500 that does not repeat the lookup's error.
func TestLoginLookupErrorNotShown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := do(t, f.token, postForm("username", failingUser, "password", alicePassword))
	assertError(t, rec, http.StatusInternalServerError, "server_error", "")
	assert.NotContains(t, rec.Body.String(), "dial tcp")
	assert.NotContains(t, rec.Body.String(), "authentication failed")
}

// TestLoginFailuresCostOneCheck checks that every failed login costs one
// full password check, however early the check of the stored hash could
// stop: an unknown user (the dummy hash), a wrong password, a disabled
// account, an account with no hash or one no policy reads (SSO-only or
// invited users), and a password over bcrypt's 72 bytes against a bcrypt
// hash. Without that, one request would tell such accounts from unknown
// names by its answer time. The policy here counts the checks that do the
// work, and mimics bcrypt's refusals.
func TestLoginFailuresCostOneCheck(t *testing.T) {
	t.Parallel()
	h := &workHasher{}
	hash, err := h.Hash(alicePassword)
	require.NoError(t, err)
	f := newFixture(t, withHasher(h))
	for name, u := range map[string]passauth.User{
		"alice": {Username: "alice", PasswordHash: hash},
		"carol": {Username: "carol", PasswordHash: hash, Disabled: true},
		"sso":   {Username: "sso"},
		"bad":   {Username: "bad", PasswordHash: "$2a$12$not-a-real-hash"},
	} {
		f.users.update(name, func(v *passauth.User) { *v = u })
	}
	tests := []struct {
		name, user, password, reason string
	}{
		{"unknown user", "mallory", alicePassword, "unknown_user"},
		{"wrong password", "alice", "wrong", "bad_password"},
		{"disabled, right password", "carol", alicePassword, "disabled"},
		{"no hash", "sso", alicePassword, "unusable_hash"},
		{"unreadable hash", "bad", alicePassword, "unusable_hash"},
		{"password over 72 bytes", "alice", alicePassword + strings.Repeat("x", 72), "bad_password"},
		{"unknown user, password over 72 bytes", "mallory", strings.Repeat("x", 100), "unknown_user"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.work.Load()
			assertError(t, do(t, f.token, postForm("username", tc.user, "password", tc.password)),
				http.StatusBadRequest, passauth.CodeInvalidGrant, "Incorrect username or password")
			assert.Equal(t, int64(1), h.work.Load()-before, "full checks for one failed login")
			failed := f.events.take()
			require.Len(t, failed, 1)
			assert.Equal(t, tc.reason, failed[0].Reason)
		})
	}
}

// workHasher is a password policy that counts the checks that do their
// work, and, as bcrypt does, refuses a hash of another form or a password
// over 72 bytes at once, without any work.
type workHasher struct{ work atomic.Int64 }

func (h *workHasher) Hash(password string) (string, error) { return "work:" + password, nil }

func (h *workHasher) Check(hash, password string) error {
	stored, ok := strings.CutPrefix(hash, "work:")
	switch {
	case !ok:
		return passauth.ErrInvalidHash
	case len(password) > passauth.MaxBcryptPasswordLen:
		return passauth.ErrPasswordTooLong
	}
	h.work.Add(1)
	if stored != password {
		return passauth.ErrPasswordMismatch
	}
	return nil
}

func (h *workHasher) NeedsRehash(string) bool { return false }

// TestLoginUsernameChecks checks the user names that could never be a
// user's, refused 400 invalid_request before any limiter, lookup or
// hashing: not UTF-8, a character outside RFC 6749 Appendix A.3's
// UNICODECHARNOCRLF, or over 256 bytes. Those at the edge are looked up
// like any name.
func TestLoginUsernameChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, username, desc string // desc "" means looked up: invalid_grant for an unknown name
	}{
		{"CR", "alice\r", "username holds a control character"},
		{"LF", "alice\nroot", "username holds a control character"},
		{"NUL", "alice\x00", "username holds a control character"},
		{"ESC", "\x1b[31malice", "username holds a control character"},
		{"DEL", "alice\x7f", "username holds a control character"},
		{"U+FFFE", "alice\ufffe", "username holds a control character"},
		{"U+FFFF", "alice\uffff", "username holds a control character"},
		{"not UTF-8", "alice\xff", "username is not valid UTF-8"},
		{"257 bytes", strings.Repeat("a", 257), "username longer than 256 bytes"},
		{"129 two-byte characters", strings.Repeat("é", 129), "username longer than 256 bytes"},
		{"tab", "alice\tsmith", ""},
		{"C1 control, allowed by the grammar", "alice\u0085", ""},
		{"256 bytes", strings.Repeat("a", 256), ""},
		{"128 two-byte characters", strings.Repeat("é", 128), ""},
		{"U+FFFD", "alice\ufffd", ""},
		{"a plane-1 character", "alice\U0001F600", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rec := do(t, f.token, postForm("username", tc.username, "password", alicePassword))
			if tc.desc != "" {
				assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidRequest, tc.desc)
				assert.Empty(t, f.events.take(), "the name went further than the checks")
				return
			}
			assertError(t, rec, http.StatusBadRequest, passauth.CodeInvalidGrant, "Incorrect username or password")
			failed := f.events.of(passauth.EventLoginFailed)
			require.Len(t, failed, 1)
			assert.Equal(t, "unknown_user", failed[0].Reason)
		})
	}
}

// BenchmarkLoginBeforeLimiter measures what an unauthenticated request to
// the token endpoint costs before a limiter refuses it, for a normal login
// and for the worst bodies a client can send within the default 16 KiB
// limit: what the server spends on a flood of throttled or malformed
// logins. Compare the worst cases with "normal" in one run.
func BenchmarkLoginBeforeLimiter(b *testing.B) {
	const limit = passauth.DefaultMaxBodyBytes
	distinct := func(prefix string, n int) string {
		var sb strings.Builder
		for i := 0; sb.Len() < n; i++ {
			fmt.Fprintf(&sb, "%s%d ", prefix, i)
		}
		return sb.String()[:n]
	}
	fill := func(kv ...string) string { // pads the body to the limit with an ignored parameter
		body := formBody(kv...)
		return body + "&pad=" + strings.Repeat("x", limit-len(body)-len("&pad="))
	}
	bodies := []struct{ name, body string }{
		{"normal", formBody("username", "alice", "password", alicePassword, "scope", "me items")},
		{"16KiB scope of distinct tokens", formBody("username", "alice", "password", alicePassword, "scope", distinct("s", (limit-80)*3/5))},
		{"16KiB scope of one token", formBody("username", "alice", "password", alicePassword, "scope", strings.Repeat("me ", (limit-80)/5))},
		{"16KiB username", formBody("username", strings.Repeat("Ǳ", (limit-60)/6), "password", alicePassword)},
		{"16KiB password", formBody("username", "alice", "password", strings.Repeat("p", limit-60))},
		{"16KiB client_id", formBody("username", "alice", "password", alicePassword, "client_id", strings.Repeat("c", limit-60))},
		{"16KiB of parameters", strings.Repeat("a=&", (limit-60)/3) + formBody("username", "alice", "password", alicePassword)},
		{"16KiB percent-encoded", "username=alice&password=" + strings.Repeat("%41", (limit-40)/3)},
		{"padded to the limit", fill("username", "alice", "password", alicePassword)},
	}
	throttle := &alwaysThrottled{}
	iss := newIssuer(b, func(c *passauth.Config) {
		c.MaxBodyBytes = limit
		c.UserLimiter, c.AddrLimiter = throttle, throttle
	})
	h := iss.TokenHandler(newTestUsers(b))
	for _, bb := range bodies {
		require.LessOrEqual(b, len(bb.body), limit, bb.name)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(bb.body))
				r.Header.Set("Content-Type", form)
				clear(w.h)
				h.ServeHTTP(w, r)
			}
		})
	}
}

// alwaysThrottled is a Limiter that refuses every attempt.
type alwaysThrottled struct{}

func (alwaysThrottled) Allow(context.Context, string) (time.Duration, error) { return time.Minute, nil }
func (alwaysThrottled) Forgive(context.Context, string) error                { return nil }
