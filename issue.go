package passauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// IssueOption sets an optional part of the tokens IssuePair creates.
type IssueOption func(*issueOptions)

type issueOptions struct {
	scopes   []string
	clientID string
	extra    map[string]any

	// Set by refreshing, which continues a session: its ID and the time the
	// user logged in.
	sessionID string
	authTime  time.Time
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

// reservedClaims are the claim names the package sets itself.
var reservedClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "client_id", "sid", "auth_time"}

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
	return iss.issuePair(ctx, subject, o)
}

// issuePair issues a pair; with a store, it starts the session's family.
func (iss *TokenIssuer) issuePair(ctx context.Context, subject string, o issueOptions) (TokenPair, error) {
	now := iss.now()
	o.sessionID, o.authTime = rand.Text(), now
	m, err := iss.mint(subject, o, now)
	if err != nil {
		return TokenPair{}, err
	}
	if iss.store != nil {
		res, err := iss.store.Rotate(ctx, o.sessionID, "", m.refreshID, m.refreshExp)
		if err != nil {
			return TokenPair{}, storeError("starting a session", err)
		}
		if res != RotateOK {
			return TokenPair{}, fmt.Errorf("passauth: starting a session: the store answered %v: %w", res, ErrStoreUnavailable)
		}
	}
	return m.pair, nil
}

// minted is a signed pair and what the store needs to know of it.
type minted struct {
	pair       TokenPair
	refreshID  string
	refreshExp time.Time
}

// mint signs an access and a refresh token. Neither outlives the session:
// with Config.SessionTTL set, both expire by o.authTime + SessionTTL.
func (iss *TokenIssuer) mint(subject string, o issueOptions, now time.Time) (minted, error) {
	if subject == "" || !utf8.ValidString(subject) {
		return minted{}, errors.New("passauth: subject is empty or not valid UTF-8")
	}
	scope, ok := joinScope(o.scopes)
	if !ok {
		return minted{}, errors.New("passauth: scope contains a character RFC 6749 §3.3 does not allow")
	}
	for _, name := range reservedClaims {
		if _, ok := o.extra[name]; ok {
			return minted{}, fmt.Errorf("passauth: claim %q is set by passauth and cannot be overridden", name)
		}
	}
	accessExp, refreshExp := now.Add(iss.accessKind.ttl), now.Add(iss.refreshKind.ttl)
	if iss.sessionTTL > 0 {
		end := o.authTime.Add(iss.sessionTTL)
		if !end.After(now) {
			return minted{}, errTokenExpired
		}
		accessExp, refreshExp = earlier(accessExp, end), earlier(refreshExp, end)
	}
	refreshID := rand.Text()
	access, err := iss.sign(&iss.accessKind, subject, scope, rand.Text(), now, accessExp, o)
	if err != nil {
		return minted{}, err
	}
	refresh, err := iss.sign(&iss.refreshKind, subject, scope, refreshID, now, refreshExp, o)
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

// sign creates one token of kind k.
func (iss *TokenIssuer) sign(k *tokenKind, subject, scope, id string, now, exp time.Time, o issueOptions) (string, error) {
	wc := wireClaims{
		Issuer:    iss.issuer,
		Subject:   subject,
		Audience:  iss.audience,
		ExpiresAt: numericDate(exp),
		IssuedAt:  numericDate(now),
		ID:        id, // rand.Text: 130 random bits
		Scope:     scope,
		ClientID:  o.clientID,
		SessionID: o.sessionID,
		AuthTime:  numericDate(o.authTime),
	}
	var claims jwt.Claims = &wc
	if len(o.extra) > 0 {
		claims = &extendedClaims{wireClaims: &wc, extra: o.extra}
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["typ"] = k.typ
	s, err := t.SignedString(k.key)
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
