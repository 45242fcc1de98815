//go:build unix

package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// TestDataLoss checks what the package documentation says happens when
// Redis loses its data (FLUSHALL, or a restart without persistence):
// refreshing fails closed (every session ends: users log in again), while
// revoked access tokens are accepted again until they expire and throttled
// user names get their whole budget back (those fail open). With AOF and
// appendfsync always, a crash (SIGKILL) loses nothing.
func TestDataLoss(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte(e2ePassword), bcrypt.MinCost)
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		return passauth.User{Username: name, PasswordHash: string(hash)}, true, nil
	})
	cases := []struct {
		name string
		args []string
		lose func(t *testing.T, srv *redisServer)
		lost bool
	}{
		{"FLUSHALL", nil, func(t *testing.T, srv *redisServer) {
			require.NoError(t, srv.client().FlushAll(t.Context()).Err())
		}, true},
		{"restart without persistence", nil, func(t *testing.T, srv *redisServer) { srv.restart() }, true},
		{"crash with AOF, appendfsync always", []string{"--appendonly", "yes", "--appendfsync", "always"},
			func(t *testing.T, srv *redisServer) { srv.restart() }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t, tc.args...)
			c := redis.NewClient(recommendedOptions(srv.addr))
			t.Cleanup(func() { _ = c.Close() })
			cfg := testConfig()
			cfg.Store = redisstore.New(c)
			cfg.CheckRevoked = true
			cfg.UserLimiter = redisstore.NewLimiter(c, passauth.Limit{Burst: 2, Interval: time.Hour})
			iss, err := passauth.NewTokenIssuer(cfg)
			require.NoError(t, err)
			token := iss.TokenHandler(users)
			me := iss.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			serve := func(h http.Handler, r *http.Request) int {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				return rec.Code
			}

			alice, err := iss.IssuePair(t.Context(), "alice") // a live session
			require.NoError(t, err)
			bob, err := iss.IssuePair(t.Context(), "bob") // logged out
			require.NoError(t, err)
			require.NoError(t, iss.Revoke(t.Context(), bob.AccessToken))
			require.NoError(t, iss.Revoke(t.Context(), bob.RefreshToken))
			carol, err := iss.IssuePair(t.Context(), "carol") // every session ended
			require.NoError(t, err)
			require.NoError(t, iss.RevokeSubject(t.Context(), "carol"))
			for range 2 {
				require.Equal(t, http.StatusBadRequest, serve(token, loginRequest("mallory", "a guess")))
			}
			require.Equal(t, http.StatusTooManyRequests, serve(token, loginRequest("mallory", "a guess")), "before the loss")

			tc.lose(t, srv)

			wantRevoked, wantThrottled, wantRefresh := http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusOK
			if tc.lost {
				wantRevoked, wantThrottled, wantRefresh = http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized
			}
			assert.Equal(t, wantRefresh, serve(iss.RefreshHandler(users), jsonRequest("/refresh", `{"refresh_token":"`+alice.RefreshToken+`"}`)),
				"refresh of a live session")
			assert.Equal(t, http.StatusUnauthorized, serve(iss.RefreshHandler(users), jsonRequest("/refresh", `{"refresh_token":"`+bob.RefreshToken+`"}`)),
				"refresh of a logged-out session")
			assert.Equal(t, wantRevoked, serve(me, bearerRequest("/me", bob.AccessToken)), "access token revoked by logout")
			assert.Equal(t, wantRevoked, serve(me, bearerRequest("/me", carol.AccessToken)), "access token of a subject revoked")
			assert.Equal(t, http.StatusOK, serve(me, bearerRequest("/me", alice.AccessToken)), "live access token")
			assert.Equal(t, wantThrottled, serve(token, loginRequest("mallory", "another guess")), "throttled user name")
		})
	}
}
