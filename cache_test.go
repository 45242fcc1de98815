package passauth_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestVerifyCacheHitReturnsTheSameClaims(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t, withVerifyCache(64))
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me"), passauth.WithClaims(map[string]any{"tenant": "acme"}))
	require.NoError(t, err)

	first, err := iss.VerifyAccess(ctx, pair.AccessToken)
	require.NoError(t, err)
	second, err := iss.VerifyAccess(ctx, pair.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.NotSame(t, first, second, "each caller gets its own Claims")

	second.Subject = "mallory" // a handler scribbling on its claims
	third, err := iss.VerifyAccess(ctx, pair.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", third.Subject, "the cached entry is not shared")
	var extra struct{ Tenant string }
	require.NoError(t, third.Decode(&extra))
	assert.Equal(t, "acme", extra.Tenant)
}

// withVerifyCache sets Config.VerifyCacheSize.
func withVerifyCache(size int) func(*passauth.Config) {
	return func(c *passauth.Config) { c.VerifyCacheSize = size }
}

func TestVerifyCacheNeverOutlivesTheToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withVerifyCache(64), func(c *passauth.Config) { c.Leeway = 5 * time.Second })
	iss := f.iss
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	_, err = iss.VerifyAccess(ctx, pair.AccessToken) // cached
	require.NoError(t, err)

	f.clock.Advance(testAccessTTL + 4*time.Second) // past exp, within the leeway
	_, err = iss.VerifyAccess(ctx, pair.AccessToken)
	require.NoError(t, err)

	f.clock.Advance(time.Second) // exp + leeway
	_, err = iss.VerifyAccess(ctx, pair.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenExpired)
}

func TestVerifyCacheDoesNotCacheFailures(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t, withVerifyCache(64))
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	for range 2 {
		_, err = iss.VerifyAccess(ctx, pair.RefreshToken)
		require.ErrorIs(t, err, passauth.ErrTokenInvalid, "a refresh token is no access token, cached or not")
		_, err = iss.VerifyAccess(ctx, pair.AccessToken+"x")
		require.ErrorIs(t, err, passauth.ErrTokenInvalid)
	}
}

func TestVerifyCacheKeepsCheckingRevocation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withVerifyCache(64), withMemoryStore, withCheckRevoked)
	iss := f.iss
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	_, err = iss.VerifyAccess(ctx, pair.AccessToken) // cached
	require.NoError(t, err)

	require.NoError(t, iss.Revoke(ctx, pair.AccessToken))
	_, err = iss.VerifyAccess(ctx, pair.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid, "a cache hit does not bypass the denylist")

	other, err := iss.IssuePair(ctx, "bob")
	require.NoError(t, err)
	_, err = iss.VerifyAccess(ctx, other.AccessToken)
	require.NoError(t, err)
	f.clock.Advance(time.Second)
	require.NoError(t, iss.RevokeSubject(ctx, "bob"))
	_, err = iss.VerifyAccess(ctx, other.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
}

func TestVerifyCacheConcurrentAndBounded(t *testing.T) {
	t.Parallel()
	iss := newIssuer(t, withVerifyCache(16)) // far fewer entries than tokens
	ctx := context.Background()
	tokens := make([]string, 200)
	for i := range tokens {
		pair, err := iss.IssuePair(ctx, fmt.Sprintf("user%d", i))
		require.NoError(t, err)
		tokens[i] = pair.AccessToken
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 5 {
				for i := range tokens {
					j := (i + g*25 + round) % len(tokens)
					c, err := iss.VerifyAccess(ctx, tokens[j])
					if err == nil && c.Subject != fmt.Sprintf("user%d", j) {
						err = fmt.Errorf("token %d verified as %q", j, c.Subject)
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkVerifyAccessCache compares a cache hit with a miss (a full
// verification, plus remembering the result) and with no cache.
func BenchmarkVerifyAccessCache(b *testing.B) {
	ctx := context.Background()
	b.Run("none", func(b *testing.B) {
		iss := newIssuer(b)
		pair, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me items"))
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := iss.VerifyAccess(ctx, pair.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hit", func(b *testing.B) {
		iss := newIssuer(b, withVerifyCache(1024))
		pair, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me items"))
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := iss.VerifyAccess(ctx, pair.AccessToken); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		// 1024 tokens through 16 entries: nearly every lookup misses,
		// verifies and evicts.
		iss := newIssuer(b, withVerifyCache(16))
		tokens := make([]string, 1024)
		for i := range tokens {
			pair, err := iss.IssuePair(ctx, "alice", passauth.WithScope("me items"))
			require.NoError(b, err)
			tokens[i] = pair.AccessToken
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := iss.VerifyAccess(ctx, tokens[i%len(tokens)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
