package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/passauth/passauth"
	"github.com/redis/go-redis/v9"
)

// Store is a passauth.Store kept in Redis, and a passauth.SessionLister. It
// holds no state of its own besides the client, and is safe for concurrent
// use by any number of goroutines and processes.
type Store struct {
	client redis.UniversalClient
	writer writer
	prefix string
}

var (
	_ passauth.Store         = (*Store)(nil)
	_ passauth.SessionLister = (*Store)(nil)
)

// New returns a Store that keeps its records through client, which may be
// a *redis.Client (from NewClient or NewFailoverClient), a
// *redis.ClusterClient or a *redis.Ring. The context of each call and the
// client's settings bound how long it may wait; see the package
// documentation for the settings to use, and CheckServer for the server's.
//
// New panics if WithReplicas is given with a client of another type, which
// it cannot ask for the connection to a key's server.
func New(client redis.UniversalClient, opts ...Option) *Store {
	o := newOptions(opts)
	return &Store{client: client, writer: newWriter(client, o), prefix: o.prefix}
}

// Rotate implements [passauth.Store.Rotate] in one script call, one round
// trip: it reads the family, the session's and the subject's denials and
// writes the rotation, the replay or the reuse (the family revoked and the
// session denied) in one atomic step. A KeepUntil already past leaves no
// record, so the family is then unknown.
func (s *Store) Rotate(ctx context.Context, r passauth.Rotation) (passauth.Rotated, error) {
	k := s.keysOf(r.Subject)
	graceFrom := ""
	if r.Grace > 0 {
		graceFrom = strconv.FormatInt(r.Now.Add(-r.Grace).UnixNano(), 10)
	}
	v, err := s.writer.run(ctx, rotateScript,
		[]string{k.family(r.Family), k.subjectDenial(), k.sessionDenial(r.Family), k.sessions()},
		r.Family, r.OldID, r.NewID, r.ClientID, r.AuthTime.UnixNano(), r.Now.UnixNano(), r.Expires.UnixNano(),
		unixMilliCeil(r.KeepUntil), r.DenyUntil.UnixNano(), unixMilliCeil(r.DenyUntil), graceFrom, r.MaxReplays,
	).Slice()
	if err != nil {
		return passauth.Rotated{}, wrap("rotate", err)
	}
	res, err := rotated(v)
	if err != nil {
		return passauth.Rotated{}, wrap("rotate", err)
	}
	return res, nil
}

// rotated reads the answer of rotateScript.
func rotated(v []any) (passauth.Rotated, error) {
	code, _ := v[0].(int64)
	switch code {
	case scriptReused:
		return passauth.Rotated{Result: passauth.RotateReused}, nil
	case scriptRevoked:
		return passauth.Rotated{Result: passauth.RotateRevoked}, nil
	case scriptOK, scriptReplayed:
		if len(v) == 3 {
			cur, _ := v[1].(string)
			exp, err := parseNanos(v[2])
			if err != nil {
				return passauth.Rotated{}, err
			}
			res := passauth.Rotated{Result: passauth.RotateOK, Current: cur, Expires: exp}
			if code == scriptReplayed {
				res.Result = passauth.RotateReplayed
			}
			return res, nil
		}
	}
	return passauth.Rotated{}, errors.New("unexpected script result")
}

// RevokeSession implements [passauth.Store.RevokeSession] in one script
// call: it marks the family revoked (an unknown one is left unknown, which
// Rotate reports as revoked all the same), takes it out of the subject's
// sessions and records the session's denial, in one atomic step.
func (s *Store) RevokeSession(ctx context.Context, d passauth.Denial) error {
	k := s.keysOf(d.Subject)
	err := s.writer.run(ctx, revokeScript,
		[]string{k.family(d.Session), k.sessionDenial(d.Session), k.sessions()},
		d.Session, d.At.UnixNano(), unixMilliCeil(d.Expires),
	).Err()
	if err != nil {
		return wrap("revoke session", err)
	}
	return nil
}

// Deny implements [passauth.Store.Deny] in one script call. Times keep
// their nanoseconds; expiries are rounded up to the millisecond.
func (s *Store) Deny(ctx context.Context, d passauth.Denial) error {
	k := s.keysOf(d.Subject)
	key := k.subjectDenial()
	switch {
	case d.Token != "":
		key = k.tokenDenial(d.Token)
	case d.Session != "":
		key = k.sessionDenial(d.Session)
	}
	if err := s.writer.run(ctx, denyScript, []string{key}, d.At.UnixNano(), unixMilliCeil(d.Expires)).Err(); err != nil {
		return wrap("deny", err)
	}
	return nil
}

// Denied implements [passauth.Store.Denied] with one MGET of the denials q
// names, which share a hash slot. An empty Subject names no subject
// denial, as with passauth.MemoryStore; with nothing to look up it reports
// not found without asking Redis. It never waits for replicas.
func (s *Store) Denied(ctx context.Context, q passauth.DenyQuery) (time.Time, bool, error) {
	k := s.keysOf(q.Subject)
	keys := make([]string, 0, 3)
	if q.Subject != "" {
		keys = append(keys, k.subjectDenial())
	}
	if q.Session != "" {
		keys = append(keys, k.sessionDenial(q.Session))
	}
	if q.Token != "" {
		keys = append(keys, k.tokenDenial(q.Token))
	}
	if len(keys) == 0 {
		return time.Time{}, false, nil
	}
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		return time.Time{}, false, wrap("denied", err)
	}
	var latest time.Time
	found := false
	for _, v := range vals {
		if v == nil {
			continue
		}
		at, err := parseNanos(v)
		if err != nil {
			return time.Time{}, false, wrap("denied", err)
		}
		if !found || at.After(latest) {
			latest, found = at, true
		}
	}
	return latest, found, nil
}

// parseNanos reads a time this package wrote: decimal Unix nanoseconds.
func parseNanos(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errMalformed
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, errMalformed
	}
	return time.Unix(0, n), nil
}

// errMalformed reports a time in Redis that is not a decimal integer,
// written by something other than this package.
var errMalformed = errors.New("record is not a Unix time in nanoseconds")

// unixMilliCeil returns t in Unix milliseconds, rounded up so that a record
// is never dropped before t.
func unixMilliCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// storeError is a failure of Redis: it matches passauth.ErrStoreUnavailable
// and unwraps to the client's error. Its text holds the operation and the
// client's error, never a token (the store is never given one).
type storeError struct {
	op  string
	err error
}

func wrap(op string, err error) error {
	return &storeError{op: op, err: err}
}

func (e *storeError) Error() string {
	return "redisstore: " + e.op + ": " + e.err.Error()
}

// Unwrap returns the client's error.
func (e *storeError) Unwrap() error { return e.err }

// Is reports whether target is passauth.ErrStoreUnavailable.
func (e *storeError) Is(target error) bool {
	return target == passauth.ErrStoreUnavailable
}
