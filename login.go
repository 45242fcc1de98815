package passauth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// passwordGrant checks a username and password and starts a session (RFC
// 6749 §4.3): the limiters first, then, in a hashing slot, the lookup and
// the password, then the scope.
func (iss *TokenIssuer) passwordGrant(ctx context.Context, r *http.Request, users UserLookup, req tokenRequest) (TokenPair, error) {
	switch {
	case req.username == "":
		return TokenPair{}, errNoUsername
	case req.password == "":
		return TokenPair{}, errNoPassword
	}
	if err := checkUsername(req.username); err != nil {
		return TokenPair{}, err
	}
	requested, err := parseScope(req.scope)
	if err != nil {
		return TokenPair{}, err
	}

	l := &iss.login
	if l.normalize != nil {
		// From here on, the name is the normalised one: the limiter key,
		// the lookup and the events agree on it.
		name, err := l.normalize(req.username)
		if err != nil || name == "" || checkUsername(name) != nil {
			return TokenPair{}, errUsernameInvalid
		}
		req.username = name
	}
	addr := l.clientAddr(r)
	limits := l.limits(addr, req.username)
	switch hit, wait, err := l.allow(ctx, limits); {
	case err != nil:
		iss.emit(ctx, Event{Kind: EventStoreUnavailable, Reason: "counting a login", Err: err, Subject: req.username, ClientID: req.clientID, Addr: addr})
		return TokenPair{}, errUnavailable
	case hit != nil:
		iss.emit(ctx, Event{Kind: EventThrottled, Subject: req.username, ClientID: req.clientID, Addr: addr, Reason: hit.reason})
		return TokenPair{}, throttled(wait)
	}
	u, reason, err := l.check(ctx, users, req.username, req.password)
	switch {
	case reason != "":
		iss.emit(ctx, Event{Kind: EventLoginFailed, Subject: req.username, ClientID: req.clientID, Addr: addr, Reason: reason})
		return TokenPair{}, errBadLogin
	case err != nil:
		// No password was checked (no slot was free, or the lookup failed),
		// so the attempt does not count, even when the client gave up
		// waiting: retrying through a flood or an outage must not use up
		// the budget.
		l.forgive(context.WithoutCancel(ctx), limits[:])
		return TokenPair{}, err
	}
	// Only failures count: the attempts are taken back while the session
	// starts, so that a login waits for one store round trip after the
	// limiters' one, not three.
	var forgiven sync.WaitGroup
	forgiven.Go(func() { l.forgive(ctx, limits[:]) })
	defer forgiven.Wait()

	granted, err := l.grant(ctx, u, requested)
	if err != nil {
		return TokenPair{}, err
	}
	pair, err := iss.startSession(ctx, u.Subject, issueOptions{scopes: granted, clientID: req.clientID, extra: maps.Clone(u.Claims)})
	if err != nil {
		return TokenPair{}, err
	}
	iss.emit(ctx, Event{Kind: EventLoginSucceeded, Subject: u.Subject, ClientID: req.clientID, Addr: addr})
	return pair, nil
}

// login is the part of a TokenIssuer that runs the password grant: the
// password policy and its dummy hash, the hashing slots, the limiters and
// the scope policy.
type login struct {
	hasher      PasswordHasher
	dummyHash   func() string
	hashSlots   chan struct{}
	hashWait    time.Duration
	timeout     time.Duration // of each limiter call
	userLimiter Limiter
	addrLimiter Limiter
	clientAddr  func(*http.Request) string
	normalize   func(string) (string, error) // nil: names as typed
	scopePolicy func(context.Context, User, []string) []string
}

// limit is one limiter key a login is counted under.
type limit struct {
	l      Limiter
	key    string
	reason string // the Event.Reason of a throttled login
}

// limits returns the keys a login of username from addr is counted under:
// the address's network (see addrKey) and the name folded as
// strings.EqualFold compares (see foldKey).
func (l *login) limits(addr, username string) [2]limit {
	return [2]limit{
		{l.addrLimiter, "addr:" + addrKey(addr), "addr"},
		{l.userLimiter, "user:" + foldKey(username), "user"},
	}
}

// allow counts a login attempt under every limit, the limiters asked at
// once (one round trip, for limiters over a network), each within
// Config.StoreTimeout. When one refuses it, the attempts the others counted
// are taken back and allow returns the limit hit and how long to wait, or a
// limiter's error when one failed.
func (l *login) allow(ctx context.Context, limits [2]limit) (*limit, time.Duration, error) {
	var waits [2]time.Duration
	var errs [2]error
	var wg sync.WaitGroup
	for i := range limits {
		wg.Go(func() {
			bounded, cancel := context.WithTimeout(ctx, l.timeout)
			defer cancel()
			waits[i], errs[i] = limits[i].l.Allow(bounded, limits[i].key)
		})
	}
	wg.Wait()
	var counted []limit
	hit := -1
	for i := range limits {
		if errs[i] == nil && waits[i] == 0 {
			counted = append(counted, limits[i])
		} else if hit < 0 || errs[i] != nil {
			hit = i
		}
	}
	if hit < 0 {
		return nil, 0, nil
	}
	l.forgive(ctx, counted) // those attempts never happened
	if errs[hit] != nil {
		return nil, 0, errs[hit]
	}
	return &limits[hit], waits[hit], nil
}

// forgive takes back the attempt counted under each limit, all at once.
func (l *login) forgive(ctx context.Context, limits []limit) {
	var wg sync.WaitGroup
	for _, k := range limits {
		wg.Go(func() {
			bounded, cancel := context.WithTimeout(ctx, l.timeout)
			defer cancel()
			_ = k.l.Forgive(bounded, k.key)
		})
	}
	wg.Wait()
}

// check looks the user up and checks the password in a hashing slot. An
// unknown user, a wrong password, a disabled account, an account without a
// usable hash and a password over bcrypt's limit all take one full check
// and get the same answer: check reports the reason class
// ("unknown_user", "bad_password", "unusable_hash", "disabled") for the
// event only. An error means no password was checked: no slot was free, or
// the lookup failed. On success it returns the user with Username and
// Subject set, after upgrading a weak stored hash when users can.
func (l *login) check(ctx context.Context, users UserLookup, username, password string) (User, string, error) {
	if !l.acquireHashSlot(ctx) {
		return User{}, "", errBusy
	}
	defer l.releaseHashSlot()

	// Made by the first login of any kind, so that the first unknown user
	// does not pay for it alone.
	dummy := l.dummyHash()
	u, found, err := users.LookupUser(ctx, username)
	if err != nil {
		return User{}, "", lookupError(err)
	}
	if !found {
		// Spend the time a real check takes, so that the answer does not
		// tell which user names exist.
		l.dummyCheck(dummy, password)
		return User{}, "unknown_user", nil
	}
	switch err := l.hasher.Check(u.PasswordHash, password); {
	case errors.Is(err, ErrPasswordMismatch):
		return User{}, "bad_password", nil
	case err != nil:
		// The check stopped before its work: the account has no usable
		// hash (SSO-only, invited, or a hash no policy reads), or the
		// password is longer than bcrypt's limit. Spend a full check too.
		l.dummyCheck(dummy, password)
		if errors.Is(err, ErrPasswordTooLong) {
			return User{}, "bad_password", nil
		}
		return User{}, "unusable_hash", nil
	case u.Disabled:
		return User{}, "disabled", nil
	}
	if u.Username == "" {
		u.Username = username
	}
	if u.Subject == "" {
		u.Subject = u.Username
	}
	if up, ok := users.(PasswordUpdater); ok && l.hasher.NeedsRehash(u.PasswordHash) {
		if h, err := l.hasher.Hash(password); err == nil {
			// The login succeeds whether or not the store takes the new
			// hash; the next login tries again.
			_ = up.UpdatePasswordHash(ctx, u.Username, h)
		}
	}
	return u, "", nil
}

// dummyCheck checks password against the dummy hash, for the time a full
// check takes. The password is cut to bcrypt's limit first, so that a
// bcrypt policy does its whole work for a long one too.
func (l *login) dummyCheck(dummy, password string) {
	_ = l.hasher.Check(dummy, password[:min(len(password), MaxBcryptPasswordLen)])
}

// acquireHashSlot waits up to Config.HashWait for a free hashing slot.
func (l *login) acquireHashSlot(ctx context.Context) bool {
	select {
	case l.hashSlots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(l.hashWait)
	defer t.Stop()
	select {
	case l.hashSlots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (l *login) releaseHashSlot() { <-l.hashSlots }

// newLogin builds the login part of an issuer from a validated Config. It
// fails when the password policy cannot hash, since its dummy hash is what
// makes an unknown user cost as much as a known one.
func newLogin(cfg Config) (login, error) {
	l := login{
		hasher:      cfg.PasswordHasher,
		hashWait:    cfg.HashWait,
		timeout:     cfg.StoreTimeout,
		userLimiter: cfg.UserLimiter,
		addrLimiter: cfg.AddrLimiter,
		clientAddr:  cfg.ClientAddr,
		normalize:   cfg.NormalizeUsername,
		scopePolicy: cfg.ScopePolicy,
	}
	if l.hasher == nil {
		l.hasher = Argon2id{}
	}
	dummy, err := dummyHash(l.hasher)
	if err != nil {
		return login{}, err
	}
	l.dummyHash = dummy
	slots := cfg.MaxConcurrentHashes
	if slots == 0 {
		slots = defaultHashSlots(l.hasher)
	}
	l.hashSlots = make(chan struct{}, slots)
	if l.hashWait == 0 {
		l.hashWait = DefaultHashWait
	}
	if l.timeout == 0 {
		l.timeout = DefaultStoreTimeout
	}
	if l.userLimiter == nil {
		l.userLimiter = NewMemoryLimiter(defaultUserLimit)
	}
	if l.addrLimiter == nil {
		l.addrLimiter = NewMemoryLimiter(defaultAddrLimit)
	}
	if l.clientAddr == nil {
		l.clientAddr = remoteHost
	}
	return l, nil
}

// dummyHash returns what gives the dummy hash of policy h, the hash an
// unknown user's password is checked against. The policies of this package
// are checked here and hash on first use, so that building an issuer stays
// cheap; another policy hashes now, so that a policy that cannot hash is
// found before any login.
func dummyHash(h PasswordHasher) (func() string, error) {
	switch p := h.(type) {
	case Argon2id:
		if err := p.params().validate(); err != nil {
			return nil, fmt.Errorf("passauth: Config.PasswordHasher: Argon2id parameters: %w", err)
		}
	case Bcrypt:
		if c := p.cost(); c < bcrypt.MinCost || c > bcrypt.MaxCost {
			return nil, fmt.Errorf("passauth: Config.PasswordHasher: Bcrypt cost must be %d to %d", bcrypt.MinCost, bcrypt.MaxCost)
		}
	default:
		pw := rand.Text()
		hash, err := h.Hash(pw)
		switch {
		case err != nil:
			return nil, fmt.Errorf("passauth: Config.PasswordHasher cannot hash: %w", err)
		case hash == "":
			return nil, errors.New("passauth: Config.PasswordHasher returned an empty hash")
		}
		return func() string { return hash }, nil
	}
	return sync.OnceValue(func() string {
		hash, _ := h.Hash(rand.Text()) // the parameters were checked above
		return hash
	}), nil
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
