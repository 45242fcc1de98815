package passauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors. Callers branch on them with [errors.Is]; the errors the
// package returns wrap them with context that never includes a token, a
// secret or a password.
var (
	// ErrTokenInvalid is matched by every token verification failure:
	// malformed, unsigned, foreign-algorithm, badly signed, expired, not yet
	// valid, of the wrong type, revoked, or missing a required claim.
	ErrTokenInvalid = errors.New("passauth: invalid token")

	// ErrTokenExpired is matched, in addition to ErrTokenInvalid, when a token
	// is well formed and correctly signed but past its expiry time.
	ErrTokenExpired = errors.New("passauth: token expired")

	// ErrTokenReused is matched, in addition to ErrTokenInvalid, when a
	// refresh token that was already exchanged is presented again. With a
	// Config.Store this is taken as theft: the whole session is revoked.
	ErrTokenReused = errors.New("passauth: refresh token reused")

	// ErrStoreUnavailable is matched by the errors of operations that failed
	// because the Store did: refreshing, revoking, and verifying access
	// tokens when Config.CheckRevoked is set. The handlers answer it with
	// 503 and never fall back to another store or to stateless behaviour.
	ErrStoreUnavailable = errors.New("passauth: token store unavailable")

	// ErrKeysUnavailable is matched by the errors of a Verifier that has no
	// key set to verify with: its JWKS could not be fetched, or only one too
	// old to trust. Its middleware answers it with 503, not 401: the token
	// may well be good.
	ErrKeysUnavailable = errors.New("passauth: key set unavailable")

	// ErrNoSession is returned by TokenIssuer.RevokeSession when the subject
	// has no live session with the ID given: it never existed, it has ended,
	// or it is another subject's.
	ErrNoSession = errors.New("passauth: no such session")

	// ErrPasswordMismatch is returned by CheckPassword when the password does
	// not match the hash.
	ErrPasswordMismatch = errors.New("passauth: password does not match")

	// ErrPasswordTooLong is returned for passwords longer than
	// MaxBcryptPasswordLen (72) bytes hashed with bcrypt or checked against
	// a bcrypt hash, which bcrypt could only do by silently truncating them.
	ErrPasswordTooLong = errors.New("passauth: password longer than 72 bytes")

	// ErrInvalidHash is returned by CheckPassword when the stored hash is not
	// a hash the package can verify. It never counts as a match.
	ErrInvalidHash = errors.New("passauth: malformed or unsupported password hash")
)

// tokenError is a verification failure. It matches ErrTokenInvalid, and
// also when set (ErrTokenExpired or ErrTokenReused). Its reason is a fixed
// phrase that is safe to show to clients.
type tokenError struct {
	reason string
	also   error
}

func (e *tokenError) Error() string {
	if e.also != nil {
		return e.also.Error()
	}
	return "passauth: invalid token: " + e.reason
}

func (e *tokenError) Is(target error) bool {
	return target == ErrTokenInvalid || (e.also != nil && target == e.also)
}

// Verification failures. They are immutable and safe to return from any
// goroutine.
var (
	errTokenExpired    = &tokenError{reason: "expired", also: ErrTokenExpired}
	errTokenReused     = &tokenError{reason: "reused", also: ErrTokenReused}
	errTokenRevoked    = &tokenError{reason: "revoked"}
	errTokenNoSession  = &tokenError{reason: "missing sid"}
	errTokenMalformed  = &tokenError{reason: "malformed"}
	errTokenTooLarge   = &tokenError{reason: "too large"}
	errTokenAlgorithm  = &tokenError{reason: "unsupported algorithm"}
	errTokenSignature  = &tokenError{reason: "bad signature"}
	errTokenType       = &tokenError{reason: "wrong token type"}
	errTokenCritical   = &tokenError{reason: "unsupported critical header"}
	errTokenNoExpiry   = &tokenError{reason: "missing exp"}
	errTokenNoSubject  = &tokenError{reason: "missing sub"}
	errTokenNoID       = &tokenError{reason: "missing jti"}
	errTokenNotYet     = &tokenError{reason: "not yet valid"}
	errTokenIssuer     = &tokenError{reason: "wrong issuer"}
	errTokenAudience   = &tokenError{reason: "wrong audience"}
	errTokenBadClaims  = &tokenError{reason: "invalid claims"}
	errTokenBadScope   = &tokenError{reason: "invalid scope"}
	errTokenUnknownKey = &tokenError{reason: "unknown key"}
	errTokenKeyHeader  = &tokenError{reason: "key in the header"}

	// Refresh failures, answered as an invalid token: the user is gone or
	// disabled, or the token was issued to another client (RFC 6749 §6).
	errUserGone           = &tokenError{reason: "user unknown or disabled"}
	errTokenInvalidClient = &tokenError{reason: "issued to another client"}
)

// errNoStore is returned by the revocation methods without Config.Store,
// and errNoLister by the session methods when the store cannot list
// sessions.
var (
	errNoStore  = errors.New("passauth: revocation needs Config.Store")
	errNoLister = errors.New("passauth: listing sessions needs a Config.Store that is a SessionLister")
)

// storeError wraps a store failure so that it matches ErrStoreUnavailable;
// the store's own error stays in the chain for the application's logs.
func storeError(doing string, err error) error {
	return fmt.Errorf("passauth: %s: %w: %w", doing, ErrStoreUnavailable, err)
}

// lookupError wraps a failure of the application's UserLookup. It is
// answered 500 server_error; its text stays in the chain, never in an
// answer.
func lookupError(err error) error {
	return fmt.Errorf("passauth: looking up a user: %w", err)
}

// Error codes from the OAuth 2.0 registries: RFC 6749 §5.2 for the token
// endpoint, RFC 6750 §3.1 for protected resources, RFC 7009 §2.2.1 for
// revocation and RFC 8628 §3.5 for slow_down. CodeInvalidClient and
// CodeUnauthorizedClient are never sent by passauth, which does not
// authenticate clients; they are defined for applications that put their
// own client checks in front of the handlers.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeInvalidScope           = "invalid_scope"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	CodeUnsupportedTokenType   = "unsupported_token_type" // RFC 7009 §2.2.1
	CodeSlowDown               = "slow_down"              // RFC 8628 §3.5, registered for the token endpoint
)

// Error is an OAuth 2.0 protocol error as sent to a client: Code and
// Description are the RFC 6749 §5.2 "error" and "error_description"
// parameters, Status is the HTTP status code. The handlers render it as a
// JSON body and, for Bearer-protected requests, as a WWW-Authenticate
// challenge (RFC 6750 §3).
//
// Description is fixed text chosen by the package; it never contains a
// token, a secret or a password.
type Error struct {
	Code        string `json:"error,omitempty"`
	Description string `json:"error_description,omitempty"`
	// Scope is the scope a protected resource requires, for
	// insufficient_scope (RFC 6750 §3.1); empty otherwise.
	Scope  string `json:"scope,omitempty"`
	Status int    `json:"-"`

	retryAfter int // seconds, sent as Retry-After when positive
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("passauth: ")
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString(http.StatusText(e.Status))
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Challenge returns the value of the WWW-Authenticate header for e, as RFC
// 6750 §3 defines it: "Bearer" alone when e has no code (the request carried
// no token), otherwise with error, error_description and, when set, scope
// attributes.
func (e *Error) Challenge() string {
	if e.Code == "" {
		return "Bearer"
	}
	var b strings.Builder
	b.WriteString(`Bearer error="`)
	b.WriteString(e.Code)
	b.WriteByte('"')
	if e.Description != "" {
		b.WriteString(`, error_description="`)
		b.WriteString(e.Description)
		b.WriteByte('"')
	}
	if e.Scope != "" {
		b.WriteString(`, scope="`)
		b.WriteString(e.Scope)
		b.WriteByte('"')
	}
	return b.String()
}

// The answers, built once, grouped by where they are sent. Descriptions are
// fixed text.

// Any endpoint.
var (
	errMethod      = &Error{Code: CodeInvalidRequest, Status: http.StatusMethodNotAllowed, Description: "method must be POST"}
	errMethodGet   = &Error{Code: CodeInvalidRequest, Status: http.StatusMethodNotAllowed, Description: "method must be GET or HEAD"}
	errServer      = &Error{Code: CodeServerError, Status: http.StatusInternalServerError, Description: "internal error"}
	errUnavailable = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable, Description: "token store unavailable, try again later"}
	errNoKeys      = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable, Description: "the issuer's keys are unavailable, try again later"}
)

// Request parsing (request.go).
var (
	errFormType       = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "Content-Type must be application/x-www-form-urlencoded"}
	errBodyType       = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "Content-Type must be application/json or application/x-www-form-urlencoded"}
	errBodyTooLarge   = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "request body too large"}
	errBodyRead       = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "request body could not be read"}
	errFormMalformed  = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "malformed form body"}
	errJSONMemberCase = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "member names are case-sensitive: refresh_token"}
	errJSONMalformed  = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "malformed JSON body"}
	errRepeated       = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "a parameter is repeated"}
	errTwoAuthz       = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "more than one Authorization header"}
	errBasicAuth      = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "malformed Basic credentials"}
	errClientID       = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "client_id must be at most 255 printable ASCII characters"}
	errClientTwice    = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "client credentials sent in both the header and the body"}
	errBearerFormat   = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "malformed Bearer credentials"}
	errTwoTokens      = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "refresh token sent in more than one place"}
	errNoRefresh      = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "missing refresh_token"}
	errNoToken7009    = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "missing token"}
)

// The token endpoint: the grant type, the password grant and refreshing.
var (
	errGrantType       = &Error{Code: CodeUnsupportedGrantType, Status: http.StatusBadRequest, Description: "grant_type must be password or refresh_token"}
	errNoUsername      = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "missing username"}
	errUsernameUTF8    = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "username is not valid UTF-8"}
	errUsernameChar    = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "username holds a control character"}
	errUsernameInvalid = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "username is not valid"}
	errUsernameLong    = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "username longer than 256 bytes"}
	errNoPassword      = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "missing password"}
	errBadLogin        = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest, Description: "Incorrect username or password"}
	errBusy            = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable, Description: "too many logins in progress, try again later", retryAfter: 1}
	errBadGrant        = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest, Description: "Invalid token"}
	errExpiredGrant    = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest, Description: "Token expired"}
	errScopeSyntax     = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "malformed scope"}
	errScopeTooLong    = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "scope longer than 2048 bytes or 64 tokens"}
	errScopeDenied     = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "requested scope not granted"}
	errScopeWiden      = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "scope exceeds the scope originally granted"}
)

// throttled is the 429 answer to a throttled login (RFC 6585 §4), with the
// RFC 8628 slow_down code that the OAuth registry allows at the token
// endpoint.
func throttled(wait time.Duration) *Error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &Error{Code: CodeSlowDown, Status: http.StatusTooManyRequests,
		Description: "too many failed logins, try again later", retryAfter: max(secs, 1)}
}

// The cookie transport.
var (
	errCrossOrigin     = &Error{Code: CodeInvalidRequest, Status: http.StatusForbidden, Description: "cross-origin request refused"}
	errGrantTypeCookie = &Error{Code: CodeUnsupportedGrantType, Status: http.StatusBadRequest, Description: "the cookie login takes grant_type=password"}
	errNoRefreshCookie = &Error{Code: CodeInvalidToken, Status: http.StatusUnauthorized, Description: "Invalid token"}
	errCookieFormat    = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "malformed cookie"}
	errTwoCookies      = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "a cookie is repeated"}
	errCookieTooLarge  = &Error{Code: CodeServerError, Status: http.StatusInternalServerError, Description: "tokens too large for cookies"}
)

// The revocation endpoint.
var errCannotRevoke = &Error{Code: CodeUnsupportedTokenType, Status: http.StatusBadRequest, Description: "this server does not revoke tokens"}

// Protected resources (RFC 6750 §3.1), and the refresh endpoint's answers
// to a bad token, which are the seed's two messages.
var (
	errNoToken      = &Error{Status: http.StatusUnauthorized, Description: "Not authenticated"}
	errInvalidToken = &Error{Code: CodeInvalidToken, Status: http.StatusUnauthorized, Description: "Invalid token"}
	errExpiredToken = &Error{Code: CodeInvalidToken, Status: http.StatusUnauthorized, Description: "Token expired"}
)

// insufficientScope is the 403 answer of a resource that requires scope.
func insufficientScope(scope string) *Error {
	return &Error{Code: CodeInsufficientScope, Status: http.StatusForbidden,
		Description: "The access token does not grant the scope this resource requires", Scope: scope}
}

// grantAnswer translates the error of a token endpoint flow into its answer
// (RFC 6749 §5.2): a protocol error as it is, a store failure as 503, a bad
// token as invalid_grant, and anything else, a failed user lookup included,
// as 500 with nothing of the cause.
func grantAnswer(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, ErrStoreUnavailable):
		return errUnavailable
	case errors.Is(err, ErrKeysUnavailable):
		return errNoKeys
	case errors.Is(err, ErrTokenExpired):
		return errExpiredGrant
	case errors.Is(err, ErrTokenInvalid):
		return errBadGrant
	}
	return errServer
}

// bearerAnswer translates an error where the token came as a Bearer
// credential (the middleware, the refresh endpoint) into its RFC 6750
// answer: "Token expired" or "Invalid token" for a bad token, the rest as
// grantAnswer does.
func bearerAnswer(err error) *Error {
	switch {
	case errors.Is(err, ErrTokenExpired):
		return errExpiredToken
	case errors.Is(err, ErrTokenInvalid):
		return errInvalidToken
	}
	return grantAnswer(err)
}
