package passauth

import (
	"context"
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

// parseScope returns the distinct scope tokens of s in order. Empty tokens,
// from leading, trailing or repeated spaces, are skipped, as are
// duplicates. It fails with errScopeSyntax when a token holds a character
// outside NQCHAR and with errScopeTooLong past the limits, in time linear
// in len(s).
func parseScope(s string) ([]string, error) {
	if len(s) > maxScopeLen {
		return nil, errScopeTooLong
	}
	var tokens []string
	var seen map[string]struct{} // past a few tokens, so that duplicates cost O(1)
	for tok := range strings.SplitSeq(s, " ") {
		switch {
		case tok == "":
			continue
		case !isScopeToken(tok):
			return nil, errScopeSyntax
		case seen != nil:
			if _, dup := seen[tok]; dup {
				continue
			}
			seen[tok] = struct{}{}
		case slices.Contains(tokens, tok):
			continue
		case len(tokens) == 8:
			seen = make(map[string]struct{}, maxScopeTokens)
			for _, t := range tokens {
				seen[t] = struct{}{}
			}
			seen[tok] = struct{}{}
		}
		if len(tokens) == maxScopeTokens {
			return nil, errScopeTooLong
		}
		tokens = append(tokens, tok)
	}
	return tokens, nil
}

// Limits on a scope, so that what a client sends costs little to read
// before any limiter has seen it: at most maxScopeLen bytes and
// maxScopeTokens distinct tokens.
const (
	maxScopeLen    = 2048
	maxScopeTokens = 64
)

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
func joinScope(tokens []string) (string, error) {
	clean := len(tokens) <= 8 // few, no empty token, no duplicate: join them as they are
	for i, s := range tokens {
		if !clean {
			break
		}
		clean = s != "" && !slices.Contains(tokens[:i], s) && isScopeToken(s)
	}
	joined := strings.Join(tokens, " ")
	if clean {
		return joined, nil
	}
	list, err := parseScope(joined)
	return strings.Join(list, " "), err
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
	want, err := parseScope(requested)
	switch {
	case err != nil:
		return nil, err
	case len(want) == 0:
		return held, nil
	case len(grantScope(want, held)) != len(want):
		return nil, errScopeWiden
	}
	return want, nil
}

// grant returns the scopes a login of u that asked for requested gets:
// those of requested the user holds (User.Scopes), all of them when it asked
// for none, or what Config.ScopePolicy grants; invalid_scope when it asked
// for some and gets none.
func (l *login) grant(ctx context.Context, u User, requested []string) ([]string, error) {
	granted := grantScope(requested, u.Scopes)
	if l.scopePolicy != nil {
		granted = l.scopePolicy(ctx, u, requested)
	}
	if len(requested) > 0 && len(granted) == 0 {
		return nil, errScopeDenied
	}
	return granted, nil
}

// regrant returns what is left of the scopes of a session once the policy
// is applied again to its user at a refresh: those the user still holds
// (User.Scopes, or what Config.ScopePolicy grants when asked for them). A
// refresh only ever narrows: nothing is added. When asked is set (the
// client asked for these scopes) and one is no longer held, the refresh is
// invalid_scope; otherwise it goes on with the rest.
func (l *login) regrant(ctx context.Context, u User, scopes []string, asked bool) ([]string, error) {
	if len(scopes) == 0 {
		return scopes, nil
	}
	held := u.Scopes
	if l.scopePolicy != nil {
		held = l.scopePolicy(ctx, u, scopes)
	}
	kept := grantScope(scopes, held)
	if asked && len(kept) != len(scopes) {
		return nil, errScopeDenied
	}
	return kept, nil
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
	required, err := parseScope(strings.Join(scopes, " "))
	if err != nil || len(required) == 0 {
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
