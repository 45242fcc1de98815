package main

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/passauth/passauth"
)

// demoConfig completes cfg for the demo: sessions and revocations in store,
// access tokens checked against the revocation list on every request, and
// security events logged with passauth.LogEvents (failed and throttled
// logins and refresh-token reuse as warnings).
func demoConfig(cfg passauth.Config, store passauth.Store, logger *slog.Logger) passauth.Config {
	cfg.Store = store
	cfg.CheckRevoked = true
	cfg.OnEvent = passauth.LogEvents(logger)
	cfg.NormalizeUsername = normalizeUsername
	return cfg
}

// newHandler returns the demo's routes on iss, for the users of accts.
// The token routes are registered without a method so that passauth
// answers other methods with 405 and an Allow header; revocation and the
// session routes need iss's Config.Store. /docs loads Swagger UI from
// swaggerUI, a base URL as swaggerUIBase returns it.
func newHandler(iss *passauth.TokenIssuer, accts *accounts, swaggerUI string) (http.Handler, error) {
	spec, err := openAPIHandler()
	if err != nil {
		return nil, err
	}
	docs, docsInit, err := docsHandlers(swaggerUI)
	if err != nil {
		return nil, err
	}
	cookies, err := iss.Cookies(passauth.CookieConfig{Path: "/api/auth/cookie"}, accts)
	if err != nil {
		return nil, err
	}
	// The account routes take a Bearer token or the access cookie, with
	// scope me; the cookie middleware refuses cross-origin unsafe requests.
	me := func(h http.HandlerFunc) http.Handler {
		return cookies.Authenticate(passauth.RequireScope("me")(h))
	}
	users := newUserRoutes(iss, accts)

	mux := http.NewServeMux()
	mux.Handle("/api/auth/login", iss.TokenHandler(accts))
	mux.Handle("/api/auth/refresh", iss.RefreshHandler(accts))
	mux.Handle("/api/auth/revoke", iss.RevocationHandler())
	mux.Handle("/api/auth/cookie/login", cookies.LoginHandler())
	mux.Handle("/api/auth/cookie/refresh", cookies.RefreshHandler())
	mux.Handle("/api/auth/cookie/logout", cookies.LogoutHandler())
	mux.HandleFunc("POST /api/users", users.signUp)
	mux.Handle("GET /api/users/me", me(whoAmI))
	mux.Handle("POST /api/users/me/password", me(users.changePassword))
	mux.Handle("GET "+sessionsPath, me(users.listSessions))
	mux.Handle("DELETE "+sessionsPath+"/{id}", me(users.deleteSession))
	mux.Handle("GET /api/items", iss.Authenticate(passauth.RequireScope("items")(http.HandlerFunc(items))))
	mux.Handle("/.well-known/jwks.json", iss.JWKSHandler())
	meta, err := iss.MetadataHandler(passauth.Metadata{
		TokenEndpoint:      "/api/auth/login",
		JWKSURI:            "/.well-known/jwks.json",
		RevocationEndpoint: "/api/auth/revoke",
		Scopes:             demoScopes,
	})
	if err == nil { // run has said why not when it is not
		mux.Handle("/.well-known/oauth-authorization-server", meta)
	}
	mux.Handle("GET /app/", appHandler())
	mux.Handle("GET /openapi.json", spec)
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/swagger-initializer.js", docsInit)
	mux.Handle("GET "+swaggerUIAssetsPath+"/", swaggerUIAssets())
	return mux, nil
}

// whoAmI is GET /api/users/me: {"username": <sub>}.
func whoAmI(w http.ResponseWriter, r *http.Request) {
	claims, _ := passauth.ClaimsFromContext(r.Context())
	writeJSON(w, http.StatusOK, struct {
		Username string `json:"username"`
	}{claims.Subject})
}

// itemsJSON is what /api/items answers, the same for every user.
const itemsJSON = `[{"id":"foo","name":"Foo"},{"id":"bar","name":"Bar"}]` + "\n"

// items answers the demo's items.
func items(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, itemsJSON)
}
