package passauth

import "context"

// EventKind names a security event.
type EventKind string

// The events passed to Config.OnEvent.
const (
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
// password.
type Event struct {
	Kind      EventKind
	Subject   string // the user, when known
	SessionID string // the login session ("sid"), when known
	ClientID  string // the client, when known
}

// emit passes e to Config.OnEvent, if set.
func (iss *TokenIssuer) emit(ctx context.Context, e Event) {
	if iss.onEvent != nil {
		iss.onEvent(ctx, e)
	}
}
