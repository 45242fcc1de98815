package redisstore_test

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// replica is one instance of a service: its own issuer, Redis client and
// HTTP server, sharing secrets and the Redis records with the other
// instances.
type replica struct {
	name string
	iss  *passauth.TokenIssuer
	srv  *httptest.Server

	mu     sync.Mutex
	events []passauth.Event
}

const e2ePassword = "correct horse battery staple"

// newReplicas starts n instances of one service sharing a Redis store, with
// Config.CheckRevoked on and the configuration changed by edit, if any.
// Every user name logs in with e2ePassword.
func newReplicas(t *testing.T, n int, edit ...func(*passauth.Config)) []*replica {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(e2ePassword), bcrypt.MinCost)
	require.NoError(t, err)
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		return passauth.User{Username: name, PasswordHash: string(hash)}, true, nil
	})
	prefix := newPrefix(t, newClient(t))

	replicas := make([]*replica, n)
	for i := range replicas {
		r := &replica{name: string(rune('A' + i))}
		cfg := testConfig()
		cfg.Store = redisstore.New(newClient(t), redisstore.WithPrefix(prefix))
		cfg.CheckRevoked = true
		for _, e := range edit {
			e(&cfg)
		}
		cfg.OnEvent = func(_ context.Context, e passauth.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.events = append(r.events, e)
		}
		iss, err := passauth.NewTokenIssuer(cfg)
		require.NoError(t, err)
		r.iss = iss

		mux := http.NewServeMux()
		mux.Handle("/token", iss.TokenHandler(users))
		mux.Handle("/refresh", iss.RefreshHandler(users))
		mux.Handle("/revoke", iss.RevocationHandler())
		mux.Handle("/me", iss.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			c, _ := passauth.ClaimsFromContext(req.Context())
			_, _ = io.WriteString(w, c.Subject)
		})))
		r.srv = httptest.NewServer(mux)
		t.Cleanup(r.srv.Close)
		replicas[i] = r
	}
	return replicas
}

// login logs user in and returns the pair.
func (r *replica) login(t *testing.T, user string) passauth.TokenPair {
	t.Helper()
	code, body := r.post(t, "/token", "application/x-www-form-urlencoded",
		url.Values{"username": {user}, "password": {e2ePassword}}.Encode())
	require.Equal(t, http.StatusOK, code, "login on %s", r.name)
	return decodePair(t, body)
}

// refresh presents a refresh token to the seed-style refresh endpoint.
func (r *replica) refresh(t *testing.T, token string) (int, string) {
	t.Helper()
	return r.post(t, "/refresh", "application/json", `{"refresh_token":"`+token+`"}`)
}

// refreshGrant presents a refresh token to the token endpoint (RFC 6749 §6).
func (r *replica) refreshGrant(t *testing.T, token string) (int, string) {
	t.Helper()
	return r.post(t, "/token", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}.Encode())
}

// revoke calls the RFC 7009 endpoint.
func (r *replica) revoke(t *testing.T, token string) int {
	t.Helper()
	code, _ := r.post(t, "/revoke", "application/x-www-form-urlencoded", url.Values{"token": {token}}.Encode())
	return code
}

// me calls the protected endpoint with an access token.
func (r *replica) me(t *testing.T, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.srv.URL+"/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (r *replica) post(t *testing.T, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := r.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// sawReuse reports whether the replica emitted a reuse event for user.
func (r *replica) sawReuse(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Kind == passauth.EventRefreshReuse && e.Subject == user {
			return true
		}
	}
	return false
}

// refreshAtOnce sends token to the refresh endpoints of rs, n times at
// once, in turn across the replicas, and returns each answer's status and
// body.
func refreshAtOnce(t *testing.T, rs []*replica, token string, n int) (codes []int, bodies []string) {
	codes, bodies = make([]int, n), make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			codes[i], bodies[i] = rs[i%len(rs)].refresh(t, token)
		})
	}
	close(start)
	wg.Wait()
	return codes, bodies
}

// TestTwoServers runs two instances of a service against one Redis and
// checks that rotation, reuse detection and revocation made on one hold on
// the other.
func TestTwoServers(t *testing.T) {
	rs := newReplicas(t, 2)
	a, b := rs[0], rs[1]

	t.Run("rotation on A, reuse on B", func(t *testing.T) {
		t.Parallel()
		user := "user-" + rand.Text()
		p0 := a.login(t, user)
		code, body := a.refresh(t, p0.RefreshToken)
		require.Equal(t, http.StatusOK, code, "first refresh on A")
		p1 := decodePair(t, body)
		assert.Equal(t, http.StatusOK, b.me(t, p1.AccessToken), "new access token on B")

		code, _ = b.refreshGrant(t, p0.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, code, "consumed token on B's token endpoint")
		assert.True(t, b.sawReuse(user), "B reported the reuse")
		code, _ = b.refresh(t, p1.RefreshToken)
		assert.Equal(t, http.StatusUnauthorized, code, "A's new refresh token on B after the reuse")
		code, _ = a.refresh(t, p1.RefreshToken)
		assert.Equal(t, http.StatusUnauthorized, code, "A's new refresh token on A after the reuse")
		assert.Equal(t, http.StatusUnauthorized, b.me(t, p1.AccessToken), "the session's access token on B after the reuse")
		assert.Equal(t, http.StatusUnauthorized, a.me(t, p0.AccessToken), "the session's first access token on A after the reuse")
	})

	t.Run("logout on A holds on B", func(t *testing.T) {
		t.Parallel()
		user := "user-" + rand.Text()
		p := b.login(t, user)
		other := a.login(t, user) // another session of the same user
		assert.Equal(t, http.StatusOK, a.revoke(t, p.RefreshToken), "revoke on A")
		code, _ := b.refresh(t, p.RefreshToken)
		assert.Equal(t, http.StatusUnauthorized, code, "revoked refresh token on B")
		assert.Equal(t, http.StatusUnauthorized, b.me(t, p.AccessToken), "revoked session's access token on B")
		assert.False(t, b.sawReuse(user), "a revoked token is not reported as reuse")

		code, _ = b.refresh(t, other.RefreshToken)
		assert.Equal(t, http.StatusOK, code, "the user's other session on B")
		assert.Equal(t, http.StatusOK, a.revoke(t, p.RefreshToken), "revoking again")
		assert.Equal(t, http.StatusOK, a.revoke(t, "not-a-token"), "revoking garbage (RFC 7009 §2.2)")
	})

	t.Run("access token revoked on A is refused on B", func(t *testing.T) {
		t.Parallel()
		p := a.login(t, "user-"+rand.Text())
		assert.Equal(t, http.StatusOK, b.me(t, p.AccessToken), "before revocation")
		assert.Equal(t, http.StatusOK, a.revoke(t, p.AccessToken), "revoke on A")
		assert.Equal(t, http.StatusUnauthorized, b.me(t, p.AccessToken), "on B after revocation")
		assert.Equal(t, http.StatusUnauthorized, a.me(t, p.AccessToken), "on A after revocation")
		code, body := b.refresh(t, p.RefreshToken)
		require.Equal(t, http.StatusOK, code, "the session's refresh token still works")
		assert.Equal(t, http.StatusOK, b.me(t, decodePair(t, body).AccessToken), "the next access token")
	})

	t.Run("concurrent refreshes across A and B", func(t *testing.T) {
		t.Parallel()
		const callers = 50
		p := a.login(t, "user-"+rand.Text())
		codes, bodies := refreshAtOnce(t, rs, p.RefreshToken, callers)

		winner, counts := -1, map[int]int{}
		for i, code := range codes {
			counts[code]++
			if code == http.StatusOK {
				winner = i
			}
		}
		require.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: callers - 1}, counts,
			"status codes of %d concurrent refreshes of one token", callers)
		// The losers' reuse revoked the session, the winner's new token too.
		next := decodePair(t, bodies[winner])
		code, _ := rs[(winner+1)%2].refresh(t, next.RefreshToken)
		assert.Equal(t, http.StatusUnauthorized, code, "the winner's refresh token after the reuse")
	})
}

// TestTwoServersGrace runs concurrent refreshes of one token across two
// instances with Config.RefreshGrace, as two tabs or a page's parallel
// requests behind a load balancer would: every one succeeds, all answer the
// same refresh token (one rotation, the rest replays: no second chain), and
// that token refreshes on either instance.
func TestTwoServersGrace(t *testing.T) {
	rs := newReplicas(t, 2, func(cfg *passauth.Config) { cfg.RefreshGrace = 10 * time.Second })
	const callers = 20
	p := rs[0].login(t, "user-"+rand.Text())
	codes, bodies := refreshAtOnce(t, rs, p.RefreshToken, callers)

	ids := map[string]int{}
	var next passauth.TokenPair
	for i, code := range codes {
		require.Equal(t, http.StatusOK, code, "refresh %d", i)
		next = decodePair(t, bodies[i])
		c, err := rs[0].iss.VerifyRefresh(t.Context(), next.RefreshToken)
		require.NoError(t, err)
		ids[c.ID]++
	}
	assert.Len(t, ids, 1, "refresh token IDs answered: one chain")
	for _, r := range rs {
		code, body := r.refresh(t, next.RefreshToken)
		require.Equal(t, http.StatusOK, code, "the session's refresh token on %s", r.name)
		next = decodePair(t, body)
	}
}

// TestTwoServersRevokeSubject checks that RevokeSubject on one instance ends
// the user's sessions on the other.
func TestTwoServersRevokeSubject(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	cfg := testConfig()
	cfg.CheckRevoked = true
	cfg.Store = redisstore.New(c, redisstore.WithPrefix(prefix))
	a, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	cfg.Store = redisstore.New(newClient(t), redisstore.WithPrefix(prefix))
	b, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)

	ctx := t.Context()
	user := "user-" + rand.Text()
	p, err := b.IssuePair(ctx, user)
	require.NoError(t, err)
	bystander, err := b.IssuePair(ctx, "user-"+rand.Text())
	require.NoError(t, err)

	require.NoError(t, a.RevokeSubject(ctx, user))
	_, err = b.VerifyAccess(ctx, p.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "access token on B")
	rec := httptest.NewRecorder()
	b.RefreshHandler(anyUser).ServeHTTP(rec, jsonRequest("/refresh", `{"refresh_token":"`+p.RefreshToken+`"}`))
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "refresh token on B")

	_, err = b.VerifyAccess(ctx, bystander.AccessToken)
	require.NoError(t, err, "another user's access token on B")
}
