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
// longer holds. With a store, the presented token is consumed, in one store
// call that also checks the session's and its subject's denials: a second
// presentation is reuse and revokes the session, unless it is a replay
// within Config.RefreshGrace, which is answered with the session's current
// refresh token.
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
	if s.store != nil && claims.SessionID == "" {
		return TokenPair{}, errTokenNoSession
	}
	o := issueOptions{clientID: claims.ClientID, sessionID: claims.SessionID, authTime: authTime(claims)}
	if o.scopes, err = narrowScope(claims.Scope, req.scope); err != nil {
		return TokenPair{}, err
	}
	if req.users != nil {
		u, found, err := lookupSubject(ctx, req.users, claims.Subject)
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
	now := iss.tokens.now()
	m, err := iss.tokens.mint(claims.Subject, o, now)
	if err != nil {
		return TokenPair{}, err // errTokenExpired: the session has outlived Config.SessionTTL
	}
	event := EventRefresh
	if s.store != nil {
		res, err := s.rotate(ctx, claims, claims.ID, m, now)
		if err != nil {
			return TokenPair{}, err
		}
		switch res.Result {
		case RotateOK:
		case RotateReplayed:
			// The same request again, within the grace window: the answer
			// is the session's current refresh token (signed again, with its
			// own ID and expiry) and a new access token; no second chain.
			o.refreshID, o.refreshExp = res.Current, res.Expires
			if m, err = iss.tokens.mint(claims.Subject, o, now); err != nil {
				return TokenPair{}, err
			}
			event = EventRefreshReplayed
		case RotateReused:
			// The store has revoked the session and denied its access tokens.
			iss.emit(ctx, Event{Kind: EventRefreshReuse, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
			return TokenPair{}, errTokenReused
		default:
			return TokenPair{}, errTokenRevoked
		}
	}
	iss.emit(ctx, Event{Kind: event, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
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
		c := &Claims{Subject: subject, SessionID: o.sessionID, ClientID: o.clientID, AuthTime: now}
		res, err := s.rotate(ctx, c, "", m, now)
		if err != nil {
			return TokenPair{}, err
		}
		if res.Result != RotateOK {
			return TokenPair{}, s.failure(ctx, "starting a session", fmt.Errorf("the store answered %v", res.Result), c)
		}
	}
	return m.pair, nil
}

// Revoke revokes token, an access or a refresh token of this issuer (RFC
// 7009 §2). Revoking a refresh token revokes its whole session: every later
// refresh fails and, with Config.CheckRevoked, the session's access tokens
// are refused at once. Revoking an access token denies that token until it
// expires (which only Config.CheckRevoked enforces); past three access
// tokens of one session within an AccessTTL (counted per replica), the
// whole session is revoked instead: no session can fill the store.
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
	d := Denial{Subject: subject, At: now.Add(s.leeway), Expires: now.Add(s.refreshLife)}
	if err := s.deny(ctx, d, "revoking a subject", c); err != nil {
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

// The store calls, one per operation. Each runs within Config.StoreTimeout,
// and each failure is reported as EventStoreUnavailable and returned
// matching ErrStoreUnavailable.

// rotate moves the session of c from oldID ("" to start it) to the refresh
// token of m, whose family the store keeps until m's expiry and the leeway
// after it, during which the token still verifies.
func (s *sessions) rotate(ctx context.Context, c *Claims, oldID string, m minted, now time.Time) (Rotated, error) {
	bounded, cancel := s.bound(ctx)
	defer cancel()
	res, err := s.store.Rotate(bounded, Rotation{
		Subject: c.Subject, Family: c.SessionID, OldID: oldID, NewID: m.refreshID, ClientID: c.ClientID,
		AuthTime: authTime(c), Now: now, Expires: m.refreshExp, KeepUntil: m.refreshExp.Add(s.leeway),
		DenyUntil: now.Add(s.accessLife), Grace: s.grace, MaxReplays: maxGraceReplays,
	})
	if err != nil {
		op := "rotating a refresh token"
		if oldID == "" {
			op = "starting a session"
		}
		return Rotated{}, s.failure(ctx, op, err, c)
	}
	return res, nil
}

// revokeSession revokes the session of refresh token claims c and denies
// its access tokens, in one store call. The denial is recorded with its
// end as its time, so that it refuses every token of the session, whatever
// the clock of the replica that minted it.
func (s *sessions) revokeSession(ctx context.Context, c *Claims) error {
	if c.SessionID == "" {
		return errTokenNoSession
	}
	end := s.now().Add(s.accessLife)
	bounded, cancel := s.bound(ctx)
	defer cancel()
	if err := s.store.RevokeSession(bounded, Denial{Subject: c.Subject, Session: c.SessionID, At: end, Expires: end}); err != nil {
		return s.failure(ctx, "revoking a session", err, c)
	}
	return nil
}

// denyToken denies the access token of c until it expires, and, past
// maxTokenDenials of its session within an access token's life, revokes
// the session instead.
func (s *sessions) denyToken(ctx context.Context, c *Claims, leeway time.Duration) error {
	if c.SessionID != "" {
		if wait, _ := s.tokenDenials.Allow(ctx, c.SessionID); wait > 0 {
			return s.revokeSession(ctx, c)
		}
	}
	end := c.ExpiresAt.Add(leeway)
	return s.deny(ctx, Denial{Subject: c.Subject, Token: c.ID, At: end, Expires: end}, "revoking an access token", c)
}

// deny records a denial.
func (s *sessions) deny(ctx context.Context, d Denial, op string, c *Claims) error {
	bounded, cancel := s.bound(ctx)
	defer cancel()
	if err := s.store.Deny(bounded, d); err != nil {
		return s.failure(ctx, op, err, c)
	}
	return nil
}

// checkDenied fails when the store holds a denial of the subject or the
// session of access token claims c, or of c itself, with a time not before
// the session's login time. Token and session denials are recorded with a
// time no token of theirs can be older than, so they refuse every one; a
// subject denial refuses the sessions that logged in before it.
func (s *sessions) checkDenied(ctx context.Context, c *Claims) error {
	bounded, cancel := s.bound(ctx)
	defer cancel()
	at, found, err := s.store.Denied(bounded, DenyQuery{Subject: c.Subject, Session: c.SessionID, Token: c.ID})
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

// maxTokenDenials is how many access tokens of one session Revoke denies
// one by one within an access token's life before it revokes the session.
const maxTokenDenials = 3

// maxGraceReplays is how many times, within Config.RefreshGrace, the token
// a rotation replaced may be presented again and answered with the
// current one: enough for a page that fans out a few dozen requests, and a
// bound on the access tokens a copy can get.
const maxGraceReplays = 32

// sessions is the part of a TokenIssuer that keeps login sessions in a
// Store. Its zero value, with no store, means stateless refreshing and no
// revocation.
type sessions struct {
	store        Store
	checkRevoked bool
	now          func() time.Time
	timeout      time.Duration // of each store call
	inMemory     bool          // the store is a MemoryStore: see bound
	leeway       time.Duration
	grace        time.Duration                // Config.RefreshGrace
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
		grace:        cfg.RefreshGrace,
		report:       report,
		accessLife:   cfg.AccessTTL + cfg.Leeway,
		refreshLife:  cfg.RefreshTTL + cfg.Leeway,
		tokenDenials: NewMemoryLimiter(Limit{Burst: maxTokenDenials, Interval: cfg.AccessTTL + cfg.Leeway}),
	}
	if s.timeout == 0 {
		s.timeout = DefaultStoreTimeout
	}
	_, s.inMemory = cfg.Store.(*MemoryStore)
	return s
}

// bound returns ctx bounded by Config.StoreTimeout for one store call, and
// the function that releases it. A MemoryStore's calls never wait on I/O,
// only on its mutex, which no call holds for long, so they run on ctx
// itself, which they still check: a deadline would bound nothing, and it
// costs a timer and, under net/http's request context, 7 allocations, on
// every request that CheckRevoked checks.
func (s *sessions) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.inMemory {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.timeout)
}
