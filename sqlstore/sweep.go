package sqlstore

import (
	"context"
	"errors"
	"time"
)

// Sweep deletes at most batch of the rows that have expired, families
// first and then denials, and returns how many it deleted. Nothing else
// deletes rows: an expired row is never reported (every statement compares
// expiry times with the time), but it stays in the table until a Sweep.
// The application runs it from time to time, for example every minute, and
// again at once while it returns batch (there may be more); see the
// package documentation.
//
// Each table is swept by one DELETE of at most the remaining batch rows,
// those that expired first, so that a call takes a bounded time however
// many rows have expired. On PostgreSQL it skips rows that another
// transaction has locked (FOR UPDATE SKIP LOCKED), so that it never waits
// for a rotation, and sweeps running at once on several replicas delete
// different rows. Expiry is judged by time.Now.
//
// Sweep fails if batch is less than 1.
func (s *Store) Sweep(ctx context.Context, batch int) (deleted int, err error) {
	if batch < 1 {
		return 0, errors.New("sqlstore: Sweep: batch must be at least 1")
	}
	if err := ctx.Err(); err != nil {
		return 0, wrap("sweep", err)
	}
	now := nanos(time.Now())
	for _, q := range []string{s.q.sweepFamilies, s.q.sweepDenials} {
		if deleted >= batch {
			break
		}
		var n int64
		err := s.retry(ctx, func() error {
			res, err := s.db.ExecContext(ctx, q, now, batch-deleted)
			if err == nil {
				n, err = res.RowsAffected()
			}
			return err
		})
		if err != nil {
			return deleted, wrap("sweep", err)
		}
		deleted += int(n)
	}
	return deleted, nil
}
