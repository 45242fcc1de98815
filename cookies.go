package passauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CookieConfig configures the cookie transport of an issuer.
type CookieConfig struct {
	// Path is where the cookie routes are mounted, their common prefix,
	// such as "/api/auth/cookie": the refresh cookie's Path, so that the
	// browser sends it to those routes only. Required; never "/".
	Path string

	// TrustedOrigins are origins ("https://app.example.com", exactly) whose
	// cross-origin requests the cookie routes and cookie-authenticated
	// requests accept: an application served from another origin of the
	// same site. Every other cross-origin request is refused, same-site
	// siblings included (see http.CrossOriginProtection). The application's
	// CORS policy must also allow the origin, with credentials.
	TrustedOrigins []string
}

// Cookies is the cookie transport of a TokenIssuer, for browser
// applications: the tokens travel in HttpOnly cookies that scripts on the
// page (an XSS) cannot read, and every cookie route and every unsafe
// request a cookie authenticates is refused when it comes from another
// origin (CSRF). Nothing about the cookies is configurable: both HttpOnly
// and Secure, SameSite=Strict, with the __Host- and __Secure- prefixes,
// the refresh cookie on Config.Path only. Browsers treat http://localhost
// and loopback addresses as secure, so this works in development there too;
// on any other host it needs https.
//
// Make one with TokenIssuer.Cookies. It is safe for concurrent use.
type Cookies struct {
	iss     *TokenIssuer
	users   UserLookup
	path    string
	origins *http.CrossOriginProtection
}

// Cookies returns the cookie transport of iss for users (the lookup of
// TokenHandler). It fails when cfg.Path is not an absolute path other than
// "/", or a trusted origin is not an origin.
func (iss *TokenIssuer) Cookies(cfg CookieConfig, users UserLookup) (*Cookies, error) {
	switch {
	case users == nil:
		return nil, errors.New("passauth: Cookies needs a UserLookup")
	case !strings.HasPrefix(cfg.Path, "/") || cfg.Path == "/" || strings.ContainsAny(cfg.Path, ";, \t\r\n?#"):
		return nil, errors.New("passauth: CookieConfig.Path must be an absolute path other than /")
	}
	c := &Cookies{iss: iss, users: users, path: strings.TrimSuffix(cfg.Path, "/"), origins: http.NewCrossOriginProtection()}
	for i, o := range cfg.TrustedOrigins {
		if err := c.origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("passauth: CookieConfig.TrustedOrigins[%d]: %w", i, err)
		}
	}
	c.origins.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, errCrossOrigin)
	}))
	return c, nil
}

// The cookies of the cookie transport, fixed: the access cookie on every
// path of the host (the __Host- prefix forbids a Domain and requires Path=/
// and Secure), the refresh cookie on the cookie routes only (__Secure-, as
// __Host- would force Path=/).
const (
	AccessCookie  = "__Host-passauth-access"
	RefreshCookie = "__Secure-passauth-refresh"
)

// maxCookieLen is the longest cookie value browsers keep (RFC 6265 §6.1
// asks for at least 4096 bytes of name, value and attributes).
const maxCookieLen = 4000

// LoginHandler returns the cookie login endpoint: a POST of the password
// grant's form, as TokenHandler takes it (grant_type password or absent),
// with TokenHandler's checks, throttling and answers to failures. A success
// is 200 with both cookies set and a JSON body {"token_type": "cookie",
// "expires_in": …, "scope": …}: the access token's lifetime and scope,
// never a token. A cross-origin request is 403 invalid_request.
func (c *Cookies) LoginHandler() http.Handler {
	return c.origins.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		pair, err := c.login(w, r)
		if err != nil {
			writeError(w, grantAnswer(err))
			return
		}
		c.writeSession(w, pair)
	}))
}

// login reads and runs a cookie login.
func (c *Cookies) login(w http.ResponseWriter, r *http.Request) (TokenPair, error) {
	req, err := parseTokenRequest(w, r, c.iss.maxBody)
	if err != nil {
		return TokenPair{}, err
	}
	if req.grantType != "" && req.grantType != "password" {
		return TokenPair{}, errGrantTypeCookie
	}
	return c.iss.passwordGrant(r.Context(), r, c.users, req)
}

// RefreshHandler returns the cookie refresh endpoint: a POST, with no body,
// that rotates the session of the refresh cookie exactly as RefreshHandler
// does the token it is given (reuse detection and Config.RefreshGrace
// included) and sets both cookies anew; the body is LoginHandler's. A
// missing, bad, expired or reused refresh cookie is 401 invalid_token, and
// both cookies are cleared; a cross-origin request is 403.
func (c *Cookies) RefreshHandler() http.Handler {
	return c.origins.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		token, err := cookieValue(r, RefreshCookie)
		if err == nil && token == "" {
			err = errNoRefreshCookie
		}
		var pair TokenPair
		if err == nil {
			pair, err = c.iss.refresh(r.Context(), refreshRequest{token: token, users: c.users})
		}
		if err != nil {
			if errors.Is(err, ErrTokenInvalid) || err == errNoRefreshCookie {
				c.clear(w)
			}
			writeChallenge(w, bearerAnswer(err))
			return
		}
		c.writeSession(w, pair)
	}))
}

// LogoutHandler returns the cookie logout endpoint: a POST that revokes the
// session of the refresh cookie, as RevocationHandler does, and clears both
// cookies: 204, also when there was no session left to revoke. A store
// failure is 503 and the cookies are kept, so that the client can try again
// rather than believe a logout that did not happen; a cross-origin request
// is 403.
func (c *Cookies) LogoutHandler() http.Handler {
	return c.origins.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowPost(w, r) {
			return
		}
		token, err := cookieValue(r, RefreshCookie)
		if err == nil && token != "" {
			if err = c.iss.Revoke(r.Context(), token); errors.Is(err, ErrTokenInvalid) {
				err = nil // nothing left to revoke
			}
		}
		if err != nil {
			writeError(w, grantAnswer(err))
			return
		}
		c.clear(w)
		setTokenHeaders(w.Header())
		w.Header().Del("Content-Type")
		w.WriteHeader(http.StatusNoContent)
	}))
}

// Authenticate is TokenIssuer.Authenticate that also takes the access
// cookie: an Authorization header, when there is one, decides as it does
// there; otherwise the access cookie does, and a request it authenticates
// with a method other than GET, HEAD or OPTIONS is refused, 403, when it
// comes from another origin.
func (c *Cookies) Authenticate(next http.Handler) http.Handler {
	return c.authenticate(next, false)
}

// AuthenticateOptional is Authenticate that lets requests with neither an
// Authorization header nor an access cookie through, as
// TokenIssuer.AuthenticateOptional does.
func (c *Cookies) AuthenticateOptional(next http.Handler) http.Handler {
	return c.authenticate(next, true)
}

func (c *Cookies) authenticate(next http.Handler, optional bool) http.Handler {
	bearer := authenticate(next, optional, c.iss.VerifyAccess)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header["Authorization"]) > 0 {
			bearer.ServeHTTP(w, r)
			return
		}
		token, err := cookieValue(r, AccessCookie)
		switch {
		case err != nil:
			writeChallenge(w, bearerAnswer(err))
			return
		case token == "":
			bearer.ServeHTTP(w, r) // no credential at all: Authenticate's answer
			return
		}
		if err := c.origins.Check(r); err != nil {
			writeError(w, errCrossOrigin)
			return
		}
		claims, err := c.iss.VerifyAccess(r.Context(), token)
		if err != nil {
			writeChallenge(w, bearerAnswer(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

// writeSession sets both cookies of pair and writes the cookie endpoints'
// answer.
func (c *Cookies) writeSession(w http.ResponseWriter, pair TokenPair) {
	if len(pair.AccessToken) > maxCookieLen || len(pair.RefreshToken) > maxCookieLen {
		writeError(w, errCookieTooLarge)
		return
	}
	refreshAge := int(c.iss.tokens.refresh.ttl / time.Second)
	if claims, err := c.iss.tokens.verify(&c.iss.tokens.refresh, pair.RefreshToken); err == nil {
		refreshAge = int(claims.ExpiresAt.Sub(c.iss.tokens.now()) / time.Second) // capped by SessionTTL
	}
	setCookie(w, AccessCookie, pair.AccessToken, "/", int(pair.ExpiresIn))
	setCookie(w, RefreshCookie, pair.RefreshToken, c.path, max(refreshAge, 1))
	setTokenHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	body := `{"token_type":"cookie","expires_in":` + strconv.FormatInt(pair.ExpiresIn, 10)
	if pair.Scope != "" {
		body += `,"scope":"` + pair.Scope + `"` // scope tokens need no escaping in JSON
	}
	_, _ = w.Write([]byte(body + "}"))
}

// clear expires both cookies, with the attributes they were set with.
func (c *Cookies) clear(w http.ResponseWriter) {
	setCookie(w, AccessCookie, "", "/", -1)
	setCookie(w, RefreshCookie, "", c.path, -1)
}

// setCookie sets a cookie of the transport: always HttpOnly, Secure and
// SameSite=Strict. A negative maxAge clears it.
func setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// cookieValue returns the value of the cookie name, "" when the request has
// none. Two cookies of that name are an error: a sibling host of the site
// can plant a __Secure- cookie beside the real one (cookie tossing), and
// the server cannot tell which is its own.
func cookieValue(r *http.Request, name string) (string, error) {
	cookies := r.CookiesNamed(name)
	switch len(cookies) {
	case 0:
		return "", nil
	case 1:
		if cookies[0].Value == "" {
			return "", nil // a cleared cookie
		}
		if !isB64Token(cookies[0].Value) {
			return "", errCookieFormat
		}
		return cookies[0].Value, nil
	}
	return "", errTwoCookies
}
