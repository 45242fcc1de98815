package redisstore

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
// that several services or environments can share a Redis database. It must
// not contain "{" or "}". The default is DefaultPrefix.
func WithPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}
