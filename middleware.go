package passauth

import (
	"context"
	"errors"
	"net/http"
)

// Authenticate is middleware that admits only requests bearing a valid
// access token in an "Authorization: Bearer" header (RFC 6750 §2.1) and puts
// the token's claims in the request context, where ClaimsFromContext finds
// them. Its method value fits any chain that takes
// func(http.Handler) http.Handler.
//
// It reads only the Authorization header, never the query string or body,
// and answers as RFC 6750 §3 says:
//
//   - no Authorization header, or one of another scheme: 401 with
//     "WWW-Authenticate: Bearer" and no error code;
//   - a bad, expired or refresh token: 401 with error="invalid_token";
//   - a malformed or repeated Authorization header: 400 with
//     error="invalid_request".
func (iss *TokenIssuer) Authenticate(next http.Handler) http.Handler {
	return iss.authenticate(next, false)
}

// AuthenticateOptional is like Authenticate but lets requests without a
// Bearer token through, without claims in the context: the handler tells
// anonymous from authenticated callers with ClaimsFromContext. (This is
// FastAPI's OAuth2PasswordBearer with auto_error=False.) A request that does
// present a token still gets a 401 or 400 when the token or header is bad,
// so that a client learns its token has expired.
func (iss *TokenIssuer) AuthenticateOptional(next http.Handler) http.Handler {
	return iss.authenticate(next, true)
}

// Answers of the middleware, built once.
var (
	errNoToken      = &Error{Status: http.StatusUnauthorized, Description: "Not authenticated"}
	errInvalidToken = &Error{Code: CodeInvalidToken, Status: http.StatusUnauthorized, Description: "Invalid token"}
	errExpiredToken = &Error{Code: CodeInvalidToken, Status: http.StatusUnauthorized, Description: "Token expired"}
)

func (iss *TokenIssuer) authenticate(next http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, perr := bearerToken(r)
		if perr != nil {
			perr.writeBearer(w)
			return
		}
		if token == "" {
			if optional {
				next.ServeHTTP(w, r)
				return
			}
			errNoToken.writeBearer(w)
			return
		}
		claims, err := iss.VerifyAccess(r.Context(), token)
		if err != nil {
			if errors.Is(err, ErrStoreUnavailable) {
				errUnavailable.writeJSON(w)
			} else {
				invalidTokenError(err).writeBearer(w)
			}
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

// invalidTokenError is the RFC 6750 answer to a token that failed
// verification: "Token expired" for an expired one, "Invalid token" for the
// rest, the seed's two messages.
func invalidTokenError(err error) *Error {
	if errors.Is(err, ErrTokenExpired) {
		return errExpiredToken
	}
	return errInvalidToken
}

// claimsKey is the context key of verified claims.
type claimsKey struct{}

// ClaimsFromContext returns the claims Authenticate or AuthenticateOptional
// put in ctx, and whether there were any.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// ContextWithClaims returns a copy of ctx carrying claims, as Authenticate
// stores them. It is meant for tests of handlers that sit behind the
// middleware.
func ContextWithClaims(ctx context.Context, claims *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, claims)
}
