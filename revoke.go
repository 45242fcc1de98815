package passauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Denylist keys: one namespace each for access-token IDs, sessions and
// subjects, so that none can collide with another.
const (
	denyTokenPrefix   = "jti:"
	denySessionPrefix = "sid:"
	denySubjectPrefix = "sub:"
)

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
	if iss.store == nil {
		return errNoStore
	}
	if c, err := iss.verify(&iss.refreshKind, token); err == nil {
		return iss.revokeSession(ctx, c)
	}
	c, err := iss.verify(&iss.accessKind, token)
	if err != nil {
		return err
	}
	if err := iss.store.Deny(ctx, denyTokenPrefix+c.ID, iss.now(), c.ExpiresAt.Add(iss.leeway)); err != nil {
		return storeError("revoking an access token", err)
	}
	iss.emit(ctx, Event{Kind: EventRevoke, Subject: c.Subject, SessionID: c.SessionID, ClientID: c.ClientID})
	return nil
}

// revokeSession revokes the session of refresh token claims c: its family in
// the store, and its access tokens through the denylist.
func (iss *TokenIssuer) revokeSession(ctx context.Context, c *Claims) error {
	if c.SessionID == "" {
		return errTokenNoSession
	}
	if err := iss.store.RevokeFamily(ctx, c.SessionID); err != nil {
		return storeError("revoking a session", err)
	}
	if err := iss.denySession(ctx, c.SessionID); err != nil {
		return err
	}
	iss.emit(ctx, Event{Kind: EventRevoke, Subject: c.Subject, SessionID: c.SessionID, ClientID: c.ClientID})
	return nil
}

// denySession denies the access tokens of a session, for as long as any of
// them can live.
func (iss *TokenIssuer) denySession(ctx context.Context, sessionID string) error {
	now := iss.now()
	err := iss.store.Deny(ctx, denySessionPrefix+sessionID, now, now.Add(iss.accessKind.ttl+iss.leeway))
	if err != nil {
		return storeError("revoking a session", err)
	}
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
	if iss.store == nil {
		return errNoStore
	}
	now := iss.now()
	if err := iss.store.Deny(ctx, denySubjectPrefix+subject, now, now.Add(iss.refreshKind.ttl+iss.leeway)); err != nil {
		return storeError("revoking a subject", err)
	}
	iss.emit(ctx, Event{Kind: EventRevokeSubject, Subject: subject})
	return nil
}

// checkDenied fails when the store's denylist holds the subject or session
// of c, or any of keys, with a time not before c was issued.
func (iss *TokenIssuer) checkDenied(ctx context.Context, c *Claims, keys ...string) error {
	keys = append(keys, denySubjectPrefix+c.Subject)
	if c.SessionID != "" {
		keys = append(keys, denySessionPrefix+c.SessionID)
	}
	at, found, err := iss.store.Denied(ctx, keys...)
	if err != nil {
		return storeError("checking revocation", err)
	}
	if found && !c.IssuedAt.After(at) {
		return errTokenRevoked
	}
	return nil
}

// errNoStore is returned by the revocation methods without Config.Store.
var errNoStore = errors.New("passauth: revocation needs Config.Store")

// storeError wraps a store failure so that it matches ErrStoreUnavailable;
// the store's own error stays in the chain for the application's logs.
func storeError(doing string, err error) error {
	return fmt.Errorf("passauth: %s: %w: %w", doing, ErrStoreUnavailable, err)
}

// RevocationHandler returns a token revocation endpoint (RFC 7009): a POST
// with an application/x-www-form-urlencoded body holding token and,
// optionally, token_type_hint, which is accepted and ignored since the
// handler tells the two token types apart itself. It revokes the token as
// Revoke does. In the demo server, logging out is this call with the refresh
// token.
//
// It answers 200 with an empty body when the token was revoked and also,
// as RFC 7009 §2.2 requires, when the token is invalid, expired or unknown;
// 400 invalid_request for a malformed request; 400 unsupported_token_type
// without Config.Store; and 503 temporarily_unavailable when the store fails,
// so that the client retries rather than believe a revocation that did not
// happen.
func (iss *TokenIssuer) RevocationHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		token, perr := parseRevocationRequest(w, r, iss.maxBody)
		if perr != nil {
			perr.writeJSON(w)
			return
		}
		if iss.store == nil {
			errCannotRevoke.writeJSON(w)
			return
		}
		if err := iss.Revoke(r.Context(), token); err != nil && !errors.Is(err, ErrTokenInvalid) {
			errUnavailable.writeJSON(w)
			return
		}
		setTokenHeaders(w.Header())
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusOK)
	})
}

var (
	errCannotRevoke = &Error{Code: CodeUnsupportedTokenType, Status: http.StatusBadRequest, Description: "this server does not revoke tokens"}
	errUnavailable  = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable, Description: "token store unavailable, try again later"}
)
