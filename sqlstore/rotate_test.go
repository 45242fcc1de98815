package sqlstore_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/sqlstore"
)

// TestRefreshConcurrent presents one refresh token 50 times at once to two
// issuers, as two replicas of a service, each with its own connection pool
// on one database: exactly one refresh succeeds, every other one fails as
// reuse or as revoked (never as a store failure), and the winner's new
// token is refused too, since the reuse revoked the session.
func TestRefreshConcurrent(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		const callers = 50
		d := newTestDB(t, b)
		// The race detector slows the drivers down many times over, and
		// the first round opens 50 connections: more than the default
		// second for some calls, which this test is not about.
		patient := func(c *passauth.Config) { c.StoreTimeout = 30 * time.Second }
		issuers := []*passauth.TokenIssuer{newIssuer(t, d.store(t, d.DB), patient), newIssuer(t, d.store(t, d.another(t)), patient)}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		for round := range 3 {
			p, err := issuers[0].IssuePair(ctx, "user-"+rand.Text())
			require.NoError(t, err)

			pairs := make([]passauth.TokenPair, callers)
			errs := make([]error, callers)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					<-start
					pairs[i], errs[i] = issuers[i%2].Refresh(ctx, p.RefreshToken)
				})
			}
			close(start)
			wg.Wait()

			winner, reused := -1, 0
			for i, err := range errs {
				switch {
				case err == nil:
					require.Equal(t, -1, winner, "round %d: a second refresh succeeded", round)
					winner = i
				case errors.Is(err, passauth.ErrStoreUnavailable):
					t.Fatalf("round %d: refresh %d: %v", round, i, err)
				case errors.Is(err, passauth.ErrTokenReused):
					reused++
				default:
					require.ErrorIs(t, err, passauth.ErrTokenInvalid, "round %d: refresh %d", round, i)
				}
			}
			require.NotEqual(t, -1, winner, "round %d: no refresh succeeded", round)
			assert.Positive(t, reused, "round %d: no refresh was reported as reuse", round)
			_, err = issuers[(winner+1)%2].Refresh(ctx, pairs[winner].RefreshToken)
			require.ErrorIs(t, err, passauth.ErrTokenInvalid, "round %d: the winner's token after the reuse", round)
		}
	})
}

// TestStartOverExpired starts a family again under the name of one that
// has expired but not been swept: the new one replaces it.
func TestStartOverExpired(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, _ := newStore(t, b)
		sess, a, b2 := newTestSession(), rand.Text(), rand.Text()
		r := sess.rotation("", a)
		r.Expires, r.KeepUntil = time.Now().Add(-time.Second), time.Now().Add(-time.Second)
		rotate(t, s, r, passauth.RotateOK, "start, already expired")
		rotate(t, s, sess.rotation(a, rand.Text()), passauth.RotateRevoked, "the expired family")
		rotate(t, s, sess.rotation("", b2), passauth.RotateOK, "start over it")
		rotate(t, s, sess.rotation(b2, rand.Text()), passauth.RotateOK, "rotate the new one")
	})
}

// Across processes: the test binary runs itself as a child process (see
// TestMain) that opens its own pool on the database and rotates one token
// from several goroutines when told to.

const childEnv = "SQLSTORE_TEST_CHILD"

// childJob is what a child process is told, as JSON in childEnv.
type childJob struct {
	Dialect  sqlstore.Dialect
	Driver   string
	DSN      string
	Rotation passauth.Rotation
	Callers  int
}

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		os.Exit(runChild(job))
	}
	os.Exit(m.Run())
}

// runChild is a child process: it prints "ready", waits for a line on its
// standard input, runs the job's rotation from Callers goroutines at once,
// each with a new ID, and prints each result.
func runChild(job string) int {
	var j childJob
	if err := json.Unmarshal([]byte(job), &j); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	db, err := sql.Open(j.Driver, j.DSN)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	db.SetMaxIdleConns(j.Callers)
	s, err := sqlstore.New(db, j.Dialect)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Connect before the start, so that the rotations start together.
	if err := db.PingContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	results := make([]string, j.Callers)
	var wg sync.WaitGroup
	for i := range j.Callers {
		wg.Go(func() {
			r := j.Rotation
			r.NewID = rand.Text()
			res, err := s.Rotate(ctx, r)
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			results[i] = res.Result.String()
		})
	}
	wg.Wait()
	for _, r := range results {
		fmt.Println(r)
	}
	return 0
}

// TestRotateAcrossProcesses rotates one token from 5 processes at once, 10
// goroutines each: exactly one rotation succeeds, and the others are reuse
// or revoked.
func TestRotateAcrossProcesses(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		const processes, callers = 5, 10
		s, d := newStore(t, b)
		sess, old := newTestSession(), rand.Text()
		rotate(t, s, sess.rotation("", old), passauth.RotateOK, "start")
		job, err := json.Marshal(childJob{Dialect: d.dialect, Driver: d.driver, DSN: d.dsn, Rotation: sess.rotation(old, ""), Callers: callers})
		require.NoError(t, err)

		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		type child struct {
			cmd   *exec.Cmd
			stdin io.WriteCloser
			out   *bufio.Scanner
		}
		children := make([]child, processes)
		for i := range children {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+string(job))
			cmd.Stderr = os.Stderr
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Wait() })
			children[i] = child{cmd, stdin, bufio.NewScanner(stdout)}
		}
		for i, c := range children {
			require.True(t, c.out.Scan(), "child %d ended before it was ready", i)
			require.Equal(t, "ready", c.out.Text(), "child %d", i)
		}
		for _, c := range children {
			_, err := io.WriteString(c.stdin, "go\n")
			require.NoError(t, err)
			require.NoError(t, c.stdin.Close())
		}
		counts := map[string]int{}
		for i, c := range children {
			for c.out.Scan() {
				counts[c.out.Text()]++
			}
			require.NoError(t, c.cmd.Wait(), "child %d", i)
		}
		require.Equal(t, 1, counts["ok"], "results of %d rotations of one token in %d processes: %v", processes*callers, processes, counts)
		require.Positive(t, counts["reused"], "results: %v", counts)
		require.Equal(t, processes*callers, counts["ok"]+counts["reused"]+counts["revoked"], "results: %v", counts)
	})
}
