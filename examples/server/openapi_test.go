package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/passauth/passauth"
)

// getOpenAPI fetches and decodes /openapi.json.
func getOpenAPI(t *testing.T, srv *httptest.Server) map[string]any {
	t.Helper()
	res := do(t, newRequest(t, http.MethodGet, srv.URL+"/openapi.json", "", ""))
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "application/json", res.header.Get("Content-Type"))
	require.NotNil(t, res.body, "the document is a JSON object")
	return res.body
}

// lookup follows keys down nested JSON objects, failing when one is
// missing.
func lookup(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s is not an object", strings.Join(keys[:i], "."))
		v, ok = m[k]
		require.True(t, ok, "no %s", strings.Join(keys[:i+1], "."))
	}
	return v
}

// propertyNames returns the sorted property names of a JSON Schema object.
func propertyNames(t *testing.T, schema any) []string {
	t.Helper()
	props, ok := lookup(t, schema, "properties").(map[string]any)
	require.True(t, ok)
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	doc := getOpenAPI(t, srv)

	assert.Equal(t, "3.1.0", doc["openapi"])
	assert.NotEmpty(t, lookup(t, doc, "info", "title"))
	assert.NotEmpty(t, lookup(t, doc, "info", "version"))

	// The security scheme is passauth's, with the demo's token URL and
	// scopes.
	scheme, err := json.Marshal(lookup(t, doc, "components", "securitySchemes", "OAuth2PasswordBearer"))
	require.NoError(t, err)
	want, err := json.Marshal(passauth.OpenAPIScheme("/api/auth/login", "/api/auth/login",
		map[string]string{"me": "Read your own profile", "items": "Read items"}))
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(scheme))
	assert.Equal(t, "oauth2", lookup(t, doc, "components", "securitySchemes", "OAuth2PasswordBearer", "type"))
	assert.Equal(t, "/api/auth/login", lookup(t, doc, "components", "securitySchemes", "OAuth2PasswordBearer", "flows", "password", "tokenUrl"))

	paths, ok := doc["paths"].(map[string]any)
	require.True(t, ok)
	tests := []struct {
		path, method string
		security     any      // the security requirements, nil for none
		form         []string // the form fields, for a form body
		json         []string // the JSON body's fields, for a JSON body
		responses    []string // the status codes described
	}{
		{
			path: "/api/auth/login", method: "post",
			form:      []string{"client_id", "client_secret", "grant_type", "password", "refresh_token", "scope", "username"},
			responses: []string{"200", "400"},
		},
		{
			path: "/api/auth/refresh", method: "post",
			json:      []string{"refresh_token"},
			responses: []string{"200", "400", "401"},
		},
		{
			path: "/api/auth/revoke", method: "post",
			form:      []string{"token", "token_type_hint"},
			responses: []string{"200", "400"},
		},
		{
			path: "/api/users/me", method: "get",
			security:  []any{map[string]any{"OAuth2PasswordBearer": []any{"me"}}},
			responses: []string{"200", "401", "403"},
		},
		{
			path: "/api/items", method: "get",
			security:  []any{map[string]any{"OAuth2PasswordBearer": []any{"items"}}},
			responses: []string{"200", "401", "403"},
		},
		{path: "/.well-known/jwks.json", method: "get", responses: []string{"200"}},
		{path: "/api/auth/cookie/login", method: "post", form: []string{"client_id", "password", "scope", "username"}, responses: []string{"200", "400", "403"}},
		{path: "/api/auth/cookie/refresh", method: "post", responses: []string{"200", "401", "403"}},
		{path: "/api/auth/cookie/logout", method: "post", responses: []string{"204", "403"}},
		{path: "/.well-known/oauth-authorization-server", method: "get", responses: []string{"200"}},
		{path: "/api/users", method: "post", json: []string{"password", "username"}, responses: []string{"201", "400", "409", "429"}},
		{
			path: "/api/users/me/password", method: "post",
			security:  []any{map[string]any{"OAuth2PasswordBearer": []any{"me"}}},
			json:      []string{"current_password", "new_password"},
			responses: []string{"204", "400", "401", "403", "429"},
		},
		{
			path: "/api/users/me/sessions", method: "get",
			security:  []any{map[string]any{"OAuth2PasswordBearer": []any{"me"}}},
			responses: []string{"200", "401", "403"},
		},
		{
			path: "/api/users/me/sessions/{id}", method: "delete",
			security:  []any{map[string]any{"OAuth2PasswordBearer": []any{"me"}}},
			responses: []string{"204", "401", "403", "404"},
		},
	}
	var described []string
	for _, tt := range tests {
		described = append(described, tt.path)
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			op := lookup(t, paths, tt.path, tt.method)
			assert.NotEmpty(t, lookup(t, op, "operationId"))
			assert.Equal(t, tt.security, op.(map[string]any)["security"])

			body, hasBody := op.(map[string]any)["requestBody"]
			assert.Equal(t, tt.form != nil || tt.json != nil, hasBody)
			var content any
			if hasBody {
				assert.Equal(t, true, lookup(t, body, "required"))
				content = lookup(t, body, "content")
			}
			if tt.form != nil {
				assert.Equal(t, tt.form, propertyNames(t, lookup(t, content, "application/x-www-form-urlencoded", "schema")))
			}
			if tt.json != nil {
				assert.Equal(t, tt.json, propertyNames(t, lookup(t, content, "application/json", "schema")))
			}

			responses, ok := lookup(t, op, "responses").(map[string]any)
			require.True(t, ok)
			var codes []string
			for code := range responses {
				codes = append(codes, code)
			}
			slices.Sort(codes)
			assert.Equal(t, tt.responses, codes)
		})
	}

	// Every path the document describes, and only those.
	var got []string
	for path := range paths {
		got = append(got, path)
	}
	assert.ElementsMatch(t, described, got)
}

// The login operation keeps the seed's doc string and describes its
// answers with the token pair and error schemas.
func TestOpenAPILogin(t *testing.T) {
	t.Parallel()
	doc := getOpenAPI(t, newTestServer(t))
	login := lookup(t, doc, "paths", "/api/auth/login", "post")

	desc, _ := lookup(t, login, "description").(string)
	assert.True(t, strings.HasPrefix(desc, "Login with the following information:"), "description %q", desc)
	assert.Contains(t, desc, "username")
	assert.Contains(t, desc, "password")

	assert.Equal(t, "#/components/schemas/TokenPair",
		lookup(t, login, "responses", "200", "content", "application/json", "schema", "$ref"))
	assert.Equal(t, "#/components/schemas/Error",
		lookup(t, login, "responses", "400", "content", "application/json", "schema", "$ref"))
	assert.Equal(t, []string{"access_token", "expires_in", "refresh_token", "scope", "token_type"},
		propertyNames(t, lookup(t, doc, "components", "schemas", "TokenPair")))
	assert.Equal(t, []string{"error", "error_description", "scope"},
		propertyNames(t, lookup(t, doc, "components", "schemas", "Error")))
	assert.Equal(t, []string{"username"},
		propertyNames(t, lookup(t, doc, "paths", "/api/users/me", "get", "responses", "200", "content", "application/json", "schema")))
}

// Every $ref in the document names a schema it defines.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	doc := getOpenAPI(t, newTestServer(t))
	schemas, ok := lookup(t, doc, "components", "schemas").(map[string]any)
	require.True(t, ok)

	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	require.NotEmpty(t, refs)
	for _, ref := range refs {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if assert.True(t, ok, ref) {
			assert.Contains(t, schemas, name)
		}
	}
}

// Each operation the document describes is served: an anonymous request
// gets an answer from passauth or the handler, not the mux's 404 or 405.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	paths, ok := getOpenAPI(t, srv)["paths"].(map[string]any)
	require.True(t, ok)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			t.Run(method+" "+path, func(t *testing.T) {
				t.Parallel()
				res := do(t, newRequest(t, strings.ToUpper(method), srv.URL+path, "application/x-www-form-urlencoded", ""))
				assert.NotEqual(t, http.StatusNotFound, res.status)
				assert.NotEqual(t, http.StatusMethodNotAllowed, res.status)
				if res.status != http.StatusNoContent {
					assert.NotNil(t, res.body, "a JSON answer from passauth")
				}
			})
		}
	}
}

// getDocs fetches /docs from a demo whose Swagger UI base is base.
func getDocs(t *testing.T, base string) (body string, header http.Header) {
	t.Helper()
	h, err := newHandler(testIssuerOnly(t), newTestAccounts(t), base)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String(), rec.Header()
}

func TestDocsPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    string // SWAGGER_UI_URL
		assets string // the asset base the page must use
		origin string // the asset origin the CSP must allow, "" for none
	}{
		{
			name:   "default: the embedded copy",
			env:    "",
			assets: "/docs/assets",
		},
		{
			name:   "CDN",
			env:    "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5",
			assets: "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5",
			origin: "https://cdn.jsdelivr.net",
		},
		{
			name:   "local server, trailing slash",
			env:    "http://127.0.0.1:8123/swagger-ui-dist/",
			assets: "http://127.0.0.1:8123/swagger-ui-dist",
			origin: "http://127.0.0.1:8123",
		},
		{
			name:   "path on the demo",
			env:    "/static/swagger-ui",
			assets: "/static/swagger-ui",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, header := getDocs(t, swaggerUIBase(tt.env))
			assert.Equal(t, "text/html; charset=utf-8", header.Get("Content-Type"))
			assert.Contains(t, body, `<link rel="stylesheet" type="text/css" href="`+tt.assets+`/swagger-ui.css">`)
			assert.Contains(t, body, `<script src="`+tt.assets+`/swagger-ui-bundle.js"></script>`)
			assert.Contains(t, body, `<script src="/docs/swagger-initializer.js"></script>`)
			assert.Contains(t, body, `<div id="swagger-ui"></div>`)

			csp := header.Get("Content-Security-Policy")
			want := "script-src 'self'"
			if tt.origin != "" {
				want += " " + tt.origin + ";"
			}
			assert.Contains(t, csp, want)
			assert.Contains(t, csp, "default-src 'none'")
			assert.Contains(t, csp, "connect-src 'self'")
			assert.NotContains(t, csp, "unsafe")
		})
	}
}

// A hostile SWAGGER_UI_URL cannot break out of the page's attributes, and
// one that is not an http(s) URL or a path is refused at startup.
func TestDocsHostileSwaggerUIURL(t *testing.T) {
	t.Parallel()
	t.Run("escaped", func(t *testing.T) {
		t.Parallel()
		hostile := `https://cdn.example/x"><script>alert(1)</script><a b='`
		body, header := getDocs(t, hostile)
		assert.NotContains(t, body, "<script>alert(1)")
		assert.NotContains(t, body, `x">`)
		assert.NotContains(t, body, "b='")
		assert.Equal(t, 2, strings.Count(body, "<script"), "two script elements: %s", body)
		assert.Contains(t, body, `href="https://cdn.example/x%22%3e%3cscript%3ealert%281%29%3c/script%3e%3ca%20b=%27/swagger-ui.css"`)
		assert.Contains(t, header.Get("Content-Security-Policy"), "script-src 'self' https://cdn.example;")
	})

	for _, bad := range []string{
		"javascript:alert(1)",
		"data:text/javascript,alert(1)",
		"ftp://cdn.example/dist",
		"cdn.example/dist",
		"//cdn.example/dist",
		"https://user:pass@cdn.example/dist",
		"https://cdn.example/dist?v=5",
		"https://cdn.example/dist#top",
		"https://cdn.example;script-src/dist",
		"https:///dist",
	} {
		t.Run("refused "+bad, func(t *testing.T) {
			t.Parallel()
			_, err := newHandler(testIssuerOnly(t), newTestAccounts(t), bad)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "SWAGGER_UI_URL")
			assert.NotContains(t, err.Error(), "pass@")
		})
	}
}

// The initializer script loads the demo's document and does not keep the
// authorization in the browser's storage.
func TestDocsInitializer(t *testing.T) {
	t.Parallel()
	srv := serve(t, newTestHandler(t, passauth.NewMemoryStore(), slog.New(slog.DiscardHandler)))
	resp, err := http.Get(srv.URL + "/docs/swagger-initializer.js")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, string(body), `url: "/openapi.json"`)
	assert.Contains(t, string(body), "persistAuthorization: false")
	assert.Contains(t, string(body), "SwaggerUIBundle(")
}

func TestSwaggerUIBase(t *testing.T) {
	t.Parallel()
	tests := []struct{ env, want string }{
		{"", "/docs/assets"},
		{"https://unpkg.com/swagger-ui-dist@5.17.14/", "https://unpkg.com/swagger-ui-dist@5.17.14"},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"/static//", "/static"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, swaggerUIBase(tt.env))
		})
	}
}

// testIssuerOnly is an issuer of the test Config without a store.
func testIssuerOnly(t *testing.T) *passauth.TokenIssuer {
	t.Helper()
	iss, err := passauth.NewTokenIssuer(testConfig())
	require.NoError(t, err)
	return iss
}
