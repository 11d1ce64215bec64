package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestE2ETriage walks finding and handling a failure: a forced failure
// becomes an incident that is acknowledged with a note, and the report
// history is searched by a configuration's name and a word of its errors.
func TestE2ETriage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser end-to-end tests are not short")
	}
	env := startE2E(t, false)

	t.Run("a forced failure is an incident, acknowledged with a note", func(t *testing.T) {
		tb := env.newTab(t, 2*scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		env.sim.SetNextOutcome(env.fix.quickConfigID, "Failed")
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.quickConfigID))
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the backup to end", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		// The end of a job run from the console evaluates the rules at once.
		deadline := time.Now().Add(45 * time.Second)
		const mine = `[...document.querySelectorAll('[data-testid="incident-link"]')].find(a => a.textContent.includes('e2e quick'))`
		for {
			tb.open("/alerts?rule=backup_failed")
			if eval[bool](tb, `!!`+mine) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no incident for the failed backup after 45 s; incidents: %s", tb.text(`[data-testid="incidents-table"]`))
			}
			time.Sleep(2 * time.Second)
		}
		href := eval[string](tb, mine+`.getAttribute('href')`)
		tb.open(href)
		if got := tb.text(`[data-testid="incident-status"]`); !strings.Contains(got, "Open") {
			t.Errorf("a new incident reads %q", got)
		}
		note := `restoring the disk <b>now</b>`
		tb.do("write a note", chromedp.SendKeys(chromedp.CSS(`textarea[name="note"]`), note))
		tb.submit("acknowledge", `[data-testid="ack-button"]`)
		if got := tb.text(`[data-testid="incident-status"]`); !strings.Contains(got, "Acknowledged") {
			t.Errorf("after acknowledging the incident reads %q", got)
		}
		if got := tb.text(`[data-testid="ack-note"]`); got != note {
			t.Errorf("the note reads %q, want %q as text", got, note)
		}
		if tb.count(`[data-testid="ack-note"] b`) != 0 {
			t.Error("the note was rendered as HTML")
		}
		tb.open("/alerts?status=acknowledged")
		if !eval[bool](tb, `!!`+mine) {
			t.Errorf("the Acknowledged tab does not list it: %s", tb.text(`[data-testid="incidents-table"]`))
		}
	})

	t.Run("a report search by configuration name and a word of the error", func(t *testing.T) {
		tb := env.newTab(t, 2*scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		deadline := time.Now().Add(45 * time.Second)
		for {
			tb.open("/reports?q=denied")
			if tb.count(`[data-testid="report-row"]`) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no report with \"denied\" after 45 s of syncing")
			}
			time.Sleep(2 * time.Second)
		}
		// A configuration whose errors say "denied", by the name on its row.
		name := eval[string](tb, `document.querySelector('[data-testid="report-row"] td[data-label="Configuration"] a').textContent.trim()`)
		if got := tb.text(`[data-testid="report-snippet"] mark`); !strings.EqualFold(strings.TrimSpace(got), "denied") {
			t.Errorf("the first hit highlights %q, want denied", got)
		}
		tb.open("/reports")
		eval[bool](tb, `(window.__e2eNoReload = true)`)
		tb.do("type the configuration's name", chromedp.SendKeys(chromedp.CSS(`input[name="config"]`), name))
		tb.waitFor("the URL to carry the configuration's id", `/[?&]config=\d+/.test(location.search)`, 20*time.Second)
		tb.do("and a word of the error", chromedp.SendKeys(chromedp.CSS(`input[name="q"]`), "denied"))
		tb.waitFor("the matching reports", `location.search.includes('q=denied') && document.querySelectorAll('[data-testid="report-row"]').length > 0`, 20*time.Second)
		if !eval[bool](tb, `window.__e2eNoReload === true`) {
			t.Error("the search reloaded the page: it should swap the results in place")
		}
		cfgs := eval[[]string](tb, `[...document.querySelectorAll('[data-testid="report-row"] td[data-label="Configuration"] a')].map(a => a.textContent.trim())`)
		for _, c := range cfgs {
			if c != name {
				t.Errorf("a row of configuration %q among the results for %q", c, name)
			}
		}
		if tb.count(`[data-testid="report-snippet"] mark`) == 0 {
			t.Error("no highlighted error text in the results")
		}
		if got := eval[string](tb, `document.querySelector('input[name="config"]').value`); got != name {
			t.Errorf("the configuration filter shows %q, want the name %q", got, name)
		}
		// The chart stands above the table and follows the filters.
		if !eval[bool](tb, `(() => { const c = document.querySelector('#report-results [data-testid="chart"]'), t = document.querySelector('[data-testid="reports-table"]'); return !!c && !!t && (c.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0; })()`) {
			t.Error("the chart is not above the table")
		}
		// At 1280 px every column shows without scrolling sideways.
		if eval[bool](tb, `(() => { const r = document.querySelector('#report-results'); return r.scrollWidth > r.clientWidth + 1; })()`) {
			t.Error("the results scroll sideways at 1280 px")
		}
	})

	t.Run("reports on a phone: filters collapse, cards stay small", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.do("use a phone's screen", chromedp.EmulateViewport(390, 844))
		tb.open("/reports?q=denied")
		if eval[bool](tb, `document.querySelector('[data-testid="filter-more"]').open`) {
			t.Error("the filters are open on a phone with none set")
		}
		if got := tb.text(`[data-testid="filter-more"] summary`); !strings.Contains(got, "Filters (0 active)") {
			t.Errorf("the filters' summary reads %q", got)
		}
		if eval[bool](tb, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
			t.Error("the page scrolls sideways at 390 px")
		}
		tallest := eval[float64](tb, `Math.max(0, ...[...document.querySelectorAll('[data-testid="report-row"]')].map(r => r.getBoundingClientRect().height))`)
		if tallest == 0 || tallest > 125 {
			t.Errorf("the tallest report card is %.0f px, want at most ~120", tallest)
		}
	})
}
