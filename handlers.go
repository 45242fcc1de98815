package passauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
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
// {"error","error_description"} as RFC 6749 §5.2 says:
//
//   - 400 invalid_request: a missing or repeated parameter, a wrong
//     Content-Type, a malformed or oversized body;
//   - 400 invalid_grant: a wrong user name or password (the same answer,
//     after the same work, whether or not the user exists), a bad or expired
//     refresh token;
//   - 400 unsupported_grant_type, 400 invalid_scope;
//   - 405 with Allow: POST for other methods;
//   - 429 slow_down with Retry-After when Config.UserLimiter or
//     Config.AddrLimiter throttles the login, checked before any lookup or
//     hashing;
//   - 500 server_error when users fails;
//   - 503 temporarily_unavailable when Config.Store or a limiter fails, or,
//     with Retry-After, when no hashing slot frees within Config.HashWait.
//
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
		pair, err := iss.tokenEndpoint(w, r, users)
		if err != nil {
			writeError(w, grantAnswer(err))
			return
		}
		writePair(w, pair)
	})
}

// tokenEndpoint parses a token request and runs its grant.
func (iss *TokenIssuer) tokenEndpoint(w http.ResponseWriter, r *http.Request, users UserLookup) (TokenPair, error) {
	req, err := parseTokenRequest(w, r, iss.maxBody)
	if err != nil {
		return TokenPair{}, err
	}
	switch req.grantType {
	case "", "password":
		return iss.passwordGrant(r.Context(), r, users, req)
	case "refresh_token":
		if req.refreshToken == "" {
			return TokenPair{}, errNoRefresh
		}
		return iss.refresh(r.Context(), refreshRequest{
			token: req.refreshToken, scope: req.scope, clientID: req.clientID, users: users,
		})
	}
	return TokenPair{}, errGrantType
}

// RefreshHandler returns the seed application's refresh endpoint: a POST
// whose refresh token comes as a JSON body {"refresh_token": "…"} (the
// seed's final version), as a refresh_token form field, or in an
// Authorization: Bearer header (its first version). A success is 200 with a
// new TokenPair, as from TokenHandler. With a store, a refresh token is
// single-use: see Refresh.
//
// users looks up the user named by the token's subject: a refresh for a
// user that is gone or disabled fails as an invalid token.
//
// Failures:
//
//   - 401 with WWW-Authenticate: Bearer error="invalid_token" and the
//     description "Token expired" or "Invalid token": a bad, expired,
//     reused, revoked or access token;
//   - 400 invalid_request: a malformed request;
//   - 405 with Allow: POST for other methods;
//   - 500 server_error when users fails;
//   - 503 temporarily_unavailable when Config.Store fails.
//
// RefreshHandler panics if users is nil; code that refreshes without a
// user check calls Refresh.
func (iss *TokenIssuer) RefreshHandler(users UserLookup) http.Handler {
	if users == nil {
		panic("passauth: RefreshHandler needs a UserLookup")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		token, err := parseRefreshRequest(w, r, iss.maxBody)
		var pair TokenPair
		if err == nil {
			pair, err = iss.refresh(r.Context(), refreshRequest{token: token, users: users})
		}
		if err != nil {
			writeChallenge(w, bearerAnswer(err))
			return
		}
		writePair(w, pair)
	})
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
// without Config.Store; 405 with Allow: POST for other methods; and 503
// temporarily_unavailable when the store fails, so that the client retries
// rather than believe a revocation that did not happen.
func (iss *TokenIssuer) RevocationHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		token, err := parseRevocationRequest(w, r, iss.maxBody)
		switch {
		case err != nil:
		case iss.sessions.store == nil:
			err = errCannotRevoke
		default:
			if err = iss.Revoke(r.Context(), token); errors.Is(err, ErrTokenInvalid) {
				err = nil // RFC 7009 §2.2: nothing to revoke is a success
			}
		}
		if err != nil {
			writeError(w, grantAnswer(err))
			return
		}
		setTokenHeaders(w.Header())
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusOK)
	})
}

// allowPost answers 405 with Allow: POST to other methods.
func allowPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	w.Header().Set("Allow", http.MethodPost)
	writeError(w, errMethod)
	return false
}

// writePair writes a successful token response (RFC 6749 §5.1).
func writePair(w http.ResponseWriter, pair TokenPair) {
	body, err := json.Marshal(pair)
	if err != nil {
		writeError(w, errServer)
		return
	}
	setTokenHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError writes e as the JSON body of a response with no-store caching,
// as RFC 6749 §5.2 asks of token endpoint errors, and Retry-After when e
// has one.
func writeError(w http.ResponseWriter, e *Error) {
	body, err := json.Marshal(e)
	if err != nil {
		// A struct of strings always marshals.
		body = []byte(`{"error":"server_error"}`)
	}
	setTokenHeaders(w.Header())
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// writeChallenge writes e as the answer to a request that presented, or
// should have presented, a Bearer token: the WWW-Authenticate challenge of
// RFC 6750 §3 and the JSON body. A server-side failure (5xx) is not the
// token's fault and gets no challenge.
func writeChallenge(w http.ResponseWriter, e *Error) {
	if e.Status < http.StatusInternalServerError {
		w.Header().Set("WWW-Authenticate", e.Challenge())
	}
	writeError(w, e)
}

// setTokenHeaders sets the headers of every answer passauth writes: those
// RFC 6749 §5.1 asks of a token endpoint, a JSON body that no cache may
// keep, and nosniff, so that no browser reads the body as anything else.
func setTokenHeaders(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
}
