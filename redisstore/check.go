package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// CheckServer checks client, and every Redis server it reaches (on a
// cluster, every master and replica), against what a Store or Limiter made
// with opts needs for the package's guarantees to hold; see the package
// documentation. Run it at start-up, before serving, and refuse to start on
// an error.
//
// It returns an error, naming the server and the fix, when:
//
//   - a server's maxmemory-policy is not noeviction: under memory pressure,
//     which one logged-in client can create, Redis would drop revocations
//     and throttle counts without a word, and revoked access tokens would
//     be accepted again. It reads the policy with CONFIG GET, and from INFO
//     where CONFIG is disabled, as on managed services;
//   - client does not enable ContextTimeoutEnabled, so that a call's
//     deadline would not cut short a wait for a server that does not answer;
//   - a cluster client may read from replicas (ReadOnly, RouteByLatency or
//     RouteRandomly), which may not have received a revocation yet;
//   - opts has WithReplicas with a timeout that is not below the client's
//     ReadTimeout, so that a missing acknowledgement would show as a read
//     timeout, and the client would retry the write;
//   - a server does not answer.
//
// Errors are joined; the warnings, nil when there are none, say what
// weakens the guarantees without breaking them: a server without
// persistence (appendonly no and no RDB save points: a restart loses every
// session, revocation and throttle count) or with RDB snapshots only (a
// crash rolls back to the last snapshot), persistence that cannot be read,
// and, with WithReplicas, a master with fewer connected replicas than it
// asks for (its writes fail until they connect). A throwaway server for
// tests usually has no persistence; a production one should.
func CheckServer(ctx context.Context, client redis.UniversalClient, opts ...Option) (warnings []string, err error) {
	o := newOptions(opts)
	errs := checkClient(client, o)

	var mu sync.Mutex
	check := func(ctx context.Context, node *redis.Client) error {
		w, err := checkNode(ctx, node, o)
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, w...)
		if err != nil {
			errs = append(errs, err)
		}
		return nil
	}
	switch c := client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachShard(ctx, check)
	case *redis.Ring:
		err = c.ForEachShard(ctx, check)
	case *redis.Client:
		err = check(ctx, c)
	default:
		err = fmt.Errorf("cannot reach the servers of a %T", client)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("redisstore: checking the servers: %w", err))
	}
	slices.Sort(warnings) // the shards answer in any order
	return warnings, errors.Join(errs...)
}

// checkClient checks the client's own settings.
func checkClient(client redis.UniversalClient, o options) []error {
	var (
		contextTimeout bool
		readTimeout    time.Duration
		errs           []error
	)
	switch c := client.(type) {
	case *redis.Client:
		contextTimeout, readTimeout = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	case *redis.ClusterClient:
		opt := c.Options()
		contextTimeout, readTimeout = opt.ContextTimeoutEnabled, opt.ReadTimeout
		if opt.ReadOnly || opt.RouteByLatency || opt.RouteRandomly {
			errs = append(errs, errors.New("redisstore: the cluster client reads from replicas (ReadOnly, RouteByLatency or RouteRandomly), "+
				"which may not have received a revocation yet: leave all three false"))
		}
	case *redis.Ring:
		contextTimeout, readTimeout = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	default:
		return nil
	}
	if !contextTimeout {
		errs = append(errs, errors.New("redisstore: the client's ContextTimeoutEnabled is false, "+
			"so a call's deadline does not cut short a wait for a server that does not answer: set it to true"))
	}
	if o.replicas > 0 && readTimeout > 0 && o.timeout >= readTimeout {
		errs = append(errs, fmt.Errorf("redisstore: WithReplicas waits up to %v, not less than the client's ReadTimeout of %v: "+
			"lower the wait or raise ReadTimeout", o.timeout, readTimeout))
	}
	return errs
}

// checkNode checks one server.
func checkNode(ctx context.Context, node *redis.Client, o options) (warnings []string, err error) {
	addr := node.Options().Addr
	// CONFIG may be renamed or denied (managed services do that): INFO then
	// tells the policy and whether AOF is on, not the RDB save points.
	conf, confErr := node.ConfigGet(ctx, "*").Result()
	info, infoErr := node.Info(ctx, "memory", "persistence", "replication").Result()
	if confErr != nil && infoErr != nil {
		return nil, fmt.Errorf("redisstore: %s: reading the configuration: %w", addr, infoErr)
	}

	policy, ok := conf["maxmemory-policy"]
	if !ok {
		policy, ok = infoField(info, "maxmemory_policy")
	}
	switch {
	case !ok:
		err = fmt.Errorf("redisstore: %s: neither CONFIG GET nor INFO tells the maxmemory-policy: "+
			"it must be noeviction, or Redis may drop revocations under memory pressure", addr)
	case policy != "noeviction":
		err = fmt.Errorf("redisstore: %s: maxmemory-policy is %s, so under memory pressure Redis drops keys, "+
			"revocations and throttle counts among them, and revoked tokens are accepted again: "+
			"set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf), "+
			"under which a full Redis refuses writes and passauth fails closed", addr, policy)
	}

	if w := persistenceWarning(conf, info); w != "" {
		warnings = append(warnings, "redisstore: "+addr+": "+w)
	}
	if o.replicas > 0 && infoErr == nil {
		role, _ := infoField(info, "role")
		v, _ := infoField(info, "connected_slaves")
		if n, err := strconv.Atoi(v); role == "master" && err == nil && n < o.replicas {
			warnings = append(warnings, fmt.Sprintf("redisstore: %s: %d connected replicas, fewer than the %d WithReplicas waits for: "+
				"every write to this server fails until enough connect", addr, n, o.replicas))
		}
	}
	return warnings, err
}

// persistenceWarning returns what a server's persistence settings lose, or
// "" when it appends every write to a file (AOF).
func persistenceWarning(conf map[string]string, info string) string {
	aof, ok := conf["appendonly"]
	if !ok {
		if v, found := infoField(info, "aof_enabled"); found {
			aof, ok = map[string]string{"1": "yes", "0": "no"}[v], true
		}
	}
	save, saveKnown := conf["save"]
	switch {
	case aof == "yes":
		return ""
	case !ok || !saveKnown:
		return "persistence unknown (CONFIG is not available): unless it keeps an AOF, " +
			"a restart or crash loses or rolls back sessions, revocations and throttle counts"
	case strings.TrimSpace(save) == "":
		return "no persistence (appendonly no, no RDB save points): a restart loses every session, " +
			"revocation and throttle count (sessions end, revoked access tokens are accepted again until they expire)"
	}
	return "RDB snapshots only (appendonly no): a crash rolls back to the last snapshot, " +
		"undoing the rotations, revocations and throttle counts since"
}

// infoField returns the value of field in the text of INFO.
func infoField(info, field string) (string, bool) {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
