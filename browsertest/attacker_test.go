package browsertest

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// attacker is an attacker's site on loopback, for
// TestCookieCrossOriginAttacks: pages that make the visiting browser POST to
// the demo's cookie routes, and a record of the demo's cookies that the
// browser sent to the attacker's own server.
type attacker struct {
	srv *httptest.Server

	mu     sync.Mutex
	visits []string // "localhost:port GET /fetch [cookie names]"
}

// startAttacker starts the attacker's server on 127.0.0.1, for the demo at
// demo (its base URL as the victim uses it); it is stopped when the test
// ends. Its pages:
//
//   - /fetch: a script that GETs the attacker's own /api/auth/cookie/peek,
//     then for each cookie route POSTs with fetch (mode no-cors, then mode
//     cors, both with credentials: "include") and with navigator.sendBeacon;
//     window.attack is the promise of what the script saw;
//   - /form?to=refresh (logout, login): a form that POSTs itself to the
//     route, navigating the tab; the login form carries the demo user's
//     name and password.
func startAttacker(t *testing.T, demo string) *attacker {
	t.Helper()
	a := &attacker{}
	type target struct {
		Route string            `json:"route"`
		URL   string            `json:"url"`
		Form  map[string]string `json:"form"`
	}
	form := func(route string) map[string]string {
		if route == "login" {
			return map[string]string{"username": demoUsername, "password": demoPassword}
		}
		return nil
	}
	var targets []target
	for _, route := range attackRoutes {
		targets = append(targets, target{route, demo + cookieRoutes + "/" + route, form(route)})
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /fetch", func(w http.ResponseWriter, r *http.Request) {
		render(w, fetchPage, targets)
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		route := r.URL.Query().Get("to")
		for _, target := range targets {
			if target.Route == route {
				render(w, formPage, target)
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /api/auth/cookie/peek", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, c := range r.Cookies() {
			if c.Name == accessCookie || c.Name == refreshCookie {
				names = append(names, c.Name)
			}
		}
		a.mu.Lock()
		a.visits = append(a.visits, r.Host+" "+r.Method+" "+r.URL.Path+" "+strings.Join(names, ","))
		a.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// URL returns the attacker's base URL, on 127.0.0.1.
func (a *attacker) URL() string { return a.srv.URL }

// logCookies logs and forgets the requests the attacker's server got, with
// the names of the demo's cookies they carried. Cookies are not bound to a
// port: a server on another port of the victim's host gets the cookies
// whose Path it asks for.
func (a *attacker) logCookies(t *testing.T, name string) {
	t.Helper()
	a.mu.Lock()
	visits := a.visits
	a.visits = nil
	a.mu.Unlock()
	for _, v := range visits {
		t.Logf("%s: the attacker's server got %s", name, v)
	}
}

// render writes the page tmpl with data, as HTML.
func render(w http.ResponseWriter, tmpl *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := tmpl.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// fetchPage is /fetch; html/template writes the targets as JSON.
var fetchPage = template.Must(template.New("fetch").Parse(`<!doctype html>
<title>attacker: fetch</title>
<p>fetch and sendBeacon to the demo's cookie routes</p>
<script>
"use strict";
const targets = {{.}};
window.attack = (async () => {
  const seen = [];
  const own = await fetch("/api/auth/cookie/peek", { credentials: "include" });
  seen.push("own /api/auth/cookie/peek: " + own.status);
  for (const { route, url, form } of targets) {
    const body = () => (form ? new URLSearchParams(form) : null);
    for (const mode of ["no-cors", "cors"]) {
      try {
        const resp = await fetch(url, { method: "POST", credentials: "include", mode, body: body() });
        seen.push(route + " " + mode + ": " + resp.type + " " + resp.status);
      } catch (err) {
        seen.push(route + " " + mode + ": " + err.name);
      }
    }
    seen.push(route + " sendBeacon queued: " + navigator.sendBeacon(url, body()));
  }
  return seen;
})();
</script>
`))

// formPage is /form: a form that submits itself at once.
var formPage = template.Must(template.New("form").Parse(`<!doctype html>
<title>attacker: form</title>
<form method="POST" action="{{.URL}}">
{{range $name, $value := .Form}}<input type="hidden" name="{{$name}}" value="{{$value}}">
{{end}}</form>
<script>document.forms[0].submit();</script>
`))
