package redisstore_test

import (
	"context"
	"testing"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
)

// BenchmarkRefreshRedis measures one refresh with the Redis store: verify
// the refresh token, issue the next pair and rotate in one round trip. The
// root module's BenchmarkRefresh has the stateless and memory figures.
func BenchmarkRefreshRedis(b *testing.B) {
	c := newClient(b)
	cfg := testConfig()
	cfg.Store = redisstore.New(c, redisstore.WithPrefix(newPrefix(b, c)))
	iss, err := passauth.NewTokenIssuer(cfg)
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
		if pair, err = iss.Refresh(ctx, pair.RefreshToken); err != nil {
			b.Fatal(err)
		}
	}
}
