// Package browsertest drives the demo server in a real, headless Chromium:
// its Swagger UI, the check that declaring passauth.OpenAPIScheme gives a
// working Authorize button, as FastAPI's OAuth2PasswordBearer does; and its
// app on the cookie transport, with attacks from other origins
// (cookies_test.go).
//
// It needs Debian's chromium at /usr/bin/chromium. The Swagger UI test runs
// on the copy the demo embeds (no SWAGGER_UI_URL, so /docs works offline)
// and, for SWAGGER_UI_URL, on the files of the swagger-ui-dist npm package
// in the directory SWAGGER_UI_DIST names; without them a test is skipped, unless
// PASSAUTH_BROWSER_TEST=1, which makes it fail instead. scripts/test.sh
// installs both and sets these variables. The screenshots go to
// PASSAUTH_ARTIFACTS (default: a temporary directory); their paths are
// logged.
package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// Bounds of the test's steps.
const (
	testTimeout  = 3 * time.Minute
	buildTimeout = 2 * time.Minute
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	stepTimeout  = 30 * time.Second
)

// The demo's user, as the demo server creates it by default.
const (
	demoUsername = "johndoe"
	demoPassword = "secret"
)

// The Swagger UI element ids of GET /api/users/me: "operations-" + its tag +
// "-" + its operationId.
const meOperation = "#operations-users-readUsersMe"

// TestSwaggerUIAuthorize logs in through Swagger UI's Authorize dialog (the
// OAuth 2.0 password flow) and calls GET /api/users/me with "Try it out",
// as a developer would from the demo's /docs page: on the Swagger UI the
// demo embeds (no SWAGGER_UI_URL: /docs works offline), and on the
// swagger-ui-dist npm package served elsewhere (SWAGGER_UI_URL).
func TestSwaggerUIAuthorize(t *testing.T) {
	chromium := requireFile(t, "Chromium", chromiumPath, "install Debian's chromium package")
	t.Run("embedded", func(t *testing.T) {
		authorizeInSwaggerUI(t, chromium, "", "swagger-ui-authorize.png")
	})
	t.Run("SWAGGER_UI_URL", func(t *testing.T) {
		dist := os.Getenv("SWAGGER_UI_DIST")
		if dist == "" {
			missing(t, "swagger-ui-dist: SWAGGER_UI_DIST is not set; point it at node_modules/swagger-ui-dist of `npm install swagger-ui-dist@5`")
		}
		requireFile(t, "swagger-ui-dist", filepath.Join(dist, "swagger-ui-bundle.js"), "set SWAGGER_UI_DIST to the swagger-ui-dist package directory")
		requireFile(t, "swagger-ui-dist", filepath.Join(dist, "swagger-ui.css"), "set SWAGGER_UI_DIST to the swagger-ui-dist package directory")
		assets := httptest.NewServer(http.FileServer(http.Dir(dist)))
		t.Cleanup(assets.Close)
		authorizeInSwaggerUI(t, chromium, assets.URL, "swagger-ui-authorize-swagger-ui-url.png")
	})
}

// authorizeInSwaggerUI runs the Authorize flow on a demo whose
// SWAGGER_UI_URL is swaggerUI ("" for the embedded copy) and saves the
// screenshot of the authorized call as shotName.
func authorizeInSwaggerUI(t *testing.T, chromium, swaggerUI, shotName string) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	demo, _ := startDemo(ctx, t, buildDemo(ctx, t), swaggerUI)

	browser, console := newBrowser(t, chromium)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(browser, stepTimeout)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			saveScreenshot(t, browser, "swagger-ui-failure.png")
			t.Fatalf("%s: %v", name, err)
		}
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	step("open /docs",
		chromedp.Navigate(demo+"/docs"),
		chromedp.WaitVisible(css(".auth-wrapper .btn.authorize")),
		chromedp.WaitVisible(css(meOperation)),
	)
	step("open the Authorize dialog",
		chromedp.Click(css(".auth-wrapper .btn.authorize")),
		chromedp.WaitVisible(css("#oauth_username")),
	)
	step("fill in the password flow",
		chromedp.SendKeys(css("#oauth_username"), demoUsername),
		chromedp.SendKeys(css("#oauth_password"), demoPassword),
		chromedp.Click(css(".modal-ux a[data-all]")), // "select all" scopes
		chromedp.Poll[chromedp.Void](`document.querySelectorAll(".modal-ux input[type=checkbox]:checked").length === 2`),
	)
	step("authorize",
		chromedp.Click(css(`.modal-ux button[aria-label="Apply given OAuth2 credentials"]`)),
		// Once the token endpoint has answered a token, the dialog shows
		// the user name in place of the input and offers Logout.
		chromedp.WaitVisible(css(`.modal-ux button[aria-label="Remove authorization"]`)),
		chromedp.WaitNotPresent(css("#oauth_username")),
	)
	step("close the dialog",
		chromedp.Click(css(".modal-ux .btn-done")),
		chromedp.WaitNotPresent(css(".modal-ux")),
		chromedp.WaitVisible(css(".auth-wrapper .btn.authorize.locked")),
	)
	step("expand GET /api/users/me",
		chromedp.Click(css(meOperation+" .opblock-summary-control")),
		chromedp.WaitVisible(css(meOperation+" .try-out__btn")),
	)
	step("try it out and execute",
		chromedp.Click(css(meOperation+" .try-out__btn")),
		chromedp.WaitVisible(css(meOperation+" .btn.execute")),
		chromedp.Click(css(meOperation+" .btn.execute")),
		chromedp.WaitVisible(css(meOperation+" .live-responses-table .response .response-col_status")),
		chromedp.ScrollIntoView(css(meOperation+" .live-responses-table")),
	)

	sctx, cancel := context.WithTimeout(browser, stepTimeout)
	defer cancel()
	live := meOperation + " .live-responses-table .response "
	status, err := chromedp.Run(sctx, chromedp.Text(css(live+".response-col_status")))
	require.NoError(t, err)
	body, err := chromedp.Run(sctx, chromedp.Text(css(live+".response-col_description")))
	require.NoError(t, err)
	shot, err := chromedp.Run(sctx, chromedp.FullScreenshot(100)) // 100: PNG
	require.NoError(t, err)

	t.Logf("screenshot of the authorized call: %s", writeArtifact(t, shotName, shot))
	assert.Equal(t, "200", strings.TrimSpace(status))
	assert.Contains(t, body, `"username": "johndoe"`)
	// No error on the page: no exception, no asset that failed to load,
	// nothing the Content-Security-Policy of /docs blocked.
	for _, m := range console() {
		t.Logf("browser console: %s (%s)", m, m.URL)
		assert.NotContains(t, []chromedp.ConsoleType{chromedp.ConsoleError, chromedp.ConsoleException}, m.Type,
			"an error on the page: %s (%s)", m, m.URL)
	}
}

// missing skips the test for a missing prerequisite, or fails it when
// PASSAUTH_BROWSER_TEST=1 says the browser test must run.
func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("PASSAUTH_BROWSER_TEST") == "1" {
		t.Fatalf("PASSAUTH_BROWSER_TEST=1 but %s", what)
	}
	t.Skipf("skipping the browser test: %s (scripts/test.sh installs what it needs)", what)
}

// requireFile returns path if it is a regular file, and calls missing
// otherwise.
func requireFile(t *testing.T, name, path, hint string) string {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		missing(t, name+" not found at "+path+": "+hint)
	}
	return path
}

// buildDemo builds the demo server into a temporary directory, in the
// examples module (with go.work if there is one, otherwise with the
// module's own replace directives).
func buildDemo(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "passauth-demo")
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join("..", "examples", "server")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build of the demo server:\n%s", out)
	return bin
}

// startDemo starts the demo binary on a free loopback port, with fixed
// secrets, a new SQLite database, its memory store and Swagger UI loaded
// from swaggerUI, and waits until it answers. It returns the server's base
// URL and its log (stdout and stderr, which hold passauth.LogEvents'
// records), which grows as the server runs; the server is stopped when the
// test ends.
func startDemo(ctx context.Context, t *testing.T, bin, swaggerUI string) (string, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"ADDR=127.0.0.1:0", // the demo logs the port it gets
		"ACCESS_TOKEN_SECRET=browsertest-access-secret-0123456789abcdef",
		"REFRESH_TOKEN_SECRET=browsertest-refresh-secret-0123456789abcdef",
		"ACCESS_TOKEN_TTL=", "REFRESH_TOKEN_TTL=",
		"ACCESS_TOKEN_EXPIRE_MINUTES=15", "REFRESH_TOKEN_EXPIRE_MINUTES=60",
		"DEMO_USERNAME="+demoUsername, "DEMO_PASSWORD="+demoPassword,
		"REDIS_URL=", "HASH_SLOTS=",
		// The users in a database of this run's own, not passauth-demo.db
		// in the working directory.
		"DATABASE_URL="+filepath.Join(t.TempDir(), "passauth-demo.db"),
		"SWAGGER_UI_URL="+swaggerUI,
	)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout // the demo logs to stderr
	require.NoError(t, cmd.Start())

	logs := new(syncBuffer)
	addrc := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteLine(line)
			if strings.Contains(line, "msg=listening") {
				if _, addr, ok := strings.Cut(line, "addr="); ok {
					select {
					case addrc <- strings.Fields(addr)[0]:
					default:
					}
				}
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("demo server log:\n%s", logs.String())
		}
	})

	var base string
	select {
	case base = <-addrc:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("the demo server exited before listening: %v\n%s", err, logs.String())
	case <-time.After(startTimeout):
		t.Fatalf("the demo server did not listen within %v:\n%s", startTimeout, logs.String())
	case <-ctx.Done():
		t.Fatalf("the demo server did not listen: %v", ctx.Err())
	}

	// Listening is not answering: wait for the document Swagger UI loads.
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(base + "/openapi.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo server at %s does not answer /openapi.json: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// its context, and a function that returns the console messages, exceptions
// and browser log entries of the page so far. The browser is closed when
// the test ends.
func newBrowser(t *testing.T, chromium string) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1024),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	// The browser lives as long as the context of its first Run, so that
	// context has no deadline; each step has its own.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(t.Context()), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	start, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }()
	select {
	case err := <-started:
		require.NoError(t, err, "starting Chromium")
	case <-start.Done():
		t.Fatalf("Chromium did not start within %v", stepTimeout)
	}

	var mu sync.Mutex
	var messages []chromedp.ConsoleMessage
	listening := chromedp.Console(browser)
	go func() {
		for m, err := range listening {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, m)
			mu.Unlock()
		}
	}()
	return browser, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(messages)
	}
}

// saveScreenshot saves what the browser shows, for a failing step.
func saveScreenshot(t *testing.T, browser context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot of the failure: %v", err)
		return
	}
	t.Logf("screenshot of the failure: %s", writeArtifact(t, name, shot))
}

// writeArtifact writes data to name in PASSAUTH_ARTIFACTS, or in a
// temporary directory when it is unset, and returns the file's path.
func writeArtifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	require.NotEmpty(t, data, "empty %s", name)
	dir := os.Getenv("PASSAUTH_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path, err := filepath.Abs(filepath.Join(dir, name))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

// syncBuffer collects the demo server's log lines while the test reads
// them.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteLine(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(line)
	b.buf.WriteByte('\n')
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
