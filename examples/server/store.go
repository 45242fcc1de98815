package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/passauth/passauth/sqlstore"
	"github.com/redis/go-redis/v9"
)

// openStore returns the demo's token store, what it is for the start-up
// log, and a function that releases it: a Redis store when REDIS_URL is
// set, else the sessions live in the database of the users, db.
func openStore(ctx context.Context, logger *slog.Logger, s settings, db *sql.DB) (passauth.Store, string, func() error, error) {
	if s.redis != nil {
		store, closeStore, err := openRedisStore(ctx, logger, s.redis)
		if err != nil {
			return nil, "", nil, err
		}
		return store, fmt.Sprintf("redis %s/%d", s.redis.Addr, s.redis.DB), closeStore, nil
	}
	dialect := sqlstore.SQLite
	if s.database.postgres {
		dialect = sqlstore.Postgres
	}
	store, err := sqlstore.New(db, dialect)
	if err != nil {
		return nil, "", nil, err
	}
	migrateCtx, cancel := context.WithTimeout(ctx, dbPingTimeout)
	defer cancel()
	if err := store.Migrate(migrateCtx); err != nil {
		return nil, "", nil, fmt.Errorf("DATABASE_URL: %s: creating the session tables: %w", s.database.display, err)
	}
	return store, "the database", sweepEvery(logger, store, sweepInterval), nil
}

// Sweeping expired session rows: every sweepInterval, sweepBatch rows at
// a time, again at once while a sweep finds a full batch, up to 100 times.
const (
	sweepInterval = time.Minute
	sweepBatch    = 1000
	sweepTimeout  = 10 * time.Second
)

// sweepEvery sweeps store's expired rows every interval until the function
// it returns is called, which waits for a sweep in progress to end.
func sweepEvery(logger *slog.Logger, store *sqlstore.Store, interval time.Duration) func() error {
	stop := make(chan struct{})
	var done sync.WaitGroup
	done.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			for range 100 { // at most 100 batches a tick
				ctx, cancel := context.WithTimeout(context.Background(), sweepTimeout)
				n, err := store.Sweep(ctx, sweepBatch)
				cancel()
				if err != nil {
					logger.Warn("sweeping expired sessions", "err", err)
				}
				if err != nil || n < sweepBatch {
					break
				}
			}
		}
	})
	return func() error {
		close(stop)
		done.Wait()
		return nil
	}
}

// openRedisStore returns a Redis store for ropts, made with opts, and a
// function that closes its client, after checking that the server answers
// and keeps what the store writes (redisstore.CheckServer: no evicting
// maxmemory-policy); CheckServer's warnings, such as no persistence, are
// logged. It never falls back to memory when Redis is unreachable, and its
// errors never repeat the URL, which may hold a password.
func openRedisStore(ctx context.Context, logger *slog.Logger, ropts *redis.Options, opts ...redisstore.Option) (passauth.Store, func() error, error) {
	client := redis.NewClient(ropts)
	checkCtx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := client.Ping(checkCtx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: Redis at %s does not answer: %w", ropts.Addr, err)
	}
	warnings, err := redisstore.CheckServer(checkCtx, client, opts...)
	if err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: Redis at %s cannot keep the sessions: %w", ropts.Addr, err)
	}
	for _, w := range warnings {
		logger.Warn("token store", "warning", w)
	}
	logger.Info("token store", "kind", "redis", "addr", ropts.Addr, "db", ropts.DB)
	return redisstore.New(client, opts...), client.Close, nil
}

// Redis client limits, those the redisstore package recommends for the
// deadline of one second that passauth gives a store call: each attempt
// gives up after a dial of 500ms or a read or write of 400ms, so that a
// retry after a lost answer fits in the budget. redisPingTimeout bounds the
// checks at startup.
const (
	redisDialTimeout  = 500 * time.Millisecond
	redisReadTimeout  = 400 * time.Millisecond
	redisWriteTimeout = 400 * time.Millisecond
	redisMaxRetries   = 2
	redisPingTimeout  = 5 * time.Second
)

// redisOptions parses REDIS_URL's value and sets the client limits the URL
// leaves unset. The error names REDIS_URL and never repeats the URL: only
// the cause, and not even that when the URL has a user-info part, since a
// URL parse error may quote it.
func redisOptions(redisURL string) (*redis.Options, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		const msg = "REDIS_URL is not a Redis URL such as redis://127.0.0.1:6379/0"
		var uerr *url.Error
		switch {
		case strings.Contains(redisURL, "@"):
			return nil, errors.New(msg)
		case errors.As(err, &uerr):
			return nil, fmt.Errorf("%s: %v", msg, uerr.Err)
		}
		return nil, fmt.Errorf("%s: %v", msg, err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = redisDialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = redisReadTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = redisWriteTimeout
	}
	if opts.MaxRetries == 0 {
		// Retries are safe: a rotation whose answer was lost answers
		// RotateOK when retried, and revocations are idempotent. Without
		// them, the client's second try of a refresh would be reuse, and
		// end the session.
		opts.MaxRetries = redisMaxRetries
	}
	// Let a request's deadline cut a Redis call short.
	opts.ContextTimeoutEnabled = true
	return opts, nil
}
