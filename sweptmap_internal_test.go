package passauth

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestSweptMapFlood drives the map the store and the limiter are built on
// through a flood of 200 000 records that expire together, with a clock of
// its own: no step of the sweep takes more than sweepBatch entries or drops
// more records; a round later (n/sweepBatch steps) only the unexpired
// records are left; by the end of the next round the map has been
// replaced by a new one, sized for them; and they are intact.
func TestSweptMapFlood(t *testing.T) {
	t.Parallel()
	const flood, live = 200_000, 1000
	t0 := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	var m sweptMap[denyRecord]
	// A write call: a step of the sweep, then a put.
	now := t0
	for i := range live {
		now = now.Add(time.Millisecond)
		m.sweep(now, nil)
		m.put("live-"+strconv.Itoa(i), denyRecord{at: now, expires: t0.Add(24 * time.Hour)})
	}
	for i := range flood {
		now = now.Add(time.Millisecond)
		m.sweep(now, nil)
		m.put("flood-"+strconv.Itoa(i), denyRecord{at: now, expires: t0.Add(time.Hour)})
	}
	if got := m.len(); got != flood+live {
		t.Fatalf("len = %d before the flood expired, want %d", got, flood+live)
	}
	flooded := reflect.ValueOf(m.cur).UnsafePointer()

	now = t0.Add(2 * time.Hour)
	n, steps := m.len(), 0
	round := (n + sweepBatch - 1) / sweepBatch
	step := func() {
		t.Helper()
		popped := m.queue.popped
		m.sweep(now, nil)
		steps++
		if took := m.queue.popped - popped; took > sweepBatch {
			t.Fatalf("a step took %d entries, want at most %d", took, sweepBatch)
		}
		if got := m.len(); got < n-sweepBatch || got > n {
			t.Fatalf("a step took len from %d to %d, want a drop of at most %d", n, got, sweepBatch)
		} else {
			n = got
		}
	}
	for n > live && steps < 2*round {
		step()
	}
	if steps > round || n != live {
		t.Fatalf("len = %d after %d steps, want %d after at most %d", n, steps, live, round)
	}
	for range (n + sweepBatch - 1) / sweepBatch {
		step()
	}
	if m.old != nil || reflect.ValueOf(m.cur).UnsafePointer() == flooded {
		t.Errorf("the map the flood filled is still in use two rounds after it expired")
	}
	if m.peak != live {
		t.Errorf("peak = %d after the replacement, want %d", m.peak, live)
	}
	if m.queue.n != live {
		t.Errorf("%d entries queued for %d records", m.queue.n, live)
	}
	for i := range live {
		d, ok := m.get("live-" + strconv.Itoa(i))
		if want := t0.Add(time.Duration(i+1) * time.Millisecond); !ok || !d.at.Equal(want) {
			t.Fatalf("record %d = %v, %v after the flood; want at %v", i, d, ok, want)
		}
	}
}

// TestSweptMapModel checks a sweptMap against a plain map through random
// puts and sweeps on a few thousand keys, in bursts that make it replace
// its map again and again: a record that has not expired is always there,
// with its last value; no swept record comes back; every record has
// exactly one entry in the queue; and once every record has expired, a
// round of the sweep empties the map and the queue.
func TestSweptMapModel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	var m sweptMap[denyRecord]
	model := make(map[string]denyRecord) // every record put, swept or not
	replacements := 0
	for op := range 300_000 {
		now = now.Add(time.Duration(rng.IntN(4)) * time.Millisecond)
		// Bursts of new keys, over a steady few.
		key := "steady-" + strconv.Itoa(rng.IntN(100))
		if op/20_000%2 == 0 {
			key = "burst-" + strconv.Itoa(op)
		}
		if rng.IntN(2) == 0 {
			d := denyRecord{
				at:      now,
				expires: now.Add(time.Duration(rng.IntN(20_000)-2_000) * time.Millisecond),
			}
			m.put(key, d)
			model[key] = d
		} else {
			wasReplacing := m.old != nil
			m.sweep(now, nil)
			if !wasReplacing && m.old != nil {
				replacements++
			}
		}
		want, inModel := model[key]
		if got, ok := m.get(key); ok && (!inModel || got != want) || !ok && inModel && now.Before(want.expires) {
			t.Fatalf("op %d: get(%q) = %v, %v; the model holds %v, %v", op, key, got, ok, want, inModel)
		}
		if op%5000 == 0 {
			checkSweptMap(t, &m, model, now)
		}
	}
	checkSweptMap(t, &m, model, now)
	t.Logf("the map was replaced %d times", replacements)
	if replacements < 3 {
		t.Errorf("the map was replaced %d times, want several", replacements)
	}

	// Every record and every entry is due a day later.
	now = now.Add(24 * time.Hour)
	for range (m.queue.n + sweepBatch - 1) / sweepBatch {
		m.sweep(now, nil)
	}
	if m.len() != 0 || m.queue.n != 0 || m.old != nil {
		t.Errorf("len = %d, %d entries queued, replacing %v after every record expired; want 0, 0, false", m.len(), m.queue.n, m.old != nil)
	}
}

// checkSweptMap checks m against model at now: the records of m are those
// of the model, except expired ones already swept; a key is in cur or old,
// not both; and every record has exactly one entry in the queue.
func checkSweptMap(t *testing.T, m *sweptMap[denyRecord], model map[string]denyRecord, now time.Time) {
	t.Helper()
	for key, d := range model {
		got, ok := m.get(key)
		if ok && got != d || !ok && now.Before(d.expires) {
			t.Fatalf("get(%q) = %v, %v; the model holds %v", key, got, ok, d)
		}
	}
	for key := range m.old {
		if _, ok := m.cur[key]; ok {
			t.Fatalf("%q is in both maps", key)
		}
	}
	entries := make(map[string]int)
	for c, i, n := m.queue.head, m.queue.first, 0; n < m.queue.n; i, n = i+1, n+1 {
		if i == queueChunkLen {
			c, i = c.next, 0
		}
		key := c.entries[i].key
		if _, ok := m.get(key); !ok {
			t.Fatalf("an entry is queued for %q, which has no record", key)
		}
		entries[key]++
	}
	if len(entries) != m.len() {
		t.Fatalf("%d records have an entry in the queue, want all %d", len(entries), m.len())
	}
	for key, count := range entries {
		if count != 1 {
			t.Fatalf("%q has %d entries in the queue, want 1", key, count)
		}
	}
}

// TestSweptMapEntries checks how a record's entry follows it: putting the
// record again keeps its one entry; the entry is not looked at before the
// expiry it notes, even if the record expired earlier; past that expiry the
// record is looked up, and its entry made to note its expiry now; and the
// record goes, with its entry, once it has expired.
func TestSweptMapEntries(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)
	var m sweptMap[denyRecord]
	m.put("a", denyRecord{at: t0, expires: t0.Add(time.Hour)})
	m.put("a", denyRecord{at: t0.Add(time.Second), expires: t0.Add(2 * time.Hour)})
	m.put("b", denyRecord{at: t0, expires: t0.Add(time.Hour)})
	m.put("b", denyRecord{at: t0, expires: t0.Add(time.Minute)}) // earlier
	if m.queue.n != 2 || m.len() != 2 {
		t.Fatalf("%d entries queued for %d records, want 2 for 2", m.queue.n, m.len())
	}
	due := func(key string) time.Time {
		t.Helper()
		for c, i, n := m.queue.head, m.queue.first, 0; n < m.queue.n; i, n = i+1, n+1 {
			if i == queueChunkLen {
				c, i = c.next, 0
			}
			if e := c.entries[i]; e.key == key {
				return time.Unix(e.due, 0).UTC()
			}
		}
		t.Fatalf("no entry for %q", key)
		return time.Time{}
	}

	m.sweep(t0.Add(30*time.Minute), nil)
	if m.len() != 2 || !due("a").Equal(t0.Add(time.Hour)) || !due("b").Equal(t0.Add(time.Hour)) {
		t.Fatalf("len = %d, entries due at %v and %v before either is due; want 2, both at %v", m.len(), due("a"), due("b"), t0.Add(time.Hour))
	}
	m.sweep(t0.Add(90*time.Minute), nil)
	if m.len() != 1 || m.queue.n != 1 || !due("a").Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("len = %d, %d entries queued, a due at %v once both were due; want 1, 1, %v", m.len(), m.queue.n, due("a"), t0.Add(2*time.Hour))
	}
	if d, ok := m.get("a"); !ok || !d.at.Equal(t0.Add(time.Second)) {
		t.Fatalf("get = %v, %v; want the last record put", d, ok)
	}
	m.sweep(t0.Add(2*time.Hour), nil)
	if m.queue.n != 0 || m.len() != 0 {
		t.Errorf("%d entries queued for %d records once every record expired, want none", m.queue.n, m.len())
	}
}
