// Command echo mounts passauth on a github.com/labstack/echo/v4 server. The
// token and refresh endpoints are http.Handlers, which echo.WrapHandler
// mounts; iss.Authenticate and passauth.RequireScope are net/http
// middleware, which echo.WrapMiddleware adapts: it hands the request the
// middleware passes on, claims included, to the rest of the chain.
//
//	go run ./examples/routers/echo
//	curl -s -d username=johndoe -d password=secret http://127.0.0.1:8003/api/auth/login
//	curl -s -H "Authorization: Bearer $ACCESS" http://127.0.0.1:8003/api/users/me
//
// It reads ADDR (default 127.0.0.1:8003), ACCESS_TOKEN_SECRET and
// REFRESH_TOKEN_SECRET (random when unset: tokens then do not survive a
// restart). The one user is johndoe, password secret.
package main

import (
	"context"
	"crypto/rand"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

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
		Addr:              getenv("ADDR", "127.0.0.1:8003"),
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
func newRouter(iss *passauth.TokenIssuer, hash string) *echo.Echo {
	users := demoUsers(hash)
	e := echo.New()
	e.Use(middleware.Recover())

	e.POST("/api/auth/login", echo.WrapHandler(iss.TokenHandler(users)))
	e.POST("/api/auth/refresh", echo.WrapHandler(iss.RefreshHandler(users)))

	protected := e.Group("/api/users",
		echo.WrapMiddleware(iss.Authenticate),
		echo.WrapMiddleware(passauth.RequireScope("me")))
	protected.GET("/me", func(c echo.Context) error {
		claims, ok := passauth.ClaimsFromContext(c.Request().Context())
		if !ok { // only if the route were mounted without iss.Authenticate
			return echo.ErrInternalServerError
		}
		return c.JSON(http.StatusOK, map[string]string{"username": claims.Subject})
	})
	return e
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
