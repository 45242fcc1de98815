package passauth

import (
	"strconv"
	"testing"
	"time"
)

// TestMemoryStoreCallsSweepFewRecords checks what the black-box tests can
// only see as drops of Len: however many records the store holds, no call
// takes more than sweepBatch entries of either map's queue, so that none
// holds the lock for work in proportion to the records; and reads take
// none.
func TestMemoryStoreCallsSweepFewRecords(t *testing.T) {
	t.Parallel()
	const n = 100_000 // records of each kind
	ctx := t.Context()
	s := NewMemoryStore()
	later := time.Now().Add(time.Hour)
	most := 0
	call := func(f func() error) {
		t.Helper()
		maps := []*sweepQueue{&s.families.queue, &s.subjects.queue, &s.sessions.queue, &s.tokens.queue}
		before := make([]uint64, len(maps))
		for i, q := range maps {
			before[i] = q.popped
		}
		if err := f(); err != nil {
			t.Fatal(err)
		}
		for i, q := range maps {
			most = max(most, int(q.popped-before[i]))
		}
	}
	rotation := func(id, oldID, newID string) Rotation {
		return Rotation{Subject: "subject-" + id, Family: "family-" + id, OldID: oldID, NewID: newID,
			Now: time.Now(), Expires: later, KeepUntil: later, DenyUntil: later}
	}
	for i := range n {
		id := strconv.Itoa(i)
		call(func() error { _, err := s.Rotate(ctx, rotation(id, "", "jti-0")); return err })
		call(func() error {
			return s.Deny(ctx, Denial{Subject: "subject-" + id, Token: "key-" + id, At: later, Expires: later})
		})
		call(func() error { return s.Deny(ctx, Denial{Subject: "subject-" + id, At: later, Expires: later}) })
	}
	for i := range n {
		id := strconv.Itoa(i)
		call(func() error { _, err := s.Rotate(ctx, rotation(id, "jti-0", "jti-1")); return err })
		call(func() error {
			return s.RevokeSession(ctx, Denial{Subject: "subject-" + id, Session: "family-" + id, At: later, Expires: later})
		})
	}
	if most != sweepBatch {
		t.Errorf("a write call took up to %d entries of a map's queue, want %d", most, sweepBatch)
	}

	most = 0
	call(func() error {
		_, _, err := s.Denied(ctx, DenyQuery{Subject: "subject-0", Session: "family-0", Token: "key-0"})
		return err
	})
	call(func() error { _ = s.Len(); return nil })
	if most != 0 {
		t.Errorf("a read call took %d entries of a map's queue, want none", most)
	}
}
