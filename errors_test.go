package passauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestErrorError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  passauth.Error
		want string
	}{
		{"code and description",
			passauth.Error{Code: passauth.CodeInvalidGrant, Description: "Incorrect username or password", Status: http.StatusBadRequest},
			"passauth: invalid_grant: Incorrect username or password"},
		{"code only",
			passauth.Error{Code: passauth.CodeInvalidRequest, Status: http.StatusBadRequest},
			"passauth: invalid_request"},
		{"no code falls back to the status text",
			passauth.Error{Status: http.StatusUnauthorized},
			"passauth: Unauthorized"},
		{"no code with description",
			passauth.Error{Description: "Not authenticated", Status: http.StatusUnauthorized},
			"passauth: Unauthorized: Not authenticated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.err
			assert.Equal(t, tc.want, e.Error())
			var err error = &e
			var target *passauth.Error
			require.True(t, errors.As(fmt.Errorf("wrapped: %w", err), &target))
			assert.Equal(t, tc.err, *target)
		})
	}
}

func TestErrorChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  passauth.Error
		want string
	}{
		{"no code", passauth.Error{Status: http.StatusUnauthorized}, "Bearer"},
		{"no code ignores description", passauth.Error{Description: "Not authenticated", Status: http.StatusUnauthorized}, "Bearer"},
		{"code and description",
			passauth.Error{Code: passauth.CodeInvalidToken, Description: "Token expired", Status: http.StatusUnauthorized},
			`Bearer error="invalid_token", error_description="Token expired"`},
		{"code only",
			passauth.Error{Code: passauth.CodeInvalidToken, Status: http.StatusUnauthorized},
			`Bearer error="invalid_token"`},
		{"invalid_request",
			passauth.Error{Code: passauth.CodeInvalidRequest, Description: "Malformed Authorization header", Status: http.StatusBadRequest},
			`Bearer error="invalid_request", error_description="Malformed Authorization header"`},
		{"insufficient_scope",
			passauth.Error{Code: passauth.CodeInsufficientScope, Status: http.StatusForbidden},
			`Bearer error="insufficient_scope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.err.Challenge())
		})
	}
}

func TestErrorJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  passauth.Error
		want string
	}{
		{"code and description",
			passauth.Error{Code: passauth.CodeInvalidGrant, Description: "Incorrect username or password", Status: http.StatusBadRequest},
			`{"error":"invalid_grant","error_description":"Incorrect username or password"}`},
		{"code only", passauth.Error{Code: passauth.CodeUnsupportedGrantType, Status: http.StatusBadRequest},
			`{"error":"unsupported_grant_type"}`},
		{"quotes escaped",
			passauth.Error{Code: passauth.CodeInvalidRequest, Description: `field "username" is missing`, Status: http.StatusBadRequest},
			`{"error":"invalid_request","error_description":"field \"username\" is missing"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range []any{tc.err, &tc.err} {
				b, err := json.Marshal(v)
				require.NoError(t, err)
				assert.JSONEq(t, tc.want, string(b))

				var m map[string]any
				require.NoError(t, json.Unmarshal(b, &m))
				assert.NotContains(t, m, "Status")
				assert.NotContains(t, m, "status")
				for k := range m {
					assert.Contains(t, []string{"error", "error_description"}, k)
				}
			}
		})
	}

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		in := passauth.Error{Code: passauth.CodeInvalidToken, Description: "Token expired", Status: http.StatusUnauthorized}
		b, err := json.Marshal(in)
		require.NoError(t, err)
		var out passauth.Error
		require.NoError(t, json.Unmarshal(b, &out))
		assert.Equal(t, passauth.Error{Code: in.Code, Description: in.Description}, out)
	})
}

// TestErrorCodes pins the registered RFC 6749 §5.2 and RFC 6750 §3.1 codes.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{passauth.CodeInvalidRequest, "invalid_request"},
		{passauth.CodeInvalidClient, "invalid_client"},
		{passauth.CodeInvalidGrant, "invalid_grant"},
		{passauth.CodeUnauthorizedClient, "unauthorized_client"},
		{passauth.CodeUnsupportedGrantType, "unsupported_grant_type"},
		{passauth.CodeInvalidScope, "invalid_scope"},
		{passauth.CodeInvalidToken, "invalid_token"},
		{passauth.CodeInsufficientScope, "insufficient_scope"},
		{passauth.CodeServerError, "server_error"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

// TestSentinels checks the sentinels are distinct, carry the package prefix,
// and that only token errors match ErrTokenInvalid.
func TestSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []error{
		passauth.ErrTokenInvalid, passauth.ErrTokenExpired, passauth.ErrPasswordMismatch,
		passauth.ErrPasswordTooLong, passauth.ErrInvalidHash,
	}
	for i, a := range sentinels {
		t.Run(a.Error(), func(t *testing.T) {
			t.Parallel()
			assert.Regexp(t, `^passauth: [a-z]`, a.Error())
			for j, b := range sentinels {
				if i != j {
					assert.NotErrorIs(t, a, b)
				}
			}
		})
	}
}
