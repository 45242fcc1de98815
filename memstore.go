package passauth

import (
	"context"
	"sync"
	"time"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store that keeps its records in the memory of one
// process: the default for a single server, and the store to test with.
//
// A MemoryStore is safe for concurrent use by any number of goroutines, and
// Rotate is atomic: one mutex guards every record. Time is read from
// time.Now.
//
// Each record is kept until the expiry time it was last written with.
// Expired records are never reported, and a sweep drops them a few at a
// time inside the write calls (Rotate, RevokeFamily and Deny): each write
// call takes the next four token families and the next four denylist keys
// of a round-robin order that holds every record, new ones at the end, and
// drops those that have expired. Each record's place in that order notes
// the expiry time the record had when it was created or last looked at by
// the sweep, and the sweep looks the record up only once that time has
// passed: so a family that Rotate gave an earlier expiry (which passauth's
// own rotations never do) stays until the later one.
//
// So every call does a bounded amount of work, however many records the
// store holds, and a record is dropped at most n/4 write calls after it
// expired, n being the number of records of its kind then. As each write
// adds at most one record, a round over n records ends with at most n/4
// records more than the round found unexpired: the store holds at most
// about 4/3 of its unexpired records, and after a flood that expires the
// excess shrinks fourfold with each round.
//
// Go maps never give back the memory of deleted entries, so each of the two
// maps is replaced once it holds no more than a quarter of the most records
// it held (if that was 1024 or more): for one round, the sweep then looks
// up every record it takes and moves the unexpired ones to a new map, and
// the old map is freed at the end of the round. A map's size thus follows
// the records it holds, to within a factor of four, rather than the most
// it ever held: once a flood of records has expired, the memory it took
// returns within two rounds, unless the records left are more than a
// quarter of the flood. There is no background goroutine and nothing to
// close.
//
// Nothing survives the process: after a restart every token family is
// unknown, so every refresh token issued before it is refused (refreshing
// fails closed) and users log in again; and access tokens revoked before it
// are accepted again until they expire. Processes do not share a
// MemoryStore: for several replicas of a service, use a shared store such
// as the Redis one of the redisstore module.
type MemoryStore struct {
	mu       sync.RWMutex
	families sweptMap[familyRecord]
	denied   sweptMap[denyRecord]
}

// familyRecord is the state of one token family.
type familyRecord struct {
	current string // ID of the family's only valid refresh token
	revoked bool
	expires time.Time
}

// denyRecord is the state of one denylist key.
type denyRecord struct {
	at      time.Time // latest time the key was denied
	expires time.Time
}

func (f familyRecord) expiry() time.Time { return f.expires }
func (d denyRecord) expiry() time.Time   { return d.expires }

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{}
}

// Rotate implements [Store.Rotate]. Creating a family that already exists
// (oldID == "") reports RotateRevoked if it is revoked and RotateReused,
// revoking it, if not: "" is never its current token. The error is non-nil
// only when ctx is already done, and then nothing has changed.
func (s *MemoryStore) Rotate(ctx context.Context, family, oldID, newID string, expires time.Time) (RotateResult, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	f, ok := s.families.get(family)
	if ok && !now.Before(f.expires) {
		ok = false // as if unknown, and overwritten if created again
	}
	switch {
	case !ok && oldID == "":
		// Create the family.
	case !ok || f.revoked:
		return RotateRevoked, nil
	case newID == f.current:
		// A repeat of the call that made newID current: its answer was lost.
		return RotateOK, nil
	case oldID == "" || oldID != f.current:
		f.revoked = true
		s.families.put(family, f)
		return RotateReused, nil
	}
	s.families.put(family, familyRecord{current: newID, expires: expires})
	return RotateOK, nil
}

// RevokeFamily implements [Store.RevokeFamily]. The revoked family is kept,
// so that it cannot be created again, until it expires. The error is
// non-nil only when ctx is already done, and then nothing has changed.
func (s *MemoryStore) RevokeFamily(ctx context.Context, family string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	if f, ok := s.families.get(family); ok {
		f.revoked = true
		s.families.put(family, f)
	}
	return nil
}

// Deny implements [Store.Deny]. Denying a key again keeps the later of the
// two times and the later of the two expiry times. The error is non-nil
// only when ctx is already done, and then nothing has changed.
func (s *MemoryStore) Deny(ctx context.Context, key string, at, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	d, ok := s.denied.get(key)
	if !ok || !now.Before(d.expires) {
		s.denied.put(key, denyRecord{at: at, expires: expires})
		return nil
	}
	if at.After(d.at) {
		d.at = at
	}
	if expires.After(d.expires) {
		d.expires = expires
	}
	s.denied.put(key, d)
	return nil
}

// Denied implements [Store.Denied]. It takes only a read lock, so that
// concurrent checks do not wait for each other. The error is non-nil only
// when ctx is already done.
func (s *MemoryStore) Denied(ctx context.Context, keys ...string) (at time.Time, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	if len(keys) == 0 {
		return time.Time{}, false, nil
	}
	now := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()

	for _, key := range keys {
		d, ok := s.denied.get(key)
		if !ok || !now.Before(d.expires) {
			continue
		}
		if !found || d.at.After(at) {
			at, found = d.at, true
		}
	}
	return at, found, nil
}

// Len returns the number of records the store holds: token families,
// revoked ones included, and denylist keys, counting expired records that
// have not been swept yet. It is meant for monitoring and tests.
func (s *MemoryStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.len()
}

func (s *MemoryStore) len() int {
	return s.families.len() + s.denied.len()
}

// sweep runs a step of the sweep of each map; s.mu must be held for
// writing.
func (s *MemoryStore) sweep(now time.Time) {
	s.families.sweep(now)
	s.denied.sweep(now)
}
