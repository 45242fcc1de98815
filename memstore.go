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
// Expired records are never reported and are dropped by a sweep that runs
// inside write calls (Rotate, RevokeFamily and Deny) once 1024 writes, or as
// many writes as there were records after the previous sweep if that is
// more, or a minute have passed since the previous sweep. The cost of
// sweeping is thus constant per write on average, and the store never holds
// more than about twice its unexpired records, or those plus 1024. There is
// no background goroutine and nothing to close.
//
// Nothing survives the process: after a restart every token family is
// unknown, so every refresh token issued before it is refused (refreshing
// fails closed) and users log in again; and access tokens revoked before it
// are accepted again until they expire. Processes do not share a
// MemoryStore: for several replicas of a service, use a shared store such
// as the Redis one of the redisstore module.
type MemoryStore struct {
	mu       sync.RWMutex
	families map[string]familyRecord
	denied   map[string]denyRecord

	writes    int       // write calls since the last sweep
	swept     int       // records held just after the last sweep
	lastSweep time.Time // time of the last sweep
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

// Sweep triggers; see the MemoryStore documentation.
const (
	sweepEvery    = 1024
	sweepInterval = time.Minute
)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		families:  make(map[string]familyRecord),
		denied:    make(map[string]denyRecord),
		lastSweep: time.Now(),
	}
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
	s.maybeSweep(now)

	f, ok := s.families[family]
	if ok && !now.Before(f.expires) {
		delete(s.families, family)
		ok = false
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
		s.families[family] = f
		return RotateReused, nil
	}
	s.families[family] = familyRecord{current: newID, expires: expires}
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
	s.maybeSweep(now)

	if f, ok := s.families[family]; ok {
		f.revoked = true
		s.families[family] = f
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
	s.maybeSweep(now)

	d, ok := s.denied[key]
	if !ok || !now.Before(d.expires) {
		s.denied[key] = denyRecord{at: at, expires: expires}
		return nil
	}
	if at.After(d.at) {
		d.at = at
	}
	if expires.After(d.expires) {
		d.expires = expires
	}
	s.denied[key] = d
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
		d, ok := s.denied[key]
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
	return len(s.families) + len(s.denied)
}

// maybeSweep counts a write and drops every expired record if enough writes
// or time have passed since the last sweep. Waiting for as many writes as
// there were records keeps the amortized cost of a sweep constant per
// write. s.mu must be held for writing.
func (s *MemoryStore) maybeSweep(now time.Time) {
	s.writes++
	if s.writes < max(sweepEvery, s.swept) && now.Sub(s.lastSweep) < sweepInterval {
		return
	}
	for k, f := range s.families {
		if !now.Before(f.expires) {
			delete(s.families, k)
		}
	}
	for k, d := range s.denied {
		if !now.Before(d.expires) {
			delete(s.denied, k)
		}
	}
	s.writes, s.swept, s.lastSweep = 0, s.len(), now
}
