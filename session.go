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
// granted before or the narrower scope asked for, less what the user no
// longer holds. With a store, the presented token is consumed: a second
// presentation is reuse and revokes the session.
func (iss *TokenIssuer) refresh(ctx context.Context, req refreshRequest) (TokenPair, error) {
	claims, err := iss.VerifyRefresh(ctx, req.token)
	if err != nil {
		return TokenPair{}, err
	}
	if req.clientID != "" && req.clientID != claims.ClientID {
		// RFC 6749 §6: the token must have been issued to this client.
		return TokenPair{}, errTokenInvalidClient
	}
	s := &iss.sessions
	if s.store != nil {
		if claims.SessionID == "" {
			return TokenPair{}, errTokenNoSession
		}
		if err := s.checkDenied(ctx, claims); err != nil {
			return TokenPair{}, err
		}
	}
	o := issueOptions{clientID: claims.ClientID, sessionID: claims.SessionID, authTime: authTime(claims)}
	if o.scopes, err = narrowScope(claims.Scope, req.scope); err != nil {
		return TokenPair{}, err
	}
	if req.users != nil {
		u, found, err := req.users.LookupUser(ctx, claims.Subject)
		if err != nil {
			return TokenPair{}, lookupError(err)
		}
		if !found || u.Disabled {
			return TokenPair{}, errUserGone
		}
		if o.scopes, err = iss.login.regrant(ctx, u, o.scopes, req.scope != ""); err != nil {
			return TokenPair{}, err
		}
	}
	if o.extra, err = claims.extra(); err != nil {
		return TokenPair{}, err
	}
	m, err := iss.tokens.mint(claims.Subject, o, iss.tokens.now())
	if err != nil {
		return TokenPair{}, err // errTokenExpired: the session has outlived Config.SessionTTL
	}
	if s.store != nil {
		if err := iss.rotate(ctx, claims, m); err != nil {
			return TokenPair{}, err
		}
		// A revocation of the subject made between the check above and the
		// rotation ends this session too: the pair just minted is not handed
		// out. (One of the session, a logout, revokes its family, which the
		// store's rotation sees; and the reuse that concurrent refreshes of
		// this token cause must not take back the one that won.)
		if err := s.checkSubject(ctx, claims); err != nil {
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
	if s := &iss.sessions; s.store != nil {
		c := &Claims{Subject: subject, SessionID: o.sessionID, ClientID: o.clientID}
		res, err := s.rotate(ctx, c, "", m)
		if err != nil {
			return TokenPair{}, err
		}
		if res != RotateOK {
			return TokenPair{}, s.failure(ctx, "starting a session", fmt.Errorf("the store answered %v", res), c)
		}
	}
	return m.pair, nil
}

// rotate replaces the session's current refresh token, that of claims, by
// the one just minted. On reuse it also refuses the session's access tokens
// and raises EventRefreshReuse.
func (iss *TokenIssuer) rotate(ctx context.Context, claims *Claims, m minted) error {
	s := &iss.sessions
	res, err := s.rotate(ctx, claims, claims.ID, m)
	if err != nil {
		return err
	}
	switch res {
	case RotateOK:
		return nil
	case RotateReused:
		// The store has revoked the family; also refuse the session's access
		// tokens. The request fails whether or not that succeeds; a failure
		// is reported as EventStoreUnavailable.
		_ = s.denySession(ctx, claims)
		iss.emit(ctx, Event{Kind: EventRefreshReuse, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
		return errTokenReused
	}
	return errTokenRevoked
}

// Revoke revokes token, an access or a refresh token of this issuer (RFC
// 7009 §2). Revoking a refresh token revokes its whole session: every later
// refresh fails and, with Config.CheckRevoked, the session's access tokens
// are refused at once. Revoking an access token denies that token until it
// expires (which only Config.CheckRevoked enforces); past three access
// tokens of one session within an AccessTTL, the whole session is revoked
// instead, so that no session can fill the store with denials.
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
	c, err := iss.tokens.verifyRevocable(&iss.tokens.refresh, token)
	if err != nil {
		if c, err = iss.tokens.verifyRevocable(&iss.tokens.access, token); err != nil {
			return err
		}
		err = s.denyToken(ctx, c, iss.tokens.leeway)
	} else {
		err = s.revokeSession(ctx, c)
	}
	if err != nil {
		return err
	}
	iss.emit(ctx, Event{Kind: EventRevoke, Subject: c.Subject, SessionID: c.SessionID, ClientID: c.ClientID})
	return nil
}

// RevokeSubject ends every session of subject that started before it, for
// example after a password change or when an account is closed: their
// refresh tokens stop working at once, whatever refresh is in flight, and,
// with Config.CheckRevoked, so do their access tokens. A session is judged
// by its login time ("auth_time"), which its refreshes keep; sessions that
// log in afterwards are not affected, except those within Config.Leeway of
// it (and the rest of that second, since token times have whole seconds),
// which are ended too. That holds across replicas whose clocks differ by at
// most Config.Leeway.
//
// RevokeSubject needs Config.Store.
func (iss *TokenIssuer) RevokeSubject(ctx context.Context, subject string) error {
	s := &iss.sessions
	if s.store == nil {
		return errNoStore
	}
	now := s.now()
	c := &Claims{Subject: subject}
	if err := s.deny(ctx, denySubjectPrefix+subject, now.Add(s.leeway), now.Add(s.refreshLife), "revoking a subject", c); err != nil {
		return err
	}
	iss.emit(ctx, Event{Kind: EventRevokeSubject, Subject: subject})
	return nil
}

// authTime is the login time of the session of c: its "auth_time", or its
// "iat" in tokens minted before auth_time was written.
func authTime(c *Claims) time.Time {
	if c.AuthTime.IsZero() {
		return c.IssuedAt
	}
	return c.AuthTime
}

// The store calls. Each runs within Config.StoreTimeout, and each failure is
// reported as EventStoreUnavailable and returned matching
// ErrStoreUnavailable.

// rotate moves the session of c from oldID ("" to start it) to the refresh
// token of m, whose family the store keeps until m's expiry and the leeway
// after it, during which the token still verifies.
func (s *sessions) rotate(ctx context.Context, c *Claims, oldID string, m minted) (RotateResult, error) {
	bounded, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := s.store.Rotate(bounded, c.SessionID, oldID, m.refreshID, m.refreshExp.Add(s.leeway))
	if err != nil {
		op := "rotating a refresh token"
		if oldID == "" {
			op = "starting a session"
		}
		return 0, s.failure(ctx, op, err, c)
	}
	return res, nil
}

// revokeSession revokes the session of refresh token claims c: its family in
// the store, and its access tokens through the denylist.
func (s *sessions) revokeSession(ctx context.Context, c *Claims) error {
	if c.SessionID == "" {
		return errTokenNoSession
	}
	bounded, cancel := context.WithTimeout(ctx, s.timeout)
	err := s.store.RevokeFamily(bounded, c.SessionID)
	cancel()
	if err != nil {
		return s.failure(ctx, "revoking a session", err, c)
	}
	return s.denySession(ctx, c)
}

// denySession denies the access tokens of the session of c, for as long as
// any of them can live. The denial is recorded with that end as its time,
// so that it refuses every token of the session, whatever the clock of the
// replica that minted it.
func (s *sessions) denySession(ctx context.Context, c *Claims) error {
	end := s.now().Add(s.accessLife)
	return s.deny(ctx, denySessionPrefix+c.SessionID, end, end, "revoking a session", c)
}

// denyToken denies the access token of c until it expires, and, past
// maxTokenDenials of its session within an access token's life, revokes
// the session instead.
func (s *sessions) denyToken(ctx context.Context, c *Claims, leeway time.Duration) error {
	if c.SessionID != "" {
		if wait, _ := s.tokenDenials.Allow(ctx, c.SessionID); wait > 0 {
			if err := s.revokeSession(ctx, c); err != nil {
				return err
			}
			return nil
		}
	}
	end := c.ExpiresAt.Add(leeway)
	return s.deny(ctx, denyTokenPrefix+c.ID, end, end, "revoking an access token", c)
}

// deny records a denial of key at time at, kept until expires.
func (s *sessions) deny(ctx context.Context, key string, at, expires time.Time, op string, c *Claims) error {
	bounded, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.store.Deny(bounded, key, at, expires); err != nil {
		return s.failure(ctx, op, err, c)
	}
	return nil
}

// checkDenied fails when the store's denylist holds the subject or session
// of c, or any of keys, with a time not before the session's login time.
// Token and session denials are recorded with a time no token of theirs
// can be older than, so they refuse every one; a subject denial refuses
// the sessions that logged in before it.
func (s *sessions) checkDenied(ctx context.Context, c *Claims, keys ...string) error {
	keys = append(keys, denySubjectPrefix+c.Subject)
	if c.SessionID != "" {
		keys = append(keys, denySessionPrefix+c.SessionID)
	}
	bounded, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	at, found, err := s.store.Denied(bounded, keys...)
	if err != nil {
		return s.failure(ctx, "checking revocation", err, c)
	}
	if found && !authTime(c).After(at) {
		return errTokenRevoked
	}
	return nil
}

// checkSubject is checkDenied for the subject's denial alone.
func (s *sessions) checkSubject(ctx context.Context, c *Claims) error {
	bounded, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	at, found, err := s.store.Denied(bounded, denySubjectPrefix+c.Subject)
	if err != nil {
		return s.failure(ctx, "checking revocation", err, c)
	}
	if found && !authTime(c).After(at) {
		return errTokenRevoked
	}
	return nil
}

// failure reports a failed store operation as EventStoreUnavailable and
// returns its error, matching ErrStoreUnavailable.
func (s *sessions) failure(ctx context.Context, op string, err error, c *Claims) error {
	if s.report != nil {
		s.report(ctx, Event{Kind: EventStoreUnavailable, Reason: op, Err: err, Subject: c.Subject, SessionID: c.SessionID, ClientID: c.ClientID})
	}
	return storeError(op, err)
}

// Denylist keys: one namespace each for access-token IDs, sessions and
// subjects, so that none can collide with another.
const (
	denyTokenPrefix   = "jti:"
	denySessionPrefix = "sid:"
	denySubjectPrefix = "sub:"
)

// maxTokenDenials is how many access tokens of one session Revoke denies
// one by one within an access token's life before it revokes the session.
const maxTokenDenials = 3

// sessions is the part of a TokenIssuer that keeps login sessions in a
// Store. Its zero value, with no store, means stateless refreshing and no
// revocation.
type sessions struct {
	store        Store
	checkRevoked bool
	now          func() time.Time
	timeout      time.Duration // of each store call
	leeway       time.Duration
	report       func(context.Context, Event) // EventStoreUnavailable

	// How long a denial must be kept: as long as any access token (of a
	// session) or any refresh token (of a subject) it refuses can live.
	accessLife  time.Duration
	refreshLife time.Duration

	// tokenDenials counts the access tokens Revoke denies per session.
	tokenDenials *MemoryLimiter
}

func newSessions(cfg Config, now func() time.Time, report func(context.Context, Event)) sessions {
	s := sessions{
		store:        cfg.Store,
		checkRevoked: cfg.CheckRevoked,
		now:          now,
		timeout:      cfg.StoreTimeout,
		leeway:       cfg.Leeway,
		report:       report,
		accessLife:   cfg.AccessTTL + cfg.Leeway,
		refreshLife:  cfg.RefreshTTL + cfg.Leeway,
		tokenDenials: NewMemoryLimiter(Limit{Burst: maxTokenDenials, Interval: cfg.AccessTTL + cfg.Leeway}),
	}
	if s.timeout == 0 {
		s.timeout = DefaultStoreTimeout
	}
	return s
}
