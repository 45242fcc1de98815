package passauth

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
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
// algorithm over a map from key to theoretical arrival time. A key is idle
// once its arrival time has passed, when it has nothing left to count: at
// the latest Burst×Interval after its last counted attempt, sooner if
// Forgive took attempts back.
//
// Idle keys are dropped by a sweep that runs inside Allow, a few keys at a
// time, as MemoryStore sweeps its records: each call takes the next four
// keys of a round-robin order that holds every key, new ones at the end,
// and drops those that are idle. Each key's place in that order notes the
// arrival time the key had when it was added or last looked at by the
// sweep, and the sweep looks the key up only once that time has passed: a
// key that Forgive made idle may stay until then, at most Burst×Interval
// later.
//
// No call thus takes longer as the number of keys grows, and an idle key is
// dropped at most n/4 calls of Allow after it went idle (or after that
// noted time), n being the number of keys held then. The map is replaced
// once it holds no more than a quarter of the most keys it held, if that
// was 1024 or more, as MemoryStore's are, so that the limiter's memory
// follows the number of keys seen in the last Burst×Interval rather than
// the most it ever held. There is no background goroutine and nothing to
// close.
type MemoryLimiter struct {
	limit Limit
	now   func() time.Time

	mu   sync.Mutex
	keys sweptMap[arrival]
}

// arrival is the state of one key: its theoretical arrival time.
type arrival struct {
	tat time.Time
}

func (a arrival) expiry() time.Time { return a.tat }

// NewMemoryLimiter returns a MemoryLimiter enforcing limit. A Burst below 1
// is taken as 1 and an Interval below a millisecond as a millisecond.
func NewMemoryLimiter(limit Limit) *MemoryLimiter {
	limit.Burst = max(limit.Burst, 1)
	limit.Interval = max(limit.Interval, time.Millisecond)
	return &MemoryLimiter{limit: limit, now: time.Now}
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
	l.keys.sweep(now, nil)
	a, _ := l.keys.get(key)
	tat := a.tat
	if tat.Before(now) {
		tat = now
	}
	// The key may go while its backlog is at most Burst-1 intervals.
	tolerance := time.Duration(l.limit.Burst-1) * l.limit.Interval
	if wait := tat.Sub(now) - tolerance; wait > 0 {
		return wait, nil
	}
	l.keys.put(key, arrival{tat.Add(l.limit.Interval)})
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
	if a, ok := l.keys.get(key); ok && a.tat.After(now) {
		// Left idle, the key goes with the sweep.
		l.keys.put(key, arrival{a.tat.Add(-l.limit.Interval)})
	}
	return nil
}

// Len returns the number of keys the limiter holds, counting idle keys that
// have not been swept yet, forgiven ones included, for monitoring.
func (l *MemoryLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys.len()
}

var _ Limiter = (*MemoryLimiter)(nil)

// The keys the token handler counts logins under (login.go): "addr:" with
// addrKey of the client address, "user:" with foldKey of the user name.

// addrKey returns what a client address is counted under: an IPv4 address
// (or an IPv4-mapped IPv6 one) as it is, an IPv6 address as its /64 prefix,
// since a host picks its own interface identifier within its /64 (RFC 4291
// §2.5.1, RFC 8981) and could otherwise take a fresh budget per address;
// anything else as it is.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	switch {
	case err != nil:
		return addr
	case ip.Is4In6():
		return ip.Unmap().String()
	case ip.Is6():
		p, _ := ip.WithZone("").Prefix(64)
		return p.String()
	}
	return ip.String()
}

// foldKey returns s with every character replaced by one member of its
// case-folding orbit (unicode.SimpleFold), the same for the whole orbit, so
// that two names share a key exactly when strings.EqualFold calls them
// equal: "ſam", "SAM" and "sam" alike, or "ϐ" and "β". strings.ToLower
// would give each of those a budget of its own against a lookup that
// matches them case-insensitively. The member is the orbit's ASCII lower
// case letter if it has one, its least character otherwise.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r >= utf8.RuneSelf {
			for c, f := r, unicode.SimpleFold(r); f != c; f = unicode.SimpleFold(f) {
				r = min(r, f)
			}
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
