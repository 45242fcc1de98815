package passauth

import (
	"context"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"
)

// EventKind names a security event.
type EventKind string

// The events passed to Config.OnEvent.
const (
	// EventLoginSucceeded: the token handler issued a pair for a password.
	EventLoginSucceeded EventKind = "login_succeeded"
	// EventLoginFailed: a login was refused after its password was checked.
	// Reason is "unknown_user", "bad_password", "unusable_hash" (the
	// account's PasswordHash is empty or unreadable) or "disabled"; the
	// client was told none of this.
	EventLoginFailed EventKind = "login_failed"
	// EventThrottled: a login was refused by a Limiter before any password
	// was checked. Reason is "user" or "addr", the limit that was hit.
	EventThrottled EventKind = "throttled"
	// EventRefresh: a refresh token was exchanged for a new pair.
	EventRefresh EventKind = "refresh"
	// EventRefreshReuse: a refresh token that had already been exchanged
	// was presented again, and its session was revoked. One of the two
	// parties holding it is likely an attacker.
	EventRefreshReuse EventKind = "refresh_reuse"
	// EventRefreshReplayed: the refresh token that the session's current
	// one replaced was presented again within Config.RefreshGrace (two tabs,
	// a retry after a lost answer) and answered with the current one.
	EventRefreshReplayed EventKind = "refresh_replayed"
	// EventRevoke: a token was revoked (Revoke, RevocationHandler).
	EventRevoke EventKind = "revoke"
	// EventRevokeSubject: every session of a subject was revoked.
	EventRevokeSubject EventKind = "revoke_subject"
	// EventStoreUnavailable: the Store or a Limiter failed, and the request
	// was answered 503 (or, for a reuse, refused without the session's
	// access tokens being denied). Reason names the operation; Err is the
	// failure.
	EventStoreUnavailable EventKind = "store_unavailable"
	// EventKeysRefreshed: a Verifier fetched its issuer's key set.
	EventKeysRefreshed EventKind = "keys_refreshed"
	// EventKeysRefreshFailed: a Verifier could not fetch its issuer's key
	// set; it goes on with the last good one, for a while. Err says why.
	EventKeysRefreshFailed EventKind = "keys_refresh_failed"
	// EventUnknownKey: a token named a key ("kid", in Reason, cut to 64
	// bytes) that a Verifier's key set does not hold.
	EventUnknownKey EventKind = "unknown_key"
)

// Event is a security event. It never carries a token, a secret or a
// password; Subject may be a user name as a client typed it, which is
// personal data and, now and then, a password typed into the wrong field.
type Event struct {
	Kind      EventKind
	Subject   string // the user, or the user name a failed login gave
	SessionID string // the login session ("sid"), when known
	ClientID  string // the client, when known
	Addr      string // the client address (Config.ClientAddr), for logins
	Reason    string // the reason class, for failures and throttling; the operation, for store failures
	Err       error  // the store's or limiter's error, for EventStoreUnavailable
}

// emit passes e to Config.OnEvent, if set.
func (iss *TokenIssuer) emit(ctx context.Context, e Event) {
	if iss.onEvent != nil {
		iss.onEvent(ctx, e)
	}
}

// LogEvents returns a Config.OnEvent that writes each event to logger as
// one record with the message "passauth event" and the event's non-empty
// fields as attributes: at level Error for store failures, Warn for failed
// logins, throttling and refresh-token reuse, Info for the rest.
//
// What came from the request is bounded: a field (a user name as typed, a
// client_id, an address) is cut to 64 bytes, marked with "…". Throttled
// logins and tokens naming an unknown key, which an attacker can send at
// thousands a second for free, and store failures, which every request
// meets while a store is down, are logged at most 20 a second each kind;
// the next one logged counts those dropped in an attribute "suppressed".
// OnEvent itself still sees every event.
func LogEvents(logger *slog.Logger) func(context.Context, Event) {
	var throttled, unavailable, unknownKey logSampler
	return func(ctx context.Context, e Event) {
		level, sample := slog.LevelInfo, (*logSampler)(nil)
		switch e.Kind {
		case EventLoginFailed, EventRefreshReuse:
			level = slog.LevelWarn
		case EventThrottled:
			level, sample = slog.LevelWarn, &throttled
		case EventStoreUnavailable:
			level, sample = slog.LevelError, &unavailable
		case EventUnknownKey:
			sample = &unknownKey
		}
		var suppressed int64
		if sample != nil {
			var ok bool
			if ok, suppressed = sample.allow(time.Now()); !ok {
				return
			}
		}
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs, slog.String("kind", string(e.Kind)))
		for _, f := range [...]struct{ k, v string }{
			{"subject", e.Subject}, {"session", e.SessionID}, {"client", e.ClientID},
			{"addr", e.Addr}, {"reason", e.Reason},
		} {
			if f.v != "" {
				attrs = append(attrs, slog.String(f.k, truncate(f.v, maxLoggedField)))
			}
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("err", truncate(e.Err.Error(), 4*maxLoggedField)))
		}
		if suppressed > 0 {
			attrs = append(attrs, slog.Int64("suppressed", suppressed))
		}
		logger.LogAttrs(ctx, level, "passauth event", attrs...)
	}
}

// Bounds of LogEvents.
const (
	maxLoggedField   = 64 // bytes of a field that came from the request
	maxSampledLogged = 20 // events of a sampled kind logged per second
)

// truncate cuts s to at most n bytes on a character boundary, marking a cut
// with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// logSampler lets maxSampledLogged events of one kind through per second
// and counts the rest.
type logSampler struct {
	mu         sync.Mutex
	second     int64 // the Unix second being counted
	n          int64 // events let through in it
	suppressed int64 // events dropped since the last one let through
}

// allow reports whether an event at now is logged and, if so, how many were
// dropped before it.
func (s *logSampler) allow(now time.Time) (bool, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := now.Unix(); sec != s.second {
		s.second, s.n = sec, 0
	}
	if s.n >= maxSampledLogged {
		s.suppressed++
		return false, 0
	}
	s.n++
	dropped := s.suppressed
	s.suppressed = 0
	return true, dropped
}
