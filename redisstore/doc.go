// Package redisstore is a passauth.Store kept in Redis, so that every
// replica of a service shares one view of its login sessions: a refresh token
// rotated on one server is reuse on all the others, and a revocation made on
// one holds on all of them.
//
//	client := redis.NewClient(&redis.Options{
//		Addr:                  "127.0.0.1:6379",
//		ContextTimeoutEnabled: true,
//		DialTimeout:           500 * time.Millisecond,
//		ReadTimeout:           400 * time.Millisecond,
//		WriteTimeout:          400 * time.Millisecond,
//		MaxRetries:            2,
//	})
//	warnings, err := redisstore.CheckServer(ctx, client)
//	if err != nil {
//		log.Fatal(err) // an evicting maxmemory-policy, for one
//	}
//	for _, w := range warnings {
//		log.Print(w) // no persistence, for one
//	}
//	iss, err := passauth.NewTokenIssuer(passauth.Config{
//		// secrets and lifetimes …
//		Store:        redisstore.New(client),
//		CheckRevoked: true,
//	})
//
// A Limiter, from NewLimiter, likewise shares the count of failed logins
// among the replicas, for Config.UserLimiter and Config.AddrLimiter.
//
// What the store promises holds only under the Redis configuration set out
// under "Redis configuration" below, and with the client settings under
// "Client settings". CheckServer checks both at start-up.
//
// # What is stored
//
// A Store never sees a token: passauth gives it token IDs ("jti"), session
// IDs, client IDs and subjects, and Redis holds the IDs but not the
// subjects. Every key starts with the prefix (default "passauth:", see
// WithPrefix), then a Redis Cluster hash tag, the part in braces. A
// subject's records share one tag, <tag> below: the first 16 bytes of the
// SHA-256 of the subject, in hex (32 characters), so that every record of a
// subject is on one Cluster slot, whatever the subject holds (braces
// included), and Redis holds no user names or e-mail addresses:
//
//   - <prefix>{<tag>}:fam:<session ID> — a hash, one per login session
//     (token family), with the fields cur, the ID of the session's only
//     valid refresh token; exp, its expiry; cli, the client the session was
//     started for ("" for none); auth, the login time; used, the time of the
//     last rotation or replay; after the first rotation prev, the ID cur
//     replaced, repl, when (passauth's clock), and n, how many times prev
//     has been presented again within the grace window since; and rev, "1"
//     once the session is revoked. Times are decimal Unix nanoseconds. It
//     expires (PEXPIREAT) when passauth says the family may be forgotten,
//     the current refresh token's expiry plus Config.Leeway; each rotation
//     moves the expiry, and revoking keeps it, so that a revoked session
//     cannot be started again while any of its tokens could be presented.
//   - <prefix>{<tag>}:sessions — a sorted set of the subject's live
//     sessions, their IDs scored by the Unix millisecond their hash
//     expires, for Sessions. Revoking a session (a logout, a reuse) takes it
//     out; each login drops up to eight entries already past, and Sessions
//     drops those it finds past or gone; the set expires with its last
//     entry.
//   - <prefix>{<tag>}:deny:sub, <prefix>{<tag>}:deny:sid:<session ID> and
//     <prefix>{<tag>}:deny:jti:<token ID> — strings, the denials of every
//     session of the subject that logged in by a time (RevokeSubject), of a
//     session (a logout, a reuse, Revoke past three access tokens) and of an
//     access token (Revoke), each holding the latest time it was denied
//     with as decimal Unix nanoseconds. Each expires at the latest expiry it
//     was denied with; a denial whose expiry is already past is not written.
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
// Two subjects share records only if the first 128 bits of their SHA-256
// are equal, which no one can bring about.
//
// # One round trip per operation
//
// Each passauth operation is one Redis command, one round trip: a login, a
// refresh, a replay within the grace window and a reuse one Rotate, a
// logout one RevokeSession, an access-token revocation and RevokeSubject
// one Deny, each a Lua script (EVALSHA, falling back to EVAL the first time
// a server sees it); a protected request with Config.CheckRevoked one
// Denied, an MGET. A password login adds the Limiters' calls: one script
// call for each key counted (the user name and the address, asked at once),
// and one for each key forgiven after a success (at once, while the session
// starts), so five commands in all, in two sequential round trips.
//
// Rotate reads, in the same atomic step, the family, the session's denial
// and the subject's denial (refusing the rotation when the subject was
// denied at or after the session's login time), and writes the rotation,
// the replay or the reuse (the family revoked and the session denied until
// Rotation.DenyUntil): of any number of concurrent refreshes with one
// token, on any number of servers, exactly one rotates, and the others are
// replays (within the grace window) or reuse. RevokeSession revokes the
// family and denies the session in one step. The Limiter's scripts read
// and write a single key: of any number of concurrent logins no more than
// the limit get through.
//
// Every key a call names has the subject's hash tag (a Limiter call names
// one key), so the store works on Redis Cluster and no command spans two
// slots; each call goes to one master. With WithReplicas, each script
// travels in one pipeline with a WAIT, still one round trip. Sessions,
// which only an application's session list calls, takes two round trips
// (three when it finds entries to drop).
//
// The prefix must not contain "{" or "}" (WithPrefix panics), or every key
// would share the prefix's hash slot. The scripts use SET … KEEPTTL, so the
// server must be Redis 6.0 or later (or a compatible server).
//
// # Upgrading from the per-key layout
//
// Versions of this package before the subject's hash tag (those whose
// Store had RevokeFamily) kept each record under its own tag:
// <prefix>{<session ID>}:fam and <prefix>{<key>}:deny. This version does
// not read those keys, so at the upgrade:
//
//   - every session ends: every refresh token issued before it is refused,
//     since its family is unknown, and users log in again (fail closed);
//   - every revocation made before it is forgotten: access tokens revoked
//     by Revoke, by a logout, by a reuse or by RevokeSubject are accepted
//     again, with Config.CheckRevoked, until they expire, at most
//     Config.AccessTTL (plus Config.Leeway) after the upgrade (fail open).
//
// To close that window, change the access tokens' secret or signing key in
// the same deployment, without keeping the old one for verification: every
// access token from before the upgrade is then refused, revoked or not.
// Since every session ends anyway, users then log in again at most an
// AccessTTL sooner than they would have.
//
// Throttle counts (the :lim keys) keep their layout and carry over. Run one
// version at a time against one prefix: during a rolling upgrade, a
// refresh token rotated by one version is unknown to the other, and a
// revocation made by one is not seen by the other. Or give the new version
// another prefix (WithPrefix) and switch over at once; the effect is the
// same. The old keys expire on their own, the last a RefreshTTL after the
// upgrade; to free their memory sooner, delete the keys matching
// <prefix>{*}:fam and <prefix>{*}:deny (SCAN with MATCH), patterns that no
// key of this version matches.
//
// # Redis configuration
//
// The store's promises rest on Redis keeping every record until it expires.
// Two settings decide that:
//
//   - maxmemory-policy noeviction, required. Under any volatile-* or
//     allkeys-* policy (volatile-lru is Google Memorystore's default) a full
//     Redis drops keys without a word, and every record here has an expiry,
//     so "volatile" spares none; one logged-in client can fill it, each
//     revocation being a record. Dropped records come back as described
//     under "When Redis loses data": revoked tokens are accepted again. With
//     noeviction a full Redis refuses writes with an OOM error: logins,
//     refreshes, revocations and counted login attempts fail closed (503),
//     and denylist checks still work, so nothing revoked comes back.
//     CheckServer refuses any other policy.
//   - Persistence, recommended: appendonly yes with appendfsync always loses
//     nothing a crash interrupts; appendfsync everysec (Redis's default for
//     AOF) may lose the last second of writes, and RDB snapshots alone
//     everything since the last snapshot; without either, a restart loses
//     everything. A master without persistence that restarts before a
//     failover also empties its replicas, which resynchronise from it (as
//     Redis's replication documentation warns).
//     CheckServer warns when persistence is off or RDB only.
//
// # When Redis loses data
//
// Losing everything (FLUSHALL, or a restart without persistence):
//
//   - every refresh token is refused, since Rotate reports an unknown
//     family as revoked: every session ends and its user logs in again
//     (fail closed);
//   - every revocation is forgotten: access tokens revoked by Revoke, by a
//     logout or by RevokeSubject are accepted again, with
//     Config.CheckRevoked, until they expire, at most Config.AccessTTL later
//     (fail open);
//   - every throttle count is forgotten: each user name and address gets
//     its whole Burst again (fail open).
//
// Losing some records, or the latest writes (eviction, restoring an older
// snapshot, AOF with appendfsync everysec after a crash, a failover before
// the replica received them, see WithReplicas), rolls each lost record back
// to what it was before, or to nothing:
//
//   - a lost rotation makes the consumed refresh token current again: it is
//     accepted once more if it comes before the token that replaced it, and
//     whichever of the two comes second is reuse, which ends the session
//     (fail open for one use of a consumed token);
//   - a lost session revocation (logout, reuse) makes the session live
//     again, its access tokens accepted again (fail open); a lost session
//     creation makes its refresh tokens refused (fail closed);
//   - a lost denylist record makes what it denied accepted again until it
//     expires: an access token, a session's access tokens, or a subject's
//     access tokens and the refresh tokens of its sessions whose records
//     survived (fail open);
//   - a lost throttle count gives the attempts back (fail open).
//
// # Replication and failover
//
// Redis replicates asynchronously: by default a write is reported as done
// once the master has applied it, and a failover right after it can undo
// it, with the consequences above. WithReplicas(n, timeout) makes every
// write wait until n replicas have acknowledged it (WAIT), and reports a
// write that fewer acknowledged as a failure matching
// passauth.ErrStoreUnavailable and ErrNotReplicated, though the master may
// have applied it. A write reported as done then survives the loss of its
// master, as long as the replica promoted is one of those that
// acknowledged it: set n to the number of replicas of each master (1 in a
// cluster of 3 masters and 3 replicas) so that any of them will do. What a
// failure that the master applied means:
//
//   - a refresh (Rotate) answers 503; if the client's retry of the command
//     (MaxRetries) succeeds it answers RotateOK, the rotation being
//     idempotent; if instead the application's client sends its old refresh
//     token again, passauth rotates to a new ID, which is reuse, and the
//     session ends (fail closed), unless Config.RefreshGrace is set: within
//     it that is a replay, answered with the refresh token the failed call
//     made current, and the session goes on;
//   - a login answers 503; the session it recorded expires unused;
//   - a revocation (Revoke, RevokeSubject, the revocation endpoint) reports
//     failure (503) though it may be in effect; sending it again is
//     harmless, and until it is acknowledged it may be lost in a failover;
//   - a counted login attempt answers 503 and may stay counted; passauth
//     ignores a failed Forgive, which may leave a success counted.
//
// The price is a replication round trip on every write, and availability:
// while a master has fewer than n replicas connected (one down or
// resynchronising, or right after a failover until the old master rejoins
// as a replica) every write to its keys fails, so logins, refreshes and
// revocations answer 503 there. Reads (Denied, Sessions) never wait.
//
// # Client settings
//
// Each call passes its context to the client; passauth gives every store
// call a deadline. Settings for a per-call budget of one second, for all
// three constructors:
//
//   - ContextTimeoutEnabled: true. Without it a deadline does not cut short
//     a write or a read: against a Redis that never answers, a denylist
//     check with a 200ms deadline took 1s with ReadTimeout 1s, and 5s with
//     go-redis's defaults; with no deadline, 8.3s (ReadTimeout 1s, default
//     retries) and 40s. CheckServer refuses a client without it.
//   - DialTimeout: 500ms, ReadTimeout and WriteTimeout: 400ms, each
//     attempt's limit, so that a retry after a lost answer fits in the
//     budget. With WithReplicas, its timeout must be below ReadTimeout
//     (200ms, say; CheckServer checks), since a pipeline reads every answer
//     within ReadTimeout.
//   - MaxRetries: 2 for NewClient and NewFailoverClient (the cluster
//     client's default, no retries but up to MaxRedirects 3 redirections and
//     network retries, is right). Retries are safe for the Store: a retried
//     rotation answers RotateOK, and revocations are idempotent; without
//     them a lost answer to a refresh makes the client's second try reuse,
//     ending the session (within Config.RefreshGrace, a replay). A retried
//     Allow counts the attempt twice, and a retried Forgive may forgive
//     twice.
//   - NewClusterClient: ClusterStateReloadInterval: time.Second. After a
//     failover, go-redis sends the dead master's keys to it until its next
//     reload of the slot map: with the default of 60s that was 60s of 503
//     for those keys; with 1s, the client reached the new master 0.9 to 2.9
//     seconds after the promotion. Leave ReadOnly, RouteByLatency and
//     RouteRandomly false: a replica may not have received a revocation yet
//     (CheckServer refuses them).
//   - NewFailoverClient: leave ReplicaOnly, RouteByLatency and
//     RouteRandomly false, for the same reason. The client asks Sentinel
//     for the master on every new connection: in our test, with
//     down-after-milliseconds 500, Sentinel promoted the replica 1 to 2
//     seconds after its master was killed, and the client's next call
//     reached it.
//
// With these settings and a deadline of 200ms, every call against a Redis
// that accepts connections and never answers fails at the deadline, with an
// error matching passauth.ErrStoreUnavailable; without any deadline, the
// client's limits ended each in at most about 2.6s.
//
// # Failures
//
// Every error from Redis is returned wrapped so that it matches
// passauth.ErrStoreUnavailable with errors.Is, with the Redis error in its
// chain for the application's logs; passauth then fails closed (503 from its
// handlers). The store never falls back to memory and never retries on its
// own beyond what the client is configured to do, except that with
// WithReplicas on a cluster a MOVED answer (a stale slot map) makes it
// reload the slot map and try the key's new master once. An ASK answer,
// during a slot migration, is returned as an error.
package redisstore
