package passauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// TokenHandler returns the token endpoint (RFC 6749 §3.2) of the resource
// owner password credentials grant (§4.3) and of refreshing (§6): the login
// endpoint of the seed application, which takes FastAPI's
// OAuth2PasswordRequestForm.
//
// It accepts POST requests with an application/x-www-form-urlencoded body:
//
//   - grant_type=password (or no grant_type), username, password and an
//     optional scope: users looks the user up and the handler checks the
//     password against the stored hash;
//   - grant_type=refresh_token, refresh_token and an optional scope that may
//     narrow, never widen, the scope granted before.
//
// client_id is optional and recorded in the tokens; an Authorization: Basic
// header with the client's credentials is accepted, the empty one sent by
// golang.org/x/oauth2 and Swagger UI included. passauth does not
// authenticate clients: the password grant is for first-party clients only
// (RFC 9700 §2.4).
//
// A success is 200 with a TokenPair as JSON. Failures are JSON
// {"error","error_description"} as RFC 6749 §5.2 says: 400 invalid_request
// for a missing or repeated parameter, a wrong Content-Type or a malformed or
// oversized body; 400 invalid_grant for a wrong user name or password (the
// same answer, after the same work, whether or not the user exists) and for
// a bad or expired refresh token; 400 unsupported_grant_type and
// invalid_scope; 405 for methods other than POST; 429 slow_down with
// Retry-After when Config.UserLimiter or Config.AddrLimiter throttles the
// login (checked before any lookup or hashing); 500 server_error when users
// fails; 503 temporarily_unavailable when Config.Store or a limiter fails,
// or, with Retry-After, when no hashing slot frees within Config.HashWait.
// Every answer carries Cache-Control: no-store.
//
// After a successful login with a hash weaker than Config.PasswordHasher's
// policy, a users that implements PasswordUpdater is given a new hash.
//
// TokenHandler panics if users is nil.
func (iss *TokenIssuer) TokenHandler(users UserLookup) http.Handler {
	if users == nil {
		panic("passauth: TokenHandler needs a UserLookup")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		req, perr := parseTokenRequest(w, r, iss.maxBody)
		if perr != nil {
			perr.writeJSON(w)
			return
		}
		var pair TokenPair
		switch req.grantType {
		case "", "password":
			pair, perr = iss.passwordGrant(r.Context(), r, users, req)
		case "refresh_token":
			if req.refreshToken == "" {
				perr = errNoRefresh
				break
			}
			var err error
			pair, err = iss.refresh(r.Context(), users, req.refreshToken, req.scope, req.clientID)
			perr = grantError(err)
		default:
			perr = errGrantType
		}
		if perr != nil {
			perr.writeJSON(w)
			return
		}
		writePair(w, pair)
	})
}

// RefreshHandler returns the seed application's refresh endpoint: a POST
// whose refresh token comes as a JSON body {"refresh_token": "…"} (the
// seed's final version), as a refresh_token form field, or in an
// Authorization: Bearer header (its first version). A success is 200 with a
// new TokenPair, as from TokenHandler.
//
// A bad, expired or access token is 401 with
// WWW-Authenticate: Bearer error="invalid_token" and the description
// "Token expired" or "Invalid token"; a malformed request is 400
// invalid_request; a failure of Config.Store is 503 temporarily_unavailable.
// With a store, a refresh token is single-use: see Refresh.
//
// When users is not nil, the user named by the token's subject is looked up
// and a refresh for a user that is gone or disabled fails as an invalid
// token; a nil users skips that check.
func (iss *TokenIssuer) RefreshHandler(users UserLookup) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		token, perr := parseRefreshRequest(w, r, iss.maxBody)
		if perr != nil {
			perr.writeBearer(w)
			return
		}
		pair, err := iss.refresh(r.Context(), users, token, "", "")
		if err != nil {
			if errors.Is(err, ErrTokenInvalid) {
				invalidTokenError(err).writeBearer(w)
			} else {
				grantError(err).writeJSON(w)
			}
			return
		}
		writePair(w, pair)
	})
}

// Answers of the token endpoint, built once.
var (
	errMethod       = &Error{Code: CodeInvalidRequest, Status: http.StatusMethodNotAllowed, Description: "method must be POST"}
	errGrantType    = &Error{Code: CodeUnsupportedGrantType, Status: http.StatusBadRequest, Description: "grant_type must be password or refresh_token"}
	errBadGrant     = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest, Description: "Invalid token"}
	errExpiredGrant = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest, Description: "Token expired"}
	errScopeSyntax  = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "malformed scope"}
	errScopeDenied  = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "requested scope not granted"}
	errScopeWiden   = &Error{Code: CodeInvalidScope, Status: http.StatusBadRequest, Description: "scope exceeds the scope originally granted"}
	errServer       = &Error{Code: CodeServerError, Status: http.StatusInternalServerError, Description: "internal error"}
)

func allowPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	errMethod.writeJSON(w)
	return false
}

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
	return iss.refresh(ctx, nil, refreshToken, "", "")
}

// refresh verifies a refresh token and issues the next pair of its session,
// with the same subject, client and application claims, and the scope
// granted before or the narrower scope asked for. With a store, the
// presented token is consumed: a second presentation is reuse and revokes
// the session.
//
// It returns a token error (matching ErrTokenInvalid) when the token or its
// user is not valid, an error matching ErrStoreUnavailable when the store
// fails, and an *Error for anything else.
func (iss *TokenIssuer) refresh(ctx context.Context, users UserLookup, token, scope, clientID string) (TokenPair, error) {
	claims, err := iss.VerifyRefresh(ctx, token)
	if err != nil {
		return TokenPair{}, err
	}
	if clientID != "" && clientID != claims.ClientID {
		// RFC 6749 §6: the token must have been issued to this client.
		return TokenPair{}, errTokenInvalidClient
	}
	if iss.store != nil {
		if claims.SessionID == "" {
			return TokenPair{}, errTokenNoSession
		}
		if err := iss.checkDenied(ctx, claims); err != nil {
			return TokenPair{}, err
		}
	}
	if users != nil {
		u, found, err := users.LookupUser(ctx, claims.Subject)
		if err != nil {
			return TokenPair{}, errServer
		}
		if !found || u.Disabled {
			return TokenPair{}, errUserGone
		}
	}
	o := issueOptions{clientID: claims.ClientID, sessionID: claims.SessionID, authTime: claims.AuthTime}
	if o.authTime.IsZero() {
		o.authTime = claims.IssuedAt
	}
	o.scopes, _ = splitScope(claims.Scope)
	requested, ok := splitScope(scope)
	if !ok {
		return TokenPair{}, errScopeSyntax
	}
	if len(requested) > 0 {
		if len(grantScope(requested, o.scopes)) != len(requested) {
			return TokenPair{}, errScopeWiden
		}
		o.scopes = requested
	}
	if o.extra, err = claims.extra(); err != nil {
		return TokenPair{}, errServer
	}
	m, err := iss.mint(claims.Subject, o, iss.now())
	switch {
	case errors.Is(err, ErrTokenInvalid):
		return TokenPair{}, err // the session has outlived Config.SessionTTL
	case err != nil:
		return TokenPair{}, errServer
	}
	if iss.store != nil {
		if err := iss.rotate(ctx, claims, m); err != nil {
			return TokenPair{}, err
		}
	}
	iss.emit(ctx, Event{Kind: EventRefresh, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
	return m.pair, nil
}

// rotate replaces the session's current refresh token, that of claims, by
// the one just minted.
func (iss *TokenIssuer) rotate(ctx context.Context, claims *Claims, m minted) error {
	res, err := iss.store.Rotate(ctx, claims.SessionID, claims.ID, m.refreshID, m.refreshExp)
	if err != nil {
		return storeError("rotating a refresh token", err)
	}
	switch res {
	case RotateOK:
		return nil
	case RotateReused:
		// The store has revoked the family; also refuse the session's access
		// tokens. The request fails whether or not that succeeds.
		_ = iss.denySession(ctx, claims.SessionID)
		iss.emit(ctx, Event{Kind: EventRefreshReuse, Subject: claims.Subject, SessionID: claims.SessionID, ClientID: claims.ClientID})
		return errTokenReused
	}
	return errTokenRevoked
}

// grantError turns a refresh failure into the token endpoint's answer: a
// bad token is an invalid_grant (RFC 6749 §5.2).
func grantError(err error) *Error {
	var perr *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &perr):
		return perr
	case errors.Is(err, ErrStoreUnavailable):
		return errUnavailable
	case errors.Is(err, ErrTokenExpired):
		return errExpiredGrant
	}
	return errBadGrant
}

// splitScope splits a space-separated scope parameter into its tokens,
// reporting false when one has a character RFC 6749 §3.3 does not allow.
// Duplicates are dropped.
func splitScope(scope string) ([]string, bool) {
	var tokens []string
	for s := range strings.SplitSeq(scope, " ") {
		if s == "" || contains(tokens, s) {
			continue
		}
		for i := 0; i < len(s); i++ {
			if !isScopeChar(s[i]) {
				return nil, false
			}
		}
		tokens = append(tokens, s)
	}
	return tokens, true
}

// grantScope returns the scopes to grant a user holding held who asked for
// requested: all held when requested is empty, otherwise those requested
// that are held.
func grantScope(requested, held []string) []string {
	if len(requested) == 0 {
		return held
	}
	var granted []string
	for _, s := range requested {
		if contains(held, s) {
			granted = append(granted, s)
		}
	}
	return granted
}

// writePair writes a successful token response (RFC 6749 §5.1).
func writePair(w http.ResponseWriter, pair TokenPair) {
	body, err := json.Marshal(pair)
	if err != nil {
		errServer.writeJSON(w)
		return
	}
	setTokenHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
