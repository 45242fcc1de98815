// Command server is the passauth demo: the seed application's password
// login, refresh and Bearer-protected endpoint on a plain http.ServeMux, with
// refresh-token rotation, reuse detection, revocation, OAuth 2.0 scopes and
// Swagger UI docs whose Authorize button logs in.
//
//	go run ./examples/server
//	open http://127.0.0.1:8000/docs   # Authorize as johndoe / secret
//
// It reads the environment of passauth.ConfigFromEnv and fills in what is
// missing: random secrets (with a warning, since tokens then do not survive a
// restart) and lifetimes of 15 minutes for access tokens and 24 hours for
// refresh tokens. Other variables:
//
//   - ADDR: the listening address (default 127.0.0.1:8000);
//   - ISSUER: passauth.Config.Issuer, the "iss" of every token and the
//     issuer of the RFC 8414 metadata (default http:// and the address it
//     listens on); it must be an https URL, or http on a loopback host;
//   - ACCESS_TOKEN_SIGNING_KEY, ACCESS_TOKEN_PREVIOUS_KEYS,
//     ACCESS_TOKEN_PREVIOUS_SECRET and REFRESH_TOKEN_PREVIOUS_SECRET: the
//     keys of passauth.ConfigFromEnv, for asymmetric access tokens (which
//     examples/resource verifies with the JWKS alone) and key rotation;
//     with a signing key, no access secret is generated;
//   - DEMO_USERNAME and DEMO_PASSWORD: the one user (default johndoe and
//     secret), whose password is hashed with passauth.HashPassword (Argon2id)
//     at startup;
//   - SWAGGER_UI_URL: the base URL under which /docs loads Swagger UI's
//     swagger-ui-bundle.js and swagger-ui.css (default /docs/assets, where
//     the demo serves the copy it embeds, so that /docs works offline), for
//     example https://cdn.jsdelivr.net/npm/swagger-ui-dist@5 as FastAPI
//     does: an http or https URL, or a path on this server. The page's
//     Content-Security-Policy allows scripts, styles and images from that
//     origin and the demo only;
//   - HASH_SLOTS: passauth.Config.MaxConcurrentHashes, the password checks
//     that may run at once (default 0: passauth's default, half the CPUs);
//     scripts/loadtest.sh sets it to compare bounds under a login flood;
//   - REFRESH_GRACE: passauth.Config.RefreshGrace, a Go duration such as
//     10s (default 0: strict): within it, the refresh token a rotation just
//     replaced (a second tab, a retry after a lost answer) is answered with
//     the session's current one instead of ending the session;
//   - VERIFY_CACHE_SIZE: passauth.Config.VerifyCacheSize, the verified
//     access tokens to remember (default 0: no cache);
//   - REDIS_URL: keep sessions and revocations in Redis, for example
//     redis://127.0.0.1:6379/0 or redis://:password@host:6379/0. Client
//     options go in the query, as redis.ParseURL reads them; unless set
//     there, dial_timeout is 500ms, read_timeout and write_timeout 400ms,
//     and a failed command is retried twice (max_retries=2), the settings
//     the redisstore package documents; a request's deadline always cuts a
//     Redis call short. Unset, sessions and revocations are kept in memory
//     and lost on restart. With REDIS_URL set, the server refuses to start
//     if Redis is unreachable or evicts keys under memory pressure (any
//     maxmemory-policy but noeviction), and logs a warning if Redis keeps
//     no persistence; while Redis is down it answers 503 to logins,
//     refreshes, revocations and authenticated requests: it never falls back
//     to memory. Two servers sharing one Redis and the same secrets share
//     their sessions: a refresh token rotated on one is reuse on the other,
//     and a revocation on one holds on the other.
//
// Refresh tokens are single-use: each refresh returns the next one, and
// presenting a used one again revokes the whole login session. Access
// tokens are checked against the revocation list on every request. Security
// events (logins, failed and throttled logins, refreshes, refresh-token
// reuse, revocation) are logged with passauth.LogEvents, without tokens or
// passwords.
//
// The demo has two scopes, "me" and "items", and its user holds both. A
// login that asks for no scope gets both; one that asks for scope=items gets
// a token that /api/items accepts and /api/users/me answers with 403
// insufficient_scope; a refresh keeps the scope or narrows it.
//
// Routes:
//
//	POST /api/auth/login    the token endpoint (password and refresh_token grants)
//	POST /api/auth/refresh  a new pair for a refresh token (JSON, form or Bearer)
//	POST /api/auth/revoke   revoke a token (RFC 7009, form token=…); logging
//	                        out is this call with the refresh token
//	POST /api/auth/cookie/login    the password login of the cookie transport: sets HttpOnly cookies
//	POST /api/auth/cookie/refresh  rotates the session of the refresh cookie
//	POST /api/auth/cookie/logout   revokes it and clears both cookies
//	GET  /api/users/me      {"username": <sub>}; a Bearer access token (or the access cookie) with scope me
//	GET  /api/items         a fixed list of items; a Bearer access token with scope items
//	GET  /.well-known/jwks.json                  the JWK Set of the access tokens' public keys
//	GET  /.well-known/oauth-authorization-server RFC 8414 metadata (issuer, endpoints, jwks_uri)
//	GET  /app/              a small page that logs in, shows the user and logs out, on cookies
//	GET  /openapi.json      the OpenAPI 3.1 document of these routes
//	GET  /docs              Swagger UI on that document
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
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
	swaggerUI := swaggerUIBase(os.Getenv("SWAGGER_UI_URL"))
	if _, err := swaggerUIOrigin(swaggerUI); err != nil {
		return err // before the slow work of hashing and connecting
	}
	store, closeStore, err := openStore(ctx, logger, os.Getenv("REDIS_URL"))
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStore(); err != nil {
			logger.Warn("closing the token store", "err", err)
		}
	}()
	hash, err := passauth.HashPassword(getenvOr("DEMO_PASSWORD", defaultPassword))
	if err != nil {
		return fmt.Errorf("hashing DEMO_PASSWORD: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", getenvOr("ADDR", defaultAddr))
	if err != nil {
		return err
	}
	defer ln.Close()
	cfg.Issuer = getenvOr("ISSUER", "http://"+ln.Addr().String())
	if !metadataIssuer(cfg.Issuer) {
		if os.Getenv("ISSUER") != "" {
			return errors.New("ISSUER is not an https URL (or http on a loopback host) without query or fragment")
		}
		logger.Warn("no RFC 8414 metadata: the server listens beyond loopback; set ISSUER to its public https URL",
			"issuer", cfg.Issuer)
	}
	handler, err := newHandler(demoConfig(cfg, store, logger), getenvOr("DEMO_USERNAME", defaultUsername), hash, swaggerUI)
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
// secret's value. HASH_SLOTS, when set, is the Config's MaxConcurrentHashes.
func loadConfig(logger *slog.Logger) (passauth.Config, error) {
	var generated []string
	for _, name := range []string{"ACCESS_TOKEN_SECRET", "REFRESH_TOKEN_SECRET"} {
		if os.Getenv(name) != "" || (name == "ACCESS_TOKEN_SECRET" && os.Getenv("ACCESS_TOKEN_SIGNING_KEY") != "") {
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
	cfg, err := passauth.ConfigFromEnv()
	if err != nil {
		return passauth.Config{}, err
	}
	if v := os.Getenv("HASH_SLOTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return passauth.Config{}, errors.New("HASH_SLOTS is not a whole number of hashing slots (0 for the default)")
		}
		cfg.MaxConcurrentHashes = n
	}
	if v := os.Getenv("REFRESH_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > passauth.MaxRefreshGrace {
			return passauth.Config{}, fmt.Errorf("REFRESH_GRACE is not a Go duration from 0s to %v, such as 10s", passauth.MaxRefreshGrace)
		}
		cfg.RefreshGrace = d
	}
	if v := os.Getenv("VERIFY_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return passauth.Config{}, errors.New("VERIFY_CACHE_SIZE is not a whole number of entries (0 for no cache)")
		}
		cfg.VerifyCacheSize = n
	}
	return cfg, nil
}

// openStore returns the demo's token store and a function that releases it:
// a passauth.MemoryStore when redisURL is empty, otherwise a Redis store for
// the URL, made with opts, after checking that the server answers and keeps
// what the store writes (redisstore.CheckServer: no evicting
// maxmemory-policy); CheckServer's warnings, such as no persistence, are
// logged. It never falls back to memory when Redis is unreachable, and its
// errors never repeat the URL, which may hold a password.
func openStore(ctx context.Context, logger *slog.Logger, redisURL string, opts ...redisstore.Option) (passauth.Store, func() error, error) {
	if redisURL == "" {
		logger.Info("token store", "kind", "memory")
		return passauth.NewMemoryStore(), func() error { return nil }, nil
	}
	ropts, err := redisOptions(redisURL)
	if err != nil {
		return nil, nil, err
	}
	client := redis.NewClient(ropts)
	checkCtx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := client.Ping(checkCtx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: Redis at %s does not answer: %w", ropts.Addr, err)
	}
	warnings, err := redisstore.CheckServer(checkCtx, client, opts...)
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: Redis at %s cannot keep the sessions: %w", ropts.Addr, err)
	}
	for _, w := range warnings {
		logger.Warn("token store", "warning", w)
	}
	logger.Info("token store", "kind", "redis", "addr", ropts.Addr, "db", ropts.DB)
	return redisstore.New(client, opts...), client.Close, nil
}

// Redis client limits, those the redisstore package recommends for the
// deadline of one second that passauth gives a store call: each attempt
// gives up after a dial of 500ms or a read or write of 400ms, so that a
// retry after a lost answer fits in the budget. redisPingTimeout bounds the
// checks at startup.
const (
	redisDialTimeout  = 500 * time.Millisecond
	redisReadTimeout  = 400 * time.Millisecond
	redisWriteTimeout = 400 * time.Millisecond
	redisMaxRetries   = 2
	redisPingTimeout  = 5 * time.Second
)

// redisOptions parses REDIS_URL's value and sets the client limits the URL
// leaves unset. The error names REDIS_URL and never repeats the URL: only
// the cause, and not even that when the URL has a user-info part, since a
// URL parse error may quote it.
func redisOptions(redisURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		const msg = "REDIS_URL is not a Redis URL such as redis://127.0.0.1:6379/0"
		var uerr *url.Error
		switch {
		case strings.Contains(redisURL, "@"):
			return nil, errors.New(msg)
		case errors.As(err, &uerr):
			return nil, fmt.Errorf("%s: %v", msg, uerr.Err)
		}
		return nil, fmt.Errorf("%s: %v", msg, err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = redisDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = redisReadTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = redisWriteTimeout
	}
	if opts.MaxRetries == 0 {
		// Retries are safe: a rotation whose answer was lost answers
		// RotateOK when retried, and revocations are idempotent. Without
		// them, the client's second try of a refresh would be reuse, and
		// end the session.
		opts.MaxRetries = redisMaxRetries
	}
	// Let a request's deadline cut a Redis call short.
	opts.ContextTimeoutEnabled = true
	return opts, nil
}

// demoConfig completes cfg for the demo: sessions and revocations in store,
// access tokens checked against the revocation list on every request, and
// security events logged with passauth.LogEvents (failed and throttled
// logins and refresh-token reuse as warnings).
func demoConfig(cfg passauth.Config, store passauth.Store, logger *slog.Logger) passauth.Config {
	cfg.Store = store
	cfg.CheckRevoked = true
	cfg.OnEvent = passauth.LogEvents(logger)
	return cfg
}

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

// newHandler returns the demo's routes for one user, username, whose password
// has the hash passwordHash, of any scheme passauth.CheckPassword reads; a
// hash weaker than cfg's policy is replaced at the user's first login. The
// token routes are registered without a method so that passauth answers other
// methods with 405 and an Allow header; revocation needs cfg.Store. /docs
// loads Swagger UI from swaggerUI, a base URL as swaggerUIBase returns it.
func newHandler(cfg passauth.Config, username, passwordHash, swaggerUI string) (http.Handler, error) {
	iss, err := passauth.NewTokenIssuer(cfg)
	if err != nil {
		return nil, err
	}
	users := &demoUser{username: username, hash: passwordHash}
	spec, err := openAPIHandler()
	if err != nil {
		return nil, err
	}
	docs, docsInit, err := docsHandlers(swaggerUI)
	if err != nil {
		return nil, err
	}

	cookies, err := iss.Cookies(passauth.CookieConfig{Path: "/api/auth/cookie"}, users)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/api/auth/login", iss.TokenHandler(users))
	mux.Handle("/api/auth/refresh", iss.RefreshHandler(users))
	mux.Handle("/api/auth/revoke", iss.RevocationHandler())
	mux.Handle("/api/auth/cookie/login", cookies.LoginHandler())
	mux.Handle("/api/auth/cookie/refresh", cookies.RefreshHandler())
	mux.Handle("/api/auth/cookie/logout", cookies.LogoutHandler())
	mux.Handle("GET /api/users/me", cookies.Authenticate(passauth.RequireScope("me")(http.HandlerFunc(me))))
	mux.Handle("GET /api/items", iss.Authenticate(passauth.RequireScope("items")(http.HandlerFunc(items))))
	mux.Handle("/.well-known/jwks.json", iss.JWKSHandler())
	meta, err := iss.MetadataHandler(passauth.Metadata{
		TokenEndpoint:      "/api/auth/login",
		JWKSURI:            "/.well-known/jwks.json",
		RevocationEndpoint: "/api/auth/revoke",
		Scopes:             []string{"me", "items"},
	})
	if err == nil { // run has said why not when it is not
		mux.Handle("/.well-known/oauth-authorization-server", meta)
	}
	mux.Handle("GET /app/", appHandler())
	mux.Handle("GET /openapi.json", spec)
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/swagger-initializer.js", docsInit)
	mux.Handle("GET "+swaggerUIAssetsPath+"/", swaggerUIAssets())
	return mux, nil
}

// demoUser is the demo's user store: one user, kept in memory. It is a
// passauth.PasswordUpdater, so that the token handler can upgrade the stored
// hash (a bcrypt one, say) to the current policy after a login.
type demoUser struct {
	username string

	mu   sync.Mutex
	hash string
}

// LookupUser implements passauth.UserLookup.
func (u *demoUser) LookupUser(_ context.Context, name string) (passauth.User, bool, error) {
	if name != u.username {
		return passauth.User{}, false, nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return passauth.User{
		Username:     u.username,
		PasswordHash: u.hash,
		Scopes:       []string{"me", "items"},
	}, true, nil
}

// UpdatePasswordHash implements passauth.PasswordUpdater.
func (u *demoUser) UpdatePasswordHash(_ context.Context, name, hash string) error {
	if name != u.username {
		return errors.New("no such user")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hash = hash
	return nil
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

// itemsJSON is what /api/items answers, the same for every user.
const itemsJSON = `[{"id":"foo","name":"Foo"},{"id":"bar","name":"Bar"}]` + "\n"

// items answers the demo's items.
func items(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, itemsJSON)
}
