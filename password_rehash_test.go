package passauth_test

// NeedsRehash, the question a login asks of the password policy before it
// upgrades a stored hash: true for another scheme, weaker parameters or a
// malformed hash, false for a hash as strong as the policy or stronger.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/passauth/passauth"
)

func TestArgon2idNeedsRehash(t *testing.T) {
	t.Parallel()
	bcryptHash := "$2b$04$cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm"
	tests := []struct {
		name   string
		policy passauth.Argon2id
		hash   string
		want   bool
	}{
		{"bcrypt", passauth.Argon2id{}, bcryptHash, true},
		{"bcrypt 2y cost 31", passauth.Argon2id{}, "$2y$31$" + bcryptHash[7:], true},
		{"default params", passauth.Argon2id{}, phc("m=19456,t=2,p=1", 16, 32), false},
		{"lower memory", passauth.Argon2id{}, phc("m=19455,t=2,p=1", 16, 32), true},
		{"lower time", passauth.Argon2id{}, phc("m=19456,t=1,p=1", 16, 32), true},
		{"higher memory", passauth.Argon2id{}, phc("m=65536,t=2,p=1", 16, 32), false},
		{"higher time", passauth.Argon2id{}, phc("m=19456,t=3,p=1", 16, 32), false},
		{"argon2-cffi RFC 9106 low-memory", passauth.Argon2id{}, phc("m=65536,t=3,p=4", 16, 32), false},
		{"more lanes", passauth.Argon2id{}, phc("m=19456,t=2,p=4", 16, 32), false},
		{"more memory, fewer passes", passauth.Argon2id{}, phc("m=65536,t=1,p=1", 16, 32), true},
		{"short salt", passauth.Argon2id{}, phc("m=19456,t=2,p=1", 8, 32), true},
		{"16-byte hash (passlib, argon2-cffi 21.1)", passauth.Argon2id{}, phc("m=102400,t=2,p=8", 16, 16), true},
		{"longer salt and hash", passauth.Argon2id{}, phc("m=19456,t=2,p=1", 32, 64), false},
		{"cheap policy, equal", cheapArgon2, phc("m=1024,t=1,p=1", 16, 32), false},
		{"cheap policy, stronger", cheapArgon2, phc("m=2048,t=2,p=1", 16, 32), false},
		{"cheap policy, weaker", passauth.Argon2id{Memory: 2048, Time: 2}, phc("m=1024,t=1,p=1", 16, 32), true},
		{"policy time zero means 2", passauth.Argon2id{Memory: 1024}, phc("m=1024,t=1,p=1", 16, 32), true},
		{"malformed", passauth.Argon2id{}, phc("m=19456,t=2,p=1,x=1", 16, 32), true},
		{"argon2i", passauth.Argon2id{}, strings.Replace(phc("m=19456,t=2,p=1", 16, 32), "argon2id", "argon2i", 1), true},
		{"empty", passauth.Argon2id{}, "", true},
		{"plain text", passauth.Argon2id{}, "secret", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.policy.NeedsRehash(tc.hash))
		})
	}
}

func TestBcryptNeedsRehash(t *testing.T) {
	t.Parallel()
	const tail = "cVWp4XaNU8a4v1uMRum2SO026BWLIoQMD/TXg5uZV.0P.uO8m3YEm"
	tests := []struct {
		name   string
		policy passauth.Bcrypt
		hash   string
		want   bool
	}{
		{"cost 10 under 12", passauth.Bcrypt{Cost: 12}, "$2a$10$" + tail, true},
		{"cost 12 under 12", passauth.Bcrypt{Cost: 12}, "$2a$12$" + tail, false},
		{"cost 13 under 12", passauth.Bcrypt{Cost: 12}, "$2b$13$" + tail, false},
		{"2y cost 12 under 12", passauth.Bcrypt{Cost: 12}, "$2y$12$" + tail, false},
		{"cost 11 under zero (12)", passauth.Bcrypt{}, "$2a$11$" + tail, true},
		{"cost 12 under zero (12)", passauth.Bcrypt{}, "$2a$12$" + tail, false},
		{"cost 4 under 4", passauth.Bcrypt{Cost: 4}, "$2a$04$" + tail, false},
		{"argon2id", passauth.Bcrypt{Cost: 4}, phc("m=65536,t=3,p=4", 16, 32), true},
		{"argon2id real", passauth.Bcrypt{Cost: 4}, cffiLowHash, true},
		{"truncated", passauth.Bcrypt{Cost: 4}, ("$2a$12$" + tail)[:59], true},
		{"trailing bytes", passauth.Bcrypt{Cost: 4}, "$2a$12$" + tail + "x", true},
		{"minor version c", passauth.Bcrypt{Cost: 4}, "$2c$12$" + tail, true},
		{"cost not a number", passauth.Bcrypt{Cost: 4}, "$2a$xx$" + tail, true},
		{"empty", passauth.Bcrypt{}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.policy.NeedsRehash(tc.hash))
		})
	}
}
