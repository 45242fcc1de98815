package passauth

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// This file holds every parser of what a client sends: the token endpoint's
// form, the refresh endpoint's JSON, form or Bearer header, the revocation
// form, Basic client credentials, the names a client gives and the Bearer
// header of protected requests; body.go reads the bodies they come in. The
// fuzz targets cover each of them.

// tokenRequest is a parsed token endpoint request: the form of RFC 6749
// §4.3.2 (password grant) and §6 (refresh), which is also FastAPI's
// OAuth2PasswordRequestForm.
type tokenRequest struct {
	grantType    string
	username     string
	password     string
	scope        string
	refreshToken string
	clientID     string
}

// tokenParams are the parameters the token endpoint reads. RFC 6749 §3.2
// forbids repeating any of them; others are ignored as §3.2 requires.
var tokenParams = []string{"grant_type", "username", "password", "scope", "refresh_token", "client_id", "client_secret"}

// revocationParams are the parameters of a revocation request (RFC 7009
// §2.1), which may not be repeated either.
var revocationParams = []string{"token", "token_type_hint", "client_id", "client_secret"}

// parseTokenRequest reads the form body of a token endpoint request. It
// reads only the body, never the query string, and caps it at maxBody bytes.
func parseTokenRequest(w http.ResponseWriter, r *http.Request, maxBody int64) (tokenRequest, error) {
	var req tokenRequest
	form, err := readForm(w, r, maxBody, tokenParams)
	if err != nil {
		return req, err
	}
	req.grantType = form.get("grant_type")
	req.username = form.get("username")
	req.password = form.get("password")
	req.scope = form.get("scope")
	req.refreshToken = form.get("refresh_token")
	req.clientID = form.get("client_id")

	// RFC 6749 §2.3.1: the client may authenticate with HTTP Basic, its
	// identifier and secret form-encoded first. x/oauth2 and Swagger UI send
	// Basic with an empty identifier and secret for public clients.
	id, secret, hasBasic, err := basicCredentials(r)
	if err != nil {
		return req, err
	}
	if hasBasic && (id != "" || secret != "") {
		if form.get("client_secret") != "" || (req.clientID != "" && req.clientID != id) {
			return req, errClientTwice
		}
		req.clientID = id
	}
	if !validClientID(req.clientID) {
		return req, errClientID
	}
	return req, nil
}

// Limits on what names a client sends, checked before anything else is
// done with them.
const (
	maxClientIDLen = 255
	maxUsernameLen = 256
)

// validClientID reports whether id is empty or a client_id of RFC 6749
// Appendix A.1, VSCHARs (%x20-7E), of at most maxClientIDLen bytes.
func validClientID(id string) bool {
	if len(id) > maxClientIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkUsername reports what is wrong with a username, if anything: it
// must be valid UTF-8 of at most maxUsernameLen bytes whose characters are
// all UNICODECHARNOCRLF (RFC 6749 Appendix A.3): no control character but
// tab, no DEL, no U+FFFE or U+FFFF. Such a name could never be a user's.
func checkUsername(name string) error {
	switch {
	case len(name) > maxUsernameLen:
		return errUsernameLong
	case !utf8.ValidString(name):
		return errUsernameUTF8
	}
	for _, c := range name {
		if c < 0x20 && c != '\t' || c == 0x7f || c == 0xfffe || c == 0xffff {
			return errUsernameChar
		}
	}
	return nil
}

// basicCredentials returns the client credentials of an Authorization: Basic
// header, if there is one.
func basicCredentials(r *http.Request) (id, secret string, ok bool, err error) {
	switch v := r.Header["Authorization"]; {
	case len(v) == 0:
		return "", "", false, nil
	case len(v) > 1:
		return "", "", false, errTwoAuthz
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Basic") {
		// Not client authentication; the token endpoint has no use for it.
		return "", "", false, nil
	}
	rawID, rawSecret, ok := r.BasicAuth()
	if !ok {
		return "", "", false, errBasicAuth
	}
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err1 != nil || err2 != nil {
		return "", "", false, errBasicAuth
	}
	return id, secret, true, nil
}

// parseRevocationRequest reads the token of a revocation request (RFC 7009
// §2.1). Client credentials, if any, must be well formed but are not
// checked, as at the token endpoint.
func parseRevocationRequest(w http.ResponseWriter, r *http.Request, maxBody int64) (string, error) {
	form, err := readForm(w, r, maxBody, revocationParams)
	if err != nil {
		return "", err
	}
	if _, _, _, err := basicCredentials(r); err != nil {
		return "", err
	}
	token := form.get("token")
	if token == "" {
		return "", errNoToken7009
	}
	return token, nil
}

// parseRefreshRequest finds the refresh token of a request to the refresh
// endpoint: in a JSON body {"refresh_token": "…"}, in a form body, or in an
// Authorization: Bearer header. More than one of these is an error.
func parseRefreshRequest(w http.ResponseWriter, r *http.Request, maxBody int64) (string, error) {
	fromHeader, err := bearerToken(r)
	if err != nil {
		return "", err
	}
	body, err := readBody(w, r, maxBody)
	if err != nil {
		return "", err
	}
	var fromBody string
	switch mt := mediaType(r); {
	case mt == "application/json":
		if fromBody, err = refreshTokenFromJSON(body); err != nil {
			return "", err
		}
	case mt == "application/x-www-form-urlencoded":
		form, err := parseForm(body, tokenParams)
		if err != nil {
			return "", err
		}
		fromBody = form.get("refresh_token")
	case len(body) > 0 || mt != "":
		return "", errBodyType
	}
	switch {
	case fromHeader != "" && fromBody != "":
		return "", errTwoTokens
	case fromHeader != "":
		return fromHeader, nil
	case fromBody != "":
		return fromBody, nil
	}
	return "", errNoRefresh
}

// bearerToken returns the token of an "Authorization: Bearer" header (RFC
// 6750 §2.1), or "" when the request has no Authorization header or one of
// another scheme. The scheme is matched case-insensitively. A Bearer header
// whose token is missing or not a b64token, or a repeated Authorization
// header, is an invalid_request.
func bearerToken(r *http.Request) (string, error) {
	v := r.Header["Authorization"]
	switch {
	case len(v) == 0:
		return "", nil
	case len(v) > 1:
		return "", errTwoAuthz
	}
	scheme, token, _ := strings.Cut(v[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", nil
	}
	token = strings.TrimLeft(token, " ")
	if !isB64Token(token) {
		return "", errBearerFormat
	}
	return token, nil
}

// isB64Token reports whether s is a b64token of RFC 6750 §2.1:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
//
// It runs on every protected request, so it looks each character up in a
// bit set rather than testing it against the classes in turn: a token's
// random mix of letters and digits makes such tests mispredict a branch
// about every other character, 7 times slower on a token the CPU's branch
// predictor has not seen before.
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	s = s[:end]
	set := [4]uint64{b64TokenLow, b64TokenHigh} // none of 128-255
	for i := 0; i < len(s); i++ {
		c := s[i]
		if set[c>>6]&(1<<(c&63)) == 0 {
			return false
		}
	}
	return true
}

// The b64token characters but "=", as bits of the set isB64Token looks
// them up in: those of 0-63 (bit c), and those of 64-127 (bit c-64).
const (
	b64TokenLow  uint64 = 1<<'+' | 1<<'-' | 1<<'.' | 1<<'/' | (1<<10-1)<<'0'
	b64TokenHigh uint64 = (1<<26-1)<<('A'-64) | 1<<('_'-64) | (1<<26-1)<<('a'-64) | 1<<('~'-64)
)
