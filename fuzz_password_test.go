package passauth_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

// Bounds on the work one fuzz input may ask for, so that a mutated cost
// field cannot make an input run for seconds: the bcrypt cost, and the
// argon2 memory (KiB) times passes.
const (
	fuzzMaxCost       = 6
	fuzzMaxArgon2Work = 4096 * 4
)

// FuzzCheckPassword checks CheckPassword against a reference built from its
// documentation: argon2id PHC strings parsed by a regular expression and
// computed with x/crypto/argon2, bcrypt hashes in the strict 60-byte
// $2a$/$2b$/$2y$ form handed to x/crypto/bcrypt, ErrInvalidHash for
// everything else. So it never panics, never matches a malformed hash, and
// never accepts a password over 72 bytes against bcrypt.
func FuzzCheckPassword(f *testing.F) {
	for _, kh := range knownHashes {
		f.Add(kh.hash, kh.password)
		f.Add(kh.hash, kh.password+"x")
	}
	for _, mh := range malformedHashes() {
		f.Add(mh.hash, vecUnicode)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	a, err := cheapArgon2.Hash("secret")
	if err != nil {
		f.Fatal(err)
	}
	for _, hash := range []string{string(h), a, "$2y$04$" + string(h[7:]), "$argon2id$v=19$m=64,t=1,p=8$" + a[len("$argon2id$v=19$m=1024,t=1,p=1$"):]} {
		f.Add(hash, "secret")
		f.Add(hash, strings.Repeat("s", passauth.MaxBcryptPasswordLen+1))
	}

	f.Fuzz(func(t *testing.T, hash, password string) {
		if fuzzTooSlow(hash) {
			t.Skip("too much work to fuzz")
		}
		err := passauth.CheckPassword(hash, password)
		want := refCheckPassword(hash, password)
		switch {
		case want == nil && err != nil:
			t.Fatalf("refused a match the reference accepts: %v", err)
		case want != nil && err == nil:
			t.Fatalf("matched where the reference says %v", want)
		case want != nil && !errors.Is(err, want):
			t.Fatalf("got %v, want %v", err, want)
		}
		if errors.Is(err, passauth.ErrInvalidHash) && !(passauth.Argon2id{Memory: 8, Time: 1}).NeedsRehash(hash) {
			t.Fatal("a malformed hash does not need a rehash")
		}
	})
}

// fuzzTooSlow reports whether hash may ask for more work than the fuzzer
// allows. It reads any "m=" and "t=" it finds, in any field, loosely, and
// ignores values beyond the package's limits (256 MiB, 64 passes): those
// hashes must be refused before any work.
func fuzzTooSlow(hash string) bool {
	if cost, err := bcrypt.Cost([]byte(hash)); err == nil && cost > fuzzMaxCost {
		return true
	}
	m, t := uint64(1), uint64(1)
	for _, field := range strings.FieldsFunc(hash, func(r rune) bool { return r == '$' || r == ',' }) {
		name, v, _ := strings.Cut(field, "=")
		n, err := strconv.ParseUint(strings.TrimLeft(v, "+0"), 10, 32)
		switch {
		case err != nil:
		case name == "m" && n <= 256*1024:
			m = max(m, n)
		case name == "t" && n <= 64:
			t = max(t, n)
		}
	}
	return m*t > fuzzMaxArgon2Work
}

// refPHC is the argon2id PHC string CheckPassword reads: version 19, the
// three parameters in order as decimals without sign or leading zero, salt
// and hash in unpadded standard base64.
var refPHC = regexp.MustCompile(`^\$argon2id\$v=19\$m=(0|[1-9][0-9]*),t=(0|[1-9][0-9]*),p=(0|[1-9][0-9]*)\$([A-Za-z0-9+/]*)\$([A-Za-z0-9+/]*)$`)

// refCheckPassword is CheckPassword as documented, written independently.
// The argon2 limits are the package's: m from 8×p to 256 MiB, t from 1 to
// 64, a salt of at least 8 bytes and a hash of 16 to 512.
func refCheckPassword(hash, password string) error {
	if sm := refPHC.FindStringSubmatch(hash); sm != nil {
		m, err1 := strconv.ParseUint(sm[1], 10, 32)
		t, err2 := strconv.ParseUint(sm[2], 10, 32)
		p, err3 := strconv.ParseUint(sm[3], 10, 8)
		enc := base64.RawStdEncoding.Strict()
		salt, err4 := enc.DecodeString(sm[4])
		key, err5 := enc.DecodeString(sm[5])
		if errors.Join(err1, err2, err3, err4, err5) != nil ||
			t < 1 || t > 64 || p < 1 || m < 8*p || m > 256*1024 ||
			len(salt) < 8 || len(key) < 16 || len(key) > 512 {
			return passauth.ErrInvalidHash
		}
		got := argon2.IDKey([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(key)))
		if !bytes.Equal(got, key) {
			return passauth.ErrPasswordMismatch
		}
		return nil
	}
	// x/crypto ignores trailing bytes, the "$" after the cost and any
	// "$N?$" prefix; CheckPassword insists on the 60-byte form.
	strict := len(hash) == 60 && hash[6] == '$' && (strings.HasPrefix(hash, "$2a$") ||
		strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$"))
	if !strict {
		return passauth.ErrInvalidHash
	}
	if len(password) > passauth.MaxBcryptPasswordLen {
		return passauth.ErrPasswordTooLong
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return passauth.ErrPasswordMismatch
	}
	return passauth.ErrInvalidHash
}

// FuzzArgon2idPHC builds argon2id hashes from fuzzed parameters, computed
// with x/crypto/argon2, in the canonical form or in one of several
// near-misses, and checks what CheckPassword and NeedsRehash make of them:
// the canonical form within RFC 9106 and the package's limits matches,
// everything else is ErrInvalidHash. It reaches the numeric boundaries that
// mutating whole strings rarely does.
func FuzzArgon2idPHC(f *testing.F) {
	salt16 := []byte("0123456789abcdef")
	for form := range uint8(phcForms) {
		f.Add(vecUnicode, uint32(1024), uint32(1), uint8(1), salt16, uint16(32), form)
	}
	for _, s := range []struct {
		m, t   uint32
		p      uint8
		salt   []byte
		keyLen uint16
	}{
		{8, 1, 1, salt16[:8], 16}, {16, 2, 2, salt16, 32}, {2040, 1, 255, salt16, 32}, {8, 64, 1, salt16, 512},
		{7, 1, 1, salt16, 32}, {15, 1, 2, salt16, 32}, {0, 1, 1, salt16, 32}, {8, 0, 1, salt16, 32},
		{8, 65, 1, salt16, 32}, {8, 1, 0, salt16, 32}, {256*1024 + 1, 1, 1, salt16, 32},
		{8, 1, 1, salt16[:7], 32}, {8, 1, 1, salt16, 15}, {8, 1, 1, salt16, 513}, {8, 1, 1, nil, 0},
	} {
		f.Add("secret", s.m, s.t, s.p, s.salt, s.keyLen, uint8(0))
	}

	f.Fuzz(func(t *testing.T, password string, m, tm uint32, p uint8, salt []byte, keyLen uint16, form uint8) {
		inRange := tm >= 1 && tm <= 64 && p >= 1 && uint64(m) >= 8*uint64(p) && m <= 256*1024
		if (inRange && uint64(m)*uint64(tm) > fuzzMaxArgon2Work) || keyLen > 1024 || len(salt) > 1024 {
			t.Skip("too much work to fuzz")
		}
		key := bytes.Repeat([]byte{0x5a}, int(keyLen))
		if inRange && keyLen > 0 {
			key = argon2.IDKey([]byte(password), salt, tm, m, p, uint32(keyLen))
		}
		canonical := phcForm(0, m, tm, p, salt, key)
		hash := phcForm(form%phcForms, m, tm, p, salt, key)
		valid := hash == canonical && inRange && len(salt) >= 8 && keyLen >= 16 && keyLen <= 512

		err := passauth.CheckPassword(hash, password)
		wrong := passauth.CheckPassword(hash, password+"x")
		if !valid {
			if !errors.Is(err, passauth.ErrInvalidHash) || !errors.Is(wrong, passauth.ErrInvalidHash) {
				t.Fatalf("malformed (form %d) hash: got %v and %v, want ErrInvalidHash", form%phcForms, err, wrong)
			}
			if !(passauth.Argon2id{Memory: 8, Time: 1}).NeedsRehash(hash) {
				t.Fatal("a malformed hash does not need a rehash")
			}
			return
		}
		if err != nil {
			t.Fatalf("refused its own password: %v", err)
		}
		if !errors.Is(wrong, passauth.ErrPasswordMismatch) {
			t.Fatalf("wrong password: got %v, want ErrPasswordMismatch", wrong)
		}
		short := len(salt) < 16 || keyLen < 32
		if got := (passauth.Argon2id{Memory: m, Time: tm}).NeedsRehash(hash); got != short {
			t.Fatalf("NeedsRehash under its own parameters = %v, want %v", got, short)
		}
		if !(passauth.Argon2id{Memory: m + 1, Time: tm}).NeedsRehash(hash) || !(passauth.Argon2id{Memory: m, Time: tm + 1}).NeedsRehash(hash) {
			t.Fatal("NeedsRehash is false under a stronger policy")
		}
		if !(passauth.Bcrypt{Cost: bcrypt.MinCost}).NeedsRehash(hash) {
			t.Fatal("an argon2id hash does not need a rehash under Bcrypt")
		}
	})
}

// phcForms is the number of forms phcForm writes.
const phcForms = 9

// phcForm writes an argon2id PHC string: form 0 is canonical, the others
// are near-misses that differ from it unless noted.
func phcForm(form uint8, m, t uint32, p uint8, salt, key []byte) string {
	ms, ts, ps := strconv.FormatUint(uint64(m), 10), strconv.FormatUint(uint64(t), 10), strconv.FormatUint(uint64(p), 10)
	enc := base64.RawStdEncoding
	head, params := "$argon2id$v=19$", "m="+ms+",t="+ts+",p="+ps
	tail := "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
	switch form {
	case 1: // padded base64: the same unless a length is a multiple of 3
		tail = "$" + base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(key)
	case 2:
		params = "m=0" + ms + ",t=" + ts + ",p=" + ps
	case 3:
		params = "t=" + ts + ",m=" + ms + ",p=" + ps
	case 4:
		head = "$argon2id$v=16$"
	case 5:
		head = "$argon2i$v=19$"
	case 6:
		tail += "\n"
	case 7:
		params = "m=" + ms + ",t=+" + ts + ",p=" + ps
	case 8: // URL-safe base64: the same unless the salt or hash has + or /
		tail = "$" + base64.RawURLEncoding.EncodeToString(salt) + "$" + base64.RawURLEncoding.EncodeToString(key)
	}
	return head + params + tail
}
