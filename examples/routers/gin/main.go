// Command gin mounts passauth on a github.com/gin-gonic/gin engine. The
// token and refresh endpoints are http.Handlers, which gin.WrapH mounts;
// iss.Authenticate and passauth.RequireScope are net/http middleware, which
// fromHTTP below adapts to gin.HandlerFunc.
//
//	go run ./examples/routers/gin
//	curl -s -d username=johndoe -d password=secret http://127.0.0.1:8002/api/auth/login
//	curl -s -H "Authorization: Bearer $ACCESS" http://127.0.0.1:8002/api/users/me
//
// It reads ADDR (default 127.0.0.1:8002), ACCESS_TOKEN_SECRET and
// REFRESH_TOKEN_SECRET (random when unset: tokens then do not survive a
// restart), and gin's GIN_MODE. The one user is johndoe, password secret.
package main

import (
	"context"
	"crypto/rand"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

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
		Addr:              getenv("ADDR", "127.0.0.1:8002"),
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
func newRouter(iss *passauth.TokenIssuer, hash string) *gin.Engine {
	users := demoUsers(hash)
	r := gin.New()
	r.Use(gin.Recovery())

	r.POST("/api/auth/login", gin.WrapH(iss.TokenHandler(users)))
	r.POST("/api/auth/refresh", gin.WrapH(iss.RefreshHandler(users)))

	protected := r.Group("/api/users", fromHTTP(iss.Authenticate), fromHTTP(passauth.RequireScope("me")))
	protected.GET("/me", func(c *gin.Context) {
		claims, ok := passauth.ClaimsFromContext(c.Request.Context())
		if !ok { // only if the route were mounted without iss.Authenticate
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"username": claims.Subject})
	})
	return r
}

// fromHTTP adapts net/http middleware to gin. The middleware either answers
// the request itself, and the gin chain stops there, or calls its next
// handler with a request that may differ from c.Request: Authenticate's
// carries the claims in its context. That request replaces c.Request before
// the rest of the chain runs, so later handlers find the claims.
//
// The adapter keeps c.Writer, so it suits middleware that does not wrap the
// http.ResponseWriter, as passauth's middleware does not.
func fromHTTP(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		admitted := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			admitted = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !admitted {
			c.Abort()
		}
	}
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
