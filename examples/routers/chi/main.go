// Command chi mounts passauth on a github.com/go-chi/chi/v5 router. The
// token and refresh endpoints are http.Handlers and iss.Authenticate and
// passauth.RequireScope are func(http.Handler) http.Handler middleware,
// which is what chi takes: everything drops in as it is.
//
//	go run ./examples/routers/chi
//	curl -s -d username=johndoe -d password=secret http://127.0.0.1:8001/api/auth/login
//	curl -s -H "Authorization: Bearer $ACCESS" http://127.0.0.1:8001/api/users/me
//
// It reads ADDR (default 127.0.0.1:8001), ACCESS_TOKEN_SECRET and
// REFRESH_TOKEN_SECRET (random when unset: tokens then do not survive a
// restart). The one user is johndoe, password secret.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/passauth/passauth"
)

func main() {
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:  secret("ACCESS_TOKEN_SECRET"),
		RefreshSecret: secret("REFRESH_TOKEN_SECRET"),
		AccessTTL:     15 * time.Minute,
		RefreshTTL:    24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	hash, err := passauth.HashPassword("secret") // a real application stores the hash
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr:              getenv("ADDR", "127.0.0.1:8001"),
		Handler:           newRouter(iss, hash),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	log.Printf("listening on http://%s", srv.Addr)
	log.Fatal(srv.ListenAndServe())
}

// newRouter returns the application's routes for one user, johndoe, whose
// password hash is hash.
func newRouter(iss *passauth.TokenIssuer, hash string) http.Handler {
	users := demoUsers(hash)
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)

	r.Method(http.MethodPost, "/api/auth/login", iss.TokenHandler(users))
	r.Method(http.MethodPost, "/api/auth/refresh", iss.RefreshHandler(users))

	r.Group(func(r chi.Router) {
		r.Use(iss.Authenticate, passauth.RequireScope("me"))
		r.Get("/api/users/me", me)
	})
	return r
}

// me answers {"username": …} for the caller the access token names.
func me(w http.ResponseWriter, r *http.Request) {
	claims, ok := passauth.ClaimsFromContext(r.Context())
	if !ok { // only if the route were mounted without iss.Authenticate
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"username": claims.Subject})
}

// demoUsers is an in-memory user database of one user, who holds scope "me".
func demoUsers(hash string) passauth.UserLookup {
	return passauth.UserLookupFunc(func(_ context.Context, name string) (passauth.User, bool, error) {
		if name != "johndoe" {
			return passauth.User{}, false, nil
		}
		return passauth.User{Username: name, PasswordHash: hash, Scopes: []string{"me"}}, true, nil
	})
}

// secret returns the value of the environment variable name, or 32 random
// bytes when it is unset.
func secret(name string) []byte {
	if v := os.Getenv(name); v != "" {
		return []byte(v)
	}
	log.Printf("%s is unset: using a random secret", name)
	b := make([]byte, passauth.MinSecretLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
