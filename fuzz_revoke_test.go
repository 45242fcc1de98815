package passauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// FuzzRevocationRequest sends any Content-Type and body to the revocation
// endpoint of an issuer with a healthy store. The answer is always 200 with
// an empty body or 400 invalid_request, never 5xx, never cacheable; and a
// session whose tokens the request does not carry is never revoked.
func FuzzRevocationRequest(f *testing.F) {
	fx := newFixture(f, withMemoryStore, withCheckRevoked)
	seeded := fx.login(f, "alice")
	bystander := fx.login(f, "bob") // never sent in a seed

	seeds := []struct{ contentType, body string }{
		{form, formBody("token", seeded.RefreshToken)},
		{form, formBody("token", seeded.AccessToken, "token_type_hint", "access_token")},
		{form, formBody("token", seeded.RefreshToken, "token_type_hint", "device_code")},
		{form, formBody("token", revokeSwapSignature(seeded.RefreshToken, seeded.AccessToken))},
		{form, formBody("token", "not a token")},
		{form, formBody("token", "a", "token", "b")},
		{form, formBody("token_type_hint", "refresh_token")},
		{form, "token=%zz"},
		{form, "token=" + strings.Repeat("x", testMaxBody)},
		{form, ""},
		{form + "; charset=UTF-8", formBody("token", "eyJhbGciOiJub25lIn0.e30.")},
		{"application/json", `{"token":"x"}`},
		{"multipart/form-data; boundary=x", "--x\r\n"},
		{"text/plain; charset", "token=x"},
		{"", formBody("token", "x")},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.body)
	}

	f.Fuzz(func(t *testing.T, contentType, body string) {
		rec := do(t, fx.revoke, httpReq{contentType: contentType, body: body})
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		switch rec.Code {
		case http.StatusOK:
			assert.Empty(t, rec.Body.String())
		case http.StatusBadRequest:
			assert.Equal(t, passauth.CodeInvalidRequest, decodeError(t, rec).Error)
		default:
			t.Fatalf("revocation answered %s", describe(rec))
		}
		_, err := fx.iss.VerifyAccess(context.Background(), bystander.AccessToken)
		require.NoError(t, err, "a session the request did not name was revoked")
	})
}
