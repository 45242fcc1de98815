// Command server is the passauth demo, a small application on a plain
// http.ServeMux: the seed application's password login, refresh and
// Bearer-protected endpoint, with refresh-token rotation, reuse detection,
// revocation and OAuth 2.0 scopes; users who sign up, change their password
// and see and end their sessions, kept in a SQL database; a browser page
// on the cookie transport; and Swagger UI docs whose Authorize button logs
// in, served offline.
//
//	go run ./examples/server
//	open http://127.0.0.1:8000/docs   # Authorize as johndoe / secret
//
// With DATABASE_URL unset, users and sessions are kept in the SQLite file
// passauth-demo.db in the working directory, so that they survive a
// restart; delete the file to start afresh.
//
// It reads the environment of passauth.ConfigFromEnv and fills in what is
// missing: random secrets, kept in the database so that sessions survive a
// restart and servers sharing a PostgreSQL database agree on them (with a
// warning: set them in production), and lifetimes of 15 minutes for access
// tokens and 24 hours for refresh tokens. Other variables:
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
//   - DATABASE_URL: where users and, unless REDIS_URL is set, sessions and
//     revocations are kept: unset, the SQLite file passauth-demo.db in the
//     working directory; a path or a sqlite: URL (sqlite:data/app.db,
//     sqlite:///var/lib/app.db), that SQLite file; a postgres:// URL such
//     as postgres://user:password@127.0.0.1:5432/app, that PostgreSQL
//     database. The demo creates its tables when missing. Two servers on
//     one PostgreSQL database and the same secrets share users and
//     sessions, as with Redis;
//   - DEMO_USERNAME and DEMO_PASSWORD: the demo user (default johndoe and
//     secret), created with an Argon2id hash when missing; when
//     DEMO_PASSWORD is set and does not match the stored password, the
//     user's password is set from it and its sessions end, as a password
//     reset does. DEMO_PASSWORD is not held to the sign-up policy;
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
//     access tokens to remember (default 1024; 0 for no cache, passauth's
//     default);
//   - REDIS_URL: keep sessions and revocations in Redis, for example
//     redis://127.0.0.1:6379/0 or redis://:password@host:6379/0. Client
//     options go in the query, as redis.ParseURL reads them; unless set
//     there, dial_timeout is 500ms, read_timeout and write_timeout 400ms,
//     and a failed command is retried twice (max_retries=2), the settings
//     the redisstore package documents; a request's deadline always cuts a
//     Redis call short. Unset, sessions and revocations are kept in the
//     database of DATABASE_URL (package sqlstore), whose expired rows the
//     demo sweeps every minute. With REDIS_URL set, the server refuses to start
//     if Redis is unreachable or evicts keys under memory pressure (any
//     maxmemory-policy but noeviction), and logs a warning if Redis keeps
//     no persistence; while Redis is down it answers 503 to logins,
//     refreshes, revocations and authenticated requests: it never falls back
//     to memory. Two servers sharing one Redis and the same secrets share
//     their sessions: a refresh token rotated on one is reuse on the other,
//     and a revocation on one holds on the other.
//
// New users sign up with POST /api/users: names of 3 to 32 letters, digits,
// '.', '_' or '-', unique whatever their case or Unicode form; passwords of
// 8 to 128 characters. A user's tokens have the name as signed up as "sub",
// however it is typed at login, and its row ID as the claim "user_id".
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
//	POST /api/users         sign up: {"username", "password"} → 201, 409 when taken
//	GET  /api/users/me      {"username": <sub>}; a Bearer access token (or the access cookie) with scope me
//	POST /api/users/me/password          {"current_password", "new_password"} → 204; the other sessions end
//	GET  /api/users/me/sessions          the caller's live sessions, the current one marked
//	DELETE /api/users/me/sessions/{id}   ends one of them; 404 for any other ID
//	GET  /api/items         a fixed list of items; a Bearer access token with scope items
//	GET  /.well-known/jwks.json                  the JWK Set of the access tokens' public keys
//	GET  /.well-known/oauth-authorization-server RFC 8414 metadata (issuer, endpoints, jwks_uri)
//	GET  /app/              a small page that logs in, shows the user and logs out, on cookies
//	GET  /openapi.json      the OpenAPI 3.1 document of these routes
//	GET  /docs              Swagger UI on that document
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/examples/internal/servers"
)

// Defaults for the variables the environment leaves unset.
const (
	defaultAddr       = "127.0.0.1:8000"
	defaultUsername   = "johndoe"
	defaultPassword   = "secret"
	defaultAccessTTL  = "15m"
	defaultRefreshTTL = "24h"
)

func main() { servers.Main("server", run) }

// run configures the server from the environment, serves until ctx is done
// and then shuts down gracefully. When ready is not nil, run calls it with the
// listening address once the server accepts connections. Every setting is
// checked before it opens a connection.
func run(ctx context.Context, logger *slog.Logger, ready func(addr string)) error {
	s, err := loadSettings(logger)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	defer ln.Close()
	s.cfg.Issuer = s.issuer
	if s.cfg.Issuer == "" {
		s.cfg.Issuer = "http://" + ln.Addr().String()
		if !metadataIssuer(s.cfg.Issuer) {
			logger.Warn("no RFC 8414 metadata: the server listens beyond loopback; set ISSUER to its public https URL",
				"issuer", s.cfg.Issuer)
		}
	}

	db, err := openDatabase(ctx, s.database)
	if err != nil {
		return err
	}
	defer db.Close()
	accts, err := newAccounts(ctx, db, !s.database.postgres, s.cfg.PasswordHasher)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %s: %w", s.database.display, err)
	}
	if err := keepSecrets(ctx, db, !s.database.postgres, &s.cfg, s.generated); err != nil {
		return fmt.Errorf("DATABASE_URL: %s: %w", s.database.display, err)
	}
	store, storeKind, closeStore, err := openStore(ctx, logger, s, db)
	if err != nil {
		return err
	}
	defer func() {
		if err := closeStore(); err != nil {
			logger.Warn("closing the token store", "err", err)
		}
	}()
	iss, err := passauth.NewTokenIssuer(demoConfig(s.cfg, store, logger))
	if err != nil {
		return err
	}
	if err := accts.ensureDemoUser(ctx, logger, iss, s.demoUsername, s.demoPassword, s.demoPasswordSet); err != nil {
		return err
	}
	handler, err := newHandler(iss, accts, s.swaggerUI)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	return servers.Serve(ctx, ln, handler, logger, ready,
		"docs", base+"/docs", "app", base+"/app/",
		"database", s.database.display, "sessions", storeKind, "issuer", s.cfg.Issuer,
		"access_ttl", s.cfg.AccessTTL, "refresh_ttl", s.cfg.RefreshTTL, "refresh_grace", s.cfg.RefreshGrace)
}
