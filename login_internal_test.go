package passauth

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzFoldKey checks that two user names share a limiter key exactly when
// strings.EqualFold calls them equal, and that any name and its case
// variants (each character replaced by another of its folding orbit) share
// one.
func FuzzFoldKey(f *testing.F) {
	for _, seed := range [][2]string{
		{"alice", "ALICE"}, {"ſam", "SAM"}, {"ſAM", "sam"}, {"ϐeta", "βETA"}, {"ϑ", "Θ"},
		{"ς", "Σ"}, {"K", "k"}, {"ß", "ẞ"}, {"ß", "ss"}, {"İ", "i"}, {"µ", "Μ"}, {"Ǳ", "ǲ"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return // refused before any key is made
		}
		if same, equal := foldKey(a) == foldKey(b), strings.EqualFold(a, b); same != equal {
			t.Fatalf("foldKey equal %v, EqualFold %v for %q and %q", same, equal, a, b)
		}
		variant := strings.Map(unicode.SimpleFold, a)
		if foldKey(variant) != foldKey(a) {
			t.Fatalf("%q and its case variant %q have different keys", a, variant)
		}
	})
}

func TestAddrKey(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"unix-socket", "unix-socket"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := addrKey(tt.addr); got != tt.want {
			t.Errorf("addrKey(%q) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
