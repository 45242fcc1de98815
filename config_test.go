package passauth_test

// NewTokenIssuer's checks of a Config: what it refuses and what it
// accepts. ConfigFromEnv is tested in env_test.go.

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestNewTokenIssuerRejects(t *testing.T) {
	t.Parallel()
	short := []byte("too-short-secret-0123456789abcd") // 31 bytes
	require.Len(t, short, passauth.MinSecretLen-1)

	tests := []struct {
		name  string
		mod   func(*passauth.Config)
		field string // the field the error must name
	}{
		{"nil AccessSecret", func(c *passauth.Config) { c.AccessSecret = nil }, "AccessSecret"},
		{"short AccessSecret", func(c *passauth.Config) { c.AccessSecret = short }, "AccessSecret"},
		{"nil RefreshSecret", func(c *passauth.Config) { c.RefreshSecret = nil }, "RefreshSecret"},
		{"short RefreshSecret", func(c *passauth.Config) { c.RefreshSecret = short }, "RefreshSecret"},
		{"equal secrets", func(c *passauth.Config) { c.RefreshSecret = bytes.Clone(c.AccessSecret) }, "RefreshSecret"},
		{"zero AccessTTL", func(c *passauth.Config) { c.AccessTTL = 0 }, "AccessTTL"},
		{"negative AccessTTL", func(c *passauth.Config) { c.AccessTTL = -time.Minute }, "AccessTTL"},
		{"AccessTTL under a second", func(c *passauth.Config) { c.AccessTTL = 500 * time.Millisecond }, "AccessTTL"},
		{"AccessTTL just under a second", func(c *passauth.Config) { c.AccessTTL = time.Second - time.Nanosecond }, "AccessTTL"},
		{"RefreshTTL equal to AccessTTL", func(c *passauth.Config) { c.RefreshTTL = c.AccessTTL }, "RefreshTTL"},
		{"RefreshTTL shorter than AccessTTL", func(c *passauth.Config) { c.RefreshTTL = c.AccessTTL - time.Second }, "RefreshTTL"},
		{"zero RefreshTTL", func(c *passauth.Config) { c.RefreshTTL = 0 }, "RefreshTTL"},
		{"negative Leeway", func(c *passauth.Config) { c.Leeway = -time.Second }, "Leeway"},
		{"Leeway above MaxLeeway", func(c *passauth.Config) { c.Leeway = passauth.MaxLeeway + time.Nanosecond }, "Leeway"},
		{"negative VerifyCacheSize", func(c *passauth.Config) { c.VerifyCacheSize = -1 }, "VerifyCacheSize"},
		{"negative MaxBodyBytes", func(c *passauth.Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes"},
		{"negative MaxConcurrentHashes", func(c *passauth.Config) { c.MaxConcurrentHashes = -1 }, "MaxConcurrentHashes"},
		{"negative HashWait", func(c *passauth.Config) { c.HashWait = -time.Second }, "HashWait"},
		// A policy that cannot hash would leave unknown users without the
		// dummy check that makes them cost what a known user costs.
		{"Argon2id memory over the cap", withHasher(passauth.Argon2id{Memory: 1 << 20}), "PasswordHasher"},
		{"Argon2id time over the cap", withHasher(passauth.Argon2id{Time: 1000}), "PasswordHasher"},
		{"Argon2id memory under 8 KiB a lane", withHasher(passauth.Argon2id{Memory: 7}), "PasswordHasher"},
		{"Bcrypt cost over 31", withHasher(passauth.Bcrypt{Cost: 32}), "PasswordHasher"},
		{"Bcrypt cost under 4", withHasher(passauth.Bcrypt{Cost: 3}), "PasswordHasher"},
		{"custom hasher that fails", withHasher(brokenHasher{err: errors.New("no entropy")}), "PasswordHasher"},
		{"custom hasher that returns nothing", withHasher(brokenHasher{}), "PasswordHasher"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(tc.mod)
			iss, err := passauth.NewTokenIssuer(cfg)
			require.Error(t, err)
			assert.Nil(t, iss)
			msg := err.Error()
			assert.Contains(t, msg, tc.field)
			assert.True(t, strings.HasPrefix(msg, "passauth: "), msg)
			for _, secret := range [][]byte{cfg.AccessSecret, cfg.RefreshSecret, short} {
				if len(secret) > 0 {
					assert.NotContains(t, msg, string(secret))
				}
			}
		})
	}
}

// brokenHasher is a password policy whose Hash fails with err, or returns
// an empty hash when err is nil.
type brokenHasher struct{ err error }

func (h brokenHasher) Hash(string) (string, error) { return "", h.err }
func (brokenHasher) Check(string, string) error    { return passauth.ErrInvalidHash }
func (brokenHasher) NeedsRehash(string) bool       { return false }

func TestNewTokenIssuerAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*passauth.Config)
	}{
		{"base", func(*passauth.Config) {}},
		{"secrets of exactly MinSecretLen", func(c *passauth.Config) {
			c.AccessSecret = []byte(strings.Repeat("a", passauth.MinSecretLen))
			c.RefreshSecret = []byte(strings.Repeat("r", passauth.MinSecretLen))
		}},
		{"secrets differing in length only", func(c *passauth.Config) {
			c.RefreshSecret = append(bytes.Clone(c.AccessSecret), 'x')
		}},
		{"RefreshTTL just above AccessTTL", func(c *passauth.Config) { c.RefreshTTL = c.AccessTTL + time.Nanosecond }},
		{"AccessTTL of MinTokenTTL", func(c *passauth.Config) { c.AccessTTL = passauth.MinTokenTTL; c.RefreshTTL = 2 * time.Second }},
		{"Leeway MaxLeeway", func(c *passauth.Config) { c.Leeway = passauth.MaxLeeway }},
		{"Issuer and Audience", withIssuerAudience},
		{"MaxBodyBytes set", func(c *passauth.Config) { c.MaxBodyBytes = 1 }},
		{"nil PasswordHasher and nil Now", func(c *passauth.Config) { c.PasswordHasher = nil; c.Now = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(tc.mod)
			iss, err := passauth.NewTokenIssuer(cfg)
			require.NoError(t, err)
			require.NotNil(t, iss)
			pair, err := iss.IssuePair(context.Background(), "alice")
			require.NoError(t, err)
			c, err := iss.VerifyAccess(context.Background(), pair.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, "alice", c.Subject)
			assert.Equal(t, int64(cfg.AccessTTL/time.Second), pair.ExpiresIn)
		})
	}
}

// configEnvVars are the variables ConfigFromEnv reads.
var configEnvVars = []string{
	"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET",
	"ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_MINUTES",
	"ACCESS_TOKEN_TTL", "REFRESH_TOKEN_TTL",
	"ACCESS_TOKEN_SIGNING_KEY", "ACCESS_TOKEN_PREVIOUS_KEYS",
	"ACCESS_TOKEN_PREVIOUS_SECRET", "REFRESH_TOKEN_PREVIOUS_SECRET",
}

const (
	envAccessSecret  = "env-access-secret-value-0123456789abcdef"
	envRefreshSecret = "env-refresh-secret-value-0123456789abcdef"
)
