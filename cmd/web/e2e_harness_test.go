package main

// The browser end-to-end harness: the real program (run) against a
// simulator the test owns, and one headless Chromium shared by the
// scenarios, each in its own incognito browser context. See e2e_test.go.

import (
	"context"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

const (
	e2eAdminEmail    = "admin@example.com"
	e2eAdminPassword = "e2e admin password 4711"
	// e2eSpeed runs the simulator's jobs 10x faster than their simulated
	// timing (a small backup completes in a few seconds, the largest runs
	// for about 7 s) while its clock stays the console's, so the times the
	// pages show agree with the reports.
	e2eSpeed = 10
	// hostileName is an agent name that runs script if rendered as HTML.
	hostileName = `<img src=x onerror=alert(1)><script>alert(1)</script>`
)

// artifactsDir is where the scenarios' screenshots go: e2e-artifacts/ at
// the repository root (the README names it). It ignores itself in git.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "e2e-artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("# Screenshots of the browser end-to-end tests (cmd/web/e2e_test.go).\n*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromiumPath finds Debian's chromium. Missing in CI is a failure (the CI
// script installs it); missing on a laptop skips with the command to run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: the browser end-to-end tests must run in CI (.ci/run installs it with apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed: `apt-get install -y chromium` to run the browser end-to-end tests")
	return ""
}

// e2eFixture is the seeded simulator data the scenarios drive.
type e2eFixture struct {
	agentID, targetAgentID, hostileAgentID int64
	quickConfigID, longConfigID            int64
}

// e2eEnv is one running console, its simulator and a browser.
type e2eEnv struct {
	base string
	// identityURL is the simulator's Identity endpoint (for adding an account).
	identityURL string
	sim         *rcbusim.Server
	fix         e2eFixture
	stderr      *syncBuffer
	browser     context.Context
	artifacts   string
}

// startE2E starts the simulator, the program and the browser; everything
// stops in t.Cleanup. With regionPorts the simulator serves each region on
// its own loopback port (rcbusim.WithRegionListeners) instead of path
// prefixes.
func startE2E(t *testing.T, regionPorts bool) *e2eEnv {
	t.Helper()
	return startE2EWith(t, regionPorts, nil)
}

// startE2EWith is startE2E with more settings for the program (they win
// over the harness's own).
func startE2EWith(t *testing.T, regionPorts bool, extra map[string]string) *e2eEnv {
	t.Helper()
	chromium := chromiumPath(t)
	env := &e2eEnv{artifacts: artifactsDir(t)}

	simOpts := []rcbusim.Option{rcbusim.WithDataset("demo"), rcbusim.WithJobPace(e2eSpeed)}
	if regionPorts {
		lns, err := rcbusim.ListenRegions("127.0.0.1", 0)
		if err != nil {
			t.Fatal(err)
		}
		simOpts = append(simOpts, rcbusim.WithRegionListeners(lns))
	}
	env.sim = rcbusim.New(simOpts...)
	t.Cleanup(func() { _ = env.sim.Close() })
	if err := env.sim.Err(); err != nil {
		t.Fatal(err)
	}
	env.fix = seedE2E(t, env.sim)
	simSrv := httptest.NewServer(env.sim)
	t.Cleanup(simSrv.Close)

	vars := map[string]string{
		"RCBU_USERNAME":           rcbusim.DemoUser,
		"RCBU_API_KEY":            rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL":       simSrv.URL + "/v2.0/tokens",
		"RCBU_WEB_ADMIN_EMAIL":    e2eAdminEmail,
		"RCBU_WEB_ADMIN_PASSWORD": e2eAdminPassword,
		"RCBU_WEB_SYNC_INTERVAL":  "10s",
	}
	maps.Copy(vars, extra)
	base, stderr, _ := startRun(t, vars)
	env.base, env.stderr = base, stderr
	env.identityURL = simSrv.URL + "/v2.0/tokens"

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// The first Do starts the browser; it must not carry a timeout (that
	// would end the browser), so bound it by a watchdog instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	case <-time.After(60 * time.Second):
		cancelBrowser()
		t.Fatal("chromium did not start within 60 s")
	}
	env.browser = browser
	return env
}

// seedE2E adds what the scenarios need to the demo data: an online agent
// with a quick and a very long configuration, a second online agent as a
// restore destination, and an agent with a hostile name.
func seedE2E(t *testing.T, sim *rcbusim.Server) e2eFixture {
	t.Helper()
	var f e2eFixture
	f.agentID = sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "e2e-web-01", Online: true, Datacenter: "DFW"})
	f.targetAgentID = sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "e2e-restore-target", Online: true, Datacenter: "DFW"})
	f.hostileAgentID = sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: hostileName, Online: true, Datacenter: "DFW"})
	var err error
	f.quickConfigID, err = sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
		AgentID: f.agentID, Name: "e2e quick", Inclusions: []string{"/etc"}, DataBytes: 50 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.longConfigID, err = sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
		AgentID: f.agentID, Name: "e2e long", Inclusions: []string{"/srv"}, DataBytes: 10 << 40,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tab is one scenario's browser tab in its own incognito context (own
// cookies), bounded by a timeout, watching for dialogs and exceptions.
type tab struct {
	t    *testing.T
	env  *e2eEnv
	ctx  context.Context
	name string

	mu         sync.Mutex
	dialogs    []string
	exceptions []string
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// newTab opens a tab for the scenario. At cleanup it saves a full-page
// screenshot of the final state as e2e-artifacts/<test name>.png and fails
// the test if a JavaScript dialog opened or an exception went uncaught.
func (env *e2eEnv) newTab(t *testing.T, timeout time.Duration) *tab {
	t.Helper()
	tabCtx, cancelTab := chromedp.NewContext(env.browser, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(tabCtx); err != nil {
		cancelTab()
		t.Fatalf("open a tab: %v", err)
	}
	tb := &tab{t: t, env: env, name: unsafeFileChars.ReplaceAllString(t.Name(), "_")}
	err := chromedp.Listen(tabCtx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
			tb.mu.Unlock()
			// Close it from another goroutine: the listener must not call.
			go func() {
				_, _ = chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil && ev.ExceptionDetails.Exception.Description != "" {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			tb.mu.Lock()
			tb.exceptions = append(tb.exceptions, fmt.Sprintf("%s (%s:%d)", msg, ev.ExceptionDetails.URL, ev.ExceptionDetails.LineNumber))
			tb.mu.Unlock()
		}
	})
	if err != nil {
		cancelTab()
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(tabCtx, timeout)
	tb.ctx = ctx
	t.Cleanup(func() {
		defer cancelTab()
		defer cancelTimeout()
		// The final state of every scenario passes axe-core, unless the
		// tab ended on a page of another origin. Like the screenshot it
		// has its own deadline: the scenario's may have run out.
		axeCtx, cancelAxe := context.WithTimeout(tabCtx, 60*time.Second)
		if loc, err := chromedp.Run(axeCtx, chromedp.Location()); err == nil && strings.HasPrefix(loc, env.base+"/") {
			checkAxe(t, axeCtx, tb.name+" (final state)")
		}
		cancelAxe()
		// The screenshot gets its own short deadline too: the scenario's
		// may have run out, which is when the picture helps most.
		shotCtx, cancel := context.WithTimeout(tabCtx, 15*time.Second)
		defer cancel()
		if png, err := chromedp.Run(shotCtx, chromedp.FullScreenshot(100)); err != nil {
			t.Logf("screenshot: %v", err)
		} else if err := os.WriteFile(filepath.Join(env.artifacts, tb.name+".png"), png, 0o644); err != nil {
			t.Logf("screenshot: %v", err)
		}
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, d := range tb.dialogs {
			t.Errorf("a JavaScript dialog opened: %s", d)
		}
		for _, e := range tb.exceptions {
			t.Errorf("uncaught exception in the page: %s", e)
		}
	})
	return tb
}

// do runs steps and fails the test with what it was doing.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to a path of the console and returns the HTTP status.
func (tb *tab) open(path string) int64 {
	tb.t.Helper()
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(tb.env.base+path))
	if err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
	return resp.Status
}

// submit clicks sel and waits for the navigation it causes; it returns
// the response's status.
func (tb *tab) submit(what string, sel string) int64 {
	tb.t.Helper()
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// count returns how many elements match a CSS selector.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf("document.querySelectorAll(%q).length", sel))
}

// text returns the trimmed textContent of the first match ("" if none).
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf("(document.querySelector(%q)?.textContent ?? '').trim().replace(/\\s+/g, ' ')", sel))
}

// waitFor evaluates a JavaScript predicate every 100 ms until it is true
// or d passes. Errors while the page navigates (its execution context goes
// away) are retried: the predicate is asked of whatever page is there.
func (tb *tab) waitFor(what, predicate string, d time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(d)
	var lastErr error
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool]("!!("+predicate+")"))
		if err == nil && ok {
			return
		}
		lastErr = err
		if tb.ctx.Err() != nil || time.Now().After(deadline) {
			tb.t.Fatalf("waiting %s for %s (%s): last error %v", d, what, predicate, lastErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// location returns the path (and query) the tab is on.
func (tb *tab) location() string {
	tb.t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		tb.t.Fatal(err)
	}
	return u.RequestURI()
}

// login signs in through the form and checks that it landed on next.
func (tb *tab) login(email, password string) {
	tb.t.Helper()
	tb.open("/login")
	tb.do("fill the login form",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-form"] input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-form"] input[name="password"]`), password),
	)
	if st := tb.submit("sign in", `[data-testid="login-submit"]`); st != http.StatusOK {
		tb.t.Fatalf("sign in as %s: status %d", email, st)
	}
	if tb.count(`[data-testid="sign-out"]`) != 1 {
		tb.t.Fatalf("signed in as %s but there is no Sign out button (at %s)", email, tb.location())
	}
}

// httpClient is a non-browser client signed in as email (for setup steps
// such as creating users, and for checks on headers).
func (env *e2eEnv) httpClient(t *testing.T, email, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.PostForm(env.base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		t.Fatalf("sign in as %s over HTTP landed on %s (%d)", email, resp.Request.URL, resp.StatusCode)
	}
	return hc
}

// createUser adds a user through the admin form.
func (env *e2eEnv) createUser(t *testing.T, email, role, password string) {
	t.Helper()
	hc := env.httpClient(t, e2eAdminEmail, e2eAdminPassword)
	resp, err := hc.PostForm(env.base+"/admin/users", url.Values{"email": {email}, "name": {strings.Split(email, "@")[0]}, "role": {role}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := issuedLinkRE.FindSubmatch(page)
	if err != nil || resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("invite %s: %d, %v, no link on the page", email, resp.StatusCode, err)
	}
	link, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.PostForm(env.base+link.Path, url.Values{"password": {password}, "confirm_password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
		t.Fatalf("set the password of %s: %d at %s", email, resp.StatusCode, resp.Request.URL)
	}
}

// issuedLinkRE finds the one-time link on the page an invitation shows.
var issuedLinkRE = regexp.MustCompile(`data-testid="issued-link-url">([^<]+)</textarea>`)
