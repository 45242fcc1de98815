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

// cacheIssuer returns an issuer with a verify cache on a clock the test
// moves.
func cacheIssuer(t testing.TB, size int, store passauth.Store) (*passauth.TokenIssuer, *time.Time) {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:    []byte("cache-test-access-secret-0123456789ab"),
		RefreshSecret:   []byte("cache-test-refresh-secret-0123456789ab"),
		AccessTTL:       time.Minute,
		RefreshTTL:      time.Hour,
		Leeway:          5 * time.Second,
		VerifyCacheSize: size,
		Store:           store,
		CheckRevoked:    store != nil,
		Now:             func() time.Time { return now },
	})
	require.NoError(t, err)
	return iss, &now
}

func TestVerifyCacheHitReturnsTheSameClaims(t *testing.T) {
	t.Parallel()
	iss, _ := cacheIssuer(t, 64, nil)
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

func TestVerifyCacheNeverOutlivesTheToken(t *testing.T) {
	t.Parallel()
	iss, now := cacheIssuer(t, 64, nil)
	ctx := context.Background()
	pair, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)
	_, err = iss.VerifyAccess(ctx, pair.AccessToken) // cached
	require.NoError(t, err)

	*now = now.Add(time.Minute + 4*time.Second) // past exp, within the leeway
	_, err = iss.VerifyAccess(ctx, pair.AccessToken)
	require.NoError(t, err)

	*now = now.Add(time.Second) // exp + leeway
	_, err = iss.VerifyAccess(ctx, pair.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenExpired)
}

func TestVerifyCacheDoesNotCacheFailures(t *testing.T) {
	t.Parallel()
	iss, _ := cacheIssuer(t, 64, nil)
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
	iss, now := cacheIssuer(t, 64, passauth.NewMemoryStore())
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
	*now = now.Add(time.Second)
	require.NoError(t, iss.RevokeSubject(ctx, "bob"))
	_, err = iss.VerifyAccess(ctx, other.AccessToken)
	require.ErrorIs(t, err, passauth.ErrTokenInvalid)
}

func TestVerifyCacheConcurrentAndBounded(t *testing.T) {
	t.Parallel()
	iss, _ := cacheIssuer(t, 16, nil) // far fewer entries than tokens
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

func TestVerifyCacheSizeValidated(t *testing.T) {
	t.Parallel()
	_, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:    []byte("cache-test-access-secret-0123456789ab"),
		RefreshSecret:   []byte("cache-test-refresh-secret-0123456789ab"),
		AccessTTL:       time.Minute,
		RefreshTTL:      time.Hour,
		VerifyCacheSize: -1,
	})
	require.ErrorContains(t, err, "VerifyCacheSize")
}

// BenchmarkVerifyAccessCache compares a cache hit with a miss (a full
// verification, plus remembering the result) and with no cache.
func BenchmarkVerifyAccessCache(b *testing.B) {
	ctx := context.Background()
	b.Run("none", func(b *testing.B) {
		iss, _ := cacheIssuer(b, 0, nil)
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
		iss, _ := cacheIssuer(b, 1024, nil)
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
		iss, _ := cacheIssuer(b, 16, nil)
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
