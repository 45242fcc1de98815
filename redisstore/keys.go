package redisstore

import (
	"crypto/sha256"
	"encoding/hex"
)

// subjectKeys names the keys of one subject's records. They all share the
// subject's hash tag, so that Redis Cluster keeps them on one slot and a
// script or an MGET may touch several of them.
type subjectKeys struct {
	base string // <prefix>{<tag>}:
}

// keysOf returns the key names of subject's records: the prefix, then in a
// hash tag the first 16 bytes of the SHA-256 of subject in hex. The subject
// is hashed so that any subject, braces included, makes a tag of the same
// shape, and so that Redis does not hold user names or e-mail addresses.
func (s *Store) keysOf(subject string) subjectKeys {
	sum := sha256.Sum256([]byte(subject))
	var tag [2 * tagBytes]byte
	hex.Encode(tag[:], sum[:tagBytes])
	return subjectKeys{base: s.prefix + "{" + string(tag[:]) + "}:"}
}

// tagBytes is how many bytes of the subject's SHA-256 make its hash tag:
// 128 bits, so that two subjects share records only by a collision no one
// can find.
const tagBytes = 16

// family is the hash of the session (token family) id.
func (k subjectKeys) family(id string) string { return k.base + "fam:" + id }

// sessions is the sorted set of the subject's families, scored by the Unix
// millisecond each may be forgotten at.
func (k subjectKeys) sessions() string { return k.base + "sessions" }

// subjectDenial is the denial of every session of the subject.
func (k subjectKeys) subjectDenial() string { return k.base + "deny:sub" }

// sessionDenial is the denial of the session sid.
func (k subjectKeys) sessionDenial(sid string) string { return k.base + "deny:sid:" + sid }

// tokenDenial is the denial of the access token jti.
func (k subjectKeys) tokenDenial(jti string) string { return k.base + "deny:jti:" + jti }
