package sqlstore_test

import (
	"context"
	"crypto/rand"
	"strconv"
	"testing"

	"github.com/passauth/passauth"
)

// BenchmarkRefresh measures one refresh with the store: verify the refresh
// token, issue the next pair and rotate, one statement. The root module's
// BenchmarkRefresh has the stateless and memory figures, redisstore's
// BenchmarkRefreshRedis the Redis one.
func BenchmarkRefresh(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s, _ := newStore(b, be)
			iss := newIssuer(b, s)
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
		})
	}
}

// BenchmarkRotate measures the store's part of a refresh alone: Rotate
// moving a session's current token to the next.
func BenchmarkRotate(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s, _ := newStore(b, be)
			rotateChain(b, s)
		})
	}
}

// BenchmarkRotateParallel measures Rotate from GOMAXPROCS goroutines at
// once, each rotating a session of its own.
func BenchmarkRotateParallel(b *testing.B) {
	for _, be := range backends(b) {
		b.Run(be.name, func(b *testing.B) {
			s, _ := newStore(b, be)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				sess, id, n := newTestSession(), rand.Text(), 0
				if _, err := s.Rotate(context.Background(), sess.rotation("", id)); err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					next := sess.family + strconv.Itoa(n)
					n++
					res, err := s.Rotate(context.Background(), sess.rotation(id, next))
					if err != nil || res.Result != passauth.RotateOK {
						b.Errorf("Rotate = %v, %v", res.Result, err)
						return
					}
					id = next
				}
			})
		})
	}
}

// rotateChain rotates one session b.N times.
func rotateChain(b *testing.B, s passauth.Store) {
	ctx := context.Background()
	sess, id := newTestSession(), rand.Text()
	if _, err := s.Rotate(ctx, sess.rotation("", id)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		next := sess.family + strconv.Itoa(n)
		n++
		res, err := s.Rotate(ctx, sess.rotation(id, next))
		if err != nil || res.Result != passauth.RotateOK {
			b.Fatalf("Rotate = %v, %v", res.Result, err)
		}
		id = next
	}
}
