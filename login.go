package passauth

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// setPasswordPolicy sets what the password grant needs from cfg: the hasher,
// its dummy hash, the hashing slots and the limiters.
func (iss *TokenIssuer) setPasswordPolicy(cfg Config) {
	iss.hasher = cfg.PasswordHasher
	if iss.hasher == nil {
		iss.hasher = Argon2id{}
	}
	// Made on first use, so that building an issuer stays cheap; a hasher
	// that fails leaves an empty hash, which checks as fast as a malformed
	// one.
	iss.dummyHash = sync.OnceValue(func() string {
		h, _ := iss.hasher.Hash(rand.Text())
		return h
	})
	slots := cfg.MaxConcurrentHashes
	if slots == 0 {
		slots = defaultHashSlots(iss.hasher)
	}
	iss.hashSlots = make(chan struct{}, slots)
	iss.hashWait = cfg.HashWait
	if iss.hashWait == 0 {
		iss.hashWait = DefaultHashWait
	}
	iss.userLimiter, iss.addrLimiter = cfg.UserLimiter, cfg.AddrLimiter
	if iss.userLimiter == nil {
		iss.userLimiter = NewMemoryLimiter(defaultUserLimit)
	}
	if iss.addrLimiter == nil {
		iss.addrLimiter = NewMemoryLimiter(defaultAddrLimit)
	}
	iss.clientAddr = cfg.ClientAddr
	if iss.clientAddr == nil {
		iss.clientAddr = remoteHost
	}
}

// defaultHashSlots leaves half the CPUs to the rest of the server and keeps
// the hashes' memory within 256 MiB.
func defaultHashSlots(h PasswordHasher) int {
	n := max(runtime.GOMAXPROCS(0)/2, 1)
	if a, ok := h.(Argon2id); ok {
		n = min(n, max(int(256*1024/a.params().memory), 1))
	}
	return n
}

// remoteHost is the default Config.ClientAddr: the peer's IP address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Answers of the password grant, built once.
var (
	errNoUsername   = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "missing username"}
	errUsernameUTF8 = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "username is not valid UTF-8"}
	errNoPassword   = &Error{Code: CodeInvalidRequest, Status: http.StatusBadRequest, Description: "missing password"}
	errBadLogin     = &Error{Code: CodeInvalidGrant, Status: http.StatusBadRequest, Description: "Incorrect username or password"}
	errBusy         = &Error{Code: CodeTemporarilyUnavailable, Status: http.StatusServiceUnavailable, Description: "too many logins in progress, try again later", retryAfter: 1}
)

// throttled is the 429 answer to a throttled login (RFC 6585 §4), with the
// RFC 8628 slow_down code that the OAuth registry allows at the token
// endpoint.
func throttled(wait time.Duration) *Error {
	secs := int((wait + time.Second - 1) / time.Second)
	return &Error{Code: CodeSlowDown, Status: http.StatusTooManyRequests,
		Description: "too many failed logins, try again later", retryAfter: max(secs, 1)}
}

// passwordGrant checks a username and password and issues a pair: the
// limiters first, then, in a hashing slot, the lookup and the password.
func (iss *TokenIssuer) passwordGrant(ctx context.Context, r *http.Request, users UserLookup, req tokenRequest) (TokenPair, *Error) {
	switch {
	case req.username == "":
		return TokenPair{}, errNoUsername
	case req.password == "":
		return TokenPair{}, errNoPassword
	case !utf8.ValidString(req.username):
		// It could never become a token's subject.
		return TokenPair{}, errUsernameUTF8
	}
	requested, ok := splitScope(req.scope)
	if !ok {
		return TokenPair{}, errScopeSyntax
	}

	// The user key folds case, so that "Alice" and "alice" share a budget
	// whatever the lookup does with case.
	addr := iss.clientAddr(r)
	keys := [...]struct {
		l      Limiter
		key    string
		reason string
	}{
		{iss.addrLimiter, "addr:" + addr, "addr"},
		{iss.userLimiter, "user:" + strings.ToLower(req.username), "user"},
	}
	for i, k := range keys {
		wait, err := k.l.Allow(ctx, k.key)
		if err == nil && wait == 0 {
			continue
		}
		for _, done := range keys[:i] {
			_ = done.l.Forgive(ctx, done.key) // that attempt never happened
		}
		if err != nil {
			return TokenPair{}, errUnavailable
		}
		iss.emit(ctx, Event{Kind: EventThrottled, Subject: req.username, ClientID: req.clientID, Addr: addr, Reason: k.reason})
		return TokenPair{}, throttled(wait)
	}

	u, perr := iss.checkLogin(ctx, users, req, addr)
	if perr == errBusy || perr == errServer {
		// No password was checked (no slot was free, or the lookup failed),
		// so the attempt does not count, even when the client gave up
		// waiting: retrying through a flood or an outage must not use up the
		// budget.
		for _, k := range keys {
			_ = k.l.Forgive(context.WithoutCancel(ctx), k.key)
		}
	}
	if perr != nil {
		return TokenPair{}, perr
	}
	for _, k := range keys {
		_ = k.l.Forgive(ctx, k.key) // only failures count
	}

	granted := grantScope(requested, u.Scopes)
	if iss.scopePolicy != nil {
		granted = iss.scopePolicy(ctx, u, requested)
	}
	if len(requested) > 0 && len(granted) == 0 {
		return TokenPair{}, errScopeDenied
	}
	pair, err := iss.issuePair(ctx, u.Username, issueOptions{scopes: granted, clientID: req.clientID})
	switch {
	case errors.Is(err, ErrStoreUnavailable):
		return TokenPair{}, errUnavailable
	case err != nil:
		return TokenPair{}, errServer
	}
	iss.emit(ctx, Event{Kind: EventLoginSucceeded, Subject: u.Username, ClientID: req.clientID, Addr: addr})
	return pair, nil
}

// checkLogin looks the user up and checks the password in a hashing slot.
// An unknown user, a wrong password and a disabled account take the same
// work and get the same answer. On success it returns the user with
// Username set, after upgrading a weak stored hash when users can.
func (iss *TokenIssuer) checkLogin(ctx context.Context, users UserLookup, req tokenRequest, addr string) (User, *Error) {
	if !iss.acquireHashSlot(ctx) {
		return User{}, errBusy
	}
	defer iss.releaseHashSlot()

	// Made by the first login of any kind, so that the first unknown user
	// does not pay for it alone.
	dummy := iss.dummyHash()
	u, found, err := users.LookupUser(ctx, req.username)
	if err != nil {
		return User{}, errServer
	}
	if !found {
		// Spend the time a real check takes, so that the answer does not
		// tell which user names exist.
		_ = iss.hasher.Check(dummy, req.password)
		iss.loginFailed(ctx, req, addr, "unknown_user")
		return User{}, errBadLogin
	}
	switch {
	case iss.hasher.Check(u.PasswordHash, req.password) != nil:
		iss.loginFailed(ctx, req, addr, "bad_password")
		return User{}, errBadLogin
	case u.Disabled:
		iss.loginFailed(ctx, req, addr, "disabled")
		return User{}, errBadLogin
	}
	if u.Username == "" {
		u.Username = req.username
	}
	if up, ok := users.(PasswordUpdater); ok && iss.hasher.NeedsRehash(u.PasswordHash) {
		if h, err := iss.hasher.Hash(req.password); err == nil {
			// The login succeeds whether or not the store takes the new
			// hash; the next login tries again.
			_ = up.UpdatePasswordHash(ctx, u.Username, h)
		}
	}
	return u, nil
}

// acquireHashSlot waits up to Config.HashWait for a free hashing slot.
func (iss *TokenIssuer) acquireHashSlot(ctx context.Context) bool {
	select {
	case iss.hashSlots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(iss.hashWait)
	defer t.Stop()
	select {
	case iss.hashSlots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (iss *TokenIssuer) releaseHashSlot() { <-iss.hashSlots }

// loginFailed emits EventLoginFailed with the reason class.
func (iss *TokenIssuer) loginFailed(ctx context.Context, req tokenRequest, addr, reason string) {
	iss.emit(ctx, Event{Kind: EventLoginFailed, Subject: req.username, ClientID: req.clientID, Addr: addr, Reason: reason})
}
