package passauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

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

// Scopes returns the scope tokens of c.Scope, an empty slice for none.
func (c *Claims) Scopes() []string {
	scopes, _ := parseScope(c.Scope)
	if scopes == nil {
		return []string{}
	}
	return scopes
}

// HasScope reports whether c grants scope.
func (c *Claims) HasScope(scope string) bool {
	return scope != "" && scopeHas(c.Scope, scope)
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

// extra returns the claims of c that the package does not set itself, each
// as the raw JSON the token carries, so that a refresh copies them byte for
// byte: decoded into any, a number above 2^53 would lose its last digits
// (RFC 8259 §6).
func (c *Claims) extra() (map[string]any, error) {
	var raw map[string]json.RawMessage
	if err := c.Decode(&raw); err != nil {
		return nil, err
	}
	for _, name := range reservedClaims {
		delete(raw, name)
	}
	m := make(map[string]any, len(raw))
	for k, v := range raw {
		m[k] = v
	}
	return m, nil
}

// claimsKey is the context key of verified claims.
type claimsKey struct{}

// ClaimsFromContext returns the claims Authenticate or AuthenticateOptional
// put in ctx, and whether there were any.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// ContextWithClaims returns a copy of ctx carrying claims, as Authenticate
// stores them. It is meant for tests of handlers that sit behind the
// middleware.
func ContextWithClaims(ctx context.Context, claims *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, claims)
}
