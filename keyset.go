package passauth

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/golang-jwt/jwt/v5"
)

// keySet is the checked keys of one token kind.
type keySet struct {
	signer *key // the first key; nil in a set that only verifies (a Verifier's)
	byID   map[string]*key
	// legacy verifies a token without "kid", minted before tokens named
	// their key: the set's secrets (one, or a jwt.VerificationKeySet), nil
	// when it has none.
	legacy any
	public []*key // the asymmetric keys, in order, for the JWKS
}

// newKeySet checks keys, the value of the Config field named field, and
// builds their set. The first key signs, so it must be a secret or a
// SigningKey; secretsOnly is set for refresh tokens, which only the issuer
// reads.
func newKeySet(field string, keys []Key, secretsOnly bool) (*keySet, error) {
	s := &keySet{byID: make(map[string]*key, len(keys))}
	var secrets []jwt.VerificationKey
	for i, k := range keys {
		pk, err := parseKey(k)
		if err == nil && secretsOnly && pk.secret == nil {
			err = errors.New("refresh tokens are signed with secrets only")
		}
		if err == nil && i == 0 && pk.sign == nil {
			err = errors.New("the first key signs: it must be a SecretKey or a SigningKey")
		}
		if err == nil && s.byID[pk.id] != nil {
			err = errors.New("the same key twice")
		}
		if err != nil {
			return nil, fmt.Errorf("passauth: Config.%s[%d]: %w", field, i, err)
		}
		p := &pk
		s.byID[pk.id] = p
		if i == 0 {
			s.signer = p
		}
		if pk.secret != nil {
			secrets = append(secrets, pk.verify)
		} else {
			s.public = append(s.public, p)
		}
	}
	switch len(secrets) {
	case 0:
	case 1:
		s.legacy = secrets[0]
	default:
		s.legacy = jwt.VerificationKeySet{Keys: secrets}
	}
	return s, nil
}

// keyFor returns what verifies token t: the key its "kid" names, which
// must be of the algorithm t says, or, for a token without "kid", the
// set's secrets. A key carried or pointed to in the header (jwk, jku, x5u,
// x5c) is never used; such a token is refused (RFC 8725 §3.10).
func (s *keySet) keyFor(t *jwt.Token) (any, error) {
	if s == nil {
		return nil, errTokenUnknownKey // a Verifier before its first fetch
	}
	for _, h := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, ok := t.Header[h]; ok {
			return nil, errTokenKeyHeader
		}
	}
	kid, ok := t.Header["kid"]
	if !ok {
		if s.legacy == nil || t.Method != jwt.SigningMethodHS256 {
			return nil, errTokenUnknownKey
		}
		return s.legacy, nil
	}
	id, _ := kid.(string)
	k := s.byID[id]
	switch {
	case k == nil:
		return nil, errTokenUnknownKey
	case t.Method.Alg() != k.method.Alg():
		return nil, errTokenAlgorithm
	}
	return k.verify, nil
}

// methods returns the algorithms of the set's keys, once each.
func (s *keySet) methods() []string {
	var algs []string
	for _, k := range s.byID {
		if alg := k.method.Alg(); !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	slices.Sort(algs)
	return algs
}

// secrets returns the HMAC secrets of the set.
func (s *keySet) secrets() [][]byte {
	var out [][]byte
	for _, k := range s.byID {
		if k.secret != nil {
			out = append(out, k.secret)
		}
	}
	return out
}

// keySource holds the key set of a kind, which a Verifier replaces as its
// remote set changes; an issuer's never changes. Loading takes no lock.
type keySource struct{ p atomic.Pointer[keySet] }

func newKeySource(s *keySet) *keySource {
	src := &keySource{}
	src.p.Store(s)
	return src
}

func (src *keySource) load() *keySet   { return src.p.Load() }
func (src *keySource) store(s *keySet) { src.p.Store(s) }
