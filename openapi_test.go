package passauth_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

func TestOpenAPIScheme(t *testing.T) {
	t.Parallel()
	scopes := map[string]string{"me": "Read your own profile", "items": "Read items"}
	s := passauth.OpenAPIScheme("api/auth/login", "api/auth/login", scopes)
	scopes["me"] = "changed" // the scheme keeps its own copy

	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"type": "oauth2",
		"description": "OAuth 2.0 password flow (RFC 6749 §4.3); send the access token as Authorization: Bearer.",
		"flows": {"password": {
			"tokenUrl": "api/auth/login",
			"refreshUrl": "api/auth/login",
			"scopes": {"me": "Read your own profile", "items": "Read items"}
		}}
	}`, string(b))

	// OpenAPI requires the scopes map even when there are none.
	b, err = json.Marshal(passauth.OpenAPIScheme("/token", "", nil))
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"type": "oauth2",
		"description": "OAuth 2.0 password flow (RFC 6749 §4.3); send the access token as Authorization: Bearer.",
		"flows": {"password": {"tokenUrl": "/token", "scopes": {}}}
	}`, string(b))
}
