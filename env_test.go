package passauth_test

// ConfigFromEnv: secrets, lifetimes and key files from the environment,
// and the errors it gives for each bad variable.

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// setConfigEnv clears every variable ConfigFromEnv reads (an empty value
// counts as unset) and then sets env. It uses t.Setenv, so the test must not
// be parallel.
func setConfigEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, name := range configEnvVars {
		t.Setenv(name, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// TestConfigFromEnv is not parallel: it sets environment variables.
func TestConfigFromEnv(t *testing.T) {
	seed := map[string]string{
		"ACCESS_TOKEN_SECRET":          envAccessSecret,
		"REFRESH_TOKEN_SECRET":         envRefreshSecret,
		"ACCESS_TOKEN_EXPIRE_MINUTES":  "30",
		"REFRESH_TOKEN_EXPIRE_MINUTES": "10080",
	}
	with := func(extra map[string]string) map[string]string {
		m := make(map[string]string, len(seed)+len(extra))
		for k, v := range seed {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name        string
		env         map[string]string
		wantAccess  time.Duration
		wantRefresh time.Duration
	}{
		{"seed variables", seed, 30 * time.Minute, 7 * 24 * time.Hour},
		{"ACCESS_TOKEN_TTL wins", with(map[string]string{"ACCESS_TOKEN_TTL": "90s"}), 90 * time.Second, 7 * 24 * time.Hour},
		{"REFRESH_TOKEN_TTL wins", with(map[string]string{"REFRESH_TOKEN_TTL": "36h"}), 30 * time.Minute, 36 * time.Hour},
		{"both TTLs without minutes", map[string]string{
			"ACCESS_TOKEN_SECRET":  envAccessSecret,
			"REFRESH_TOKEN_SECRET": envRefreshSecret,
			"ACCESS_TOKEN_TTL":     "5m",
			"REFRESH_TOKEN_TTL":    "1h30m",
		}, 5 * time.Minute, 90 * time.Minute},
		{"TTL wins over malformed minutes", with(map[string]string{
			"ACCESS_TOKEN_EXPIRE_MINUTES": "abc",
			"ACCESS_TOKEN_TTL":            "2m",
		}), 2 * time.Minute, 7 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setConfigEnv(t, tc.env)
			cfg, err := passauth.ConfigFromEnv()
			require.NoError(t, err)
			assert.Equal(t, []byte(envAccessSecret), cfg.AccessSecret)
			assert.Equal(t, []byte(envRefreshSecret), cfg.RefreshSecret)
			assert.Equal(t, tc.wantAccess, cfg.AccessTTL)
			assert.Equal(t, tc.wantRefresh, cfg.RefreshTTL)

			iss, err := passauth.NewTokenIssuer(cfg)
			require.NoError(t, err)
			pair, err := iss.IssuePair(context.Background(), "alice")
			require.NoError(t, err)
			assert.Equal(t, int64(tc.wantAccess/time.Second), pair.ExpiresIn)
		})
	}
}

// TestConfigFromEnvErrors is not parallel: it sets environment variables.
func TestConfigFromEnvErrors(t *testing.T) {
	seed := map[string]string{
		"ACCESS_TOKEN_SECRET":          envAccessSecret,
		"REFRESH_TOKEN_SECRET":         envRefreshSecret,
		"ACCESS_TOKEN_EXPIRE_MINUTES":  "30",
		"REFRESH_TOKEN_EXPIRE_MINUTES": "10080",
	}
	tests := []struct {
		name    string
		set     map[string]string // applied over seed; "" unsets
		varName string            // the variable the error must name
		value   string            // a value the error must not repeat
	}{
		{"missing ACCESS_TOKEN_SECRET", map[string]string{"ACCESS_TOKEN_SECRET": ""}, "ACCESS_TOKEN_SECRET", envRefreshSecret},
		{"missing REFRESH_TOKEN_SECRET", map[string]string{"REFRESH_TOKEN_SECRET": ""}, "REFRESH_TOKEN_SECRET", envAccessSecret},
		{"missing access TTL", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": ""}, "ACCESS_TOKEN_EXPIRE_MINUTES", envAccessSecret},
		{"missing refresh TTL", map[string]string{"REFRESH_TOKEN_EXPIRE_MINUTES": ""}, "REFRESH_TOKEN_EXPIRE_MINUTES", envRefreshSecret},
		{"access minutes abc", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "abc-sentinel"}, "ACCESS_TOKEN_EXPIRE_MINUTES", "abc-sentinel"},
		{"access minutes -1", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "-1"}, "ACCESS_TOKEN_EXPIRE_MINUTES", "-1"},
		{"access minutes fractional", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "1.5"}, "ACCESS_TOKEN_EXPIRE_MINUTES", "1.5"},
		{"access minutes overflow", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "99999999999999"}, "ACCESS_TOKEN_EXPIRE_MINUTES", "99999999999999"},
		{"refresh minutes abc", map[string]string{"REFRESH_TOKEN_EXPIRE_MINUTES": "abc-sentinel"}, "REFRESH_TOKEN_EXPIRE_MINUTES", "abc-sentinel"},
		{"refresh minutes -1", map[string]string{"REFRESH_TOKEN_EXPIRE_MINUTES": "-1"}, "REFRESH_TOKEN_EXPIRE_MINUTES", "-1"},
		{"access TTL malformed", map[string]string{"ACCESS_TOKEN_TTL": "15 minutes-sentinel"}, "ACCESS_TOKEN_TTL", "15 minutes-sentinel"},
		{"access TTL without unit", map[string]string{"ACCESS_TOKEN_TTL": "900"}, "ACCESS_TOKEN_TTL", "900"},
		{"refresh TTL malformed", map[string]string{"REFRESH_TOKEN_TTL": "week-sentinel"}, "REFRESH_TOKEN_TTL", "week-sentinel"},
		{"short ACCESS_TOKEN_SECRET", map[string]string{"ACCESS_TOKEN_SECRET": "short-secret-sentinel"}, "ACCESS_TOKEN_SECRET", "short-secret-sentinel"},
		{"short REFRESH_TOKEN_SECRET", map[string]string{"REFRESH_TOKEN_SECRET": "short-secret-sentinel"}, "REFRESH_TOKEN_SECRET", "short-secret-sentinel"},
		{"short ACCESS_TOKEN_PREVIOUS_SECRET", map[string]string{"ACCESS_TOKEN_PREVIOUS_SECRET": "short-secret-sentinel"}, "ACCESS_TOKEN_PREVIOUS_SECRET", "short-secret-sentinel"},
		{"short REFRESH_TOKEN_PREVIOUS_SECRET", map[string]string{"REFRESH_TOKEN_PREVIOUS_SECRET": "short-secret-sentinel"}, "REFRESH_TOKEN_PREVIOUS_SECRET", "short-secret-sentinel"},
		{"equal secrets", map[string]string{"REFRESH_TOKEN_SECRET": envAccessSecret}, "REFRESH_TOKEN_SECRET", envAccessSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := make(map[string]string, len(seed)+len(tc.set))
			for k, v := range seed {
				env[k] = v
			}
			for k, v := range tc.set {
				env[k] = v
			}
			setConfigEnv(t, env)
			cfg, err := passauth.ConfigFromEnv()
			require.Error(t, err)
			assert.Equal(t, passauth.Config{}, cfg)
			msg := err.Error()
			assert.Contains(t, msg, tc.varName)
			assert.NotContains(t, msg, tc.value)
			if strings.Contains(tc.varName, "SECRET") {
				assert.Contains(t, msg, "openssl rand -base64 48", "the error says how to make a secret")
			}
			assert.NotContains(t, msg, envAccessSecret)
			assert.NotContains(t, msg, envRefreshSecret)
		})
	}

	t.Run("all missing names every variable", func(t *testing.T) {
		setConfigEnv(t, nil)
		_, err := passauth.ConfigFromEnv()
		require.Error(t, err)
		for _, name := range []string{"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET", "ACCESS_TOKEN_EXPIRE_MINUTES", "REFRESH_TOKEN_EXPIRE_MINUTES"} {
			assert.Contains(t, err.Error(), name)
		}
	})
}

// TestConfigFromEnvKeys reads the key variables: a PKCS#8 signing key, the
// previous keys as PKCS#8 or PKIX files, the previous secrets. Errors name
// the variable and never a key's bytes.
func TestConfigFromEnvKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey())
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKIXPublicKey(ecKey().Public())
	require.NoError(t, err)
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	require.NoError(t, err)
	signing := write("signing.pem", "PRIVATE KEY", edDER)
	previous := write("previous.pem", "PUBLIC KEY", ecDER) + ", " + write("old-rsa.pem", "PRIVATE KEY", rsaDER)

	setConfigEnv(t, map[string]string{
		"ACCESS_TOKEN_SIGNING_KEY":      signing,
		"ACCESS_TOKEN_PREVIOUS_KEYS":    previous,
		"ACCESS_TOKEN_PREVIOUS_SECRET":  string(testAccessSecret),
		"REFRESH_TOKEN_SECRET":          string(testRefreshSecret),
		"REFRESH_TOKEN_PREVIOUS_SECRET": "tests: the OLD refresh secret, 32+ bytes",
		"ACCESS_TOKEN_TTL":              "15m", "REFRESH_TOKEN_TTL": "24h",
	})
	cfg, err := passauth.ConfigFromEnv()
	require.NoError(t, err)
	require.Nil(t, cfg.AccessSecret)
	ids := make([]string, len(cfg.AccessKeys))
	for i, k := range cfg.AccessKeys {
		ids[i] = k.ID()
	}
	assert.Equal(t, []string{passauth.SigningKey(edKey()).ID(), passauth.VerifyingKey(ecKey().Public()).ID(),
		passauth.VerifyingKey(rsaKey().Public()).ID(), passauth.SecretKey(testAccessSecret).ID()}, ids)
	require.Len(t, cfg.RefreshKeys, 2)
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	pair, err := iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, "EdDSA", tokenHeader(t, pair.AccessToken)["alg"])

	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGJ5dGVzIGhlcmU=\n-----END PRIVATE KEY-----\n"), 0o600))
	for name, env := range map[string]map[string]string{
		"ACCESS_TOKEN_SIGNING_KEY":   {"ACCESS_TOKEN_SIGNING_KEY": garbage},
		"ACCESS_TOKEN_PREVIOUS_KEYS": {"ACCESS_TOKEN_SECRET": string(testAccessSecret), "ACCESS_TOKEN_PREVIOUS_KEYS": filepath.Join(dir, "missing.pem")},
	} {
		env["REFRESH_TOKEN_SECRET"], env["ACCESS_TOKEN_TTL"], env["REFRESH_TOKEN_TTL"] = string(testRefreshSecret), "1m", "1h"
		setConfigEnv(t, env)
		_, err := passauth.ConfigFromEnv()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		assert.NotContains(t, err.Error(), "c2VjcmV0")
		assert.NotContains(t, err.Error(), dir, "the error holds no path")
	}
}
