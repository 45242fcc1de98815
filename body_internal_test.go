package passauth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseForm checks parseForm against url.ParseQuery, whose reading of a
// form body it must share: the same bodies are malformed, and the
// parameters asked for have the same values, a repeated one being an error.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"", "username=alice&password=p%20w+d", "a=1&a=2", "username=a&username=b",
		"x;y=1", "scope=%zz", "pad=%4", "%75sername=alice", "username", "&&username=&",
		"grant_type=password&scope=me+items&client_id=web&client_secret=",
		"password&&password&%", "password=x&password=%", "password=%&password=x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, err := parseForm([]byte(body), tokenParams)
		want, werr := url.ParseQuery(body)
		// url.ParseQuery drops a pair whose value does not decode, so
		// repetition is counted on the names alone.
		names := map[string]int{}
		for _, pair := range strings.Split(body, "&") {
			name, _, _ := strings.Cut(pair, "=")
			if name, err := url.QueryUnescape(name); err == nil && pair != "" {
				names[name]++
			}
		}
		repeated := false
		for _, name := range tokenParams {
			repeated = repeated || names[name] > 1
		}
		switch {
		case werr != nil && repeated:
			// Both faults: parseForm stops at the first it meets; each
			// is an invalid_request.
			if err != errFormMalformed && err != errRepeated {
				t.Fatalf("url.ParseQuery: %v and a parameter is repeated; parseForm: %v", werr, err)
			}
		case werr != nil:
			if err != errFormMalformed {
				t.Fatalf("url.ParseQuery: %v; parseForm: %v", werr, err)
			}
		case repeated:
			if err != errRepeated {
				t.Fatalf("a parameter is repeated; parseForm: %v", err)
			}
		case err != nil:
			t.Fatalf("url.ParseQuery took it; parseForm: %v", err)
		default:
			for _, name := range tokenParams {
				if got.get(name) != want.Get(name) {
					t.Fatalf("%s: parseForm %q, url.ParseQuery %q", name, got.get(name), want.Get(name))
				}
			}
		}
	})
}
