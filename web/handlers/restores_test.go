package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

func id64[T ~int64](id T) string { return strconv.FormatInt(int64(id), 10) }

// newestBackup returns the newest restorable backup of a configuration.
func (ce *cfgEnv) newestBackup(cfg rcbu.ConfigurationID) rcbu.CompletedBackup {
	ce.t.Helper()
	list, err := ce.client.Backups.ListCompleted(context.Background(), cfg)
	if err != nil || len(list) == 0 {
		ce.t.Fatalf("no restorable backup of %d: %v", cfg, err)
	}
	slices.SortFunc(list, func(a, b rcbu.CompletedBackup) int { return b.CompletedTime.Compare(a.CompletedTime.Time) })
	return list[0]
}

func restoreIDFrom(t *testing.T, loc string) rcbu.RestoreID {
	t.Helper()
	s, ok := strings.CutPrefix(loc, "/restores/")
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil {
		t.Fatalf("Location %q is not a restore page", loc)
	}
	return rcbu.RestoreID(n)
}

func TestRestoreWizardToAnotherAgent(t *testing.T) {
	ce := newCfgEnv(t)
	web1, web2 := ce.agentNamed("web-dfw-01"), ce.agentNamed("web-dfw-02")
	cfg, _ := ce.configNamed(web1.ID, "www nightly")
	newest := ce.newestBackup(cfg.ID)
	creator := ce.loginRole(app.RoleCreator)

	// Step 1: the configuration, then its backups newest first.
	d := doc(t, ce.get("/restores/new", creator))
	if d.Find(`[data-testid="source-option"]:contains("www nightly")`).Length() == 0 {
		t.Fatal("www nightly is not offered")
	}
	rec := ce.get("/restores/new?configuration="+id64(cfg.ID), creator)
	wantStatus(t, rec, http.StatusOK)
	d = doc(t, rec)
	first := testid(d, "backup-option").First()
	if v := first.Find(`input[name="backup"]`).AttrOr("value", ""); v != id64(newest.ID) {
		t.Errorf("first backup %s, want the newest %d", v, newest.ID)
	}
	if !strings.Contains(first.Text(), templates.Bytes(newest.BytesSearched.Bytes)) {
		t.Errorf("size missing: %q", first.Text())
	}

	// Step 2: destination (default: the backed-up server), any agent of the account.
	q := url.Values{"configuration": {id64(cfg.ID)}, "backup": {id64(newest.ID)}}
	d = doc(t, ce.get("/restores/new/destination?"+q.Encode(), creator))
	if v := d.Find(`select[name="destination"] option[selected]`).AttrOr("value", ""); v != id64(web1.ID) {
		t.Errorf("default destination %s, want the source %d", v, web1.ID)
	}
	if d.Find(`select[name="destination"] option:contains("web-lon-01 (LON)")`).Length() != 1 {
		t.Error("agents of other datacenters are not offered")
	}
	if testid(d, "wizard-back").AttrOr("href", "") != "/restores/new?"+q.Encode() {
		t.Errorf("back link %q", testid(d, "wizard-back").AttrOr("href", ""))
	}
	q.Set("destination", id64(web2.ID))
	q.Set("path_mode", "other")
	q.Set("path", `/srv/restore "today"`)
	q.Set("overwrite", "true")

	// Step 3: files; step 4: review.
	d = doc(t, ce.get("/restores/new/files?"+q.Encode(), creator))
	if d.Find(`input[type="hidden"][name="path"]`).AttrOr("value", "") != `/srv/restore "today"` {
		t.Error("destination not carried to the files step")
	}
	q.Set("include", "/var/www/\n/etc/nginx/nginx.conf")
	rec = ce.get("/restores/new/review?"+q.Encode(), creator)
	wantStatus(t, rec, http.StatusOK)
	d = doc(t, rec)
	sum := testid(d, "restore-summary").Text()
	for _, want := range []string{"www nightly on web-dfw-01", "web-dfw-02 (DFW)", `/srv/restore "today"`, "Overwritten", "/var/www/, /etc/nginx/nginx.conf"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q: %q", want, sum)
		}
	}
	if testid(d, "overwrite-warning").Length() != 1 || d.Find(`input[name="passphrase"]`).Length() != 0 {
		t.Error("overwrite warning missing or a passphrase asked for an unencrypted vault")
	}

	token := d.Find(`form[data-testid="restore-review"] input[name="token"]`).AttrOr("value", "")
	if len(token) != 32 {
		t.Fatalf("review form token %q", token)
	}
	q.Set("token", token)

	// Start without confirming the overwrite: 422, nothing created.
	before := len(ce.sim.Restores())
	rec = ce.post("/restores", q, creator)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if testid(doc(t, rec), "error-confirm_overwrite").Length() != 1 {
		t.Error("no confirmation error")
	}
	if len(ce.sim.Restores()) != before {
		t.Fatal("a restore was created without confirmation")
	}

	// Confirm and start.
	q.Set("confirm_overwrite", "true")
	rec = ce.post("/restores", q, creator)
	wantStatus(t, rec, http.StatusSeeOther)
	rid := restoreIDFrom(t, rec.Header().Get("Location"))
	// The same form posted again (a double click, a reload) starts nothing new.
	again := ce.post("/restores", q, creator)
	wantStatus(t, again, http.StatusSeeOther)
	if again.Header().Get("Location") != rec.Header().Get("Location") || len(ce.sim.Restores()) != before+1 {
		t.Errorf("second post: Location %q, %d restores created", again.Header().Get("Location"), len(ce.sim.Restores())-before)
	}
	got, err := ce.client.Restores.Get(context.Background(), rid)
	if err != nil {
		t.Fatal(err)
	}
	if got.DestinationAgentID != web2.ID || got.DestinationPath != `/srv/restore "today"` || !got.OverwriteFiles || got.BackupID != newest.ID {
		t.Errorf("restore %+v", got)
	}
	files, err := ce.client.Restores.Files(context.Background(), rid)
	if err != nil || len(files) != 2 || files[0].FileItemType != rcbu.RestoreItemFolder || files[0].FilePath != "/var/www" {
		t.Errorf("files %+v (%v)", files, err)
	}

	// Live panel: polling while busy; after the clock moves, the report.
	page := "/restores/" + id64(rid)
	d = doc(t, ce.get(page, creator))
	panel := testid(d, "job-panel")
	if panel.AttrOr("data-kind", "") != "restore" || panel.AttrOr("hx-trigger", "") != "every 2s" || pollPath(panel) != page+"/status" || testid(d, "stop-restore").Length() != 1 {
		t.Errorf("busy panel: kind %q trigger %q poll %q", panel.AttrOr("data-kind", ""), panel.AttrOr("hx-trigger", ""), pollPath(panel))
	}
	// The page repeats what was asked: paths, destination, overwrite.
	asked := testid(d, "restore-request")
	if got := asked.Find(`[data-testid="request-paths"] code`).Map(func(_ int, s *goquery.Selection) string { return s.Text() }); !slices.Equal(got, []string{"/var/www/", "/etc/nginx/nginx.conf"}) {
		t.Errorf("asked paths %q", got)
	}
	if got := asked.Find(`[data-testid="request-destination"]`).Text(); !strings.Contains(got, "web-dfw-02") || !strings.Contains(got, `/srv/restore "today"`) {
		t.Errorf("asked destination %q", got)
	}
	if got := asked.Find(`[data-testid="request-overwrite"]`).Text(); !strings.Contains(got, "Overwritten") {
		t.Errorf("asked overwrite %q", got)
	}
	if !strings.Contains(testid(d, "flash").Text(), "Restore started") {
		t.Errorf("flash %q", testid(d, "flash").Text())
	}
	ce.sim.Advance(6 * time.Hour)
	rec = ce.do(req{path: page + "/status", cookie: creator, headers: map[string]string{"HX-Request": "true"}})
	wantStatus(t, rec, http.StatusOK)
	d = doc(t, rec)
	panel = testid(d, "job-panel")
	if _, polling := panel.Attr("hx-trigger"); polling || strings.Contains(rec.Body.String(), "<html") {
		t.Error("final panel still polls, or is not a fragment")
	}
	if testid(d, "job-summary").Length() != 1 || !strings.Contains(testid(d, "restore-destination").Text(), "web-dfw-02") ||
		!strings.Contains(testid(d, "report-files").Text(), "file") || testid(d, "report-bytes").Text() == "" {
		t.Errorf("report: %q", testid(d, "job-summary").Text())
	}
	if testid(d, "stop-restore").Length() != 0 {
		t.Error("stop offered on a finished restore")
	}
	if rec.Header().Get("HX-Trigger") != "" {
		t.Error("a poll without a version announced a change of what runs")
	}
	// Run again goes to the review step with the same request.
	runAgain, err := url.Parse(testid(d, "run-again").AttrOr("href", ""))
	if err != nil || runAgain.Path != "/restores/new/review" || runAgain.Query().Get("include") != "/var/www/\n/etc/nginx/nginx.conf" ||
		runAgain.Query().Get("destination") != id64(web2.ID) || runAgain.Query().Get("overwrite") != "true" {
		t.Errorf("run again %q (%v)", testid(d, "run-again").AttrOr("href", ""), err)
	}
	// The restore's report repeats the request too.
	d = doc(t, ce.get("/reports/restore/"+id64(rid), creator))
	if got := testid(d, "restore-request").Find("code").Length(); got != 2 {
		t.Errorf("the report repeats %d asked paths, want 2", got)
	}
	if !ce.auditHas(app.ActionRestoreStart, app.OutcomeOK, "web-dfw-02") {
		t.Error("restore start not audited")
	}
}

func TestRestoreWizardBadInput(t *testing.T) {
	ce := newCfgEnv(t)
	web1 := ce.agentNamed("web-dfw-01")
	cfg, _ := ce.configNamed(web1.ID, "www nightly")
	newest := ce.newestBackup(cfg.ID)
	creator := ce.loginRole(app.RoleCreator)

	tests := []struct {
		name, path, field string
		status            int
	}{
		{"garbage configuration reads as none", "/restores/new?configuration=abc", "", http.StatusOK},
		{"unknown configuration", "/restores/new/destination?configuration=99999999&backup=1", "configuration", http.StatusUnprocessableEntity},
		{"backup of another configuration", "/restores/new/destination?configuration=" + id64(cfg.ID) + "&backup=1", "backup", http.StatusUnprocessableEntity},
		{"no destination", "/restores/new/files?configuration=" + id64(cfg.ID) + "&backup=" + id64(newest.ID), "destination", http.StatusUnprocessableEntity},
		{"relative folder", "/restores/new/files?configuration=" + id64(cfg.ID) + "&backup=" + id64(newest.ID) + "&destination=" + id64(web1.ID) + "&path_mode=other&path=srv", "path", http.StatusUnprocessableEntity},
		{"relative include", "/restores/new/review?configuration=" + id64(cfg.ID) + "&backup=" + id64(newest.ID) + "&destination=" + id64(web1.ID) + "&include=var/www", "include", http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ce.get(tt.path, creator)
			wantStatus(t, rec, tt.status)
			if tt.field != "" && testid(doc(t, rec), "error-"+tt.field).Length() != 1 {
				t.Errorf("no message for %s", tt.field)
			}
		})
	}
	for _, p := range []string{"/restores/abc", "/restores/0", "/restores/99999999", "/restores/99999999/status"} {
		if rec := ce.get(p, creator); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
}

func TestRestoreRolesStopAndErrors(t *testing.T) {
	ce := newCfgEnv(t)
	web1, build := ce.agentNamed("web-dfw-01"), ce.agentNamed("build-iad-01")
	cfg, _ := ce.configNamed(web1.ID, "www nightly")
	newest := ce.newestBackup(cfg.ID)
	creator, obs := ce.loginRole(app.RoleCreator), ce.loginRole(app.RoleObserver)
	plan := url.Values{"configuration": {id64(cfg.ID)}, "backup": {id64(newest.ID)}, "destination": {id64(web1.ID)}}

	t.Run("observer may not use the wizard", func(t *testing.T) {
		if rec := ce.get("/restores/new", obs); rec.Code != http.StatusForbidden {
			t.Errorf("GET: %d", rec.Code)
		}
		if rec := ce.post("/restores", plan, obs); rec.Code != http.StatusForbidden {
			t.Errorf("POST: %d", rec.Code)
		}
	})
	t.Run("offline destination in words", func(t *testing.T) {
		p := url.Values{}
		for k, v := range plan {
			p[k] = v
		}
		p.Set("destination", id64(build.ID))
		before := len(ce.sim.Restores())
		rec := ce.post("/restores", p, creator)
		wantStatus(t, rec, http.StatusBadGateway)
		if !strings.Contains(testid(doc(t, rec), "error-summary").Text(), "The agent is offline; wake it and try again") {
			t.Errorf("summary: %q", testid(doc(t, rec), "error-summary").Text())
		}
		if len(ce.sim.Restores()) != before {
			t.Error("created a restore to an offline agent")
		}
		if !ce.auditHas(app.ActionRestoreStart, app.OutcomeFailed, "build-iad-01") {
			t.Error("failure not audited")
		}
	})
	t.Run("API rejection in words", func(t *testing.T) {
		ce.sim.FailNext(rcbusim.OpCreateRestore, http.StatusBadRequest)
		rec := ce.post("/restores", plan, creator)
		wantStatus(t, rec, http.StatusBadGateway)
		if !strings.Contains(testid(doc(t, rec), "error-summary").Text(), "Cloud Backup rejected the request") {
			t.Errorf("summary: %q", testid(doc(t, rec), "error-summary").Text())
		}
	})
	t.Run("observer watches, creator stops", func(t *testing.T) {
		rec := ce.post("/restores", plan, creator)
		wantStatus(t, rec, http.StatusSeeOther)
		rid := restoreIDFrom(t, rec.Header().Get("Location"))
		page := "/restores/" + id64(rid)
		d := doc(t, ce.get(page, obs))
		if testid(d, "job-panel").Length() != 1 || testid(d, "stop-restore").Length() != 0 {
			t.Error("observer: panel missing or stop offered")
		}
		if rec := ce.post(page+"/stop", nil, obs); rec.Code != http.StatusForbidden {
			t.Errorf("observer stop: %d", rec.Code)
		}
		rec = ce.do(req{method: http.MethodPost, path: page + "/stop", form: url.Values{}, cookie: creator, headers: map[string]string{"HX-Request": "true"}})
		wantStatus(t, rec, http.StatusOK)
		if !strings.Contains(testid(doc(t, rec), "job-panel").Text(), "Stopping") {
			t.Errorf("panel after stop: %q", testid(doc(t, rec), "job-panel").Text())
		}
		ce.sim.Advance(time.Minute)
		got, _ := ce.client.Restores.Get(context.Background(), rid)
		if got.State != rcbu.RestoreStopped {
			t.Errorf("state %v", got.State)
		}
		if !ce.auditHas(app.ActionRestoreStop, app.OutcomeOK, "restore "+id64(rid)) {
			t.Error("stop not audited")
		}
		// Stopping again: nothing to stop, said in a flash.
		wantStatus(t, ce.post(page+"/stop", nil, creator), http.StatusSeeOther)
		if !strings.Contains(testid(doc(t, ce.get(page, creator)), "flash").Text(), "not running") {
			t.Error("no flash for a second stop")
		}
	})
}

func TestRestoreEncryptedVault(t *testing.T) {
	ce := newCfgEnv(t)
	sql := ce.agentNamed("sql-ord-01")
	cfg, _ := ce.configNamed(sql.ID, "sql backups")
	newest := ce.newestBackup(cfg.ID)
	creator := ce.loginRole(app.RoleCreator)
	plan := url.Values{"configuration": {id64(cfg.ID)}, "backup": {id64(newest.ID)}, "destination": {id64(sql.ID)}, "path_mode": {"other"}, "path": {`E:\Restore`}}

	d := doc(t, ce.get("/restores/new/review?"+plan.Encode(), creator))
	if d.Find(`input[name="passphrase"][type="password"]`).Length() != 1 {
		t.Fatal("no passphrase field for an encrypted vault")
	}
	before := len(ce.sim.Restores())
	rec := ce.post("/restores", plan, creator)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if testid(doc(t, rec), "error-passphrase").Length() != 1 || len(ce.sim.Restores()) != before {
		t.Error("missing passphrase not refused before creating")
	}
	plan.Set("passphrase", "correct horse battery staple")
	rec = ce.post("/restores", plan, creator)
	wantStatus(t, rec, http.StatusSeeOther)
	if strings.Contains(rec.Header().Get("Location"), "horse") {
		t.Error("passphrase in the redirect")
	}
	page, err := ce.audit.List(context.Background(), ce.byRole[app.RoleAdmin], app.AuditFilter{Action: app.ActionRestoreStart, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		if strings.Contains(e.Target+e.Message, "horse") {
			t.Error("passphrase in the audit log")
		}
	}
}

func TestConfigurationChartsAndRestoreSnapshot(t *testing.T) {
	ce := newCfgEnv(t)
	history := ce.history
	web1 := ce.agentNamed("web-dfw-01")
	cfg, _ := ce.configNamed(web1.ID, "www nightly")
	creator := ce.loginRole(app.RoleCreator)

	d := doc(t, ce.get("/configurations/"+id64(cfg.ID)+"?days=90", creator))
	charts := testid(d, "charts-slot").Find(`[data-testid="run-charts"]`)
	if charts.Length() != 1 {
		t.Fatal("no run charts in the configuration page's slot")
	}
	if cur := charts.Find(`a[aria-current="true"]`).Text(); cur != "Last 90 days" {
		t.Errorf("current range %q", cur)
	}

	newest := ce.newestBackup(cfg.ID)
	plan := url.Values{"configuration": {id64(cfg.ID)}, "backup": {id64(newest.ID)}, "destination": {id64(web1.ID)}}
	rec := ce.post("/restores", plan, creator)
	wantStatus(t, rec, http.StatusSeeOther)
	rid := restoreIDFrom(t, rec.Header().Get("Location"))
	ce.sim.Advance(6 * time.Hour)
	wantStatus(t, ce.get("/restores/"+id64(rid)+"/status", creator), http.StatusOK)
	if _, err := history.Get(context.Background(), []app.AccountID{ce.demo.ID}, app.KindRestore, int64(rid)); err != nil {
		t.Errorf("finished restore not snapshotted: %v", err)
	}
}
