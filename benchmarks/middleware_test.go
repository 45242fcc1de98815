package benchmarks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	ginjwt "github.com/appleboy/gin-jwt/v2"
	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/gin-gonic/gin"
	"github.com/go-chi/jwtauth/v5"
)

// BenchmarkMiddleware measures a protected request's round trip through
// httptest: one *http.Request built before the timer with the token in its
// Authorization header, a fresh httptest.ResponseRecorder per iteration, and
// a final handler that only counts its calls. "none" is the same round trip
// without authentication; a middleware's overhead is its figure minus that.
// gin-jwt runs on a gin engine, whose own baseline is "gin-none".
func BenchmarkMiddleware(b *testing.B) {
	f := newFixture(b)

	for _, bc := range []struct {
		name string
		// setup returns the handler, whose final handler counts its calls
		// in n, and the token it accepts.
		setup func(b *testing.B, n *int) (http.Handler, string)
	}{
		{"none", func(_ *testing.B, n *int) (http.Handler, string) {
			return finalHandler(n), f.commonToken
		}},
		{"passauth", func(_ *testing.B, n *int) (http.Handler, string) {
			return f.iss.Authenticate(finalHandler(n)), f.passauthToken
		}},
		{"passauth-cache-hit", func(b *testing.B, n *int) (http.Handler, string) {
			iss := newIssuer(b, 1024)
			return iss.Authenticate(finalHandler(n)), issueTokens(b, iss, 1)[0]
		}},
		{"jwtauth", func(_ *testing.B, n *int) (http.Handler, string) {
			ja := jwtauth.New("HS256", accessSecret, nil)
			return jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(finalHandler(n))), f.commonToken
		}},
		{"auth0", func(b *testing.B, n *int) (http.Handler, string) {
			return auth0Middleware(b).CheckJWT(finalHandler(n)), f.auth0Token
		}},
		{"gin-none", func(_ *testing.B, n *int) (http.Handler, string) {
			return ginEngine(n, nil), f.commonToken
		}},
		{"gin-jwt", func(b *testing.B, n *int) (http.Handler, string) {
			return ginEngine(n, ginJWTMiddleware(b).MiddlewareFunc()), f.commonToken
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var calls int
			h, token := bc.setup(b, &calls)
			r := httptest.NewRequest(http.MethodGet, "/api/users/me", nil)
			r.Header.Set("Authorization", "Bearer "+token)

			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || calls != 1 {
				b.Fatalf("%s rejected the request: status %d", bc.name, w.Code)
			}
			b.ReportAllocs()
			for b.Loop() {
				serve(h, r)
			}
			if calls != b.N+1 {
				b.Fatalf("%s let %d of %d requests through", bc.name, calls-1, b.N)
			}
		})
	}
}

// serve is one round trip, a named function for callgrind.sh.
//
//go:noinline
func serve(h http.Handler, r *http.Request) {
	h.ServeHTTP(httptest.NewRecorder(), r)
}

// finalHandler is the protected endpoint: it counts the requests that
// reach it.
func finalHandler(n *int) http.Handler {
	return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { *n++ })
}

// auth0Middleware is go-jwt-middleware's CheckJWT with its validator for
// HS256. The validator insists on an issuer and an audience, so its token
// carries iss and aud on top of the common claims.
func auth0Middleware(b *testing.B) *jwtmiddleware.JWTMiddleware {
	b.Helper()
	var key any = accessSecret
	v, err := validator.New(
		func(context.Context) (any, error) { return key, nil },
		validator.HS256,
		auth0Issuer,
		[]string{auth0Audience},
	)
	if err != nil {
		b.Fatal(err)
	}
	return jwtmiddleware.New(v.ValidateToken)
}

// ginEngine is a gin engine in release mode, without logger or recovery,
// serving the protected endpoint behind mw (none when nil).
func ginEngine(n *int, mw gin.HandlerFunc) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	final := func(*gin.Context) { *n++ }
	if mw != nil {
		e.GET("/api/users/me", mw, final)
	} else {
		e.GET("/api/users/me", final)
	}
	return e
}

// ginJWTMiddleware is gin-jwt configured to accept the common token: its
// identity is the "sub" claim (gin-jwt's own tokens name it "identity"). Its
// Authenticator serves only gin-jwt's login handler, which is not measured.
func ginJWTMiddleware(b *testing.B) *ginjwt.GinJWTMiddleware {
	b.Helper()
	mw, err := ginjwt.New(&ginjwt.GinJWTMiddleware{
		Realm:       "bench",
		Key:         accessSecret,
		Timeout:     accessTTL,
		MaxRefresh:  time.Hour,
		IdentityKey: "sub",
		IdentityHandler: func(c *gin.Context) any {
			return ginjwt.ExtractClaims(c)["sub"]
		},
		Authenticator: func(*gin.Context) (any, error) {
			return nil, ginjwt.ErrFailedAuthentication
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return mw
}
