package passauth

import (
	"crypto/rand"
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// DefaultBcryptCost is the bcrypt cost HashPassword uses: 2^12 rounds, about
// a quarter of a second on a current server core.
const DefaultBcryptCost = 12

// MaxPasswordLen is the longest password bcrypt can hash, in bytes. Longer
// passwords are rejected with ErrPasswordTooLong rather than silently
// truncated.
const MaxPasswordLen = 72

// HashPassword returns a bcrypt hash of password at DefaultBcryptCost, in the
// modular crypt format "$2a$12$…" that Python's bcrypt, passlib and PHP also
// read. It fails with ErrPasswordTooLong for passwords over MaxPasswordLen
// bytes.
func HashPassword(password string) (string, error) {
	return hashPassword(password, DefaultBcryptCost)
}

func hashPassword(password string, cost int) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", errors.New("passauth: hashing password failed")
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash, a bcrypt hash in any
// of the $2a$, $2b$ and $2y$ variants, comparing in constant time. It returns
// nil on a match, ErrPasswordMismatch on a wrong password, ErrPasswordTooLong
// for a password over MaxPasswordLen bytes (which no bcrypt hash can match
// without truncation), and ErrInvalidHash when hash is malformed.
func CheckPassword(hash, password string) error {
	if len(password) > MaxPasswordLen {
		return ErrPasswordTooLong
	}
	if !isBcryptHash(hash) {
		return ErrInvalidHash
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return ErrPasswordMismatch
	default:
		return ErrInvalidHash
	}
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

// defaultDummyHash is a bcrypt hash at DefaultBcryptCost of 32 random bytes
// nobody kept: checking a password against it costs what checking a real
// hash costs, and never matches.
const defaultDummyHash = "$2a$12$dHv4woC60nld.AJhwWRETugOktmbdIvgkuhf8UQtjCZ8J4gVQ.VH."

// dummyHash returns the hash the token handler checks passwords against for
// unknown users, at the given cost (zero meaning DefaultBcryptCost).
func dummyHash(cost int) (string, error) {
	if cost == 0 || cost == DefaultBcryptCost {
		return defaultDummyHash, nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		return "", errors.New("passauth: creating the dummy password hash failed")
	}
	return string(h), nil
}

// checkDummy spends the time of one password check and reports failure.
// It goes through CheckPassword so that every early exit there (a password
// too long, say) is taken for unknown users too.
func (iss *TokenIssuer) checkDummy(password string) {
	_ = CheckPassword(iss.dummyHash, password)
}
