package passauth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

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

	// freshUntil is, in Unix nanoseconds, the expiry of the set in use
	// while its last fetch worked, else 0: until then, ready has nothing
	// to do and takes no lock.
	freshUntil atomic.Int64

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
	if now.UnixNano() < r.freshUntil.Load() {
		return nil
	}
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
		r.freshUntil.Store(0)
		r.expires = now.Add(min(r.interval, minKeysAge)) // try again soon
		r.emit(ctx, Event{Kind: EventKeysRefreshFailed, Err: err})
		return
	}
	if age == 0 {
		age = defaultKeysAge
	}
	r.src.store(set)
	r.fetched, r.expires = now, now.Add(max(age, minKeysAge))
	r.freshUntil.Store(r.expires.UnixNano())
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
