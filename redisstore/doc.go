// Package redisstore is a passauth.Store kept in Redis, so that every
// replica of a service shares one view of its login sessions: a refresh token
// rotated on one server is reuse on all the others, and a revocation made on
// one holds on all of them.
//
//	client := redis.NewClient(&redis.Options{
//		Addr:         "127.0.0.1:6379",
//		DialTimeout:  2 * time.Second,
//		ReadTimeout:  500 * time.Millisecond,
//		WriteTimeout: 500 * time.Millisecond,
//	})
//	iss, err := passauth.NewTokenIssuer(passauth.Config{
//		// secrets and lifetimes …
//		Store:        redisstore.New(client),
//		CheckRevoked: true,
//	})
//
// A Limiter, from NewLimiter, likewise shares the count of failed logins
// among the replicas, for Config.UserLimiter and Config.AddrLimiter.
//
// # What is stored
//
// A Store never sees a token: passauth gives it token IDs ("jti"), session
// IDs and subjects, and those are all that Redis holds. Every key starts
// with the prefix (default "passauth:", see WithPrefix) and carries a Redis
// Cluster hash tag, the part in braces:
//
//   - <prefix>{<family>}:fam — a hash, one per login session (token family),
//     with the field cur, the ID of the session's only valid refresh token,
//     and the field rev, "1" once the family is revoked. It expires (PEXPIREAT)
//     with the current refresh token; each rotation moves the expiry, and
//     revoking keeps it, so that a revoked family cannot be recreated while
//     any of its tokens could still be presented.
//   - <prefix>{<key>}:deny — a string, one per denylist key (an access-token
//     ID, a session or a subject), holding the latest time the key was
//     denied as decimal Unix nanoseconds. It expires at the latest expiry it
//     was denied with; a record whose expiry is already past is not written.
//   - <prefix>{<sha256 of key, hex>}:lim (see LimiterKey) — a string, one
//     per Limiter key that has failed logins to count ("user:" and a user
//     name folded to lower case, or "addr:" and a client address), holding
//     the key's theoretical arrival time of the generic cell rate algorithm
//     as decimal Unix microseconds of the Redis server's clock. It expires
//     when that time passes, at most Burst×Interval after the last failure.
//     The key is hashed because it holds what clients typed as a user name,
//     sometimes a password.
//
// Nothing else is written, and every key expires: Redis's memory is bounded
// by the number of live sessions, revocations and recently throttled keys.
//
// # One round trip, one key
//
// Rotate, RevokeFamily, Deny and the Limiter's Allow and Forgive each run
// one Lua script (EVALSHA, falling back to EVAL the first time a server sees
// it), which reads and writes a single key atomically: of any number of
// concurrent refreshes with one token, on any number of servers, exactly
// one wins, and of any number of concurrent logins no more than the limit
// get through. Since each script touches one key, the store works on Redis
// Cluster: the hash tag puts a family's record on one slot, and no command
// spans two slots. Denied reads
// its keys in one pipeline of GETs (they hash to different slots, so not
// MGET); on a cluster client that is one round trip per node involved.
//
// The prefix must not contain "{" or "}", or every key would share the
// prefix's hash slot. The scripts use SET … KEEPTTL, so the server must be
// Redis 6.0 or later (or a compatible server).
//
// # Failures and timeouts
//
// Every error from Redis is returned wrapped so that it matches
// passauth.ErrStoreUnavailable with errors.Is, with the Redis error in its
// chain for the application's logs; passauth then fails closed (503 from its
// handlers). The store never falls back to memory and never retries on its
// own beyond what the client is configured to do.
//
// Each call passes the request's context to the client, which gives up
// before sending when it is already done and, with the client option
// ContextTimeoutEnabled, also while waiting for an answer. A request context
// usually has no deadline, though: set DialTimeout, ReadTimeout and
// WriteTimeout on the client, since those bound how long a refresh, a
// revocation or, with Config.CheckRevoked, every authenticated request can
// wait on an unreachable or stalled Redis. Mind the client's retries too:
// by default go-redis retries a failed command 3 times (MaxRetries) and a
// failed dial 5 times, 100ms apart (DialerRetries, DialerRetryTimeout), so a
// refused connection costs about two seconds per call unless those are
// lowered.
package redisstore
