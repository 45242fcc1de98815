package passauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

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

// IssueOption sets an optional part of the tokens IssuePair creates.
type IssueOption func(*issueOptions)

// issueOptions is what a pair is minted with besides its subject: what the
// options set and, when a refresh continues a session, its ID and login
// time.
type issueOptions struct {
	scopes   []string
	clientID string
	extra    map[string]any

	sessionID string
	authTime  time.Time

	// Set by a replay in the grace window: the session's current refresh
	// token, to sign again with its own ID and expiry.
	refreshID  string
	refreshExp time.Time
}

// WithScope grants the given scopes (RFC 6749 §3.3). Each argument may itself
// be a space-separated list; duplicates are dropped. A scope token with a
// character outside the RFC's set makes IssuePair fail.
func WithScope(scopes ...string) IssueOption {
	return func(o *issueOptions) {
		for _, s := range scopes {
			o.scopes = append(o.scopes, strings.Split(s, " ")...)
		}
	}
}

// WithClientID records the OAuth 2.0 client the tokens were issued to, as the
// "client_id" claim (RFC 9068 §2.2).
func WithClientID(clientID string) IssueOption {
	return func(o *issueOptions) { o.clientID = clientID }
}

// WithClaims adds application claims to both tokens; refreshing carries them
// over. A name the package sets itself (iss, sub, aud, exp, nbf, iat, jti,
// scope, client_id, sid, auth_time) makes IssuePair fail. Values must marshal
// to JSON. Read them back with Claims.Decode.
func WithClaims(claims map[string]any) IssueOption {
	return func(o *issueOptions) {
		if o.extra == nil {
			o.extra = make(map[string]any, len(claims))
		}
		for k, v := range claims {
			o.extra[k] = v
		}
	}
}

// IssuePair starts a login session for subject, the user the tokens speak
// for (the "sub" claim), and returns its first access and refresh tokens. The
// subject must be non-empty valid UTF-8.
//
// Both tokens carry a new session ID ("sid") and the login time
// ("auth_time"). With a Config.Store, the session is recorded there; if the
// store fails, IssuePair returns an error matching ErrStoreUnavailable.
func (iss *TokenIssuer) IssuePair(ctx context.Context, subject string, opts ...IssueOption) (TokenPair, error) {
	var o issueOptions
	for _, opt := range opts {
		opt(&o)
	}
	return iss.startSession(ctx, subject, o)
}

// minted is a signed pair and what the store needs to know of it.
type minted struct {
	pair       TokenPair
	refreshID  string
	refreshExp time.Time
}

// mint signs an access and a refresh token. Neither outlives the session:
// with Config.SessionTTL set, both expire by o.authTime + SessionTTL, and a
// session already past that fails with errTokenExpired.
func (t *tokens) mint(subject string, o issueOptions, now time.Time) (minted, error) {
	if subject == "" || !utf8.ValidString(subject) {
		return minted{}, errors.New("passauth: subject is empty or not valid UTF-8")
	}
	scope, err := joinScope(o.scopes)
	switch {
	case err == errScopeTooLong:
		return minted{}, errors.New("passauth: scope longer than 2048 bytes or 64 tokens")
	case err != nil:
		// Not the client's answer: the scope comes from the application.
		return minted{}, errors.New("passauth: scope contains a character RFC 6749 §3.3 does not allow")
	}
	for _, name := range reservedClaims {
		if _, ok := o.extra[name]; ok {
			return minted{}, fmt.Errorf("passauth: claim %q is set by passauth and cannot be overridden", name)
		}
	}
	accessExp, refreshExp := now.Add(t.access.ttl), now.Add(t.refresh.ttl)
	if t.sessionTTL > 0 {
		end := o.authTime.Add(t.sessionTTL)
		if !end.After(now) {
			return minted{}, errTokenExpired
		}
		accessExp, refreshExp = earlier(accessExp, end), earlier(refreshExp, end)
	}
	c := wireClaims{
		Issuer:    t.issuer,
		Subject:   subject,
		Audience:  t.audience,
		IssuedAt:  numericDate(now),
		Scope:     scope,
		ClientID:  o.clientID,
		SessionID: o.sessionID,
		AuthTime:  numericDate(o.authTime),
	}
	// IDs are rand.Text: 130 random bits.
	c.ID, c.ExpiresAt = rand.Text(), numericDate(accessExp)
	access, err := t.sign(&t.access, &c, o.extra)
	if err != nil {
		return minted{}, err
	}
	refreshID := rand.Text()
	if o.refreshID != "" {
		refreshID, refreshExp = o.refreshID, o.refreshExp
	}
	c.ID, c.ExpiresAt = refreshID, numericDate(refreshExp)
	refresh, err := t.sign(&t.refresh, &c, o.extra)
	if err != nil {
		return minted{}, err
	}
	return minted{
		pair: TokenPair{
			AccessToken:  access,
			TokenType:    "bearer",
			ExpiresIn:    int64(accessExp.Sub(now) / time.Second),
			RefreshToken: refresh,
			Scope:        scope,
		},
		refreshID:  refreshID,
		refreshExp: refreshExp,
	}, nil
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
