package passauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strings"
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

// TestErrorCodes pins every exported Code constant to its name in the
// OAuth 2.0 registries (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1,
// RFC 8628 §3.5). A constant added to the package and not to the table
// fails the test.
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, got, want string }{
		{"CodeInvalidRequest", passauth.CodeInvalidRequest, "invalid_request"},
		{"CodeInvalidClient", passauth.CodeInvalidClient, "invalid_client"},
		{"CodeInvalidGrant", passauth.CodeInvalidGrant, "invalid_grant"},
		{"CodeUnauthorizedClient", passauth.CodeUnauthorizedClient, "unauthorized_client"},
		{"CodeUnsupportedGrantType", passauth.CodeUnsupportedGrantType, "unsupported_grant_type"},
		{"CodeInvalidScope", passauth.CodeInvalidScope, "invalid_scope"},
		{"CodeInvalidToken", passauth.CodeInvalidToken, "invalid_token"},
		{"CodeInsufficientScope", passauth.CodeInsufficientScope, "insufficient_scope"},
		{"CodeServerError", passauth.CodeServerError, "server_error"},
		{"CodeTemporarilyUnavailable", passauth.CodeTemporarilyUnavailable, "temporarily_unavailable"},
		{"CodeUnsupportedTokenType", passauth.CodeUnsupportedTokenType, "unsupported_token_type"},
		{"CodeSlowDown", passauth.CodeSlowDown, "slow_down"},
	}
	var names []string
	for _, tc := range tests {
		names = append(names, tc.name)
	}
	assert.ElementsMatch(t, exportedNames(t, token.CONST, "Code"), names, "the table does not list every exported Code constant")
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

// exportedNames returns the names of the package's exported top-level
// declarations of kind tok (token.CONST or token.VAR) that start with
// prefix, read from its non-test source files.
func exportedNames(t *testing.T, tok token.Token, prefix string) []string {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var names []string
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != tok {
				continue
			}
			for _, spec := range gd.Specs {
				for _, name := range spec.(*ast.ValueSpec).Names {
					if name.IsExported() && strings.HasPrefix(name.Name, prefix) {
						names = append(names, name.Name)
					}
				}
			}
		}
	}
	require.NotEmpty(t, names, "no exported %s with prefix %q: the scan is broken", tok, prefix)
	return names
}

// TestSentinels checks that every exported sentinel is listed, carries the
// package prefix, and is distinct: none matches another with errors.Is.
func TestSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []struct {
		name string
		err  error
	}{
		{"ErrTokenInvalid", passauth.ErrTokenInvalid},
		{"ErrTokenExpired", passauth.ErrTokenExpired},
		{"ErrTokenReused", passauth.ErrTokenReused},
		{"ErrStoreUnavailable", passauth.ErrStoreUnavailable},
		{"ErrKeysUnavailable", passauth.ErrKeysUnavailable},
		{"ErrNoSession", passauth.ErrNoSession},
		{"ErrPasswordMismatch", passauth.ErrPasswordMismatch},
		{"ErrPasswordTooLong", passauth.ErrPasswordTooLong},
		{"ErrInvalidHash", passauth.ErrInvalidHash},
	}
	var names []string
	for _, s := range sentinels {
		names = append(names, s.name)
	}
	assert.ElementsMatch(t, exportedNames(t, token.VAR, "Err"), names, "the table does not list every exported sentinel")
	for i, a := range sentinels {
		t.Run(a.err.Error(), func(t *testing.T) {
			t.Parallel()
			assert.Regexp(t, `^passauth: [a-z]`, a.err.Error())
			for j, b := range sentinels {
				if i != j {
					assert.NotErrorIs(t, a.err, b.err, "%s matches %s", a.name, b.name)
					assert.NotEqual(t, a.err.Error(), b.err.Error(), "%s and %s read the same", a.name, b.name)
				}
			}
		})
	}
}
