package passauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// TestNewTokenIssuerCopiesSecrets checks that the issuer keeps its own copy
// of the secrets: changing the caller's slices afterwards changes nothing.
func TestNewTokenIssuerCopiesSecrets(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	before, err := iss.IssuePair(ctx, "alice")
	require.NoError(t, err)

	for i := range cfg.AccessSecret {
		cfg.AccessSecret[i] = 'A'
	}
	for i := range cfg.RefreshSecret {
		cfg.RefreshSecret[i] = 'R'
	}
	cfg.AccessTTL = time.Nanosecond

	t.Run("old tokens still verify", func(t *testing.T) {
		_, err := iss.VerifyAccess(ctx, before.AccessToken)
		require.NoError(t, err)
		_, err = iss.VerifyRefresh(ctx, before.RefreshToken)
		require.NoError(t, err)
	})
	t.Run("new tokens use the original secrets", func(t *testing.T) {
		after, err := iss.IssuePair(ctx, "alice")
		require.NoError(t, err)
		assert.Equal(t, int64(testAccessTTL/time.Second), after.ExpiresIn)
		other := newIssuer(t) // built from the original secrets
		_, err = other.VerifyAccess(ctx, after.AccessToken)
		require.NoError(t, err)
		_, err = other.VerifyRefresh(ctx, after.RefreshToken)
		require.NoError(t, err)
	})
	t.Run("tokens signed with the mutated secret are rejected", func(t *testing.T) {
		forged := mintToken(t, jwt.SigningMethodHS256, cfg.AccessSecret, nil, nil)
		_, err := iss.VerifyAccess(ctx, forged)
		require.ErrorIs(t, err, passauth.ErrTokenInvalid)
	})
}
