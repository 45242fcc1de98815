package passauth

// Request bodies: reading one within its limit, and the two formats the
// endpoints take, x-www-form-urlencoded and JSON, read strictly and in one
// pass. request.go reads the requests out of them.

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
)

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
