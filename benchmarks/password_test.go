package benchmarks_test

import (
	"testing"

	"github.com/passauth/passauth"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkPassword measures one password check at the library's default
// policy (Argon2id: 19 MiB, 2 passes, 1 lane) against bcrypt at cost 12, the
// seed application's scheme. Run it with a fixed count, e.g.
// -benchtime=20x: one check takes tens to hundreds of milliseconds.
func BenchmarkPassword(b *testing.B) {
	const password = "correct horse battery staple"

	b.Run("argon2id-default", func(b *testing.B) {
		hash, err := passauth.HashPassword(password)
		if err != nil {
			b.Fatal(err)
		}
		if err := passauth.CheckPassword(hash, password); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = passauth.CheckPassword(hash, password)
		}
	})

	b.Run("bcrypt-12", func(b *testing.B) {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), 12)
		if err != nil {
			b.Fatal(err)
		}
		pw := []byte(password)
		if err := bcrypt.CompareHashAndPassword(hash, pw); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_ = bcrypt.CompareHashAndPassword(hash, pw)
		}
	})
}
