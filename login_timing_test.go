package passauth_test

// User enumeration by timing: an unknown user name, a wrong password, a
// disabled account, an account without a usable hash and a password over
// bcrypt's limit must cost the server about the same, because the checks
// that stop early are followed by one against a dummy hash at the policy's
// parameters. Without the dummy check those answers would come about a
// hundred times sooner.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// timingTries is the number of timed logins of each kind. An odd number
// gives a true median.
const timingTries = 31

func TestLoginTimingDoesNotEnumerateUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("timing measurement; skipped with -short")
	}
	// Not parallel: other tests' CPU use would add noise. Medians of
	// interleaved tries take out most of what noise is left.

	// A cheap Argon2id: a check takes a few milliseconds, a hundred times
	// what the rest of a login costs, and argon2's assembly core runs at the
	// same speed under the race detector.
	hasher := passauth.Argon2id{Memory: 4096, Time: 1}
	hash, err := hasher.Hash(alicePassword)
	require.NoError(t, err)
	hashes, err := testHashes() // bcrypt, at the lowest cost
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		switch name {
		case "alice":
			return passauth.User{PasswordHash: hash}, true, nil
		case "carol":
			return passauth.User{PasswordHash: hash, Disabled: true}, true, nil
		case "sso": // an account without a password
			return passauth.User{}, true, nil
		case "broken":
			return passauth.User{PasswordHash: "$argon2id$v=19$m=4096,t=1,p=1$bm90$YQ"}, true, nil
		case "legacy":
			return passauth.User{PasswordHash: hashes[bobPassword]}, true, nil
		}
		return passauth.User{}, false, nil
	})
	// Limits no test run reaches, so that no login is throttled.
	generous := passauth.Limit{Burst: 10 * timingTries, Interval: time.Millisecond}
	token := newIssuer(t, withHasher(hasher), func(c *passauth.Config) {
		c.MaxConcurrentHashes = 1
		c.UserLimiter = passauth.NewMemoryLimiter(generous)
		c.AddrLimiter = passauth.NewMemoryLimiter(generous)
	}).TokenHandler(users)

	kinds := []struct {
		name               string
		username, password string
	}{
		{"wrong password", "alice", "wrong pass!word"},
		{"unknown user", "mallory", alicePassword},
		{"disabled user, right password", "carol", alicePassword},
		{"user without a hash", "sso", alicePassword},
		{"user with an unreadable hash", "broken", alicePassword},
		{"bcrypt user, password over 72 bytes", "legacy", bobPassword + strings.Repeat("x", 72)},
	}
	login := func(i int) (time.Duration, []byte) {
		req := postForm("username", kinds[i].username, "password", kinds[i].password).build()
		rec := httptest.NewRecorder()
		start := time.Now()
		token.ServeHTTP(rec, req)
		d := time.Since(start)
		assertNoLeak(t, rec.Body.Bytes())
		require.Equal(t, http.StatusBadRequest, rec.Code, "%s: %s", kinds[i].name, describe(rec))
		return d, rec.Body.Bytes()
	}

	// One untimed round first: the first login makes the dummy hash.
	var bodies [][]byte
	for i := range kinds {
		_, body := login(i)
		bodies = append(bodies, body)
	}
	for i := range kinds {
		assert.Equal(t, string(bodies[0]), string(bodies[i]), "body of %q differs from %q", kinds[i].name, kinds[0].name)
	}

	// Interleaved, each round in a rotated order, so that a slow spell of
	// the machine falls on every kind alike.
	times := make([][]time.Duration, len(kinds))
	for round := range timingTries {
		for j := range kinds {
			i := (round + j) % len(kinds)
			d, body := login(i)
			times[i] = append(times[i], d)
			assert.Equal(t, string(bodies[0]), string(body), "body of %q differs", kinds[i].name)
		}
	}

	medians := make([]time.Duration, len(kinds))
	for i := range kinds {
		slices.Sort(times[i])
		medians[i] = times[i][len(times[i])/2]
		t.Logf("%-30s median %v (min %v, max %v)", kinds[i].name, medians[i], times[i][0], times[i][len(times[i])-1])
	}
	for i := 1; i < len(kinds); i++ {
		ratio := float64(medians[i]) / float64(medians[0])
		assert.True(t, ratio >= 0.5 && ratio <= 2.0,
			"median time of %q is %.2f× that of %q, outside [0.5, 2]", kinds[i].name, ratio, kinds[0].name)
	}
}
