//go:build unix

package redisstore_test

// Redis Sentinel: a failover client with the recommended settings, a master
// killed right after writes with WithReplicas, and the replica Sentinel
// promotes in its place.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
)

// sentinelMaster is the name the test's Sentinel knows its master by.
const sentinelMaster = "passauth-test"

// startSentinel starts a Sentinel (redis-server in sentinel mode) that
// watches master with a quorum of one and calls it down after 500 ms of
// silence, and waits until it knows master's replicas (n of them) and
// would promote one. It skips the test when redis-server is not installed.
func startSentinel(t *testing.T, master *redisServer, n int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: ./scripts/test.sh installs it")
	}
	s := &redisServer{t: t, dir: t.TempDir()}
	started := false
	for range 3 { // another process may take the port first
		s.addr = freePort(t)
		_, port, _ := net.SplitHostPort(s.addr)
		conf := filepath.Join(s.dir, "sentinel.conf") // Sentinel rewrites it
		require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, `port %s
bind 127.0.0.1
daemonize no
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %s 1
sentinel down-after-milliseconds %[4]s 500
sentinel failover-timeout %[4]s 10000
`, port, s.dir, filepath.Join(s.dir, "redis.log"), sentinelMaster, master.port()), 0o600))
		s.args = []string{conf, "--sentinel"}
		if started = s.start(bin); started {
			t.Cleanup(s.kill)
			break
		}
	}
	if !started {
		log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
		t.Fatalf("redis-server --sentinel did not start; its log:\n%s", log)
	}

	sc := redis.NewSentinelClient(&redis.Options{Addr: s.addr, DialTimeout: time.Second, ReadTimeout: time.Second})
	t.Cleanup(func() { _ = sc.Close() })
	var replicas []map[string]string
	for range 200 { // up to 20 s
		replicas, err = sc.Replicas(t.Context(), sentinelMaster).Result()
		ok := 0
		for _, r := range replicas {
			if r["flags"] == "slave" && r["master-link-status"] == "ok" {
				ok++
			}
		}
		if err == nil && ok == n {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Sentinel does not know %d replicas in sync: %v, %v", n, replicas, err)
	return nil
}

// sentinelMasterAddr returns the address Sentinel gives for the master.
func sentinelMasterAddr(t *testing.T, sentinel *redisServer) string {
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.addr, DialTimeout: time.Second, ReadTimeout: time.Second})
	defer sc.Close()
	addr, err := sc.GetMasterAddrByName(t.Context(), sentinelMaster).Result()
	if err != nil || len(addr) != 2 {
		return ""
	}
	return net.JoinHostPort(addr[0], addr[1])
}

// TestSentinelFailover kills the master of a pair that a Sentinel watches,
// right after writes through a failover client with WithReplicas, and lets
// Sentinel promote the replica. The client reaches the new master by
// itself, and every write reported as done survived (confirmedWrites).
// While the new master has no replica, writes with WithReplicas fail
// closed; once the killed master is back and Sentinel has made it a
// replica, they succeed again.
//
// The loss without WithReplicas is shown on a cluster (TestClusterFailover):
// it is Redis's asynchronous replication, whichever client promotes.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	master, replica := startPair(t)
	sentinel := startSentinel(t, master, 1)
	// The recommended settings, with the longer I/O timeouts of the tests
	// whose writes must succeed on a loaded machine.
	opts := recommendedFailoverOptions(sentinelMaster, []string{sentinel.addr})
	opts.ReadTimeout, opts.WriteTimeout = slowIOTimeout, slowIOTimeout
	c := redis.NewFailoverClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	prefix := "passauth-test:" + rand.Text() + ":"
	opt := redisstore.WithReplicas(1, slowWait)
	s := redisstore.New(c, redisstore.WithPrefix(prefix), opt)
	plain := redisstore.New(c, redisstore.WithPrefix(prefix))
	limit := passauth.Limit{Burst: 2, Interval: time.Hour}
	l := redisstore.NewLimiter(c, limit, redisstore.WithPrefix(prefix), opt)
	ctx := t.Context()
	later := time.Now().Add(time.Hour)

	sess := newTestSession()
	w := confirmedWrites{
		sess: sess, loggedOut: newTestSession(),
		token:   passauth.Denial{Subject: sess.subject, Token: rand.Text(), At: time.Now(), Expires: later},
		subject: passauth.Denial{Subject: rand.Text(), At: time.Now(), Expires: later},
		user:    "user:" + rand.Text(),
		limit:   limit,
	}
	w.write(t, s, l)

	killed := time.Now()
	master.kill()
	for sentinelMasterAddr(t, sentinel) != replica.addr {
		if time.Since(killed) > time.Minute { // a Sentinel stalled for 2 s waits 30 s in TILT mode
			t.Fatalf("Sentinel did not promote the replica within a minute (master: %q)", sentinelMasterAddr(t, sentinel))
		}
		time.Sleep(50 * time.Millisecond)
	}
	promoted := time.Since(killed)
	took := reach(t, "Denied on the new master", time.Second, func(ctx context.Context) error {
		_, _, err := plain.Denied(ctx, passauth.DenyQuery{Subject: sess.subject, Token: w.token.Token})
		return err
	})
	t.Logf("Sentinel promoted the replica %v after the kill; the client reached it %v later", promoted, took)
	w.survived(t, plain, redisstore.NewLimiter(c, limit, redisstore.WithPrefix(prefix)))

	spare := passauth.Denial{Subject: rand.Text(), Token: rand.Text(), At: time.Now(), Expires: later}
	err := s.Deny(ctx, spare)
	require.ErrorIs(t, err, redisstore.ErrNotReplicated, "a write while the new master has no replica")
	require.ErrorIs(t, err, passauth.ErrStoreUnavailable)

	// The killed master comes back empty, as a master, without persistence;
	// Sentinel makes it a replica of the new master (after some seconds),
	// and the client never sends it a command meanwhile.
	master.restart()
	back := time.Now()
	reach(t, "a write with WithReplicas once the old master is a replica", 3*slowIOTimeout, func(ctx context.Context) error {
		err := s.Deny(ctx, spare)
		if err != nil && !errors.Is(err, redisstore.ErrNotReplicated) {
			t.Fatalf("a write while the old master rejoins: %v", err)
		}
		return err
	})
	t.Logf("writes with WithReplicas succeeded again %v after the old master restarted", time.Since(back))
	_, found, err := plain.Denied(ctx, passauth.DenyQuery{Subject: sess.subject, Token: w.token.Token})
	require.NoError(t, err)
	assert.True(t, found, "the revocation, once the old master rejoined empty")
}
