package passauth

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
)

// Refresh exchanges a refresh token for the next pair of its session, as
// RefreshHandler does but without a user lookup: the subject, client,
// scope and application claims carry over. With Config.Store the presented
// token is consumed; presenting it again fails with an error matching
// ErrTokenReused (and ErrTokenInvalid) and revokes the session.
//
// It fails with an error matching ErrTokenInvalid (and ErrTokenExpired for
// an expired token or session) when the token is not valid, and one matching
// ErrStoreUnavailable when the store fails.
func (iss *TokenIssuer) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	return iss.refresh(ctx, refreshRequest{token: refreshToken})
}

// refreshRequest is what a refresh is asked with.
type refreshRequest struct {
	token    string
	scope    string     // a narrower scope asked for; "" keeps the scope granted
	clientID string     // the client asking (RFC 6749 §6); "" skips the check
	users    UserLookup // nil skips the check that the user may still log in
}

// refresh verifies a refresh token and issues the next pair of its session,
// with the same subject, client and application claims, and the scope
// granted before or the narrower scope asked for. With a store, the
// presented token is consumed: a second presentation is reuse and revokes
// the session.
func (iss *TokenIssuer) refresh(ctx context.Context, req refreshRequest) (TokenPair, error) {
	claims, err := iss.VerifyRefresh(ctx, req.token)
	if err != nil {
		return TokenPair{}, err
	}
	if req.clientID != "" && req.clientID != claims.ClientID {
		// RFC 6749 §6: the token must have been issued to this client.
		return TokenPair{}, errTokenInvalidClient
	}
	if iss.sessions.store != nil {
		if claims.SessionID == "" {
			return TokenPair{}, errTokenNoSession
		}
		if err := iss.sessions.checkDenied(ctx, claims); err != nil {
			return TokenPair{}, err
		}
	}
	if req.users != nil {
		u, found, err := req.users.LookupUser(ctx, claims.Subject)
		if err != nil {
			return TokenPair{}, lookupError(err)
		}
		if !found || u.Disabled {
			return TokenPair{}, errUserGone
		}
	}
	o := issueOptions{clientID: claims.ClientID, sessionID: claims.SessionID, authTime: claims.AuthTime}
	if o.authTime.IsZero() {
		o.authTime = claims.IssuedAt
	}
	if o.scopes, err = narrowScope(claims.Scope, req.scope); err != nil {
		return TokenPair{}, err
	}
	if o.extra, err = claims.extra(); err != nil {
		return TokenPair{}, err
	}
	m, err := iss.tokens.mint(claims.Subject, o, iss.tokens.now())
	if err != nil {
		return TokenPair{}, err // errTokenExpired: the session has outlived Config.SessionTTL
	}
	if iss.sessions.store != nil {
		if err := iss.rotate(ctx, claims, m); err != nil {
			return TokenPair{}, err
		}
	}
	iss.emit(ctx, Event{Kind: EventRefresh, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
	return m.pair, nil
}

// startSession issues the first pair of a new login session and, with a
// store, records the session there.
func (iss *TokenIssuer) startSession(ctx context.Context, subject string, o issueOptions) (TokenPair, error) {
	now := iss.tokens.now()
	o.sessionID, o.authTime = rand.Text(), now
	m, err := iss.tokens.mint(subject, o, now)
	if err != nil {
		return TokenPair{}, err
	}
	if s := iss.sessions.store; s != nil {
		res, err := s.Rotate(ctx, o.sessionID, "", m.refreshID, m.refreshExp)
		if err != nil {
			return TokenPair{}, storeError("starting a session", err)
		}
		if res != RotateOK {
			return TokenPair{}, fmt.Errorf("passauth: starting a session: the store answered %v: %w", res, ErrStoreUnavailable)
		}
	}
	return m.pair, nil
}

// rotate replaces the session's current refresh token, that of claims, by
// the one just minted. On reuse it also refuses the session's access tokens
// and raises EventRefreshReuse.
func (iss *TokenIssuer) rotate(ctx context.Context, claims *Claims, m minted) error {
	res, err := iss.sessions.store.Rotate(ctx, claims.SessionID, claims.ID, m.refreshID, m.refreshExp)
	if err != nil {
		return storeError("rotating a refresh token", err)
	}
	switch res {
	case RotateOK:
		return nil
	case RotateReused:
		// The store has revoked the family; also refuse the session's access
		// tokens. The request fails whether or not that succeeds.
		_ = iss.sessions.denySession(ctx, claims.SessionID)
		iss.emit(ctx, Event{Kind: EventRefreshReuse, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
		return errTokenReused
	}
	return errTokenRevoked
}

// Revoke revokes token, an access or a refresh token of this issuer (RFC
// 7009 §2). Revoking a refresh token revokes its whole session: every later
// refresh fails and, with Config.CheckRevoked, the session's access tokens
// are refused at once. Revoking an access token denies that token until it
// expires (which only Config.CheckRevoked enforces).
//
// Revoke needs Config.Store. It returns an error matching ErrTokenInvalid
// when token is not a valid token of this issuer (expired included: there is
// nothing left to revoke), and one matching ErrStoreUnavailable when the
// store fails; a store failure is never reported as success.
func (iss *TokenIssuer) Revoke(ctx context.Context, token string) error {
	s := &iss.sessions
	if s.store == nil {
		return errNoStore
	}
	if c, err := iss.tokens.verify(&iss.tokens.refresh, token); err == nil {
		if err := s.revokeSession(ctx, c); err != nil {
			return err
		}
		iss.emit(ctx, Event{Kind: EventRevoke, Subject: c.Subject, SessionID: c.SessionID, ClientID: c.ClientID})
		return nil
	}
	c, err := iss.tokens.verify(&iss.tokens.access, token)
	if err != nil {
		return err
	}
	if err := s.store.Deny(ctx, denyTokenPrefix+c.ID, s.now(), c.ExpiresAt.Add(iss.tokens.leeway)); err != nil {
		return storeError("revoking an access token", err)
	}
	iss.emit(ctx, Event{Kind: EventRevoke, Subject: c.Subject, SessionID: c.SessionID, ClientID: c.ClientID})
	return nil
}

// RevokeSubject ends every session of subject, for example after a password
// change or when an account is closed: refresh tokens issued until now stop
// working and, with Config.CheckRevoked, so do access tokens. Tokens issued
// afterwards, by a new login, are not affected, except those issued within
// the same second, since token times have one-second precision.
//
// RevokeSubject needs Config.Store.
func (iss *TokenIssuer) RevokeSubject(ctx context.Context, subject string) error {
	s := &iss.sessions
	if s.store == nil {
		return errNoStore
	}
	now := s.now()
	if err := s.store.Deny(ctx, denySubjectPrefix+subject, now, now.Add(s.refreshLife)); err != nil {
		return storeError("revoking a subject", err)
	}
	iss.emit(ctx, Event{Kind: EventRevokeSubject, Subject: subject})
	return nil
}

// revokeSession revokes the session of refresh token claims c: its family in
// the store, and its access tokens through the denylist.
func (s *sessions) revokeSession(ctx context.Context, c *Claims) error {
	if c.SessionID == "" {
		return errTokenNoSession
	}
	if err := s.store.RevokeFamily(ctx, c.SessionID); err != nil {
		return storeError("revoking a session", err)
	}
	return s.denySession(ctx, c.SessionID)
}

// denySession denies the access tokens of a session, for as long as any of
// them can live.
func (s *sessions) denySession(ctx context.Context, sessionID string) error {
	now := s.now()
	if err := s.store.Deny(ctx, denySessionPrefix+sessionID, now, now.Add(s.accessLife)); err != nil {
		return storeError("revoking a session", err)
	}
	return nil
}

// checkDenied fails when the store's denylist holds the subject or session
// of c, or any of keys, with a time not before c was issued.
func (s *sessions) checkDenied(ctx context.Context, c *Claims, keys ...string) error {
	keys = append(keys, denySubjectPrefix+c.Subject)
	if c.SessionID != "" {
		keys = append(keys, denySessionPrefix+c.SessionID)
	}
	at, found, err := s.store.Denied(ctx, keys...)
	if err != nil {
		return storeError("checking revocation", err)
	}
	if found && !c.IssuedAt.After(at) {
		return errTokenRevoked
	}
	return nil
}

// Denylist keys: one namespace each for access-token IDs, sessions and
// subjects, so that none can collide with another.
const (
	denyTokenPrefix   = "jti:"
	denySessionPrefix = "sid:"
	denySubjectPrefix = "sub:"
)

// sessions is the part of a TokenIssuer that keeps login sessions in a
// Store. Its zero value, with no store, means stateless refreshing and no
// revocation.
type sessions struct {
	store        Store
	checkRevoked bool
	now          func() time.Time

	// How long a denial must be kept: as long as any access token (of a
	// session) or any refresh token (of a subject) it refuses can live.
	accessLife  time.Duration
	refreshLife time.Duration
}

func newSessions(cfg Config, now func() time.Time) sessions {
	return sessions{
		store:        cfg.Store,
		checkRevoked: cfg.CheckRevoked,
		now:          now,
		accessLife:   cfg.AccessTTL + cfg.Leeway,
		refreshLife:  cfg.RefreshTTL + cfg.Leeway,
	}
}
