package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// seedRuns stores n successful backups of a configuration, each taking d
// and moving size bytes, an hour apart before the clock.
func seedRuns(t *testing.T, te *testEnv, cfg int64, n int, d time.Duration, size int64) {
	t.Helper()
	now := te.clock.Now()
	var rs []app.Report
	for i := range n {
		fin := now.Add(-time.Duration(i+1) * time.Hour)
		rs = append(rs, app.Report{AccountID: te.demo.ID, Kind: app.KindBackup, JobID: int64(900 + i), AgentID: 1, ConfigID: rcbu.ConfigurationID(cfg),
			State: "Completed", CanRestore: true, Started: fin.Add(-d), Finished: fin, Duration: d, BytesBackedUp: size, Raw: []byte(`{}`), Fetched: now})
	}
	if _, err := te.store.InsertReports(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

// TestJobPanelStates walks one backup's live panel from the start to Run
// again: the timeline, the estimate with and without history, polls that
// change nothing answered 204, the end announced to the Running indicators.
func TestJobPanelStates(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	_, fresh := seedAgent(t, te.testEnv, "web-02", "never ran")
	creator := te.loginRole(app.RoleCreator)
	seedRuns(t, te.testEnv, cfg, 5, 10*time.Minute, 3<<30)

	start := func(cfg int64) *goquery.Selection {
		t.Helper()
		rec := te.htmx(http.MethodPost, "/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
		if rec.Code != http.StatusOK {
			t.Fatalf("start: %d\n%s", rec.Code, rec.Body.String())
		}
		return testid(doc(t, rec), "job-panel")
	}

	t.Run("no history: no estimate, in words", func(t *testing.T) {
		panel := start(fresh)
		if got := panel.Find(`[data-testid="job-no-estimate"]`).Text(); !strings.Contains(got, "No estimate yet") {
			t.Errorf("no-estimate note %q", got)
		}
		if panel.Find(`[data-testid="job-progress"]`).Length() != 0 {
			t.Error("a progress bar without history")
		}
	})

	t.Run("with history: an estimate bar labelled as such", func(t *testing.T) {
		panel := start(cfg)
		est := panel.Find(`[data-testid="job-estimate"]`)
		if !strings.Contains(est.Text(), "Estimate: usually about 10 min, 3 GB (the median of the last 5 runs)") {
			t.Errorf("estimate %q", est.Text())
		}
		if v := est.Find(`[data-testid="job-progress"]`).AttrOr("value", ""); v != "0" {
			t.Errorf("progress at the start %q", v)
		}
		steps := panel.Find(`[data-testid="job-step"]`)
		if steps.Length() != 5 || steps.First().AttrOr("data-status", "") != "current" || steps.Last().AttrOr("data-status", "") != "next" {
			t.Errorf("timeline %d steps, first %q last %q", steps.Length(), steps.First().AttrOr("data-status", ""), steps.Last().AttrOr("data-status", ""))
		}
		if strings.TrimSpace(steps.First().Find(".step-label").Text()) != "Requested" || steps.First().Find("time").Length() != 1 {
			t.Errorf("first step %q", steps.First().Text())
		}

		// A poll that would show the same panel changes nothing. (The
		// first poll may add what the start's answer could not know yet,
		// such as the state the agent is in now.)
		poll := panel.AttrOr("hx-get", "")
		if rec := te.htmx(http.MethodGet, poll, nil, creator); rec.Code == http.StatusOK {
			poll = testid(doc(t, rec), "job-panel").AttrOr("hx-get", "")
		}
		if rec := te.htmx(http.MethodGet, poll, nil, creator); rec.Code != http.StatusNoContent {
			t.Errorf("unchanged poll: %d, want 204", rec.Code)
		}
		// Five minutes in, the bar has moved.
		te.clock.Advance(5 * time.Minute)
		rec := te.htmx(http.MethodGet, poll, nil, creator)
		if rec.Code != http.StatusOK {
			t.Fatalf("poll after 5 min: %d", rec.Code)
		}
		d := doc(t, rec)
		if v := testid(d, "job-progress").AttrOr("value", ""); v != "50" {
			t.Errorf("progress after 5 of 10 min %q", v)
		}
		if got := testid(d, "job-elapsed").Text(); !strings.Contains(got, "5 min elapsed") {
			t.Errorf("elapsed %q", got)
		}
		poll = testid(d, "job-panel").AttrOr("hx-get", "")

		// The end: the summary, the final state in words, Run again, and
		// the Running indicators told.
		te.advance(6 * time.Hour)
		rec = te.htmx(http.MethodGet, poll, nil, creator)
		if rec.Code != http.StatusOK || rec.Header().Get("HX-Trigger") != "running-changed" {
			t.Fatalf("final poll: %d, HX-Trigger %q", rec.Code, rec.Header().Get("HX-Trigger"))
		}
		d = doc(t, rec)
		if _, polls := testid(d, "job-panel").Attr("hx-get"); polls {
			t.Error("the final panel still polls")
		}
		if testid(d, "job-estimate").Length() != 0 {
			t.Error("an estimate on a finished job")
		}
		if got := testid(d, "job-final").Text(); got != "The backup completed." {
			t.Errorf("final words %q", got)
		}
		last := testid(d, "job-step").Last()
		if last.AttrOr("data-status", "") != "success" || strings.TrimSpace(last.Find(".step-label").Text()) != "Completed" {
			t.Errorf("final step %q %q", last.AttrOr("data-status", ""), last.Text())
		}
		again := testid(d, "start-form")
		if again.AttrOr("data-configuration-id", "") != i64(cfg) || strings.TrimSpace(again.Find("button").Text()) != "Run again" {
			t.Errorf("Run again form %q for configuration %q", again.Find("button").Text(), again.AttrOr("data-configuration-id", ""))
		}
	})

	t.Run("stopped: the state in words, Run again", func(t *testing.T) {
		te.sim.SetNextOutcome(cfg, rcbusim.StateCompleted)
		panel := start(cfg)
		id := panel.AttrOr("data-job-id", "")
		te.htmx(http.MethodPost, "/backups/"+id+"/stop", nil, creator)
		te.advance(time.Hour)
		d := doc(t, te.get("/backups/"+id, creator))
		if got := testid(d, "job-final").Text(); got != "The backup was stopped." {
			t.Errorf("final words %q", got)
		}
		if got := testid(d, "job-reason").Text(); got != "Stopped by a user" {
			t.Errorf("reason %q", got)
		}
		if b := testid(d, "status-badge").First(); strings.TrimSpace(b.Text()) != "Stopped" {
			t.Errorf("badge %q", b.Text())
		}
		// The full page's Run again posts without htmx, to the new job's page.
		if f := testid(d, "start-form"); f.Length() != 1 || f.AttrOr("hx-post", "") != "" || f.AttrOr("action", "") != "/configurations/"+i64(cfg)+"/backups" {
			t.Errorf("Run again on the page: %d forms, hx-post %q", f.Length(), f.AttrOr("hx-post", ""))
		}
		// The breadcrumb names the configuration.
		if got := d.Find("nav.breadcrumb a").Last().Text(); got != "nightly" {
			t.Errorf("breadcrumb %q", got)
		}
	})

	t.Run("an observer watches without Stop or Run again", func(t *testing.T) {
		panel := start(fresh)
		id := panel.AttrOr("data-job-id", "")
		obs := te.loginRole(app.RoleObserver)
		d := doc(t, te.get("/backups/"+id, obs))
		if testid(d, "stop-backup").Length() != 0 {
			t.Error("Stop for an observer")
		}
		te.advance(6 * time.Hour)
		d = doc(t, te.get("/backups/"+id, obs))
		if testid(d, "start-form").Length() != 0 {
			t.Error("Run again for an observer")
		}
		if testid(d, "job-summary").Length() != 1 {
			t.Error("no summary")
		}
	})
}

func TestJobTimelineNeverRan(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	steps := jobTimeline(nil, "Missed", time.Time{}, now.Add(-time.Hour), now, time.UTC)
	var got []string
	for _, s := range steps {
		got = append(got, s.Label+":"+s.Status)
	}
	want := "Requested:skipped Queued:skipped Preparing:skipped In progress:skipped Missed:danger"
	if strings.Join(got, " ") != want {
		t.Errorf("timeline %q, want %q", strings.Join(got, " "), want)
	}
	if steps[4].Time.IsZero() {
		t.Error("the end has no time")
	}
	if jobTimeline(nil, "SomethingNew", time.Time{}, time.Time{}, now, time.UTC) != nil {
		t.Error("a timeline for a state the console does not know")
	}
}

func TestEstimateView(t *testing.T) {
	e := app.Estimate{Runs: 3, Duration: 4 * time.Minute}
	v, none := estimateView(e, app.KindBackup, 6*time.Minute)
	if none != "" || v == nil || !v.Over || v.Percent != 95 || !strings.HasPrefix(v.Label, "taking longer than usual") {
		t.Errorf("overdue estimate %+v %q", v, none)
	}
	v, _ = estimateView(e, app.KindBackup, -1)
	if v.Percent != -1 {
		t.Errorf("unknown start: %+v", v)
	}
	if v, none := estimateView(app.Estimate{}, app.KindRestore, time.Minute); v != nil || !strings.Contains(none, "no earlier restore") {
		t.Errorf("no history: %+v %q", v, none)
	}
}
