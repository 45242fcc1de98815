package passauth_test

// The password grant's checks, seen from the token endpoint: what a failed
// login tells the client. Throttling, hashing slots, timing and rehashing
// each have their own login_*_test.go.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
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
