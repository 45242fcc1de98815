package passauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, written in the JWT "typ" header and checked on verification
// (RFC 8725 §3.11). Access tokens use the RFC 9068 type; refresh tokens use
// a type of their own, so that neither is ever accepted as the other.
const (
	AccessTokenType  = "at+jwt"
	RefreshTokenType = "rt+jwt"
)

// maxTokenLen bounds the tokens the issuer will parse. Larger inputs are
// rejected before any decoding.
const maxTokenLen = 8 << 10

// TokenIssuer issues and verifies the access and refresh tokens of one
// service: HS256-signed JWTs (RFC 7519) with the "typ" header of RFC 9068
// for access tokens, a distinct type for refresh tokens, and a separate
// secret for each.
//
// A TokenIssuer is immutable after NewTokenIssuer returns it and is safe for
// concurrent use by any number of goroutines; verification takes no locks.
type TokenIssuer struct {
	accessKind  tokenKind
	refreshKind tokenKind

	issuer   string
	audience jwt.ClaimStrings
	now      func() time.Time

	maxBody int64

	hasher      PasswordHasher
	dummyHash   func() string
	hashSlots   chan struct{}
	hashWait    time.Duration
	userLimiter Limiter
	addrLimiter Limiter
	clientAddr  func(*http.Request) string
	scopePolicy func(context.Context, User, []string) []string

	store        Store
	cache        *verifyCache // nil when Config.VerifyCacheSize is zero
	sessionTTL   time.Duration
	checkRevoked bool
	leeway       time.Duration
	onEvent      func(context.Context, Event)
}

// tokenKind holds what signs and verifies one kind of token.
type tokenKind struct {
	typ     string
	key     []byte
	ttl     time.Duration
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
}

// NewTokenIssuer validates cfg and returns an issuer built from a private
// copy of it. The error names the offending Config field, never its value.
func NewTokenIssuer(cfg Config) (*TokenIssuer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	iss := &TokenIssuer{
		issuer:       cfg.Issuer,
		now:          cfg.Now,
		maxBody:      cfg.MaxBodyBytes,
		store:        cfg.Store,
		sessionTTL:   cfg.SessionTTL,
		checkRevoked: cfg.CheckRevoked,
		leeway:       cfg.Leeway,
		onEvent:      cfg.OnEvent,
		scopePolicy:  cfg.ScopePolicy,
	}
	if iss.now == nil {
		iss.now = time.Now
	}
	if iss.maxBody == 0 {
		iss.maxBody = DefaultMaxBodyBytes
	}
	if cfg.Audience != "" {
		iss.audience = jwt.ClaimStrings{cfg.Audience}
	}
	iss.setPasswordPolicy(cfg)
	if cfg.VerifyCacheSize > 0 {
		iss.cache = newVerifyCache(cfg.VerifyCacheSize)
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(iss.now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	iss.accessKind = newTokenKind(AccessTokenType, cfg.AccessSecret, cfg.AccessTTL, opts)
	iss.refreshKind = newTokenKind(RefreshTokenType, cfg.RefreshSecret, cfg.RefreshTTL, opts)
	return iss, nil
}

func newTokenKind(typ string, secret []byte, ttl time.Duration, opts []jwt.ParserOption) tokenKind {
	key := append([]byte(nil), secret...)
	var keyAny any = key // converted once, so verification does not allocate for it
	return tokenKind{
		typ:    typ,
		key:    key,
		ttl:    ttl,
		parser: jwt.NewParser(opts...),
		keyFunc: func(t *jwt.Token) (any, error) {
			// RFC 8725 §3.11 and RFC 9068 §4: the type is checked before the
			// key is handed out. Media types compare case-insensitively and
			// may carry the "application/" prefix.
			if got, _ := t.Header["typ"].(string); !typeMatches(got, typ) {
				return nil, errTokenType
			}
			// RFC 7515 §4.1.11: no extension is understood, so a token that
			// marks one as critical must be rejected.
			if _, ok := t.Header["crit"]; ok {
				return nil, errTokenCritical
			}
			return keyAny, nil
		},
	}
}

// typeMatches reports whether the "typ" header got names the type want, which
// is lower case. Media types compare case-insensitively and may carry the
// "application/" prefix (RFC 7515 §4.1.9).
func typeMatches(got, want string) bool {
	const prefix = "application/"
	if len(got) == len(prefix)+len(want) && strings.EqualFold(got[:len(prefix)], prefix) {
		got = got[len(prefix):]
	}
	return strings.EqualFold(got, want)
}

// TokenPair is a token endpoint's successful answer (RFC 6749 §5.1), with the
// RFC's JSON names.
type TokenPair struct {
	// AccessToken is the JWT to send as "Authorization: Bearer".
	AccessToken string `json:"access_token"`
	// TokenType is always "bearer".
	TokenType string `json:"token_type"`
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
	// RefreshToken is the JWT that obtains the next pair.
	RefreshToken string `json:"refresh_token,omitempty"`
	// Scope is the space-separated scope granted, empty for none.
	Scope string `json:"scope,omitempty"`
}

// VerifyAccess verifies an access token and returns its claims. Every
// failure matches ErrTokenInvalid with errors.Is; an expired token also
// matches ErrTokenExpired.
//
// With Config.CheckRevoked set, VerifyAccess also asks the Store whether the
// token, its session or its subject has been revoked, and fails with an
// error matching ErrStoreUnavailable (not ErrTokenInvalid) when the store
// cannot answer.
func (iss *TokenIssuer) VerifyAccess(ctx context.Context, token string) (*Claims, error) {
	c, err := iss.verifyAccess(token)
	if err != nil || !iss.checkRevoked {
		return c, err
	}
	if err := iss.checkDenied(ctx, c, "jti:"+c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyRefresh verifies a refresh token and returns its claims, with the
// same errors as VerifyAccess. It does not consume the token: without a store
// a refresh token stays usable until it expires.
func (iss *TokenIssuer) VerifyRefresh(ctx context.Context, token string) (*Claims, error) {
	return iss.verify(&iss.refreshKind, token)
}

// verifyAccess verifies an access token, through the cache when there is
// one.
func (iss *TokenIssuer) verifyAccess(token string) (*Claims, error) {
	if iss.cache == nil {
		return iss.verify(&iss.accessKind, token)
	}
	now := iss.now()
	if c, ok := iss.cache.get(token, now); ok {
		return c, nil
	}
	c, err := iss.verify(&iss.accessKind, token)
	if err == nil {
		iss.cache.put(token, c, c.ExpiresAt.Add(iss.leeway), now)
	}
	return c, err
}

func (iss *TokenIssuer) verify(k *tokenKind, token string) (*Claims, error) {
	if len(token) > maxTokenLen {
		return nil, errTokenTooLarge
	}
	// One allocation holds both the decoded wire form and the result.
	p := new(parsed)
	t, err := k.parser.ParseWithClaims(token, &p.wire, k.keyFunc)
	if err != nil {
		return nil, iss.mapError(t, &p.wire, err)
	}
	w := &p.wire
	p.out = Claims{
		Subject:   w.Subject,
		ID:        w.ID,
		Scope:     w.Scope,
		ClientID:  w.ClientID,
		SessionID: w.SessionID,
		Issuer:    w.Issuer,
		Audience:  w.Audience,
		IssuedAt:  w.IssuedAt.Time, // zero when absent
		AuthTime:  w.AuthTime.Time,
		ExpiresAt: w.ExpiresAt.Time,
		payload:   payloadSegment(token),
	}
	return &p.out, nil
}

type parsed struct {
	wire wireClaims
	out  Claims
}

// mapError turns a golang-jwt error into one of the package's token errors,
// so that callers see only passauth's sentinels.
func (iss *TokenIssuer) mapError(t *jwt.Token, w *wireClaims, err error) error {
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return te
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errTokenMalformed
	case t == nil || t.Method == nil || t.Method != jwt.SigningMethodHS256:
		return errTokenAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errTokenSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return errTokenUnverified
	case errors.Is(err, jwt.ErrTokenInvalidIssuer) || (iss.issuer != "" && w.Issuer == ""):
		return errTokenIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience) || (len(iss.audience) > 0 && len(w.Audience) == 0):
		return errTokenAudience
	case errors.Is(err, jwt.ErrTokenNotValidYet) || errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return errTokenNotYet
	case w.ExpiresAt.IsZero():
		return errTokenNoExpiry
	case errors.Is(err, jwt.ErrTokenExpired):
		return errTokenExpired
	}
	return errTokenBadClaims
}

// payloadSegment returns the base64url claims segment of a token that has
// already parsed, so it has exactly two dots.
func payloadSegment(token string) string {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	return payload
}

// Claims are the verified claims of a token.
type Claims struct {
	// Subject is the "sub" claim: the user the token speaks for. Never empty.
	Subject string
	// ID is the "jti" claim, unique to the token.
	ID string
	// Scope is the "scope" claim: space-separated scope tokens, or empty.
	Scope string
	// ClientID is the "client_id" claim, or empty.
	ClientID string
	// SessionID is the "sid" claim: the login session, shared by every
	// token descending from one login. Empty in tokens of other issuers.
	SessionID string
	// Issuer is the "iss" claim, or empty.
	Issuer string
	// Audience is the "aud" claim, or nil.
	Audience []string
	// IssuedAt is the "iat" claim, or the zero time when absent.
	IssuedAt time.Time
	// AuthTime is the "auth_time" claim: when the user logged in, or the
	// zero time when absent.
	AuthTime time.Time
	// ExpiresAt is the "exp" claim.
	ExpiresAt time.Time

	payload string
}

// Scopes returns the scope tokens of c.Scope.
func (c *Claims) Scopes() []string {
	return strings.Fields(c.Scope)
}

// HasScope reports whether c grants scope.
func (c *Claims) HasScope(scope string) bool {
	for s := range strings.SplitSeq(c.Scope, " ") {
		if s == scope && s != "" {
			return true
		}
	}
	return false
}

// Decode unmarshals the token's whole JSON claims set into v, the way
// json.Unmarshal does. Use it to read claims added with WithClaims. It is
// only valid on Claims returned by VerifyAccess or VerifyRefresh.
func (c *Claims) Decode(v any) error {
	if c.payload == "" {
		return errors.New("passauth: Claims.Decode called on claims that did not come from a verified token")
	}
	b, err := base64.RawURLEncoding.DecodeString(c.payload)
	if err != nil {
		return fmt.Errorf("passauth: decoding claims: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("passauth: decoding claims: %w", err)
	}
	return nil
}

// extra returns the claims of c that the package does not set itself.
func (c *Claims) extra() (map[string]any, error) {
	var m map[string]any
	if err := c.Decode(&m); err != nil {
		return nil, err
	}
	for _, name := range reservedClaims {
		delete(m, name)
	}
	return m, nil
}

// wireClaims is the JSON form of a token's claims set. Its times are values,
// not pointers as in jwt.RegisteredClaims, so that decoding a token does not
// allocate for them; the zero time stands for an absent claim.
type wireClaims struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  jwt.ClaimStrings `json:"aud,omitempty"`
	ExpiresAt jwt.NumericDate  `json:"exp,omitzero"`
	NotBefore jwt.NumericDate  `json:"nbf,omitzero"`
	IssuedAt  jwt.NumericDate  `json:"iat,omitzero"`
	ID        string           `json:"jti,omitempty"`
	Scope     string           `json:"scope,omitempty"`
	ClientID  string           `json:"client_id,omitempty"`
	SessionID string           `json:"sid,omitempty"`
	AuthTime  jwt.NumericDate  `json:"auth_time,omitzero"`
}

// The jwt.Claims methods, for the parser's validation.

func (w *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return present(&w.ExpiresAt), nil }
func (w *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return present(&w.NotBefore), nil }
func (w *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return present(&w.IssuedAt), nil }
func (w *wireClaims) GetIssuer() (string, error)                   { return w.Issuer, nil }
func (w *wireClaims) GetSubject() (string, error)                  { return w.Subject, nil }
func (w *wireClaims) GetAudience() (jwt.ClaimStrings, error)       { return w.Audience, nil }

// present returns d, or nil when d is the zero time (the claim is absent).
func present(d *jwt.NumericDate) *jwt.NumericDate {
	if d.IsZero() {
		return nil
	}
	return d
}

// Validate is called by the jwt parser after its own checks. It enforces what
// every passauth token carries.
func (w *wireClaims) Validate() error {
	switch {
	case w.Subject == "":
		return errTokenNoSubject
	case w.ID == "":
		return errTokenNoID
	}
	if !validScope(w.Scope) {
		return errTokenBadScope
	}
	return nil
}

// extendedClaims is the JSON form of a claims set with application claims.
type extendedClaims struct {
	*wireClaims
	extra map[string]any
}

func (e *extendedClaims) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(e.extra)+9)
	for k, v := range e.extra {
		m[k] = v
	}
	b, err := json.Marshal(e.wireClaims)
	if err != nil {
		return nil, err
	}
	var std map[string]json.RawMessage
	if err := json.Unmarshal(b, &std); err != nil {
		return nil, err
	}
	for k, v := range std {
		m[k] = v
	}
	return json.Marshal(m)
}

// joinScope validates scope tokens and joins them with single spaces,
// dropping empty strings and duplicates.
func joinScope(tokens []string) (string, bool) {
	clean := true // no empty token, no duplicate: join as they are
	for i, s := range tokens {
		if s == "" || contains(tokens[:i], s) {
			clean = false
			continue
		}
		for j := 0; j < len(s); j++ {
			if !isScopeChar(s[j]) {
				return "", false
			}
		}
	}
	if clean {
		return strings.Join(tokens, " "), true
	}
	list, ok := splitScope(strings.Join(tokens, " "))
	return strings.Join(list, " "), ok
}

// validScope reports whether s is empty or scope tokens separated by single
// spaces, as joinScope writes it.
func validScope(s string) bool {
	prev := byte(' ')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if prev == ' ' {
				return false
			}
		} else if !isScopeChar(c) {
			return false
		}
		prev = c
	}
	return prev != ' ' || s == ""
}

// isScopeChar reports whether c is an NQCHAR of RFC 6749 §3.3.
func isScopeChar(c byte) bool {
	return c >= 0x21 && c != 0x22 && c != 0x5c && c <= 0x7e
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, t := range list {
		if t == s {
			return true
		}
	}
	return false
}
