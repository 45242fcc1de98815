package passauth

import "time"

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

// sweepBatch is the number of queue entries a step of the sweep takes, and
// shrinkMin the size a map must have reached before it is replaced; see the
// MemoryStore and MemoryLimiter documentation.
const (
	sweepBatch = 4
	shrinkMin  = 1024
)

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
// expired at now, with its entry, passing it to dropped unless that is
// nil, and else notes the record's expiry in the entry and moves the
// record from old to cur. Then it ends or starts the replacement of cur.
func (m *sweptMap[R]) sweep(now time.Time, dropped func(key string, rec R)) {
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
			if dropped != nil && (inCur || inOld) {
				dropped(e.key, rec)
			}
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
