package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/passauth/passauth"
)

// settings is everything the environment says, validated before the demo
// opens a connection or a port.
type settings struct {
	cfg       passauth.Config // from loadConfig; Store, Issuer and OnEvent are set later
	generated []string        // the secrets loadConfig made up, by variable name
	addr      string          // ADDR
	issuer    string          // ISSUER, "" for http:// and the listening address
	swaggerUI string          // SWAGGER_UI_URL as swaggerUIBase returns it
	database  databaseSpec    // DATABASE_URL
	redis     *redis.Options  // REDIS_URL, nil when unset

	demoUsername    string // DEMO_USERNAME
	demoPassword    string // DEMO_PASSWORD, or the default
	demoPasswordSet bool   // whether DEMO_PASSWORD was given
}

// loadSettings reads and checks every variable the demo reads. Each error
// names its variable and never repeats a secret.
func loadSettings(logger *slog.Logger) (settings, error) {
	cfg, generated, err := loadConfig(logger)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		cfg:          cfg,
		generated:    generated,
		addr:         getenvOr("ADDR", defaultAddr),
		issuer:       os.Getenv("ISSUER"),
		swaggerUI:    swaggerUIBase(os.Getenv("SWAGGER_UI_URL")),
		demoUsername: getenvOr("DEMO_USERNAME", defaultUsername),
		demoPassword: getenvOr("DEMO_PASSWORD", defaultPassword),
	}
	s.demoPasswordSet = os.Getenv("DEMO_PASSWORD") != ""
	if _, _, err := net.SplitHostPort(s.addr); err != nil {
		return settings{}, errors.New("ADDR is not a host:port to listen on, such as 127.0.0.1:8000 or :8000")
	}
	if s.issuer != "" && !metadataIssuer(s.issuer) {
		return settings{}, errors.New("ISSUER is not an https URL (or http on a loopback host) without query or fragment")
	}
	if _, err := swaggerUIOrigin(s.swaggerUI); err != nil {
		return settings{}, err
	}
	if s.database, err = parseDatabaseURL(os.Getenv("DATABASE_URL")); err != nil {
		return settings{}, err
	}
	if v := os.Getenv("REDIS_URL"); v != "" {
		if s.redis, err = redisOptions(v); err != nil {
			return settings{}, err
		}
	}
	if _, err := checkNewUsername(s.demoUsername); err != nil {
		return settings{}, fmt.Errorf("DEMO_USERNAME: %w", err)
	}
	// The rest of the Config, as passauth checks it, on a stand-in store.
	trial := demoConfig(cfg, passauth.NewMemoryStore(), slog.New(slog.DiscardHandler))
	if _, err := passauth.NewTokenIssuer(trial); err != nil {
		return settings{}, fmt.Errorf("the token settings (ACCESS_TOKEN_*, REFRESH_TOKEN_*, REFRESH_GRACE, VERIFY_CACHE_SIZE, HASH_SLOTS): %w", err)
	}
	return s, nil
}

// loadConfig returns passauth.ConfigFromEnv's Config after setting, in the
// process environment, the variables it needs that are unset: a random
// 32-byte secret for each missing secret, and the default lifetimes when
// neither of a token's two lifetime variables is set, and the names of the
// secrets it made (which run replaces with those the database keeps). It
// never logs a secret's value. HASH_SLOTS, when set, is the Config's
// MaxConcurrentHashes.
func loadConfig(logger *slog.Logger) (passauth.Config, []string, error) {
	var generated []string
	for _, name := range []string{"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET"} {
		if os.Getenv(name) != "" || (name == "ACCESS_TOKEN_SECRET" && os.Getenv("ACCESS_TOKEN_SIGNING_KEY") != "") {
			continue
		}
		if err := os.Setenv(name, randomSecret()); err != nil {
			return passauth.Config{}, nil, err
		}
		generated = append(generated, name)
	}
	if len(generated) > 0 {
		logger.Warn("token secrets unset: the demo uses random ones, kept in its database so that sessions survive a restart; "+
			"set them in production (openssl rand -base64 48)", "unset", generated)
	}
	ttls := []struct{ duration, minutes, value string }{
		{"ACCESS_TOKEN_TTL", "ACCESS_TOKEN_EXPIRE_MINUTES", defaultAccessTTL},
		{"REFRESH_TOKEN_TTL", "REFRESH_TOKEN_EXPIRE_MINUTES", defaultRefreshTTL},
	}
	for _, ttl := range ttls {
		if os.Getenv(ttl.duration) != "" || os.Getenv(ttl.minutes) != "" {
			continue
		}
		if err := os.Setenv(ttl.duration, ttl.value); err != nil {
			return passauth.Config{}, nil, err
		}
	}
	cfg, err := passauth.ConfigFromEnv()
	if err != nil {
		return passauth.Config{}, nil, err
	}
	switch {
	case cfg.AccessTTL < passauth.MinTokenTTL:
		return passauth.Config{}, nil, fmt.Errorf("ACCESS_TOKEN_TTL (or ACCESS_TOKEN_EXPIRE_MINUTES) is shorter than %v", passauth.MinTokenTTL)
	case cfg.RefreshTTL <= cfg.AccessTTL:
		return passauth.Config{}, nil, fmt.Errorf("REFRESH_TOKEN_TTL (%v) is not longer than ACCESS_TOKEN_TTL (%v)", cfg.RefreshTTL, cfg.AccessTTL)
	}
	if v := os.Getenv("HASH_SLOTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return passauth.Config{}, nil, errors.New("HASH_SLOTS is not a whole number of hashing slots (0 for the default)")
		}
		cfg.MaxConcurrentHashes = n
	}
	if v := os.Getenv("REFRESH_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > passauth.MaxRefreshGrace {
			return passauth.Config{}, nil, fmt.Errorf("REFRESH_GRACE is not a Go duration from 0s to %v, such as 10s", passauth.MaxRefreshGrace)
		}
		cfg.RefreshGrace = d
	}
	cfg.VerifyCacheSize = defaultVerifyCacheSize
	if v := os.Getenv("VERIFY_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return passauth.Config{}, nil, errors.New("VERIFY_CACHE_SIZE is not a whole number of entries (0 for no cache)")
		}
		cfg.VerifyCacheSize = n
	}
	return cfg, generated, nil
}

// defaultVerifyCacheSize is the demo's Config.VerifyCacheSize when
// VERIFY_CACHE_SIZE is unset: the library's default is no cache (a new
// knob's zero value keeps the old behaviour), but a browser or an app
// presents one access token for many requests, and a hit costs a few
// percent of a verification (benchmarks/README.md, "The protected request
// over HTTP"). Revocation is still checked on every hit.
const defaultVerifyCacheSize = 1024

// randomSecret returns 32 random bytes, base64url-encoded so that they fit in
// an environment variable.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// metadataIssuer reports whether issuer may publish RFC 8414 metadata: an
// https URL, or http on a loopback host, without query or fragment.
func metadataIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return u.Scheme == "http" && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback())
}

// getenvOr returns the environment variable name, or def when it is unset or
// empty.
func getenvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
