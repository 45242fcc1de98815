package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/passauth/passauth"
)

// securitySchemeName is the name under which the document declares the
// OAuth 2.0 password flow, the one FastAPI gives it.
const securitySchemeName = "OAuth2PasswordBearer"

// defaultSwaggerUIURL is where /docs loads Swagger UI from when
// SWAGGER_UI_URL is unset: the files the demo embeds (swaggerui.go), so
// that it works offline. cdnSwaggerUIURL is the public CDN FastAPI loads
// them from, an example of what SWAGGER_UI_URL may say.
const (
	defaultSwaggerUIURL = swaggerUIAssetsPath
	cdnSwaggerUIURL     = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
)

// openAPIDocument is an OpenAPI 3.1 document, with only the fields the demo
// uses.
type openAPIDocument struct {
	OpenAPI    string              `json:"openapi"`
	Info       openAPIInfo         `json:"info"`
	Paths      map[string]pathItem `json:"paths"`
	Components components          `json:"components"`
}

type openAPIInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// pathItem maps lower-case HTTP methods to operations.
type pathItem map[string]operation

type operation struct {
	Tags        []string              `json:"tags,omitempty"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	OperationID string                `json:"operationId"`
	Parameters  []parameter           `json:"parameters,omitempty"`
	RequestBody *requestBody          `json:"requestBody,omitempty"`
	Responses   map[string]response   `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
}

type parameter struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
	Schema   schema `json:"schema"`
}

type requestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]mediaType `json:"content"`
}

type response struct {
	Description string               `json:"description"`
	Content     map[string]mediaType `json:"content,omitempty"`
}

type mediaType struct {
	Schema schema `json:"schema"`
}

// schema is a JSON Schema, as OpenAPI 3.1 takes it.
type schema map[string]any

type components struct {
	Schemas         map[string]schema                  `json:"schemas"`
	SecuritySchemes map[string]passauth.SecurityScheme `json:"securitySchemes"`
}

// newOpenAPIDocument describes the demo's routes: the token, refresh and
// revocation endpoints, and the two protected resources, each requiring its
// scope of the OAuth 2.0 password flow whose token URL is the login
// endpoint. The URLs are absolute paths, which Swagger UI resolves against
// the page it runs on.
func newOpenAPIDocument() openAPIDocument {
	ref := func(name string) schema { return schema{"$ref": "#/components/schemas/" + name} }
	jsonBody := func(s schema) map[string]mediaType {
		return map[string]mediaType{"application/json": {Schema: s}}
	}
	formBody := func(s schema) *requestBody {
		return &requestBody{Required: true, Content: map[string]mediaType{
			"application/x-www-form-urlencoded": {Schema: s},
		}}
	}
	str := func(description string) schema { return schema{"type": "string", "description": description} }
	tokenResponses := map[string]response{
		"200": {Description: "A new token pair", Content: jsonBody(ref("TokenPair"))},
		"400": {Description: "The request or grant was refused", Content: jsonBody(ref("Error"))},
	}
	bearerResponses := func(ok response) map[string]response {
		return map[string]response{
			"200": ok,
			"401": {Description: "No token, or an invalid or expired one", Content: jsonBody(ref("Error"))},
			"403": {Description: "The token does not grant the required scope", Content: jsonBody(ref("Error"))},
		}
	}
	requires := func(scopes ...string) []map[string][]string {
		return []map[string][]string{{securitySchemeName: scopes}}
	}

	return openAPIDocument{
		OpenAPI: "3.1.0",
		Info: openAPIInfo{
			Title:       "passauth demo",
			Version:     "1.0.0",
			Description: "OAuth 2.0 password login with JWT access and refresh tokens, served by github.com/passauth/passauth.",
		},
		Paths: map[string]pathItem{
			"/api/auth/login": {"post": {
				Tags:        []string{"auth"},
				Summary:     "Login",
				Description: "Login with the following information:\n\n- **username**\n- **password**",
				OperationID: "login",
				RequestBody: formBody(schema{
					"type":     "object",
					"required": []string{"username", "password"},
					"properties": map[string]schema{
						"grant_type":    {"type": "string", "enum": []string{"password", "refresh_token"}, "description": "password (the default) or refresh_token"},
						"username":      str("The user name"),
						"password":      {"type": "string", "format": "password", "description": "The password"},
						"scope":         {"type": "string", "default": "", "description": "Space-separated scopes to ask for; none asks for every scope the user holds"},
						"client_id":     str("The client, recorded in the tokens"),
						"client_secret": {"type": "string", "format": "password", "description": "Not checked: the password grant is for first-party clients"},
						"refresh_token": str("The refresh token, for grant_type=refresh_token"),
					},
				}),
				Responses: tokenResponses,
			}},
			"/api/auth/refresh": {"post": {
				Tags:        []string{"auth"},
				Summary:     "Refresh",
				Description: "Refresh token with the following information:\n\n- **refresh_token** in the JSON body\n\nThe refresh token is single-use: the answer holds the next one.",
				OperationID: "refresh",
				RequestBody: &requestBody{Required: true, Content: jsonBody(schema{
					"type":       "object",
					"required":   []string{"refresh_token"},
					"properties": map[string]schema{"refresh_token": str("The refresh token")},
				})},
				Responses: map[string]response{
					"200": tokenResponses["200"],
					"400": {Description: "A malformed request", Content: jsonBody(ref("Error"))},
					"401": {Description: "An invalid, expired, used or revoked refresh token", Content: jsonBody(ref("Error"))},
				},
			}},
			"/api/auth/revoke": {"post": {
				Tags:        []string{"auth"},
				Summary:     "Revoke",
				Description: "Revoke a token (RFC 7009). Revoking the refresh token logs out: its whole session ends.",
				OperationID: "revoke",
				RequestBody: formBody(schema{
					"type":     "object",
					"required": []string{"token"},
					"properties": map[string]schema{
						"token":           str("The access or refresh token to revoke"),
						"token_type_hint": {"type": "string", "enum": []string{"access_token", "refresh_token"}},
					},
				}),
				Responses: map[string]response{
					"200": {Description: "Revoked, or the token was not valid anyway"},
					"400": {Description: "A malformed request", Content: jsonBody(ref("Error"))},
				},
			}},
			"/api/auth/cookie/login": {"post": {
				Tags:        []string{"cookies"},
				Summary:     "Log in with cookies",
				Description: "The password login of the cookie transport, for browser apps: sets the HttpOnly cookies " + passauth.AccessCookie + " (Path=/) and " + passauth.RefreshCookie + " (Path=/api/auth/cookie); the body never holds a token. Cross-origin requests are refused 403.",
				OperationID: "cookieLogin",
				RequestBody: formBody(schema{
					"type":     "object",
					"required": []string{"username", "password"},
					"properties": map[string]schema{
						"username": {"type": "string"}, "password": {"type": "string", "format": "password"},
						"scope": str("Space-separated scopes to ask for"), "client_id": {"type": "string"},
					},
				}),
				Responses: map[string]response{
					"200": {Description: "Logged in: the cookies are set", Content: jsonBody(ref("CookieSession"))},
					"400": {Description: "The request or the credentials were refused", Content: jsonBody(ref("Error"))},
					"403": {Description: "A cross-origin request", Content: jsonBody(ref("Error"))},
				},
			}},
			"/api/auth/cookie/refresh": {"post": {
				Tags:        []string{"cookies"},
				Summary:     "Refresh the cookie session",
				Description: "Rotates the session of the refresh cookie and sets both cookies anew.",
				OperationID: "cookieRefresh",
				Responses: map[string]response{
					"200": {Description: "Refreshed", Content: jsonBody(ref("CookieSession"))},
					"401": {Description: "No, or an invalid, expired, used or revoked refresh cookie: both cookies are cleared", Content: jsonBody(ref("Error"))},
					"403": {Description: "A cross-origin request", Content: jsonBody(ref("Error"))},
				},
			}},
			"/api/auth/cookie/logout": {"post": {
				Tags:        []string{"cookies"},
				Summary:     "Log out of the cookie session",
				Description: "Revokes the session of the refresh cookie and clears both cookies.",
				OperationID: "cookieLogout",
				Responses: map[string]response{
					"204": {Description: "Logged out"},
					"403": {Description: "A cross-origin request", Content: jsonBody(ref("Error"))},
				},
			}},
			"/api/users/me": {"get": {
				Tags:        []string{"users"},
				Summary:     "Read your own profile",
				Description: "With a Bearer access token, or the access cookie of the cookie transport.",
				OperationID: "readUsersMe",
				Responses: bearerResponses(response{Description: "The authenticated user", Content: jsonBody(schema{
					"type":       "object",
					"required":   []string{"username"},
					"properties": map[string]schema{"username": {"type": "string"}},
				})}),
				Security: requires("me"),
			}},
			"/api/users": {"post": {
				Tags:        []string{"users"},
				Summary:     "Sign up",
				Description: fmt.Sprintf("Creates a user. The name: %d to %d letters, digits, '.', '_' or '-', starting with a letter or digit, unique whatever its case. The password: %d to %d characters.", minUsernameLen, maxUsernameLen, minPasswordLen, maxPasswordLen),
				OperationID: "createUser",
				RequestBody: &requestBody{Required: true, Content: jsonBody(schema{
					"type":     "object",
					"required": []string{"username", "password"},
					"properties": map[string]schema{
						"username": {"type": "string", "minLength": minUsernameLen, "maxLength": maxUsernameLen},
						"password": {"type": "string", "format": "password", "minLength": minPasswordLen, "maxLength": maxPasswordLen},
					},
				})},
				Responses: map[string]response{
					"201": {Description: "Created", Content: jsonBody(schema{
						"type":       "object",
						"required":   []string{"username"},
						"properties": map[string]schema{"username": {"type": "string"}},
					})},
					"400": {Description: "A name or password the policy refuses, or a malformed body; the description says which", Content: jsonBody(ref("Error"))},
					"409": {Description: "The name is taken", Content: jsonBody(ref("Error"))},
					"429": {Description: "Too many sign-ups from this address", Content: jsonBody(ref("Error"))},
				},
			}},
			"/api/users/me/password": {"post": {
				Tags:        []string{"users"},
				Summary:     "Change your password",
				Description: "Every other session of the user ends; the one of this request goes on.",
				OperationID: "changePassword",
				RequestBody: &requestBody{Required: true, Content: jsonBody(schema{
					"type":     "object",
					"required": []string{"current_password", "new_password"},
					"properties": map[string]schema{
						"current_password": {"type": "string", "format": "password"},
						"new_password":     {"type": "string", "format": "password", "minLength": minPasswordLen, "maxLength": maxPasswordLen},
					},
				})},
				Responses: map[string]response{
					"204": {Description: "Changed"},
					"400": {Description: "A new password the policy refuses, or a malformed body", Content: jsonBody(ref("Error"))},
					"401": bearerResponses(response{})["401"],
					"403": {Description: "The current password does not match, or the token lacks scope me", Content: jsonBody(ref("Error"))},
					"429": {Description: "Too many wrong current passwords", Content: jsonBody(ref("Error"))},
				},
				Security: requires("me"),
			}},
			sessionsPath: {"get": {
				Tags:        []string{"users"},
				Summary:     "List your sessions",
				Description: "The live sessions (logins and their refreshes) of the user, oldest first; current marks the one of this request.",
				OperationID: "listSessions",
				Responses: bearerResponses(response{Description: "The sessions", Content: jsonBody(schema{
					"type":  "array",
					"items": ref("Session"),
				})}),
				Security: requires("me"),
			}},
			sessionsPath + "/{id}": {"delete": {
				Tags:        []string{"users"},
				Summary:     "End one of your sessions",
				Description: "Its refresh and access tokens stop working at once.",
				OperationID: "deleteSession",
				Parameters:  []parameter{{Name: "id", In: "path", Required: true, Schema: schema{"type": "string"}}},
				Responses: map[string]response{
					"204": {Description: "Ended"},
					"401": bearerResponses(response{})["401"],
					"403": bearerResponses(response{})["403"],
					"404": {Description: "No live session of yours has this ID", Content: jsonBody(ref("Error"))},
				},
				Security: requires("me"),
			}},
			"/.well-known/jwks.json": {"get": {
				Tags:        []string{"keys"},
				Summary:     "The issuer's public keys",
				Description: "The JWK Set (RFC 7517) of the public keys that verify access tokens; empty when only secrets sign them.",
				OperationID: "jwks",
				Responses: map[string]response{"200": {Description: "The JWK Set", Content: map[string]mediaType{
					"application/jwk-set+json": {Schema: schema{
						"type":       "object",
						"required":   []string{"keys"},
						"properties": map[string]schema{"keys": {"type": "array", "items": schema{"type": "object"}}},
					}},
				}}},
			}},
			"/.well-known/oauth-authorization-server": {"get": {
				Tags:        []string{"keys"},
				Summary:     "Authorization server metadata",
				Description: "RFC 8414 metadata: the issuer, the token, revocation and JWKS endpoints, the grant types and scopes.",
				OperationID: "metadata",
				Responses: map[string]response{"200": {Description: "The metadata", Content: jsonBody(schema{
					"type":     "object",
					"required": []string{"issuer", "token_endpoint", "response_types_supported"},
				})}},
			}},
			"/api/items": {"get": {
				Tags:        []string{"items"},
				Summary:     "Read items",
				OperationID: "readItems",
				Responses: bearerResponses(response{Description: "The items", Content: jsonBody(schema{
					"type":  "array",
					"items": ref("Item"),
				})}),
				Security: requires("items"),
			}},
		},
		Components: components{
			Schemas: map[string]schema{
				"TokenPair": {
					"type":     "object",
					"required": []string{"access_token", "token_type", "refresh_token"},
					"properties": map[string]schema{
						"access_token":  {"type": "string"},
						"token_type":    {"type": "string", "const": "bearer"},
						"expires_in":    {"type": "integer", "description": "Seconds until the access token expires"},
						"refresh_token": {"type": "string"},
						"scope":         {"type": "string", "description": "The scopes granted, space-separated"},
					},
				},
				"Error": {
					"type":     "object",
					"required": []string{"error"},
					"properties": map[string]schema{
						"error":             {"type": "string", "description": "An RFC 6749 §5.2 or RFC 6750 §3.1 error code"},
						"error_description": {"type": "string"},
						"scope":             {"type": "string", "description": "The scope required, for insufficient_scope"},
					},
				},
				"CookieSession": {
					"type":     "object",
					"required": []string{"token_type", "expires_in"},
					"properties": map[string]schema{
						"token_type": {"type": "string", "const": "cookie"},
						"expires_in": {"type": "integer", "description": "Seconds until the access cookie expires"},
						"scope":      {"type": "string", "description": "The scopes granted, space-separated"},
					},
				},
				"Session": {
					"type":     "object",
					"required": []string{"id", "client_id", "created", "last_used", "expires", "current"},
					"properties": map[string]schema{
						"id":        {"type": "string", "description": "The session ID, the tokens' sid"},
						"client_id": {"type": "string", "description": "The client it was started for, or empty"},
						"created":   {"type": "string", "format": "date-time", "description": "The login"},
						"last_used": {"type": "string", "format": "date-time", "description": "The last refresh, or the login"},
						"expires":   {"type": "string", "format": "date-time", "description": "When its refresh token expires"},
						"current":   {"type": "boolean", "description": "Whether it is the session of this request"},
					},
				},
				"Item": {
					"type":     "object",
					"required": []string{"id", "name"},
					"properties": map[string]schema{
						"id":   {"type": "string"},
						"name": {"type": "string"},
					},
				},
			},
			SecuritySchemes: map[string]passauth.SecurityScheme{
				securitySchemeName: passauth.OpenAPIScheme("/api/auth/login", "/api/auth/login", map[string]string{
					"me":    "Read your own profile",
					"items": "Read items",
				}),
			},
		},
	}
}

// openAPIHandler serves the OpenAPI document, marshalled once.
func openAPIHandler() (http.Handler, error) {
	body, err := json.Marshal(newOpenAPIDocument())
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	}), nil
}

// swaggerUIPage is the /docs page, FastAPI's get_swagger_ui_html: the Swagger
// UI assets from the asset base and the initializer script from the demo
// itself, so that the Content-Security-Policy needs no inline script.
var swaggerUIPage = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>passauth demo - Swagger UI</title>
<link rel="stylesheet" type="text/css" href="{{.Base}}/swagger-ui.css">
<link rel="icon" type="image/png" href="{{.Base}}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{.Base}}/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-initializer.js"></script>
</body>
</html>
`))

// swaggerUIInit starts Swagger UI on the demo's document. Authorization is
// not persisted: tokens stay out of the browser's local storage.
const swaggerUIInit = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  persistAuthorization: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
`

// docsHandlers returns the /docs page and its initializer script, loading
// Swagger UI's swagger-ui-bundle.js, swagger-ui.css and favicon-32x32.png
// from base (see swaggerUIBase). The page's Content-Security-Policy allows
// scripts, styles and images from the demo and base's origin only, and
// requests to the demo.
func docsHandlers(base string) (page, init http.Handler, err error) {
	origin, err := swaggerUIOrigin(base)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	if err := swaggerUIPage.Execute(&b, struct{ Base string }{base}); err != nil {
		return nil, nil, err
	}
	body := b.Bytes()
	src := "'self'"
	if origin != "" {
		src += " " + origin
	}
	csp := "default-src 'none'; script-src " + src + "; style-src " + src +
		"; img-src " + src + " data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	page = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write(body)
	})
	init = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write([]byte(swaggerUIInit))
	})
	return page, init, nil
}

// swaggerUIBase returns SWAGGER_UI_URL's value, or defaultSwaggerUIURL,
// without a trailing slash.
func swaggerUIBase(value string) string {
	if value == "" {
		value = defaultSwaggerUIURL
	}
	return strings.TrimRight(value, "/")
}

// errSwaggerUIURL is the error for a SWAGGER_UI_URL the demo cannot use.
var errSwaggerUIURL = errors.New("SWAGGER_UI_URL is not an http or https URL such as " +
	cdnSwaggerUIURL + ", nor a path on this server such as /static/swagger-ui")

// hostChars are the characters of a URL's host and port.
const hostChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]"

// swaggerUIOrigin returns the origin of the Swagger UI asset base, as a
// Content-Security-Policy source, or "" for a path on the demo itself.
func swaggerUIOrigin(base string) (string, error) {
	u, err := url.Parse(base)
	switch {
	case err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", errSwaggerUIURL
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"):
		return "", nil
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errSwaggerUIURL
	}
	// The host goes into a header: allow only what a host name, an IPv4 or
	// IPv6 address and a port are made of.
	if u.Host == "" || strings.Trim(u.Host, hostChars) != "" {
		return "", errSwaggerUIURL
	}
	return u.Scheme + "://" + u.Host, nil
}
