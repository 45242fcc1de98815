//go:build unix

package redisstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/passauth/passauth/storetest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowCluster lengthens the I/O timeouts of a cluster client, for the tests
// whose writes with WithReplicas must succeed on a loaded machine.
func slowCluster(o *redis.ClusterOptions) {
	o.ReadTimeout, o.WriteTimeout = slowIOTimeout, slowIOTimeout
}

func TestClusterConformance(t *testing.T) {
	c := newClusterClient(t, slowCluster)
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []redisstore.Option
	}{
		{"default", nil},
		{"WithReplicas", []redisstore.Option{redisstore.WithReplicas(1, slowWait)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t.Run("Store", func(t *testing.T) {
				storetest.TestStore(t, func(t *testing.T) passauth.Store {
					return redisstore.New(c, append(tc.opts, redisstore.WithPrefix(clusterPrefix(t, c)))...)
				})
			})
			t.Run("Limiter", func(t *testing.T) {
				storetest.TestLimiter(t, func(t *testing.T, limit passauth.Limit) passauth.Limiter {
					return redisstore.NewLimiter(c, limit, append(tc.opts, redisstore.WithPrefix(clusterPrefix(t, c)))...)
				})
			})
		})
	}
}

// TestClusterKeyLayout checks the keys a real issuer leaves in a cluster
// against the documented layout, with the slots of CLUSTER KEYSLOT: every
// key of one subject on one slot, so on one master. It also checks that the
// slots hashSlot computes for TestKeyLayout are the cluster's.
func TestClusterKeyLayout(t *testing.T) {
	c := newClusterClient(t, nil)
	t.Parallel()
	prefix := clusterPrefix(t, c)
	checkKeyLayout(t, c, prefix, func() []string {
		var mu sync.Mutex
		var keys []string
		require.NoError(t, c.ForEachMaster(t.Context(), func(ctx context.Context, m *redis.Client) error {
			k, err := m.Keys(ctx, prefix+"*").Result()
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, k...)
			return err
		}))
		return keys
	}, func(key string) int64 {
		slot, err := c.ClusterKeySlot(t.Context(), key).Result()
		require.NoError(t, err)
		assert.Equal(t, slot, hashSlot(key), "CLUSTER KEYSLOT and hashSlot of %s", key)
		return slot
	})
}

// TestClusterSessions runs the Sessions checks on the cluster: a subject's
// sorted set and families are on one slot, read in one pipeline.
func TestClusterSessions(t *testing.T) {
	c := newClusterClient(t, nil)
	t.Parallel()
	testSessions(t, c, clusterPrefix(t, c))
}

// TestClusterCheckServer checks CheckServer on a cluster client: it asks
// every node, replicas included (each may become a master), refuses a node
// with an evicting policy, naming it, and refuses a client that reads from
// replicas. It changes a node's configuration, so it does not run in
// parallel, and puts it back.
func TestClusterCheckServer(t *testing.T) {
	addrs := clusterAddrs(t)
	c := newClusterClient(t, nil)
	warnings, err := redisstore.CheckServer(t.Context(), c, redisstore.WithReplicas(1, recWait))
	require.NoError(t, err)
	assert.Len(t, warnings, len(addrs), "one warning per node: no persistence")
	assertWarning(t, warnings, "no persistence")

	node := redis.NewClient(recommendedOptions(addrs[len(addrs)-1]))
	t.Cleanup(func() { _ = node.Close() })
	require.NoError(t, node.ConfigSet(t.Context(), "maxmemory-policy", "volatile-lru").Err())
	t.Cleanup(func() { _ = node.ConfigSet(context.Background(), "maxmemory-policy", "noeviction").Err() })
	_, err = redisstore.CheckServer(t.Context(), c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), addrs[len(addrs)-1]+": maxmemory-policy is volatile-lru")
	assert.Equal(t, 1, strings.Count(err.Error(), "maxmemory-policy is"), "only that node")

	for _, edit := range []func(*redis.ClusterOptions){
		func(o *redis.ClusterOptions) { o.ReadOnly = true },
		func(o *redis.ClusterOptions) { o.RouteByLatency = true },
		func(o *redis.ClusterOptions) { o.RouteRandomly = true },
		func(o *redis.ClusterOptions) { o.ContextTimeoutEnabled = false },
	} {
		_, err := redisstore.CheckServer(t.Context(), newClusterClient(t, edit))
		require.Error(t, err)
	}
}

// TestClusterReplicaStopped stops the replica of a master (SIGSTOP) and
// checks that every write with WithReplicas to that master's keys fails
// closed, while writes to other masters and writes without WithReplicas go
// on, and that once the replica is back the same writes succeed.
func TestClusterReplicaStopped(t *testing.T) {
	clusterDir(t)
	c := newClusterClient(t, nil)
	prefix := clusterPrefix(t, c)
	opts := []redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithReplicas(1, recWait)}
	s := redisstore.New(c, opts...)
	l := redisstore.NewLimiter(c, passauth.Limit{Burst: 5, Interval: time.Hour}, opts...)
	limKey := func(k string) string { return redisstore.LimiterKey(prefix, k) }
	later := time.Now().Add(time.Hour)

	// Every record of a subject is on its master.
	sess := newTestSession()
	master := masterOf(t, c, keysFor(prefix, sess.subject).sessions())
	user := "user:" + nameOn(t, c, master, func(n string) string { return limKey("user:" + n) })
	other := newTestSession()
	for masterOf(t, c, keysFor(prefix, other.subject).sessions()).addr == master.addr {
		other = newTestSession()
	}
	denial := passauth.Denial{Subject: sess.subject, Token: rand.Text(), At: time.Now(), Expires: later}

	resume := master.replica(t).pause(t)
	for _, op := range []storeOp{
		{"Rotate", func(ctx context.Context) error { _, err := s.Rotate(ctx, sess.rotation("", "id0")); return err }},
		{"RevokeSession", func(ctx context.Context) error {
			return s.RevokeSession(ctx, passauth.Denial{Subject: sess.subject, Session: sess.family, At: later, Expires: later})
		}},
		{"Deny", func(ctx context.Context) error { return s.Deny(ctx, denial) }},
		{"Allow", func(ctx context.Context) error { _, err := l.Allow(ctx, user); return err }},
		{"Forgive", func(ctx context.Context) error { return l.Forgive(ctx, user) }},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := op.call(ctx)
		cancel()
		require.ErrorIs(t, err, redisstore.ErrNotReplicated, op.name)
		require.ErrorIs(t, err, passauth.ErrStoreUnavailable, op.name)
	}
	rotate(t, s, other.rotation("", "id0"), passauth.RotateOK, "a write to another master")
	require.NoError(t, redisstore.New(c, redisstore.WithPrefix(prefix)).Deny(t.Context(), denial), "a write without WithReplicas")

	resume()
	waitInSync(t, master.client, 1)
	slow := newClusterClient(t, slowCluster)
	slowOpts := []redisstore.Option{redisstore.WithPrefix(prefix), redisstore.WithReplicas(1, slowWait)}
	require.NoError(t, redisstore.New(slow, slowOpts...).Deny(t.Context(), denial))
	_, err := redisstore.NewLimiter(slow, passauth.Limit{Burst: 5, Interval: time.Hour}, slowOpts...).Allow(t.Context(), user)
	require.NoError(t, err)
}

// TestClusterFailover kills a master right after writes to it and promotes
// its replica. Without WithReplicas, writes its replica had not received
// are lost: a consumed refresh token is current again, a logged-out session
// live again, a revocation gone and a failed login uncounted. With
// WithReplicas, every write reported as done survives: the consumed token
// is still reuse, the logged-out session still revoked, the revoked access
// token and subject still denied, the throttled key still throttled. Each
// time, a client with the recommended settings (ClusterStateReloadInterval
// 1s) reaches the new master, and once the killed node is back as a
// replica, writes with WithReplicas succeed again, also through a client
// whose slot map is stale (a MOVED answer).
func TestClusterFailover(t *testing.T) {
	clusterDir(t)
	c := newClusterClient(t, nil)
	prefix := clusterPrefix(t, c)
	plain := redisstore.New(c, redisstore.WithPrefix(prefix))
	limKey := func(k string) string { return redisstore.LimiterKey(prefix, k) }
	later := time.Now().Add(time.Hour)
	// sameSubject returns another session of the subject of s: its records
	// are on the same slot.
	sameSubject := func(s testSession) testSession {
		s.family = rand.Text()
		return s
	}

	t.Run("without WithReplicas, writes are lost", func(t *testing.T) {
		sess := newTestSession()
		master := masterOf(t, c, keysFor(prefix, sess.subject).sessions())
		replica := master.replica(t)
		loggedOut := sameSubject(sess)
		revoked := passauth.Denial{Subject: sess.subject, Token: rand.Text(), At: time.Now(), Expires: later}
		user := "user:" + nameOn(t, c, master, func(n string) string { return limKey("user:" + n) })
		limit := passauth.Limit{Burst: 1, Interval: time.Hour}
		l := redisstore.NewLimiter(c, limit, redisstore.WithPrefix(prefix))
		for _, s := range []testSession{sess, loggedOut} {
			rotate(t, plain, s.rotation("", "id0"), passauth.RotateOK, "start")
		}
		waitInSync(t, master.client, 1)

		// The replica receives nothing more: stopped, and its link closed
		// by the master, which then takes four writes and dies.
		resume := replica.pause(t)
		require.NoError(t, master.client.ClientKillByFilter(t.Context(), "TYPE", "replica").Err())
		rotate(t, plain, sess.rotation("id0", "id1"), passauth.RotateOK, "rotation")
		require.NoError(t, plain.RevokeSession(t.Context(), passauth.Denial{Subject: sess.subject, Session: loggedOut.family, At: later, Expires: later}), "logout")
		require.NoError(t, plain.Deny(t.Context(), revoked), "revocation")
		wait, err := l.Allow(t.Context(), user)
		require.NoError(t, err)
		require.Zero(t, wait, "failed login counted")
		restart := master.kill(t)
		resume()
		replica.takeOver(t)

		q := passauth.DenyQuery{Subject: sess.subject, Session: loggedOut.family, Token: revoked.Token}
		took := reach(t, "Denied on the new master", time.Second, func(ctx context.Context) error {
			_, _, err := plain.Denied(ctx, q)
			return err
		})
		t.Logf("the client reached the new master %v after the takeover", took)
		_, found, err := plain.Denied(t.Context(), q)
		require.NoError(t, err)
		assert.False(t, found, "the revocation and the logout's denial survived, though their master died before replicating them")
		rotate(t, plain, sess.rotation("id0", rand.Text()), passauth.RotateOK, "the consumed refresh token is current again")
		rotate(t, plain, loggedOut.rotation("id0", rand.Text()), passauth.RotateOK, "the logged-out session is live again")
		wait, err = l.Allow(t.Context(), user)
		require.NoError(t, err)
		assert.Zero(t, wait, "the counted failure is forgotten")

		restart()
		waitInSync(t, replica.client, 1)
	})

	t.Run("with WithReplicas, confirmed writes survive", func(t *testing.T) {
		// A second client, whose slot map is loaded now and kept for a
		// minute: after the failover it sends writes to the old master.
		stale := newClusterClient(t, func(o *redis.ClusterOptions) {
			slowCluster(o)
			o.ClusterStateReloadInterval = time.Hour
		})
		// The writes wait longer than recommended, for loaded machines; the
		// reads that find the new master go through c.
		slow := newClusterClient(t, slowCluster)
		opt := redisstore.WithReplicas(1, slowWait)
		s := redisstore.New(slow, redisstore.WithPrefix(prefix), opt)
		limit := passauth.Limit{Burst: 2, Interval: time.Hour}
		l := redisstore.NewLimiter(slow, limit, redisstore.WithPrefix(prefix), opt)

		sess := newTestSession()
		master := masterOf(t, c, keysFor(prefix, sess.subject).sessions())
		require.Equal(t, master.addr, masterOf(t, stale, keysFor(prefix, sess.subject).sessions()).addr)
		replica := master.replica(t)
		w := confirmedWrites{
			sess: sess, loggedOut: sameSubject(sess),
			token: passauth.Denial{Subject: sess.subject, Token: rand.Text(), At: time.Now(), Expires: later},
			subject: passauth.Denial{
				Subject: nameOn(t, c, master, func(n string) string { return keysFor(prefix, n).denySub() }),
				At:      time.Now(), Expires: later,
			},
			user:  "user:" + nameOn(t, c, master, func(n string) string { return limKey("user:" + n) }),
			limit: limit,
		}
		spare := passauth.Denial{Subject: sess.subject, Token: rand.Text(), At: time.Now(), Expires: later}
		w.write(t, s, l)
		restart := master.kill(t)
		replica.takeOver(t)

		took := reach(t, "Denied on the new master", time.Second, func(ctx context.Context) error {
			_, _, err := plain.Denied(ctx, passauth.DenyQuery{Subject: sess.subject, Token: w.token.Token})
			return err
		})
		t.Logf("the client reached the new master %v after the takeover", took)
		w.survived(t, plain, redisstore.NewLimiter(c, limit, redisstore.WithPrefix(prefix)))
		// A write with WithReplicas fails too while the client's slot map
		// names the dead master; then it fails for want of a replica, as
		// the new master has none yet.
		reach(t, "a write with no replica left", 3*slowIOTimeout, func(ctx context.Context) error {
			err := s.Deny(ctx, spare)
			if errors.Is(err, redisstore.ErrNotReplicated) {
				return nil
			}
			if err == nil {
				return errors.New("a write with no replica left was confirmed")
			}
			return err
		})

		restart()
		waitInSync(t, replica.client, 1)
		require.NoError(t, s.Deny(t.Context(), w.token), "a write once the old master is back as a replica")
		staleStore := redisstore.New(stale, redisstore.WithPrefix(prefix), opt)
		require.NoError(t, staleStore.Deny(t.Context(), w.subject), "a write through a stale slot map")
	})
}
