package passauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file holds every parser of what a client sends: the token endpoint's
// form, the refresh endpoint's JSON, form or Bearer header, the revocation
// form, Basic client credentials and the Bearer header of protected
// requests. The fuzz targets cover each of them.

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

// readForm reads the application/x-www-form-urlencoded body of a request to
// the token or revocation endpoint, capped at maxBody bytes, with parseForm.
func readForm(w http.ResponseWriter, r *http.Request, maxBody int64, params []string) (formValues, error) {
	if mediaType(r) != "application/x-www-form-urlencoded" {
		return formValues{}, errFormType
	}
	body, err := readBody(w, r, maxBody)
	if err != nil {
		return formValues{}, err
	}
	return parseForm(body, params)
}

// formValues are the values of the parameters parseForm was asked for.
type formValues struct {
	names  []string
	values [maxFormParams]string
}

// maxFormParams is the most parameters one endpoint reads.
const maxFormParams = 8

// get returns the value of the parameter name, "" when it is absent or
// empty.
func (f *formValues) get(name string) string {
	for i, n := range f.names {
		if n == name {
			return f.values[i]
		}
	}
	return ""
}

// parseForm parses an x-www-form-urlencoded body as url.ParseQuery does
// (a ';' or a malformed escape anywhere is an error), keeping only the
// values of params, each of which may come once (RFC 6749 §3.2); other
// parameters are checked but neither decoded nor kept, so that a body of
// thousands of them costs one pass and no allocation each. An empty value
// counts as absent.
func parseForm(body []byte, params []string) (formValues, error) {
	f := formValues{names: params}
	var seen [maxFormParams]bool
	for rest := string(body); rest != ""; {
		// One pass over the pair: where it ends, where its '=' is, and
		// whether it has anything to decode.
		end, eq, escaped := 0, -1, false
		for ; end < len(rest) && rest[end] != '&'; end++ {
			switch rest[end] {
			case ';':
				return formValues{}, errFormMalformed
			case '=':
				if eq < 0 {
					eq = end
				}
			case '%', '+':
				escaped = true
			}
		}
		pair := rest[:end]
		rest = rest[min(end+1, len(rest)):]
		if pair == "" {
			continue
		}
		rawKey, rawValue := pair, ""
		if eq >= 0 {
			rawKey, rawValue = pair[:eq], pair[eq+1:]
		}
		key := rawKey
		if escaped {
			var err error
			if key, err = url.QueryUnescape(rawKey); err != nil {
				return formValues{}, errFormMalformed
			}
		}
		i := slices.Index(params, key)
		switch {
		case i < 0:
			if escaped && !validEscapes(rawValue) {
				return formValues{}, errFormMalformed
			}
			continue
		case seen[i]:
			return formValues{}, errRepeated
		}
		seen[i] = true
		value, err := url.QueryUnescape(rawValue) // no allocation without an escape
		if err != nil {
			return formValues{}, errFormMalformed
		}
		f.values[i] = value
	}
	return f, nil
}

// validEscapes reports whether every '%' in s starts an escape of two hex
// digits, as url.QueryUnescape requires.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; i = strings.IndexByte(s, '%') {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		s = s[i+3:]
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
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

// refreshTokenFromJSON reads the member refresh_token of a JSON object
// body, "" when it is absent or null. It is stricter than encoding/json,
// which matches member names case-insensitively and keeps the last of
// repeated ones: a repeated member name (RFC 8259 §4 leaves them to the
// parser, RFC 7493 §2.3 forbids them) and a name that is refresh_token only
// case-insensitively are errors. Other members are ignored.
func refreshTokenFromJSON(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", errJSONMalformed
	}
	var token string
	seen := make(map[string]struct{})
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", errJSONMalformed
		}
		name, _ := t.(string) // a member name is always a string
		if _, dup := seen[name]; dup {
			return "", errRepeated
		}
		seen[name] = struct{}{}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return "", errJSONMalformed
		}
		switch {
		case name == "refresh_token":
			var v *string
			if err := json.Unmarshal(value, &v); err != nil {
				return "", errJSONMalformed
			}
			if v != nil {
				token = *v
			}
		case strings.EqualFold(name, "refresh_token"):
			return "", errJSONMemberCase
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return "", errJSONMalformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errJSONMalformed // anything after the object
	}
	return token, nil
}

// mediaType returns the lower-case media type of the request's Content-Type,
// or "" when there is none, "invalid" when it cannot be parsed or is sent
// more than once.
func mediaType(r *http.Request) string {
	v := r.Header["Content-Type"]
	switch {
	case len(v) == 0:
		return ""
	case len(v) > 1:
		return "invalid"
	}
	mt, _, err := mime.ParseMediaType(v[0])
	if err != nil {
		return "invalid"
	}
	return mt
}

// readBody reads the whole request body, at most maxBody bytes, into one
// buffer when the request says its length.
func readBody(w http.ResponseWriter, r *http.Request, maxBody int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > maxBody {
		return nil, errBodyTooLarge
	}
	body, err := readAll(http.MaxBytesReader(w, r.Body, maxBody), max(r.ContentLength, 511)+1)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, errBodyRead
	}
	return body, nil
}

// readAll is io.ReadAll starting with a buffer of size bytes, so that a
// body of known length is read into one allocation.
func readAll(r io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		case len(b) == cap(b):
			b = append(b, 0)[:len(b)]
		}
	}
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
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
