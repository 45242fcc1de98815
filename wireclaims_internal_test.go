package passauth

// The claims set on the wire: its names, absent and present times, the
// checks every token must pass, and application claims beside ours.

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWireClaimsNames checks that reservedClaims, which WithClaims refuses,
// names exactly the claims wireClaims writes.
func TestWireClaimsNames(t *testing.T) {
	t.Parallel()
	at := *jwt.NewNumericDate(time.Unix(1_700_000_000, 0))
	b, err := json.Marshal(&wireClaims{
		Issuer: "i", Subject: "s", Audience: jwt.ClaimStrings{"a"}, ExpiresAt: at, NotBefore: at,
		IssuedAt: at, ID: "j", Scope: "me", ClientID: "c", SessionID: "sid", AuthTime: at,
	})
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	var names []string
	for k := range m {
		names = append(names, k)
	}
	want := slices.Clone(reservedClaims[:])
	slices.Sort(names)
	slices.Sort(want)
	assert.Equal(t, want, names)

	// The zero values are left out, the times too.
	b, err = json.Marshal(&wireClaims{Subject: "s", ID: "j"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"sub":"s","jti":"j"}`, string(b))
}

// TestWireClaimsTimes checks that an absent time claim is nil to the jwt
// parser, so that a token without "exp" is refused, while "exp": 0 is a
// present time, 1970, and so long expired.
//
// The end to end checks are in token_reject_test.go.
func TestWireClaimsTimes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json string
		exp        *time.Time
	}{
		{"absent", `{"sub":"s","jti":"j"}`, nil},
		{"zero", `{"sub":"s","jti":"j","exp":0}`, ptr(time.Unix(0, 0))},
		{"set", `{"sub":"s","jti":"j","exp":1700000000}`, ptr(time.Unix(1_700_000_000, 0))},
		// golang-jwt reads a time to jwt.TimePrecision, a second, cutting
		// the fraction.
		{"fraction", `{"sub":"s","jti":"j","exp":1700000000.9}`, ptr(time.Unix(1_700_000_000, 0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var w wireClaims
			require.NoError(t, json.Unmarshal([]byte(tc.json), &w))
			exp, err := w.GetExpirationTime()
			require.NoError(t, err)
			if tc.exp == nil {
				assert.Nil(t, exp)
			} else {
				require.NotNil(t, exp)
				assert.True(t, exp.Equal(*tc.exp), "exp %v, want %v", exp.Time, *tc.exp)
			}
			for name, get := range map[string]func() (*jwt.NumericDate, error){"nbf": w.GetNotBefore, "iat": w.GetIssuedAt} {
				d, err := get()
				require.NoError(t, err)
				assert.Nil(t, d, name)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestWireClaimsValidate checks what every passauth token must carry.
func TestWireClaimsValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		w    wireClaims
		want error
	}{
		{"complete", wireClaims{Subject: "s", ID: "j", Scope: "me items"}, nil},
		{"no scope", wireClaims{Subject: "s", ID: "j"}, nil},
		{"no sub", wireClaims{ID: "j"}, errTokenNoSubject},
		{"no jti", wireClaims{Subject: "s"}, errTokenNoID},
		{"scope with a quote", wireClaims{Subject: "s", ID: "j", Scope: `me"`}, errTokenBadScope},
		{"scope with two spaces", wireClaims{Subject: "s", ID: "j", Scope: "me  items"}, errTokenBadScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.w.Validate())
		})
	}
}

// TestExtendedClaimsJSON checks that application claims are written beside
// ours, kept exactly, and never in place of one of ours.
func TestExtendedClaimsJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(&extendedClaims{
		wireClaims: &wireClaims{Subject: "alice", ID: "j"},
		extra:      map[string]any{"tenant": json.RawMessage(`18446744073709551615`), "sub": "mallory", "roles": []string{"a"}},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"sub":"alice","jti":"j","tenant":18446744073709551615,"roles":["a"]}`, string(b))
	assert.Contains(t, string(b), `18446744073709551615`)
}
