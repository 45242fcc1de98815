package sqlstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/passauth/passauth"
)

const testPassword = "correct horse battery staple"

// TestTablesHoldNoTokens runs logins, refreshes, a replay within the grace
// window, a reuse, revocations and a logout through an issuer's HTTP
// handlers, then reads every column of every row of the store's tables:
// none holds a token, or any of the three parts of one, and no value long
// enough to mean anything is part of a token. The rows do hold the tokens'
// IDs, which shows that the check looked at the right rows.
func TestTablesHoldNoTokens(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		s, d := newStore(t, b)
		iss := newIssuer(t, s, func(c *passauth.Config) {
			c.CheckRevoked = true
			c.RefreshGrace = 10 * time.Second
		})
		hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
		require.NoError(t, err)
		users := passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
			return passauth.User{Username: name, PasswordHash: string(hash)}, true, nil
		})
		mux := http.NewServeMux()
		mux.Handle("/token", iss.TokenHandler(users))
		mux.Handle("/refresh", iss.RefreshHandler(users))
		mux.Handle("/revoke", iss.RevocationHandler())
		srv := httptest.NewServer(mux)
		defer srv.Close()

		var tokens []string
		post := func(path, contentType, body string) (int, passauth.TokenPair) {
			t.Helper()
			resp, err := srv.Client().Post(srv.URL+path, contentType, strings.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			var p passauth.TokenPair
			if resp.StatusCode == http.StatusOK && len(raw) > 0 {
				require.NoError(t, json.Unmarshal(raw, &p))
				tokens = append(tokens, p.AccessToken, p.RefreshToken)
			}
			return resp.StatusCode, p
		}
		form := func(kv ...string) string {
			v := url.Values{}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v.Encode()
		}
		const formType = "application/x-www-form-urlencoded"

		code, p0 := post("/token", formType, form("grant_type", "password", "username", "alice", "password", testPassword))
		require.Equal(t, http.StatusOK, code, "login")
		code, p1 := post("/token", formType, form("grant_type", "refresh_token", "refresh_token", p0.RefreshToken))
		require.Equal(t, http.StatusOK, code, "refresh at the token endpoint")
		code, p2 := post("/refresh", "application/json", `{"refresh_token":"`+p1.RefreshToken+`"}`)
		require.Equal(t, http.StatusOK, code, "refresh at the refresh endpoint")
		code, _ = post("/refresh", "application/json", `{"refresh_token":"`+p1.RefreshToken+`"}`)
		require.Equal(t, http.StatusOK, code, "a replay within the grace window")
		code, _ = post("/revoke", formType, form("token", p2.AccessToken))
		require.Equal(t, http.StatusOK, code, "revoke an access token")
		code, _ = post("/token", formType, form("grant_type", "refresh_token", "refresh_token", p0.RefreshToken))
		require.Equal(t, http.StatusBadRequest, code, "reuse")

		code, p3 := post("/token", formType, form("grant_type", "password", "username", "alice", "password", testPassword))
		require.Equal(t, http.StatusOK, code, "second login")
		code, _ = post("/token", formType, form("grant_type", "password", "username", "bob", "password", testPassword))
		require.Equal(t, http.StatusOK, code, "another user's login")
		code, _ = post("/revoke", formType, form("token", p3.RefreshToken))
		require.Equal(t, http.StatusOK, code, "logout")
		require.NoError(t, iss.RevokeSubject(t.Context(), "bob"))

		var values []string
		for _, table := range []string{"passauth_families", "passauth_denials"} {
			rows := d.rows(t, table)
			require.NotEmpty(t, rows, table)
			for _, row := range rows {
				values = append(values, row...)
			}
		}
		for _, tok := range tokens {
			parts := strings.Split(tok, ".")
			require.Len(t, parts, 3)
			for _, v := range values {
				assert.NotContains(t, v, tok, "a stored value holds a token")
				for i, part := range parts {
					assert.NotContains(t, v, part, "a stored value holds part %d of a token", i)
				}
				if len(v) >= 12 {
					assert.NotContains(t, tok, v, "a stored value is part of a token")
				}
			}
		}

		for _, tok := range []string{p2.RefreshToken, p3.RefreshToken} {
			jti, sid := idsOf(t, tok)
			assert.Contains(t, values, jti, "the tables hold a current refresh token's ID")
			assert.Contains(t, values, sid, "the tables hold a session's ID")
		}
		jti, _ := idsOf(t, p2.AccessToken)
		assert.Contains(t, values, jti, "the denials hold the revoked access token's ID")
	})
}

// idsOf returns the token ID ("jti") and session ID ("sid") of a token,
// read from its payload without verifying it.
func idsOf(t *testing.T, token string) (jti, sid string) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct{ JTI, SID string }
	require.NoError(t, json.Unmarshal(payload, &c))
	require.NotEmpty(t, c.JTI)
	require.NotEmpty(t, c.SID)
	return c.JTI, c.SID
}
