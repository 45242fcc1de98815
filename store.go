package passauth

import (
	"context"
	"time"
)

// Store keeps the state that makes refresh tokens rotate and revocation
// work: one record per login session (a token family: every refresh token
// descending from one login), and a denylist of revoked keys. Set it as
// Config.Store. Without a Store, refreshing is stateless.
//
// A Store never sees a token: it is given token IDs ("jti"), session IDs and
// subjects. Every method must be safe for concurrent use, including across
// processes when the store is shared, and Rotate must be atomic. A method
// returns a non-nil error only when the store itself failed; passauth then
// fails closed. A method may return ctx.Err() for a done context, before
// changing anything.
//
// The package storetest checks an implementation against this contract.
type Store interface {
	// Rotate moves the family's current refresh token from oldID to newID
	// and keeps the family until expires. With oldID == "" it creates the
	// family with newID as its current token.
	//
	// It reports RotateOK when oldID was current; RotateReused when the family
	// exists and oldID is not its current token, in which case Rotate revokes
	// the family before returning; and RotateRevoked when the family is
	// revoked, expired or unknown. Of any number of concurrent calls with the
	// same family and oldID, at most one reports RotateOK. Family IDs are
	// fresh random values, so creating a family that exists cannot happen
	// honestly: it reports RotateReused (revoking a live family) or
	// RotateRevoked. A revoked family is kept, revoked, until it expires.
	//
	// Rotate is idempotent: repeating a call that succeeded (newID is now
	// current) reports RotateOK again, so a client that retries after a lost
	// answer (go-redis retries commands by default) does not look like
	// reuse. New IDs are random, so nobody else can present newID.
	Rotate(ctx context.Context, family, oldID, newID string, expires time.Time) (RotateResult, error)

	// RevokeFamily revokes the family, so that Rotate reports RotateRevoked
	// for it from then on. Revoking an unknown family is not an error.
	RevokeFamily(ctx context.Context, family string) error

	// Deny records that key was revoked at time at; the record may be
	// forgotten after expires. Denying a key again keeps the later time and
	// the later expiry.
	Deny(ctx context.Context, key string, at, expires time.Time) error

	// Denied reports the latest time at which any of keys was denied, and
	// whether any was.
	Denied(ctx context.Context, keys ...string) (at time.Time, found bool, err error)
}

// RotateResult is the outcome of Store.Rotate.
type RotateResult int

const (
	// RotateOK means the presented token was current and has been replaced.
	RotateOK RotateResult = iota + 1
	// RotateReused means the presented token had already been used: the
	// family has been revoked.
	RotateReused
	// RotateRevoked means the family is revoked, expired or unknown.
	RotateRevoked
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
	}
	return "invalid"
}
