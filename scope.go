package passauth

import (
	"net/http"
	"slices"
	"strings"
)

// Scopes (RFC 6749 §3.3):
//
//	scope       = scope-token *( SP scope-token )
//	scope-token = 1*NQCHAR
//	NQCHAR      = %x21 / %x23-5B / %x5D-7E
//
// parseScope reads the grammar wherever a scope comes in (a request, an
// option, a verified token); validScope checks that a token's claim is in
// the exact form passauth writes; the rest of this file grants and narrows
// scopes and guards handlers with them.

// parseScope returns the distinct scope tokens of s in order, and false when
// a token holds a character outside NQCHAR. Empty tokens, from leading,
// trailing or repeated spaces, are skipped, as are duplicates.
func parseScope(s string) ([]string, bool) {
	var tokens []string
	for tok := range strings.SplitSeq(s, " ") {
		switch {
		case tok == "":
		case !isScopeToken(tok):
			return nil, false
		case !slices.Contains(tokens, tok):
			tokens = append(tokens, tok)
		}
	}
	return tokens, true
}

// isScopeToken reports whether tok is a scope-token: one or more NQCHARs.
func isScopeToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return tok != ""
}

// validScope reports whether s is empty or scope tokens separated by single
// spaces, the form joinScope writes. It does not allocate: it runs on every
// verification.
func validScope(s string) bool {
	if s == "" {
		return true
	}
	for tok := range strings.SplitSeq(s, " ") {
		if !isScopeToken(tok) {
			return false
		}
	}
	return true
}

// scopeHas reports whether the scope s holds the token want.
func scopeHas(s, want string) bool {
	for tok := range strings.SplitSeq(s, " ") {
		if tok == want {
			return true
		}
	}
	return false
}

// joinScope validates scope tokens and joins them with single spaces,
// dropping empty strings and duplicates.
func joinScope(tokens []string) (string, bool) {
	clean := true // no empty token, no duplicate: join them as they are
	for i, s := range tokens {
		if s == "" || slices.Contains(tokens[:i], s) {
			clean = false
			continue
		}
		if !isScopeToken(s) {
			return "", false
		}
	}
	if clean {
		return strings.Join(tokens, " "), true
	}
	list, ok := parseScope(strings.Join(tokens, " "))
	return strings.Join(list, " "), ok
}

// grantScope returns the scopes to grant a user holding held who asked for
// requested: all held when requested is empty, otherwise those requested
// that are held.
func grantScope(requested, held []string) []string {
	if len(requested) == 0 {
		return held
	}
	var granted []string
	for _, s := range requested {
		if slices.Contains(held, s) {
			granted = append(granted, s)
		}
	}
	return granted
}

// narrowScope returns the scope a refresh grants (RFC 6749 §6): the scope
// granted before when requested is empty, otherwise requested, which must
// not exceed it.
func narrowScope(granted, requested string) ([]string, error) {
	held, _ := parseScope(granted)
	want, ok := parseScope(requested)
	switch {
	case !ok:
		return nil, errScopeSyntax
	case len(want) == 0:
		return held, nil
	case len(grantScope(want, held)) != len(want):
		return nil, errScopeWiden
	}
	return want, nil
}

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
	required, ok := parseScope(strings.Join(scopes, " "))
	if !ok || len(required) == 0 {
		panic("passauth: RequireScope needs valid scope tokens")
	}
	denied := insufficientScope(strings.Join(required, " "))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, ok := ClaimsFromContext(r.Context())
			if !ok {
				writeChallenge(w, errNoToken)
				return
			}
			for _, s := range required {
				if !claims.HasScope(s) {
					writeChallenge(w, denied)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
