package passauth

import (
	"context"
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
//     error="invalid_request";
//   - with Config.CheckRevoked, a store failure: 503
//     temporarily_unavailable.
func (iss *TokenIssuer) Authenticate(next http.Handler) http.Handler {
	return authenticate(next, false, iss.VerifyAccess)
}

// AuthenticateOptional is like Authenticate but lets requests without a
// Bearer token through, without claims in the context: the handler tells
// anonymous from authenticated callers with ClaimsFromContext. (This is
// FastAPI's OAuth2PasswordBearer with auto_error=False.) A request that does
// present a token still gets a 401 or 400 when the token or header is bad,
// so that a client learns its token has expired.
func (iss *TokenIssuer) AuthenticateOptional(next http.Handler) http.Handler {
	return authenticate(next, true, iss.VerifyAccess)
}

// authenticate is the middleware of a TokenIssuer or a Verifier, verifying
// with verify.
func authenticate(next http.Handler, optional bool, verify func(context.Context, string) (*Claims, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r)
		if err != nil {
			writeChallenge(w, bearerAnswer(err))
			return
		}
		if token == "" {
			if optional {
				next.ServeHTTP(w, r)
				return
			}
			writeChallenge(w, errNoToken)
			return
		}
		claims, err := verify(r.Context(), token)
		if err != nil {
			writeChallenge(w, bearerAnswer(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}
