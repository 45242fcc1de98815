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

// sweepBatch is the number of queue entries a step of the sweep takes, and
// shrinkMin the size a map must have reached before it is replaced; see the
// MemoryStore and MemoryLimiter documentation.
const (
	sweepBatch = 4
	shrinkMin  = 1024
)

// A sweptMap maps keys to records that expire, and drops the expired ones a
// few at a time. Its queue holds one entry for each record, in the order
// the records were added or last looked at, noting the expiry each had
// then: sweep takes the next sweepBatch entries and queues each again,
// except that the record of an entry whose expiry has passed is looked up,
// and dropped with its entry if it has expired. Nothing is ever iterated,
// so every method does a bounded amount of work, and an entry not yet due
// costs no lookup in the map. A record whose expiry was moved earlier than
// its entry notes stays until that time.
//
// A map holding a quarter or less of the most it held is replaced: cur
// becomes old and a new cur starts empty. Lookups then try cur and old,
// puts update a record where it is and add new ones to cur, and sweep
// looks up every entry it takes, moving the unexpired records from old to
// cur. Every record of old has its entry in the queue ahead of those added
// later, so old is empty, and dropped, once the sweep has taken every entry
// the queue held at the replacement.
//
// Records leave only through the sweep, so that each has exactly one entry.
// The zero sweptMap is empty and ready to use. It is not safe for
// concurrent use: its owner's lock guards it, and get and len only read.
type sweptMap[R expiring] struct {
	cur   map[string]R
	old   map[string]R // the map being replaced, or nil
	queue sweepQueue   // an entry for each record
	peak  int          // most records cur has held
}

// expiring is a record that expires: it is expired from expiry() on. The
// zero record has expired.
type expiring interface {
	expiry() time.Time
}

// get returns the record under key, expired or not.
func (m *sweptMap[R]) get(key string) (R, bool) {
	if rec, ok := m.cur[key]; ok {
		return rec, true
	}
	rec, ok := m.old[key]
	return rec, ok
}

// put sets the record under key.
func (m *sweptMap[R]) put(key string, rec R) {
	if _, ok := m.cur[key]; ok {
		m.cur[key] = rec
		return
	}
	if _, ok := m.old[key]; ok {
		m.old[key] = rec
		return
	}
	if m.cur == nil {
		m.cur = make(map[string]R)
	}
	m.cur[key] = rec
	m.queue.push(queueEntry{key: key, due: rec.expiry().Unix()})
	m.peak = max(m.peak, len(m.cur))
}

// len returns the number of records held, expired ones included.
func (m *sweptMap[R]) len() int {
	return len(m.cur) + len(m.old)
}

// sweep takes the next sweepBatch entries of the queue and queues them
// again, except that it looks up the records of those that are due, or of
// all of them while cur is being replaced: it drops a record that has
// expired at now, with its entry, and else notes the record's expiry in
// the entry and moves the record from old to cur. Then it ends or starts
// the replacement of cur.
func (m *sweptMap[R]) sweep(now time.Time) {
	sec := now.Unix()
	for range sweepBatch {
		e, ok := m.queue.pop()
		if !ok {
			break
		}
		if m.old == nil && sec < e.due {
			m.queue.push(e) // the record's expiry is e.due or later
			continue
		}
		rec, inCur := m.cur[e.key]
		inOld := false
		if !inCur {
			rec, inOld = m.old[e.key]
		}
		if !now.Before(rec.expiry()) { // or, impossibly, no record
			delete(m.cur, e.key)
			delete(m.old, e.key)
			continue
		}
		if inOld {
			delete(m.old, e.key)
			m.cur[e.key] = rec
			m.peak = max(m.peak, len(m.cur))
		}
		e.due = rec.expiry().Unix()
		m.queue.push(e)
	}
	if m.old != nil && len(m.old) == 0 {
		m.old = nil
	}
	if m.old == nil && m.peak >= shrinkMin && len(m.cur) <= m.peak/4 {
		if len(m.cur) > 0 {
			m.old = m.cur
		}
		m.cur, m.peak = make(map[string]R), 0
	}
}

// A sweepQueue is a FIFO queue of entries, kept in chunks so that neither
// push nor pop ever copies the queue, and so that its memory follows its
// length. The chunk emptied last is kept for the next push that needs one.
type sweepQueue struct {
	head, tail *queueChunk
	first, end int // next entry to pop in head; next free entry in tail
	n          int // entries queued
	spare      *queueChunk
	popped     uint64 // entries ever popped: tests bound the work of a call by it
}

type queueChunk struct {
	entries [queueChunkLen]queueEntry
	next    *queueChunk
}

// queueEntry stands for the record under key. due is the Unix time, in
// whole seconds rounded down, of the record's expiry when the entry was
// queued: the sweep need not look the record up while now.Unix() < due.
type queueEntry struct {
	key string
	due int64
}

const queueChunkLen = 128

func (q *sweepQueue) push(e queueEntry) {
	if q.tail == nil || q.end == queueChunkLen {
		c := q.spare
		q.spare = nil
		if c == nil {
			c = new(queueChunk)
		}
		if q.tail == nil {
			q.head, q.first = c, 0
		} else {
			q.tail.next = c
		}
		q.tail, q.end = c, 0
	}
	q.tail.entries[q.end] = e
	q.end++
	q.n++
}

func (q *sweepQueue) pop() (queueEntry, bool) {
	if q.n == 0 {
		return queueEntry{}, false
	}
	c := q.head
	e := c.entries[q.first]
	c.entries[q.first] = queueEntry{} // let the key go
	q.first++
	q.n--
	q.popped++
	if q.first == queueChunkLen {
		q.head, q.first = c.next, 0
		if q.head == nil {
			q.tail, q.end = nil, 0
		}
		c.next = nil
		if q.spare == nil {
			q.spare = c
		}
	}
	return e, true
}
