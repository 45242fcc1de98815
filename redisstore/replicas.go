package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotReplicated is matched, along with passauth.ErrStoreUnavailable, by
// the error of a write that fewer replicas acknowledged than WithReplicas
// asks for. The server that took the write may have applied it.
var ErrNotReplicated = errors.New("redisstore: write not acknowledged by enough replicas")

// writer runs the write scripts of a Store or a Limiter: one script on keys
// of one hash slot, and with WithReplicas a WAIT after it on the same
// connection.
type writer struct {
	client   redis.UniversalClient
	replicas int
	timeout  time.Duration
}

// newWriter returns the writer for client with o. It panics if o asks for
// replicas and client is of a type whose connection to a key's server it
// cannot reach (see WithReplicas).
func newWriter(client redis.UniversalClient, o options) writer {
	if o.replicas > 0 {
		switch client.(type) {
		case *redis.Client, *redis.ClusterClient, *redis.Ring:
		default:
			panic(fmt.Sprintf("redisstore: WithReplicas needs a *redis.Client, *redis.ClusterClient or *redis.Ring, not %T", client))
		}
	}
	return writer{client: client, replicas: o.replicas, timeout: o.timeout}
}

// run runs script on keys, which share a hash slot, with args. Without
// replicas to wait for, that is one EVALSHA (EVAL the first time a server
// sees the script) through the client, which follows cluster redirections
// and retries as configured. With them it is a pipeline of the script and
// WAIT on a connection to the keys' master, since WAIT counts the
// acknowledgements of its own connection's writes; an acknowledgement
// count below w.replicas is an error wrapping ErrNotReplicated.
func (w writer) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if w.replicas == 0 {
		return script.Run(ctx, w.client, keys, args...)
	}
	cmd := w.runWaiting(ctx, script, keys, args)
	if err := cmd.Err(); err != nil && !isRedisError(err) {
		if cc, ok := w.client.(*redis.ClusterClient); ok {
			// A connection failure on a cluster may be a master that is
			// gone: have the client reload the slots in the background,
			// as it does itself on redirections.
			cc.ReloadState(ctx)
		}
	}
	return cmd
}

// runWaiting is run with replicas to wait for. A MOVED answer from a cluster
// node (the client's slot map is stale, after a failover or a resharding)
// means the node ran nothing: it reloads the slot map at once and tries the
// key's new master once. An ASK answer (the slot is being migrated) is
// returned as an error.
func (w writer) runWaiting(ctx context.Context, script *redis.Script, keys []string, args []any) *redis.Cmd {
	cmd := w.pipeline(ctx, script, keys, args)
	if cc, ok := w.client.(*redis.ClusterClient); ok && redis.HasErrorPrefix(cmd.Err(), "MOVED") {
		// ForEachMaster reloads the slot map before it calls its function.
		if err := cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error { return nil }); err != nil {
			return errCmd(ctx, err)
		}
		cmd = w.pipeline(ctx, script, keys, args)
	}
	return cmd
}

// pipeline sends script and WAIT in one round trip to the server that owns
// keys[0], and the script's source in a second one if that server has not
// seen it yet.
func (w writer) pipeline(ctx context.Context, script *redis.Script, keys []string, args []any) *redis.Cmd {
	node, err := w.node(ctx, keys[0])
	if err != nil {
		return errCmd(ctx, err)
	}
	cmd, wait := w.exec(ctx, node, script, true, keys, args)
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd, wait = w.exec(ctx, node, script, false, keys, args)
	}
	if cmd.Err() != nil {
		return cmd
	}
	n, err := wait.Int64()
	if err != nil {
		cmd.SetErr(err)
		return cmd
	}
	if n < int64(w.replicas) {
		cmd.SetErr(&notReplicatedError{acks: n, want: w.replicas, timeout: w.timeout})
	}
	return cmd
}

func (w writer) exec(ctx context.Context, node *redis.Client, script *redis.Script, sha bool, keys []string, args []any) (cmd, wait *redis.Cmd) {
	pipe := node.Pipeline()
	if sha {
		cmd = script.EvalSha(ctx, pipe, keys, args...)
	} else {
		cmd = script.Eval(ctx, pipe, keys, args...)
	}
	// A pipeline reads every answer within the client's ReadTimeout, not
	// the longer read timeout the client gives WAIT on its own.
	wait = pipe.Do(ctx, "wait", w.replicas, w.timeout.Milliseconds())
	// Each command carries its own error.
	_, _ = pipe.Exec(ctx)
	return cmd, wait
}

// node returns the client of the server that takes writes to key: the
// key's master on a cluster, the key's shard on a ring, the client itself
// otherwise (a single server, or the master a failover client follows).
func (w writer) node(ctx context.Context, key string) (*redis.Client, error) {
	switch c := w.client.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Ring:
		return c.GetShardClientForKey(key)
	case *redis.Client:
		return c, nil
	}
	// newWriter refuses every other type.
	return nil, fmt.Errorf("WithReplicas cannot reach the server of a key through a %T", w.client)
}

// errCmd returns a script result that failed with err.
func errCmd(ctx context.Context, err error) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

// isRedisError reports whether err is an answer of the server (an error
// reply), rather than a failure to reach it or to read its answer.
func isRedisError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// notReplicatedError is a WAIT that counted fewer acknowledgements than
// WithReplicas asks for. It unwraps to ErrNotReplicated.
type notReplicatedError struct {
	acks    int64
	want    int
	timeout time.Duration
}

func (e *notReplicatedError) Error() string {
	return ErrNotReplicated.Error() + ": " + strconv.FormatInt(e.acks, 10) + " of " +
		strconv.Itoa(e.want) + " within " + e.timeout.String() + "; the server may have applied it"
}

func (e *notReplicatedError) Unwrap() error { return ErrNotReplicated }
