package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// overviewScenarios are the fleet overview's browser scenarios: a failed
// backup is the first thing the overview says, one click from its report;
// and no list page scrolls sideways on a laptop or a phone, in either
// colour scheme.
func overviewScenarios(t *testing.T, env *e2eEnv) {
	t.Run("a backup fails, it is the first row of Needs attention, View report shows the error", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		cfg, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
			AgentID: env.fix.agentID, Name: "e2e doomed files", Inclusions: []string{"/srv/doomed"},
		})
		if err != nil {
			t.Fatal(err)
		}
		env.sim.SetNextOutcome(cfg, rcbusim.StateFailed)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.open("/configurations/" + strconv.FormatInt(cfg, 10))
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the backup to end", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		if state := tb.text(`[data-testid="job-panel"] [data-testid="status-badge"]`); !strings.Contains(state, "Failed") {
			t.Fatalf("the backup ended %q, want Failed", state)
		}

		tb.open("/")
		first := `[data-testid="attention-row"]:first-child`
		tb.waitFor("the overview", `!!document.querySelector('[data-testid="attention"]')`, 20*time.Second)
		if got := tb.text(first + ` [data-testid="attention-configuration"]`); got != "e2e doomed files" {
			t.Fatalf("the first row of Needs attention is %q (%s), want the failed backup", got, tb.text(first))
		}
		if kind := eval[string](tb, `document.querySelector('`+first+`').dataset.kind`); kind != "failed" {
			t.Errorf("first row kind %q", kind)
		}
		cause := tb.text(first + ` [data-testid="attention-cause"]`)
		if !strings.Contains(cause, "Last run failed") {
			t.Errorf("cause %q", cause)
		}
		errLine := tb.text(first + ` [data-testid="attention-error"]`)
		if errLine == "" {
			t.Error("the row shows no error line")
		}
		if st := tb.submit("click View report", first+` [data-testid="attention-report"]`); st != 200 {
			t.Fatalf("View report: status %d", st)
		}
		if loc := tb.location(); !strings.HasPrefix(loc, "/reports/backup/") {
			t.Errorf("View report went to %s", loc)
		}
		if n := tb.count(`[data-testid="report-error"]`); n == 0 {
			t.Fatal("the report shows no error")
		}
		if report := tb.text(`[data-testid="report-errors"]`); errLine != "" && !strings.Contains(report, errLine) {
			t.Errorf("the report's errors %q do not include the overview's line %q", report, errLine)
		}
	})

	t.Run("the overview's Running column and count follow a backup started there, without reloading", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		env.sim.SetNextOutcome(env.fix.quickConfigID, rcbusim.StateCompleted)
		tb.open("/?q=e2e-web-01")
		row := fmt.Sprintf(`[data-testid="agent-row"][data-agent-id="%d"]`, env.fix.agentID)
		chip := row + ` [data-testid="agent-jobs"] [data-testid="job-chip"]`
		tb.waitFor("the agent's row", `!!document.querySelector('`+row+`')`, 20*time.Second)
		tb.waitFor("nothing running on the agent", `!document.querySelector('`+chip+`')`, 90*time.Second)
		// A marker on window survives htmx swaps but not a page load.
		eval[bool](tb, `(window.__e2eNoReload = true)`)
		tb.do("open the Start menu", chromedp.Click(chromedp.CSS(row+` [data-testid="start-menu"] > summary`), chromedp.NodeVisible))
		tb.do("choose the quick configuration", chromedp.SetValue(chromedp.CSS(row+` [data-testid="start-configuration"]`), strconv.FormatInt(env.fix.quickConfigID, 10)))
		tb.do("click Start", chromedp.Click(chromedp.CSS(row+` [data-testid="start-form"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the job in the agent's Running cell", `!!document.querySelector('`+chip+`')`, 20*time.Second)
		tb.waitFor("the Running count to count it", `+document.querySelector('[data-testid="count-running"]').dataset.count >= 1`, 20*time.Second)
		tb.waitFor("the job to leave the Running cell when it ends", `!document.querySelector('`+chip+`')`, 90*time.Second)
		if !eval[bool](tb, `window.__e2eNoReload === true`) {
			t.Error("the page reloaded: the Running column must follow the job in place")
		}
		if got := eval[string](tb, `document.querySelector('`+row+` [data-testid="agent-jobs"]').textContent.trim()`); got != "—" {
			t.Errorf("after the job ended the Running cell says %q, want —", got)
		}
	})

	t.Run("the agent page's active jobs follow a backup started there, without reloading", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		env.sim.SetNextOutcome(env.fix.quickConfigID, rcbusim.StateCompleted)
		tb.open(fmt.Sprintf("/agents/%d", env.fix.agentID))
		jobs := `[data-testid="agent-active-jobs"] [data-testid="job-panel"]`
		tb.waitFor("nothing running on the agent", `!document.querySelector('`+jobs+`[data-busy="true"]')`, 90*time.Second)
		tb.open(fmt.Sprintf("/agents/%d", env.fix.agentID))
		eval[bool](tb, `(window.__e2eNoReload = true)`)
		start := fmt.Sprintf(`[data-testid="configuration-row"][data-configuration-id="%d"] [data-testid="start-backup"]`, env.fix.quickConfigID)
		tb.do("click Start", chromedp.Click(chromedp.CSS(start), chromedp.NodeVisible))
		tb.waitFor("the job under Active jobs", `!!document.querySelector('`+jobs+`')`, 20*time.Second)
		tb.waitFor("the job to leave Active jobs when it ends", `!document.querySelector('`+jobs+`[data-busy="true"]') && !!document.querySelector('[data-testid="agent-active-jobs"] [data-testid="no-jobs"]')`, 90*time.Second)
		// The finished backup is in Recent activity too, still without a reload.
		bs := backupsOf(env.sim, env.fix.quickConfigID)
		if len(bs) == 0 {
			t.Fatal("the simulator ran no backup of the configuration")
		}
		row := fmt.Sprintf(`[data-testid="activity-row"][data-job-id="%d"]`, bs[len(bs)-1].ID)
		tb.waitFor("the backup in Recent activity", `!!document.querySelector('#agent-activity `+row+`')`, 20*time.Second)
		// And the agent's last successful backup is that one.
		end := bs[len(bs)-1].End
		if end.IsZero() || bs[len(bs)-1].State != "Completed" {
			t.Fatalf("the simulator's backup: %+v, want Completed", bs[len(bs)-1])
		}
		tb.waitFor("the last success to be that backup's end", fmt.Sprintf(`Math.abs(Date.parse(document.querySelector('[data-testid="fact-last-success"] time')?.getAttribute('datetime')) - %d) < 1500`, end.UnixMilli()), 20*time.Second)
		if !eval[bool](tb, `window.__e2eNoReload === true`) {
			t.Error("the page reloaded: Active jobs must follow the job in place")
		}
		// On a phone the essentials come first and the rest is folded.
		tb.do("viewport 390x844", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
		tb.open(fmt.Sprintf("/agents/%d", env.fix.agentID))
		if eval[bool](tb, `document.querySelector('[data-testid="agent-facts"]').checkVisibility()`) {
			t.Error("on a phone the agent's details show before their fold is opened")
		}
		if top := eval[float64](tb, `document.querySelector('[data-testid="agent-actions"]').getBoundingClientRect().top`); top > 844 {
			t.Errorf("on a phone the agent's actions start %.0f px down, below the first screen", top)
		}
		if png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(env.artifacts, "agent_page_390x844.png"), png, 0o644)
		}
		tb.do("viewport 1280x800", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
		tb.open(fmt.Sprintf("/agents/%d", env.fix.agentID))
		if !eval[bool](tb, `document.querySelector('[data-testid="agent-facts"]').checkVisibility()`) {
			t.Error("at 1280 px the agent's details are hidden")
		}
		if png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(env.artifacts, "agent_page_1280x800.png"), png, 0o644)
		}
	})

	t.Run("the heatmap's text is at least 11 px on a phone and at 1280 px", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		for _, size := range [][2]int64{{390, 844}, {1280, 800}} {
			tb.do(fmt.Sprintf("viewport %dx%d", size[0], size[1]), chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateScale(1)))
			tb.open("/")
			tb.waitFor("the heatmap slot", `!!document.querySelector('[data-testid="heatmap-slot"]')`, 20*time.Second)
			tb.do("scroll to the heatmap", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="heatmap-slot"]`)))
			// The report history syncs every 10 s in this run: reload until it has.
			deadline := time.Now().Add(45 * time.Second)
			for !eval[bool](tb, `!!document.querySelector('svg.heatmap-svg')`) && time.Now().Before(deadline) {
				time.Sleep(time.Second)
				if eval[bool](tb, `!!document.querySelector('[data-testid="heatmap-empty"]')`) {
					tb.open("/")
					tb.do("scroll to the heatmap", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="heatmap-slot"]`)))
				}
			}
			if !eval[bool](tb, `!!document.querySelector('svg.heatmap-svg')`) {
				t.Fatal("the heatmap never drew")
			}
			px := eval[float64](tb, `(() => { const s = document.querySelector('svg.heatmap-svg'); return parseFloat(s.getAttribute('font-size')) * s.getBoundingClientRect().width / s.viewBox.baseVal.width; })()`)
			if px < 11 {
				t.Errorf("at %d px the heatmap's labels are %.1f px, want at least 11", size[0], px)
			}
			if sw, iw := eval[int](tb, `document.documentElement.scrollWidth`), eval[int](tb, `window.innerWidth`); sw > iw {
				t.Errorf("at %d px the page scrolls sideways (%d > %d)", size[0], sw, iw)
			}
			if size[0] == 390 {
				// It opens on the latest days: scrolled to its right end.
				if gap := eval[float64](tb, `(() => { const b = document.querySelector('[data-testid="heatmap-scroll"]'); return b.getBoundingClientRect().right - document.querySelector('svg.heatmap-svg').getBoundingClientRect().right; })()`); gap < -1 {
					t.Errorf("on a phone the heatmap opens %.0f px short of its latest days", -gap)
				}
				if png, err := chromedp.Run(tb.ctx, chromedp.Screenshot(`[data-testid="heatmap"]`)); err == nil {
					_ = os.WriteFile(filepath.Join(env.artifacts, "overview_heatmap_390x844.png"), png, 0o644)
				}
			}
		}
	})

	t.Run("no page scrolls sideways at 1280x800 or 390x844, light or dark", func(t *testing.T) {
		// Sixteen page loads: more time than a one-page scenario.
		tb := env.newTab(t, 3*scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		for _, scheme := range []string{"light", "dark"} {
			tb.do("emulate "+scheme, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				})
				return err
			}))
			for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
				tb.do(fmt.Sprintf("viewport %dx%d", size[0], size[1]), chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateScale(1)))
				for _, path := range []string{"/", "/agents", "/configurations", "/activity"} {
					tb.open(path)
					tb.waitFor("the page", `document.readyState === 'complete'`, 10*time.Second)
					// Let the fragments the page loads arrive before measuring.
					time.Sleep(300 * time.Millisecond)
					sw := eval[int](tb, `document.documentElement.scrollWidth`)
					iw := eval[int](tb, `window.innerWidth`)
					if sw > iw {
						wide := eval[string](tb, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + (e.dataset.testid || '')).join(', ') + '; columns ' + [...document.querySelectorAll('thead th')].map(th => th.textContent.trim() + ' ' + (th.getBoundingClientRect().width | 0)).join(', ')`)
						t.Errorf("%s at %dx%d (%s): scrollWidth %d > innerWidth %d; widest: %s", path, size[0], size[1], scheme, sw, iw, wide)
					}
					name := fmt.Sprintf("overview_width_%s_%dx%d_%s.png", strings.Trim(strings.ReplaceAll(path, "/", "_"), "_"), size[0], size[1], scheme)
					if path == "/" {
						name = fmt.Sprintf("overview_width_overview_%dx%d_%s.png", size[0], size[1], scheme)
					}
					if png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)); err == nil {
						_ = os.WriteFile(filepath.Join(env.artifacts, name), png, 0o644)
					}
				}
			}
		}
	})

	t.Run("on a phone every agent card on the overview and the agents page is at most 120 px tall", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.do("viewport 390x844", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)))
		for _, path := range []string{"/", "/agents"} {
			tb.open(path)
			tb.waitFor("the agent cards", `document.querySelectorAll('[data-testid="agent-row"]').length > 0`, 10*time.Second)
			// Let the status and running fragments fill the cards first.
			time.Sleep(500 * time.Millisecond)
			n := tb.count(`[data-testid="agent-row"]`)
			tallest := eval[string](tb, `(() => { let best = null; for (const r of document.querySelectorAll('[data-testid="agent-row"]')) { const h = r.getBoundingClientRect().height; if (!best || h > best.h) best = {h, name: r.querySelector('[data-testid="agent-name"]')?.textContent.trim()}; } return Math.round(best.h) + ' ' + best.name; })()`)
			h, name, _ := strings.Cut(tallest, " ")
			px, err := strconv.Atoi(h)
			if err != nil {
				t.Fatalf("%s: card height %q", path, tallest)
			}
			if px > 120 {
				t.Errorf("%s: the card of %s is %d px tall (of %d cards), want at most 120", path, name, px, n)
			}
			if px < 40 {
				t.Errorf("%s: the card of %s is only %d px tall: is it laid out at all?", path, name, px)
			}
			name = "agent_cards_overview_390x844.png"
			if path == "/agents" {
				name = "agent_cards_agents_390x844.png"
			}
			if png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)); err == nil {
				_ = os.WriteFile(filepath.Join(env.artifacts, name), png, 0o644)
			}
		}
	})
}
