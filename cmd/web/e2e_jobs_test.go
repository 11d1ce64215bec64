package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// TestE2EJobs watches a backup to its end and runs it again with the
// estimate bar showing, restores one file picked from the tree to another
// agent, and looks at the job pages at both screen sizes.
func TestE2EJobs(t *testing.T) {
	env := startE2E(t, false)
	var backupPage, restorePage, reportPage string

	t.Run("start a backup, see the progress bar, then Run again", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		tb.open(fmt.Sprintf("/configurations/%d", env.fix.quickConfigID))
		tb.do("click Start", chromedp.Click(chromedp.CSS(`[data-testid="start-slot"] [data-testid="start-backup"]`), chromedp.NodeVisible))
		tb.waitFor("the live panel", `!!document.querySelector('[data-testid="job-panel"]')`, 20*time.Second)
		// A first run has no history to estimate from, and says so.
		if tb.count(`[data-testid="job-panel"][data-busy="true"]`) == 1 && tb.count(`[data-testid="job-no-estimate"]`) != 1 {
			t.Error("a first run says nothing about its estimate")
		}
		tb.waitFor("the backup to finish", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		again := `[data-testid="job-panel"] [data-testid="start-backup"]`
		if got := strings.TrimSpace(tb.text(again)); got != "Run again" {
			t.Fatalf("after the end the panel offers %q, want Run again", got)
		}
		// The run that follows ends with errors, so its report names files.
		env.sim.SetNextOutcome(env.fix.quickConfigID, rcbusim.StateCompletedWithErrors)
		if st := tb.submit("click Run again", again); st != http.StatusOK {
			t.Fatalf("Run again: %d", st)
		}
		backupPage = tb.location()
		if !strings.HasPrefix(backupPage, "/backups/") {
			t.Fatalf("Run again went to %s, want the new backup's page", backupPage)
		}
		// The first run is in the history now: the page (rendered while
		// the new run is busy) shows an estimate bar, labelled as one.
		if tb.count(`[data-testid="job-progress"]`) != 1 {
			t.Errorf("no progress bar on the second run: %q", tb.text(`[data-testid="job-panel"]`))
		} else if got := tb.text(`[data-testid="job-estimate"]`); !strings.Contains(got, "Estimate: usually") {
			t.Errorf("estimate label %q", got)
		}
		if tb.count(`[data-testid="job-timeline"] [data-testid="job-step"]`) != 5 {
			t.Error("no five-step timeline")
		}
		tb.waitFor("the second run to finish", `document.querySelector('[data-testid="job-panel"]')?.dataset.busy === 'false'`, 60*time.Second)
		if got := tb.text(`[data-testid="job-final"]`); !strings.Contains(got, "completed, but some files had errors") {
			t.Errorf("final words %q", got)
		}
		if got := strings.TrimSpace(tb.text(again)); got != "Run again" {
			t.Errorf("after the second run the panel offers %q", got)
		}
		reportPage = "/reports" + strings.Replace(backupPage, "/backups/", "/backup/", 1)
	})

	t.Run("restore one file picked from the tree to another agent", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		var backupID int64
		for _, b := range backupsOf(env.sim, env.fix.quickConfigID) {
			if b.State == rcbusim.StateCompleted || b.State == rcbusim.StateCompletedWithErrors {
				backupID = b.ID
			}
		}
		if backupID == 0 {
			t.Fatal("no restorable backup of the quick configuration")
		}
		tb.open(fmt.Sprintf("/restores/new/destination?configuration=%d&backup=%d", env.fix.quickConfigID, backupID))
		ok := eval[bool](tb, `(() => { const s = document.querySelector('select[name="destination"]'); const o = [...s.options].find(o => o.textContent.includes('e2e-restore-target')); if (!o) return false; s.value = o.value; return true; })()`)
		if !ok {
			t.Fatal("the destination list does not offer e2e-restore-target")
		}
		if tb.count(`[data-testid="restore-folder"]`) != 1 || eval[bool](tb, `document.querySelector('[data-testid="restore-folder"]').offsetParent !== null`) {
			t.Error("the folder field shows while the original location is chosen")
		}
		tb.submit("next: files", `[data-testid="wizard-next"]`)
		// A file (not a folder) the report named.
		file := eval[string](tb, `(() => { const c = [...document.querySelectorAll('[data-testid="path-tree"] input[name="pick"]')].find(c => !c.value.endsWith('/')); if (!c) return ''; c.click(); return c.value; })()`)
		if file == "" {
			t.Fatalf("the picker offers no file: %q", tb.text(`[data-testid="path-tree"]`))
		}
		tb.submit("next: review", `[data-testid="wizard-next"]`)
		if got := tb.text(`[data-testid="restore-summary"]`); !strings.Contains(got, file) || !strings.Contains(got, "e2e-restore-target") {
			t.Errorf("the review does not repeat the file and the destination: %q", got)
		}
		if st := tb.submit("start the restore", `[data-testid="start-restore"]`); st != http.StatusOK {
			t.Fatalf("start restore: %d", st)
		}
		restorePage = tb.location()
		if got := tb.text(`[data-testid="restore-request"] [data-testid="request-paths"]`); strings.TrimSpace(got) != file {
			t.Errorf("the restore page repeats %q, want %q", got, file)
		}
		if got := tb.text(`[data-testid="restore-request"] [data-testid="request-destination"]`); !strings.Contains(got, "e2e-restore-target") {
			t.Errorf("the restore page's destination %q", got)
		}
		tb.waitFor("the restore to finish", `document.querySelector('[data-testid="job-panel"][data-kind="restore"]')?.dataset.busy === 'false'`, 60*time.Second)
		if got := tb.text(`[data-testid="restore-request"] [data-testid="request-paths"]`); strings.TrimSpace(got) != file {
			t.Errorf("after the end the restore page repeats %q", got)
		}
		rs := env.sim.Restores()
		if r := rs[len(rs)-1]; r.DestinationAgentID != env.fix.targetAgentID {
			t.Errorf("the restore went to agent %d, want %d", r.DestinationAgentID, env.fix.targetAgentID)
		}
	})

	t.Run("the job pages at 1280x800 and 390x844", func(t *testing.T) {
		if backupPage == "" || restorePage == "" {
			t.Fatal("no backup or restore page to look at: the scenarios above failed before reaching them")
		}
		tb := env.newTab(t, scenarioTimeout)
		tb.login(e2eAdminEmail, e2eAdminPassword)
		pages := map[string]string{
			"backup": backupPage, "restore": restorePage, "report": reportPage,
			"files": fmt.Sprintf("/restores/new/files?configuration=%d&backup=%s&destination=%d", env.fix.quickConfigID,
				strings.TrimPrefix(backupPage, "/backups/"), env.fix.targetAgentID),
			"destination": fmt.Sprintf("/restores/new/destination?configuration=%d&backup=%s", env.fix.quickConfigID, strings.TrimPrefix(backupPage, "/backups/")),
		}
		for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
			tb.do(fmt.Sprintf("viewport %dx%d", size[0], size[1]), chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateScale(1)))
			for name, path := range pages {
				if st := tb.open(path); st != http.StatusOK {
					t.Errorf("%s: %d", path, st)
					continue
				}
				if sw, iw := eval[int](tb, `document.documentElement.scrollWidth`), eval[int](tb, `window.innerWidth`); sw > iw {
					t.Errorf("%s at %dx%d scrolls sideways: %d > %d", path, size[0], size[1], sw, iw)
				}
				if png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100)); err == nil {
					_ = os.WriteFile(filepath.Join(env.artifacts, fmt.Sprintf("jobs_%s_%dx%d.png", name, size[0], size[1])), png, 0o644)
				}
			}
		}
		tb.open(reportPage)
		if tb.count(`[data-testid="report-cause"]`) != 1 {
			t.Error("the report of a run with errors does not start with its cause")
		}
	})
}
