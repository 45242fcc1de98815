package redisstore_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyLayout checks the keys a real issuer leaves in a single Redis
// server against the layout the package documents, with the hash slots
// computed as Redis Cluster does (TestClusterKeyLayout asks a cluster).
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	prefix := newPrefix(t, c)
	checkKeyLayout(t, c, prefix, func() []string {
		keys, err := c.Keys(t.Context(), prefix+"*").Result()
		require.NoError(t, err)
		return keys
	}, hashSlot)
}

// checkKeyLayout logs a user in, refreshes, replays the consumed token
// within the grace window, revokes the access token, logs out and revokes
// the subject, through an issuer on c under prefix, and checks each record
// against the documented layout: every key of the subject on one hash slot
// (as slot tells), every key expiring, no token, part of a token or
// subject stored. keys lists every key under prefix.
func checkKeyLayout(t *testing.T, c redis.UniversalClient, prefix string, keys func() []string, slot func(key string) int64) {
	ctx := t.Context()
	cfg := testConfig()
	cfg.Store = redisstore.New(c, redisstore.WithPrefix(prefix))
	cfg.RefreshGrace = 30 * time.Second
	iss, err := passauth.NewTokenIssuer(cfg)
	require.NoError(t, err)
	// Braces in a subject do not choose its slot: it is hashed.
	const subject = "{alice}@example.com"
	layout := keysFor(prefix, subject)
	var stored []string // every key, field, value and member seen
	hash := func(key string) map[string]string {
		t.Helper()
		assert.Equal(t, "hash", c.Type(ctx, key).Val(), "type of %s", key)
		h := c.HGetAll(ctx, key).Val()
		for f, v := range h {
			stored = append(stored, f, v)
		}
		return h
	}

	before := time.Now()
	login, err := iss.IssuePair(ctx, subject, passauth.WithClientID("app"))
	require.NoError(t, err)
	after := time.Now()
	rc, err := iss.VerifyRefresh(ctx, login.RefreshToken)
	require.NoError(t, err)
	fam := layout.fam(rc.SessionID)
	f := hash(fam)
	assert.Equal(t, []string{"auth", "cli", "cur", "exp", "used"}, slices.Sorted(maps.Keys(f)), "fields after the login")
	assert.Equal(t, rc.ID, f["cur"])
	assert.Equal(t, "app", f["cli"])
	assertNanos(t, f["exp"], rc.ExpiresAt.Add(-time.Second), rc.ExpiresAt.Add(time.Second), "exp")
	assertNanos(t, f["auth"], before, after, "auth")
	assertNanos(t, f["used"], before, after, "used")
	assertTTL(t, c, fam, cfg.RefreshTTL)

	// The subject's sessions: the family, scored by when it may go.
	assert.Equal(t, "zset", c.Type(ctx, layout.sessions()).Val())
	z := c.ZRangeWithScores(ctx, layout.sessions(), 0, -1).Val()
	require.Len(t, z, 1)
	assert.Equal(t, rc.SessionID, z[0].Member)
	stored = append(stored, rc.SessionID)
	keep := time.UnixMilli(int64(z[0].Score))
	assert.WithinDuration(t, rc.ExpiresAt, keep, time.Second, "score of the family")
	assertTTL(t, c, layout.sessions(), cfg.RefreshTTL)

	// A refresh, then the consumed token again within the grace window,
	// answered with the current one.
	refreshed, err := iss.Refresh(ctx, login.RefreshToken)
	require.NoError(t, err)
	rc2, err := iss.VerifyRefresh(ctx, refreshed.RefreshToken)
	require.NoError(t, err)
	require.Equal(t, rc.SessionID, rc2.SessionID)
	replayed, err := iss.Refresh(ctx, login.RefreshToken)
	require.NoError(t, err)
	rc3, err := iss.VerifyRefresh(ctx, replayed.RefreshToken)
	require.NoError(t, err)
	require.Equal(t, rc2.ID, rc3.ID, "the replay answers the current refresh token")
	f = hash(fam)
	assert.Equal(t, []string{"auth", "cli", "cur", "exp", "n", "prev", "repl", "used"}, slices.Sorted(maps.Keys(f)), "fields after a refresh and a replay")
	assert.Equal(t, rc2.ID, f["cur"])
	assert.Equal(t, rc.ID, f["prev"])
	assert.Equal(t, "1", f["n"], "replays")
	assertNanos(t, f["repl"], before, time.Now(), "repl")
	assertTTL(t, c, fam, cfg.RefreshTTL)
	stored = append(stored, c.ZRange(ctx, layout.sessions(), 0, -1).Val()...)

	// Revoke the access token, then the session, then the subject.
	ac, err := iss.VerifyAccess(ctx, refreshed.AccessToken)
	require.NoError(t, err)
	before = time.Now()
	require.NoError(t, iss.Revoke(ctx, refreshed.AccessToken))
	require.NoError(t, iss.Revoke(ctx, refreshed.RefreshToken))
	require.NoError(t, iss.RevokeSubject(ctx, subject))
	after = time.Now()

	assert.Equal(t, "1", hash(fam)["rev"], "family after the logout")
	assertTTL(t, c, fam, cfg.RefreshTTL)
	assert.Zero(t, c.Exists(ctx, layout.sessions()).Val(), "the sessions of the subject after its only one is revoked")
	// A token's and a session's denial hold their end as their time (they
	// refuse every token of theirs); a subject's holds the time of the
	// revocation (plus Config.Leeway, zero here).
	denials := map[string]struct {
		ttl      time.Duration
		from, to time.Time // the time held
	}{
		layout.denyJTI(ac.ID):        {cfg.AccessTTL, ac.ExpiresAt, ac.ExpiresAt},
		layout.denySID(rc.SessionID): {cfg.AccessTTL, before.Add(cfg.AccessTTL), after.Add(cfg.AccessTTL)},
		layout.denySub():             {cfg.RefreshTTL, before, after},
	}
	for key, want := range denials {
		assert.Equal(t, "string", c.Type(ctx, key).Val(), "type of %s", key)
		v := c.Get(ctx, key).Val()
		stored = append(stored, v)
		assertNanos(t, v, want.from, want.to, key)
		assertTTL(t, c, key, want.ttl)
	}

	// Nothing else is written; every key is on the subject's slot and
	// expires; no key, field, value or member holds a token, a part of one,
	// or the subject.
	all := keys()
	want := slices.Collect(maps.Keys(denials))
	assert.ElementsMatch(t, append(want, fam), all)
	for _, k := range all {
		assert.True(t, strings.HasPrefix(k, layout.base), "%s is not under the subject's hash tag", k)
		assert.Equal(t, slot(fam), slot(k), "slot of %s", k)
		assert.Positive(t, c.PTTL(ctx, k).Val(), "TTL of %s", k)
	}
	stored = append(stored, all...)
	for _, tok := range []string{login.AccessToken, login.RefreshToken, refreshed.AccessToken, refreshed.RefreshToken, replayed.RefreshToken} {
		for part := range strings.SplitSeq(tok, ".") {
			for _, s := range stored {
				assert.NotContains(t, s, part, "Redis holds part of a token")
			}
		}
	}
	for _, s := range stored {
		assert.NotContains(t, s, "alice", "Redis holds the subject")
	}
}

// assertNanos checks that v is a time in decimal Unix nanoseconds within
// [from, to].
func assertNanos(t *testing.T, v string, from, to time.Time, what string) {
	t.Helper()
	ns, err := strconv.ParseInt(v, 10, 64)
	if !assert.NoError(t, err, "%s is not decimal nanoseconds: %q", what, v) {
		return
	}
	at := time.Unix(0, ns)
	assert.False(t, at.Before(from) || at.After(to), "%s is %v, want %v to %v", what, at, from, to)
}

// assertTTL checks that key expires, no later than max from now.
func assertTTL(t *testing.T, c redis.UniversalClient, key string, max time.Duration) {
	t.Helper()
	ttl, err := c.PTTL(t.Context(), key).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 0 && ttl <= max+time.Millisecond, "TTL of %s is %v, want in (0, %v]", key, ttl, max)
}

// hashSlot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of
// its hash tag, the part between the first "{" and the first "}" after it
// when that is not empty, or else of the whole key, modulo 16384.
func hashSlot(key string) int64 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := range len(key) {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int64(crc % 16384)
}

// TestHashSlot checks hashSlot against the values of the Redis Cluster
// specification.
func TestHashSlot(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]int64{
		"123456789":               0x31C3 % 16384, // the CRC16 check value of the specification
		"foo":                     12182,
		"somekey":                 11058,
		"foo{hash_tag}":           2515,
		"{user1000}.following":    hashSlot("user1000"),
		"foo{{bar}}zap":           hashSlot("{bar"),
		"foo{bar}{zap}":           hashSlot("bar"),
		"passauth:{abc}:fam:{x}y": hashSlot("abc"),
	} {
		assert.Equal(t, want, hashSlot(key), "slot of %q", key)
	}
}

// anyUser is a UserLookup that finds every user, for the refresh endpoint's
// user check.
var anyUser = passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
	return passauth.User{Username: name}, true, nil
})
