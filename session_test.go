package passauth_test

// Sessions beyond rotation and revocation: starting one, at a login or with
// IssuePair, what a refresh carries over, and what one refresh costs.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
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
// TestRefreshKeepsClaimsExactly checks that a refresh copies application
// claims byte for byte (RFC 7519 §4.3): integers beyond 2^53, which a
// float64 cannot hold, nested objects and escaped strings come back as the
// token first carried them, through every way to refresh and through two
// generations.
func TestRefreshKeepsClaimsExactly(t *testing.T) {
	t.Parallel()
	claims := map[string]any{
		"uid":    uint64(18446744073709551615), // 2^64-1
		"tenant": int64(9007199254740993),      // 2^53+1
		"org":    json.RawMessage(`{"id":12345678901234567891,"tags":["a","b"]}`),
		"name":   "J\u00f6rg \"the <admin>\"",
		"ratio":  json.RawMessage(`0.1000000000000000055511151231257827`),
	}
	for _, way := range []struct {
		name    string
		refresh func(f *fixture, token string) passauth.TokenPair
	}{
		{"Refresh", func(f *fixture, token string) passauth.TokenPair {
			p, err := f.iss.Refresh(context.Background(), token)
			require.NoError(t, err)
			return p
		}},
		{"TokenHandler", func(f *fixture, token string) passauth.TokenPair { return requirePair(t, f.viaToken(t, token)) }},
		{"RefreshHandler", func(f *fixture, token string) passauth.TokenPair { return requirePair(t, f.viaRefresh(t, token)) }},
	} {
		t.Run(way.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore)
			first, err := f.iss.IssuePair(context.Background(), "alice", passauth.WithClaims(claims))
			require.NoError(t, err)
			want := rawClaims(t, first.AccessToken)
			second := way.refresh(f, first.RefreshToken)
			third := way.refresh(f, second.RefreshToken)
			for _, tok := range []string{first.RefreshToken, second.AccessToken, second.RefreshToken, third.AccessToken, third.RefreshToken} {
				got := rawClaims(t, tok)
				for name := range claims {
					assert.Equal(t, string(want[name]), string(got[name]), "claim %q", name)
				}
			}
			var typed struct {
				UID    uint64 `json:"uid"`
				Tenant int64  `json:"tenant"`
			}
			c, err := f.iss.VerifyAccess(context.Background(), third.AccessToken)
			require.NoError(t, err)
			require.NoError(t, c.Decode(&typed))
			assert.Equal(t, uint64(18446744073709551615), typed.UID)
			assert.Equal(t, int64(9007199254740993), typed.Tenant)
		})
	}
}

// rawClaims returns the members of a token's claims set as raw JSON.
func rawClaims(t *testing.T, token string) map[string]json.RawMessage {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

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
