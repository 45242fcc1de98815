//go:build unix

package redisstore_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// redisServer is a redis-server process of one test, on a free loopback
// port, with persistence off unless the test's arguments turn it on. It is
// killed when the test ends. Tests start their own server when they change
// its configuration, fill its memory, flush it or stop it, which the shared
// server of scripts/with-redis.sh must not see.
type redisServer struct {
	t    *testing.T
	addr string
	dir  string
	args []string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startRedis starts a redis-server with args appended to its command line,
// and waits until it answers. It skips the test when redis-server is not
// installed (scripts/test.sh installs it).
func startRedis(t *testing.T, args ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: ./scripts/test.sh installs it")
	}
	s := &redisServer{t: t, dir: t.TempDir()}
	// Another process may take the port between freePort and the bind: try
	// a few.
	for range 3 {
		s.addr = freePort(t)
		_, port, _ := net.SplitHostPort(s.addr)
		s.args = append([]string{
			"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--repl-diskless-sync-delay", "0", "--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"),
		}, args...)
		if s.start(bin) {
			t.Cleanup(s.kill)
			return s
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	t.Fatalf("redis-server did not start; its log:\n%s", log)
	return nil
}

// start runs redis-server with s.args and reports whether it answered
// within 10 seconds.
func (s *redisServer) start(bin string) bool {
	s.cmd = exec.Command(bin, s.args...)
	setPdeathsig(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(s.cmd, s.done)

	c := redis.NewClient(&redis.Options{Addr: s.addr, DialTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return true
		}
		select {
		case <-s.done:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.kill()
	return false
}

// kill kills the server at once (SIGKILL: no shutdown, no final save) and
// waits for it to exit.
func (s *redisServer) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // in case the test stopped it
	_ = s.cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("redis-server on %s did not exit", s.addr)
	}
}

// restart kills the server and starts it again with the same port,
// arguments and working directory, as a crash and a restart would.
func (s *redisServer) restart() {
	s.t.Helper()
	s.kill()
	if !s.start(s.cmd.Path) {
		s.t.Fatalf("redis-server on %s did not start again", s.addr)
	}
}

// pause stops the server's process (SIGSTOP), so that it neither answers
// nor replicates, until the returned function or the end of the test
// resumes it.
func (s *redisServer) pause() (resume func()) {
	require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGSTOP))
	resume = func() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }
	s.t.Cleanup(resume)
	return resume
}

// client returns a client of the server, closed when the test ends.
func (s *redisServer) client() *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:                  s.addr,
		DialTimeout:           5 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		ContextTimeoutEnabled: true,
	})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// port returns the server's port as a string.
func (s *redisServer) port() string {
	_, port, _ := net.SplitHostPort(s.addr)
	return port
}

// freePort returns a loopback address nothing listens on.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// infoValue returns a field of the text of INFO.
func infoValue(t *testing.T, info, field string) string {
	t.Helper()
	v, ok := infoField(info, field)
	if !ok {
		t.Fatalf("INFO has no %s", field)
	}
	return v
}

// infoField returns a field of the text of INFO, and whether it has it.
func infoField(info, field string) (string, bool) {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
