package passauth

import (
	"context"
	"slices"
	"strings"
)

// Sessions as users see them: the list of a subject's live sessions and
// the revocation of one of them, or of all but the current one. Each needs
// a Config.Store that is a SessionLister (MemoryStore, redisstore and
// sqlstore are).

// Sessions returns the live sessions of subject: those neither revoked,
// denied nor expired, oldest login first. A session is what one login
// started and its refreshes continued; its ID is the tokens' "sid" claim
// (Claims.SessionID), so that a handler can mark the caller's own.
//
// It fails with an error matching ErrStoreUnavailable when the store
// fails, and with another error when Config.Store is not a SessionLister.
func (iss *TokenIssuer) Sessions(ctx context.Context, subject string) ([]SessionInfo, error) {
	list, err := iss.sessions.list(ctx, subject)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b SessionInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return list, nil
}

// RevokeSession revokes the session of subject whose ID is sessionID, as
// Revoke does the session of one of its refresh tokens: its refresh token
// stops working at once and, with Config.CheckRevoked, so do its access
// tokens. It is scoped to subject: when subject has no live session with
// that ID (it never existed, it has ended, or it is another subject's), it
// changes nothing and returns ErrNoSession, so that a handler can answer
// 404 without telling which.
//
// It needs a Config.Store that is a SessionLister, and takes two store
// calls: the list, then the revocation.
func (iss *TokenIssuer) RevokeSession(ctx context.Context, subject, sessionID string) error {
	list, err := iss.sessions.list(ctx, subject)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(s SessionInfo) bool { return s.ID == sessionID })
	if i < 0 || sessionID == "" {
		return ErrNoSession
	}
	return iss.revokeListed(ctx, subject, list[i])
}

// RevokeOtherSessions revokes every live session of subject except the one
// whose ID is keep (none when keep is ""), for "log out my other devices"
// or after a password change made in session keep. Sessions that start
// while it runs are not revoked: change the password first, so that they
// cannot start with the old one. For every session including keep, use
// RevokeSubject, which takes one store call and no list.
//
// It needs a Config.Store that is a SessionLister, and takes one store
// call for the list and one per session revoked. It stops at the first
// failure, which matches ErrStoreUnavailable; calling it again finishes
// the job.
func (iss *TokenIssuer) RevokeOtherSessions(ctx context.Context, subject, keep string) error {
	list, err := iss.sessions.list(ctx, subject)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID == keep {
			continue
		}
		if err := iss.revokeListed(ctx, subject, s); err != nil {
			return err
		}
	}
	return nil
}

// revokeListed revokes session s of subject, which the store has listed.
func (iss *TokenIssuer) revokeListed(ctx context.Context, subject string, s SessionInfo) error {
	if err := iss.sessions.revokeSession(ctx, &Claims{Subject: subject, SessionID: s.ID, ClientID: s.ClientID}); err != nil {
		return err
	}
	iss.emit(ctx, Event{Kind: EventRevoke, Subject: subject, SessionID: s.ID, ClientID: s.ClientID})
	return nil
}

// list asks the store for the live sessions of subject, within
// Config.StoreTimeout.
func (s *sessions) list(ctx context.Context, subject string) ([]SessionInfo, error) {
	lister, ok := s.store.(SessionLister)
	if !ok {
		return nil, errNoLister
	}
	bounded, cancel := s.bound(ctx)
	defer cancel()
	list, err := lister.Sessions(bounded, subject)
	if err != nil {
		return nil, s.failure(ctx, "listing sessions", err, &Claims{Subject: subject})
	}
	return list, nil
}
