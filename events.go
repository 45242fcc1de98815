package passauth

import (
	"context"
	"log/slog"
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
	// EventRevoke: a token was revoked (Revoke, RevocationHandler).
	EventRevoke EventKind = "revoke"
	// EventRevokeSubject: every session of a subject was revoked.
	EventRevokeSubject EventKind = "revoke_subject"
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
	Reason    string // the reason class, for failures and throttling
}

// emit passes e to Config.OnEvent, if set.
func (iss *TokenIssuer) emit(ctx context.Context, e Event) {
	if iss.onEvent != nil {
		iss.onEvent(ctx, e)
	}
}

// LogEvents returns a Config.OnEvent that writes each event to logger as
// one record with the message "passauth event" and the event's non-empty
// fields as attributes: at level Warn for failed logins, throttling and
// refresh-token reuse, Info for the rest.
func LogEvents(logger *slog.Logger) func(context.Context, Event) {
	return func(ctx context.Context, e Event) {
		level := slog.LevelInfo
		switch e.Kind {
		case EventLoginFailed, EventThrottled, EventRefreshReuse:
			level = slog.LevelWarn
		}
		attrs := make([]slog.Attr, 0, 6)
		attrs = append(attrs, slog.String("kind", string(e.Kind)))
		for _, f := range [...]struct{ k, v string }{
			{"subject", e.Subject}, {"session", e.SessionID}, {"client", e.ClientID},
			{"addr", e.Addr}, {"reason", e.Reason},
		} {
			if f.v != "" {
				attrs = append(attrs, slog.String(f.k, f.v))
			}
		}
		logger.LogAttrs(ctx, level, "passauth event", attrs...)
	}
}
