package main

// axe-core in the browser end-to-end tests. The engine is the npm package
// pinned in package-lock.json (a devDependency); `make assets` copies its
// axe.min.js to testdata/, and the harness evaluates that file in the page
// over the DevTools protocol. No page of the console ever links it.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// axeAll is what every check runs: the rules of WCAG 2.0, 2.1 and 2.2 at
// levels A and AA, and axe's best practices.
const axeAll = `{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}`

// axeColours are the rules whose outcome depends on colour. The dark scheme
// changes colours only (Pico's and app.css's dark blocks set colour
// variables), so the walk runs just these in dark, where every other rule
// would find what it found in light.
const axeColours = `{type: 'rule', values: ['color-contrast', 'link-in-text-block']}`

// axeRunScript runs axe with the rules only names (axeAll or axeColours) on
// the whole document and returns the violations, reduced to what a failure
// message needs (targets inside a shadow root or frame are joined with
// " >>> ").
func axeRunScript(only string) string {
	return `axe.run(document, {runOnly: ` + only + `, resultTypes: ['violations']}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || '', help: v.help,
	nodes: v.nodes.map(n => ({
		target: n.target.map(s => Array.isArray(s) ? s.join(' >>> ') : String(s)),
		html: n.html, summary: n.failureSummary || '',
	})),
})))`
}

// axeNode is one element a rule failed on.
type axeNode struct {
	Target  []string `json:"target"`
	HTML    string   `json:"html"`
	Summary string   `json:"summary"`
}

// axeViolation is one failed rule and every element it failed on.
type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

// blocking reports whether the violation fails the test: axe's critical
// and serious impacts do, moderate and minor ones are logged.
func (v axeViolation) blocking() bool {
	return v.Impact == "critical" || v.Impact == "serious"
}

// key tells violations apart by rule and elements (the failure summary
// differs between views: it quotes the colours measured).
func (v axeViolation) key() string {
	var b strings.Builder
	b.WriteString(v.ID)
	for _, n := range v.Nodes {
		b.WriteString("\x00" + strings.Join(n.Target, " "))
	}
	return b.String()
}

// String names the rule, then each element: its selector, its HTML and
// what to fix.
func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %d elements): %s", v.ID, v.Impact, len(v.Nodes), v.Help)
	for i, n := range v.Nodes {
		if i == 8 {
			fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-i)
			break
		}
		html := n.HTML
		if len(html) > 300 {
			html = html[:300] + "…"
		}
		fmt.Fprintf(&b, "\n    %s\n      %s\n      %s", strings.Join(n.Target, " "), html, strings.ReplaceAll(n.Summary, "\n", "\n      "))
	}
	return b.String()
}

// axeSource is the vendored axe-core (see the file comment).
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core: %v (make assets copies it from the pinned npm package)", err)
	}
	return string(src)
}

// runAxe loads axe-core into the page ctx shows, unless it is there from
// an earlier check of the same document, runs the rules only names and
// returns their violations.
func runAxe(ctx context.Context, src, only string) ([]axeViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+"\n;true")); err != nil {
			return nil, fmt.Errorf("load axe-core: %w", err)
		}
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRunScript(only), chromedp.EvalAwaitPromise))
}

// checkAxe runs axe-core on the page ctx shows. A critical or serious
// violation fails the test with the rule, each element's selector and
// HTML; moderate and minor ones are logged. name says which page, size and
// colour scheme was checked.
func checkAxe(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	vs, err := runAxe(ctx, axeSource(t), axeAll)
	if err != nil {
		t.Errorf("axe on %s: %v", name, err)
		return
	}
	for _, v := range vs {
		if v.blocking() {
			t.Errorf("axe on %s: %s", name, v)
		} else {
			t.Logf("axe on %s: %s", name, v)
		}
	}
}

// fieldIcons measures what axe-core leaves out: Pico draws the arrow of a
// select and the calendar of a date input as a background image (an SVG
// whose stroke colour is in the URL), which no contrast rule looks at. For
// every shown select and date input it returns the icon's and the text's
// contrast against the field (the icon needs 3:1 as a graphical object,
// WCAG 1.4.11; the text 4.5:1).
const fieldIcons = `(() => {
	const rgb = s => ((s || '').match(/rgba?\(([^)]+)\)/) || [])[1]?.split(',').map(Number);
	const lum = c => {
		const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
	return [...document.querySelectorAll('select:not([multiple]):not([size]), input[type=date]')].filter(e => e.getClientRects().length > 0).map(e => {
		const cs = getComputedStyle(e);
		const stroke = (decodeURIComponent(cs.backgroundImage).match(/stroke='(rgb\([^)]*\))'/) || [])[1] || '';
		const bg = rgb(cs.backgroundColor);
		return {
			field: e.tagName.toLowerCase() + '[name=' + e.name + ']', stroke, background: cs.backgroundColor, text: cs.color,
			icon: stroke && bg ? ratio(rgb(stroke), bg) : 0, textRatio: bg ? ratio(rgb(cs.color), bg) : 0,
		};
	});
})()`

// fieldIcon is one select's or date input's measured contrast.
type fieldIcon struct {
	Field      string  `json:"field"`
	Stroke     string  `json:"stroke"`
	Background string  `json:"background"`
	Text       string  `json:"text"`
	Icon       float64 `json:"icon"`
	TextRatio  float64 `json:"textRatio"`
}

// axeView is one viewport and colour scheme a page is checked in.
type axeView struct {
	width, height int64
	scheme        string
}

func (v axeView) String() string { return fmt.Sprintf("%dx%d %s", v.width, v.height, v.scheme) }

// axeViews are the laptop and phone sizes in the light and dark schemes,
// grouped by scheme so that a page changes scheme once.
var axeViews = [2][2]axeView{
	{{1280, 800, "light"}, {390, 844, "light"}},
	{{1280, 800, "dark"}, {390, 844, "dark"}},
}

// emulate sets the tab's viewport and prefers-color-scheme; both stay
// across navigations. It also asks for reduced motion, which turns Pico's
// colour transitions off: a contrast check in the middle of one would
// measure a colour between the two schemes.
func (tb *tab) emulate(v axeView) {
	tb.t.Helper()
	tb.do("emulate "+v.String(),
		chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateScale(1)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{
					{Name: "prefers-color-scheme", Value: v.scheme},
					{Name: "prefers-reduced-motion", Value: "reduce"},
				},
			})
			return err
		}),
	)
}

// axeWalk checks the page the tab shows in every view. It starts with the
// scheme the tab is in and changes it once, waiting out colour transitions
// before the contrast rules measure.
type axeWalk struct {
	tb     *tab
	scheme int // index into axeViews of the scheme the tab is in
	checks int // axe runs
	fields int // selects and date inputs measured
}

// settle waits until the page has loaded and no htmx request is in flight.
func (w *axeWalk) settle() {
	w.tb.waitFor("the page to settle", `document.readyState === 'complete' && !document.querySelector('.htmx-request')`, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
}

// check runs axe on what the tab shows, named what, in all four views,
// and reports each violation once with the views it was found in.
func (w *axeWalk) check(what string) {
	t := w.tb.t
	t.Helper()
	w.settle()
	began := time.Now()
	src := axeSource(t)
	var found []axeViolation
	views := map[string][]string{} // rule and elements → views
	for i := range 2 {
		if i == 1 {
			w.scheme = 1 - w.scheme
		}
		for _, v := range axeViews[w.scheme] {
			w.tb.emulate(v)
			only := axeAll
			if v.scheme == "dark" {
				only = axeColours
			}
			vs, err := runAxe(w.tb.ctx, src, only)
			if err != nil {
				t.Errorf("axe on %s at %s: %v", what, v, err)
				continue
			}
			w.checks++
			fields, err := chromedp.Run(w.tb.ctx, chromedp.Evaluate[[]fieldIcon](fieldIcons))
			if err != nil {
				t.Errorf("field icons on %s at %s: %v", what, v, err)
			}
			for _, f := range fields {
				if f.Icon < 3 || f.TextRatio < 4.5 {
					t.Errorf("%s at %s: %s draws its icon %s (%.2f:1, want 3:1) and text %s (%.2f:1, want 4.5:1) on %s", what, v, f.Field, f.Stroke, f.Icon, f.Text, f.TextRatio, f.Background)
				}
			}
			w.fields += len(fields)
			for _, x := range vs {
				key := x.key()
				if _, ok := views[key]; !ok {
					found = append(found, x)
				}
				views[key] = append(views[key], v.String())
			}
		}
	}
	t.Logf("axe: %s checked in %s", what, time.Since(began).Round(time.Millisecond))
	for _, x := range found {
		at := strings.Join(views[x.key()], ", ")
		if x.blocking() {
			t.Errorf("axe on %s at %s: %s", what, at, x)
		} else {
			t.Logf("axe on %s at %s: %s", what, at, x)
		}
	}
}

// open opens path and checks it.
func (w *axeWalk) open(path string) {
	w.tb.t.Helper()
	if st := w.tb.open(path); st >= 500 {
		w.tb.t.Errorf("%s: status %d", path, st)
	}
	w.check(path)
}

// screenshots saves the viewport of the tab in every view as
// e2e-artifacts/axe_<name>_<view>.png, for a person to look at.
func (w *axeWalk) screenshots(name string) {
	w.tb.t.Helper()
	for _, views := range axeViews {
		for _, v := range views {
			w.tb.emulate(v)
			png, err := chromedp.Run(w.tb.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				w.tb.t.Errorf("screenshot of %s at %s: %v", name, v, err)
				continue
			}
			file := unsafeFileChars.ReplaceAllString(fmt.Sprintf("axe_%s_%dx%d_%s.png", name, v.width, v.height, v.scheme), "_")
			if err := os.WriteFile(filepath.Join(w.tb.env.artifacts, file), png, 0o644); err != nil {
				w.tb.t.Error(err)
			}
		}
	}
	w.tb.emulate(axeViews[w.scheme][0])
}

// firstHref returns the first link on the page whose href matches the
// regular expression, or fails the test.
func (w *axeWalk) firstHref(pattern string) string {
	w.tb.t.Helper()
	href := eval[string](w.tb, fmt.Sprintf(`[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')).find(h => new RegExp(%q).test(h)) || ''`, pattern))
	if href == "" {
		w.tb.t.Fatalf("no link matching %s on %s", pattern, w.tb.location())
	}
	return href
}

// axeScenarios walks every page of the console, and the states that only
// a click reaches (a form with errors, a running job, the restore wizard,
// the open menus), through axe-core at 1280x800 and 390x844 in the light
// and dark schemes, with one signed-in tab.
func axeScenarios(t *testing.T, env *e2eEnv) {
	t.Run("axe walk of every page at 1280x800 and 390x844, light and dark", func(t *testing.T) {
		tb := env.newTab(t, 15*time.Minute)
		w := &axeWalk{tb: tb}
		tb.emulate(axeViews[0][0])
		started := time.Now()

		// Signed out: the login page, then with a wrong password.
		w.open("/login")
		tb.do("fill the login form with a wrong password",
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), e2eAdminEmail),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not the password"),
		)
		tb.submit("sign in with a wrong password", `[data-testid="login-submit"]`)
		w.check("/login with a wrong password")

		// Demo mode, whose banner is on every page: a console of its own
		// with the built-in simulator. (Cookies do not tell ports apart:
		// signing in below replaces this session.)
		demo, _, stopDemo := startRun(t, map[string]string{"RCBU_WEB_ADMIN_EMAIL": e2eAdminEmail, "RCBU_WEB_ADMIN_PASSWORD": e2eAdminPassword})
		tb.do("open the demo console", chromedp.Navigate(demo+"/login"))
		w.check("the demo console's /login")
		tb.do("sign in to the demo console",
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), e2eAdminEmail),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), e2eAdminPassword),
		)
		tb.submit("sign in to the demo console", `[data-testid="login-submit"]`)
		w.check("the demo console's /")
		w.screenshots("demo_overview")
		stopDemo()
		tb.login(e2eAdminEmail, e2eAdminPassword)

		agent := fmt.Sprintf("/agents/%d", env.fix.agentID)
		cfg := fmt.Sprintf("/configurations/%d", env.fix.quickConfigID)
		for _, path := range []string{
			"/", "/?live=1", "/agents", agent, agent + "/encrypt", agent + "/encryption-password", agent + "/migrate", agent + "/delete",
			"/configurations", cfg, cfg + "/edit", cfg + "/clone", cfg + "/delete", "/configurations/import",
			fmt.Sprintf("/configurations/new?agent=%d", env.fix.agentID),
			"/activity", "/alerts", "/alerts?status=all&config=no-such-configuration", "/alerts/settings", "/alerts/channels/new",
			"/admin", "/admin/users", "/admin/users/new", "/admin/accounts", "/admin/accounts/new", "/admin/audit", "/admin/maintenance",
			"/profile", "/profile/tokens", "/profile/two-factor", "/admin/two-factor", "/agents/999999999",
		} {
			w.open(path)
		}

		// The open menus: the phone navigation and the user menu.
		for _, menu := range []string{"nav-menu", "user-menu"} {
			tb.open("/")
			tb.do("open the "+menu, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('[data-testid=%q]').open = true`, menu)))
			w.check("/ with the " + menu + " open")
		}

		// Pages reached through a list.
		tb.open("/admin/users")
		w.open(w.firstHref(`^/admin/users/\d+$`))

		// Forms sent back with their errors.
		tb.open(fmt.Sprintf("/configurations/new?agent=%d", env.fix.agentID))
		noValidate := chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('form').forEach(f => f.noValidate = true)`)
		tb.do("let the browser send empty required fields", noValidate)
		tb.submit("save an empty configuration", `[data-testid="save-configuration"]`)
		w.check("the configuration form with errors")
		tb.open("/alerts/channels/new")
		tb.do("let the browser send empty required fields", noValidate)
		tb.submit("save an empty channel", `[data-testid="save-channel"]`)
		w.check("the channel form with errors")

		// A channel, its edit form, delivery log and removal page.
		tb.open("/alerts/channels/new")
		tb.do("fill in a webhook channel", chromedp.Evaluate[chromedp.Void](`(() => {
			const f = document.querySelector('[data-testid="channel-form"]');
			const set = (name, value) => { const e = f.querySelector('[name="' + name + '"]'); if (e) e.value = value; };
			set('name', 'e2e axe hook');
			const kind = f.querySelector('select[name="kind"]');
			if (kind) kind.value = [...kind.options].find(o => o.value.includes('webhook'))?.value ?? kind.value;
			set('url', 'http://127.0.0.1:9/hook');
			set('secret', 'e2e axe webhook secret');
			f.querySelector('input[name="rules"]')?.click();
		})()`))
		tb.submit("save the channel", `[data-testid="save-channel"]`)
		if loc := tb.location(); loc != "/alerts/channels" {
			t.Fatalf("saving a webhook channel went to %s: %s", loc, tb.text(`[data-testid="error-summary"]`))
		}
		w.open("/alerts/channels")
		channel := w.firstHref(`^/alerts/channels/\d+/edit$`)
		w.open(channel)
		w.open(strings.TrimSuffix(channel, "/edit") + "/deliveries")
		w.open(strings.TrimSuffix(channel, "/edit") + "/delete")
		w.screenshots("channel_delete")

		// A backup while it runs, stopped, and its page.
		long, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
			AgentID: env.fix.agentID, Name: "e2e axe long", Inclusions: []string{"/srv/axe"}, DataBytes: 10 << 40,
		})
		if err != nil {
			t.Fatal(err)
		}
		tb.open(fmt.Sprintf("/configurations/%d", long))
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the live status panel", `!!document.querySelector('[data-testid="job-panel"]')`, 30*time.Second)
		job := eval[string](tb, `document.querySelector('[data-testid="job-panel"]').dataset.jobId`)
		w.check("a running backup's panel")
		w.open("/activity")
		w.open("/backups/" + job)
		if tb.count(`[data-testid="stop-backup"]`) > 0 {
			tb.do("click Stop", chromedp.Click(chromedp.CSS(`[data-testid="stop-backup"]`), chromedp.NodeVisible))
		}
		tb.waitFor("the backup to end", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 90*time.Second)
		w.check("a finished backup's panel")

		// The restore wizard, step by step, and the restore it starts.
		tb.open("/restores/new")
		tb.waitFor("restorable configurations", `document.querySelectorAll('[data-testid="source-option"] input').length > 0`, 20*time.Second)
		w.check("the restore wizard: configuration")
		tb.do("pick the first configuration", chromedp.Click(chromedp.CSS(`[data-testid="source-option"] input`), chromedp.NodeVisible))
		tb.submit("show its backups", `[data-testid="choose-configuration"]`)
		w.check("the restore wizard: backup")
		tb.submit("next: destination", `[data-testid="wizard-next"]`)
		w.check("the restore wizard: destination")
		tb.submit("next: files", `[data-testid="wizard-next"]`)
		w.check("the restore wizard: files")
		tb.submit("next: review", `[data-testid="wizard-next"]`)
		w.check("the restore wizard: review")
		tb.submit("start the restore", `[data-testid="start-restore"]`)
		w.check("a restore's page")

		// The report history (synced in the background), a report and a
		// failed one.
		deadline := time.Now().Add(45 * time.Second)
		for tb.open("/reports"); tb.count(`[data-testid="report-row"]`) == 0; tb.open("/reports") {
			if time.Now().After(deadline) {
				t.Fatal("no report rows after 45 s of syncing")
			}
			time.Sleep(2 * time.Second)
		}
		w.check("/reports")
		w.screenshots("reports")
		w.open(w.firstHref(`^/reports/(backup|restore)/\d+`))
		w.open("/reports?state=Failed")
		w.open(w.firstHref(`^/reports/backup/\d+`))

		// A second account: the account switcher in the header, the
		// account's edit form and removal page; then it goes again.
		hc := env.httpClient(t, e2eAdminEmail, e2eAdminPassword)
		resp, err := hc.PostForm(env.base+"/admin/accounts", url.Values{
			"name": {"e2e axe account"}, "username": {rcbusim.DemoUser}, "kind": {"api_key"},
			"secret": {rcbusim.DemoAPIKey}, "identity_url": {env.identityURL},
		})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/accounts" {
			t.Fatalf("add an account: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		w.open("/admin/accounts")
		acct := strings.TrimSuffix(w.firstHref(`^/admin/accounts/\d+/edit$`), "/edit")
		w.open(acct + "/edit")
		w.open(acct + "/delete")
		if st := tb.submit("remove the account", `[data-testid="confirm-delete"]`); st != http.StatusOK {
			t.Errorf("remove the account: status %d", st)
		}

		t.Logf("axe: %d checks and %d field icons in %s", w.checks, w.fields, time.Since(started).Round(time.Second))
	})
}

// focusStop is where one press of Tab put the focus.
type focusStop struct {
	Element string `json:"element"` // tag, name and type
	Name    string `json:"name"`    // its label or text, shortened
	Ring    bool   `json:"ring"`    // an outline or box-shadow shows it
	Forward bool   `json:"forward"` // it follows the previous stop in the document
	Same    bool   `json:"same"`    // it is the previous stop (the next part of a time input)
}

func (f focusStop) String() string { return fmt.Sprintf("%s %q", f.Element, f.Name) }

// focusedNow describes the focused element, and remembers it to tell
// whether the next one follows it in the document (null: nothing focused).
const focusedNow = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return null;
	const prev = window.__e2ePrevFocus;
	window.__e2ePrevFocus = e;
	const cs = getComputedStyle(e);
	let label = e.getAttribute('aria-label') || '';
	if (!label && e.labels && e.labels[0]) {
		const c = e.labels[0].cloneNode(true);
		c.querySelectorAll('input, select, textarea, small').forEach(x => x.remove());
		label = c.textContent;
	}
	label = label || e.textContent || e.value || '';
	const shadow = cs.boxShadow.split(/,(?![^(]*\))/).some(s => !/rgba\([^)]*,\s*0\)|transparent/.test(s) && /[1-9][\d.]*px/.test(s));
	return {
		element: e.tagName.toLowerCase() + (e.name ? '[name=' + e.name + ']' : '') + (e.tagName === 'INPUT' ? '[type=' + e.type + ']' : ''),
		name: label.trim().replace(/\s+/g, ' ').slice(0, 48),
		ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || shadow,
		forward: !prev || !!(prev.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING),
		same: prev === e,
	};
})()`

// tabThrough presses Tab from the top of the page until the focus leaves
// the page (or 120 presses) and returns every stop. It fails the test when
// the first stop is not the skip link, when a stop shows no focus ring,
// and when the focus jumps back up the document (a positive tabindex or
// reordered content: the order must follow what the page reads).
func (tb *tab) tabThrough(what string) []focusStop {
	tb.t.Helper()
	eval[bool](tb, `(document.activeElement?.blur(), window.__e2ePrevFocus = null, true)`)
	var stops []focusStop
	for range 120 {
		tb.do("press Tab", chromedp.KeyEvent(kb.Tab))
		f, err := chromedp.Run(tb.ctx, chromedp.Evaluate[*focusStop](focusedNow))
		if err != nil {
			tb.t.Fatalf("%s: %v", what, err)
		}
		if f == nil {
			break
		}
		if f.Same {
			continue
		}
		if !f.Forward {
			if len(stops) > 0 && f.Element == stops[0].Element && f.Name == stops[0].Name {
				break // wrapped around to the top
			}
			tb.t.Errorf("%s: Tab went back up the page from %s to %s", what, stops[len(stops)-1], f)
		}
		if !f.Ring {
			tb.t.Errorf("%s: %s shows no focus ring", what, f)
		}
		stops = append(stops, *f)
	}
	if len(stops) == 0 || stops[0].Name != "Skip to content" {
		tb.t.Errorf("%s: the first Tab stop is %v, want the skip link", what, stops)
	}
	return stops
}

// keyboardScenarios Tab through the forms with the most controls: the
// configuration form, every step of the restore wizard and a typed
// confirmation, and log the order (the README's Accessibility section
// quotes it).
func keyboardScenarios(t *testing.T, env *e2eEnv) {
	t.Run("keyboard: Tab order through the configuration form, the restore wizard and a confirmation", func(t *testing.T) {
		tb := env.newTab(t, 5*time.Minute)
		tb.emulate(axeViews[0][0]) // reduced motion: a focus ring is measured when drawn, not while it fades in
		tb.login(e2eAdminEmail, e2eAdminPassword)
		logOrder := func(what string) {
			t.Helper()
			stops := tb.tabThrough(what)
			var b strings.Builder
			for i, s := range stops {
				fmt.Fprintf(&b, "\n  %2d. %s", i+1, s)
			}
			t.Logf("Tab order of %s (%d stops):%s", what, len(stops), b.String())
		}
		tb.open(fmt.Sprintf("/configurations/new?agent=%d", env.fix.agentID))
		logOrder("the configuration form")
		tb.open(fmt.Sprintf("/agents/%d/delete", env.fix.hostileAgentID))
		logOrder("the typed confirmation to delete an agent")

		tb.open("/restores/new")
		tb.waitFor("restorable configurations", `document.querySelectorAll('[data-testid="source-option"] input').length > 0`, 20*time.Second)
		logOrder("the restore wizard: configuration")
		tb.do("pick the first configuration", chromedp.Click(chromedp.CSS(`[data-testid="source-option"] input`), chromedp.NodeVisible))
		tb.submit("show its backups", `[data-testid="choose-configuration"]`)
		logOrder("the restore wizard: backup")
		tb.submit("next: destination", `[data-testid="wizard-next"]`)
		logOrder("the restore wizard: destination")
		tb.submit("next: files", `[data-testid="wizard-next"]`)
		logOrder("the restore wizard: files")
		tb.submit("next: review", `[data-testid="wizard-next"]`)
		logOrder("the restore wizard: review")
	})
}

// liveScenarios: a backup's live panel polls every 2 s, and the page's
// polite announcer says each state it reaches once, never the same one on
// the next poll.
func liveScenarios(t *testing.T, env *e2eEnv) {
	t.Run("live status: the announcer says each state of a backup once", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.quickConfigID))
		eval[bool](tb, `(() => {
			window.__e2eSaid = []; window.__e2ePolls = 0;
			new MutationObserver(() => window.__e2eSaid.push(document.getElementById('announcer').textContent)).observe(document.getElementById('announcer'), {childList: true, characterData: true, subtree: true});
			document.body.addEventListener('htmx:afterRequest', () => window.__e2ePolls++);
			return true;
		})()`)
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the backup to finish", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		// The simulator picks the outcome (Completed, or with errors). htmx
		// hands the new panel to app.js when it settles, just after the swap.
		final := "Backup " + eval[string](tb, `document.querySelector('[data-testid="job-panel"]').dataset.jobId`) + ": " + tb.text(`[data-testid="job-panel"] [data-testid="status-badge"] > span`)
		tb.waitFor("the final state to be announced", fmt.Sprintf(`document.getElementById('announcer').textContent === %q`, final), 5*time.Second)
		said := eval[[]string](tb, `window.__e2eSaid`)
		polls := eval[int](tb, `window.__e2ePolls`)
		t.Logf("%d requests, announced %q", polls, said)
		if len(said) == 0 || said[len(said)-1] != final {
			t.Fatalf("announced %q, want the last to be %q", said, final)
		}
		for i := 1; i < len(said); i++ {
			if said[i] == said[i-1] {
				t.Errorf("announced %q twice in a row (%q)", said[i], said)
			}
		}
	})
}
