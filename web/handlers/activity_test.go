package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func TestActivityPage(t *testing.T) {
	te := newOpsEnv(t)
	_, run := seedAgent(t, te.testEnv, "web-01", "runs")
	_, done := seedAgent(t, te.testEnv, "db-01", "done")
	creator := te.loginRole(app.RoleCreator)
	te.sim.SetNextOutcome(done, rcbusim.StateFailed)
	te.post("/configurations/"+i64(done)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	te.advance(6 * time.Hour)
	te.post("/configurations/"+i64(run)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	var running, finished string
	for _, b := range te.sim.Backups() {
		if b.ConfigurationID == run {
			running = i64(b.ID)
		} else {
			finished = i64(b.ID)
		}
	}

	d := doc(t, te.get("/activity", creator))
	rows := testid(d, "running-row")
	if rows.Length() != 1 || rows.AttrOr("data-job-id", "") != running {
		t.Fatalf("running rows %q", rows.Text())
	}
	if rows.Find(`form[action="/backups/`+running+`/stop"]`).Length() != 1 {
		t.Error("no Stop for the running backup")
	}
	live := testid(d, "running-jobs")
	if live.AttrOr("hx-trigger", "") != "every 2s" || live.AttrOr("hx-get", "") != "/activity/running" {
		t.Error("the running list does not refresh itself")
	}
	fin := testid(d, "activity-row")
	if fin.Length() != 1 || fin.AttrOr("data-job-id", "") != finished || strings.TrimSpace(fin.Find(`[data-testid="status-badge"]`).Text()) != "Failed" {
		t.Errorf("finished rows %q", fin.Text())
	}
	if fin.Find(`[data-testid="report-link"]`).AttrOr("href", "") != "/reports/backup/"+finished {
		t.Error("no report link")
	}
	if testid(doc(t, te.get("/activity", te.loginRole(app.RoleObserver))), "stop").Length() != 0 {
		t.Error("an observer sees Stop")
	}

	// Stop from the activity page, without JavaScript: back to the page.
	rec := te.post("/backups/"+running+"/stop", url.Values{"return": {"/activity"}}, creator)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/activity" {
		t.Fatalf("stop: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	te.advance(time.Hour)
	frag := doc(t, te.htmx(http.MethodGet, "/activity/running", nil, creator))
	if _, polls := testid(frag, "running-jobs").Attr("hx-trigger"); polls || testid(frag, "nothing-running").Length() != 1 {
		t.Error("the running list still polls with nothing running")
	}
	if e := te.auditActions(app.ActionBackupStop); len(e) != 1 || e[0].Outcome != app.OutcomeOK {
		t.Errorf("audit %+v", e)
	}
}

func TestOverviewCountsAndStartButtons(t *testing.T) {
	te := newOpsEnv(t)
	web, nightly := seedAgent(t, te.testEnv, hostile, `"nightly" <i>`)
	db, dbCfg := seedAgent(t, te.testEnv, "db-01", "db nightly")
	off := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "off-01", Online: false})
	creator := te.loginRole(app.RoleCreator)

	// db-01 fails, web-01 succeeds; three days later web-01 is overdue.
	te.sim.SetNextOutcome(dbCfg, rcbusim.StateFailed)
	te.sim.SetNextOutcome(nightly, rcbusim.StateCompleted)
	te.post("/configurations/"+i64(dbCfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	te.post("/configurations/"+i64(nightly)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	te.advance(3 * time.Hour)
	te.post("/configurations/"+i64(dbCfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	te.syncReports() // the failure is counted from the stored reports

	rec := te.get("/?live=1", creator)
	if strings.Contains(rec.Body.String(), hostile) || strings.Contains(rec.Body.String(), `"nightly" <i>`) {
		t.Fatal("API text not escaped on the overview")
	}
	d := doc(t, rec)
	counts := map[string]string{}
	for _, k := range []string{"running", "failed", "overdue", "offline"} {
		counts[k] = testid(d, "count-"+k).AttrOr("data-count", "")
	}
	// db nightly ran but never succeeded: overdue already.
	if counts["running"] != "1" || counts["failed"] != "1" || counts["offline"] != "1" || counts["overdue"] != "1" {
		t.Errorf("counts %v", counts)
	}
	row := func(d *goquery.Document, id int64) *goquery.Selection {
		return d.Find(`[data-testid="agent-row"][data-agent-id="` + i64(id) + `"]`)
	}
	if got := row(d, web).Find(`[data-testid="agent-name"]`).Text(); got != hostile {
		t.Errorf("name %q", got)
	}
	if tone := row(d, web).Find(`[data-testid="agent-age"]`).AttrOr("data-tone", ""); tone != "success" {
		t.Errorf("web-01 age tone %q", tone)
	}
	if tone := row(d, db).Find(`[data-testid="agent-age"]`).AttrOr("data-tone", ""); tone != "danger" {
		t.Errorf("db-01 (never succeeded) age tone %q", tone)
	}
	if chip := row(d, db).Find(`[data-testid="job-chip"]`); chip.Length() != 1 || !strings.HasPrefix(chip.AttrOr("href", ""), "/backups/") {
		t.Error("db-01's running backup is not in its Running cell")
	}
	if row(d, web).Find(`[data-testid="start-backup"][data-configuration-id="`+i64(nightly)+`"]`).Length() != 1 {
		t.Error("no quick Start button for a creator")
	}
	if form := row(d, web).Find(`[data-testid="start-form"]`); form.AttrOr("action", "") != "/agents/"+i64(web)+"/backups" || form.AttrOr("hx-disabled-elt", "") != "find button" {
		t.Errorf("quick start form %v", form.Nodes)
	}
	if row(d, off).Find(`[data-testid="agent-status"]`).Text() == "" {
		t.Error("no status cell")
	}

	d = doc(t, te.get("/", te.loginRole(app.RoleObserver)))
	if testid(d, "start-form").Length() != 0 {
		t.Error("an observer sees Start buttons")
	}

	// web-01 goes offline: its nightly runs are missed for three days.
	te.sim.SetAgentOnline(web, false)
	te.advance(3 * 24 * time.Hour)
	creator = te.loginRole(app.RoleCreator) // the session has idled out meanwhile
	rec = te.get("/?live=1", creator)
	if rec.Code != http.StatusOK {
		t.Fatalf("three days later: %d\n%s", rec.Code, rec.Body.String())
	}
	d = doc(t, rec)
	if got := testid(d, "count-overdue").AttrOr("data-count", ""); got == "" || got == "0" {
		t.Errorf("overdue count %q", got)
	}
	if !strings.Contains(row(d, web).Find(`[data-testid="agent-age"]`).Text(), "overdue by") {
		t.Errorf("no overdue badge: %q", row(d, web).Find(`[data-testid="agent-age"]`).Text())
	}
	if tone := row(d, web).Find(`[data-testid="agent-age"]`).AttrOr("data-tone", ""); tone != "danger" {
		t.Errorf("3-day-old daily backup tone %q", tone)
	}
}

// TestOverviewLiveStatusFragment: the page renders from the list calls
// alone and loads the live status in a second request, swapped out of band.
func TestOverviewLiveStatusFragment(t *testing.T) {
	te := newOpsEnv(t)
	on := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "on-01", Online: true})
	off := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "off-01", Online: false})
	ck := te.loginRole(app.RoleObserver)
	before := te.details.Load()
	d := doc(t, te.get("/", ck))
	loader := testid(d, "live-status-loader")
	key := te.demo.ID.String() + "-"
	if href := loader.AttrOr("hx-get", ""); !strings.HasPrefix(href, "/overview/status?agents=") || !strings.Contains(href, url.QueryEscape(key+i64(on))) ||
		!strings.Contains(href, url.QueryEscape(key+i64(off))) || loader.AttrOr("hx-trigger", "") != "load" {
		t.Fatalf("no live-status loader for the agents shown: %q", loader.AttrOr("hx-get", ""))
	}
	if !strings.Contains(te.get("/", ck).Body.String(), `href="/?live=1"`) { // inside <noscript>
		t.Error("no link to the live status without JavaScript")
	}
	// The page itself made only list calls: no agent details.
	if n := te.details.Load() - before; n != 0 {
		t.Errorf("the page made %d agent-details calls", n)
	}
	if got := testid(d, "agent-status").First().Text(); !strings.Contains(got, "Unknown") {
		t.Errorf("status before live %q", got)
	}
	rec := te.htmx(http.MethodGet, loader.AttrOr("hx-get", ""), nil, ck)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "<template>") {
		t.Fatalf("fragment %d:\n%s", rec.Code, body)
	}
	frag := doc(t, rec)
	// The cells are inside <template> (for htmx's parser): read them raw.
	if !strings.Contains(body, `id="agent-status-`+key+i64(on)+`"`) || !strings.Contains(body, `id="agent-status-`+key+i64(off)+`"`) || !strings.Contains(body, `hx-swap-oob="true"`) {
		t.Errorf("status cells missing: %s", body)
	}
	if !strings.Contains(body, "Online") || !strings.Contains(body, "Offline") {
		t.Errorf("statuses missing: %s", body)
	}
	if c := testid(frag, "count-offline"); c.AttrOr("data-count", "") != "1" || c.AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("offline count %q", c.AttrOr("data-count", ""))
	}
	// Now the details are cached: the page shows live status at once.
	d = doc(t, te.get("/", ck))
	if testid(d, "live-status-loader").Length() != 0 {
		t.Error("the warm page still loads the status separately")
	}
	if rec := te.get("/overview/status", ck); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?live=1" {
		t.Errorf("status without htmx: %d", rec.Code)
	}
}

func TestOverviewQuickStart(t *testing.T) {
	te := newOpsEnv(t)
	web, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	other, otherCfg := seedAgent(t, te.testEnv, "db-01", "db nightly")
	second, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: other, Name: "db weekly", Frequency: "Weekly", Hour: 3, Inclusions: []string{"/srv"}})
	if err != nil {
		t.Fatal(err)
	}
	ck := te.loginRole(app.RoleCreator)
	d := doc(t, te.get("/", ck))
	sel := d.Find(`[data-agent-id="` + i64(other) + `"] select[name="configuration"] option`)
	if sel.Length() != 2 {
		t.Errorf("db-01 has %d options, want a choice of 2", sel.Length())
	}
	// A configuration of another agent through this agent's form: not found.
	if rec := te.post("/agents/"+i64(web)+"/backups", url.Values{"configuration": {i64(otherCfg)}}, ck); rec.Code != http.StatusNotFound {
		t.Errorf("foreign configuration: %d", rec.Code)
	}
	if rec := te.post("/agents/"+i64(web)+"/backups", url.Values{"configuration": {"x"}}, ck); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("garbage configuration: %d", rec.Code)
	}
	if n := len(te.sim.Backups()); n != 0 {
		t.Fatalf("%d backups started by bad forms", n)
	}
	rec := te.htmx(http.MethodPost, "/agents/"+i64(other)+"/backups", url.Values{"configuration": {i64(second)}, "token": {app.NewStartToken()}}, ck)
	if rec.Code != http.StatusOK || testid(doc(t, rec), "job-panel").AttrOr("hx-trigger", "") != "every 2s" {
		t.Fatalf("quick start: %d\n%s", rec.Code, rec.Body.String())
	}
	if b := te.sim.Backups(); len(b) != 1 || b[0].ConfigurationID != second {
		t.Errorf("backups %+v", b)
	}
	// An error comes back as the same form, with the words under it.
	te.sim.SetAgentOnline(web, false)
	te.clock.Advance(time.Minute)
	d = doc(t, te.htmx(http.MethodPost, "/agents/"+i64(web)+"/backups", url.Values{"configuration": {i64(cfg)}, "token": {app.NewStartToken()}}, ck))
	if testid(d, "start-error").Text() != "The agent is offline; wake it and try again." || testid(d, "start-backup").Length() != 1 {
		t.Errorf("offline quick start:\n%s", testid(d, "start-form").Text())
	}
}
