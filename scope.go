package passauth

import (
	"net/http"
	"strings"
)

// RequireScope returns middleware that admits only requests whose access
// token grants every one of scopes (RFC 6749 §3.3). It reads the claims
// that Authenticate or AuthenticateOptional put in the context, so it must
// sit behind one of them:
//
//	mux.Handle("GET /api/users/me", iss.Authenticate(passauth.RequireScope("me")(me)))
//
// A token that lacks a scope is answered 403 with
// WWW-Authenticate: Bearer error="insufficient_scope", scope="…" naming
// the scopes required (RFC 6750 §3.1); a request without claims (anonymous,
// behind AuthenticateOptional) is answered 401 as if it had no token.
//
// RequireScope panics if a scope is empty or holds a character RFC 6749
// §3.3 does not allow, as a mistake in the program.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	required, ok := splitScope(strings.Join(scopes, " "))
	if !ok || len(required) == 0 {
		panic("passauth: RequireScope needs valid scope tokens")
	}
	denied := &Error{
		Code:        CodeInsufficientScope,
		Status:      http.StatusForbidden,
		Description: "The access token does not grant the scope this resource requires",
		Scope:       strings.Join(required, " "),
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, ok := ClaimsFromContext(r.Context())
			if !ok {
				errNoToken.writeBearer(w)
				return
			}
			for _, s := range required {
				if !claims.HasScope(s) {
					denied.writeBearer(w)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
