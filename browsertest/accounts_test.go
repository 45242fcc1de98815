package browsertest

// The demo's account routes, which take the access cookie, attacked from
// another origin's pages in a real browser (TestAccountRoutesCrossOrigin).
// Same prerequisites and artifacts as TestCookieCrossOriginAttacks.

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attackerPassword is the password the attacker's pages try to set.
const attackerPassword = "attacker-chose-this-1"

// TestAccountRoutesCrossOrigin logs a victim in to the demo app on
// http://localhost:<demo>, then visits an attacker's pages on another port
// of loopback, as a same-site origin (localhost) and a cross-site one
// (127.0.0.1). They try to change the victim's password
// (POST /api/users/me/password) and to end the victim's session
// (DELETE /api/users/me/sessions/{id}, its id known to the attacker): with
// fetch, without a preflight (a text/plain body, modes no-cors and cors)
// and with one (a JSON body; DELETE), and with a form that posts the JSON
// as text/plain, the classic JSON CSRF.
//
// Every request the browser sends is refused: 403 from the same site, the
// cookies attached (http.CrossOriginProtection), 401 from another site, the
// cookies withheld (SameSite=Strict); the preflighted ones are never sent,
// as the demo answers no CORS preflight. Afterwards the victim's session is
// intact, the demo's log holds no security event of theirs, and the
// password is the same: the old one logs in, the attacker's does not.
func TestAccountRoutesCrossOrigin(t *testing.T) {
	v := loggedInVictim(t, "account-attack-failure.png")
	passwordURL := v.demo + "/api/users/me/password"
	sessionURL := v.demo + "/api/users/me/sessions/" + url.PathEscape(v.sid)
	evil := startAccountAttacker(t, passwordURL, sessionURL)
	tab := newTab(t, v.browser)
	requests := listenNetwork(t, tab, v.demo+"/api/users/")
	attackStep := stepper(t, tab, "account-attack-failure.png")
	for _, attack := range []struct {
		name, origin, site string
		attached           bool // whether SameSite=Strict lets the cookies go
		status             int
	}{
		{"same-site", onHost(t, evil.URL, "localhost"), "same-site", true, http.StatusForbidden},
		{"cross-site", onHost(t, evil.URL, "127.0.0.1"), "cross-site", false, http.StatusUnauthorized},
	} {
		from := requests.Len()
		attackStep(attack.name+": fetch", chromedp.Navigate(attack.origin+"/fetch"))
		outcomes := evaluate[[]string](t, tab, `window.attack`, chromedp.EvalAwaitPromise)
		t.Logf("%s: what the attacker's script saw: %s", attack.name, strings.Join(outcomes, "; "))
		attackStep(attack.name+": a text/plain form POST of JSON", chromedp.Navigate(attack.origin+"/form"))
		doc := requests.awaitDocument(t, tab, from, passwordURL)
		assert.Equal(t, attack.status, int(doc.Status), "%s: the form POST", attack.name)
		attackStep(attack.name+": the page the form led to",
			waitJS(`location.href === `+jsString(passwordURL)+` && document.readyState === "complete"`))
		if attack.attached {
			assert.Contains(t, evaluate[string](t, tab, `document.body.innerText`), crossOriginRefused, "the page the form led to")
			keepScreenshot(t, tab, "account-attack-1-same-site-form-refused.png")
		}

		// The three simple POSTs (two fetches, the form) reach the demo;
		// the preflighted POST and the DELETE fail in the browser.
		simple, failed := awaitAccountRequests(t, tab, requests, from, 3, 2)
		for _, r := range failed {
			what := attack.name + ": " + r.String()
			t.Logf("%s", what)
			assert.Contains(t, r.Failed, "Preflight", "%s: failed, for want of CORS", what)
		}
		for _, r := range simple {
			what := attack.name + ": " + r.String()
			t.Logf("%s", what)
			assert.Equal(t, http.MethodPost, r.Method, what)
			assert.Equal(t, passwordURL, r.URL, what)
			assert.Equal(t, attack.origin, r.header("Origin"), what)
			assert.Equal(t, attack.site, r.header("Sec-Fetch-Site"), what)
			assert.Equal(t, attack.status, int(r.Status), what)
			cookies, withheld := r.cookies()
			if attack.attached {
				assert.ElementsMatch(t, []string{accessCookie}, cookies, what)
			} else {
				assert.Empty(t, cookies, what)
				assert.Contains(t, withheld, accessCookie, what)
			}
		}

		nowAccess, nowRefresh := v.cookies(t)
		assert.Equal(t, v.refresh, nowRefresh, "%s: the victim's refresh cookie changed", attack.name)
		assert.Equal(t, v.access, nowAccess, "%s: the victim's access cookie changed", attack.name)
	}

	// The session goes on, which the DELETE would have ended, and the
	// password did not change.
	v.sessionGoesOn(t, "")
	assert.Equal(t, http.StatusOK, passwordLogin(t, v.base, demoPassword), "a login with the victim's password")
	assert.Equal(t, http.StatusBadRequest, passwordLogin(t, v.base, attackerPassword), "a login with the attacker's password")
}

// awaitAccountRequests waits, within stepTimeout, until the tab's requests
// to the prefix from the from-th on include nSent that were sent and
// answered, and nFailed that the browser failed without an answer; it
// returns copies of them, and of no preflight.
func awaitAccountRequests(t *testing.T, tab context.Context, l *netLog, from, nSent, nFailed int) (sent, failed []*netRequest) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		got, _ := l.since(from)
		sent, failed = nil, nil
		for _, r := range got {
			switch {
			case r.Method == http.MethodOptions || r.Type == network.ResourceTypePreflight:
				// A preflight, which the demo does not answer for CORS.
			case r.finished && r.extra && r.Status != 0:
				sent = append(sent, r)
			case r.finished && r.Status == 0:
				failed = append(failed, r)
			}
		}
		if len(sent) == nSent && len(failed) == nFailed {
			return sent, failed
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, tab, "account-attack-failure.png")
			for _, r := range got {
				t.Logf("seen: %s", r)
			}
			t.Fatalf("%d requests answered and %d failed within %v; want %d and %d", len(sent), len(failed), stepTimeout, nSent, nFailed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// passwordLogin posts the demo user's name and password to the token
// endpoint and returns the status.
func passwordLogin(t *testing.T, base, password string) int {
	t.Helper()
	resp, err := http.PostForm(base+"/api/auth/login", url.Values{"username": {demoUsername}, "password": {password}})
	require.NoError(t, err)
	defer resp.Body.Close()
	return resp.StatusCode
}

// accountAttacker is the attacker's site on 127.0.0.1, with pages aimed at
// the account routes: /fetch runs the fetches, window.attack being the
// promise of what the script saw; /form posts the JSON of a password change
// as a text/plain form, navigating the tab.
type accountAttacker struct {
	URL string
}

func startAccountAttacker(t *testing.T, passwordURL, sessionURL string) *accountAttacker {
	t.Helper()
	change, err := json.Marshal(map[string]string{"current_password": demoPassword, "new_password": attackerPassword})
	require.NoError(t, err)
	// A text/plain form sends name=value: the name holds the JSON up to a
	// last member whose value the "=" and the input's value close.
	formName := strings.TrimSuffix(string(change), "}") + `,"pad":"`
	data := map[string]string{"password": passwordURL, "session": sessionURL, "change": string(change), "formName": formName}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /fetch", func(w http.ResponseWriter, r *http.Request) { render(w, accountFetchPage, data) })
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) { render(w, accountFormPage, data) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &accountAttacker{URL: srv.URL}
}

// accountFetchPage is /fetch; html/template writes the data as JSON.
var accountFetchPage = template.Must(template.New("fetch").Parse(`<!doctype html>
<title>attacker: account fetch</title>
<p>fetch to the demo's account routes</p>
<script>
"use strict";
const data = {{.}};
window.attack = (async () => {
  const seen = [];
  const tries = [
    ["password no-cors, text/plain", data.password, { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: data.change }],
    ["password cors, text/plain", data.password, { method: "POST", mode: "cors", headers: { "Content-Type": "text/plain" }, body: data.change }],
    ["password cors, JSON", data.password, { method: "POST", mode: "cors", headers: { "Content-Type": "application/json" }, body: data.change }],
    ["session DELETE", data.session, { method: "DELETE", mode: "cors" }],
  ];
  for (const [name, url, init] of tries) {
    try {
      const resp = await fetch(url, { credentials: "include", ...init });
      seen.push(name + ": " + resp.type + " " + resp.status);
    } catch (err) {
      seen.push(name + ": " + err.name);
    }
  }
  return seen;
})();
</script>
`))

// accountFormPage is /form: a text/plain form whose body is the JSON of a
// password change, submitted at once.
var accountFormPage = template.Must(template.New("form").Parse(`<!doctype html>
<title>attacker: account form</title>
<form method="POST" enctype="text/plain" action="{{.password}}">
<input type="hidden" name="{{.formName}}" value="&#34;}">
</form>
<script>document.forms[0].submit();</script>
`))
