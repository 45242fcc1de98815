package passauth_test

// Revocation: the RFC 7009 handler, Revoke, RevokeSubject, the access-token
// denylist (Config.CheckRevoked), and failing closed when the Store fails or
// does not know a token.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestRevocationHandlerRefreshTokenEndsSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, withCheckRevoked)
	s1, s2 := f.login(t, "alice"), f.login(t, "alice")
	sid := f.sessionID(t, s1.RefreshToken)

	assertRevocationOK(t, do(t, f.revoke, postForm("token", s1.RefreshToken)))
	for _, ep := range refreshEndpoints {
		ep.refused(t, ep.call(f, t, s1.RefreshToken), "Invalid token")
	}
	assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, s1.AccessToken))
	// Logging out twice is still a success.
	assertRevocationOK(t, do(t, f.revoke, postForm("token", s1.RefreshToken)))

	// The other session of the same user is untouched.
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, s2.AccessToken))
	requirePair(t, f.viaRefresh(t, s2.RefreshToken))

	revoked := f.events.of(passauth.EventRevoke)
	require.NotEmpty(t, revoked)
	assert.Equal(t, passauth.Event{Kind: passauth.EventRevoke, Subject: "alice", SessionID: sid}, revoked[0])
	assert.Empty(t, f.events.of(passauth.EventRefreshReuse), "revocation is not reuse")
	f.events.assertNoTokens(t, s1.AccessToken, s1.RefreshToken)
}

// assertRevocationOK checks a successful revocation answer: 200, no body,
// not cacheable.
func assertRevocationOK(t testing.TB, rec *httptest.ResponseRecorder) {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, describe(rec))
	assert.Empty(t, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

func TestRevocationHandlerAccessTokenDeniesOnlyThatToken(t *testing.T) {
	t.Parallel()
	// The hint is ignored: the handler tells the token types apart itself.
	for _, hint := range []string{"", "access_token", "refresh_token", "id_token"} {
		t.Run("hint="+hint, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore, withCheckRevoked)
			s1, s2 := f.login(t, "alice"), f.login(t, "alice")
			kv := []string{"token", s1.AccessToken}
			if hint != "" {
				kv = append(kv, "token_type_hint", hint)
			}
			assertRevocationOK(t, do(t, f.revoke, postForm(kv...)))
			assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, s1.AccessToken))
			assert.Equal(t, http.StatusNoContent, f.authStatus(t, s2.AccessToken))

			// The session goes on: its refresh token works and the new
			// access token is accepted.
			next := requirePair(t, f.viaToken(t, s1.RefreshToken))
			assert.Equal(t, http.StatusNoContent, f.authStatus(t, next.AccessToken))
			assert.Len(t, f.events.of(passauth.EventRevoke), 1)
		})
	}
}

func TestRevocationHandlerRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance time.Duration // clock moved after login, before the request
		req     func(p passauth.TokenPair) httpReq
		status  int
		code    string // for an error answer
		revoked bool   // whether the session must be gone afterwards
	}{
		{name: "RefreshToken", req: func(p passauth.TokenPair) httpReq { return postForm("token", p.RefreshToken) }, status: 200, revoked: true},
		{name: "HintRefreshToken", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken, "token_type_hint", "refresh_token")
		}, status: 200, revoked: true},
		{name: "WrongHint", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken, "token_type_hint", "access_token")
		}, status: 200, revoked: true},
		{name: "UnknownHint", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken, "token_type_hint", "device_code")
		}, status: 200, revoked: true},
		{name: "BasicEmptyCredentials", req: func(p passauth.TokenPair) httpReq {
			return withHeader(postForm("token", p.RefreshToken), "Authorization", basic("", ""))
		}, status: 200, revoked: true},
		{name: "BasicClientCredentials", req: func(p passauth.TokenPair) httpReq {
			return withHeader(postForm("token", p.RefreshToken), "Authorization", basic("app", "s3cret"))
		}, status: 200, revoked: true},
		{name: "ContentTypeWithCharset", req: func(p passauth.TokenPair) httpReq {
			r := postForm("token", p.RefreshToken)
			r.contentType = form + "; charset=UTF-8"
			return r
		}, status: 200, revoked: true},
		{name: "Garbage", req: func(passauth.TokenPair) httpReq { return postForm("token", "not a token") }, status: 200},
		{name: "BadSignature", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", revokeSwapSignature(p.RefreshToken, p.AccessToken))
		}, status: 200},
		{name: "ExpiredRefreshToken", advance: testRefreshTTL, req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken)
		}, status: 200},
		{name: "MissingToken", req: func(passauth.TokenPair) httpReq { return postForm("token_type_hint", "refresh_token") }, status: 400, code: passauth.CodeInvalidRequest},
		{name: "EmptyToken", req: func(passauth.TokenPair) httpReq { return postForm("token", "") }, status: 400, code: passauth.CodeInvalidRequest},
		{name: "NoBody", req: func(passauth.TokenPair) httpReq { return httpReq{contentType: form} }, status: 400, code: passauth.CodeInvalidRequest},
		{name: "RepeatedToken", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken, "token", p.RefreshToken)
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "RepeatedHint", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken, "token_type_hint", "refresh_token", "token_type_hint", "refresh_token")
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "JSONBody", req: func(p passauth.TokenPair) httpReq {
			return httpReq{contentType: "application/json", body: `{"token":"` + p.RefreshToken + `"}`}
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "NoContentType", req: func(p passauth.TokenPair) httpReq {
			return httpReq{body: formBody("token", p.RefreshToken)}
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "TokenInQueryString", req: func(p passauth.TokenPair) httpReq {
			r := postForm("token_type_hint", "refresh_token")
			r.target = "/?" + formBody("token", p.RefreshToken)
			return r
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "MalformedBasic", req: func(p passauth.TokenPair) httpReq {
			return withHeader(postForm("token", p.RefreshToken), "Authorization", "Basic %%%")
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "BodyTooLarge", req: func(p passauth.TokenPair) httpReq {
			return postForm("token", p.RefreshToken, "pad", strings.Repeat("x", testMaxBody))
		}, status: 400, code: passauth.CodeInvalidRequest},
		{name: "GET", req: func(p passauth.TokenPair) httpReq {
			return withMethod(postForm("token", p.RefreshToken), http.MethodGet)
		}, status: 405, code: passauth.CodeInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withMemoryStore, withCheckRevoked)
			p := f.login(t, "alice")
			f.clock.Advance(tc.advance)
			rec := do(t, f.revoke, tc.req(p))
			if tc.status == http.StatusOK {
				assertRevocationOK(t, rec)
			} else {
				assertError(t, rec, tc.status, tc.code, "")
			}
			if tc.status == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, rec.Header().Get("Allow"))
			}
			wantEvents := 0
			if tc.revoked {
				wantEvents = 1
			}
			assert.Len(t, f.events.of(passauth.EventRevoke), wantEvents)
			if tc.advance > 0 {
				return // the tokens have expired anyway
			}
			if tc.revoked {
				assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p.AccessToken))
				refreshEndpoints[0].refused(t, f.viaToken(t, p.RefreshToken), "Invalid token")
			} else {
				assert.Equal(t, http.StatusNoContent, f.authStatus(t, p.AccessToken))
				requirePair(t, f.viaToken(t, p.RefreshToken))
			}
		})
	}
}

// revokeSwapSignature returns token with the signature of other: well formed,
// but not correctly signed.
func revokeSwapSignature(token, other string) string {
	return token[:strings.LastIndexByte(token, '.')] + other[strings.LastIndexByte(other, '.'):]
}

func TestRevocationWithoutCheckRevokedAccessTokenAcceptedUntilExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore) // CheckRevoked off
	s1, s2 := f.login(t, "alice"), f.login(t, "alice")

	// Revoking an access token succeeds, but nothing checks the denylist.
	assertRevocationOK(t, do(t, f.revoke, postForm("token", s1.AccessToken)))
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, s1.AccessToken))

	// Revoking a session stops its refresh token at once, its access token
	// only when it expires.
	assertRevocationOK(t, do(t, f.revoke, postForm("token", s2.RefreshToken)))
	refreshEndpoints[1].refused(t, f.viaRefresh(t, s2.RefreshToken), "Invalid token")
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, s2.AccessToken))

	f.clock.Advance(testAccessTTL)
	for _, access := range []string{s1.AccessToken, s2.AccessToken} {
		rec := do(t, f.protected, httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + access}})
		assertError(t, rec, http.StatusUnauthorized, passauth.CodeInvalidToken, "Token expired")
	}
}

func TestRevokeSubjectEndsEverySession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withMemoryStore, withCheckRevoked)
	ctx := context.Background()
	a1, a2, b := f.login(t, "alice"), f.login(t, "alice"), f.login(t, "bob")
	f.clock.Advance(10 * time.Minute)
	a2 = requirePair(t, f.viaToken(t, a2.RefreshToken)) // refreshed before, still revoked

	require.NoError(t, f.iss.RevokeSubject(ctx, "alice"))
	for _, p := range []passauth.TokenPair{a1, a2} {
		for _, ep := range refreshEndpoints {
			ep.refused(t, ep.call(f, t, p.RefreshToken), "Invalid token")
		}
		assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, p.AccessToken))
		_, err := f.iss.VerifyAccess(ctx, p.AccessToken)
		require.ErrorIs(t, err, passauth.ErrTokenInvalid)
		assert.NotErrorIs(t, err, passauth.ErrStoreUnavailable)
	}
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, b.AccessToken))
	requirePair(t, f.viaRefresh(t, b.RefreshToken))

	got := f.events.of(passauth.EventRevokeSubject)
	require.Len(t, got, 1)
	assert.Equal(t, passauth.Event{Kind: passauth.EventRevokeSubject, Subject: "alice"}, got[0])

	// As documented, tokens have one-second precision: a login within the
	// same second as RevokeSubject is refused too; one a second later works.
	same := f.login(t, "alice")
	assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, same.AccessToken))
	f.clock.Advance(time.Second)
	fresh := f.login(t, "alice")
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, fresh.AccessToken))
	fresh = requirePair(t, f.viaRefresh(t, fresh.RefreshToken))
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, fresh.AccessToken))
}

func TestRevocationStoreDownFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(f *fixture, t testing.TB, p passauth.TokenPair) *httptest.ResponseRecorder
	}{
		{"Login", func(f *fixture, t testing.TB, _ passauth.TokenPair) *httptest.ResponseRecorder {
			return do(t, f.token, postForm("username", "alice", "password", alicePassword))
		}},
		{"RefreshAtTokenHandler", func(f *fixture, t testing.TB, p passauth.TokenPair) *httptest.ResponseRecorder {
			return f.viaToken(t, p.RefreshToken)
		}},
		{"RefreshAtRefreshHandler", func(f *fixture, t testing.TB, p passauth.TokenPair) *httptest.ResponseRecorder {
			return f.viaRefresh(t, p.RefreshToken)
		}},
		{"RevokeRefreshToken", func(f *fixture, t testing.TB, p passauth.TokenPair) *httptest.ResponseRecorder {
			return do(t, f.revoke, postForm("token", p.RefreshToken))
		}},
		{"RevokeAccessToken", func(f *fixture, t testing.TB, p passauth.TokenPair) *httptest.ResponseRecorder {
			return do(t, f.revoke, postForm("token", p.AccessToken))
		}},
		{"AuthenticateWithCheckRevoked", func(f *fixture, t testing.TB, p passauth.TokenPair) *httptest.ResponseRecorder {
			return do(t, f.protected, httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + p.AccessToken}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newFlakyStore()
			f := newFixture(t, withStore(store), withCheckRevoked)
			p := f.login(t, "alice")

			store.down.Store(true)
			assertError(t, tc.call(f, t, p), http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")

			// Nothing happened while the store was down: the session is
			// neither consumed nor revoked.
			store.down.Store(false)
			assert.Equal(t, http.StatusNoContent, f.authStatus(t, p.AccessToken))
			requirePair(t, f.viaRefresh(t, p.RefreshToken))
			assert.Empty(t, f.events.of(passauth.EventRevoke))
		})
	}
}

func TestRevocationStoreDownErrors(t *testing.T) {
	t.Parallel()
	store := newFlakyStore()
	f := newFixture(t, withStore(store), withCheckRevoked)
	p := f.login(t, "alice")
	ctx := context.Background()
	store.down.Store(true)

	_, err := f.iss.VerifyAccess(ctx, p.AccessToken)
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, passauth.ErrTokenInvalid, "a store failure is not a bad token")
	assert.ErrorIs(t, err, errStoreDown, "the store's error stays in the chain for logs")

	_, err = f.iss.Refresh(ctx, p.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, passauth.ErrTokenInvalid, "a store failure is not the token's fault")
	assert.ErrorIs(t, err, errStoreDown)
	assert.Equal(t, "passauth: rotating a refresh token: passauth: token store unavailable: "+errStoreDown.Error(), err.Error())

	_, issueErr := f.iss.IssuePair(ctx, "alice")
	for name, err := range map[string]error{
		"Revoke(refresh)": f.iss.Revoke(ctx, p.RefreshToken),
		"Revoke(access)":  f.iss.Revoke(ctx, p.AccessToken),
		"RevokeSubject":   f.iss.RevokeSubject(ctx, "alice"),
		"IssuePair":       issueErr,
	} {
		assert.ErrorIs(t, err, passauth.ErrStoreUnavailable, name)
		assert.NotErrorIs(t, err, passauth.ErrTokenInvalid, name)
		assert.ErrorIs(t, err, errStoreDown, name)
	}

	// A token that is not valid needs no store: still the RFC 7009 answer.
	assertRevocationOK(t, do(t, f.revoke, postForm("token", "not a token")))
	assert.Empty(t, f.events.of(passauth.EventRevoke))
	assert.Empty(t, f.events.of(passauth.EventRevokeSubject))
}

func TestRevocationStoreDownWithoutCheckRevokedAccessStillWorks(t *testing.T) {
	t.Parallel()
	store := newFlakyStore()
	f := newFixture(t, withStore(store)) // CheckRevoked off
	p := f.login(t, "alice")
	store.down.Store(true)

	assert.Equal(t, http.StatusNoContent, f.authStatus(t, p.AccessToken))
	c, err := f.iss.VerifyAccess(context.Background(), p.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", c.Subject)
	// Refreshing still fails closed.
	assertError(t, f.viaToken(t, p.RefreshToken), http.StatusServiceUnavailable, passauth.CodeTemporarilyUnavailable, "")
}

func TestRevocationStatelessTokensRefusedByStore(t *testing.T) {
	t.Parallel()
	stateless := newFixture(t) // no Store
	f := fixtureOnClockOf(t, stateless, withMemoryStore, withCheckRevoked)
	p := stateless.login(t, "alice")

	// A refresh token without "sid", signed with the right secret and type,
	// as an issuer before sessions existed made them.
	now := f.clock.Now()
	noSID := mintToken(t, jwt.SigningMethodHS256, testRefreshSecret,
		map[string]any{"typ": passauth.RefreshTokenType},
		map[string]any{"jti": "no-session", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	c, err := f.iss.VerifyRefresh(context.Background(), noSID)
	require.NoError(t, err, "the hand-made token is otherwise valid")
	require.Empty(t, c.SessionID)

	for name, refresh := range map[string]string{"StatelessIssuer": p.RefreshToken, "NoSessionID": noSID} {
		for _, ep := range refreshEndpoints {
			t.Run(name+"/"+ep.name, func(t *testing.T) {
				ep.refused(t, ep.call(f, t, refresh), "Invalid token")
			})
		}
	}
	// There is nothing to revoke, which RFC 7009 answers with 200.
	assertRevocationOK(t, do(t, f.revoke, postForm("token", noSID)))
}

// fixtureOnClockOf builds a fixture, as newFixture(t, mods...) does, whose
// issuer runs on the clock of other: a second service beside other, or other
// restarted.
func fixtureOnClockOf(t testing.TB, other *fixture, mods ...func(*passauth.Config)) *fixture {
	t.Helper()
	f := newFixture(t, append(mods[:len(mods):len(mods)], func(c *passauth.Config) { c.Now = other.clock.Now })...)
	f.clock = other.clock
	return f
}

func TestRevocationMemoryStoreRestartRefusesRefreshTokensButNotAccessTokens(t *testing.T) {
	t.Parallel()
	before := newFixture(t, withMemoryStore, withCheckRevoked)
	p := before.login(t, "alice")
	assertRevocationOK(t, do(t, before.revoke, postForm("token", p.AccessToken)))

	// The same secrets with a new, empty store: every family is unknown, so
	// refreshing fails closed and the user logs in again. The denylist is
	// gone too, so the revoked access token is accepted again until it
	// expires, as the MemoryStore documentation says.
	after := fixtureOnClockOf(t, before, withMemoryStore, withCheckRevoked)
	for _, ep := range refreshEndpoints {
		ep.refused(t, ep.call(after, t, p.RefreshToken), "Invalid token")
	}
	assert.Equal(t, http.StatusNoContent, after.authStatus(t, p.AccessToken))
	assert.Empty(t, after.events.of(passauth.EventRefreshReuse))
	requirePair(t, after.viaRefresh(t, after.login(t, "alice").RefreshToken))
}

// TestRevokeSubjectAcrossSkewedReplicas runs RevokeSubject on one replica
// while the sessions were started on another whose clock is ahead or
// behind by 300 ms, with Config.Leeway set to the skew the deployment
// tolerates: every session that started before the revocation ends, on
// both replicas, refresh and access tokens alike. Judged by "iat", as
// before, the sessions started by the replica ahead survived.
func TestRevokeSubjectAcrossSkewedReplicas(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{300 * time.Millisecond, -300 * time.Millisecond} {
		t.Run(skew.String(), func(t *testing.T) {
			t.Parallel()
			store := passauth.NewMemoryStore()
			mods := []func(*passauth.Config){withStore(store), withCheckRevoked, func(c *passauth.Config) { c.Leeway = time.Second }}
			a := newFixture(t, mods...)
			// a's clock late in a second, so that b's, ahead, is in the next.
			a.clock.Set(testEpoch.Add(800 * time.Millisecond))
			bClock := &testClock{now: a.clock.Now().Add(skew)}
			b := newIssuer(t, append(mods, func(c *passauth.Config) { c.Now = bClock.Now })...)

			ctx := context.Background()
			var pairs []passauth.TokenPair
			for range 40 {
				p, err := b.IssuePair(ctx, "alice")
				require.NoError(t, err)
				pairs = append(pairs, p)
			}
			require.NoError(t, a.iss.RevokeSubject(ctx, "alice"))
			for i, p := range pairs {
				for name, iss := range map[string]*passauth.TokenIssuer{"a": a.iss, "b": b} {
					_, err := iss.VerifyAccess(ctx, p.AccessToken)
					require.ErrorIs(t, err, passauth.ErrTokenInvalid, "session %d: access token on %s", i, name)
				}
				_, err := b.Refresh(ctx, p.RefreshToken)
				require.ErrorIs(t, err, passauth.ErrTokenInvalid, "session %d: refresh on b", i)
			}

			// A login later than the leeway (and its second) is a new session.
			a.clock.Advance(3 * time.Second)
			bClock.Advance(3 * time.Second)
			p, err := b.IssuePair(ctx, "alice")
			require.NoError(t, err)
			_, err = a.iss.VerifyAccess(ctx, p.AccessToken)
			require.NoError(t, err)
			_, err = b.Refresh(ctx, p.RefreshToken)
			require.NoError(t, err)
		})
	}
}

// TestLogoutOnAReplicaTwoSecondsAhead revokes, on one replica, a session
// just started on another whose clock is 2 s ahead: its refresh and access
// tokens are refused at once. A session denial used to be judged by the
// token's "iat", which was after the denial's time on the other clock: the
// logout answered 200 and revoked nothing.
func TestLogoutOnAReplicaTwoSecondsAhead(t *testing.T) {
	t.Parallel()
	store := passauth.NewMemoryStore()
	a := newFixture(t, withStore(store), withCheckRevoked)
	ahead := &testClock{now: a.clock.Now().Add(2 * time.Second)}
	b := newIssuer(t, withStore(store), withCheckRevoked, func(c *passauth.Config) { c.Now = ahead.Now })
	ctx := context.Background()
	p, err := b.IssuePair(ctx, "alice")
	require.NoError(t, err)
	assertRevocationOK(t, do(t, a.revoke, postForm("token", p.RefreshToken)))
	_, err = b.VerifyAccess(ctx, p.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
	assert.Equal(t, http.StatusUnauthorized, a.authStatus(t, p.AccessToken))
	_, err = b.Refresh(ctx, p.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
}

// TestRevokeSubjectDuringRefresh revokes the subject between a refresh's
// denylist check and its rotation, the window a refresh in flight is in:
// the refresh fails, and neither the old nor the new tokens work. Before,
// the refresh answered 200 and its new tokens, minted in the next second,
// outlived the revocation.
func TestRevokeSubjectDuringRefresh(t *testing.T) {
	t.Parallel()
	store := &hookStore{Store: passauth.NewMemoryStore()}
	f := newFixture(t, withStore(store), withCheckRevoked)
	ctx := context.Background()
	p, err := f.iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	store.beforeRotate = func() {
		require.NoError(t, f.iss.RevokeSubject(ctx, "alice"))
		f.clock.Advance(time.Second) // the new tokens are minted in the next second
	}
	_, err = f.iss.Refresh(ctx, p.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
	assert.NotErrorIs(t, err, passauth.ErrTokenReused)
	_, err = f.iss.VerifyAccess(ctx, p.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
	assert.Equal(t, 1, store.rotations, "the rotation ran")
}

// hookStore is a Store that runs beforeRotate once, before the first
// rotation of an existing family, and counts those rotations.
type hookStore struct {
	passauth.Store
	beforeRotate func()
	rotations    int
}

func (s *hookStore) Rotate(ctx context.Context, r passauth.Rotation) (passauth.Rotated, error) {
	if r.OldID != "" {
		s.rotations++
		if s.beforeRotate != nil {
			s.beforeRotate()
			s.beforeRotate = nil
		}
	}
	return s.Store.Rotate(ctx, r)
}

// TestRevokeAccessTokensBoundedPerSession revokes access tokens of one
// session one by one: the first three are denied each, the fourth within
// an access token's life revokes the whole session instead, so that one
// logged-in client cannot fill the store with denials (and, on a Redis that
// evicts, push out other sessions' revocations).
func TestRevokeAccessTokensBoundedPerSession(t *testing.T) {
	t.Parallel()
	store := passauth.NewMemoryStore()
	f := newFixture(t, withStore(store), withCheckRevoked)
	login := f.login(t, "alice")
	other := f.login(t, "alice") // another session, untouched
	access := []string{login.AccessToken}
	refresh := login.RefreshToken
	for range 9 {
		p := requirePair(t, f.viaRefresh(t, refresh))
		access, refresh = append(access, p.AccessToken), p.RefreshToken
	}
	records := store.Len()
	for i := range 3 {
		assertRevocationOK(t, do(t, f.revoke, postForm("token", access[i])))
		assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, access[i]), "revoked token %d", i)
		assert.Equal(t, http.StatusNoContent, f.authStatus(t, access[i+1]), "the next token, %d", i+1)
	}
	assert.Equal(t, records+3, store.Len(), "a denial per revoked token")
	assertRevocationOK(t, do(t, f.revoke, postForm("token", access[3])))
	for i, tok := range access {
		assert.Equal(t, http.StatusUnauthorized, f.authStatus(t, tok), "token %d after the session was revoked", i)
	}
	refreshEndpoints[1].refused(t, f.viaRefresh(t, refresh), "Invalid token")
	// Revoking the rest adds nothing: they belong to a revoked session.
	for _, tok := range access[4:] {
		assertRevocationOK(t, do(t, f.revoke, postForm("token", tok)))
	}
	assert.LessOrEqual(t, store.Len(), records+4, "denials for one session")
	assert.Equal(t, http.StatusNoContent, f.authStatus(t, other.AccessToken))
}

// TestStoreUnavailableEvents checks that every store failure is reported
// as EventStoreUnavailable, with the operation and the store's error and
// never a token, so that operators can alert on the 503s: verification
// with CheckRevoked, refreshing, starting a session, each revocation, and a
// limiter that fails.
func TestStoreUnavailableEvents(t *testing.T) {
	t.Parallel()
	store := newFlakyStore()
	limiter := &switchLimiter{}
	f := newFixture(t, withStore(store), withCheckRevoked, func(c *passauth.Config) { c.UserLimiter = limiter })
	p := f.login(t, "alice")
	claims, err := f.iss.VerifyRefresh(context.Background(), p.RefreshToken)
	require.NoError(t, err)
	ctx := context.Background()
	store.down.Store(true)
	f.events.take()

	tests := []struct {
		name, op string
		call     func() int // the status the client gets
		session  bool       // the event names the session
	}{
		{"protected request", "checking revocation", func() int { return f.authStatus(t, p.AccessToken) }, true},
		{"refresh", "rotating a refresh token", func() int { return f.viaRefresh(t, p.RefreshToken).Code }, true},
		{"login", "starting a session", func() int {
			return do(t, f.token, postForm("username", "alice", "password", alicePassword)).Code
		}, false},
		{"logout", "revoking a session", func() int { return do(t, f.revoke, postForm("token", p.RefreshToken)).Code }, true},
		{"revoking an access token", "revoking an access token", func() int {
			return do(t, f.revoke, postForm("token", p.AccessToken)).Code
		}, true},
		{"RevokeSubject", "revoking a subject", func() int {
			if errors.Is(f.iss.RevokeSubject(ctx, "alice"), passauth.ErrStoreUnavailable) {
				return http.StatusServiceUnavailable
			}
			return 0
		}, false},
	}
	for _, tc := range tests {
		assert.Equal(t, http.StatusServiceUnavailable, tc.call(), tc.name)
		events := f.events.of(passauth.EventStoreUnavailable)
		f.events.take()
		require.Len(t, events, 1, tc.name)
		e := events[0]
		assert.Equal(t, tc.op, e.Reason, tc.name)
		assert.ErrorIs(t, e.Err, errStoreDown, tc.name)
		assert.Equal(t, "alice", e.Subject, tc.name)
		if tc.session {
			assert.Equal(t, claims.SessionID, e.SessionID, tc.name)
		}
	}
	f.events.assertNoTokens(t, p.AccessToken, p.RefreshToken)

	store.down.Store(false)
	limiter.fail.Store(true)
	assert.Equal(t, http.StatusServiceUnavailable, do(t, f.token, postForm("username", "alice", "password", alicePassword)).Code)
	events := f.events.of(passauth.EventStoreUnavailable)
	require.Len(t, events, 1)
	assert.Equal(t, "counting a login", events[0].Reason)
	assert.ErrorIs(t, events[0].Err, errStoreDown)
}

// switchLimiter is a Limiter that lets every login through until fail is
// set, and then fails.
type switchLimiter struct{ fail atomic.Bool }

func (l *switchLimiter) Allow(context.Context, string) (time.Duration, error) {
	if l.fail.Load() {
		return 0, errStoreDown
	}
	return 0, nil
}

func (l *switchLimiter) Forgive(context.Context, string) error { return nil }

// TestReuseDeniesInTheSameCall presents a consumed refresh token: the
// store revokes the session and denies its access tokens (which the thief
// may hold) in the same call that detects the reuse, so there is no second
// call that could fail unreported; the session's access tokens are refused
// at once.
func TestReuseDeniesInTheSameCall(t *testing.T) {
	t.Parallel()
	store := &recordingStore{Store: passauth.NewMemoryStore()}
	f := newFixture(t, withStore(store), withCheckRevoked)
	ctx := context.Background()
	first, err := f.iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	second, err := f.iss.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	f.events.take()
	calls := len(store.deadlines)

	_, err = f.iss.Refresh(ctx, first.RefreshToken)
	require.ErrorIs(t, err, passauth.ErrTokenReused)
	assert.Len(t, store.deadlines, calls+1, "one store call for the reuse")
	events := f.events.take()
	require.Len(t, events, 1)
	assert.Equal(t, passauth.EventRefreshReuse, events[0].Kind)
	for name, tok := range map[string]string{"first": first.AccessToken, "second": second.AccessToken} {
		_, err := f.iss.VerifyAccess(ctx, tok)
		require.ErrorIs(t, err, passauth.ErrTokenInvalid, name)
	}
}
