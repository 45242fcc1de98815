package passauth

import (
	"encoding/json"

	"github.com/golang-jwt/jwt/v5"
)

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

// reservedClaims are the claim names of wireClaims: the package sets them
// itself, and WithClaims may not.
var reservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "client_id", "sid", "auth_time"}

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
	case !validScope(w.Scope):
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
	m := make(map[string]any, len(e.extra)+len(reservedClaims))
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
