package passauth

import (
	"context"
	"maps"
	"sync"
	"time"
)

// MemoryStore is a Store that keeps its records in the memory of one
// process: the default for a single server, and the store to test with.
//
// A MemoryStore is safe for concurrent use by any number of goroutines, and
// Rotate is atomic: one mutex guards every record. Time is read from
// time.Now. Its calls never wait on I/O, so passauth does not bound them
// with Config.StoreTimeout (they still fail when their context is done).
//
// Each record is kept until the expiry time it was last written with.
// Expired records are never reported, and a sweep drops them a few at a
// time inside the write calls (Rotate, RevokeSession and Deny): each write
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
	// The denylist, a map for each kind of denial, keyed by subject,
	// session ID and token ID.
	subjects sweptMap[denyRecord]
	sessions sweptMap[denyRecord]
	tokens   sweptMap[denyRecord]

	// byOwner indexes the families by subject, for Sessions.
	byOwner sweptMap[ownerRecord]
}

var (
	_ Store         = (*MemoryStore)(nil)
	_ SessionLister = (*MemoryStore)(nil)
)

// ownerRecord is the index of one subject's families. It expires with the
// last of them, and a family leaves it when the sweep drops the family, so
// that it holds no more families than the store does.
type ownerRecord struct {
	families map[string]struct{}
	peak     int // most families the map has held
	expires  time.Time
}

func (o ownerRecord) expiry() time.Time { return o.expires }

// familyRecord is the state of one token family.
type familyRecord struct {
	subject  string
	client   string
	created  time.Time // the session's login time
	lastUsed time.Time

	current        string    // ID of the family's only valid refresh token
	currentExpires time.Time // its expiry
	previous       string    // the token current replaced, "" for none
	replaced       time.Time // when, by passauth's clock
	replays        int       // of previous, since

	revoked bool
	expires time.Time // when the record may be forgotten
}

// denyRecord is the state of one denial.
type denyRecord struct {
	at      time.Time // latest time of the denial
	expires time.Time
}

func (f familyRecord) expiry() time.Time { return f.expires }
func (d denyRecord) expiry() time.Time   { return d.expires }

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{}
}

// Rotate implements [Store.Rotate]. Starting a family that already exists
// (OldID == "") reports RotateRevoked if it is revoked and RotateReused,
// revoking it, if not: "" is never its current token. The error is non-nil
// only when ctx is already done, and then nothing has changed.
func (s *MemoryStore) Rotate(ctx context.Context, r Rotation) (Rotated, error) {
	if err := ctx.Err(); err != nil {
		return Rotated{}, err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	f, ok := s.families.get(r.Family)
	if ok && !now.Before(f.expires) {
		ok = false // as if unknown, and overwritten if started again
	}
	switch {
	case !ok && r.OldID == "":
		s.families.put(r.Family, familyRecord{
			subject: r.Subject, client: r.ClientID, created: r.AuthTime, lastUsed: r.Now,
			current: r.NewID, currentExpires: r.Expires, expires: r.KeepUntil,
		})
		s.own(now, r.Subject, r.Family, r.KeepUntil)
		return Rotated{Result: RotateOK, Current: r.NewID, Expires: r.Expires}, nil
	case !ok || f.revoked || (r.OldID != "" && s.denied(now, r.Subject, r.Family, r.AuthTime)):
		return Rotated{Result: RotateRevoked}, nil
	case r.NewID == f.current:
		// A repeat of the call that made NewID current: its answer was lost.
		return Rotated{Result: RotateOK, Current: f.current, Expires: f.currentExpires}, nil
	case r.OldID != "" && r.OldID == f.current:
		f.previous, f.replaced, f.replays = f.current, r.Now, 0
		f.current, f.currentExpires, f.expires, f.lastUsed = r.NewID, r.Expires, r.KeepUntil, r.Now
		s.families.put(r.Family, f)
		s.own(now, r.Subject, "", r.KeepUntil)
		return Rotated{Result: RotateOK, Current: f.current, Expires: f.currentExpires}, nil
	case r.Grace > 0 && r.OldID != "" && r.OldID == f.previous && !r.Now.After(f.replaced.Add(r.Grace)) &&
		r.ClientID == f.client && f.replays < r.MaxReplays:
		f.replays++
		f.lastUsed = r.Now
		s.families.put(r.Family, f)
		return Rotated{Result: RotateReplayed, Current: f.current, Expires: f.currentExpires}, nil
	}
	f.revoked = true
	s.families.put(r.Family, f)
	s.deny(now, &s.sessions, r.Family, r.DenyUntil, r.DenyUntil)
	return Rotated{Result: RotateReused}, nil
}

// own records that subject has the family (none for ""), kept until at
// least keepUntil; s.mu must be held.
func (s *MemoryStore) own(now time.Time, subject, family string, keepUntil time.Time) {
	o, ok := s.byOwner.get(subject)
	if !ok || !now.Before(o.expires) {
		o = ownerRecord{families: make(map[string]struct{})}
	}
	if family != "" {
		o.families[family] = struct{}{}
		o.peak = max(o.peak, len(o.families))
	}
	if keepUntil.After(o.expires) {
		o.expires = keepUntil
	}
	s.byOwner.put(subject, o)
}

// disown drops the family, which the sweep has dropped, from its subject's
// index, and replaces the index's map once it holds a quarter or less of
// the most it held, as Go maps do not shrink; s.mu must be held.
func (s *MemoryStore) disown(family string, f familyRecord) {
	o, ok := s.byOwner.get(f.subject)
	if !ok {
		return
	}
	if _, ok := o.families[family]; !ok {
		return
	}
	delete(o.families, family)
	if o.peak >= 64 && len(o.families) <= o.peak/4 {
		o.families, o.peak = maps.Clone(o.families), len(o.families)
		s.byOwner.put(f.subject, o)
	}
}

// Sessions implements [SessionLister.Sessions]: the families of subject
// that are neither revoked, denied nor expired. The error is non-nil only when ctx
// is already done.
func (s *MemoryStore) Sessions(ctx context.Context, subject string) ([]SessionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.byOwner.get(subject)
	if !ok || !now.Before(o.expires) {
		return nil, nil
	}
	out := make([]SessionInfo, 0, len(o.families))
	for id := range o.families {
		f, ok := s.families.get(id)
		if !ok || f.revoked || f.subject != subject || !now.Before(f.currentExpires) || s.denied(now, subject, id, f.created) {
			continue // ended, though not yet swept
		}
		out = append(out, SessionInfo{ID: id, ClientID: f.client, Created: f.created, LastUsed: f.lastUsed, Expires: f.currentExpires})
	}
	return out, nil
}

// denied reports whether the session family of subject, which logged in at
// authTime, is denied; s.mu must be held.
func (s *MemoryStore) denied(now time.Time, subject, family string, authTime time.Time) bool {
	if d, ok := s.sessions.get(family); ok && now.Before(d.expires) {
		return true
	}
	d, ok := s.subjects.get(subject)
	return ok && now.Before(d.expires) && !authTime.After(d.at)
}

// RevokeSession implements [Store.RevokeSession]. The revoked family is
// kept, so that it cannot be started again, until it expires. The error is
// non-nil only when ctx is already done, and then nothing has changed.
func (s *MemoryStore) RevokeSession(ctx context.Context, d Denial) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	if f, ok := s.families.get(d.Session); ok {
		f.revoked = true
		s.families.put(d.Session, f)
	}
	s.deny(now, &s.sessions, d.Session, d.At, d.Expires)
	return nil
}

// Deny implements [Store.Deny]. Denying the same thing again keeps the
// later of the two times and the later of the two expiry times. The error
// is non-nil only when ctx is already done, and then nothing has changed.
func (s *MemoryStore) Deny(ctx context.Context, d Denial) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	switch {
	case d.Token != "":
		s.deny(now, &s.tokens, d.Token, d.At, d.Expires)
	case d.Session != "":
		s.deny(now, &s.sessions, d.Session, d.At, d.Expires)
	default:
		s.deny(now, &s.subjects, d.Subject, d.At, d.Expires)
	}
	return nil
}

// deny records a denial of key in m; s.mu must be held.
func (s *MemoryStore) deny(now time.Time, m *sweptMap[denyRecord], key string, at, expires time.Time) {
	d, ok := m.get(key)
	if !ok || !now.Before(d.expires) {
		m.put(key, denyRecord{at: at, expires: expires})
		return
	}
	if at.After(d.at) {
		d.at = at
	}
	if expires.After(d.expires) {
		d.expires = expires
	}
	m.put(key, d)
}

// Denied implements [Store.Denied]. It takes only a read lock, so that
// concurrent checks do not wait for each other, and allocates nothing. The
// error is non-nil only when ctx is already done.
func (s *MemoryStore) Denied(ctx context.Context, q DenyQuery) (at time.Time, found bool, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	now := time.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()

	for _, c := range [...]struct {
		m   *sweptMap[denyRecord]
		key string
	}{{&s.subjects, q.Subject}, {&s.sessions, q.Session}, {&s.tokens, q.Token}} {
		if c.key == "" {
			continue
		}
		d, ok := c.m.get(c.key)
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
	return s.families.len() + s.subjects.len() + s.sessions.len() + s.tokens.len()
}

// sweep runs a step of the sweep of each map; s.mu must be held for
// writing.
func (s *MemoryStore) sweep(now time.Time) {
	s.families.sweep(now, s.disown)
	s.subjects.sweep(now, nil)
	s.sessions.sweep(now, nil)
	s.tokens.sweep(now, nil)
	s.byOwner.sweep(now, nil)
}
