// Command server is the passauth demo: the seed application's password
// login, refresh and Bearer-protected endpoint on a plain http.ServeMux.
//
//	go run ./examples/server
//
// It reads the environment of passauth.ConfigFromEnv and fills in what is
// missing: random secrets (with a warning, since tokens then do not survive a
// restart) and lifetimes of 15 minutes for access tokens and 24 hours for
// refresh tokens. ADDR sets the listening address (default 127.0.0.1:8000);
// DEMO_USERNAME and DEMO_PASSWORD set the one user (default johndoe and
// secret).
//
// Routes:
//
//	POST /api/auth/login    the token endpoint (password and refresh_token grants)
//	POST /api/auth/refresh  a new pair for a refresh token (JSON, form or Bearer)
//	GET  /api/users/me      {"username": <sub>}, with a Bearer access token
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/passauth/passauth"
)

// Defaults for the variables the environment leaves unset.
const (
	defaultAddr       = "127.0.0.1:8000"
	defaultUsername   = "johndoe"
	defaultPassword   = "secret"
	defaultAccessTTL  = "15m"
	defaultRefreshTTL = "24h"
)

// Server limits. A token endpoint's requests and answers are small, so the
// timeouts can be short.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	shutdownTimeout   = 10 * time.Second
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, logger, nil)
	stop()
	if err != nil {
		logger.Error("server failed", "err", err)
		os.Exit(1)
	}
}

// run configures the server from the environment, serves until ctx is done
// and then shuts down gracefully. When ready is not nil, run calls it with the
// listening address once the server accepts connections.
func run(ctx context.Context, logger *slog.Logger, ready func(addr string)) error {
	cfg, err := loadConfig(logger)
	if err != nil {
		return err
	}
	hash, err := passauth.HashPassword(getenvOr("DEMO_PASSWORD", defaultPassword))
	if err != nil {
		return fmt.Errorf("hashing DEMO_PASSWORD: %w", err)
	}
	handler, err := newHandler(cfg, getenvOr("DEMO_USERNAME", defaultUsername), hash)
	if err != nil {
		return err
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", getenvOr("ADDR", defaultAddr))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", "http://"+ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		return err // Serve returns only on failure until Shutdown is called
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadConfig returns passauth.ConfigFromEnv's Config after setting, in the
// process environment, the variables it needs that are unset: a random
// 32-byte secret for each missing secret, and the default lifetimes when
// neither of a token's two lifetime variables is set. It never logs a
// secret's value.
func loadConfig(logger *slog.Logger) (passauth.Config, error) {
	var generated []string
	for _, name := range []string{"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET"} {
		if os.Getenv(name) != "" {
			continue
		}
		if err := os.Setenv(name, randomSecret()); err != nil {
			return passauth.Config{}, err
		}
		generated = append(generated, name)
	}
	if len(generated) > 0 {
		logger.Warn("generated random token secrets; tokens will not survive a restart",
			"unset", generated)
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
			return passauth.Config{}, err
		}
	}
	return passauth.ConfigFromEnv()
}

// randomSecret returns 32 random bytes, base64url-encoded so that they fit in
// an environment variable.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// getenvOr returns the environment variable name, or def when it is unset or
// empty.
func getenvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newHandler returns the demo's routes for one user, username, whose password
// has the bcrypt hash passwordHash.
func newHandler(cfg passauth.Config, username, passwordHash string) (http.Handler, error) {
	iss, err := passauth.NewTokenIssuer(cfg)
	if err != nil {
		return nil, err
	}
	users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		if name != username {
			return passauth.User{}, false, nil
		}
		return passauth.User{
			Username:     username,
			PasswordHash: passwordHash,
			Scopes:       []string{"me", "items"},
		}, true, nil
	})

	mux := http.NewServeMux()
	mux.Handle("/api/auth/login", iss.TokenHandler(users))
	mux.Handle("/api/auth/refresh", iss.RefreshHandler(users))
	mux.Handle("GET /api/users/me", iss.Authenticate(http.HandlerFunc(me)))
	return mux, nil
}

// me answers the authenticated user's name.
func me(w http.ResponseWriter, r *http.Request) {
	claims, ok := passauth.ClaimsFromContext(r.Context())
	if !ok {
		// Authenticate always sets the claims; this is a wiring mistake.
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Username string `json:"username"`
	}{claims.Subject})
}
