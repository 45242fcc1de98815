package passauth

import (
	"testing"
)

// TestIsB64Token checks isB64Token's bit set against RFC 6750 §2.1's
// grammar, for every byte alone, inside a token and before padding.
func TestIsB64Token(t *testing.T) {
	inClass := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	}
	for i := range 256 {
		c := byte(i)
		for _, tc := range []struct {
			s    string
			want bool
		}{
			{string([]byte{c}), inClass(c)},
			{"ab" + string([]byte{c}) + "cd", inClass(c)},
			{"ab" + string([]byte{c}) + "==", inClass(c) || c == '='},
			{string([]byte{c}) + "=", inClass(c)},
		} {
			if got := isB64Token(tc.s); got != tc.want {
				t.Errorf("isB64Token(%q) = %v, want %v", tc.s, got, tc.want)
			}
		}
	}
	for _, s := range []string{"", "=", "=="} {
		if isB64Token(s) {
			t.Errorf("isB64Token(%q) = true", s)
		}
	}
}
