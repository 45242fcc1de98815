package passauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Config configures a TokenIssuer. Pass it by value to NewTokenIssuer, which
// validates it and keeps a private copy; changing a Config afterwards has no
// effect on the issuer.
//
// Its fields come under four headings: tokens (what signs and verifies
// them), sessions (the Store and what it enables), logins (the password
// grant) and HTTP and events.
type Config struct {
	// Tokens.

	// AccessSecret is the HMAC-SHA256 key that signs access tokens. It must
	// be at least MinSecretLen bytes and differ from RefreshSecret. Set it
	// or AccessKeys, not both.
	AccessSecret []byte

	// RefreshSecret is the HMAC-SHA256 key that signs refresh tokens. It
	// must be at least MinSecretLen bytes and differ from AccessSecret. Set
	// it or RefreshKeys, not both.
	RefreshSecret []byte

	// AccessKeys, when set instead of AccessSecret, are the keys of access
	// tokens: the first signs every new token (a SecretKey, or a SigningKey
	// for asymmetric tokens that other services verify with the JWKS), and
	// each verifies the tokens whose "kid" names it, with its own algorithm
	// only. Keep a previous key listed (a SecretKey, or its VerifyingKey)
	// until the last token it signed has expired, and list the next one
	// (VerifyingKey) ahead of its use, so that a rotation logs nobody out.
	// A token without "kid", minted before tokens named their key, verifies
	// against the secrets of the list. Nil means AccessSecret alone.
	AccessKeys []Key

	// RefreshKeys, when set instead of RefreshSecret, are the keys of
	// refresh tokens, secrets only (only the issuer reads them): the first
	// signs, each verifies its own tokens. No secret may serve both kinds.
	// Nil means RefreshSecret alone.
	RefreshKeys []Key

	// AccessTTL is the lifetime of access tokens, at least MinTokenTTL:
	// token times have whole seconds, so a shorter token would be expired,
	// or nearly, when issued.
	AccessTTL time.Duration

	// RefreshTTL is the lifetime of refresh tokens. It must be longer than
	// AccessTTL.
	RefreshTTL time.Duration

	// Issuer, when set, is written as the "iss" claim of every token and
	// required, equal, on verification. Empty means tokens carry no "iss"
	// and none is checked.
	Issuer string

	// Audience, when set, is written as the "aud" claim of every token and
	// required on verification. Empty means tokens carry no "aud" and none
	// is checked.
	Audience string

	// Leeway is the clock skew tolerated when checking "exp", "nbf" and
	// "iat", at most MaxLeeway. Zero means none.
	Leeway time.Duration

	// Now returns the current time. Nil means time.Now. Tests set it to
	// control token expiry.
	Now func() time.Time

	// VerifyCacheSize, when positive, makes VerifyAccess (and so
	// Authenticate) remember up to that many verified access tokens, so that
	// a token presented again costs a map lookup instead of a parse and an
	// HMAC. An entry never outlives its token, nor the key set that verified
	// it, and Config.CheckRevoked is still checked on every call. It costs memory (about the token's size
	// and 300 bytes an entry) and keeps verified tokens in memory. Zero
	// means no cache.
	VerifyCacheSize int

	// Sessions.

	// Store, when set, makes refresh tokens single-use: every refresh
	// consumes the presented token and issues the next one of its session,
	// and presenting a consumed token again revokes the whole session (RFC
	// 9700 §4.14.2). It also makes revocation possible: Revoke,
	// RevokeSubject and RevocationHandler. Nil means stateless refreshing: a
	// refresh token stays valid until it expires and cannot be revoked.
	Store Store

	// SessionTTL, when set, caps a login session however often it is
	// refreshed: no token outlives the login time ("auth_time") plus
	// SessionTTL. It must not be shorter than RefreshTTL. Zero means no cap:
	// each refresh extends the session by RefreshTTL.
	SessionTTL time.Duration

	// CheckRevoked makes VerifyAccess, and so Authenticate, ask the Store on
	// every call whether the access token, its session or its subject was
	// revoked. It costs a store lookup per request and needs Store. False
	// means revocation takes effect on access tokens only when they expire,
	// at most AccessTTL later.
	CheckRevoked bool

	// RefreshGrace, when set, is how long after a rotation the refresh token
	// it replaced may still be presented, by the same client, and answered
	// with a new access token and the session's current refresh token (the
	// same ID and expiry, never a second chain), at most 32 times: two tabs
	// refreshing at once, a page's parallel requests, or a retry after a
	// lost answer then log nobody out. Past it, or for a token two rotations back, a presentation
	// is reuse, as without grace. At most MaxRefreshGrace. Zero means strict:
	// every second presentation is reuse. It needs Store.
	RefreshGrace time.Duration

	// StoreTimeout bounds every call to Store and to the Limiters, so that
	// no request waits longer on a store that does not answer: a call that
	// runs out fails closed, with 503 temporarily_unavailable. Zero means
	// DefaultStoreTimeout. The store's client must honour a context's
	// deadline (for go-redis, set ContextTimeoutEnabled). A MemoryStore's
	// calls, which never wait on I/O, are given no deadline.
	StoreTimeout time.Duration

	// Logins.

	// PasswordHasher is the password storage policy: the token handler
	// checks passwords with it, replaces stored hashes it finds weaker (see
	// PasswordUpdater), and checks against a hash of its own making when the
	// user is unknown, so that an unknown name costs what a wrong password
	// costs. Nil means Argon2id{}, OWASP's recommended parameters.
	// NewTokenIssuer rejects a policy that cannot hash: Argon2id parameters
	// outside the limits CheckPassword reads (at most 256 MiB and 64
	// passes), a bcrypt cost outside 4 to 31, or a policy of the
	// application's own whose Hash fails; it calls such a policy's Hash once,
	// for the dummy hash.
	PasswordHasher PasswordHasher

	// MaxConcurrentHashes caps the password checks and hashes running at
	// once, so that a flood of logins cannot take every CPU and the memory
	// each Argon2id run needs. Zero means half of GOMAXPROCS (at least one)
	// and at most as many as fit in 256 MiB at the policy's memory cost.
	MaxConcurrentHashes int

	// HashWait is how long a login waits for a free hashing slot before it
	// is answered 503 temporarily_unavailable with Retry-After. Zero means
	// DefaultHashWait.
	HashWait time.Duration

	// UserLimiter throttles failed logins per user name, before any password
	// is checked. Nil means a MemoryLimiter allowing five failures in a row,
	// then one a minute. Its key folds case exactly as strings.EqualFold
	// compares ("ſam", "SAM" and "sam" share one), so the UserLookup must not
	// match names more widely than EqualFold does: an accent-insensitive or
	// Unicode-normalising lookup (a database collation, say) would give each
	// spelling of one account a budget of its own. An application that
	// normalises names sets NormalizeUsername, so that the key, the lookup
	// and the events all see the normalised name.
	UserLimiter Limiter

	// AddrLimiter throttles failed logins per client address (see
	// ClientAddr). Nil means a MemoryLimiter allowing twenty failures in a
	// row, then ten a minute.
	AddrLimiter Limiter

	// ClientAddr returns the address AddrLimiter keys on. Nil means the host
	// of http.Request.RemoteAddr. Behind a proxy, derive it from a header
	// only that proxy can set; X-Forwarded-For is never trusted by default.
	// Whatever it returns, an IPv6 address is counted on its /64 network,
	// since a host picks its own interface identifier within its /64 (RFC
	// 4291 §2.5.1, RFC 8981), and an IPv4-mapped IPv6 address as the IPv4
	// address; a value that is not an IP address is counted as it is.
	ClientAddr func(r *http.Request) string

	// NormalizeUsername, when set, maps the user name a client typed to the
	// name the login goes on with, before the limiter, the lookup and the
	// events see it: for example precis.UsernameCaseMapped.String of
	// golang.org/x/text/secure/precis, the RFC 8265 profile, so that two
	// spellings of one name are one user. An error, or an empty result, is
	// answered 400 invalid_request. Nil means names are taken as typed.
	NormalizeUsername func(name string) (string, error)

	// ScopePolicy, when set, decides the scopes a password login is granted
	// (RFC 6749 §3.3), given the user and the scope tokens requested (none
	// when the client sent no scope). It returns the scopes to grant; an
	// empty result for a non-empty request is answered 400 invalid_scope.
	// A refresh keeps, or narrows, what the login was granted. Nil means:
	// every scope in User.Scopes when none is requested, otherwise those
	// requested that User.Scopes holds.
	ScopePolicy func(ctx context.Context, u User, requested []string) []string

	// HTTP and events.

	// MaxBodyBytes caps the request bodies the handlers read; a larger body
	// is rejected with 400 invalid_request. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// OnEvent, when set, is called synchronously with each security event,
	// so that the application can log or alert on it: EventLoginSucceeded,
	// EventLoginFailed, EventThrottled, EventRefresh, EventRefreshReuse,
	// EventRevoke and EventRevokeSubject (see EventKind). It must be safe
	// for concurrent use and return quickly. Nil means events are dropped.
	OnEvent func(ctx context.Context, e Event)
}

// validate reports the first problem with cfg, naming the field and never
// its value. It checks the fields in the order Config declares them.
func (cfg *Config) validate() error {
	switch {
	// Tokens. The keys themselves are checked by keySets.
	case len(cfg.AccessKeys) == 0 && len(cfg.AccessSecret) < MinSecretLen:
		return fmt.Errorf("passauth: Config.AccessSecret is shorter than %d bytes", MinSecretLen)
	case len(cfg.AccessKeys) > 0 && cfg.AccessSecret != nil:
		return errors.New("passauth: Config.AccessSecret and Config.AccessKeys are both set")
	case len(cfg.RefreshKeys) == 0 && len(cfg.RefreshSecret) < MinSecretLen:
		return fmt.Errorf("passauth: Config.RefreshSecret is shorter than %d bytes", MinSecretLen)
	case len(cfg.RefreshKeys) > 0 && cfg.RefreshSecret != nil:
		return errors.New("passauth: Config.RefreshSecret and Config.RefreshKeys are both set")
	case len(cfg.AccessKeys) == 0 && len(cfg.RefreshKeys) == 0 && string(cfg.AccessSecret) == string(cfg.RefreshSecret):
		return errors.New("passauth: Config.AccessSecret and Config.RefreshSecret are equal")
	case cfg.AccessTTL < MinTokenTTL:
		return fmt.Errorf("passauth: Config.AccessTTL is shorter than %v", MinTokenTTL)
	case cfg.RefreshTTL <= cfg.AccessTTL:
		return errors.New("passauth: Config.RefreshTTL is not longer than Config.AccessTTL")
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return fmt.Errorf("passauth: Config.Leeway is outside 0 to %v", MaxLeeway)
	case cfg.VerifyCacheSize < 0:
		return errors.New("passauth: Config.VerifyCacheSize is negative")
	// Sessions.
	case cfg.SessionTTL < 0 || (cfg.SessionTTL > 0 && cfg.SessionTTL < cfg.RefreshTTL):
		return errors.New("passauth: Config.SessionTTL is negative or shorter than Config.RefreshTTL")
	case cfg.CheckRevoked && cfg.Store == nil:
		return errors.New("passauth: Config.CheckRevoked is set without Config.Store")
	case cfg.RefreshGrace < 0 || cfg.RefreshGrace > MaxRefreshGrace:
		return fmt.Errorf("passauth: Config.RefreshGrace is outside 0 to %v", MaxRefreshGrace)
	case cfg.RefreshGrace > 0 && cfg.Store == nil:
		return errors.New("passauth: Config.RefreshGrace is set without Config.Store")
	case cfg.StoreTimeout < 0:
		return errors.New("passauth: Config.StoreTimeout is negative")
	// Logins.
	case cfg.MaxConcurrentHashes < 0:
		return errors.New("passauth: Config.MaxConcurrentHashes is negative")
	case cfg.HashWait < 0:
		return errors.New("passauth: Config.HashWait is negative")
	// HTTP.
	case cfg.MaxBodyBytes < 0:
		return errors.New("passauth: Config.MaxBodyBytes is negative")
	}
	return nil
}

// MinSecretLen is the shortest secret NewTokenIssuer accepts: 32 bytes, the
// size of an HMAC-SHA256 output, as RFC 7518 §3.2 requires for HS256.
const MinSecretLen = 32

// keySets checks the keys of both token kinds and builds their sets: the
// listed keys, or the one secret. No secret may sign both kinds, so that
// neither is ever accepted as the other even without its "typ".
func (cfg *Config) keySets() (access, refresh *keySet, err error) {
	accessKeys, accessField := cfg.AccessKeys, "AccessKeys"
	if len(accessKeys) == 0 {
		accessKeys, accessField = []Key{SecretKey(cfg.AccessSecret)}, "AccessSecret"
	}
	refreshKeys, refreshField := cfg.RefreshKeys, "RefreshKeys"
	if len(refreshKeys) == 0 {
		refreshKeys, refreshField = []Key{SecretKey(cfg.RefreshSecret)}, "RefreshSecret"
	}
	if access, err = newKeySet(accessField, accessKeys, false); err != nil {
		return nil, nil, err
	}
	if refresh, err = newKeySet(refreshField, refreshKeys, true); err != nil {
		return nil, nil, err
	}
	for _, a := range access.secrets() {
		for _, r := range refresh.secrets() {
			if string(a) == string(r) {
				return nil, nil, fmt.Errorf("passauth: Config.%s and Config.%s share a secret", accessField, refreshField)
			}
		}
	}
	return access, refresh, nil
}

// MinTokenTTL is the shortest token lifetime NewTokenIssuer accepts: "exp"
// and "iat" have whole seconds (RFC 7519 §2), so a token that lives less
// than one is expired, or nearly, when it is issued.
const MinTokenTTL = time.Second

// MaxLeeway is the largest clock leeway NewTokenIssuer accepts.
const MaxLeeway = 5 * time.Minute

// DefaultHashWait is how long a login waits for a hashing slot when
// Config.HashWait is zero.
const DefaultHashWait = 2 * time.Second

// MaxRefreshGrace is the longest Config.RefreshGrace NewTokenIssuer accepts.
const MaxRefreshGrace = time.Minute

// DefaultStoreTimeout bounds each call to the Store and the Limiters when
// Config.StoreTimeout is zero.
const DefaultStoreTimeout = time.Second

// DefaultMaxBodyBytes is the request body limit of the handlers when
// Config.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 16 << 10
