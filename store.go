package passauth

import (
	"context"
	"time"
)

// Store keeps the state that makes refresh tokens rotate and revocation
// work: one record per login session (a token family: every refresh token
// descending from one login), and a denylist. Set it as Config.Store.
// Without a Store, refreshing is stateless.
//
// A Store never sees a token: it is given token IDs ("jti"), session IDs and
// subjects. Every record belongs to one subject, which each method is given,
// so that a store may keep a subject's records together (on one Redis
// Cluster slot, say) and answer every call with one atomic step. Every
// method must be safe for concurrent use, including across processes when
// the store is shared, and Rotate must be atomic. A method returns a
// non-nil error only when the store itself failed; passauth then fails
// closed. A method may return ctx.Err() for a done context, before changing
// anything.
//
// Each passauth operation makes one Store call: a login, a refresh and a
// reuse one Rotate, a logout one RevokeSession, an access-token revocation
// and RevokeSubject one Deny, and a protected request with
// Config.CheckRevoked one Denied.
//
// The package storetest checks an implementation against this contract.
type Store interface {
	// Rotate moves a session's current refresh token from r.OldID to
	// r.NewID, or, with r.OldID == "", starts the session with r.NewID as
	// its current token; see Rotation for what it checks and records, and
	// RotateResult for what it answers.
	Rotate(ctx context.Context, r Rotation) (Rotated, error)

	// RevokeSession revokes the session d.Session of d.Subject, so that
	// Rotate reports RotateRevoked for it from then on, and records d, so
	// that Denied finds it, in one atomic step. Revoking an unknown session
	// records the denial all the same.
	RevokeSession(ctx context.Context, d Denial) error

	// Deny records d. Denying the same thing again keeps the later At and
	// the later Expires.
	Deny(ctx context.Context, d Denial) error

	// Denied reports the latest At of the denials that q names, and whether
	// there is any: that of q.Subject's sessions (recorded with Session and
	// Token empty), that of session q.Session, and that of access token
	// q.Token (each when not empty).
	Denied(ctx context.Context, q DenyQuery) (at time.Time, found bool, err error)
}

// A Rotation is what Store.Rotate is asked.
//
// A session (a family) is started with OldID == "" and kept until
// KeepUntil; every later rotation moves its current token from OldID to
// NewID, keeps OldID as the predecessor with the time it was replaced
// (Now, passauth's clock), and keeps the family until the new KeepUntil.
// Rotate reports:
//
//   - RotateOK when OldID was current, or when NewID already is (a retry of
//     a call that succeeded, whose answer was lost), with Current and
//     Expires those of NewID;
//   - RotateReplayed when Grace is positive and OldID is the predecessor,
//     replaced no more than Grace before Now, presented by ClientID (the
//     client the session was started for) for at most the MaxReplays-th
//     time since: nothing moves, and Current and Expires are the session's
//     current token, which the replay is answered with;
//   - RotateRevoked when the family is revoked, expired or unknown, or
//     denied: a denial of its session, or of its subject at a time not
//     before AuthTime (the session's login time);
//   - RotateReused otherwise: OldID is a token the session had before, and
//     Rotate revokes the family and records a denial of the session until
//     DenyUntil, as RevokeSession does, before it answers.
//
// Of any number of concurrent calls with the same family and OldID, at most
// one reports RotateOK; the others report RotateReplayed (within Grace) or
// RotateReused, so that a session never has two current tokens. Family and
// token IDs are fresh random values, so starting a session that exists
// cannot happen honestly: it reports RotateReused (revoking it) or
// RotateRevoked. A revoked family is kept, revoked, until it expires.
type Rotation struct {
	Subject  string // the session's subject
	Family   string // the session ID ("sid")
	OldID    string // the refresh token presented; "" to start the session
	NewID    string // the refresh token minted
	ClientID string // the client: recorded at the start, required of a replay

	AuthTime  time.Time // the session's login time
	Now       time.Time // when the rotation happens, by passauth's clock
	Expires   time.Time // the expiry of NewID
	KeepUntil time.Time // when the family may be forgotten, at or after Expires
	DenyUntil time.Time // how long a denial on reuse must be kept

	Grace      time.Duration // 0: strict, every second presentation is reuse
	MaxReplays int           // the replays allowed within Grace
}

// Rotated is the answer of Store.Rotate.
type Rotated struct {
	Result RotateResult
	// Current and Expires are the session's current refresh token ID and
	// its expiry, for RotateOK and RotateReplayed.
	Current string
	Expires time.Time
}

// A Denial refuses, until Expires, tokens of Subject: those of every
// session of Subject that logged in by At (Session and Token empty), those
// of the session Session, or the access token Token.
type Denial struct {
	Subject string
	Session string
	Token   string
	At      time.Time
	Expires time.Time
}

// DenyQuery names the denials that may refuse one token: its subject's, its
// session's (when Session is not empty) and its own (when Token is not
// empty).
type DenyQuery struct {
	Subject string
	Session string
	Token   string
}

// RotateResult is the outcome of Store.Rotate.
type RotateResult int

const (
	// RotateOK means the presented token was current and has been replaced.
	RotateOK RotateResult = iota + 1
	// RotateReused means the presented token had already been used: the
	// family has been revoked.
	RotateReused
	// RotateRevoked means the family is revoked, expired, unknown or
	// denied.
	RotateRevoked
	// RotateReplayed means the presented token is the one the current token
	// replaced, presented again within the grace window: the answer is the
	// current token, and nothing moved.
	RotateReplayed
)

// String returns the name of r.
func (r RotateResult) String() string {
	switch r {
	case RotateOK:
		return "ok"
	case RotateReused:
		return "reused"
	case RotateRevoked:
		return "revoked"
	case RotateReplayed:
		return "replayed"
	}
	return "invalid"
}

// A SessionLister is a Store that can tell a subject's live sessions, for
// TokenIssuer.Sessions: those neither revoked nor expired.
type SessionLister interface {
	Store
	// Sessions returns the live sessions of subject, in no given order.
	Sessions(ctx context.Context, subject string) ([]SessionInfo, error)
}

// SessionInfo is what a store tells of one live session.
type SessionInfo struct {
	ID       string    // the session ID ("sid")
	ClientID string    // the client it was started for, or ""
	Created  time.Time // the login time (Rotation.AuthTime of its start)
	LastUsed time.Time // the last rotation or replay (Rotation.Now)
	Expires  time.Time // the expiry of its current refresh token
}
