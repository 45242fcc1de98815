package passauth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// TestHashPassword is the one test in the suite that hashes at
// DefaultBcryptCost (about 5 s under -race); everything else uses
// bcrypt.MinCost.
func TestHashPassword(t *testing.T) {
	t.Parallel()
	const password = "correct horse battery staple"
	hash, err := passauth.HashPassword(password)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hash, "$2a$12$"), "hash prefix %q", hash[:min(len(hash), 7)])
	assert.Len(t, hash, 60)
	cost, err := bcrypt.Cost([]byte(hash))
	require.NoError(t, err)
	assert.Equal(t, passauth.DefaultBcryptCost, cost)
	assert.GreaterOrEqual(t, cost, 12)

	// One check at cost 12 is as slow as the hash; wrong passwords are
	// covered at bcrypt.MinCost below.
	require.NoError(t, passauth.CheckPassword(hash, password))
}

func TestHashPasswordTooLong(t *testing.T) {
	t.Parallel()
	for _, n := range []int{passauth.MaxPasswordLen + 1, 100, 1 << 12} {
		hash, err := passauth.HashPassword(strings.Repeat("p", n))
		require.ErrorIs(t, err, passauth.ErrPasswordTooLong, "length %d", n)
		assert.Empty(t, hash)
	}
}

// Known answers from Openwall's crypt_blowfish test vectors (the
// implementation PHP's $2y$ comes from) and pyca/bcrypt's tests ($2b$, what
// Python's bcrypt and passlib write).
var knownHashes = []struct {
	name, hash, password string
}{
	{"2a U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"2a U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"},
	{"2a U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"},
	{"2a empty", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", ""},
	{"2b U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"2y U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"2b pyca", "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", "Kk4DQuMMfZL9o"},
	{"2y pyca", "$2y$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", "Kk4DQuMMfZL9o"},
}

func TestCheckPasswordKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range knownHashes {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, passauth.CheckPassword(tc.hash, tc.password))
			require.ErrorIs(t, passauth.CheckPassword(tc.hash, tc.password+"x"), passauth.ErrPasswordMismatch)
		})
	}
}

// TestCheckPasswordVariants hashes at MinCost and rewrites the minor version
// to each variant other systems write: the same digest verifies under all.
func TestCheckPasswordVariants(t *testing.T) {
	t.Parallel()
	const password = "s3cret pässword"
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	require.NoError(t, err)
	require.Equal(t, "$2a$", string(h[:4]))

	for _, minor := range []byte{'a', 'b', 'y'} {
		v := append([]byte(nil), h...)
		v[2] = minor
		hash := string(v)
		t.Run(hash[:4], func(t *testing.T) {
			t.Parallel()
			tests := []struct {
				name     string
				password string
				want     error
			}{
				{"right", password, nil},
				{"wrong", "s3cret passwort", passauth.ErrPasswordMismatch},
				{"prefix", password[:len(password)-1], passauth.ErrPasswordMismatch},
				{"empty", "", passauth.ErrPasswordMismatch},
				{"too long", password + strings.Repeat("x", passauth.MaxPasswordLen), passauth.ErrPasswordTooLong},
			}
			for _, tc := range tests {
				err := passauth.CheckPassword(hash, tc.password)
				if tc.want == nil {
					require.NoError(t, err, tc.name)
				} else {
					require.ErrorIs(t, err, tc.want, tc.name)
				}
			}
		})
	}
}

// TestCheckPasswordTooLong checks that a password over 72 bytes is rejected
// even when bcrypt, which reads only 72 bytes, would call it a match.
func TestCheckPasswordTooLong(t *testing.T) {
	t.Parallel()
	p72 := strings.Repeat("0123456789ab", 6)
	require.Len(t, p72, passauth.MaxPasswordLen)
	h, err := bcrypt.GenerateFromPassword([]byte(p72), bcrypt.MinCost)
	require.NoError(t, err)
	hash := string(h)

	tests := []struct {
		name     string
		password string
		want     error
	}{
		{"exactly 72 bytes", p72, nil},
		{"73 bytes", p72 + "!", passauth.ErrPasswordTooLong},
		{"73 bytes of multi-byte runes", strings.Repeat("é", 36) + "!", passauth.ErrPasswordTooLong},
		{"4 KiB", p72 + strings.Repeat("!", 4096), passauth.ErrPasswordTooLong},
		{"71 bytes", p72[:71], passauth.ErrPasswordMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.want == passauth.ErrPasswordTooLong {
				// bcrypt itself would truncate and accept (or refuse): the
				// package must not depend on it.
				require.Greater(t, len(tc.password), passauth.MaxPasswordLen)
			}
			err := passauth.CheckPassword(hash, tc.password)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), tc.password)
		})
	}

	// Openwall's vector: its password is 98 bytes, of which bcrypt reads 72.
	const long = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored"
	const longHash = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(longHash), []byte(long)), "bcrypt truncates")
	require.ErrorIs(t, passauth.CheckPassword(longHash, long), passauth.ErrPasswordTooLong)
	require.NoError(t, passauth.CheckPassword(longHash, long[:passauth.MaxPasswordLen]))
}

func TestCheckPasswordInvalidHash(t *testing.T) {
	t.Parallel()
	valid := "$2a$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm" // "Kk4DQuMMfZL9o"
	const password = "Kk4DQuMMfZL9o"
	require.NoError(t, passauth.CheckPassword(valid, password))

	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"plain text", "plain"},
		{"the password itself", password},
		{"prefix only", "$2a$"},
		{"prefix and cost only", "$2a$04$"},
		{"cost 99", "$2a$99$" + valid[7:]},
		{"cost 03", "$2a$03$" + valid[7:]},
		{"cost one digit", "$2a$4$" + valid[7:] + "m"},
		{"cost not a number", "$2a$xx$" + valid[7:]},
		{"truncated", valid[:40]},
		{"truncated to 58", valid[:58]},
		{"major version 3", "$3a$" + valid[4:]},
		{"no leading dollar", "x" + valid[1:]},
		{"bad salt characters", "$2a$04$!!!!!!!!!!!!!!!!!!!!!!" + valid[29:]},
		{"argon2id", "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObGmR4ZK3XmOAk"},
		{"scrypt", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D"},
		{"sha512-crypt", "$6$saltsalt$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"md5-crypt", "$1$saltsalt$O3Lo4a.KkHA4oAB3Da3sC/"},
		{"trailing bytes", valid + "$$$"},
		{"trailing newline", valid + "\n"},
		{"other bcrypt prefix", "$1$04$" + valid[7:]},
		{"minor version c", "$2c$" + valid[4:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, pw := range []string{password, "", "plain"} {
				err := passauth.CheckPassword(tc.hash, pw)
				require.Error(t, err, "a malformed hash must never match")
				require.ErrorIs(t, err, passauth.ErrInvalidHash)
				assert.NotErrorIs(t, err, passauth.ErrPasswordMismatch)
			}
		})
	}

	t.Run("too long password wins", func(t *testing.T) {
		t.Parallel()
		err := passauth.CheckPassword("plain", strings.Repeat("p", passauth.MaxPasswordLen+1))
		require.ErrorIs(t, err, passauth.ErrPasswordTooLong)
	})
}
