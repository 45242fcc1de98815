package passauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/passauth/passauth"
)

// BenchmarkRefresh measures one refresh: verify the refresh token, issue the
// next pair and, with a store, check the denylist and rotate atomically.
// Compare the sub-benchmarks in one run; the Redis store's figure is the
// redisstore module's BenchmarkRefreshRedis.
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
