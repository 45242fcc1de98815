// Package passauth gives a net/http service OAuth 2.0 password login and JWT
// access and refresh tokens: the token endpoint of RFC 6749 (§4.3 password
// grant, §6 refreshing), Bearer-protected resources as RFC 6750 defines them,
// and tokens that are RFC 7519 JWTs, with no framework.
//
// For most uses: NewTokenIssuer with a Config (or ConfigFromEnv), then mount
// [TokenIssuer.TokenHandler] as the login endpoint, [TokenIssuer.RefreshHandler]
// as the refresh endpoint, and wrap protected handlers with
// [TokenIssuer.Authenticate]; handlers read the caller with
// [ClaimsFromContext]. Code that issues or checks tokens itself calls
// [TokenIssuer.IssuePair], [TokenIssuer.VerifyAccess] and
// [TokenIssuer.VerifyRefresh].
//
// # Tokens
//
// A [TokenIssuer] signs access and refresh tokens as JWTs with keys of its
// own for each kind: by default two different secrets of at least 32 bytes
// (HS256, RFC 7518 §3.2); with Config.AccessKeys and Config.RefreshKeys, key
// lists whose first key signs and whose every key verifies the tokens whose
// "kid" names it ([Key]: [SecretKey], [SigningKey] for Ed25519, P-256 or
// RSA access tokens, [VerifyingKey] for a key published ahead or retired).
// The algorithm follows the key, never the token. Access tokens carry the
// header "typ": "at+jwt" of RFC 9068, refresh tokens "typ": "rt+jwt", and
// each is verified only with its own kind's keys and type, so neither is
// ever accepted as the other. Every token has "sub", "iat", "exp", a random
// "jti" and its session's "sid" and "auth_time", and "scope" when a scope
// was granted; "iss" and "aud" when [Config] sets them. Verification
// requires "exp" and a non-empty "sub", and fails with errors that match
// [ErrTokenInvalid], and also [ErrTokenExpired] for an expired token.
// Config.VerifyCacheSize turns on a bounded cache of verified access tokens
// for services that see the same token many times.
//
// [TokenIssuer.JWKSHandler] publishes the public access-token keys (RFC
// 7517) and [TokenIssuer.MetadataHandler] the RFC 8414 metadata; a
// [Verifier] checks the access tokens in another service with those public
// keys, known ahead or fetched, and no secret.
//
// # Passwords
//
// [HashPassword] writes Argon2id hashes (RFC 9106) in the PHC string format
// with OWASP's parameters (19 MiB, 2 passes, 1 lane). [CheckPassword] reads
// those, argon2id hashes written by Python's argon2-cffi, passlib and pwdlib,
// and bcrypt hashes in the $2a$, $2b$ and $2y$ variants, comparing in
// constant time; a malformed hash never matches. Config.PasswordHasher sets
// the policy ([Argon2id], [Bcrypt] or the application's own
// [PasswordHasher]); a [UserLookup] that is also a [PasswordUpdater] gets a
// new hash after a login whose stored hash is weaker than the policy, so
// users migrate without a reset.
//
// The token handler throttles failed logins per user name and per client
// address ([Limiter], 429 slow_down) before any lookup or hashing, and runs
// at most Config.MaxConcurrentHashes password checks at once (503 with
// Retry-After past Config.HashWait), so a login flood neither lets a guesser
// try more than the configured rate nor starves the rest of the server.
//
// # HTTP handlers
//
// [TokenIssuer.TokenHandler] takes the form of FastAPI's
// OAuth2PasswordRequestForm (username, password, grant_type, scope,
// client_id, client_secret) and also grant_type=refresh_token, so standard
// OAuth 2.0 clients such as golang.org/x/oauth2 log in and refresh at one
// URL. The application supplies a [UserLookup]; the handler, not the
// application, checks the password. [TokenIssuer.RefreshHandler] takes the
// refresh token as JSON, as a form field or as a Bearer header.
// [TokenIssuer.Authenticate] and [TokenIssuer.AuthenticateOptional] are
// middleware of the form func(http.Handler) http.Handler. Errors are
// answered with the JSON body of RFC 6749 §5.2 and, for protected resources,
// the WWW-Authenticate challenge of RFC 6750 §3; see [Error].
//
// # Stores
//
// A [Store] is a small interface (Rotate, RevokeSession, Deny, Denied) that
// sees token IDs, session IDs and subjects, never tokens; one call per
// operation. A store that is also a [SessionLister] lets
// [TokenIssuer.Sessions], [TokenIssuer.RevokeSession] and
// [TokenIssuer.RevokeOtherSessions] list and end a user's sessions.
// [MemoryStore] keeps one process's sessions; modules redisstore and
// sqlstore keep them in Redis and in PostgreSQL or SQLite. Implementations
// run the shared conformance suite in package storetest.
//
// # Security model
//
// What matters for security is fixed, not configured: the algorithm of each
// key (HS256 for secrets), the required claims, the token types and the
// separation of the two kinds of keys. Request bodies are capped
// ([Config].MaxBodyBytes); malformed input is answered with a 4xx, never a
// 500 or a panic. No error, response or
// description ever contains a token, a secret or a password, and the package
// does not log. An unknown user name, a wrong password, a disabled account
// and an account without a usable hash are rejected after the same
// password work, with the same answer. Logins are throttled per user name,
// folded as strings.EqualFold compares, and per client address, an IPv6
// one on its /64, before any lookup or hashing.
//
// Without a [Store], refreshing is stateless: a refresh token stays valid
// until it expires and cannot be revoked. With Config.Store, every login
// starts a session whose refresh tokens are single-use: each refresh consumes
// the presented token atomically, and presenting a consumed token again
// revokes the whole session (RFC 9700 §4.14.2) and raises an [Event].
// [TokenIssuer.Revoke], [TokenIssuer.RevocationHandler] (RFC 7009) and
// [TokenIssuer.RevokeSubject] end sessions; Config.CheckRevoked makes access
// tokens honour revocation at once, at the cost of a store lookup per
// request. A store failure fails closed with [ErrStoreUnavailable] (503),
// never with a fallback; every store call is bounded by Config.StoreTimeout
// and every failure raises [EventStoreUnavailable]. Replicas' clocks must
// agree within Config.Leeway: tokens are judged by the local clock, and
// RevokeSubject ends the sessions whose login time is before it.
//
// The password grant is meant for first-party clients only (RFC 9700 §2.4);
// passauth records but does not authenticate clients.
//
// The server must set its own read and write timeouts (http.Server's
// ReadHeaderTimeout, ReadTimeout and WriteTimeout), as the demo server in
// examples/server does.
//
// A TokenIssuer is immutable after construction and safe for concurrent use.
//
// # Reading the code
//
// Each concept has one file, named after it. A login, a refresh and a
// protected request read in this order:
//
//   - login: issuer.go (TokenIssuer and its three parts), handlers.go
//     (TokenHandler), request.go and body.go (parsing the form), login.go
//     (passwordGrant, the limiters of limiter.go, the hashing slots),
//     scope.go (parseScope, grant), session.go (startSession, rotate),
//     issue.go (mint), token.go (sign), then back in handlers.go;
//   - refresh: handlers.go (RefreshHandler), request.go, session.go (refresh,
//     the whole story), token.go and keyset.go (verify, keyFor), scope.go
//     (regrant), then mint and rotate again;
//   - protected request: middleware.go (Authenticate), request.go
//     (bearerToken), token.go (VerifyAccess), cache.go, session.go
//     (checkDenied, with Config.CheckRevoked), claims.go (ClaimsFromContext)
//     and scope.go (RequireScope).
//
// Every error and prebuilt answer is in errors.go; every Store call in
// session.go.
package passauth
