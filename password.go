package passauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// PasswordHasher is a password storage policy: how new passwords are hashed
// and which stored hashes are due for an upgrade. Set it as
// Config.PasswordHasher; Argon2id (the default) and Bcrypt are provided, and
// an application may plug in another scheme.
//
// Implementations must be safe for concurrent use.
type PasswordHasher interface {
	// Hash returns a self-describing hash of password with a fresh salt.
	Hash(password string) (string, error)
	// Check reports whether password matches hash: nil on a match,
	// ErrPasswordMismatch on a wrong password, ErrInvalidHash for a hash it
	// cannot read. It must compare in constant time and accept every scheme
	// the application still has hashes of; CheckPassword does that for
	// argon2id and bcrypt.
	Check(hash, password string) error
	// NeedsRehash reports whether hash is weaker than this policy, so that
	// the token handler replaces it after the user's next successful login.
	NeedsRehash(hash string) bool
}

// Default Argon2id parameters: OWASP's first recommendation for password
// storage (19 MiB of memory, 2 passes, 1 lane), a 16-byte salt and a 32-byte
// hash.
const (
	DefaultArgon2Memory  = 19 * 1024 // KiB
	DefaultArgon2Time    = 2
	DefaultArgon2Threads = 1
)

const (
	argon2SaltLen = 16
	argon2KeyLen  = 32
)

// Argon2id is the Argon2id password policy (RFC 9106), writing hashes in the
// PHC string format that Python's argon2-cffi, passlib and pwdlib also write
// and read: "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". Zero fields take
// the Default values, so Argon2id{} is the recommended policy.
type Argon2id struct {
	Memory  uint32 // KiB of memory per hash; zero means DefaultArgon2Memory
	Time    uint32 // passes over the memory; zero means DefaultArgon2Time
	Threads uint8  // lanes; zero means DefaultArgon2Threads
}

func (a Argon2id) params() argon2Params {
	p := argon2Params{memory: a.Memory, time: a.Time, threads: a.Threads}
	if p.memory == 0 {
		p.memory = DefaultArgon2Memory
	}
	if p.time == 0 {
		p.time = DefaultArgon2Time
	}
	if p.threads == 0 {
		p.threads = DefaultArgon2Threads
	}
	return p
}

// Hash returns the PHC string of an Argon2id hash of password.
func (a Argon2id) Hash(password string) (string, error) {
	p := a.params()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("passauth: Argon2id parameters: %w", err)
	}
	salt := make([]byte, argon2SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argon2KeyLen)
	return p.encode(salt, key), nil
}

// Check is CheckPassword: it verifies argon2id and bcrypt hashes alike, so
// that users with old hashes still log in.
func (Argon2id) Check(hash, password string) error { return CheckPassword(hash, password) }

// NeedsRehash reports whether hash is anything but an argon2id hash with at
// least a's memory and passes and a full-size salt and hash.
func (a Argon2id) NeedsRehash(hash string) bool {
	h, err := parseArgon2id(hash)
	if err != nil {
		return true
	}
	want := a.params()
	return h.memory < want.memory || h.time < want.time ||
		len(h.salt) < argon2SaltLen || len(h.key) < argon2KeyLen
}

// DefaultBcryptCost is the cost the Bcrypt policy uses when its Cost is zero.
const DefaultBcryptCost = 12

// MaxBcryptPasswordLen is the longest password bcrypt can hash, in bytes:
// bcrypt's own limit, not a limit of passauth or of Argon2id. Longer
// passwords are rejected with ErrPasswordTooLong rather than silently
// truncated, when hashing with bcrypt and when checking a bcrypt hash.
const MaxBcryptPasswordLen = 72

// MaxPasswordLen is MaxBcryptPasswordLen.
//
// Deprecated: the limit is bcrypt's alone; use MaxBcryptPasswordLen.
const MaxPasswordLen = MaxBcryptPasswordLen

// Bcrypt is the bcrypt password policy, for applications that must keep
// writing bcrypt hashes. Zero Cost means DefaultBcryptCost.
type Bcrypt struct {
	Cost int
}

func (b Bcrypt) cost() int {
	if b.Cost == 0 {
		return DefaultBcryptCost
	}
	return b.Cost
}

// Hash returns a bcrypt hash of password in the modular crypt format
// ("$2a$12$…"). It fails with ErrPasswordTooLong for passwords over
// MaxBcryptPasswordLen bytes.
func (b Bcrypt) Hash(password string) (string, error) {
	if len(password) > MaxBcryptPasswordLen {
		return "", ErrPasswordTooLong
	}
	if b.cost() < bcrypt.MinCost {
		// x/crypto would silently use its DefaultCost instead.
		return "", errors.New("passauth: bcrypt cost out of range")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), b.cost())
	if err != nil {
		return "", errors.New("passauth: bcrypt cost out of range")
	}
	return string(h), nil
}

// Check is CheckPassword.
func (Bcrypt) Check(hash, password string) error { return CheckPassword(hash, password) }

// NeedsRehash reports whether hash is not a bcrypt hash of at least b's
// cost.
func (b Bcrypt) NeedsRehash(hash string) bool {
	if !isBcryptHash(hash) {
		return true
	}
	cost, err := bcrypt.Cost([]byte(hash))
	return err != nil || cost < b.cost()
}

// HashPassword hashes password with the default policy, Argon2id{}.
func HashPassword(password string) (string, error) {
	return Argon2id{}.Hash(password)
}

// CheckPassword reports whether password matches hash, comparing in
// constant time. It reads argon2id hashes in the PHC string format (as
// written by HashPassword, argon2-cffi, passlib and pwdlib) and bcrypt hashes
// in the $2a$, $2b$ and $2y$ variants (Python's bcrypt, passlib, PHP).
//
// It returns nil on a match, ErrPasswordMismatch on a wrong password,
// ErrPasswordTooLong for a password over MaxBcryptPasswordLen bytes checked against
// a bcrypt hash (which could only match by truncation), and ErrInvalidHash
// when hash is malformed, of another scheme, or asks for more work than
// passauth allows (see the limits in parseArgon2id). A malformed hash never
// matches.
func CheckPassword(hash, password string) error {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		h, err := parseArgon2id(hash)
		if err != nil {
			return ErrInvalidHash
		}
		key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
		if subtle.ConstantTimeCompare(key, h.key) != 1 {
			return ErrPasswordMismatch
		}
		return nil
	case isBcryptHash(hash):
		if len(password) > MaxBcryptPasswordLen {
			return ErrPasswordTooLong
		}
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return ErrPasswordMismatch
		}
	}
	return ErrInvalidHash
}

// isBcryptHash reports whether hash has the shape of a bcrypt hash in the
// modular crypt format: "$2a$", "$2b$" or "$2y$", two cost digits, "$", and
// 53 characters of salt and digest. x/crypto alone would ignore trailing
// bytes and accept other prefixes.
func isBcryptHash(hash string) bool {
	const bcryptHashLen = 60
	return len(hash) == bcryptHashLen &&
		hash[0] == '$' && hash[1] == '2' && strings.IndexByte("aby", hash[2]) >= 0 &&
		hash[3] == '$' && hash[6] == '$'
}

// Limits on the argon2id hashes CheckPassword reads, so that a corrupt or
// planted hash cannot make one check allocate gigabytes or run for minutes.
const (
	maxArgon2Memory  = 256 * 1024 // KiB
	maxArgon2Time    = 64
	minArgon2SaltLen = 8
	minArgon2KeyLen  = 16
	maxArgon2KeyLen  = 512
)

type argon2Params struct {
	memory  uint32
	time    uint32
	threads uint8
}

// validate checks p against RFC 9106 §3.1 and the package's limits.
func (p argon2Params) validate() error {
	switch {
	case p.time < 1 || p.time > maxArgon2Time:
		return fmt.Errorf("time (t) must be 1 to %d", maxArgon2Time)
	case p.threads < 1:
		return errors.New("threads (p) must be at least 1")
	case p.memory < 8*uint32(p.threads) || p.memory > maxArgon2Memory:
		return fmt.Errorf("memory (m) must be 8×p to %d KiB", maxArgon2Memory)
	}
	return nil
}

// encode writes a PHC string; salt and hash in unpadded standard base64.
func (p argon2Params) encode(salt, key []byte) string {
	var b strings.Builder
	b.WriteString("$argon2id$v=19$m=")
	b.WriteString(strconv.FormatUint(uint64(p.memory), 10))
	b.WriteString(",t=")
	b.WriteString(strconv.FormatUint(uint64(p.time), 10))
	b.WriteString(",p=")
	b.WriteString(strconv.FormatUint(uint64(p.threads), 10))
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(salt))
	b.WriteByte('$')
	b.WriteString(base64.RawStdEncoding.EncodeToString(key))
	return b.String()
}

type argon2Hash struct {
	argon2Params
	salt, key []byte
}

// parseArgon2id reads "$argon2id$v=19$m=M,t=T,p=P$salt$hash": version 19
// (0x13, the only one x/crypto computes), the three parameters in that
// order, salt and hash in unpadded standard base64.
func parseArgon2id(s string) (argon2Hash, error) {
	var h argon2Hash
	// encoding/base64 skips CR and LF even in strict mode: refuse them, so
	// that "hash\n" is as malformed here as it is for bcrypt.
	fields := strings.Split(s, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" || fields[2] != "v=19" ||
		strings.ContainsAny(s, "\r\n") {
		return h, ErrInvalidHash
	}
	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return h, ErrInvalidHash
	}
	m, err1 := phcParam(params[0], "m=", 32)
	t, err2 := phcParam(params[1], "t=", 32)
	p, err3 := phcParam(params[2], "p=", 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return h, ErrInvalidHash
	}
	h.argon2Params = argon2Params{memory: uint32(m), time: uint32(t), threads: uint8(p)}
	if h.validate() != nil {
		return h, ErrInvalidHash
	}
	enc := base64.RawStdEncoding.Strict()
	salt, err1 := enc.DecodeString(fields[4])
	key, err2 := enc.DecodeString(fields[5])
	if err1 != nil || err2 != nil || len(salt) < minArgon2SaltLen ||
		len(key) < minArgon2KeyLen || len(key) > maxArgon2KeyLen {
		return h, ErrInvalidHash
	}
	h.salt, h.key = salt, key
	return h, nil
}

// phcParam parses "name=decimal" with no sign, no leading zero and at most
// bits bits.
func phcParam(s, name string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, name)
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') || v[0] == '+' {
		return 0, ErrInvalidHash
	}
	return strconv.ParseUint(v, 10, bits)
}
