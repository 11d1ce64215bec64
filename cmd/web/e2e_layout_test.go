package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// layoutTimeout bounds the layout walk: every page at two sizes and in two
// colour schemes.
const layoutTimeout = 8 * time.Minute

// layoutScenarios walk every page an admin can open at 1280×800 and
// 390×844, in light and dark: nothing scrolls sideways, the phone menu is a
// vertical list inside the screen, list rows become cards at most 120 px
// tall, and every confirmation that deletes carries the danger style. Each
// page leaves a screenshot in e2e-artifacts/layout_*.png.
func layoutScenarios(t *testing.T, env *e2eEnv) {
	t.Run("layout walk: no sideways scroll, a vertical phone menu, short cards, red deletes", func(t *testing.T) {
		tb := env.newTab(t, layoutTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		pages := layoutPages(tb)
		darkShots := map[string]bool{"/": true, "/configurations": true, "/activity": true, "/admin/audit": true}
		for _, p := range pages[len(pages)-3:] { // the demo agent, its configuration and a backup or report
			darkShots[p] = true
		}
		for _, scheme := range []string{"light", "dark"} {
			emulateScheme(tb, scheme)
			for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
				tb.do(fmt.Sprintf("viewport %dx%d", size[0], size[1]), chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateScale(1)))
				for _, path := range pages {
					tb.open(path)
					tb.waitFor("the page", `document.readyState === 'complete'`, 10*time.Second)
					time.Sleep(250 * time.Millisecond)
					checkNoSidewaysScroll(tb, path, size, scheme)
					if size[0] == 1280 {
						checkChartText(tb, path)
					}
					if size[0] == 390 && scheme == "light" {
						checkCards(tb, path)
						checkPhoneMenu(tb, path)
						checkMoreMenu(tb, path)
					}
					// Every page in light; in dark the pages with charts and
					// the lists (the rest share their styles), to keep the walk short.
					if scheme == "light" || darkShots[path] {
						tb.screenshot(fmt.Sprintf("layout_%s_%dx%d_%s", pageSlug(path), size[0], size[1], scheme))
					}
				}
			}
		}
	})

	t.Run("deletes are red, confirmations included", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		f := env.fix
		for path, sel := range map[string]string{
			fmt.Sprintf("/agents/%d", f.agentID):                      `[data-testid="agent-actions"] [data-testid="delete"]`,
			fmt.Sprintf("/agents/%d/delete", f.agentID):               `[data-testid="confirm"]`,
			fmt.Sprintf("/agents/%d/encrypt", f.agentID):              `[data-testid="confirm"]`,
			fmt.Sprintf("/configurations/%d", f.quickConfigID):        `[data-testid="config-actions"] [data-testid="delete"]`,
			fmt.Sprintf("/configurations/%d/delete", f.quickConfigID): `[data-testid="confirm-delete"]`,
		} {
			tb.open(path)
			if n := tb.count(sel); n != 1 {
				t.Errorf("%s: %d elements match %s, want 1", path, n, sel)
				continue
			}
			if !eval[bool](tb, fmt.Sprintf(`document.querySelector(%q).classList.contains('danger')`, sel)) {
				t.Errorf("%s: %s is not styled as danger (class %q)", path, sel, eval[string](tb, fmt.Sprintf(`document.querySelector(%q).className`, sel)))
			}
		}
		// Pruning the report history asks first, in red.
		tb.open("/admin/maintenance")
		tb.do("ask to prune", chromedp.SetValue(chromedp.CSS(`form[action="/admin/maintenance/prune"] input[name="days"]`), "36500"))
		tb.submit("prune", `form[action="/admin/maintenance/prune"] button[type="submit"]`)
		if !eval[bool](tb, `!!document.querySelector('[data-testid="prune-confirm-button"]')?.classList.contains('danger')`) {
			t.Error("the prune confirmation's button is missing or not styled as danger")
		}
		// The red is real: a filled danger button's background is red.
		tb.open(fmt.Sprintf("/configurations/%d/delete", f.quickConfigID))
		bg := eval[string](tb, `getComputedStyle(document.querySelector('[data-testid="confirm-delete"]')).backgroundColor`)
		if bg != "rgb(180, 35, 24)" {
			t.Errorf("the confirm Delete button's background is %s, want the danger red rgb(180, 35, 24)", bg)
		}
	})

	t.Run("filters fold on a phone and say how many are set", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.do("viewport 390x844", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
		tb.open("/activity?state=failed&since=7d")
		if got := tb.text(`[data-testid="filter-summary"]`); got != "Filters (2 active)" {
			t.Errorf("phone filter summary %q, want Filters (2 active)", got)
		}
		if eval[bool](tb, `document.querySelector('[data-testid="activity-filters"]').checkVisibility()`) {
			t.Error("on a phone the activity filters show before the summary is opened")
		}
		tb.do("open the filters", chromedp.Click(chromedp.CSS(`[data-testid="filter-summary"]`), chromedp.NodeVisible))
		if !eval[bool](tb, `document.querySelector('[data-testid="activity-filters"]').checkVisibility()`) {
			t.Error("opening the summary does not show the filters")
		}
		tb.do("clear the state", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('select[name="state"]'); s.value = ''; s.dispatchEvent(new Event('change', {bubbles: true})); })()`))
		if got := tb.text(`[data-testid="filter-summary"]`); got != "Filters (1 active)" {
			t.Errorf("after clearing one filter the summary says %q, want Filters (1 active)", got)
		}
		tb.open("/agents?status=offline")
		if got := tb.text(`[data-testid="filter-summary"]`); got != "Filters (1 active)" {
			t.Errorf("phone agents filter summary %q, want Filters (1 active)", got)
		}
		if eval[bool](tb, `document.querySelector('[data-testid="agent-filters"]').checkVisibility()`) {
			t.Error("on a phone the agent filters show before the summary is opened")
		}
		if !eval[bool](tb, `document.querySelector('[data-testid="agents-results"]').checkVisibility()`) {
			t.Error("on a phone the agents list is hidden")
		}
		tb.do("viewport 1280x800", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
		for _, path := range []string{"/activity", "/configurations", "/admin/audit", "/agents"} {
			tb.open(path)
			if eval[bool](tb, `document.querySelector('[data-testid="filter-summary"]').checkVisibility()`) {
				t.Errorf("%s at 1280 px shows the filter summary", path)
			}
			if !eval[bool](tb, `document.querySelector('[data-testid="filter-fold"] form').checkVisibility()`) {
				t.Errorf("%s at 1280 px hides its filters", path)
			}
		}
	})
}

// checkChartText fails when a chart's axis text draws under 11 px, or
// when a chart's coloured points have no legend.
func checkChartText(tb *tab, path string) {
	tb.t.Helper()
	small := eval[[]string](tb, `[...document.querySelectorAll('svg.chart-svg')].map(s => ({id: s.closest('[data-chart]')?.dataset.chart, px: parseFloat(s.getAttribute('font-size')) * s.getBoundingClientRect().width / s.viewBox.baseVal.width})).filter(c => c.px < 11).map(c => c.id + ' ' + c.px.toFixed(1) + ' px')`)
	for _, s := range small {
		tb.t.Errorf("%s at 1280 px: chart axis text %s, want at least 11 px", path, s)
	}
	if n := eval[int](tb, `[...document.querySelectorAll('figure.chart')].filter(f => f.querySelector('circle[class^="pt-"]:not(.pt-line)') && !f.querySelector('[data-testid="chart-legend"] li')).length`); n > 0 {
		tb.t.Errorf("%s: %d charts colour their points without a legend", path, n)
	}
}

// checkCards fails when a list row shown as a card is taller than 120 px.
func checkCards(tb *tab, path string) {
	tb.t.Helper()
	tall := eval[[]string](tb, `[...document.querySelectorAll('table.cards tbody tr, table[data-testid="incidents-table"] tbody tr')].filter(r => r.getBoundingClientRect().height > 120).slice(0, 3).map(r => (r.closest('table').dataset.testid || '') + ' ' + (r.getBoundingClientRect().height | 0) + ' px: ' + r.textContent.trim().replace(/\s+/g, ' ').slice(0, 80))`)
	for _, s := range tall {
		tb.t.Errorf("%s at 390 px: a card is taller than 120 px: %s", path, s)
	}
}

// checkPhoneMenu opens Menu at 390 px and measures it: one column of links
// (same left edge, each below the last), all inside the screen, and the
// page no wider than the window.
func checkPhoneMenu(tb *tab, path string) {
	tb.t.Helper()
	if tb.count(`[data-testid="nav-menu"] summary`) == 0 {
		return
	}
	tb.do("open Menu", chromedp.Click(chromedp.CSS(`[data-testid="nav-menu"] summary`), chromedp.NodeVisible))
	type box struct{ Left, Right, Top, Bottom, Width float64 }
	links := eval[[]box](tb, `[...document.querySelectorAll('[data-testid="nav-menu"] nav a')].map(a => { const r = a.getBoundingClientRect(); return {Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom, Width: r.width}; })`)
	if len(links) < 5 {
		tb.t.Errorf("%s: the open menu shows %d links", path, len(links))
	}
	for i, l := range links {
		if l.Left < 0 || l.Right > 390 || l.Width == 0 {
			tb.t.Errorf("%s: menu link %d spans %.0f–%.0f px, outside the 390 px screen", path, i, l.Left, l.Right)
		}
		if i > 0 && (l.Left != links[0].Left || l.Top < links[i-1].Bottom-1) {
			tb.t.Errorf("%s: menu link %d at (%.0f, %.0f) is not below link %d at (%.0f, %.0f): the menu is not one column", path, i, l.Left, l.Top, i-1, links[i-1].Left, links[i-1].Top)
		}
	}
	if sw, iw := eval[int](tb, `document.documentElement.scrollWidth`), eval[int](tb, `window.innerWidth`); sw > iw {
		tb.t.Errorf("%s: with the menu open the page is %d px wide in a %d px window", path, sw, iw)
	}
	if path == "/" {
		tb.screenshot("layout_menu_open_390x844")
	}
	tb.do("close Menu", chromedp.Click(chromedp.CSS(`[data-testid="nav-menu"] summary`), chromedp.NodeVisible))
}

// checkMoreMenu opens an action bar's More menu at 390 px and checks that
// it stays inside the screen.
func checkMoreMenu(tb *tab, path string) {
	tb.t.Helper()
	if tb.count(`[data-testid="more-actions"] summary`) == 0 {
		return
	}
	tb.do("open More", chromedp.Click(chromedp.CSS(`[data-testid="more-actions"] summary`), chromedp.NodeVisible))
	l, r := eval[float64](tb, `document.querySelector('[data-testid="more-actions"] ul').getBoundingClientRect().left`), eval[float64](tb, `document.querySelector('[data-testid="more-actions"] ul').getBoundingClientRect().right`)
	if l < 0 || r > 390 {
		tb.t.Errorf("%s: the open More menu spans %.0f–%.0f px, outside the 390 px screen", path, l, r)
	}
	if sw, iw := eval[int](tb, `document.documentElement.scrollWidth`), eval[int](tb, `window.innerWidth`); sw > iw {
		tb.t.Errorf("%s: with More open the page is %d px wide in a %d px window", path, sw, iw)
	}
	if bad := eval[[]string](tb, `[...document.querySelectorAll('[data-testid="more-actions"] .menu-item')].filter(e => getComputedStyle(e).color === getComputedStyle(e.closest('ul')).backgroundColor).map(e => e.textContent.trim())`); len(bad) > 0 {
		tb.t.Errorf("%s: More menu items drawn in the menu's background colour (unreadable): %v", path, bad)
	}
	tb.screenshot("layout_more_open_" + pageSlug(path) + "_390x844")
	tb.do("close More", chromedp.Click(chromedp.CSS(`[data-testid="more-actions"] summary`), chromedp.NodeVisible))
}

// layoutPages lists the pages of the walk: every page an admin reaches
// from the navigation, plus one of each detail and confirmation page.
func layoutPages(tb *tab) []string {
	tb.t.Helper()
	f := tb.env.fix
	pages := []string{
		"/", "/agents", fmt.Sprintf("/agents/%d", f.agentID), fmt.Sprintf("/agents/%d/delete", f.agentID),
		"/configurations", fmt.Sprintf("/configurations/%d", f.quickConfigID), "/configurations/new",
		fmt.Sprintf("/configurations/%d/edit", f.quickConfigID), fmt.Sprintf("/configurations/%d/delete", f.quickConfigID),
		"/activity", "/restores/new", "/reports", "/alerts", "/alerts/channels", "/alerts/channels/new", "/alerts/settings",
		"/admin", "/admin/users", "/admin/users/new", "/admin/accounts", "/admin/audit", "/admin/maintenance",
		"/profile", "/profile/tokens", "/profile/two-factor", "/admin/two-factor",
	}
	// A user's page with its action bar, and the incidents filtered by a
	// name that fits nothing (answered in words).
	tb.open("/admin/users")
	if href := eval[string](tb, `document.querySelector('[data-testid="user-row"] a')?.getAttribute('href') ?? ''`); href != "" {
		pages = append(pages, href)
	}
	pages = append(pages, "/alerts?status=all&config=no-such-configuration")
	// A demo agent and configuration with a history, for their charts.
	bs := tb.env.sim.Backups()
	for i := len(bs) - 1; i >= 0; i-- {
		if b := bs[i]; b.AgentID != f.agentID && b.AgentID != f.targetAgentID && b.AgentID != f.hostileAgentID {
			pages = append(pages, fmt.Sprintf("/backups/%d", b.ID), fmt.Sprintf("/agents/%d", b.AgentID), fmt.Sprintf("/configurations/%d", b.ConfigurationID))
			break
		}
	}
	tb.open("/reports")
	if href := eval[string](tb, `document.querySelector('[data-testid="report-link"]')?.getAttribute('href') ?? ''`); href != "" {
		pages = append(pages, href)
	}
	return pages
}

// emulateScheme switches prefers-color-scheme.
func emulateScheme(tb *tab, scheme string) {
	tb.t.Helper()
	tb.do("emulate "+scheme, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// checkNoSidewaysScroll fails when the page is wider than the window, and
// names the elements that stick out.
func checkNoSidewaysScroll(tb *tab, path string, size [2]int64, scheme string) {
	tb.t.Helper()
	sw := eval[int](tb, `document.documentElement.scrollWidth`)
	iw := eval[int](tb, `window.innerWidth`)
	if sw > iw {
		wide := eval[string](tb, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 4).map(e => e.tagName + '.' + e.className + ' ' + (e.dataset.testid || '')).join(', ')`)
		tb.t.Errorf("%s at %dx%d (%s): scrollWidth %d > innerWidth %d; sticking out: %s", path, size[0], size[1], scheme, sw, iw, wide)
	}
}

// screenshot saves a full-page screenshot as e2e-artifacts/<name>.png.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(tb.env.artifacts, name+".png"), png, 0o644); err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
	}
}

// pageSlug turns a path into a file name part: /agents/7/delete → agents_7_delete.
func pageSlug(path string) string {
	path, query, _ := strings.Cut(path, "?")
	s := strings.ReplaceAll(strings.Trim(path, "/"), "/", "_")
	if s == "" {
		s = "overview"
	}
	if query != "" {
		s += "_" + unsafeFileChars.ReplaceAllString(query, "_")
	}
	return s
}
