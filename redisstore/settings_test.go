package redisstore_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/internal/nettest"
	"github.com/passauth/passauth/redisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The client settings the package documentation recommends, for the
// deadline of one second that passauth gives each store call by default:
// the context cuts every wait short, and each attempt's timeouts are short
// enough that a retry after a lost answer fits in the budget.
const (
	recDialTimeout = 500 * time.Millisecond
	recIOTimeout   = 400 * time.Millisecond // ReadTimeout and WriteTimeout
	recMaxRetries  = 2
	recReload      = time.Second // ClusterStateReloadInterval
	recWait        = 200 * time.Millisecond
)

// Longer timeouts, for the tests of WithReplicas whose writes must succeed
// even on a loaded machine, where a replica may take longer than recWait to
// acknowledge: what they test does not depend on the timeouts.
const (
	slowIOTimeout = 3 * time.Second
	slowWait      = time.Second
)

// slowly lengthens the I/O timeouts of opts to slowIOTimeout.
func slowly(opts *redis.Options) *redis.Options {
	opts.ReadTimeout, opts.WriteTimeout = slowIOTimeout, slowIOTimeout
	return opts
}

func recommendedOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           recDialTimeout,
		ReadTimeout:           recIOTimeout,
		WriteTimeout:          recIOTimeout,
		MaxRetries:            recMaxRetries,
	}
}

func recommendedClusterOptions(addrs []string) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                      addrs,
		ContextTimeoutEnabled:      true,
		DialTimeout:                recDialTimeout,
		ReadTimeout:                recIOTimeout,
		WriteTimeout:               recIOTimeout,
		ClusterStateReloadInterval: recReload,
	}
}

func recommendedFailoverOptions(master string, sentinels []string) *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:            master,
		SentinelAddrs:         sentinels,
		ContextTimeoutEnabled: true,
		DialTimeout:           recDialTimeout,
		ReadTimeout:           recIOTimeout,
		WriteTimeout:          recIOTimeout,
		MaxRetries:            recMaxRetries,
	}
}

// TestRecommendedSettingsBound checks the bound the package documentation
// promises with its recommended settings: against a Redis that accepts
// connections and never answers, every call of a Store and a Limiter, with
// or without WithReplicas, on each kind of client, fails with an error
// matching ErrStoreUnavailable once its context's deadline passes, client
// retries included. The bound asserted is far above the deadline, for
// loaded machines: it catches a call that waits out its retries (several
// seconds), not a slow one. It needs no Redis server.
func TestRecommendedSettingsBound(t *testing.T) {
	t.Parallel()
	const (
		deadline = 200 * time.Millisecond
		bound    = 3 * time.Second
	)
	silent := nettest.SilentAddr(t)
	clients := []struct {
		name   string
		client redis.UniversalClient
	}{
		{"NewClient", redis.NewClient(recommendedOptions(silent))},
		{"NewClusterClient", redis.NewClusterClient(recommendedClusterOptions([]string{silent}))},
		{"NewFailoverClient", redis.NewFailoverClient(recommendedFailoverOptions("mymaster", []string{silent}))},
	}
	for _, c := range clients {
		t.Cleanup(func() { _ = c.client.Close() })
		for _, replicas := range []int{0, 1} {
			name := c.name
			var opts []redisstore.Option
			if replicas > 0 {
				name += " WithReplicas"
				opts = append(opts, redisstore.WithReplicas(replicas, recWait))
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ops := storeOps(redisstore.New(c.client, opts...))
				l := redisstore.NewLimiter(c.client, passauth.Limit{Burst: 5, Interval: time.Minute}, opts...)
				ops = append(ops,
					storeOp{"Allow", func(ctx context.Context) error { _, err := l.Allow(ctx, "user:alice"); return err }},
					storeOp{"Forgive", func(ctx context.Context) error { return l.Forgive(ctx, "user:alice") }})
				for _, op := range ops {
					t.Run(op.name, func(t *testing.T) {
						t.Parallel()
						ctx, cancel := context.WithTimeout(context.Background(), deadline)
						defer cancel()
						start := time.Now()
						err := withinBound(t, func() error { return op.call(ctx) })
						elapsed := time.Since(start)
						require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
						assert.Less(t, elapsed, bound, "a call with a %v deadline", deadline)
					})
				}
			})
		}
	}
}

// TestLostAnswer loses the answer to a rotation that Redis ran: a proxy
// between the client and the server reads the answer and drops it. With the
// recommended settings the client retries the command, and the store's
// idempotent rotation answers the retry RotateOK, so the refresh succeeds.
// Without retries (MaxRetries -1) the call fails although the rotation
// happened, and the refresh the application's client then sends again,
// which passauth runs with a new token ID, is reuse: the session ends;
// with a grace window (Config.RefreshGrace) it is a replay, answered with
// the token of the lost answer, and the session goes on from it.
func TestLostAnswer(t *testing.T) {
	target := redisAddr(t)
	t.Parallel()
	direct := newClient(t)
	cases := []struct {
		name      string
		retries   int
		closeConn bool
		grace     bool
		want      passauth.RotateResult // 0: an error
	}{
		{"retried after a read timeout", recMaxRetries, false, false, passauth.RotateOK},
		{"retried after the connection closes", recMaxRetries, true, false, passauth.RotateOK},
		{"not retried", -1, false, false, 0},
		{"with grace, retried", recMaxRetries, false, true, passauth.RotateOK},
		{"with grace, not retried", -1, false, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := nettest.NewLossyProxy(t, target, tc.closeConn)
			opts := recommendedOptions(p.Addr)
			opts.MaxRetries = tc.retries
			c := redis.NewClient(opts)
			t.Cleanup(func() { _ = c.Close() })
			prefix := newPrefix(t, direct)
			s := redisstore.New(c, redisstore.WithPrefix(prefix))
			sess := newTestSession()
			rotation := func(oldID, newID string) passauth.Rotation {
				r := sess.rotation(oldID, newID)
				if tc.grace {
					r = graceful(r)
				}
				return r
			}

			// The server has the script from then on: the rotation below is
			// one EVALSHA, run at its first sending.
			rotate(t, s, rotation("", "id0"), passauth.RotateOK, "start")
			lost := rotation("id0", "lost-answer-"+rand.Text())
			p.DropAnswerTo(lost.NewID)
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			res, err := s.Rotate(ctx, lost)
			require.True(t, p.Dropped(), "the proxy dropped no answer")
			assert.Equal(t, lost.NewID, direct.HGet(t.Context(), keysFor(prefix, sess.subject).fam(sess.family), "cur").Val(),
				"the server ran the rotation")
			if tc.want != 0 {
				require.NoError(t, err)
				assert.Equal(t, tc.want, res.Result, "the client's retry of the command, with the same new ID")
				assert.Equal(t, lost.NewID, res.Current)
				assert.GreaterOrEqual(t, p.Sent(), int32(2), "times the rotation was sent")
			} else {
				require.ErrorIs(t, err, passauth.ErrStoreUnavailable)
				assert.Equal(t, int32(1), p.Sent(), "times the rotation was sent")
			}

			switch {
			case tc.grace:
				// The application's client sends the old token again, which
				// passauth rotates to a new ID: within the grace window, the
				// answer is the token of the lost answer.
				got := rotate(t, s, rotation("id0", rand.Text()), passauth.RotateReplayed, "the client's second try, with a new ID")
				assert.Equal(t, lost.NewID, got.Current, "the replay's answer")
				rotate(t, s, rotation(lost.NewID, rand.Text()), passauth.RotateOK, "the session goes on from the lost answer's token")
			case tc.want != 0:
				rotate(t, s, rotation(lost.NewID, rand.Text()), passauth.RotateOK, "next rotation")
			default:
				rotate(t, s, rotation("id0", rand.Text()), passauth.RotateReused, "the client's second try, with a new ID")
			}
		})
	}

	// A retried Allow counts the attempt twice: the lost answer costs the
	// key one attempt of its budget (the limiter fails closed).
	t.Run("Allow retried", func(t *testing.T) {
		t.Parallel()
		p := nettest.NewLossyProxy(t, target, false)
		c := redis.NewClient(recommendedOptions(p.Addr))
		t.Cleanup(func() { _ = c.Close() })
		prefix := newPrefix(t, direct)
		l := redisstore.NewLimiter(c, passauth.Limit{Burst: 3, Interval: time.Hour}, redisstore.WithPrefix(prefix))
		key := "user:" + rand.Text()
		_, err := l.Allow(t.Context(), "user:warm-up") // loads the script
		require.NoError(t, err)

		redisKey := redisstore.LimiterKey(prefix, key)
		p.DropAnswerTo(redisKey[len(prefix):])
		wait, err := l.Allow(t.Context(), key)
		require.NoError(t, err)
		require.Zero(t, wait)
		require.True(t, p.Dropped(), "the proxy dropped no answer")
		wait, err = l.Allow(t.Context(), key)
		require.NoError(t, err)
		require.Zero(t, wait, "second attempt")
		wait, err = l.Allow(t.Context(), key)
		require.NoError(t, err)
		assert.Positive(t, wait, "third attempt, with a Burst of 3")
	})
}
