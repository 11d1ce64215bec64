package main

// Browser end-to-end scenarios: the real program through run(),
// a temporary database, the simulator, and headless Chromium. One server
// and one browser serve every scenario; each scenario has its own
// incognito context and leaves a screenshot in e2e-artifacts/.
//
//	go test -race -run E2E ./cmd/web/

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// scenarioTimeout bounds each scenario.
const scenarioTimeout = 90 * time.Second

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("browser end-to-end tests are not short")
	}
	env := startE2E(t, false)

	t.Run("login with a wrong password then the right one", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.open("/")
		if !strings.HasPrefix(tb.location(), "/login") {
			t.Fatalf("signed out, / shows %s, want the login page", tb.location())
		}
		tb.do("fill the login form with a wrong password",
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), e2eAdminEmail),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not the password at all"),
		)
		if st := tb.submit("sign in with a wrong password", `[data-testid="login-submit"]`); st != http.StatusUnprocessableEntity {
			t.Errorf("wrong password: status %d, want 422", st)
		}
		if got := tb.text(`[data-testid="login-error"]`); got == "" {
			t.Error("a wrong password shows no error message")
		}
		if tb.count(`[data-testid="sign-out"]`) != 0 {
			t.Fatal("signed in with a wrong password")
		}
		// The email is kept; the password is not.
		if v := eval[string](tb, `document.querySelector('input[name="email"]').value`); v != e2eAdminEmail {
			t.Errorf("email field after a failed sign-in = %q, want it kept", v)
		}
		if v := eval[string](tb, `document.querySelector('input[name="password"]').value`); v != "" {
			t.Error("the password field was refilled after a failed sign-in")
		}
		tb.do("type the right password", chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), e2eAdminPassword))
		if st := tb.submit("sign in", `[data-testid="login-submit"]`); st != http.StatusOK {
			t.Fatalf("right password: status %d", st)
		}
		if loc := tb.location(); loc != "/" {
			t.Errorf("after signing in the tab is on %s, want /", loc)
		}
		if got := tb.text(`[data-testid="user-name"]`); got == "" {
			t.Error("the header names no user after signing in")
		}
	})

	t.Run("the overview shows every agent", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.waitFor("the agents table", `document.querySelectorAll('[data-testid="agent-row"]').length > 0`, 20*time.Second)
		wantEveryAgentLinked(t, tb, env, "the overview")
		if n := tb.count(`[data-testid="counts"]`); n != 1 {
			t.Errorf("%d count panels, want the running/failed/overdue/offline counts", n)
		}
		if title := eval[string](tb, `document.title`); !strings.HasSuffix(title, "· RCBU Console") {
			t.Errorf("page title %q, want \"… · RCBU Console\"", title)
		}
	})

	t.Run("start a backup and watch it complete without reloading", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		before := len(backupsOf(env.sim, env.fix.quickConfigID))
		// The simulator draws most outcomes at random; this run must complete.
		env.sim.SetNextOutcome(env.fix.quickConfigID, rcbusim.StateCompleted)
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.quickConfigID))
		// A marker on window survives htmx swaps but not a page load.
		eval[bool](tb, `(window.__e2eNoReload = true)`)
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the live status panel", `!!document.querySelector('[data-testid="job-panel"]')`, 20*time.Second)
		tb.waitFor("the backup to finish", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		if !eval[bool](tb, `window.__e2eNoReload === true`) {
			t.Error("the page reloaded: the live status must update in place")
		}
		state := tb.text(`[data-testid="job-panel"] [data-testid="status-badge"]`)
		if !strings.Contains(state, "Completed") {
			t.Errorf("final state %q, want Completed", state)
		}
		if tb.count(`[data-testid="job-panel"][hx-trigger]`) != 0 {
			t.Error("the finished panel still polls")
		}
		after := backupsOf(env.sim, env.fix.quickConfigID)
		if len(after) != before+1 {
			t.Fatalf("the simulator has %d backups of the configuration, want %d (one start, one backup)", len(after), before+1)
		}
		if last := after[len(after)-1]; last.State != "Completed" {
			t.Errorf("the simulator says %s", last.State)
		} else if id := eval[string](tb, `document.querySelector('[data-testid="job-panel"]').dataset.jobId`); id != strconv.FormatInt(last.ID, 10) {
			t.Errorf("the panel shows backup %s, the simulator ran %d", id, last.ID)
		}
		// The page's Last runs follow without a reload: the finished backup
		// is listed, completed, as soon as the panel says so.
		row := fmt.Sprintf(`[data-testid="runs"] [data-testid="run-row"][data-backup-id="%d"]`, after[len(after)-1].ID)
		tb.waitFor("the backup in Last runs", fmt.Sprintf(`(document.querySelector('%s [data-testid="status-badge"]')?.textContent || '').includes('Completed')`, row), 20*time.Second)
		// So do its charts: the finished run was stored as the panel saw it end.
		tb.waitFor("the run in the charts", `!!document.querySelector('[data-testid="charts-slot"] [data-testid="run-charts"]') && !document.querySelector('[data-testid="charts-slot"] [data-testid="run-charts-empty"]')`, 20*time.Second)
		if !eval[bool](tb, `window.__e2eNoReload === true`) {
			t.Error("the page reloaded to show the last runs")
		}
	})

	t.Run("stop a running backup", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.longConfigID))
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the Stop button", `!!document.querySelector('[data-testid="stop-backup"]')`, 30*time.Second)
		tb.do("click Stop", chromedp.Click(chromedp.CSS(`[data-testid="stop-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the backup to stop", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		if state := tb.text(`[data-testid="job-panel"] [data-testid="status-badge"]`); !strings.Contains(state, "Stopped") {
			t.Errorf("final state %q, want Stopped", state)
		}
		bs := backupsOf(env.sim, env.fix.longConfigID)
		if len(bs) != 1 || bs[0].State != "Stopped" {
			t.Errorf("simulator backups of the long configuration: %+v, want one Stopped", bs)
		}
	})

	t.Run("create and edit a configuration meeting a validation error", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		if st := tb.open(fmt.Sprintf("/configurations/new?agent=%d", env.fix.agentID)); st != http.StatusOK {
			t.Fatalf("new configuration form: %d", st)
		}
		// First try: no name, a relative path. The form comes back with
		// the problems and keeps what was typed.
		tb.do("fill the form with mistakes",
			chromedp.SendKeys(chromedp.CSS(`[data-testid="config-form"] input[name$="_path"]`), "relative/path"),
		)
		if st := tb.submit("save with mistakes", `[data-testid="save-configuration"]`); st != http.StatusUnprocessableEntity {
			t.Errorf("invalid configuration: status %d, want 422", st)
		}
		if tb.count(`[data-testid="error-summary"]`) != 1 {
			t.Error("no error summary above the form")
		}
		if msg := eval[string](tb, `(() => { const i = document.querySelector('input[name="name"]'); const d = i.getAttribute('aria-describedby') || ''; return d.split(' ').map(id => document.getElementById(id)?.textContent || '').join(' ').trim(); })()`); msg == "" {
			t.Error("the name field has no error tied to it with aria-describedby")
		}
		if v := eval[string](tb, `document.querySelector('[data-testid="config-form"] input[name$="_path"]').value`); v != "relative/path" {
			t.Errorf("the path was not kept: %q", v)
		}
		// Second try: fixed.
		tb.do("fix the form",
			chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "e2e nightly"),
			chromedp.SetValue(chromedp.CSS(`[data-testid="config-form"] input[name$="_path"]`), "/var/www"),
			// Failure e-mails are on by default and need an address.
			chromedp.SetValue(chromedp.CSS(`input[name="notify_emails"]`), "ops@example.com"),
		)
		if st := tb.submit("save", `[data-testid="save-configuration"]`); st != http.StatusOK {
			t.Fatalf("valid configuration: status %d", st)
		}
		loc := tb.location()
		if !strings.HasPrefix(loc, "/configurations/") || strings.Contains(loc, "new") {
			t.Fatalf("after saving the tab is on %s, want the new configuration's page", loc)
		}
		if got := tb.text(`[data-testid="configuration-title"]`); !strings.Contains(got, "e2e nightly") {
			t.Errorf("configuration title %q", got)
		}
		// Edit it: rename.
		if st := tb.submit("open Edit", `[data-testid="edit"]`); st != http.StatusOK {
			t.Fatalf("edit form: %d", st)
		}
		tb.do("rename", chromedp.SetValue(chromedp.CSS(`input[name="name"]`), "e2e nightly (edited)"))
		if st := tb.submit("save changes", `[data-testid="save-configuration"]`); st != http.StatusOK {
			t.Fatalf("save changes: %d", st)
		}
		if got := tb.location(); got != loc {
			t.Errorf("after editing the tab is on %s, want %s", got, loc)
		}
		tb.open(loc) // a fresh read, not the flash page
		if got := tb.text(`[data-testid="configuration-title"]`); !strings.Contains(got, "e2e nightly (edited)") {
			t.Errorf("after editing the title is %q", got)
		}
	})

	t.Run("run the restore wizard to another agent", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		before := len(env.sim.Restores())
		tb.open("/restores/new")
		tb.waitFor("restorable configurations", `document.querySelectorAll('[data-testid="source-option"] input').length > 0`, 20*time.Second)
		tb.do("pick the first configuration", chromedp.Click(chromedp.CSS(`[data-testid="source-option"] input`), chromedp.NodeVisible))
		tb.submit("show its backups", `[data-testid="choose-configuration"]`)
		if tb.count(`[data-testid="backup-option"]`) == 0 {
			t.Fatalf("no backups to choose from (at %s)", tb.location())
		}
		tb.submit("next: destination", `[data-testid="wizard-next"]`)
		ok := eval[bool](tb, `(() => { const s = document.querySelector('select[name="destination"]'); const o = [...s.options].find(o => o.textContent.includes('e2e-restore-target')); if (!o) return false; s.value = o.value; return true; })()`)
		if !ok {
			t.Fatal("the destination list does not offer the other agent e2e-restore-target")
		}
		tb.do("restore into another folder",
			chromedp.Click(chromedp.CSS(`[data-testid="path-other"]`), chromedp.NodeVisible),
			chromedp.SendKeys(chromedp.CSS(`input[name="path"]`), "/srv/restore-e2e"),
		)
		tb.submit("next: files", `[data-testid="wizard-next"]`)
		tb.submit("next: review", `[data-testid="wizard-next"]`)
		if got := tb.text(`[data-testid="restore-summary"]`); !strings.Contains(got, "e2e-restore-target") || !strings.Contains(got, "/srv/restore-e2e") {
			t.Errorf("the review does not show the destination: %q", got)
		}
		if st := tb.submit("start the restore", `[data-testid="start-restore"]`); st != http.StatusOK {
			t.Fatalf("start restore: %d", st)
		}
		tb.waitFor("the restore to finish", `document.querySelector('[data-testid="job-panel"][data-kind="restore"]')?.dataset.busy === 'false'`, 60*time.Second)
		rs := env.sim.Restores()
		if len(rs) != before+1 {
			t.Fatalf("%d restores in the simulator, want %d", len(rs), before+1)
		}
		r := rs[len(rs)-1]
		if r.DestinationAgentID != env.fix.targetAgentID {
			t.Errorf("the restore went to agent %d, want e2e-restore-target (%d)", r.DestinationAgentID, env.fix.targetAgentID)
		}
		// The simulator picks the outcome; the panel must show the final
		// state it reached (without a reload: the panel polls itself).
		if state := tb.text(`[data-testid="job-panel"][data-kind="restore"] [data-testid="status-badge"]`); r.End.IsZero() || !strings.Contains(state, templateWord(r.State)) {
			t.Errorf("restore panel says %q, the simulator says %s (ended %v)", state, r.State, r.End)
		}
	})

	t.Run("filter and search the report history", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		// The history syncs in the background (every 10 s here).
		deadline := time.Now().Add(45 * time.Second)
		for {
			tb.open("/reports")
			if tb.count(`[data-testid="report-row"]`) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no report rows after 45 s of syncing")
			}
			time.Sleep(2 * time.Second)
		}
		eval[bool](tb, `(window.__e2eNoReload = true)`)
		// Filter by state: the results update in place and the URL follows.
		tb.do("choose state Failed", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('select[name="state"]'); s.value = 'Failed'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))
		tb.waitFor("the URL to carry the filter", `location.search.includes('state=Failed')`, 15*time.Second)
		tb.waitFor("the filtered rows", `[...document.querySelectorAll('[data-testid="report-row"]')].length > 0 && [...document.querySelectorAll('[data-testid="report-row"]')].every(r => r.querySelector('[data-testid="status-badge"]')?.textContent.includes('Failed'))`, 15*time.Second)
		// Search the error text: every hit's report mentions the word.
		tb.do("clear the state", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('select[name="state"]'); s.value = ''; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))
		tb.waitFor("the state filter to clear", `!location.search.includes('state=Failed')`, 15*time.Second)
		tb.do("search for denied", chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "denied"))
		tb.waitFor("the search results", `location.search.includes('q=denied') && document.querySelectorAll('[data-testid="report-row"]').length > 0`, 15*time.Second)
		if !eval[bool](tb, `window.__e2eNoReload === true`) {
			t.Error("filtering reloaded the page: it should swap the results in place")
		}
		if got := eval[string](tb, `document.querySelector('input[name="q"]').value`); got != "denied" {
			t.Errorf("search box %q after the swap", got)
		}
		results := tb.location()
		hits := tb.count(`[data-testid="report-row"]`)
		href := eval[string](tb, `document.querySelector('[data-testid="report-row"] a[data-testid="report-link"]').getAttribute('href')`)
		tb.open(href)
		if got := eval[string](tb, `document.body.textContent`); !strings.Contains(strings.ToLower(got), "denied") {
			t.Errorf("the first search hit (%s) does not mention \"denied\"", href)
		}
		// The URL reproduces the view: opening it shows the same search.
		tb.open(results)
		if got := eval[string](tb, `document.querySelector('input[name="q"]').value`); got != "denied" {
			t.Errorf("%s shows search %q, want denied", results, got)
		}
		if n := tb.count(`[data-testid="report-row"]`); n != hits {
			t.Errorf("%s shows %d rows, the in-place search showed %d", results, n, hits)
		}
	})

	t.Run("an observer sees no Start buttons and a forged POST is refused", func(t *testing.T) {
		const observer, observerPassword = "observer@example.com", "observer password 0815"
		env.createUser(t, observer, "observer", observerPassword)
		tb := env.newTab(t, scenarioTimeout)
		tb.login(observer, observerPassword)
		tb.waitFor("the agents table", `document.querySelectorAll('[data-testid="agent-row"]').length > 0`, 20*time.Second)
		if n := tb.count(`[data-testid="start-backup"]`); n != 0 {
			t.Errorf("an observer sees %d Start buttons on the overview", n)
		}
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.quickConfigID))
		if n := tb.count(`[data-testid="start-backup"], [data-testid="edit"]`); n != 0 {
			t.Errorf("an observer sees %d Start/Edit controls on a configuration", n)
		}
		// Even a same-origin POST from the observer's own page is refused.
		status, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch('/configurations/%d/backups', {method: 'POST', body: new URLSearchParams({token: 'x'}), redirect: 'manual'}).then(r => r.status)`, env.fix.quickConfigID), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusForbidden {
			t.Errorf("an observer's POST to start a backup: %d, want 403", status)
		}

		// A page on another origin posts a Start form into an admin's
		// session: the browser sends the cookie, the server must refuse.
		before := len(backupsOf(env.sim, env.fix.quickConfigID))
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>prize</title><form method="post" action="%s/configurations/%d/backups"><input type="hidden" name="token" value="forged"><button id="go">Claim your prize</button></form>`, env.base, env.fix.quickConfigID)
		}))
		defer evil.Close()
		admin := env.newTab(t, scenarioTimeout)
		admin.login(e2eAdminEmail, e2eAdminPassword)
		admin.do("open the other site", chromedp.Navigate(evil.URL))
		if st := admin.submit("submit the forged form", `#go`); st != http.StatusForbidden {
			t.Errorf("cross-origin POST: %d, want 403", st)
		}
		if after := len(backupsOf(env.sim, env.fix.quickConfigID)); after != before {
			t.Errorf("the forged POST started a backup (%d → %d)", before, after)
		}
	})

	t.Run("a hostile agent name renders as text and no dialog fires", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		for _, path := range []string{"/", "/agents", fmt.Sprintf("/agents/%d", env.fix.hostileAgentID)} {
			tb.open(path)
			tb.waitFor("the page to load", `document.readyState === 'complete'`, 10*time.Second)
			if n := tb.count(`img[src="x"]`); n != 0 {
				t.Errorf("%s: the agent name became %d <img> elements", path, n)
			}
			shown := eval[bool](tb, fmt.Sprintf(`document.body.textContent.includes(%q)`, hostileName))
			if !shown {
				t.Errorf("%s: the hostile name is not shown as text", path)
			}
			// A U+202E in a name must not reorder the text after it.
			if n := eval[int](tb, `[...document.querySelectorAll('[data-testid="agent-name"]')].filter(e => getComputedStyle(e).unicodeBidi !== 'isolate').length`); n != 0 {
				t.Errorf("%s: %d agent names are not bidi-isolated", path, n)
			}
		}
		// The dialog check runs at cleanup (newTab); give a late onerror a
		// chance to fire first by asking the page a question after load.
		eval[bool](tb, `true`)
	})

	t.Run("invite a user who sets a password and signs in", func(t *testing.T) {
		const invitee, inviteePassword = "invitee@example.com", "the invitee's own password"
		admin := env.newTab(t, scenarioTimeout)
		admin.login(e2eAdminEmail, e2eAdminPassword)
		admin.open("/admin/users/new")
		admin.do("fill the invitation",
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), invitee),
			chromedp.SetValue(chromedp.CSS(`select[name="role"]`), "creator"),
		)
		if st := admin.submit("invite", `[data-testid="invite-submit"]`); st != http.StatusOK {
			t.Fatalf("invite: %d", st)
		}
		link := eval[string](admin, `document.querySelector('[data-testid="issued-link-url"]').value`)
		u, err := url.Parse(link)
		if err != nil || !strings.HasPrefix(u.Path, "/password/") {
			t.Fatalf("the page shows no link: %q", link)
		}

		tb := env.newTab(t, scenarioTimeout)
		if st := tb.open(u.Path); st != http.StatusOK {
			t.Fatalf("the link: %d", st)
		}
		if got := tb.text(`[data-testid="link-email"]`); got != invitee {
			t.Errorf("the link's page names %q", got)
		}
		tb.do("choose a password",
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), inviteePassword),
			chromedp.SendKeys(chromedp.CSS(`input[name="confirm_password"]`), inviteePassword),
		)
		if st := tb.submit("set the password", `[data-testid="set-password-submit"]`); st != http.StatusOK || !strings.HasPrefix(tb.location(), "/login") {
			t.Fatalf("set password: %d, on %s", st, tb.location())
		}
		tb.login(invitee, inviteePassword)
		if loc := tb.location(); loc != "/" {
			t.Errorf("after signing in the invitee is on %s, want /", loc)
		}
		if got := tb.text(`[data-testid="user-name"]`); got == "" {
			t.Error("the header names no user after the invitee signed in")
		}
		if st := tb.open(u.Path); st != http.StatusGone {
			t.Errorf("the used link: %d, want 410", st)
		}
	})

	t.Run("logout ends the session and back shows no data", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.waitFor("the agents table", `document.querySelectorAll('[data-testid="agent-name"]').length > 0`, 20*time.Second)
		tb.do("open the user menu", chromedp.Click(chromedp.CSS(`[data-testid="user-menu"] summary`), chromedp.NodeVisible))
		if st := tb.submit("sign out", `[data-testid="sign-out"]`); st != http.StatusOK {
			t.Errorf("sign out: %d", st)
		}
		if loc := tb.location(); !strings.HasPrefix(loc, "/login") {
			t.Errorf("after signing out the tab is on %s, want the login page", loc)
		}
		// Back may be served from the back/forward cache, which fires no
		// load event: mark this document, go back, and wait for another.
		eval[bool](tb, `(window.__e2eLoginPage = true)`)
		tb.do("press Back", chromedp.Evaluate[chromedp.Void](`history.back()`))
		tb.waitFor("the previous page", `window.__e2eLoginPage !== true && document.readyState === 'complete'`, 15*time.Second)
		if n := tb.count(`[data-testid="agent-name"]`); n != 0 {
			t.Errorf("Back after signing out shows %d agent names from the old session (at %s)", n, tb.location())
		}
		if tb.count(`[data-testid="login-form"]`) != 1 {
			t.Errorf("Back after signing out shows %s, want the login form", tb.location())
		}
		// The header that keeps pages out of the browser's cache.
		hc := env.httpClient(t, e2eAdminEmail, e2eAdminPassword)
		resp, err := hc.Get(env.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("signed-in page Cache-Control %q, want no-store", cc)
		}
	})

	mfaScenarios(t, env)
	overviewScenarios(t, env)
	axeScenarios(t, env)
	keyboardScenarios(t, env)
	liveScenarios(t, env)
	layoutScenarios(t, env)
	grantsScenarios(t, env)
}

// templateWord is the word the status badge shows for an API state name.
func templateWord(state string) string {
	return templates.BackupBadge(state).Word
}

// backupsOf returns the simulator's backups of one configuration.
func backupsOf(sim *rcbusim.Server, configID int64) []rcbusim.BackupInfo {
	var out []rcbusim.BackupInfo
	for _, b := range sim.Backups() {
		if b.ConfigurationID == configID {
			out = append(out, b)
		}
	}
	return out
}

// TestE2ERegionListeners runs one scenario against the simulator with each
// region on its own loopback port, listed as http://127.0.0.1:PORT/v1.0/{tenant}
// the way the real service lists its regional hosts: every region's agents
// reach the agents list, and a backup starts and completes through its
// region's port.
func TestE2ERegionListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("browser end-to-end tests are not short")
	}
	env := startE2E(t, true)

	t.Run("agents of every region and a backup through a region's port", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.open("/agents")
		wantEveryAgentLinked(t, tb, env, "the agents list")

		before := len(backupsOf(env.sim, env.fix.quickConfigID))
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.quickConfigID))
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the live status panel", `!!document.querySelector('[data-testid="job-panel"]')`, 20*time.Second)
		tb.waitFor("the backup to finish", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		if state := tb.text(`[data-testid="job-panel"] [data-testid="status-badge"]`); !strings.Contains(state, "Completed") {
			t.Errorf("final state %q, want Completed", state)
		}
		if after := backupsOf(env.sim, env.fix.quickConfigID); len(after) != before+1 {
			t.Errorf("the simulator has %d backups of the configuration, want %d", len(after), before+1)
		}
	})
}

// wantEveryAgentLinked checks that the page open in tb (where) shows no
// upstream error and links every agent of the demo account, in every
// region.
func wantEveryAgentLinked(t *testing.T, tb *tab, env *e2eEnv, where string) {
	t.Helper()
	if tb.count(`[data-testid="error-banner"]`) != 0 {
		t.Errorf("%s shows an upstream error: %s", where, tb.text(`[data-testid="error-banner"]`))
	}
	got := eval[[]string](tb, `[...document.querySelectorAll('[data-testid="agent-row"] a[data-testid="agent-name"]')].map(a => a.getAttribute('href'))`)
	var want []string
	for _, id := range env.sim.AgentIDs(rcbusim.DemoTenant) {
		want = append(want, "/agents/"+strconv.FormatInt(id, 10))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("agent links on %s:\n got %v\nwant %v (every agent of the account)", where, got, want)
	}
}
