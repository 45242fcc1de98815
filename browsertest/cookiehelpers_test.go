package browsertest

// Helpers of cookies_test.go: driving the demo app, reading and setting the
// browser's cookies, and reading the demo's log of security events.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepper returns a func that runs the actions of one named step in tab,
// within stepTimeout, and that on failure saves a screenshot as failure and
// fails the test.
func stepper(t *testing.T, tab context.Context, failure string) func(name string, actions ...chromedp.Action[chromedp.Void]) {
	return func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, stepTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			saveScreenshot(t, tab, failure)
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// waitJS is an action that evaluates expr every 50ms until it is true. An
// evaluation that fails, as it does while the tab is between two documents,
// is tried again, so that, unlike chromedp.Poll, the wait survives a
// navigation. It ends with the context.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var last error
		for {
			try, cancel := context.WithTimeout(ctx, 2*time.Second)
			ok, err := chromedp.Evaluate[bool](expr)(try, t)
			cancel()
			if err == nil && ok {
				return nil
			}
			last = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w (last evaluation error: %v)", expr, ctx.Err(), last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// evaluate returns the value of expr in tab.
func evaluate[T any](t *testing.T, tab context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	require.NoError(t, err, "evaluating %s", expr)
	return v
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

// appShows returns a JavaScript expression that is true when the demo app,
// loaded, shows user as logged in (or the login form, for user ""), with a
// status line that starts with status.
func appShows(user, status string) string {
	return `(() => {
		const $ = (id) => document.getElementById(id);
		return document.readyState === "complete" && $("status") !== null &&
			$("status").textContent.startsWith(` + jsString(status) + `) &&
			$("session").hidden === (` + jsString(user) + ` === "") &&
			$("login").hidden === (` + jsString(user) + ` !== "") &&
			$("user").textContent === ` + jsString(user) + `;
	})()`
}

// logIn is the action of logging in through the demo app's form as the
// demo user; it waits for the status line status.
func logIn(status string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SetValue(chromedp.CSS("#username"), demoUsername),
		chromedp.SendKeys(chromedp.CSS("#password"), demoPassword),
		chromedp.Click(chromedp.CSS("#login-button")),
		waitJS(appShows(demoUsername, status)),
	)
}

// keepScreenshot saves what tab shows as the artifact name, and logs its
// path.
func keepScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	require.NoError(t, err, "screenshot %s", name)
	t.Logf("screenshot: %s", writeArtifact(t, name, shot))
}

// newTab opens another tab in the browser of parent, with the same cookie
// jar, and returns its context. It is closed when the test ends.
func newTab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	// As in newBrowser, the tab lives as long as the context of its first
	// run, so that run has no deadline.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(tab) }()
	select {
	case err := <-opened:
		require.NoError(t, err, "opening a tab")
	case <-time.After(stepTimeout):
		t.Fatalf("no new tab within %v", stepTimeout)
	}
	return tab
}

// browserCookies returns, by name, the cookies the browser of tab would send
// to any of urls.
func browserCookies(t *testing.T, tab context.Context, urls ...string) map[string]*network.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	require.NoError(t, err, "reading the cookies")
	jar := make(map[string]*network.Cookie, len(res.Cookies))
	for _, c := range res.Cookies {
		require.NotContains(t, jar, c.Name, "two cookies named %s", c.Name)
		jar[c.Name] = c
	}
	return jar
}

// requireSessionCookies checks that jar holds the two cookies of the
// transport, for host, with the attributes passauth sets (HttpOnly, Secure,
// SameSite=Strict, host-only, the refresh cookie on the cookie routes only,
// both persistent), and returns their values.
func requireSessionCookies(t *testing.T, jar map[string]*network.Cookie, host string) (access, refresh string) {
	t.Helper()
	require.Equal(t, []string{accessCookie, refreshCookie}, slices.Sorted(maps.Keys(jar)), "the cookies")
	for name, path := range map[string]string{accessCookie: "/", refreshCookie: cookieRoutes} {
		c := jar[name]
		assert.Equal(t, host, c.Domain, "%s: Domain (a host-only cookie)", name)
		assert.Equal(t, path, c.Path, "%s: Path", name)
		assert.True(t, c.HTTPOnly, "%s: HttpOnly", name)
		assert.True(t, c.Secure, "%s: Secure", name)
		assert.Equal(t, network.CookieSameSiteStrict, c.SameSite, "%s: SameSite", name)
		assert.False(t, c.Session, "%s: a session cookie; want Max-Age", name)
		assert.NotEmpty(t, c.Value, "%s: value", name)
	}
	return jar[accessCookie].Value, jar[refreshCookie].Value
}

// restoreCookies sets the cookies of jar again, as the demo at demo set
// them, and checks that the browser has them.
func restoreCookies(t *testing.T, tab context.Context, demo string, jar map[string]*network.Cookie) {
	t.Helper()
	var params []*network.CookieParam
	for _, c := range jar {
		params = append(params, &network.CookieParam{
			Name: c.Name, Value: c.Value, URL: demo + c.Path, Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite,
			Expires: cdp.TimeSinceEpoch(c.Expires),
		})
	}
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, network.SetCookies, network.SetCookiesParams{Cookies: params})
	require.NoError(t, err, "setting the cookies")
	var urls []string
	for _, c := range jar {
		urls = append(urls, demo+c.Path)
	}
	now := browserCookies(t, tab, urls...)
	for name, c := range jar {
		require.Contains(t, now, name, "the restored cookies")
		require.Equal(t, c.Value, now[name].Value, "the restored cookie %s", name)
	}
}

// tokenSession returns the "sid" claim of a JWT, read without verification:
// the login session a refresh token belongs to.
func tokenSession(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3, "a JWT")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims struct {
		SessionID string `json:"sid"`
	}
	require.NoError(t, json.Unmarshal(payload, &claims))
	require.NotEmpty(t, claims.SessionID, "the token's sid")
	return claims.SessionID
}

// checkConsole logs the console messages of the app's tab and fails the
// test on an exception or an error other than the browser's note of an
// answer 401, which the app gets from /api/users/me without a session.
func checkConsole(t *testing.T, messages []chromedp.ConsoleMessage) {
	t.Helper()
	for _, m := range messages {
		t.Logf("browser console: %s (%s)", m, m.URL)
		switch {
		case m.IsException():
			t.Errorf("an exception on the page: %s (%s)", m, m.URL)
		case m.Type == chromedp.ConsoleError && !(m.Source == "network" && strings.Contains(m.Text, "status of 401")):
			t.Errorf("an error on the page: %s (%s)", m, m.URL)
		}
	}
}

// Lines returns the number of lines in b.
func (b *syncBuffer) Lines() int {
	return strings.Count(b.String(), "\n")
}

// demoEvents returns the security events (passauth.LogEvents' records) in
// the demo's log from line from on, each as its kind and session
// attributes, "kind=refresh session=…".
func demoEvents(logs *syncBuffer, from int) []string {
	lines := strings.Split(logs.String(), "\n")
	var events []string
	for _, line := range lines[min(from, len(lines)):] {
		if !strings.Contains(line, `msg="passauth event"`) {
			continue
		}
		e := "kind=" + logAttr(line, "kind")
		if sid := logAttr(line, "session"); sid != "" {
			e += " session=" + sid
		}
		events = append(events, e)
	}
	return events
}

// logAttr returns the value of the attribute key in a line of slog's text
// format, "" when there is none.
func logAttr(line, key string) string {
	_, v, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, " ")
	return v
}

// waitEvent waits, within stepTimeout, until the demo has logged an event of
// kind from line from on.
func waitEvent(t *testing.T, logs *syncBuffer, from int, kind string) {
	t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for !slices.ContainsFunc(demoEvents(logs, from), func(e string) bool { return strings.HasPrefix(e, "kind="+kind) }) {
		if time.Now().After(deadline) {
			t.Fatalf("the demo logged no %s event within %v:\n%s", kind, stepTimeout, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// victim is a demo server and a browser logged in to its app on
// http://localhost, for the cross-origin attack tests: the session's
// cookies and id as they were after the login, and the line of the demo's
// log from which the attacks' events start.
type victim struct {
	base, demo, app, refreshURL string
	logs                        *syncBuffer
	browser                     context.Context
	console                     func() []chromedp.ConsoleMessage
	step                        func(name string, actions ...chromedp.Action[chromedp.Void])
	access, refresh, sid        string
	mark                        int
}

// loggedInVictim starts the demo and a browser, within testTimeout, and logs
// the victim in through the app; failure names the screenshot of a failed
// step.
func loggedInVictim(t *testing.T, failure string) *victim {
	t.Helper()
	chromium := requireFile(t, "Chromium", chromiumPath, "install Debian's chromium package")
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	v := &victim{}
	v.base, v.logs = startDemo(ctx, t, buildDemo(ctx, t), "")
	v.browser, v.console = newBrowser(t, chromium)
	v.step = stepper(t, v.browser, failure)
	v.demo = onHost(t, v.base, "localhost")
	v.app = v.demo + "/app/"
	v.refreshURL = v.demo + cookieRoutes + "/refresh"

	v.step("the victim logs in", chromedp.Navigate(v.app), waitJS(appShows("", "Not logged in.")), logIn("Logged in."))
	v.access, v.refresh = v.cookies(t)
	v.sid = tokenSession(t, v.refresh)
	waitEvent(t, v.logs, 0, "login_succeeded")
	v.mark = v.logs.Lines()
	return v
}

// cookies returns the victim's session cookies as the browser holds them
// now.
func (v *victim) cookies(t *testing.T) (access, refresh string) {
	t.Helper()
	return requireSessionCookies(t, browserCookies(t, v.browser, v.app, v.refreshURL), "localhost")
}

// sessionGoesOn checks, after the attacks, that the victim's session is
// intact: the cookies are those of the login, the app reloads logged in, a
// refresh rotates the same session, and since the login the demo logged no
// security event but that refresh. screenshot, when not empty, names a
// screenshot of the reloaded app.
func (v *victim) sessionGoesOn(t *testing.T, screenshot string) {
	t.Helper()
	v.step("the victim reloads the app", chromedp.Reload(), waitJS(appShows(demoUsername, "Welcome back.")))
	if screenshot != "" {
		keepScreenshot(t, v.browser, screenshot)
	}
	_, same := v.cookies(t)
	assert.Equal(t, v.refresh, same, "no refresh happened")
	v.step("the victim refreshes the session", chromedp.Click(chromedp.CSS("#refresh-button")), waitJS(appShows(demoUsername, "Refreshed: ")))
	_, rotated := v.cookies(t)
	assert.NotEqual(t, v.refresh, rotated, "the victim's refresh must rotate")
	assert.Equal(t, v.sid, tokenSession(t, rotated), "the rotated refresh token must belong to the same session")

	// The demo logs every login, failed login, refresh, reuse and
	// revocation (passauth.LogEvents).
	waitEvent(t, v.logs, v.mark, "refresh")
	assert.Equal(t, []string{"kind=refresh session=" + v.sid}, demoEvents(v.logs, v.mark), "the security events since the victim's login")
	checkConsole(t, v.console())
}
