package passauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Sentinel errors. Callers branch on them with [errors.Is]; the errors the
// package returns wrap them with context that never includes a token, a
// secret or a password.
var (
	// ErrTokenInvalid is matched by every token verification failure:
	// malformed, unsigned, foreign-algorithm, badly signed, expired, not yet
	// valid, of the wrong type, or missing a required claim.
	ErrTokenInvalid = errors.New("passauth: invalid token")

	// ErrTokenExpired is matched, in addition to ErrTokenInvalid, when a token
	// is well formed and correctly signed but past its expiry time.
	ErrTokenExpired = errors.New("passauth: token expired")

	// ErrTokenReused is matched, in addition to ErrTokenInvalid, when a
	// refresh token that was already exchanged is presented again. With a
	// Config.Store this is taken as theft: the whole session is revoked.
	ErrTokenReused = errors.New("passauth: refresh token reused")

	// ErrPasswordMismatch is returned by CheckPassword when the password does
	// not match the hash.
	ErrPasswordMismatch = errors.New("passauth: password does not match")

	// ErrPasswordTooLong is returned for passwords longer than 72 bytes,
	// which bcrypt cannot hash without silently truncating them.
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
	errTokenUnverified = &tokenError{reason: "unverifiable"}

	// Refresh failures, answered as an invalid token: the user is gone or
	// disabled, or the token was issued to another client (RFC 6749 §6).
	errUserGone           = &tokenError{reason: "user unknown or disabled"}
	errTokenInvalidClient = &tokenError{reason: "issued to another client"}
)

// Error codes from the OAuth 2.0 registries: RFC 6749 §5.2 for the token
// endpoint and RFC 6750 §3.1 for protected resources.
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

// writeJSON writes e as the JSON body of a response with no-store caching,
// as RFC 6749 §5.2 asks of token endpoint errors.
func (e *Error) writeJSON(w http.ResponseWriter) {
	body, err := json.Marshal(e)
	if err != nil {
		// A struct of two strings always marshals.
		body = []byte(`{"error":"server_error"}`)
	}
	setTokenHeaders(w.Header())
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// writeBearer writes e as the answer of a Bearer-protected resource: the
// WWW-Authenticate challenge and the JSON body.
func (e *Error) writeBearer(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", e.Challenge())
	e.writeJSON(w)
}

// setTokenHeaders sets the headers RFC 6749 §5.1 asks of every token
// endpoint response: a JSON body that no cache may keep.
func setTokenHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}
