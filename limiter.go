package passauth

import (
	"context"
	"sync"
	"time"
)

// Limiter throttles login attempts per key (a user name or a client
// address). The token handler asks it before it looks the user up or checks
// any password, so throttled guesses cost the server nothing.
//
// Implementations must be safe for concurrent use, and Allow must count an
// attempt atomically with deciding it, so that parallel requests cannot
// overshoot the limit. An error means the limiter itself failed; the
// handler then answers 503 rather than let the attempt through.
type Limiter interface {
	// Allow counts an attempt for key and returns 0, or returns how long
	// key must wait before its next attempt, counting nothing.
	Allow(ctx context.Context, key string) (wait time.Duration, err error)
	// Forgive takes back one counted attempt of key, after it succeeded, so
	// that only failed logins use up the limit.
	Forgive(ctx context.Context, key string) error
}

// Limit is a throttling policy: a key may fail Burst times in a row, and
// after that once per Interval. Failures older than Burst×Interval no longer
// count.
type Limit struct {
	Burst    int
	Interval time.Duration
}

// The default limits: five failed logins in a row per user name, then one a
// minute; twenty per client address, then ten a minute. A client that
// resends a failed login once (as golang.org/x/oauth2 does) is far from
// either.
var (
	defaultUserLimit = Limit{Burst: 5, Interval: time.Minute}
	defaultAddrLimit = Limit{Burst: 20, Interval: 6 * time.Second}
)

// MemoryLimiter is a Limiter for one process: the generic cell rate
// algorithm over a map, swept of idle keys as it goes, so that its memory
// follows the number of keys seen in the last Burst×Interval.
type MemoryLimiter struct {
	limit Limit
	now   func() time.Time

	mu        sync.Mutex
	tat       map[string]time.Time // theoretical arrival time per key
	lastSweep time.Time
}

// NewMemoryLimiter returns a MemoryLimiter enforcing limit. A Burst below 1
// is taken as 1 and an Interval below a millisecond as a millisecond.
func NewMemoryLimiter(limit Limit) *MemoryLimiter {
	limit.Burst = max(limit.Burst, 1)
	limit.Interval = max(limit.Interval, time.Millisecond)
	return &MemoryLimiter{limit: limit, now: time.Now, tat: make(map[string]time.Time)}
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Read under the lock, so that calls see the clock in the order they
	// update the map.
	now := l.now()
	l.maybeSweep(now)
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	// The key may go while its backlog is at most Burst-1 intervals.
	tolerance := time.Duration(l.limit.Burst-1) * l.limit.Interval
	if wait := tat.Sub(now) - tolerance; wait > 0 {
		return wait, nil
	}
	l.tat[key] = tat.Add(l.limit.Interval)
	return 0, nil
}

// Forgive implements Limiter.
func (l *MemoryLimiter) Forgive(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	tat, ok := l.tat[key]
	if !ok {
		return nil
	}
	if tat = tat.Add(-l.limit.Interval); tat.After(now) {
		l.tat[key] = tat
	} else {
		delete(l.tat, key)
	}
	return nil
}

// Len returns the number of keys the limiter holds, for monitoring.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tat)
}

// maybeSweep drops the keys with nothing left to count, at most once per
// Interval; called with l.mu held.
func (l *MemoryLimiter) maybeSweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.limit.Interval {
		return
	}
	l.lastSweep = now
	for k, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, k)
		}
	}
}

var _ Limiter = (*MemoryLimiter)(nil)
