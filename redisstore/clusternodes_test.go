//go:build unix

package redisstore_test

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// clusterDir returns the directory of the throwaway cluster that
// scripts/with-redis-cluster.sh started on this machine, or skips the test:
// the tests that stop, kill and restart nodes run only on that cluster.
func clusterDir(t *testing.T) string {
	t.Helper()
	clusterAddrs(t)
	dir := os.Getenv("PASSAUTH_REDIS_CLUSTER_DIR")
	if dir == "" {
		t.Skip("these tests stop and kill nodes: they need the throwaway cluster of ./scripts/with-redis-cluster.sh")
	}
	return dir
}

// clusterNode is one node of the throwaway cluster.
type clusterNode struct {
	addr   string
	client *redis.Client
}

// node returns a client of the node at addr, closed when the test ends.
func node(t *testing.T, addr string) clusterNode {
	c := redis.NewClient(recommendedOptions(addr))
	t.Cleanup(func() { _ = c.Close() })
	return clusterNode{addr: addr, client: c}
}

// pid returns the node's process ID.
func (n clusterNode) pid(t *testing.T) int {
	t.Helper()
	info, err := n.client.Info(t.Context(), "server").Result()
	require.NoError(t, err)
	pid, err := strconv.Atoi(infoValue(t, info, "process_id"))
	require.NoError(t, err)
	return pid
}

// replica returns the only replica of the master n.
func (n clusterNode) replica(t *testing.T) clusterNode {
	t.Helper()
	info, err := n.client.Info(t.Context(), "replication").Result()
	require.NoError(t, err)
	require.Equal(t, "1", infoValue(t, info, "connected_slaves"), "replicas of %s", n.addr)
	var ip, port string
	for field := range strings.SplitSeq(infoValue(t, info, "slave0"), ",") {
		if v, ok := strings.CutPrefix(field, "ip="); ok {
			ip = v
		}
		if v, ok := strings.CutPrefix(field, "port="); ok {
			port = v
		}
	}
	return node(t, ip+":"+port)
}

// pause stops the node's process until the returned function or the end of
// the test resumes it.
func (n clusterNode) pause(t *testing.T) (resume func()) {
	pid := n.pid(t)
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	resume = func() { _ = syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(resume)
	return resume
}

// kill kills the node's process at once (SIGKILL), and returns the
// function that starts it again; if the test ends first, the node is
// started again then, so that the other tests find the cluster whole.
func (n clusterNode) kill(t *testing.T) (restart func()) {
	t.Helper()
	require.NoError(t, syscall.Kill(n.pid(t), syscall.SIGKILL))
	var once sync.Once
	restart = func() { once.Do(func() { n.start(t) }) }
	t.Cleanup(restart)
	return restart
}

// start starts the killed node again from its configuration in the
// cluster's directory, and waits until it has rejoined as a replica of the
// node that took over, is in sync with it, and no node lists it as a
// master any more. The script's teardown stops it through its pid file.
func (n clusterNode) start(t *testing.T) {
	t.Helper()
	_, port, _ := strings.Cut(n.addr, ":")
	cmd := exec.Command("redis-server", filepath.Join(clusterDir(t), port, "redis.conf"))
	if err := cmd.Start(); err != nil {
		t.Errorf("starting %s again: %v", n.addr, err)
		return
	}
	go func() { _ = cmd.Wait() }()
	ctx := context.Background() // also from a cleanup, after the test's context is done
	var master string
	for range 300 {
		info, err := n.client.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up") &&
			strings.Contains(info, "master_sync_in_progress:0") {
			host, _ := infoField(info, "master_host")
			p, _ := infoField(info, "master_port")
			master = host + ":" + p
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if master == "" {
		t.Errorf("%s did not rejoin as a replica", n.addr)
		return
	}
	for _, addr := range clusterAddrs(t) {
		other := node(t, addr)
		for i := 0; ; i++ {
			shards, err := other.client.ClusterShards(ctx).Result()
			if err == nil && !slices.ContainsFunc(shards, func(s redis.ClusterShard) bool {
				return slices.ContainsFunc(s.Nodes, func(sn redis.Node) bool {
					return sn.Role == "master" && sn.IP+":"+strconv.FormatInt(sn.Port, 10) == n.addr
				})
			}) {
				break
			}
			if i == 100 {
				t.Errorf("%s still lists %s as a master", addr, n.addr)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// takeOver makes the replica n its master's master at once (CLUSTER
// FAILOVER TAKEOVER), without the agreement of the master, which the test
// has killed, and waits at most 10 seconds until n says it is a master.
func (n clusterNode) takeOver(t *testing.T) {
	t.Helper()
	require.NoError(t, n.client.Do(t.Context(), "cluster", "failover", "takeover").Err())
	for range 100 {
		if info, err := n.client.Info(t.Context(), "replication").Result(); err == nil && strings.Contains(info, "role:master") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not become a master", n.addr)
}

// masterOf returns the master of key's slot.
func masterOf(t *testing.T, c *redis.ClusterClient, key string) clusterNode {
	t.Helper()
	m, err := c.MasterForKey(t.Context(), key)
	require.NoError(t, err)
	return node(t, m.Options().Addr)
}

// nameOn returns a random name for which key(name) hashes to a slot that
// master serves.
func nameOn(t *testing.T, c *redis.ClusterClient, master clusterNode, key func(string) string) string {
	t.Helper()
	for range 1000 {
		name := rand.Text()
		if m, err := c.MasterForKey(t.Context(), key(name)); err == nil && m.Options().Addr == master.addr {
			return name
		}
	}
	seen := map[string]int{}
	for range 100 {
		m, err := c.MasterForKey(t.Context(), key(rand.Text()))
		if err != nil {
			seen[err.Error()]++
		} else {
			seen[m.Options().Addr]++
		}
	}
	t.Fatalf("no key found on %s; seen %v", master.addr, seen)
	return ""
}

// reach calls call, each time with a context of budget, until it succeeds,
// for at most 300 times, and returns how long that took.
func reach(t *testing.T, what string, budget time.Duration, call func(ctx context.Context) error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for range 300 {
		ctx, cancel := context.WithTimeout(t.Context(), budget)
		err = call(ctx)
		cancel()
		if err == nil {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %v: %v", what, time.Since(start), err)
	return 0
}
