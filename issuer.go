package passauth

import "context"

// TokenIssuer issues and verifies the access and refresh tokens of one
// service, runs its login sessions and serves its OAuth 2.0 endpoints:
// JWTs (RFC 7519) with the "typ" header of RFC 9068 for access tokens and a
// distinct type for refresh tokens, each kind signed with keys of its own
// (HS256 secrets by default; Ed25519, P-256 or RSA keys for access tokens
// with Config.AccessKeys).
//
// A TokenIssuer is immutable after NewTokenIssuer returns it and is safe for
// concurrent use by any number of goroutines; verification takes no locks.
type TokenIssuer struct {
	tokens   tokens   // token.go, issue.go: kinds, keys, parsers, lifetimes, verify cache
	sessions sessions // session.go: the Store; its zero value means stateless
	login    login    // login.go: password policy, hashing slots, limiters, scope policy
	maxBody  int64
	onEvent  func(context.Context, Event)
}

// NewTokenIssuer validates cfg and returns an issuer built from a private
// copy of it. The error names the offending Config field, never its value.
func NewTokenIssuer(cfg Config) (*TokenIssuer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	access, refresh, err := cfg.keySets()
	if err != nil {
		return nil, err
	}
	iss := &TokenIssuer{
		tokens:  newTokens(cfg, access, refresh),
		maxBody: cfg.MaxBodyBytes,
		onEvent: cfg.OnEvent,
	}
	iss.sessions = newSessions(cfg, iss.tokens.now, iss.emit)
	login, err := newLogin(cfg)
	if err != nil {
		return nil, err
	}
	iss.login = login
	if iss.maxBody == 0 {
		iss.maxBody = DefaultMaxBodyBytes
	}
	return iss, nil
}
