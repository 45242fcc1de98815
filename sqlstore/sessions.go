package sqlstore

import (
	"context"
	"time"

	"github.com/passauth/passauth"
)

// Sessions implements [passauth.SessionLister.Sessions]: the subject's
// sessions that are neither revoked, expired nor denied (by a denial of the
// session, or of the subject at or after the session's login, as
// TokenIssuer.RevokeSubject records), those kept longest first, at most
// 1000 of them, in one query that reads the subject's rows by their
// primary key. Expiry is judged by time.Now.
func (s *Store) Sessions(ctx context.Context, subject string) ([]passauth.SessionInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, wrap("sessions", err)
	}
	var live []passauth.SessionInfo
	err := s.retry(ctx, func() error {
		live = live[:0]
		rows, err := s.db.QueryContext(ctx, s.q.sessions, subject, nanos(time.Now()))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				info                   passauth.SessionInfo
				created, used, expires int64
			)
			if err := rows.Scan(&info.ID, &info.ClientID, &created, &used, &expires); err != nil {
				return err
			}
			info.Created, info.LastUsed, info.Expires = time.Unix(0, created), time.Unix(0, used), time.Unix(0, expires)
			live = append(live, info)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("sessions", err)
	}
	return live, nil
}
