package passauth_test

// Sessions in a Store beyond rotation and revocation: starting one, at a
// login or with IssuePair, and what one refresh costs.

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestSessionStartRefusedByStore checks that a login and IssuePair fail
// closed when the Store cannot record the new session: it is down, or it
// answers the creation of a family with anything but RotateOK.
func TestSessionStartRefusedByStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		store func() *flakyStore
	}{
		{"down", downStore},
		{passauth.RotateRevoked.String(), func() *flakyStore {
			s := newFlakyStore()
			s.create = passauth.RotateRevoked
			return s
		}},
		{passauth.RotateReused.String(), func() *flakyStore {
			s := newFlakyStore()
			s.create = passauth.RotateReused
			return s
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withStore(tc.store()))
			rec := do(t, f.token, postForm("username", "alice", "password", alicePassword))
			assertError(t, rec, http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
			assert.Empty(t, f.events.of(passauth.EventLoginSucceeded))

			_, err := f.iss.IssuePair(context.Background(), "alice")
			require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
			assert.NotErrorIs(t, err, passauth.ErrTokenInvalid)
			if tc.name == "down" {
				require.ErrorIs(t, err, errStoreDown, "the store's error stays in the chain for the application's logs")
			}
		})
	}
}

// BenchmarkRefresh measures one refresh: verify the refresh token, issue the
// next pair and, with a store, check the denylist and rotate atomically.
// Compare the sub-benchmarks in one run; the Redis store's figure is the
// redisstore module's BenchmarkRefreshRedis.
func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name string
		mods []func(*passauth.Config)
	}{
		{"stateless", nil},
		{"memory", []func(*passauth.Config){withMemoryStore}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			iss := newIssuer(b, bc.mods...)
			ctx := context.Background()
			pair, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me items"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				// With a store the presented token is consumed: go on with
				// the new one (stateless, reusing one token would do too).
				if pair, err = iss.Refresh(ctx, pair.RefreshToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
