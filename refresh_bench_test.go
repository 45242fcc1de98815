package passauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passauth/passauth"
)

// BenchmarkRefresh measures one refresh through RefreshHandler: verify the
// refresh token, issue the next pair and, with a store, rotate atomically.
// Compare the sub-benchmarks in one run; the Redis store's figure comes from
// the redisstore module's BenchmarkRefreshRedis.
func BenchmarkRefresh(b *testing.B) {
	for _, bc := range []struct {
		name  string
		store passauth.Store
	}{
		{"stateless", nil},
		{"memory", passauth.NewMemoryStore()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			iss, err := passauth.NewTokenIssuer(passauth.Config{
				AccessSecret:  []byte("bench-access-secret-0123456789abcdef"),
				RefreshSecret: []byte("bench-refresh-secret-0123456789abcdef"),
				AccessTTL:     15 * time.Minute,
				RefreshTTL:    24 * time.Hour,
				Store:         bc.store,
			})
			if err != nil {
				b.Fatal(err)
			}
			h := iss.RefreshHandler(nil)
			pair, err := iss.IssuePair(context.Background(), "alice", passauth.WithScope("me items"))
			if err != nil {
				b.Fatal(err)
			}
			token := pair.RefreshToken
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "/refresh", strings.NewReader(`{"refresh_token":"`+token+`"}`))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("refresh: %d %s", w.Code, w.Body)
				}
				if bc.store != nil {
					// Rotation consumed the token: continue with the new one.
					token = newRefreshToken(b, w)
				}
			}
		})
	}
}

func newRefreshToken(b *testing.B, w *httptest.ResponseRecorder) string {
	var pair passauth.TokenPair
	if err := json.Unmarshal(w.Body.Bytes(), &pair); err != nil || pair.RefreshToken == "" {
		b.Fatalf("no refresh_token in the answer: %v", err)
	}
	return pair.RefreshToken
}
