package passauth_test

// request.go's parsers seen through the handlers: the token endpoint's form
// body and Basic credentials, and the refresh endpoint's JSON, form or
// Bearer token.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// How the token endpoint reads its request: the form body only, with the
// Content-Type, repetition, encoding and size rules of RFC 6749 §3.2 and
// §4.3.2, and client credentials in an optional Basic header (§2.3.1).
func TestTokenRequestParsing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login := formBody("username", "alice", "password", alicePassword)
	const (
		wrongType = "Content-Type must be application/x-www-form-urlencoded"
		repeated  = "a parameter is repeated"
		malformed = "malformed form body"
		badBasic  = "malformed Basic credentials"
		tooLarge  = "request body too large"

		badClientID = "client_id must be at most 255 printable ASCII characters"
	)
	tests := []struct {
		name   string
		req    httpReq
		status int    // 200, or the error's status
		desc   string // the invalid_request description; "" on success
		sub    string // on success
		client string // on success
	}{
		{name: "form", req: httpReq{contentType: form, body: login}, status: 200, sub: "alice"},
		{name: "form with charset", req: httpReq{contentType: form + "; charset=UTF-8", body: login}, status: 200, sub: "alice"},
		{name: "media type in upper case", req: httpReq{contentType: "Application/X-WWW-Form-URLEncoded", body: login}, status: 200, sub: "alice"},
		{name: "percent-encoded values", req: httpReq{contentType: form, body: "username=al%69ce&password=alice%20pass%21word"}, status: 200, sub: "alice"},
		{name: "unknown parameters ignored, even repeated", req: httpReq{contentType: form, body: login + "&foo=1&foo=2&state="}, status: 200, sub: "alice"},
		{name: "body exactly at the limit", req: httpReq{contentType: form, body: padForm(login, testMaxBody)}, status: 200, sub: "alice"},
		{name: "body wins over the query string", req: httpReq{target: "/?username=bob&password=" + strings.ReplaceAll(bobPassword, " ", "+"), contentType: form, body: login}, status: 200, sub: "alice"},
		{name: "basic in lower case", req: httpReq{contentType: form, body: login, header: []string{"Authorization", "basic " + b64("cli:")}}, status: 200, sub: "alice", client: "cli"},
		{name: "Basic with a secret", req: httpReq{contentType: form, body: login, header: []string{"Authorization", basic("cli", "s3cret")}}, status: 200, sub: "alice", client: "cli"},
		{name: "Basic client id form-encoded", req: httpReq{contentType: form, body: login, header: []string{"Authorization", "Basic " + b64("my%2Fclient:")}}, status: 200, sub: "alice", client: "my/client"},
		{name: "empty Basic and a form client_secret", req: httpReq{contentType: form, body: login + "&client_secret=s", header: []string{"Authorization", basic("", "")}}, status: 200, sub: "alice"},
		{name: "client_id of 255 VSCHARs", req: postForm("username", "alice", "password", alicePassword, "client_id", clientID255), status: 200, sub: "alice", client: clientID255},
		{name: "client_id with a space and punctuation", req: postForm("username", "alice", "password", alicePassword, "client_id", `my app/1.0 "x"~`), status: 200, sub: "alice", client: `my app/1.0 "x"~`},

		{name: "JSON", req: httpReq{contentType: "application/json", body: `{"username":"alice","password":"` + alicePassword + `"}`}, status: 400, desc: wrongType},
		{name: "JSON content type, form body", req: httpReq{contentType: "application/json", body: login}, status: 400, desc: wrongType},
		{name: "text/plain", req: httpReq{contentType: "text/plain", body: login}, status: 400, desc: wrongType},
		{name: "multipart", req: httpReq{contentType: "multipart/form-data; boundary=x", body: login}, status: 400, desc: wrongType},
		{name: "no Content-Type", req: httpReq{body: login}, status: 400, desc: wrongType},
		{name: "unparsable Content-Type", req: httpReq{contentType: form + "; charset", body: login}, status: 400, desc: wrongType},
		{name: "two Content-Type headers", req: httpReq{contentType: form, body: login, header: []string{"Content-Type", form}}, status: 400, desc: wrongType},
		{name: "repeated username", req: postForm("username", "alice", "username", "alice", "password", alicePassword), status: 400, desc: repeated},
		{name: "repeated username, one empty", req: postForm("username", "", "username", "alice", "password", alicePassword), status: 400, desc: repeated},
		{name: "repeated password", req: postForm("username", "alice", "password", alicePassword, "password", "x"), status: 400, desc: repeated},
		{name: "repeated grant_type", req: postForm("grant_type", "password", "grant_type", "password", "username", "alice", "password", alicePassword), status: 400, desc: repeated},
		{name: "repeated scope", req: postForm("username", "alice", "password", alicePassword, "scope", "me", "scope", "items"), status: 400, desc: repeated},
		{name: "repeated client_id", req: postForm("username", "alice", "password", alicePassword, "client_id", "a", "client_id", "a"), status: 400, desc: repeated},
		{name: "repeated client_secret", req: postForm("username", "alice", "password", alicePassword, "client_secret", "a", "client_secret", "b"), status: 400, desc: repeated},
		{name: "repeated refresh_token", req: postForm("grant_type", "refresh_token", "refresh_token", "a", "refresh_token", "b"), status: 400, desc: repeated},
		{name: "bad percent escape", req: httpReq{contentType: form, body: "username=alice&password=%zz"}, status: 400, desc: malformed},
		{name: "semicolon separator", req: httpReq{contentType: form, body: "username=alice;password=x"}, status: 400, desc: malformed},
		{name: "one byte over the limit", req: httpReq{contentType: form, body: padForm(login, testMaxBody+1)}, status: 400, desc: tooLarge},
		{name: "far over the limit", req: httpReq{contentType: form, body: padForm(login, 64<<10)}, status: 400, desc: tooLarge},
		{name: "credentials in the query string only", req: httpReq{target: "/?" + login, contentType: form}, status: 400, desc: "missing username"},
		{name: "Basic and a form client_secret", req: httpReq{contentType: form, body: login + "&client_secret=s", header: []string{"Authorization", basic("cli", "")}}, status: 400, desc: "client credentials sent in both the header and the body"},
		{name: "Basic and another form client_id", req: httpReq{contentType: form, body: login + "&client_id=other", header: []string{"Authorization", basic("cli", "")}}, status: 400, desc: "client credentials sent in both the header and the body"},
		{name: "Basic not base64", req: httpReq{contentType: form, body: login, header: []string{"Authorization", "Basic !!!"}}, status: 400, desc: badBasic},
		{name: "Basic without a colon", req: httpReq{contentType: form, body: login, header: []string{"Authorization", "Basic " + b64("cli")}}, status: 400, desc: badBasic},
		{name: "Basic alone", req: httpReq{contentType: form, body: login, header: []string{"Authorization", "Basic"}}, status: 400, desc: badBasic},
		{name: "Basic with a bad escape", req: httpReq{contentType: form, body: login, header: []string{"Authorization", "Basic " + b64("%zz:")}}, status: 400, desc: badBasic},
		{name: "client_id of 256 bytes", req: postForm("username", "alice", "password", alicePassword, "client_id", clientID255+"x"), status: 400, desc: badClientID},
		{name: "client_id of 600 bytes", req: httpReq{contentType: form, body: login + "&client_id=" + strings.Repeat("c", 600)}, status: 400, desc: badClientID},
		{name: "client_id not UTF-8", req: httpReq{contentType: form, body: login + "&client_id=%FF%FE"}, status: 400, desc: badClientID},
		{name: "client_id not ASCII", req: postForm("username", "alice", "password", alicePassword, "client_id", "café"), status: 400, desc: badClientID},
		{name: "client_id with a tab", req: postForm("username", "alice", "password", alicePassword, "client_id", "a\tb"), status: 400, desc: badClientID},
		{name: "client_id with a DEL", req: postForm("username", "alice", "password", alicePassword, "client_id", "a\x7fb"), status: 400, desc: badClientID},
		{name: "Basic client id of 256 bytes", req: httpReq{contentType: form, body: login, header: []string{"Authorization", basic(clientID255+"x", "")}}, status: 400, desc: badClientID},
		{name: "Basic client id with a newline", req: httpReq{contentType: form, body: login, header: []string{"Authorization", basic("a\nb", "")}}, status: 400, desc: badClientID},
		{name: "refresh grant with a bad client_id", req: postForm("grant_type", "refresh_token", "refresh_token", "x", "client_id", "a\x00"), status: 400, desc: badClientID},
		{name: "two Authorization headers", req: httpReq{contentType: form, body: login, header: []string{"Authorization", basic("", ""), "Authorization", basic("", "")}}, status: 400, desc: "more than one Authorization header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, f.token, tc.req)
			if tc.status != http.StatusOK {
				assertError(t, rec, tc.status, "invalid_request", tc.desc)
				return
			}
			pair := requirePair(t, rec)
			claims, err := f.iss.VerifyAccess(context.Background(), pair.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, tc.sub, claims.Subject)
			assert.Equal(t, tc.client, claims.ClientID)
		})
	}
}

// clientID255 is a client_id of the greatest length allowed.
var clientID255 = strings.Repeat("client-", 36) + "abc"

// padForm pads a form body with an ignored parameter to exactly n bytes.
func padForm(body string, n int) string {
	body += "&pad="
	return body + strings.Repeat("x", n-len(body))
}

// How the refresh endpoint finds its token: in a JSON or form body or a
// Bearer header, exactly one of them.
func TestRefreshRequestParsing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pair, err := f.iss.IssuePair(context.Background(), "alice")
	require.NoError(t, err)
	rt := pair.RefreshToken
	jsonBody := `{"refresh_token":"` + rt + `"}`
	tests := []struct {
		name   string
		req    httpReq
		status int
		desc   string // the invalid_request description, when checked
	}{
		{name: "JSON", req: httpReq{contentType: "application/json", body: jsonBody}, status: 200},
		{name: "JSON in upper case", req: httpReq{contentType: "Application/JSON", body: jsonBody}, status: 200},
		{name: "JSON at the limit", req: httpReq{contentType: "application/json", body: jsonBody + strings.Repeat(" ", testMaxBody-len(jsonBody))}, status: 200},
		{name: "form", req: postForm("refresh_token", rt), status: 200},
		{name: "header, no body", req: httpReq{header: []string{"Authorization", "Bearer " + rt}}, status: 200},
		{name: "header, empty form", req: httpReq{contentType: form, header: []string{"Authorization", "Bearer " + rt}}, status: 200},
		{name: "JSON with other members", req: httpReq{contentType: "application/json", body: `{"client":"web","refresh_token":"` + rt + `","n":[1,{"a":2}]}`}, status: 200},
		{name: "JSON, escaped member name", req: httpReq{contentType: "application/json", body: `{"refresh\u005ftoken":"` + rt + `"}`}, status: 200},
		{name: "JSON null refresh_token, header", req: httpReq{contentType: "application/json", body: `{"refresh_token":null}`, header: []string{"Authorization", "Bearer " + rt}}, status: 200},

		{name: "JSON over the limit", req: httpReq{contentType: "application/json", body: jsonBody + strings.Repeat(" ", testMaxBody+1-len(jsonBody))}, status: 400, desc: "request body too large"},
		{name: "JSON content type, empty body", req: httpReq{contentType: "application/json"}, status: 400, desc: "malformed JSON body"},
		{name: "JSON string", req: httpReq{contentType: "application/json", body: `"` + rt + `"`}, status: 400, desc: "malformed JSON body"},
		{name: "JSON boolean refresh_token", req: httpReq{contentType: "application/json", body: `{"refresh_token":true}`}, status: 400, desc: "malformed JSON body"},
		{name: "JSON, repeated refresh_token", req: httpReq{contentType: "application/json", body: `{"refresh_token":"` + rt + `","refresh_token":"` + rt + `"}`}, status: 400, desc: "a parameter is repeated"},
		{name: "JSON, repeated refresh_token, first null", req: httpReq{contentType: "application/json", body: `{"refresh_token":null,"refresh_token":"` + rt + `"}`}, status: 400, desc: "a parameter is repeated"},
		{name: "JSON, another member repeated", req: httpReq{contentType: "application/json", body: `{"a":1,"refresh_token":"` + rt + `","a":2}`}, status: 400, desc: "a parameter is repeated"},
		{name: "JSON, REFRESH_TOKEN", req: httpReq{contentType: "application/json", body: `{"REFRESH_TOKEN":"` + rt + `"}`}, status: 400, desc: "member names are case-sensitive: refresh_token"},
		{name: "JSON, Refresh_Token beside refresh_token", req: httpReq{contentType: "application/json", body: `{"refresh_token":"` + rt + `","Refresh_Token":"x"}`}, status: 400, desc: "member names are case-sensitive: refresh_token"},
		{name: "JSON, refreſh_token (U+017F)", req: httpReq{contentType: "application/json", body: `{"refre\u017fh_token":"` + rt + `"}`}, status: 400, desc: "member names are case-sensitive: refresh_token"},
		{name: "JSON, data after the object", req: httpReq{contentType: "application/json", body: jsonBody + `{}`}, status: 400, desc: "malformed JSON body"},
		{name: "JSON, unclosed object", req: httpReq{contentType: "application/json", body: `{"refresh_token":"` + rt + `"`}, status: 400, desc: "malformed JSON body"},
		{name: "JSON array", req: httpReq{contentType: "application/json", body: `[` + jsonBody + `]`}, status: 400, desc: "malformed JSON body"},
		{name: "form, repeated refresh_token", req: postForm("refresh_token", rt, "refresh_token", rt), status: 400, desc: "a parameter is repeated"},
		{name: "form, bad escape", req: httpReq{contentType: form, body: "refresh_token=%zz"}, status: 400, desc: "malformed form body"},
		{name: "form as JSON", req: httpReq{contentType: "application/json", body: formBody("refresh_token", rt)}, status: 400, desc: "malformed JSON body"},
		{name: "JSON as form", req: httpReq{contentType: form, body: jsonBody}, status: 400, desc: "missing refresh_token"},
		{name: "XML", req: httpReq{contentType: "application/xml", body: "<refresh_token>" + rt + "</refresh_token>"}, status: 400},
		{name: "unparsable Content-Type", req: httpReq{contentType: "application/json; x", body: jsonBody}, status: 400},
		{name: "two Content-Type headers", req: httpReq{contentType: "application/json", body: jsonBody, header: []string{"Content-Type", "application/json"}}, status: 400},
		{name: "two Authorization headers", req: httpReq{header: []string{"Authorization", "Bearer " + rt, "Authorization", "Bearer " + rt}}, status: 400, desc: "more than one Authorization header"},
		{name: "Bearer alone", req: httpReq{header: []string{"Authorization", "Bearer"}}, status: 400, desc: "malformed Bearer credentials"},
		{name: "Bearer and a bad token", req: httpReq{header: []string{"Authorization", "Bearer " + rt + " x"}}, status: 400, desc: "malformed Bearer credentials"},
		{name: "Basic only", req: httpReq{header: []string{"Authorization", basic("alice", "x")}}, status: 400, desc: "missing refresh_token"},
		{name: "query string only", req: httpReq{target: "/?refresh_token=" + rt}, status: 400, desc: "missing refresh_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := do(t, f.refresh, tc.req)
			if tc.status == http.StatusOK {
				requirePair(t, rec)
				return
			}
			assertError(t, rec, tc.status, "invalid_request", tc.desc)
			assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_request"`)
			if strings.Contains(rec.Body.String(), rt) {
				t.Error("error body contains the refresh token")
			}
		})
	}
}
