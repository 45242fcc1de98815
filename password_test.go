package passauth_test

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// Argon2id in the tests runs with at most 2 MiB of memory, except
// TestHashPassword (the default 19 MiB) and the few known answers that other
// systems wrote at their defaults.
var (
	cheapArgon2 = passauth.Argon2id{Memory: 1024, Time: 1}
	_           = []passauth.PasswordHasher{passauth.Argon2id{}, passauth.Bcrypt{}}
)

// phcDefaultRE is the shape of HashPassword's output: OWASP's parameters, a
// 16-byte salt and a 32-byte hash in unpadded standard base64.
var phcDefaultRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

// TestHashPassword is the one test that hashes with the default policy (19
// MiB, 2 passes), twice; wrong passwords are checked at cheaper parameters.
func TestHashPassword(t *testing.T) {
	t.Parallel()
	const password = "correct horse battery staple"
	hash, err := passauth.HashPassword(password)
	require.NoError(t, err)
	m := phcDefaultRE.FindStringSubmatch(hash)
	require.NotNil(t, m, "HashPassword output is not a default argon2id PHC string")
	assert.NotContains(t, hash, password)

	require.NoError(t, passauth.CheckPassword(hash, password))
	assert.False(t, passauth.Argon2id{}.NeedsRehash(hash))
	assert.True(t, passauth.Argon2id{Time: 3}.NeedsRehash(hash))

	again, err := passauth.Argon2id{}.Hash(password)
	require.NoError(t, err)
	m2 := phcDefaultRE.FindStringSubmatch(again)
	require.NotNil(t, m2, "Argon2id{}.Hash is not the default policy")
	assert.NotEqual(t, m[1], m2[1], "salt repeated")
	assert.NotEqual(t, m[2], m2[2], "hash repeated")
}

func TestArgon2idHashParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy passauth.Argon2id
		prefix string
	}{
		{cheapArgon2, "$argon2id$v=19$m=1024,t=1,p=1$"},
		{passauth.Argon2id{Memory: 2048, Time: 2, Threads: 2}, "$argon2id$v=19$m=2048,t=2,p=2$"},
		{passauth.Argon2id{Memory: 64, Time: 3, Threads: 8}, "$argon2id$v=19$m=64,t=3,p=8$"},
		{passauth.Argon2id{Memory: 1024, Threads: 4}, "$argon2id$v=19$m=1024,t=2,p=4$"},
		{passauth.Argon2id{Memory: 8, Time: 1, Threads: 1}, "$argon2id$v=19$m=8,t=1,p=1$"},              // RFC 9106 minimum
		{passauth.Argon2id{Memory: 8 * 255, Time: 1, Threads: 255}, "$argon2id$v=19$m=2040,t=1,p=255$"}, // m = 8p
		{passauth.Argon2id{Memory: 8, Time: 64}, "$argon2id$v=19$m=8,t=64,p=1$"},                        // most passes read
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			t.Parallel()
			const password = "hunter2 ünïcode"
			hash, err := tc.policy.Hash(password)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(hash, tc.prefix), "prefix of %q", hash)
			rest := strings.Split(strings.TrimPrefix(hash, tc.prefix), "$")
			require.Len(t, rest, 2)
			assert.Len(t, rest[0], 22, "16-byte salt")
			assert.Len(t, rest[1], 43, "32-byte hash")

			require.NoError(t, passauth.CheckPassword(hash, password))
			require.NoError(t, tc.policy.Check(hash, password))
			require.NoError(t, passauth.Bcrypt{}.Check(hash, password))
			require.ErrorIs(t, passauth.CheckPassword(hash, "hunter2 unicode"), passauth.ErrPasswordMismatch)
			require.ErrorIs(t, passauth.CheckPassword(hash, ""), passauth.ErrPasswordMismatch)
			assert.False(t, tc.policy.NeedsRehash(hash))
		})
	}
}

func TestArgon2idHashInvalidParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy passauth.Argon2id
	}{
		{"memory over 256 MiB", passauth.Argon2id{Memory: 256*1024 + 1, Time: 1}},
		{"memory at uint32 max", passauth.Argon2id{Memory: 1<<32 - 1, Time: 1}},
		{"time over 64", passauth.Argon2id{Memory: 8, Time: 65}},
		{"memory below 8 KiB", passauth.Argon2id{Memory: 7, Time: 1}},
		{"memory below 8 KiB per lane", passauth.Argon2id{Memory: 15, Time: 1, Threads: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hash, err := tc.policy.Hash("password")
			require.Error(t, err)
			assert.Empty(t, hash)
			assert.Contains(t, err.Error(), "passauth: Argon2id parameters")
		})
	}
}

// TestArgon2idLongPassword: argon2 has no 72-byte limit.
func TestArgon2idLongPassword(t *testing.T) {
	t.Parallel()
	for _, n := range []int{passauth.MaxBcryptPasswordLen + 1, 200, 4096} {
		password := strings.Repeat("p", n)
		hash, err := cheapArgon2.Hash(password)
		require.NoError(t, err, "length %d", n)
		require.NoError(t, passauth.CheckPassword(hash, password), "length %d", n)
		require.ErrorIs(t, passauth.CheckPassword(hash, password[:n-1]), passauth.ErrPasswordMismatch)
		require.ErrorIs(t, passauth.CheckPassword(hash, password[:passauth.MaxBcryptPasswordLen]), passauth.ErrPasswordMismatch)
	}
}

// TestBcryptHash hashes once at DefaultBcryptCost (about 5 s under -race);
// the rest runs at bcrypt.MinCost.
func TestBcryptHash(t *testing.T) {
	t.Parallel()
	t.Run("default cost", func(t *testing.T) {
		t.Parallel()
		hash, err := passauth.Bcrypt{}.Hash("correct horse battery staple")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(hash, "$2a$12$"), "prefix %q", hash[:min(len(hash), 7)])
		assert.Len(t, hash, 60)
		cost, err := bcrypt.Cost([]byte(hash))
		require.NoError(t, err)
		assert.Equal(t, passauth.DefaultBcryptCost, cost)
		assert.False(t, passauth.Bcrypt{}.NeedsRehash(hash))
		assert.True(t, passauth.Argon2id{}.NeedsRehash(hash))
	})
	t.Run("cost 4", func(t *testing.T) {
		t.Parallel()
		const password = "s3cret pässword"
		b := passauth.Bcrypt{Cost: bcrypt.MinCost}
		hash, err := b.Hash(password)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(hash, "$2a$04$"), "prefix %q", hash[:min(len(hash), 7)])
		assert.Len(t, hash, 60)
		require.NoError(t, b.Check(hash, password))
		require.NoError(t, cheapArgon2.Check(hash, password))
		require.ErrorIs(t, passauth.CheckPassword(hash, "s3cret passwort"), passauth.ErrPasswordMismatch)
		assert.False(t, b.NeedsRehash(hash))

		other, err := b.Hash(password)
		require.NoError(t, err)
		assert.NotEqual(t, hash[7:29], other[7:29], "salt repeated")
	})
	for _, cost := range []int{-1, 1, bcrypt.MinCost - 1, bcrypt.MaxCost + 1} {
		t.Run("cost "+strconv.Itoa(cost), func(t *testing.T) {
			t.Parallel()
			hash, err := passauth.Bcrypt{Cost: cost}.Hash("password")
			require.Error(t, err, "cost %d", cost)
			assert.Empty(t, hash)
		})
	}
}

func TestBcryptHashTooLong(t *testing.T) {
	t.Parallel()
	for _, n := range []int{passauth.MaxBcryptPasswordLen + 1, 100, 1 << 12} {
		hash, err := passauth.Bcrypt{Cost: bcrypt.MinCost}.Hash(strings.Repeat("p", n))
		require.ErrorIs(t, err, passauth.ErrPasswordTooLong, "length %d", n)
		assert.Empty(t, hash)
	}
	hash, err := passauth.Bcrypt{Cost: bcrypt.MinCost}.Hash(strings.Repeat("p", passauth.MaxBcryptPasswordLen))
	require.NoError(t, err)
	assert.Len(t, hash, 60)
}

// knownHashes are hashes other systems wrote, with their passwords.
//
// The bcrypt ones without a generator named come from Openwall's
// crypt_blowfish test vectors (the implementation PHP's $2y$ comes from) and
// pyca/bcrypt's tests. The others were generated once on Debian 13 with
// argon2-cffi 21.1.0, passlib 1.7.4 and bcrypt (pyca) 3.2.2:
//
//	argon2.PasswordHasher().hash(pw)                    # m=102400,t=2,p=8
//	argon2.PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4,
//	    hash_len=32, salt_len=16).hash(pw)              # argon2-cffi ≥ 21.2's default
//	passlib.hash.argon2.hash(pw)                        # m=102400,t=2,p=8
//	passlib.hash.argon2.using(rounds=1, memory_cost=1024, parallelism=1).hash(pw)
//	passlib.hash.bcrypt.using(rounds=4[, ident="2y"]).hash(pw)
//	bcrypt.hashpw(pw.encode(), bcrypt.gensalt(4))
//
// Heavy ones need 64 or 100 MiB: they run one at a time, not in -short, and
// only with the right password.
var knownHashes = []struct {
	name, hash, password string
	heavy                bool
}{
	{name: "2a U*U", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", password: "U*U"},
	{name: "2a U*U*", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", password: "U*U*"},
	{name: "2a U*U*U", hash: "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", password: "U*U*U"},
	{name: "2a empty", hash: "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", password: ""},
	{name: "2b U*U", hash: "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", password: "U*U"},
	{name: "2y U*U", hash: "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", password: "U*U"},
	{name: "2b pyca", hash: "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", password: "Kk4DQuMMfZL9o"},
	{name: "2y pyca", hash: "$2y$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm", password: "Kk4DQuMMfZL9o"},

	{name: "pyca bcrypt 3.2.2 2b cost 4", hash: "$2b$04$7NlnzlQ0.S1yoEYwGrA5MemqyEZ.iXYAQVYtXGbousTFVpveA8kpu", password: vecPassword},
	{name: "pyca bcrypt 3.2.2 2b cost 5", hash: "$2b$05$AY3WyY8Tr0.0MeSGsuboRe4yDG2D4SfosAwAqcdbD8P0Fucvs7kCa", password: vecUnicode},
	{name: "pyca bcrypt 3.2.2 as PHP 2y", hash: "$2y$04$7NlnzlQ0.S1yoEYwGrA5MemqyEZ.iXYAQVYtXGbousTFVpveA8kpu", password: vecPassword},
	{name: "passlib 1.7.4 bcrypt 2b", hash: "$2b$04$BAb0IX8nqF.R7iTxi04yMObBxn41pD80qRTYtV74LBDP8jsw0j0XK", password: vecPassword},
	{name: "passlib 1.7.4 bcrypt 2y", hash: "$2y$04$q4WQVYNspWYXEP1y4EKHl.9BVEP0mT5dcFDNzUCrP2UL8rg9hCFSK", password: vecUnicode},

	{name: "argon2-cffi 21.1.0 m=1024 t=1 p=1", hash: cffiLowHash, password: vecUnicode},
	{name: "argon2-cffi 21.1.0 m=512 t=2 p=2 salt 8 hash 16", hash: "$argon2id$v=19$m=512,t=2,p=2$Cadil6G5pm8$g762EKC8fNRfVa4YvDRRWg", password: ""},
	{name: "argon2-cffi 21.1.0 200-byte password", hash: "$argon2id$v=19$m=1024,t=1,p=1$m/67gT/9Ey9iH3sTDWkbnQ$r/899dlXH4itQQGG7q0RZ8pBqfbFxg6SLRCrI98OGqI", password: strings.Repeat("p", 200)},
	{name: "passlib 1.7.4 argon2 m=1024 t=1 p=1", hash: passlibLowHash, password: vecUnicode},
	{name: "argon2-cffi 21.1.0 default", hash: "$argon2id$v=19$m=102400,t=2,p=8$I1pSyd5jS3I8cxgqcH3bEw$N6aBCXYqpVeW0/hi+feXdA", password: vecPassword, heavy: true},
	{name: "argon2-cffi RFC 9106 low-memory", hash: "$argon2id$v=19$m=65536,t=3,p=4$ReWfZTA0+bYhp3A7XDA2/A$EH0KByLG+YbE/5392jUYlLolYqIcNTuNUvNqIKVnK/g", password: vecPassword, heavy: true},
	{name: "passlib 1.7.4 argon2 default", hash: "$argon2id$v=19$m=102400,t=2,p=8$IOTcW4txDgEgxBgjZAxB6A$h9xqvKi164M7yyVl0YGUpA", password: vecPassword, heavy: true},
}

const (
	vecPassword = "correct horse battery staple"
	vecUnicode  = "pässwörd 🔑"

	// cffiLowHash and passlibLowHash are argon2id hashes of vecUnicode at
	// m=1024,t=1,p=1, with a 16-byte salt and a 16-byte hash.
	cffiLowHash    = "$argon2id$v=19$m=1024,t=1,p=1$4jyOO/L3Mj/kFA/nG7Gskg$NubcCCCbQoMqLl5rqfbT2A"
	passlibLowHash = "$argon2id$v=19$m=1024,t=1,p=1$7X3P+X+vdU5JKWUs5VwLQQ$wseEL4cmYvmjnvDsWUlotg"
)

func TestCheckPasswordKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range knownHashes {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.heavy {
				t.Parallel()
			} else if testing.Short() {
				t.Skip("64 MiB or more per check")
			}
			require.NoError(t, passauth.CheckPassword(tc.hash, tc.password))
			if tc.heavy {
				return // wrong passwords take the same path at m=1024
			}
			require.ErrorIs(t, passauth.CheckPassword(tc.hash, tc.password+"x"), passauth.ErrPasswordMismatch)
			require.ErrorIs(t, passauth.CheckPassword(tc.hash, "x"+tc.password), passauth.ErrPasswordMismatch)
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
				{"too long", password + strings.Repeat("x", passauth.MaxBcryptPasswordLen), passauth.ErrPasswordTooLong},
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
	require.Len(t, p72, passauth.MaxBcryptPasswordLen)
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
				require.Greater(t, len(tc.password), passauth.MaxBcryptPasswordLen)
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
	require.NoError(t, passauth.CheckPassword(longHash, long[:passauth.MaxBcryptPasswordLen]))

	// The limit is bcrypt's: an argon2id hash takes any length, and a
	// malformed hash is malformed whatever the password.
	require.ErrorIs(t, passauth.CheckPassword(cffiLowHash, vecUnicode+strings.Repeat("x", passauth.MaxBcryptPasswordLen)), passauth.ErrPasswordMismatch)
	require.ErrorIs(t, passauth.CheckPassword("plain", strings.Repeat("p", passauth.MaxBcryptPasswordLen+1)), passauth.ErrInvalidHash)
}

// phc builds an argon2id-like PHC string from its fields, with a salt and a
// hash of the given lengths; it does not compute anything.
func phc(params string, saltLen, keyLen int) string {
	b := func(n int) string {
		return base64.RawStdEncoding.EncodeToString([]byte(strings.Repeat("k", n)))
	}
	return "$argon2id$v=19$" + params + "$" + b(saltLen) + "$" + b(keyLen)
}

// bcryptValid is pyca's vector, of bcryptValidPassword.
const (
	bcryptValid         = "$2a$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm"
	bcryptValidPassword = "Kk4DQuMMfZL9o"
)

// a2Salt and a2Key are the fields of cffiLowHash, of vecUnicode.
const a2Salt, a2Key = "4jyOO/L3Mj/kFA/nG7Gskg", "NubcCCCbQoMqLl5rqfbT2A"

// a2With is cffiLowHash with its one occurrence of old replaced.
func a2With(old, new string) string {
	if strings.Count(cffiLowHash, old) != 1 {
		return "bad test case: " + old // not a hash either
	}
	return strings.Replace(cffiLowHash, old, new, 1)
}

// malformedHashes are the hashes CheckPassword must call ErrInvalidHash
// whatever the password (of at most 72 bytes). The argon2 ones break one
// thing each in cffiLowHash.
func malformedHashes() []struct{ name, hash string } {
	const valid, a2 = bcryptValid, cffiLowHash
	return []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "plain"},
		{"the password itself", bcryptValidPassword},
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
		{"scrypt", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D"},
		{"sha512-crypt", "$6$saltsalt$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"md5-crypt", "$1$saltsalt$O3Lo4a.KkHA4oAB3Da3sC/"},
		{"trailing bytes", valid + "$$$"},
		{"trailing newline", valid + "\n"},
		{"other bcrypt prefix", "$1$04$" + valid[7:]},
		{"minor version c", "$2c$" + valid[4:]},

		{"argon2 version 16", a2With("v=19", "v=16")},
		{"argon2 version 20", a2With("v=19", "v=20")},
		{"argon2 version with leading zero", a2With("v=19", "v=019")},
		{"argon2 no version (5 fields)", a2With("v=19$", "")},
		{"argon2 no hash (5 fields)", strings.TrimSuffix(a2, "$"+a2Key)},
		{"argon2 7 fields", a2 + "$" + a2Key},
		{"argon2 trailing dollar", a2 + "$"},
		{"argon2i", a2With("$argon2id$", "$argon2i$")},
		{"argon2d", a2With("$argon2id$", "$argon2d$")},
		{"argon2id upper case", a2With("$argon2id$", "$ARGON2ID$")},
		{"argon2 no leading dollar", a2[1:]},
		{"argon2 leading space", " " + a2},
		{"argon2 params out of order", a2With("m=1024,t=1,p=1", "t=1,m=1024,p=1")},
		{"argon2 params upper case", a2With("m=1024", "M=1024")},
		{"argon2 extra param", a2With("p=1", "p=1,keyid=abc")},
		{"argon2 data param", a2With("p=1", "p=1,data=YWJj")},
		{"argon2 missing param", a2With("m=1024,t=1,p=1", "m=1024,t=1")},
		{"argon2 empty param", a2With("t=1", "t=")},
		{"argon2 space in params", a2With(",t=1", ", t=1")},
		{"argon2 params separated by $", a2With("m=1024,t=1,p=1", "m=1024$t=1$p=1")},
		{"argon2 m below 8 KiB", a2With("m=1024", "m=7")},
		{"argon2 m below 8×p", a2With("m=1024,t=1,p=1", "m=15,t=1,p=2")},
		{"argon2 m over 256 MiB", a2With("m=1024", "m=262145")},
		{"argon2 m overflows uint32", a2With("m=1024", "m=4294968320")},
		{"argon2 m = 0", a2With("m=1024", "m=0")},
		{"argon2 t = 0", a2With("t=1", "t=0")},
		{"argon2 t = 65", a2With("t=1", "t=65")},
		{"argon2 t huge", a2With("t=1", "t=4294967295")},
		{"argon2 p = 0", a2With("p=1", "p=0")},
		{"argon2 p = 256", a2With("p=1", "p=256")},
		{"argon2 leading zero", a2With("m=1024", "m=01024")},
		{"argon2 t = 01", a2With("t=1", "t=01")},
		{"argon2 plus sign", a2With("m=1024", "m=+1024")},
		{"argon2 minus sign", a2With("t=1", "t=-1")},
		{"argon2 hex", a2With("m=1024", "m=0x400")},
		{"argon2 padded salt", a2With(a2Salt, a2Salt+"==")},
		{"argon2 padded hash", a2 + "=="},
		{"argon2 non-canonical salt", a2With(a2Salt, a2Salt[:21]+"h")},
		{"argon2 non-canonical hash", a2With(a2Key, a2Key[:21]+"B")},
		{"argon2 URL-safe base64", phc("m=1024,t=1,p=1", 16, 32) + "-_"},
		{"argon2 salt not base64", a2With(a2Salt, "!!!!!!!!!!!!!!!!!!!!!!")},
		{"argon2 empty salt", a2With("$"+a2Salt+"$", "$$")},
		{"argon2 empty hash", strings.TrimSuffix(a2, a2Key)},
		{"argon2 salt of 7 bytes", phc("m=1024,t=1,p=1", 7, 32)},
		{"argon2 hash of 15 bytes", phc("m=1024,t=1,p=1", 16, 15)},
		{"argon2 hash of 513 bytes", phc("m=1024,t=1,p=1", 16, 513)},
		{"argon2 trailing newline", a2 + "\n"},
		{"argon2 CRLF inside the salt", a2With(a2Salt, a2Salt[:8]+"\r\n"+a2Salt[8:])},
		{"argon2 NUL", a2 + "\x00"},
	}
}

func TestCheckPasswordInvalidHash(t *testing.T) {
	t.Parallel()
	require.NoError(t, passauth.CheckPassword(bcryptValid, bcryptValidPassword))
	require.NoError(t, passauth.CheckPassword(cffiLowHash, vecUnicode))

	for _, tc := range malformedHashes() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.NotContains(t, tc.hash, "bad test case")
			// (A password over 72 bytes against a bcrypt-shaped hash is
			// ErrPasswordTooLong: TestCheckPasswordTooLong.)
			for _, pw := range []string{bcryptValidPassword, vecUnicode, "", "plain"} {
				err := passauth.CheckPassword(tc.hash, pw)
				require.Error(t, err, "a malformed hash must never match")
				require.ErrorIs(t, err, passauth.ErrInvalidHash)
				assert.NotErrorIs(t, err, passauth.ErrPasswordMismatch)
			}
			assert.True(t, passauth.Argon2id{Memory: 8, Time: 1}.NeedsRehash(tc.hash))
		})
	}

	// The boundaries are valid: the same builder with in-range values gives
	// a mismatch, not ErrInvalidHash.
	for _, h := range []string{
		phc("m=64,t=1,p=1", 8, 16), phc("m=64,t=1,p=8", 16, 32),
		phc("m=8,t=64,p=1", 16, 512), a2With("m=1024", "m=2048"),
	} {
		require.ErrorIs(t, passauth.CheckPassword(h, vecUnicode), passauth.ErrPasswordMismatch, h)
	}
}
