package redisstore_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
)

// onEachRedis runs bench as a sub-benchmark on each Redis under test:
// "single", the server of scripts/with-redis.sh, and "cluster", the cluster
// of scripts/with-redis-cluster.sh, each skipped when not given. bench gets
// a client and a key prefix of its own.
func onEachRedis(b *testing.B, bench func(b *testing.B, c redis.UniversalClient, prefix string)) {
	b.Run("single", func(b *testing.B) {
		c := newClient(b)
		bench(b, c, newPrefix(b, c))
	})
	b.Run("cluster", func(b *testing.B) {
		c := newClusterClient(b, nil)
		bench(b, c, clusterPrefix(b, c))
	})
}

// BenchmarkRefreshRedis measures one refresh with the Redis store: verify
// the refresh token, issue the next pair and rotate, checking the session's
// and the subject's denials, in one script call, one round trip. The root
// module's BenchmarkRefresh has the stateless and memory figures.
// "cluster-replicas" is the cluster with WithReplicas(1, 200ms): the script
// and WAIT in one pipeline, so the cost of waiting for a replica.
func BenchmarkRefreshRedis(b *testing.B) {
	refresh := func(b *testing.B, c redis.UniversalClient, opts ...redisstore.Option) {
		cfg := testConfig()
		cfg.Store = redisstore.New(c, opts...)
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
	onEachRedis(b, func(b *testing.B, c redis.UniversalClient, prefix string) {
		refresh(b, c, redisstore.WithPrefix(prefix))
	})
	b.Run("cluster-replicas", func(b *testing.B) {
		c := newClusterClient(b, nil)
		refresh(b, c, redisstore.WithPrefix(clusterPrefix(b, c)), redisstore.WithReplicas(1, 200*time.Millisecond))
	})
}

// BenchmarkRedisRotate measures the rotation script alone: one script call,
// one round trip.
func BenchmarkRedisRotate(b *testing.B) {
	onEachRedis(b, func(b *testing.B, c redis.UniversalClient, prefix string) {
		s := redisstore.New(c, redisstore.WithPrefix(prefix))
		ctx := b.Context()
		sess := newTestSession()
		prev := "id0"
		if _, err := s.Rotate(ctx, sess.rotation("", prev)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			next := "id" + strconv.Itoa(i)
			res, err := s.Rotate(ctx, sess.rotation(prev, next))
			if err != nil || res.Result != passauth.RotateOK {
				b.Fatalf("Rotate = %v, %v", res.Result, err)
			}
			prev = next
		}
	})
}

// BenchmarkRedisDenied measures the lookup Config.CheckRevoked adds to every
// authenticated request: three denials (subject, session, token), one of
// them recorded, in one MGET.
func BenchmarkRedisDenied(b *testing.B) {
	onEachRedis(b, func(b *testing.B, c redis.UniversalClient, prefix string) {
		s := redisstore.New(c, redisstore.WithPrefix(prefix))
		ctx := b.Context()
		q := passauth.DenyQuery{Subject: rand.Text(), Session: rand.Text(), Token: rand.Text()}
		if err := s.Deny(ctx, passauth.Denial{Subject: q.Subject, At: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, found, err := s.Denied(ctx, q)
			if err != nil || !found {
				b.Fatalf("Denied = %v, %v", found, err)
			}
		}
	})
}
