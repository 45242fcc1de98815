package passauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// VerifierConfig configures a Verifier. Pass it by value to NewVerifier.
type VerifierConfig struct {
	// Issuer is the issuer's identifier, which every token must carry as
	// "iss": the Config.Issuer of the TokenIssuer. Required.
	Issuer string

	// Audience, when set, is required in "aud". Empty means none is
	// checked.
	Audience string

	// Leeway is the clock skew tolerated on "exp", "nbf" and "iat", at most
	// MaxLeeway.
	Leeway time.Duration

	// Where the issuer's public keys come from: exactly one of Keys (known
	// ahead, VerifyingKey each), JWKSURL, or Discover.
	Keys []Key
	// JWKSURL is the issuer's JWK Set, fetched and fetched again as its
	// Cache-Control says. It must be https, or http on a loopback host.
	JWKSURL string
	// Discover finds the JWK Set through the issuer's RFC 8414 metadata,
	// at Issuer's /.well-known/oauth-authorization-server; Issuer must then
	// be an https URL (http on a loopback host).
	Discover bool

	// HTTPClient fetches the metadata and the key set. Nil means the
	// Verifier's own: a 5 s timeout on each fetch, redirects only to https.
	// Answers are capped at 1 MiB either way.
	HTTPClient *http.Client

	// RefetchInterval is the least time between two fetches that a token
	// naming an unknown key may cause, so that a flood of such tokens costs
	// the issuer one fetch per interval. Zero means 30 s.
	RefetchInterval time.Duration

	// MaxStale is how long the last good key set keeps serving while every
	// fetch fails; past it, requests are answered 503 (ErrKeysUnavailable),
	// not 401. Zero means 24 h.
	MaxStale time.Duration

	// VerifyCacheSize is as in Config: verified access tokens remembered.
	VerifyCacheSize int

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// OnEvent, when set, is called with EventKeysRefreshed,
	// EventKeysRefreshFailed and EventUnknownKey.
	OnEvent func(ctx context.Context, e Event)
}

// A Verifier verifies the access tokens of a TokenIssuer elsewhere, in a
// service that holds no secret: with the issuer's public keys, known ahead
// or fetched from its JWKS. Its VerifyAccess, Authenticate and
// AuthenticateOptional behave and answer as the issuer's do (without
// Config.CheckRevoked, which needs the issuer's store), and RequireScope
// sits behind its middleware as behind the issuer's.
//
// A remote key set is fetched when first needed, then again when its
// Cache-Control max-age (at least 30 s, at most a day; 5 min without one)
// has passed, in the background while the current set keeps serving. A
// token that names a key the set lacks causes at most one fetch per
// RefetchInterval, which the requests that find it wait for (within their
// context and the fetch timeout); other such tokens are answered 401 at
// once, never made to wait for the next interval. When fetches fail, the
// last good set serves for MaxStale, then every request is answered 503.
// A fetch runs in a goroutine of its own, which ends with the fetch (5 s at
// the most with the Verifier's own client); the Verifier starts no other
// and needs no Close.
//
// A Verifier is safe for concurrent use; verification takes no lock.
type Verifier struct {
	tokens  tokens
	onEvent func(context.Context, Event)
	remote  *remoteKeys // nil for keys known ahead
}

// NewVerifier checks cfg and returns its Verifier. It does no I/O: call
// Refresh to fetch a remote key set now, at start-up, say.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	sources := 0
	for _, set := range []bool{len(cfg.Keys) > 0, cfg.JWKSURL != "", cfg.Discover} {
		if set {
			sources++
		}
	}
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("passauth: VerifierConfig.Issuer is empty")
	case sources != 1:
		return nil, errors.New("passauth: VerifierConfig needs exactly one of Keys, JWKSURL and Discover")
	case cfg.Leeway < 0 || cfg.Leeway > MaxLeeway:
		return nil, fmt.Errorf("passauth: VerifierConfig.Leeway is outside 0 to %v", MaxLeeway)
	case cfg.VerifyCacheSize < 0:
		return nil, errors.New("passauth: VerifierConfig.VerifyCacheSize is negative")
	case cfg.RefetchInterval < 0 || cfg.MaxStale < 0:
		return nil, errors.New("passauth: VerifierConfig.RefetchInterval or MaxStale is negative")
	}
	v := &Verifier{onEvent: cfg.OnEvent}
	set := &keySet{byID: map[string]*key{}}
	for i, k := range cfg.Keys {
		pk, err := parseKey(k)
		if err == nil && pk.sign != nil {
			err = errors.New("a Verifier takes public keys only: use VerifyingKey")
		}
		if err != nil {
			return nil, fmt.Errorf("passauth: VerifierConfig.Keys[%d]: %w", i, err)
		}
		pk.sign = nil
		p := &pk
		set.byID[pk.id], set.public = p, append(set.public, p)
	}
	if len(cfg.Keys) == 0 {
		set = nil // not fetched yet
	}
	v.tokens = tokens{issuer: cfg.Issuer, leeway: cfg.Leeway, now: cfg.Now}
	if v.tokens.now == nil {
		v.tokens.now = time.Now
	}
	if cfg.VerifyCacheSize > 0 {
		v.tokens.cache = newVerifyCache(cfg.VerifyCacheSize)
	}
	src := newKeySource(set)
	v.tokens.access = newTokenKind(AccessTokenType, 0, src, asymmetricMethods,
		parserOptions(cfg.Issuer, cfg.Audience, cfg.Leeway, v.tokens.now))
	if len(cfg.Keys) == 0 {
		r := &remoteKeys{
			src: src, jwksURL: cfg.JWKSURL, issuer: cfg.Issuer, discover: cfg.Discover,
			client: cfg.HTTPClient, interval: cfg.RefetchInterval, maxStale: cfg.MaxStale,
			now: v.tokens.now, emit: v.emit,
		}
		if cfg.Discover {
			if _, err := metadataURL(cfg.Issuer); err != nil {
				return nil, fmt.Errorf("passauth: VerifierConfig.Issuer: %w", err)
			}
		} else if u, err := url.Parse(cfg.JWKSURL); err != nil || !secureURL(u) {
			return nil, errors.New("passauth: VerifierConfig.JWKSURL is not an https URL")
		}
		if r.client == nil {
			r.client = newFetchClient()
		}
		if r.interval == 0 {
			r.interval = 30 * time.Second
		}
		if r.maxStale == 0 {
			r.maxStale = 24 * time.Hour
		}
		v.remote = r
	}
	return v, nil
}

// VerifyAccess verifies an access token of the issuer and returns its
// claims. Every failure of the token matches ErrTokenInvalid (and
// ErrTokenExpired for an expired one); a Verifier without a usable key set
// fails with an error matching ErrKeysUnavailable.
func (v *Verifier) VerifyAccess(ctx context.Context, token string) (*Claims, error) {
	if v.remote != nil {
		if err := v.remote.ready(ctx); err != nil {
			return nil, err
		}
	}
	c, err := v.tokens.verifyAccess(token)
	if err != errTokenUnknownKey || v.remote == nil {
		return c, err
	}
	v.emit(ctx, Event{Kind: EventUnknownKey, Reason: truncate(headerKID(token), maxLoggedField)})
	if !v.remote.refetch(ctx) {
		return nil, err
	}
	return v.tokens.verifyAccess(token)
}

// Authenticate is TokenIssuer.Authenticate with this Verifier's keys; a
// Verifier without a usable key set answers 503 temporarily_unavailable.
func (v *Verifier) Authenticate(next http.Handler) http.Handler {
	return authenticate(next, false, v.VerifyAccess)
}

// AuthenticateOptional is TokenIssuer.AuthenticateOptional with this
// Verifier's keys.
func (v *Verifier) AuthenticateOptional(next http.Handler) http.Handler {
	return authenticate(next, true, v.VerifyAccess)
}

// Refresh fetches the remote key set now, waiting for the fetch within ctx,
// and reports why it failed. A Verifier with keys known ahead has nothing
// to fetch.
func (v *Verifier) Refresh(ctx context.Context) error {
	if v.remote == nil {
		return nil
	}
	return v.remote.fetchNow(ctx)
}

func (v *Verifier) emit(ctx context.Context, e Event) {
	if v.onEvent != nil {
		v.onEvent(ctx, e)
	}
}

// headerKID returns the "kid" of a token's header, "" when it has none or
// the header cannot be read.
func headerKID(token string) string {
	seg, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(b, &h)
	return h.Kid
}

// remoteKeys keeps a Verifier's remote key set fresh.
type remoteKeys struct {
	src      *keySource
	issuer   string
	discover bool
	client   *http.Client
	interval time.Duration
	maxStale time.Duration
	now      func() time.Time
	emit     func(context.Context, Event)

	mu       sync.Mutex
	jwksURL  string        // found by discovery when discover is set
	fetched  time.Time     // of the set in use; zero before the first
	expires  time.Time     // when the set should be fetched again
	tried    time.Time     // the last fetch started for an unknown key
	inflight chan struct{} // closed when the fetch under way ends; nil when none
	lastErr  error         // of the last fetch, nil when it worked
}

// ready makes sure there is a set to verify with: it waits for the first
// fetch, starts a background one when the set's age has passed, and fails
// with ErrKeysUnavailable when there is none or only one older than
// maxStale.
func (r *remoteKeys) ready(ctx context.Context) error {
	now := r.now()
	r.mu.Lock()
	if r.fetched.IsZero() {
		done := r.inflight
		if done == nil {
			if now.Before(r.expires) { // the last try failed a moment ago
				err := r.lastErr
				r.mu.Unlock()
				return fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
			}
			done = r.startLocked()
		}
		r.mu.Unlock()
		return r.wait(ctx, done)
	}
	if now.After(r.expires) && r.inflight == nil {
		r.startLocked()
	}
	stale := now.Sub(r.fetched) > r.maxStale && r.lastErr != nil
	err := r.lastErr
	r.mu.Unlock()
	if stale {
		return fmt.Errorf("%w: the last good key set is older than %v: %w", ErrKeysUnavailable, r.maxStale, err)
	}
	return nil
}

// refetch fetches the set again for a token that names an unknown key, at
// most once per interval, and reports whether it did and the set changed.
// A request never waits for the interval to pass; it waits for a fetch
// under way, bounded by its context and the fetch timeout.
func (r *remoteKeys) refetch(ctx context.Context) bool {
	now := r.now()
	r.mu.Lock()
	done := r.inflight
	if done == nil {
		if !r.tried.IsZero() && now.Sub(r.tried) < r.interval {
			r.mu.Unlock()
			return false
		}
		r.tried = now
		done = r.startLocked()
	}
	before := r.src.load()
	r.mu.Unlock()
	return r.wait(ctx, done) == nil && r.src.load() != before
}

// fetchNow fetches the set and waits for the fetch.
func (r *remoteKeys) fetchNow(ctx context.Context) error {
	r.mu.Lock()
	done := r.inflight
	if done == nil {
		done = r.startLocked()
	}
	r.mu.Unlock()
	return r.wait(ctx, done)
}

// wait waits for the fetch that closes done, or for ctx, and returns the
// error of the fetch, matching ErrKeysUnavailable, when there is no set.
func (r *remoteKeys) wait(ctx context.Context, done chan struct{}) error {
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr != nil {
		return fmt.Errorf("%w: %w", ErrKeysUnavailable, r.lastErr)
	}
	return nil
}

// startLocked starts a fetch in the background and returns the channel it
// closes when it ends. r.mu must be held.
func (r *remoteKeys) startLocked() chan struct{} {
	done := make(chan struct{})
	r.inflight = done
	go func() {
		defer close(done)
		r.fetch()
	}()
	return done
}

// fetch gets the set (after the metadata, the first time, when
// discovering) and puts it in use.
func (r *remoteKeys) fetch() {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	r.mu.Lock()
	u := r.jwksURL
	r.mu.Unlock()
	set, age, err := r.get(ctx, u)
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight, r.lastErr = nil, err
	if err != nil {
		r.expires = now.Add(min(r.interval, minKeysAge)) // try again soon
		r.emit(ctx, Event{Kind: EventKeysRefreshFailed, Err: err})
		return
	}
	if age == 0 {
		age = defaultKeysAge
	}
	r.src.store(set)
	r.fetched, r.expires = now, now.Add(max(age, minKeysAge))
	r.emit(ctx, Event{Kind: EventKeysRefreshed})
}

// get fetches and reads the set at u, discovering u first when it is
// empty.
func (r *remoteKeys) get(ctx context.Context, u string) (*keySet, time.Duration, error) {
	if u == "" {
		var err error
		if u, err = discoverJWKS(ctx, r.client, r.issuer); err != nil {
			return nil, 0, err
		}
		r.mu.Lock()
		r.jwksURL = u
		r.mu.Unlock()
	}
	body, age, err := fetchJSON(ctx, r.client, u)
	if err != nil {
		return nil, 0, fmt.Errorf("JWKS: %w", err)
	}
	set, _, err := parseJWKS(body)
	if err != nil {
		return nil, 0, fmt.Errorf("JWKS: %w", err)
	}
	return set, age, nil
}
