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
	// the issuer one fetch per interval. Zero means 30 s; under a second is
	// refused.
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
// A Verifier is safe for concurrent use. While its key set is fresh,
// verification takes no lock; it takes one, briefly, to start a fetch or to
// read the outcome of a failed one.
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
	case cfg.RefetchInterval > 0 && cfg.RefetchInterval < time.Second:
		return nil, errors.New("passauth: VerifierConfig.RefetchInterval is under a second: a flood of unknown keys would refetch without pause")
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
