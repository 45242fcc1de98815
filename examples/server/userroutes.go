package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/passauth/passauth"
)

// userRoutes are the demo's account routes: sign-up, password change and
// the caller's sessions. Each password it hashes or checks takes one of a
// few slots, as the token handler's do, so that a flood of sign-ups cannot
// take every CPU; sign-ups are limited per client address and password
// checks per user.
type userRoutes struct {
	iss      *passauth.TokenIssuer
	accounts *accounts

	hashSlots chan struct{}
	signUps   *passauth.MemoryLimiter // per client address
	changes   *passauth.MemoryLimiter // wrong current passwords, per user
}

// Limits of the account routes.
const (
	maxUserBody  = 4 << 10
	hashWait     = 2 * time.Second
	signUpBurst  = 10 // sign-ups per address, then one every signUpEvery
	signUpEvery  = 6 * time.Minute
	changeBurst  = 5 // wrong current passwords per user, then one a minute
	changeEvery  = time.Minute
	sessionsPath = "/api/users/me/sessions"
)

func newUserRoutes(iss *passauth.TokenIssuer, accts *accounts) *userRoutes {
	return &userRoutes{
		iss:       iss,
		accounts:  accts,
		hashSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
		signUps:   passauth.NewMemoryLimiter(passauth.Limit{Burst: signUpBurst, Interval: signUpEvery}),
		changes:   passauth.NewMemoryLimiter(passauth.Limit{Burst: changeBurst, Interval: changeEvery}),
	}
}

// apiError is an answer in the shape of RFC 6749 §5.2, which the token
// routes use too.
type apiError struct {
	status      int
	code        string
	description string
	retryAfter  time.Duration
}

func (e *apiError) Error() string { return e.description }

func badRequest(description string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: passauth.CodeInvalidRequest, description: description}
}

var (
	errBusyHashing = &apiError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", description: "too many password checks at once, try again", retryAfter: time.Second}
	errUnavailable = &apiError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", description: "the database is unavailable, try again", retryAfter: time.Second}
	errNoSuchUser  = &apiError{status: http.StatusUnauthorized, code: passauth.CodeInvalidToken, description: "the user of this token no longer exists"}
	errWrongCurPwd = &apiError{status: http.StatusForbidden, code: passauth.CodeInvalidRequest, description: "current_password does not match"}
	errNoSession   = &apiError{status: http.StatusNotFound, code: passauth.CodeInvalidRequest, description: "no such session"}
)

// writeJSON answers status with v as JSON, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers err: an *apiError as it says, anything else as 503,
// since what fails below the routes is the database or the store.
func writeError(w http.ResponseWriter, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = errUnavailable
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.retryAfter/time.Second)))
	}
	writeJSON(w, e.status, struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}{e.code, e.description})
}

// readJSON decodes a small JSON object body into v, refusing unknown
// fields, a second value and any body but application/json.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &apiError{status: http.StatusUnsupportedMediaType, code: passauth.CodeInvalidRequest, description: "the body must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUserBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{status: http.StatusRequestEntityTooLarge, code: passauth.CodeInvalidRequest, description: fmt.Sprintf("the body is larger than %d bytes", maxUserBody)}
		}
		return badRequest("the body is not the JSON object this route takes")
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

// hash hashes password with the accounts' policy in a hashing slot.
func (u *userRoutes) hash(ctx context.Context, password string) (string, error) {
	if err := u.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-u.hashSlots }()
	return u.accounts.hasher.Hash(password)
}

// check checks password against hash in a hashing slot.
func (u *userRoutes) check(ctx context.Context, hash, password string) error {
	if err := u.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-u.hashSlots }()
	return u.accounts.hasher.Check(hash, password)
}

func (u *userRoutes) acquire(ctx context.Context) error {
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case u.hashSlots <- struct{}{}:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return errBusyHashing
}

// signUp is POST /api/users: {"username", "password"} → 201 {"username"}.
func (u *userRoutes) signUp(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Username == nil || req.Password == nil {
		writeError(w, badRequest("username and password are required"))
		return
	}
	name, err := checkNewUsername(*req.Username)
	if err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	if err := checkNewPassword(*req.Password); err != nil {
		writeError(w, badRequest(err.Error()))
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if wait, _ := u.signUps.Allow(r.Context(), host); wait > 0 {
		writeError(w, &apiError{status: http.StatusTooManyRequests, code: "slow_down", description: "too many sign-ups from this address", retryAfter: max(wait, time.Second)})
		return
	}
	hash, err := u.hash(r.Context(), *req.Password)
	if err != nil {
		writeError(w, err)
		return
	}
	switch _, err := u.accounts.create(r.Context(), name, hash); {
	case errors.Is(err, errNameTaken):
		writeError(w, &apiError{status: http.StatusConflict, code: passauth.CodeInvalidRequest, description: "username is taken"})
		return
	case err != nil:
		writeError(w, err)
		return
	}
	w.Header().Set("Location", "/api/users/me")
	writeJSON(w, http.StatusCreated, struct {
		Username string `json:"username"`
	}{name})
}

// changePassword is POST /api/users/me/password: {"current_password",
// "new_password"} → 204, and every other session of the user is revoked.
func (u *userRoutes) changePassword(w http.ResponseWriter, r *http.Request) {
	claims, _ := passauth.ClaimsFromContext(r.Context())
	var req struct {
		Current *string `json:"current_password"`
		New     *string `json:"new_password"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Current == nil || req.New == nil {
		writeError(w, badRequest("current_password and new_password are required"))
		return
	}
	if err := checkNewPassword(*req.New); err != nil {
		writeError(w, badRequest("new_password: "+err.Error()))
		return
	}
	user, found, err := u.accounts.LookupUser(r.Context(), claims.Subject)
	switch {
	case err != nil:
		writeError(w, err)
		return
	case !found:
		writeError(w, errNoSuchUser)
		return
	}
	// A stolen access token must not make the current password guessable:
	// wrong ones are limited per user, as failed logins are.
	if wait, _ := u.changes.Allow(r.Context(), claims.Subject); wait > 0 {
		writeError(w, &apiError{status: http.StatusTooManyRequests, code: "slow_down", description: "too many wrong passwords, wait", retryAfter: max(wait, time.Second)})
		return
	}
	switch err := u.check(r.Context(), user.PasswordHash, *req.Current); {
	case errors.Is(err, errBusyHashing):
		_ = u.changes.Forgive(r.Context(), claims.Subject)
		writeError(w, err)
		return
	case err != nil:
		writeError(w, errWrongCurPwd)
		return
	}
	_ = u.changes.Forgive(r.Context(), claims.Subject)
	hash, err := u.hash(r.Context(), *req.New)
	if err != nil {
		writeError(w, err)
		return
	}
	// The password first, so that no session can start with the old one
	// while the others are revoked.
	if err := u.accounts.UpdatePasswordHash(r.Context(), claims.Subject, hash); err != nil {
		writeError(w, err)
		return
	}
	if err := u.iss.RevokeOtherSessions(r.Context(), claims.Subject, claims.SessionID); err != nil {
		writeError(w, &apiError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
			description: "the password was changed, but not every other session could be revoked; send the request again with the new password as current_password",
			retryAfter:  time.Second})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sessionJSON is one entry of GET /api/users/me/sessions.
type sessionJSON struct {
	ID       string    `json:"id"`
	ClientID string    `json:"client_id"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used"`
	Expires  time.Time `json:"expires"`
	Current  bool      `json:"current"`
}

// listSessions is GET /api/users/me/sessions: the caller's live sessions,
// oldest login first, the one of its token marked current.
func (u *userRoutes) listSessions(w http.ResponseWriter, r *http.Request) {
	claims, _ := passauth.ClaimsFromContext(r.Context())
	list, err := u.iss.Sessions(r.Context(), claims.Subject)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, sessionJSON{
			ID: s.ID, ClientID: s.ClientID, Current: s.ID == claims.SessionID,
			Created: s.Created.UTC().Truncate(time.Second), LastUsed: s.LastUsed.UTC().Truncate(time.Second), Expires: s.Expires.UTC().Truncate(time.Second),
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteSession is DELETE /api/users/me/sessions/{id}: 204, and that
// session's tokens stop working; 404 for an ID that is not one of the
// caller's live sessions.
func (u *userRoutes) deleteSession(w http.ResponseWriter, r *http.Request) {
	claims, _ := passauth.ClaimsFromContext(r.Context())
	switch err := u.iss.RevokeSession(r.Context(), claims.Subject, r.PathValue("id")); {
	case errors.Is(err, passauth.ErrNoSession):
		writeError(w, errNoSession)
	case err != nil:
		writeError(w, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
