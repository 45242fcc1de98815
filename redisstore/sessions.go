package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/passauth/passauth"
	"github.com/redis/go-redis/v9"
)

// Sessions implements [passauth.SessionLister.Sessions]: the subject's
// live sessions, those kept longest first, at most 1000 of them. It reads
// the subject's sorted set of sessions and, in a second round trip, their
// families and denials (all on the subject's hash slot, so one server). It
// leaves out the sessions revoked, gone, whose current refresh token has
// expired, or denied (a denial of the session, or of the subject at or
// after the session's login), as Rotate would refuse them; it drops from
// the set those gone or revoked, in a third round trip when there are any,
// and up to 1000 entries past their time, in the second. Those clean-ups
// are best effort: their failure does not fail the call. It never waits
// for replicas.
//
// Time is read from time.Now, against the expiry times passauth gave the
// families: a session that expires within the clock difference between
// this process and Redis may be left out.
func (s *Store) Sessions(ctx context.Context, subject string) ([]passauth.SessionInfo, error) {
	k := s.keysOf(subject)
	set := k.sessions()
	nowMs := strconv.FormatInt(time.Now().UnixMilli(), 10)
	pipe := s.client.Pipeline()
	liveCmd := pipe.ZRevRangeByScore(ctx, set, &redis.ZRangeBy{Max: "+inf", Min: "(" + nowMs, Count: maxListed})
	pastCmd := pipe.ZRangeByScore(ctx, set, &redis.ZRangeBy{Min: "-inf", Max: nowMs, Count: maxListed})
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("sessions", err)
	}
	ids, past := liveCmd.Val(), pastCmd.Val()
	if len(ids) == 0 {
		if len(past) > 0 {
			_ = s.client.ZRem(ctx, set, members(past)...).Err()
		}
		return nil, nil
	}

	pipe = s.client.Pipeline()
	fams := make([]*redis.SliceCmd, len(ids))
	denials := make([]string, len(ids))
	for i, id := range ids {
		fams[i] = pipe.HMGet(ctx, k.family(id), "cur", "exp", "cli", "auth", "used", "rev")
		denials[i] = k.sessionDenial(id)
	}
	subjectCmd := pipe.MGet(ctx, k.subjectDenial())
	sessionsCmd := pipe.MGet(ctx, denials...)
	if len(past) > 0 {
		pipe.ZRem(ctx, set, members(past)...)
	}
	// Each command carries its own error; the clean-up's is ignored.
	_, _ = pipe.Exec(ctx)
	subjectDenied, err := subjectCmd.Result()
	if err != nil {
		return nil, wrap("sessions", err)
	}
	var deniedAt time.Time
	if subjectDenied[0] != nil {
		if deniedAt, err = parseNanos(subjectDenied[0]); err != nil {
			return nil, wrap("sessions", err)
		}
	}
	sessionDenied, err := sessionsCmd.Result()
	if err != nil {
		return nil, wrap("sessions", err)
	}

	now := time.Now()
	var (
		live []passauth.SessionInfo
		gone []string
	)
	for i, c := range fams {
		v, err := c.Result()
		if err != nil {
			return nil, wrap("sessions", err)
		}
		if v[0] == nil || v[5] == "1" {
			gone = append(gone, ids[i])
			continue
		}
		info, err := sessionInfo(ids[i], v)
		if err != nil {
			return nil, wrap("sessions", err)
		}
		if !now.Before(info.Expires) || sessionDenied[i] != nil || (subjectDenied[0] != nil && !info.Created.After(deniedAt)) {
			continue // refused by Rotate, though kept for now
		}
		live = append(live, info)
	}
	if len(gone) > 0 {
		_ = s.client.ZRem(ctx, set, members(gone)...).Err()
	}
	return live, nil
}

// maxListed is the most sessions Sessions returns, and the most families
// past their time it drops from the sorted set in one call.
const maxListed = 1000

// sessionInfo reads the fields cur, exp, cli, auth and used of family id.
func sessionInfo(id string, v []any) (passauth.SessionInfo, error) {
	info := passauth.SessionInfo{ID: id}
	info.ClientID, _ = v[2].(string)
	var err error
	for _, f := range []struct {
		t *time.Time
		v any
	}{{&info.Expires, v[1]}, {&info.Created, v[3]}, {&info.LastUsed, v[4]}} {
		if *f.t, err = parseNanos(f.v); err != nil {
			return passauth.SessionInfo{}, err
		}
	}
	return info, nil
}

// members returns names as the members of a ZREM.
func members(names []string) []any {
	m := make([]any, len(names))
	for i, n := range names {
		m[i] = n
	}
	return m
}
