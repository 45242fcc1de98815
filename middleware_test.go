package passauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// recordingHandler is the protected handler: it counts its calls and keeps
// the claims it found in the context.
type recordingHandler struct {
	calls  int
	claims *passauth.Claims
	found  bool
}

func (h *recordingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls++
	h.claims, h.found = passauth.ClaimsFromContext(r.Context())
	w.WriteHeader(http.StatusNoContent)
}

// middlewareTokens are the tokens the middleware tests present.
type middlewareTokens struct {
	access, refresh, expired, foreign string
}

func newMiddlewareTokens(t testing.TB, f *fixture) middlewareTokens {
	t.Helper()
	ctx := context.Background()
	pair, err := f.iss.IssuePair(ctx, "alice", passauth.WithScope("me"))
	require.NoError(t, err)

	// Issued two access lifetimes ago, with the same secrets.
	past := newIssuer(t, at(f.clock.Now().Add(-2*testAccessTTL)))
	old, err := past.IssuePair(ctx, "alice")
	require.NoError(t, err)

	// Signed with another access secret.
	other := newIssuer(t, func(c *passauth.Config) {
		c.AccessSecret = []byte("another access secret, at least 32 bytes")
		c.Now = f.clock.Now
	})
	foreign, err := other.IssuePair(ctx, "alice")
	require.NoError(t, err)

	return middlewareTokens{access: pair.AccessToken, refresh: pair.RefreshToken, expired: old.AccessToken, foreign: foreign.AccessToken}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := newMiddlewareTokens(t, f)
	const (
		noToken  = "Bearer"
		expired  = `Bearer error="invalid_token", error_description="Token expired"`
		invalid  = `Bearer error="invalid_token", error_description="Invalid token"`
		badInput = `Bearer error="invalid_request", error_description="malformed Bearer credentials"`
		twoAuthz = `Bearer error="invalid_request", error_description="more than one Authorization header"`
	)
	tests := []struct {
		name      string
		target    string
		header    []string // Authorization values
		status    int
		code      string // error code of the JSON body
		challenge string // exact WWW-Authenticate
	}{
		{name: "Bearer", header: []string{"Bearer " + tok.access}, status: http.StatusNoContent},
		{name: "bearer", header: []string{"bearer " + tok.access}, status: http.StatusNoContent},
		{name: "BEARER", header: []string{"BEARER " + tok.access}, status: http.StatusNoContent},
		{name: "bEaReR", header: []string{"bEaReR " + tok.access}, status: http.StatusNoContent},
		{name: "several spaces", header: []string{"Bearer   " + tok.access}, status: http.StatusNoContent},
		{name: "no header", status: 401, challenge: noToken},
		{name: "Basic", header: []string{basic("alice", alicePassword)}, status: 401, challenge: noToken},
		{name: "unknown scheme", header: []string{"Token " + tok.access}, status: 401, challenge: noToken},
		{name: "scheme glued to the token", header: []string{"Bearer" + tok.access}, status: 401, challenge: noToken},
		{name: "empty header", header: []string{""}, status: 401, challenge: noToken},
		{name: "query string only", target: "/?access_token=" + tok.access, status: 401, challenge: noToken},
		{name: "Bearer alone", header: []string{"Bearer"}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "Bearer and a space", header: []string{"Bearer "}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "space inside the token", header: []string{"Bearer " + tok.access[:10] + " " + tok.access[10:]}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "trailing space", header: []string{"Bearer " + tok.access + " "}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "not a b64token", header: []string{"Bearer abc!def"}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "quoted token", header: []string{`Bearer "` + tok.access + `"`}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "only padding", header: []string{"Bearer =="}, status: 400, code: "invalid_request", challenge: badInput},
		{name: "two Authorization headers", header: []string{"Bearer " + tok.access, "Bearer " + tok.access}, status: 400, code: "invalid_request", challenge: twoAuthz},
		{name: "expired", header: []string{"Bearer " + tok.expired}, status: 401, code: "invalid_token", challenge: expired},
		{name: "refresh token", header: []string{"Bearer " + tok.refresh}, status: 401, code: "invalid_token", challenge: invalid},
		{name: "another secret", header: []string{"Bearer " + tok.foreign}, status: 401, code: "invalid_token", challenge: invalid},
		{name: "garbage", header: []string{"Bearer abc.def.ghi"}, status: 401, code: "invalid_token", challenge: invalid},
		{name: "padded token", header: []string{"Bearer " + tok.access + "="}, status: 401, code: "invalid_token", challenge: invalid},
		{name: "truncated token", header: []string{"Bearer " + tok.access[:len(tok.access)-1]}, status: 401, code: "invalid_token", challenge: invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			next := &recordingHandler{}
			rec := do(t, f.iss.Authenticate(next), httpReq{method: http.MethodGet, target: tc.target, header: authzHeaders(tc.header)})
			require.Equal(t, tc.status, rec.Code, describe(rec))
			if tc.status == http.StatusNoContent {
				require.Equal(t, 1, next.calls)
				require.True(t, next.found)
				assert.Equal(t, "alice", next.claims.Subject)
				assert.Equal(t, "me", next.claims.Scope)
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
				return
			}
			assert.Equal(t, 0, next.calls, "next handler called on a failure")
			assert.Equal(t, tc.challenge, rec.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			e := decodeError(t, rec)
			assert.Equal(t, tc.code, e.Error)
		})
	}
}

// authzHeaders turns Authorization values into httpReq header pairs.
func authzHeaders(values []string) []string {
	var kv []string
	for _, v := range values {
		kv = append(kv, "Authorization", v)
	}
	return kv
}

func TestAuthenticateOptional(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := newMiddlewareTokens(t, f)
	tests := []struct {
		name       string
		header     []string
		status     int
		wantClaims bool
		challenge  string
	}{
		{name: "valid token", header: []string{"Bearer " + tok.access}, status: http.StatusNoContent, wantClaims: true},
		{name: "no header", status: http.StatusNoContent},
		{name: "Basic", header: []string{basic("alice", "x")}, status: http.StatusNoContent},
		{name: "expired", header: []string{"Bearer " + tok.expired}, status: 401,
			challenge: `Bearer error="invalid_token", error_description="Token expired"`},
		{name: "refresh token", header: []string{"Bearer " + tok.refresh}, status: 401,
			challenge: `Bearer error="invalid_token", error_description="Invalid token"`},
		{name: "Bearer alone", header: []string{"Bearer"}, status: 400,
			challenge: `Bearer error="invalid_request", error_description="malformed Bearer credentials"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			next := &recordingHandler{}
			rec := do(t, f.iss.AuthenticateOptional(next), httpReq{method: http.MethodGet, header: authzHeaders(tc.header)})
			require.Equal(t, tc.status, rec.Code, describe(rec))
			assert.Equal(t, tc.challenge, rec.Header().Get("WWW-Authenticate"))
			if tc.status != http.StatusNoContent {
				assert.Equal(t, 0, next.calls, "next handler called on a failure")
				return
			}
			require.Equal(t, 1, next.calls)
			assert.Equal(t, tc.wantClaims, next.found)
			if tc.wantClaims {
				assert.Equal(t, "alice", next.claims.Subject)
			}
		})
	}
}

// The body of a 401 without a token says so without an error code, as RFC
// 6750 §3.1 asks of requests that carry no authentication.
func TestAuthenticateNoTokenBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := do(t, f.protected, httpReq{method: http.MethodGet})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
	assert.NotContains(t, rec.Header().Get("WWW-Authenticate"), "error=")
	assertTokenHeaders(t, rec)
	assert.Empty(t, decodeError(t, rec).Error)
}

// A token that was valid when the request chain began is refused once the
// clock passes its expiry, and accepted again by nothing.
func TestAuthenticateExpiryByClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pair, err := f.iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	req := httpReq{method: http.MethodGet, header: []string{"Authorization", "Bearer " + pair.AccessToken}}

	require.Equal(t, http.StatusNoContent, do(t, f.protected, req).Code)
	f.clock.Advance(testAccessTTL + time.Second)
	rec := do(t, f.protected, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer error="invalid_token", error_description="Token expired"`, rec.Header().Get("WWW-Authenticate"))
}

// discardWriter is the cheapest http.ResponseWriter: it keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// authenticatedRequest prepares a request with a valid access token, the
// middleware around a handler that only counts its calls, and a writer.
func authenticatedRequest(tb testing.TB) (*passauth.TokenIssuer, string, http.Handler, *int, *http.Request, http.ResponseWriter) {
	tb.Helper()
	f := newFixture(tb)
	pair, err := f.iss.IssuePair(context.Background(), "alice", passauth.WithScope("me"))
	require.NoError(tb, err)
	calls := new(int)
	h := f.iss.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { *calls++ }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+pair.AccessToken)
	return f.iss, pair.AccessToken, h, calls, r, &discardWriter{h: http.Header{}}
}

// STYLE rule 13: the middleware adds at most two allocations to the JWT
// parse (the request copy and the context value).
func TestAuthenticateAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	iss, token, h, calls, r, w := authenticatedRequest(t)
	ctx := context.Background()
	const runs = 200

	verify := testing.AllocsPerRun(runs, func() {
		if _, err := iss.VerifyAccess(ctx, token); err != nil {
			panic("VerifyAccess failed")
		}
	})
	middleware := testing.AllocsPerRun(runs, func() { h.ServeHTTP(w, r) })
	require.Equal(t, runs+1, *calls, "the middleware did not admit every request")
	t.Logf("VerifyAccess: %.0f allocs; middleware: %.0f allocs", verify, middleware)
	assert.LessOrEqual(t, middleware-verify, 2.0, "middleware allocations beyond the JWT parse")
	assert.Positive(t, verify, "VerifyAccess allocates nothing: the measurement is broken")
}

// TestCheckRevokedAllocations: with CheckRevoked on a MemoryStore, the
// revocation check allocates nothing, with or without the verified-token
// cache, whose hit allocates only the copy of the claims.
func TestCheckRevokedAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	ctx := context.Background()
	const runs = 200
	allocs := func(mods ...func(*passauth.Config)) float64 {
		f := newFixture(t, mods...)
		pair, err := f.iss.IssuePair(ctx, "alice")
		require.NoError(t, err)
		return testing.AllocsPerRun(runs, func() {
			if _, err := f.iss.VerifyAccess(ctx, pair.AccessToken); err != nil {
				panic("VerifyAccess failed")
			}
		})
	}
	plain, checked := allocs(), allocs(withMemoryStore, withCheckRevoked)
	hit, checkedHit := allocs(withVerifyCache(64)), allocs(withVerifyCache(64), withMemoryStore, withCheckRevoked)
	t.Logf("VerifyAccess: %.0f allocs, %.0f with CheckRevoked; cache hit: %.0f, %.0f with CheckRevoked", plain, checked, hit, checkedHit)
	assert.Equal(t, plain, checked, "allocations of the revocation check")
	assert.Equal(t, 1.0, hit, "allocations of a cache hit")
	assert.Equal(t, hit, checkedHit, "allocations of the revocation check on a cache hit")
}

func BenchmarkAuthenticate(b *testing.B) {
	_, _, h, calls, r, w := authenticatedRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	if *calls == 0 {
		b.Fatal("the middleware admitted no request")
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	iss, token, _, _, _, _ := authenticatedRequest(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.VerifyAccess(ctx, token); err != nil {
			b.Fatal(err)
		}
	}
}
