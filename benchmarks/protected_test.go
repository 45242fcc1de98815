package benchmarks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/benchmarks"
)

// BenchmarkProtected is the handler side of wrk.sh's cases (issue 12): the
// demo's GET /api/users/me behind Authenticate and RequireScope("me"), with
// CheckRevoked on a MemoryStore, without and with the verified-token cache,
// and the cache without CheckRevoked, against a bare handler writing the
// same JSON. Each request gets a cancelable context of its own, as
// net/http's server gives it (so that a context derived from it costs what
// it costs behind a server), and a fresh httptest.ResponseRecorder; the
// server's own work (reading the request, writing the response, the
// syscalls) is not here: wrk.sh measures it.
func BenchmarkProtected(b *testing.B) {
	store := passauth.NewMemoryStore()
	issuer := func(b *testing.B, cacheSize int, checkRevoked bool) *passauth.TokenIssuer {
		iss, err := passauth.NewTokenIssuer(passauth.Config{
			AccessSecret:    accessSecret,
			RefreshSecret:   refreshSecret,
			AccessTTL:       accessTTL,
			RefreshTTL:      refreshTTL,
			Store:           store,
			CheckRevoked:    checkRevoked,
			VerifyCacheSize: cacheSize,
		})
		if err != nil {
			b.Fatal(err)
		}
		return iss
	}
	pair, err := issuer(b, 0, false).IssuePair(context.Background(), "johndoe", passauth.WithScope("me"))
	if err != nil {
		b.Fatal(err)
	}

	for _, bc := range []struct {
		name  string
		setup func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return benchmarks.BareMe("johndoe") }},
		{"passauth", func(b *testing.B) http.Handler { return benchmarks.ProtectedMe(issuer(b, 0, true)) }},
		{"passauth-cache", func(b *testing.B) http.Handler { return benchmarks.ProtectedMe(issuer(b, 10000, true)) }},
		{"passauth-cache-norevoke", func(b *testing.B) http.Handler {
			return benchmarks.ProtectedMe(issuer(b, 10000, false))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.setup(b)
			r := httptest.NewRequest(http.MethodGet, "/api/users/me", nil)
			r.Header.Set("Authorization", "Bearer "+pair.AccessToken)

			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || w.Body.String() != benchmarks.MeBody {
				b.Fatalf("%s answered %d %q", bc.name, w.Code, w.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				serveRequest(h, r)
			}
		})
	}
}

// serveRequest is one request as net/http's server makes it, with a
// context canceled when the handler returns; a named function for
// callgrind.sh.
//
//go:noinline
func serveRequest(h http.Handler, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	h.ServeHTTP(httptest.NewRecorder(), r.WithContext(ctx))
	cancel()
}
