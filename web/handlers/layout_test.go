package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
)

// filterSummary is the text of a page's folded filter form summary.
func filterSummary(d *goquery.Document) string {
	return strings.Join(strings.Fields(testid(d, "filter-summary").Text()), " ")
}

func TestFilterFoldCountsTheFiltersSet(t *testing.T) {
	te := newOpsEnv(t)
	seedAgent(t, te.testEnv, "web-01", "nightly")
	admin := te.loginRole(app.RoleAdmin)
	tests := []struct {
		name, path, want string
	}{
		{"activity with no filter", "/activity", "Filters"},
		{"activity by state and window", "/activity?state=failed&since=7d", "Filters (2 active)"},
		{"activity: an unknown state is ignored, not counted", "/activity?state=bogus", "Filters"},
		{"configurations with no filter", "/configurations", "Filters"},
		{"configurations by search and frequency", "/configurations?q=night&frequency=Daily", "Filters (2 active)"},
		{"agents with no filter", "/agents", "Filters"},
		{"agents by search and status", "/agents?q=web&status=offline", "Filters (2 active)"},
		{"audit log with no filter", "/admin/audit", "Filters"},
		{"audit log by actor, outcome and date", "/admin/audit?actor=admin&outcome=ok&from=2026-03-01", "Filters (3 active)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := te.get(tc.path, admin)
			wantStatus(t, rec, 200)
			d := doc(t, rec)
			if got := filterSummary(d); got != tc.want {
				t.Errorf("summary %q, want %q", got, tc.want)
			}
			fold := testid(d, "filter-fold")
			if fold.Length() != 1 || fold.Find("form").Length() != 1 {
				t.Fatalf("%s: want one folded filter form, got %d folds", tc.path, fold.Length())
			}
			if _, open := fold.Attr("open"); open {
				t.Error("the fold is rendered open: on a phone it starts closed")
			}
		})
	}
}

func TestActionBarsPutThePrimaryFirstAndDangerInRed(t *testing.T) {
	te := newOpsEnv(t)
	agent, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	admin := te.loginRole(app.RoleAdmin)

	t.Run("configuration page: Start first, Delete red under More", func(t *testing.T) {
		d := doc(t, te.get("/configurations/"+i64(cfg), admin))
		bar := testid(d, "config-actions")
		first := bar.Children().First()
		if first.AttrOr("data-testid", "") != "start-slot" || first.Find(`[data-testid="start-backup"]`).Length() != 1 {
			t.Errorf("the first item of the action bar is %q, want the Start slot", first.AttrOr("data-testid", first.Text()))
		}
		del := bar.Find(`[data-testid="more-actions"] [data-testid="delete"]`)
		if del.Length() != 1 || !del.HasClass("danger") {
			t.Errorf("Delete in More: %d, class %q; want one, danger", del.Length(), del.AttrOr("class", ""))
		}
		if bar.Find(`[data-testid="edit"]`).ParentsFiltered("details").Length() != 0 {
			t.Error("Edit is hidden under More")
		}
		confirm := testid(doc(t, te.get("/configurations/"+i64(cfg)+"/delete", admin)), "confirm-delete")
		if !confirm.HasClass("danger") {
			t.Errorf("the delete confirmation's button has class %q, want danger", confirm.AttrOr("class", ""))
		}
	})
	t.Run("agent page: Restore files first, Delete red, confirmation red", func(t *testing.T) {
		d := doc(t, te.get("/agents/"+i64(agent), admin))
		bar := testid(d, "agent-actions")
		if got := bar.Children().First().AttrOr("data-testid", ""); got != "restore-files" {
			t.Errorf("first action %q, want restore-files", got)
		}
		if !bar.Find(`[data-testid="delete"]`).HasClass("danger") {
			t.Error("Delete agent is not styled as danger")
		}
		for _, kind := range []string{"delete", "encrypt"} {
			c := testid(doc(t, te.get("/agents/"+i64(agent)+"/"+kind, admin)), "confirm")
			if !c.HasClass("danger") {
				t.Errorf("/%s confirmation button class %q, want danger", kind, c.AttrOr("class", ""))
			}
		}
	})
	t.Run("a creator's configuration page has no Delete, Start still first", func(t *testing.T) {
		d := doc(t, te.get("/configurations/"+i64(cfg), te.loginRole(app.RoleCreator)))
		bar := testid(d, "config-actions")
		if bar.Find(`[data-testid="delete"]`).Length() != 0 {
			t.Error("a creator sees Delete")
		}
		if bar.Children().First().AttrOr("data-testid", "") != "start-slot" {
			t.Error("Start is not first for a creator")
		}
	})
	t.Run("a running backup's page: its actions are a bar with Stop last, in red", func(t *testing.T) {
		rec := te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, admin)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("start: %d", rec.Code)
		}
		bar := testid(doc(t, te.get(rec.Header().Get("Location"), admin)), "job-actions")
		if !bar.HasClass("action-bar") {
			t.Errorf("the job's actions have class %q, want an action bar", bar.AttrOr("class", ""))
		}
		stop := bar.Find(`[data-testid="stop-backup"]`)
		if stop.Length() != 1 || !stop.HasClass("danger") {
			t.Fatalf("Stop: %d, class %q; want one, danger", stop.Length(), stop.AttrOr("class", ""))
		}
		if last := bar.Children().Last(); last.AttrOr("data-testid", "") != "stop-form" {
			t.Errorf("the last action is %q, want Stop", last.AttrOr("data-testid", last.Text()))
		}
	})
	t.Run("user page: the reset link first, Disable last and red", func(t *testing.T) {
		obs := te.byRole[app.RoleObserver]
		bar := testid(doc(t, te.get("/admin/users/"+obs.ID.String(), admin)), "user-actions")
		forms := bar.Children()
		if forms.Length() != 2 || forms.First().Find(`[data-testid="reset-link"]`).Length() != 1 {
			t.Fatalf("user actions %q, want the reset link then Disable", strings.Join(strings.Fields(bar.Text()), " "))
		}
		dis := forms.Last().Find(`[data-testid="disable-user"]`)
		if !dis.HasClass("danger") || forms.Last().AttrOr("data-confirm", "") == "" {
			t.Errorf("Disable user: class %q, confirm %q; want danger, asked first", dis.AttrOr("class", ""), forms.Last().AttrOr("data-confirm", ""))
		}
	})
	t.Run("a one-time link's breadcrumb names the user once", func(t *testing.T) {
		obs := te.byRole[app.RoleObserver]
		rec := te.post("/admin/users/"+obs.ID.String()+"/reset-link", nil, admin)
		wantStatus(t, rec, http.StatusOK)
		bc := testid(doc(t, rec), "breadcrumb").Text()
		if n := strings.Count(bc, obs.Email); n != 1 {
			t.Errorf("the breadcrumb %q names %s %d times, want once", strings.Join(strings.Fields(bc), " "), obs.Email, n)
		}
		if !strings.HasSuffix(strings.TrimSpace(bc), "Reset link") {
			t.Errorf("the breadcrumb %q does not end in the page", strings.Join(strings.Fields(bc), " "))
		}
	})
	t.Run("breadcrumbs are one trail ending in the page", func(t *testing.T) {
		for _, path := range []string{"/agents/" + i64(agent), "/configurations/" + i64(cfg), "/admin/users", "/admin/audit"} {
			bc := testid(doc(t, te.get(path, admin)), "breadcrumb")
			if bc.Length() != 1 {
				t.Errorf("%s: %d breadcrumbs", path, bc.Length())
				continue
			}
			items := bc.Find("ol > li")
			if items.Length() < 2 || items.Last().AttrOr("aria-current", "") != "page" || items.Last().Find("a").Length() != 0 {
				t.Errorf("%s: breadcrumb %q does not end in the current page", path, bc.Text())
			}
		}
	})
}

// TestResultsAreasAnnounceACount: a list's results area, which the filters
// replace, is no aria-live region (that would read every row again); it
// says how many results it shows in data-announce, which the page's polite
// announcer reads when it changes.
func TestResultsAreasAnnounceACount(t *testing.T) {
	te := newOpsEnv(t)
	seedAgent(t, te.testEnv, "web-01", "nightly")
	admin := te.loginRole(app.RoleAdmin)
	for _, tc := range []struct {
		path, id, want string
	}{
		{"/reports", "report-results", "No reports match these filters"},
		{"/configurations", "config-results", "1 configuration"},
		{"/configurations?q=nothing-like-this", "config-results", "No configurations match these filters"},
		{"/admin/audit?outcome=failed", "audit-results", "No entries match these filters"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			for _, htmx := range []bool{false, true} {
				rec := te.get(tc.path, admin)
				if htmx {
					rec = te.htmx(http.MethodGet, tc.path, nil, admin)
				}
				wantStatus(t, rec, http.StatusOK)
				d := doc(t, rec)
				area := d.Find("#" + tc.id)
				if area.Length() != 1 {
					t.Fatalf("htmx %v: %d #%s", htmx, area.Length(), tc.id)
				}
				if got := area.AttrOr("data-announce", ""); got != tc.want {
					t.Errorf("htmx %v: announces %q, want %q", htmx, got, tc.want)
				}
				if d.Find("[aria-live]").Not("#announcer").Length() != 0 {
					t.Errorf("htmx %v: the page has an aria-live region besides the announcer", htmx)
				}
			}
		})
	}
}

// TestAgentPageEssentialsFirst: the agent page says its state, its last
// successful backup and its actions first, then its running jobs (which
// reload when a job starts or ends) and configurations; details, charts and
// recent activity fold away on a phone.
func TestAgentPageEssentialsFirst(t *testing.T) {
	te := newOpsEnv(t)
	agent, _ := seedAgent(t, te.testEnv, "web-01", "nightly")
	d := doc(t, te.get("/agents/"+i64(agent), te.loginRole(app.RoleAdmin)))
	var order []string
	d.Find(`main [data-testid="fact-last-success"], main [data-testid="agent-actions"], main [data-testid="agent-active-jobs"], main [data-testid="agent-configurations"], main details.fold-narrow`).Each(func(_ int, s *goquery.Selection) {
		order = append(order, s.AttrOr("data-testid", ""))
	})
	want := []string{"fact-last-success", "agent-actions", "agent-active-jobs", "agent-configurations", "details-fold", "charts-fold", "activity-fold"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("the page's parts in order %q, want %q", order, want)
	}
	if !strings.Contains(testid(d, "fact-last-success").Text(), "Last successful backup") {
		t.Errorf("the heading says %q, want the last successful backup", testid(d, "fact-last-success").Text())
	}
	d.Find("details.fold-narrow").Each(func(_ int, s *goquery.Selection) {
		if _, open := s.Attr("open"); open || strings.TrimSpace(s.Find("summary").Text()) == "" {
			t.Errorf("%s: rendered open or with no summary", s.AttrOr("data-testid", ""))
		}
	})
	if testid(d, "details-fold").Find(`[data-testid="agent-facts"]`).Length() != 1 {
		t.Error("the details are not in their fold")
	}
	jobs := testid(d, "agent-active-jobs")
	if jobs.AttrOr("hx-trigger", "") != "running-changed from:body" || jobs.AttrOr("hx-get", "") != "/agents/"+i64(agent) || jobs.AttrOr("hx-select", "") != "#agent-jobs" {
		t.Errorf("the active jobs do not reload when a job starts or ends: trigger %q get %q select %q",
			jobs.AttrOr("hx-trigger", ""), jobs.AttrOr("hx-get", ""), jobs.AttrOr("hx-select", ""))
	}
}

// TestConfigurationPageEssentialsFirst: a configuration's page says its
// schedule and offers its actions first, then its last runs; the schedule
// details, the files and the charts fold away on a phone.
func TestConfigurationPageEssentialsFirst(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	d := doc(t, te.get("/configurations/"+i64(cfg), te.loginRole(app.RoleAdmin)))
	var order []string
	d.Find(`main [data-testid="schedule-words"], main [data-testid="config-actions"], main details.fold-narrow, main [data-testid="runs"]`).Each(func(_ int, s *goquery.Selection) {
		order = append(order, s.AttrOr("data-testid", ""))
	})
	want := []string{"schedule-words", "config-actions", "schedule-fold", "files-fold", "runs", "config-charts-fold"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("the page's parts in order %q, want %q", order, want)
	}
	d.Find("details.fold-narrow").Each(func(_ int, s *goquery.Selection) {
		if _, open := s.Attr("open"); open || strings.TrimSpace(s.Find("summary").Text()) == "" {
			t.Errorf("%s: rendered open or with no summary", s.AttrOr("data-testid", ""))
		}
	})
	for fold, part := range map[string]string{"schedule-fold": "config-details", "files-fold": "inclusions", "config-charts-fold": "charts-slot"} {
		if testid(d, fold).Find(`[data-testid="`+part+`"]`).Length() != 1 {
			t.Errorf("%s is not in %s", part, fold)
		}
	}
}
