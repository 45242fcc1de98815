package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/passauth/passauth"
	"github.com/redis/go-redis/v9"
)

// maxListed is the most sessions Sessions returns, and the most families
// past their time it drops from the sorted set in one call.
const maxListed = 1000

// Sessions implements [passauth.SessionLister.Sessions]: the subject's
// sessions neither revoked nor expired, those kept longest first, at most
// 1000 of them. It reads the subject's sorted set of sessions and, in a
// second round trip, their families (all on the subject's hash slot, so
// one server); families found gone or revoked are left out and dropped
// from the set, in a third round trip when there are any, as are up to
// 1000 entries past their time in the second. Those clean-ups are best
// effort: their failure does not fail the call. It never waits for
// replicas.
//
// Time is read from time.Now, against the expiry times passauth gave the
// families: a family that expires within the clock difference between
// this process and Redis may be left out.
func (s *Store) Sessions(ctx context.Context, subject string) ([]passauth.SessionInfo, error) {
	k := s.keysOf(subject)
	set := k.sessions()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	pipe := s.client.Pipeline()
	liveCmd := pipe.ZRevRangeByScore(ctx, set, &redis.ZRangeBy{Max: "+inf", Min: "(" + now, Count: maxListed})
	pastCmd := pipe.ZRangeByScore(ctx, set, &redis.ZRangeBy{Min: "-inf", Max: now, Count: maxListed})
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, wrap("sessions", err)
	}
	ids, past := liveCmd.Val(), pastCmd.Val()
	if len(ids) == 0 && len(past) == 0 {
		return nil, nil
	}

	pipe = s.client.Pipeline()
	fams := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		fams[i] = pipe.HMGet(ctx, k.family(id), "cur", "exp", "cli", "auth", "used", "rev")
	}
	if len(past) > 0 {
		pipe.ZRem(ctx, set, members(past)...)
	}
	// Each command carries its own error; the clean-up's is ignored.
	_, _ = pipe.Exec(ctx)

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
		live = append(live, info)
	}
	if len(gone) > 0 {
		_ = s.client.ZRem(ctx, set, members(gone)...).Err()
	}
	return live, nil
}

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
