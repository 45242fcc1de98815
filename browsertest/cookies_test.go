package browsertest

// The cookie transport in a real browser: the demo app of /app/ logging in,
// surviving reloads, refreshing and logging out on its HttpOnly cookies
// (TestCookieAppFlow), and pages of another origin failing to change the
// victim's session with forms, fetch and sendBeacon
// (TestCookieCrossOriginAttacks). Same prerequisites and artifacts as
// TestSwaggerUIAuthorize, without swagger-ui-dist.

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The cookies of the transport (passauth.AccessCookie and RefreshCookie),
// and the demo's cookie routes, under the refresh cookie's Path.
const (
	accessCookie  = "__Host-passauth-access"
	refreshCookie = "__Secure-passauth-refresh"
	cookieRoutes  = "/api/auth/cookie"
)

// TestCookieAppFlow walks the demo app through a session on
// http://localhost: login through the form, a reload that finds the session
// (GET /api/users/me on the access cookie), the "Refresh the session"
// button, a reload without the access cookie that the page recovers with the
// refresh cookie, and logout, which clears the cookies and revokes the
// session on the server. Then a login on http://127.0.0.1, the other
// loopback origin Chromium treats as secure. It checks the cookies'
// attributes as the browser stored them, and that the page's scripts
// cannot read them.
func TestCookieAppFlow(t *testing.T) {
	chromium := requireFile(t, "Chromium", chromiumPath, "install Debian's chromium package")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	base, _ := startDemo(ctx, t, buildDemo(ctx, t), "")
	browser, console := newBrowser(t, chromium)
	step := stepper(t, browser, "cookie-app-failure.png")

	demo := onHost(t, base, "localhost")
	app := demo + "/app/"
	refreshURL := demo + cookieRoutes + "/refresh"

	step("open the app, logged out",
		chromedp.Navigate(app),
		waitJS(appShows("", "Not logged in.")),
	)
	assert.Empty(t, browserCookies(t, browser, app, refreshURL), "cookies before login")

	step("log in through the form", logIn("Logged in."))
	keepScreenshot(t, browser, "cookie-app-1-logged-in.png")
	jar := browserCookies(t, browser, app, refreshURL)
	access, refresh := requireSessionCookies(t, jar, "localhost")
	for _, c := range jar {
		t.Logf("cookie %s: domain %s path %s httpOnly %t secure %t sameSite %s sourceScheme %s sourcePort %d, for %v",
			c.Name, c.Domain, c.Path, c.HTTPOnly, c.Secure, c.SameSite, c.SourceScheme, c.SourcePort,
			time.Until(time.Unix(int64(c.Expires), 0)).Round(time.Minute))
	}
	// The refresh cookie is not sent to the page or to the API, only to
	// the cookie routes.
	assert.NotContains(t, browserCookies(t, browser, app, demo+"/api/users/me"), refreshCookie)
	assert.Equal(t, "", evaluate[string](t, browser, `document.cookie`), "document.cookie: the cookies are HttpOnly")

	step("reload: the access cookie is enough",
		chromedp.Reload(),
		waitJS(appShows(demoUsername, "Welcome back.")),
	)
	keepScreenshot(t, browser, "cookie-app-2-reloaded.png")
	sameAccess, sameRefresh := requireSessionCookies(t, browserCookies(t, browser, app, refreshURL), "localhost")
	assert.Equal(t, refresh, sameRefresh, "a reload with a valid access cookie must not refresh")
	assert.Equal(t, access, sameAccess)

	step("refresh the session", chromedp.Click(chromedp.CSS("#refresh-button")), waitJS(appShows(demoUsername, "Refreshed: ")))
	keepScreenshot(t, browser, "cookie-app-3-refreshed.png")
	newAccess, newRefresh := requireSessionCookies(t, browserCookies(t, browser, app, refreshURL), "localhost")
	assert.NotEqual(t, refresh, newRefresh, "the refresh cookie must rotate")
	assert.NotEqual(t, access, newAccess, "the access cookie must be new")
	refresh = newRefresh

	stepCtx, cancelStep := context.WithTimeout(browser, stepTimeout)
	_, err := chromedp.Call(stepCtx, network.DeleteCookies, network.DeleteCookiesParams{Name: accessCookie, URL: app})
	cancelStep()
	require.NoError(t, err, "deleting the access cookie")
	require.NotContains(t, browserCookies(t, browser, app, refreshURL), accessCookie)
	step("reload without the access cookie: the page refreshes",
		chromedp.Reload(),
		waitJS(appShows(demoUsername, "Welcome back.")),
	)
	keepScreenshot(t, browser, "cookie-app-4-access-cookie-deleted.png")
	jar = browserCookies(t, browser, app, refreshURL)
	_, newRefresh = requireSessionCookies(t, jar, "localhost")
	assert.NotEqual(t, refresh, newRefresh, "the page must have refreshed with the refresh cookie")
	revoked := jar // the session's last cookies, which logout must revoke

	step("log out", chromedp.Click(chromedp.CSS("#logout-button")), waitJS(appShows("", "Logged out.")))
	assert.Empty(t, browserCookies(t, browser, app, refreshURL), "cookies after logout")
	step("reload after logout", chromedp.Reload(), waitJS(appShows("", "Not logged in.")))
	keepScreenshot(t, browser, "cookie-app-5-logged-out.png")

	// Logout revoked the session on the server, not only in this browser:
	// its last cookies, put back, are refused (the access token by the
	// revocation list, the refresh token as revoked) and cleared.
	restoreCookies(t, browser, demo, revoked)
	step("reload with the revoked session's cookies", chromedp.Reload(), waitJS(appShows("", "Not logged in.")))
	assert.Empty(t, browserCookies(t, browser, app, refreshURL), "the refused refresh must clear the cookies")

	// http://127.0.0.1 is a secure context too: the same cookies, for that
	// host.
	loopback := onHost(t, base, "127.0.0.1")
	step("open the app on 127.0.0.1", chromedp.Navigate(loopback+"/app/"), waitJS(appShows("", "Not logged in.")))
	step("log in on 127.0.0.1", logIn("Logged in."))
	requireSessionCookies(t, browserCookies(t, browser, loopback+"/app/", loopback+cookieRoutes+"/refresh"), "127.0.0.1")
	assert.Empty(t, browserCookies(t, browser, app, refreshURL), "the 127.0.0.1 session is not localhost's")

	checkConsole(t, console())
}

// TestCookieCrossOriginAttacks logs a victim in to the demo app on
// http://localhost:<demo>, then visits, in another tab of the same browser,
// an attacker's pages on another port of loopback: first as
// http://localhost:<other> (same site, other origin: SameSite=Strict lets
// the cookies through, and only http.CrossOriginProtection stands in the
// way), then as http://127.0.0.1:<other> (cross-site: the browser withholds
// the cookies). Each origin POSTs to the refresh, logout and login routes
// (the login with the demo user's password: login CSRF) four ways: fetch
// with mode no-cors and with mode cors (a simple request, sent without a
// preflight; CORS only hides the answer), navigator.sendBeacon, and a form
// that submits itself, navigating the tab.
//
// It proves that each request was sent and refused, from the browser's
// Network events (the headers on the wire, the cookies attached or
// withheld, the status, the body) and from the demo's log of security
// events, which records no login, refresh or revocation during the attacks;
// and that the session is intact: the same cookies, the page still logged
// in, and a same-origin refresh that rotates the same session ("sid").
//
// What no defence of a request can stop is logged, not asserted: cookies
// are not bound to a port (RFC 6265 §8.5), so the attacker's own server on
// localhost:<other> receives the victim's access cookie with every request,
// and the refresh cookie when it asks for a path under /api/auth/cookie.
func TestCookieCrossOriginAttacks(t *testing.T) {
	v := loggedInVictim(t, "cookie-attack-failure.png")
	keepScreenshot(t, v.browser, "cookie-attack-1-victim-logged-in.png")
	demo := v.demo

	evil := startAttacker(t, demo)
	tab := newTab(t, v.browser)
	requests := listenNetwork(t, tab, demo+cookieRoutes+"/")
	attackStep := stepper(t, tab, "cookie-attack-failure.png")
	for _, attack := range []struct {
		name, origin, site string
		attached           bool // whether SameSite=Strict lets the cookies go
	}{
		{"same-site", onHost(t, evil.URL(), "localhost"), "same-site", true},
		{"cross-site", onHost(t, evil.URL(), "127.0.0.1"), "cross-site", false},
	} {
		from := requests.Len()

		attackStep(attack.name+": fetch and sendBeacon", chromedp.Navigate(attack.origin+"/fetch"))
		outcomes := evaluate[[]string](t, tab, `window.attack`, chromedp.EvalAwaitPromise)
		t.Logf("%s: what the attacker's script saw: %s", attack.name, strings.Join(outcomes, "; "))
		requests.await(t, tab, from, len(attackRoutes)*3)
		requests.readBodies(t, tab, from)

		for _, route := range attackRoutes {
			target := demo + cookieRoutes + "/" + route
			attackStep(attack.name+": a form POST to "+route, chromedp.Navigate(attack.origin+"/form?to="+route))
			if r := requests.awaitDocument(t, tab, from, target); r.Status != http.StatusForbidden {
				// A 204 (logout) would leave the tab on the form.
				t.Errorf("%s: the form POST to %s was answered %d, not refused", attack.name, route, r.Status)
				continue
			}
			attackStep(attack.name+": the page the form POST to "+route+" led to",
				waitJS(`location.href === `+jsString(target)+` && document.readyState === "complete"`))
			body := evaluate[string](t, tab, `document.body.innerText`)
			assert.Contains(t, body, crossOriginRefused, "%s: the page the form POST to %s led to", attack.name, route)
			requests.readBodies(t, tab, from)
			if route == "refresh" {
				keepScreenshot(t, tab, "cookie-attack-2-"+attack.name+"-form-refused.png")
			}
		}
		sent := requests.await(t, tab, from, len(attackRoutes)*4)
		checkRefused(t, attack.name, sent, attack.origin, attack.site, attack.attached)
		evil.logCookies(t, attack.name)

		nowAccess, nowRefresh := v.cookies(t)
		assert.Equal(t, v.refresh, nowRefresh, "%s: the victim's refresh cookie changed", attack.name)
		assert.Equal(t, v.access, nowAccess, "%s: the victim's access cookie changed", attack.name)
	}

	// Back in the victim's tab: still logged in, and the session goes on.
	v.sessionGoesOn(t, "cookie-attack-3-victim-after-attacks.png")
}

// crossOriginRefused is the error_description of the 403 that
// http.CrossOriginProtection's refusal gets from passauth.
const crossOriginRefused = "cross-origin request refused"

// attackRoutes are the cookie routes the attacker POSTs to, under
// cookieRoutes.
var attackRoutes = []string{"refresh", "logout", "login"}

// checkRefused checks the requests that one attacker origin made to the
// cookie routes: each a POST from origin, labelled by the browser with
// Sec-Fetch-Site site, carrying the victim's two cookies when attached, or
// none of them, withheld for SameSite=Strict, otherwise; and each answered
// 403 by CrossOriginProtection.
func checkRefused(t *testing.T, name string, sent []*netRequest, origin, site string, attached bool) {
	t.Helper()
	require.Len(t, sent, len(attackRoutes)*4, "%s: the requests to the cookie routes", name)
	kinds := map[network.ResourceType]int{}
	for _, r := range sent {
		kinds[r.Type]++
		what := name + ": " + r.String()
		t.Logf("%s", what)
		assert.Equal(t, http.MethodPost, r.Method, what)
		assert.Equal(t, origin, r.header("Origin"), what)
		assert.Equal(t, site, r.header("Sec-Fetch-Site"), what)
		assert.Equal(t, http.StatusForbidden, int(r.Status), what)
		// The browser keeps the body of a document, not of a fetch or a
		// beacon: their 403 is the status on the wire.
		if r.Type == network.ResourceTypeDocument {
			assert.JSONEq(t, `{"error":"invalid_request","error_description":"`+crossOriginRefused+`"}`, r.Body, what)
		}
		sentCookies, withheld := r.cookies()
		if attached {
			assert.ElementsMatch(t, []string{accessCookie, refreshCookie}, sentCookies, what)
			assert.Empty(t, withheld, what)
			continue
		}
		assert.Empty(t, sentCookies, what)
		assert.Empty(t, r.header("Cookie"), what)
		// Chromium says SchemefulSameSiteStrict (and, for a fetch or a
		// beacon, also UserPreferences: third-party cookies are blocked
		// too).
		require.Len(t, withheld, 2, what)
		for name, reasons := range withheld {
			assert.Contains(t, []string{"SameSiteStrict", "SchemefulSameSiteStrict"}, strings.Split(reasons, ",")[0], "%s: %s", what, name)
		}
	}
	n := len(attackRoutes)
	assert.Equal(t, map[network.ResourceType]int{
		network.ResourceTypeFetch:    2 * n, // no-cors and cors
		network.ResourceTypePing:     n,
		network.ResourceTypeDocument: n,
	}, kinds, "%s: the kinds of requests", name)
}

// onHost returns base, an http URL of the demo or of an httptest server on
// 127.0.0.1, with its host replaced by host and the port kept.
func onHost(t *testing.T, base, host string) string {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Host = host + ":" + u.Port()
	return strings.TrimSuffix(u.String(), "/")
}
