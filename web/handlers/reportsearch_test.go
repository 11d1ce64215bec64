package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// seedNamed stores the runs of three configurations over the last days;
// last night's mysql dumps backup failed with a hostile error text.
func (re *reportsEnv) seedNamed(t *testing.T) {
	t.Helper()
	now := re.clock.Now()
	var rs []app.Report
	job := int64(7000)
	add := func(agent int64, agentName string, cfg int64, cfgName, state string, ago time.Duration, errs ...app.ReportErrorEntry) {
		job++
		fin := now.Add(-ago)
		rs = append(rs, app.Report{AccountID: re.demo.ID, Kind: app.KindBackup, JobID: job, AgentID: rcbu.AgentID(agent), AgentName: agentName,
			ConfigID: rcbu.ConfigurationID(cfg), ConfigName: cfgName, BackupID: rcbu.BackupID(job), State: state, Started: fin.Add(-time.Minute),
			Finished: fin, Duration: time.Minute, ErrorCount: int64(len(errs)), Errors: errs, Raw: []byte(`{}`), Fetched: now})
	}
	for d := 2; d <= 5; d++ {
		add(11, "db-01", 301, "mysql dumps", "Completed", time.Duration(d)*24*time.Hour)
		add(12, "web-01", 302, "web files", "Completed", time.Duration(d)*24*time.Hour)
		add(12, "web-01", 303, "mysql config", "Completed", time.Duration(d)*24*time.Hour)
	}
	add(12, "web-01", 302, "web files", "CompletedWithErrors", 20*time.Hour,
		app.ReportErrorEntry{Path: "/var/www/cache.lock", Description: "Sharing violation"})
	add(11, "db-01", 301, "mysql dumps", "Failed", 10*time.Hour,
		app.ReportErrorEntry{Path: "/var/backups/mysql/all.sql", Description: `Dump truncated: disk full <script>alert(1)</script> & "more"`})
	if _, err := re.store.InsertReports(t.Context(), rs); err != nil {
		t.Fatal(err)
	}
}

func TestReportsByConfigurationNameWithHighlightedSnippet(t *testing.T) {
	t.Parallel()
	re := newReportsEnv(t)
	re.seedNamed(t)
	ck := re.loginRole(app.RoleObserver)

	t.Run("a name resolves to its id in the URL", func(t *testing.T) {
		rec := re.get("/reports?config=MySQL+Dumps&q=disk", ck)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
		loc := rec.Header().Get("Location")
		u, err := url.Parse(loc)
		if err != nil || u.Path != "/reports" || u.Query().Get("config") != "301" || u.Query().Get("q") != "disk" {
			t.Fatalf("redirect to %q", loc)
		}
		page := re.get(loc, ck)
		d := doc(t, page)
		if jobs := rowJobs(page, t); strings.Join(jobs, ",") != "7014" {
			t.Errorf("rows %v; want the failed mysql dumps backup", jobs)
		}
		if got := testid(d, "filter-config").AttrOr("value", ""); got != "mysql dumps" {
			t.Errorf("the filter shows %q, not the name", got)
		}
		snip := testid(d, "report-snippet")
		if got := snip.Find("mark").Text(); !strings.EqualFold(got, "disk") {
			t.Errorf("highlight %q", got)
		}
		if got := snip.Text(); !strings.Contains(got, `<script>alert(1)</script> & "more"`) {
			t.Errorf("snippet text %q", got)
		}
		if snip.Find("script").Length() != 0 || strings.Contains(page.Body.String(), "<script>alert(1)") {
			t.Error("the error text reached the page as HTML")
		}
		if testid(d, "chart").Length() == 0 {
			t.Error("no chart for a search with results")
		}
	})
	t.Run("htmx gets the fragment and the URL to push", func(t *testing.T) {
		rec := re.do(req{path: "/reports?config=mysql+dumps", cookie: ck, headers: map[string]string{"HX-Request": "true"}})
		if rec.Code != http.StatusOK || rec.Header().Get("HX-Push-Url") != "/reports?config=301" {
			t.Fatalf("status %d, push %q", rec.Code, rec.Header().Get("HX-Push-Url"))
		}
		if n := testid(doc(t, rec), "report-row").Length(); n != 5 {
			t.Errorf("%d rows", n)
		}
	})
	t.Run("part of a name that fits one configuration resolves", func(t *testing.T) {
		rec := re.get("/reports?config=dumps", ck)
		if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/reports?config=301" {
			t.Errorf("status %d to %q", rec.Code, loc)
		}
	})
	t.Run("a name matching several says so and offers them", func(t *testing.T) {
		rec := re.get("/reports?config=mysql", ck)
		d := doc(t, rec)
		note := testid(d, "filter-note").Text()
		if rec.Code != http.StatusOK || !strings.Contains(note, "mysql config") || !strings.Contains(note, "mysql dumps (on db-01)") {
			t.Errorf("status %d, note %q", rec.Code, note)
		}
	})
	t.Run("a name matching nothing shows nothing, with words and no chart", func(t *testing.T) {
		rec := re.get("/reports?config=oracle", ck)
		d := doc(t, rec)
		if rec.Code != http.StatusOK || testid(d, "report-row").Length() != 0 || !strings.Contains(testid(d, "filter-note").Text(), "No configuration named like") {
			t.Errorf("status %d, note %q", rec.Code, testid(d, "filter-note").Text())
		}
		if testid(d, "chart").Length() != 0 {
			t.Error("a chart for nothing")
		}
	})
	t.Run("a search with no results shows no chart", func(t *testing.T) {
		d := doc(t, re.get("/reports?q=nosuchword", ck))
		if testid(d, "report-row").Length() != 0 || testid(d, "chart").Length() != 0 {
			t.Error("rows or a chart for an empty search")
		}
	})
	t.Run("the chart follows the filters", func(t *testing.T) {
		d := doc(t, re.get("/reports?config=301", ck))
		title := d.Find(`#report-results [data-testid="chart"] title`).First().Text()
		if !strings.Contains(title, "matching these filters") {
			t.Errorf("chart title %q", title)
		}
	})
	t.Run("suggestions come as options", func(t *testing.T) {
		rec := re.get("/reports/names?kind=configuration&config=SQL", ck)
		d := doc(t, rec)
		var got []string
		d.Find("option").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("value", "")+"|"+s.Text()) })
		if strings.Join(got, ",") != "mysql config|mysql config (on web-01),mysql dumps|mysql dumps (on db-01)" {
			t.Errorf("options %v", got)
		}
		if n := testid(doc(t, re.get("/reports", ck)), "filter-agent").Length(); n != 1 {
			t.Error("no agent name filter")
		}
	})
	t.Run("the export and the API take names too", func(t *testing.T) {
		rec := re.get("/reports/export.csv?config=mysql+dumps", ck)
		if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), "mysql dumps") != 5 || strings.Contains(rec.Body.String(), "web files") {
			t.Errorf("export %d:\n%s", rec.Code, rec.Body)
		}
	})
}
