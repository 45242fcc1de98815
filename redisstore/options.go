package redisstore

import "strings"

// DefaultPrefix is the prefix of every key when WithPrefix is not given.
const DefaultPrefix = "passauth:"

// Option configures a Store or a Limiter.
type Option func(*options)

// options is what the Options set, shared by New and NewLimiter.
type options struct {
	prefix string
}

func newOptions(opts []Option) options {
	o := options{prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithPrefix sets the prefix of every key the store or limiter writes, so
// that several services or environments can share a Redis database. The
// default is DefaultPrefix.
//
// WithPrefix panics if prefix contains "{" or "}": Redis Cluster would then
// hash the prefix's braces instead of each key's, and every key would share
// one slot. A prefix is part of the program, not its input, so this is a
// programming mistake, as with regexp.MustCompile.
func WithPrefix(prefix string) Option {
	if strings.ContainsAny(prefix, "{}") {
		panic("redisstore: WithPrefix: the prefix must not contain { or }")
	}
	return func(o *options) { o.prefix = prefix }
}
