package passauth

import (
	"context"
	"errors"
	"slices"
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

// tokens is the part of a TokenIssuer that signs and verifies: the two token
// kinds with their keys, parsers and lifetimes, the claims every token
// carries, and the verify cache.
type tokens struct {
	access  tokenKind
	refresh tokenKind

	issuer     string
	audience   jwt.ClaimStrings
	leeway     time.Duration
	sessionTTL time.Duration // zero: no cap on a session's tokens
	now        func() time.Time
	cache      *verifyCache // nil when Config.VerifyCacheSize is zero
}

// tokenKind holds what signs and verifies one kind of token.
type tokenKind struct {
	typ     string
	ttl     time.Duration
	keys    *keySource // the kind's keys; a Verifier replaces them as its JWKS changes
	methods []string   // the algorithms the parsers accept, those of the keys
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc

	// revocable is parser without the check that "iat" is not in the
	// future: revoking a token takes nothing away from its holder, so a
	// token minted by a replica whose clock is ahead can be revoked at once.
	revocable *jwt.Parser
}

// newTokens builds the token part of an issuer from a validated Config and
// its checked key sets, and builds the parsers once.
func newTokens(cfg Config, access, refresh *keySet) tokens {
	t := tokens{
		issuer:     cfg.Issuer,
		leeway:     cfg.Leeway,
		sessionTTL: cfg.SessionTTL,
		now:        cfg.Now,
	}
	if t.now == nil {
		t.now = time.Now
	}
	if cfg.Audience != "" {
		t.audience = jwt.ClaimStrings{cfg.Audience}
	}
	if cfg.VerifyCacheSize > 0 {
		t.cache = newVerifyCache(cfg.VerifyCacheSize)
	}
	opts := parserOptions(cfg.Issuer, cfg.Audience, cfg.Leeway, t.now)
	t.access = newTokenKind(AccessTokenType, cfg.AccessTTL, newKeySource(access), access.methods(), opts)
	t.refresh = newTokenKind(RefreshTokenType, cfg.RefreshTTL, newKeySource(refresh), refresh.methods(), opts)
	return t
}

// parserOptions are what every passauth parser checks: "exp" required,
// strict base64, the leeway, and "iss" and "aud" when set.
func parserOptions(issuer, audience string, leeway time.Duration, now func() time.Time) []jwt.ParserOption {
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	}
	if issuer != "" {
		opts = append(opts, jwt.WithIssuer(issuer))
	}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	return opts
}

// newTokenKind returns a kind of type typ verified with the keys of src,
// whose algorithms are among methods.
func newTokenKind(typ string, ttl time.Duration, src *keySource, methods []string, opts []jwt.ParserOption) tokenKind {
	opts = append(opts[:len(opts):len(opts)], jwt.WithValidMethods(methods))
	return tokenKind{
		typ:       typ,
		ttl:       ttl,
		keys:      src,
		methods:   methods,
		parser:    jwt.NewParser(append(opts[:len(opts):len(opts)], jwt.WithIssuedAt())...),
		revocable: jwt.NewParser(opts...),
		keyFunc: func(t *jwt.Token) (any, error) {
			// RFC 8725 §3.11 and RFC 9068 §4: the type is checked before the
			// key is handed out.
			if got, _ := t.Header["typ"].(string); !typeMatches(got, typ) {
				return nil, errTokenType
			}
			// RFC 7515 §4.1.11: no extension is understood, so a token that
			// marks one as critical must be rejected.
			if _, ok := t.Header["crit"]; ok {
				return nil, errTokenCritical
			}
			return src.load().keyFor(t)
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

// VerifyAccess verifies an access token and returns its claims. Every
// failure matches ErrTokenInvalid with errors.Is; an expired token also
// matches ErrTokenExpired.
//
// With Config.CheckRevoked set, VerifyAccess also asks the Store whether the
// token, its session or its subject has been revoked, and fails with an
// error matching ErrStoreUnavailable (not ErrTokenInvalid) when the store
// cannot answer.
func (iss *TokenIssuer) VerifyAccess(ctx context.Context, token string) (*Claims, error) {
	c, err := iss.tokens.verifyAccess(token)
	if err != nil || !iss.sessions.checkRevoked {
		return c, err
	}
	if err := iss.sessions.checkDenied(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyRefresh verifies a refresh token and returns its claims, with the
// same errors as VerifyAccess. It does not consume the token: without a store
// a refresh token stays usable until it expires.
func (iss *TokenIssuer) VerifyRefresh(ctx context.Context, token string) (*Claims, error) {
	return iss.tokens.verify(&iss.tokens.refresh, token)
}

// verifyAccess verifies an access token, through the cache when there is
// one.
func (t *tokens) verifyAccess(token string) (*Claims, error) {
	if t.cache == nil {
		return t.verify(&t.access, token)
	}
	now, keys := t.now(), t.access.keys.load()
	if c, ok := t.cache.get(token, keys, now); ok {
		return c, nil
	}
	c, err := t.verify(&t.access, token)
	if err == nil {
		t.cache.put(token, c, keys, c.ExpiresAt.Add(t.leeway), now)
	}
	return c, err
}

// verify checks a token of kind k: its size, then golang-jwt's parse with
// the kind's pinned algorithm, type and key, then the claims every passauth
// token carries.
func (t *tokens) verify(k *tokenKind, token string) (*Claims, error) {
	return t.parse(k, k.parser, token)
}

// verifyRevocable is verify for a token to revoke: it also takes one whose
// "iat" is ahead of this replica's clock.
func (t *tokens) verifyRevocable(k *tokenKind, token string) (*Claims, error) {
	return t.parse(k, k.revocable, token)
}

func (t *tokens) parse(k *tokenKind, parser *jwt.Parser, token string) (*Claims, error) {
	if len(token) > maxTokenLen {
		return nil, errTokenTooLarge
	}
	// One allocation holds both the decoded wire form and the result.
	p := new(parsed)
	jt, err := parser.ParseWithClaims(token, &p.wire, k.keyFunc)
	if err != nil {
		return nil, t.mapError(k, jt, &p.wire, err)
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
// so that callers see only passauth's sentinels. The keyfunc's own errors
// (type, crit) come back as they are.
func (t *tokens) mapError(k *tokenKind, jt *jwt.Token, w *wireClaims, err error) error {
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return te
	case errors.Is(err, jwt.ErrTokenMalformed):
		return errTokenMalformed
	case jt == nil || jt.Method == nil || !slices.Contains(k.methods, jt.Method.Alg()):
		// An unknown, missing or other algorithm: golang-jwt reports it as
		// unverifiable or as an invalid signature.
		return errTokenAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errTokenSignature
	case errors.Is(err, jwt.ErrTokenInvalidIssuer) || (t.issuer != "" && w.Issuer == ""):
		return errTokenIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience) || (len(t.audience) > 0 && len(w.Audience) == 0):
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

// sign creates one token of kind k with the claims c and, when extra is not
// empty, the application's claims beside them.
func (t *tokens) sign(k *tokenKind, c *wireClaims, extra map[string]any) (string, error) {
	var claims jwt.Claims = c
	if len(extra) > 0 {
		claims = &extendedClaims{wireClaims: c, extra: extra}
	}
	signer := k.keys.load().signer
	jt := jwt.NewWithClaims(signer.method, claims)
	jt.Header["typ"] = k.typ
	jt.Header["kid"] = signer.id
	s, err := jt.SignedString(signer.sign)
	if err != nil {
		// Only a claim value that does not marshal to JSON gets here.
		return "", errors.New("passauth: cannot encode token claims as JSON")
	}
	return s, nil
}

// numericDate is t in the precision of JWT times, whole seconds.
func numericDate(t time.Time) jwt.NumericDate {
	return jwt.NumericDate{Time: t.Truncate(time.Second)}
}
