package interop_test

// A key rollover on the issuer, seen by a running passauth.Verifier.

import (
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestVerifierRollover rolls the issuer's signing key over, redeploying it
// at the same URL, under a Verifier that discovered its JWKS through the
// RFC 8414 metadata and is never restarted:
//
//  1. instance A signs with key a; the Verifier fetches the set;
//  2. (announced only) A publishes b as a VerifyingKey, and the Verifier's
//     copy of the set ages, so that it fetches it again;
//  3. instance B signs with b and lists a as a VerifyingKey. Its tokens
//     verify: announced, with no fetch; unannounced, after the one fetch
//     that their unknown "kid" causes. A's tokens still verify;
//  4. instance C retires a. Until the Verifier's copy of the set ages, A's
//     tokens still verify (retiring a key is no revocation); once it has
//     and a request has caused the fetch, they are refused, and each costs
//     at most one more fetch per RefetchInterval; B's tokens verify.
//
// The clocks of the issuer and the Verifier are one injected clock, which
// never passes AccessTTL: A's last refusal is for the key, not for "exp".
func TestVerifierRollover(t *testing.T) {
	t.Parallel()
	ed, ec, rs := algorithms[0].newKey, algorithms[1].newKey, algorithms[2].newKey
	tests := []struct {
		name     string
		from, to func(*testing.T) crypto.Signer
		announce bool
	}{
		{"EdDSA to ES256, unannounced", ed, ec, false},
		{"ES256 to RS256, unannounced", ec, rs, false},
		{"RS256 to EdDSA, unannounced", rs, ed, false},
		{"ES256 to EdDSA, announced", ec, ed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			a, b := tt.from(t), tt.to(t)
			srv := newIssuerServer(t, "")
			fetches := make(chan passauth.Event, 16) // more than the test causes
			v, err := passauth.NewVerifier(passauth.VerifierConfig{
				Issuer:   srv.URL,
				Discover: true,
				Now:      srv.clock.Now,
				OnEvent: func(_ context.Context, e passauth.Event) {
					if e.Kind == passauth.EventKeysRefreshed || e.Kind == passauth.EventKeysRefreshFailed {
						fetches <- e
					}
				},
			})
			require.NoError(t, err)
			verifies := func(token, msg string) {
				t.Helper()
				claims, err := v.VerifyAccess(ctx, token)
				require.NoError(t, err, msg)
				assert.Equal(t, "johndoe", claims.Subject, msg)
			}
			jwksFetches := func() int64 { return srv.jwksFetches.Load() }

			// 1. A signs with a.
			srv.deploy(t, passauth.SigningKey(a))
			tokenA := srv.login(t)
			verifies(tokenA, "A's token")
			awaitFetch(t, fetches)
			assert.Equal(t, int64(1), srv.metadataFetches.Load())
			assert.Equal(t, int64(1), jwksFetches())

			// 2. A publishes b, and the Verifier's copy of the set ages.
			if tt.announce {
				srv.deploy(t, passauth.SigningKey(a), passauth.VerifyingKey(b.Public()))
				srv.clock.Advance(jwksMaxAge + time.Second)
				verifies(tokenA, "A's token, while the aged set is fetched again")
				awaitFetch(t, fetches)
				assert.Equal(t, int64(2), jwksFetches())
			}

			// 3. B signs with b and lists a.
			srv.deploy(t, passauth.SigningKey(b), passauth.VerifyingKey(a.Public()))
			tokenB := srv.login(t)
			before := jwksFetches()
			verifies(tokenB, "B's token")
			if tt.announce {
				assert.Equal(t, before, jwksFetches(), "b was known ahead: no fetch")
			} else {
				awaitFetch(t, fetches)
				assert.Equal(t, before+1, jwksFetches(), "b's unknown kid: one fetch")
			}
			verifies(tokenA, "A's token, a still listed")
			verifies(tokenB, "B's token again")
			assert.Equal(t, int64(1), srv.metadataFetches.Load(), "discovered once")

			// 4. C retires a.
			srv.deploy(t, passauth.SigningKey(b))
			verifies(tokenA, "A's token, before the Verifier's set has aged")
			srv.clock.Advance(jwksMaxAge + time.Second)
			verifies(tokenB, "B's token, while the aged set is fetched again")
			awaitFetch(t, fetches)
			before = jwksFetches()
			_, err = v.VerifyAccess(ctx, tokenA)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid, "A's token, a retired")
			assert.NotErrorIs(t, err, passauth.ErrTokenExpired)
			awaitFetch(t, fetches) // a's kid is unknown now: one fetch, in vain
			assert.Equal(t, before+1, jwksFetches())
			_, err = v.VerifyAccess(ctx, tokenA)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid, "A's token again")
			assert.Equal(t, before+1, jwksFetches(), "no fetch within RefetchInterval")
			verifies(tokenB, "B's token, after the retirement")
			assert.Empty(t, fetches)

			// The refusal is a's retirement: with a, the token still verifies.
			withA, err := passauth.NewVerifier(passauth.VerifierConfig{
				Issuer: srv.URL, Keys: []passauth.Key{passauth.VerifyingKey(a.Public())}, Now: srv.clock.Now,
			})
			require.NoError(t, err)
			_, err = withA.VerifyAccess(ctx, tokenA)
			require.NoError(t, err)
		})
	}
}

// awaitFetch waits for the end of the Verifier's next fetch of the key set
// and requires it to have worked. A fetch ends, with one of the two events,
// within the Verifier's fetch timeout (5 s); the minute bounds a test whose
// fetch never started.
func awaitFetch(t *testing.T, fetches <-chan passauth.Event) {
	t.Helper()
	select {
	case e := <-fetches:
		require.Equal(t, passauth.EventKeysRefreshed, e.Kind, "the fetch failed: %v", e.Err)
	case <-time.After(time.Minute):
		t.Fatal("no fetch of the key set ended")
	}
}
