package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// cfgEnv is the real HTTP stack with a Fleet over a simulator holding the
// demo dataset (or what opts say), for the configuration and restore pages.
type cfgEnv struct {
	*testEnv
	fleet   *app.Fleet
	history *app.History
	client  *rcbu.Client
}

func newCfgEnv(t *testing.T, opts ...rcbusim.Option) *cfgEnv {
	t.Helper()
	te, deps := buildTestEnv(t, envOptions{
		sim:        append([]rcbusim.Option{rcbusim.WithDataset("demo")}, opts...),
		clockAtSim: true,
	})
	client, err := te.accounts.Client(context.Background(), te.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &cfgEnv{testEnv: te, fleet: deps.Fleet, history: deps.History, client: client}
}

// agentNamed returns the demo agent with that name.
func (ce *cfgEnv) agentNamed(name string) rcbu.Agent {
	ce.t.Helper()
	list, err := ce.client.Agents.List(context.Background())
	if err != nil {
		ce.t.Fatal(err)
	}
	for _, a := range list {
		if a.MachineName == name {
			return a
		}
	}
	ce.t.Fatalf("no agent %q", name)
	return rcbu.Agent{}
}

// configNamed returns the configuration with that name on agent.
func (ce *cfgEnv) configNamed(agent rcbu.AgentID, name string) (rcbu.Configuration, bool) {
	ce.t.Helper()
	list, err := ce.client.Configurations.ListForAgent(context.Background(), agent)
	if err != nil {
		ce.t.Fatal(err)
	}
	for _, c := range list {
		if c.Name == name && !c.IsDeleted {
			return c, true
		}
	}
	return rcbu.Configuration{}, false
}

func (ce *cfgEnv) configCount() int {
	return len(ce.sim.ConfigurationIDs(rcbusim.DemoTenant))
}

// auditHas reports whether the audit log has an entry of action with the
// outcome whose target contains target.
func (ce *cfgEnv) auditHas(action app.AuditAction, outcome app.Outcome, target string) bool {
	ce.t.Helper()
	page, err := ce.audit.List(context.Background(), ce.byRole[app.RoleAdmin], app.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		ce.t.Fatal(err)
	}
	return slices.ContainsFunc(page.Entries, func(e app.AuditEntry) bool {
		return e.Outcome == outcome && strings.Contains(e.Target, target)
	})
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		body := rec.Body.String()
		if len(body) > 3000 {
			body = body[:3000]
		}
		t.Fatalf("status %d, want %d; Location %q\n%s", rec.Code, want, rec.Header().Get("Location"), body)
	}
}

// dailyForm is a valid create form for agent.
func dailyForm(agent rcbu.AgentID, name string) url.Values {
	return url.Values{
		"name": {name}, "agent": {strconv.FormatInt(int64(agent), 10)}, "enabled": {"true"},
		"retention": {"30"}, "missed_action": {"1"}, "notify_emails": {"ops@example.com"}, "notify_failure": {"true"},
		"frequency": {"Daily"}, "hour_interval": {"6"}, "start_time": {"02:30"}, "weekday": {"0"}, "time_zone": {"Eastern Standard Time"},
		"inclusion_path": {"/srv/data", ""}, "inclusion_type": {"Folder", "Folder"},
		"exclusion_path": {"/srv/data/tmp"}, "exclusion_type": {"Folder"},
	}
}

func TestConfigurationsList(t *testing.T) {
	ce := newCfgEnv(t)
	obs := ce.loginRole(app.RoleObserver)

	t.Run("all configurations, observer sees no create", func(t *testing.T) {
		rec := ce.get("/configurations", obs)
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if n := testid(d, "configuration-row").Length(); n != ce.configCount() {
			t.Errorf("rows = %d, want %d", n, ce.configCount())
		}
		if testid(d, "new-configuration").Length() != 0 {
			t.Error("observer sees New configuration")
		}
		row := d.Find(`[data-testid="configuration-row"]:contains("db etc")`)
		if !strings.Contains(row.Text(), "Every day at 23:30 Central Standard Time") || !strings.Contains(row.Text(), "30 days") {
			t.Errorf("db etc row: %q", row.Text())
		}
	})
	t.Run("search and filters", func(t *testing.T) {
		rec := ce.get("/configurations?q=MYSQL", obs)
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		rows := testid(d, "configuration-row")
		if rows.Length() != 2 || !strings.Contains(rows.Text(), "mysql dumps") || !strings.Contains(rows.Text(), "db full") {
			t.Errorf("q=MYSQL rows: %q", rows.Text())
		}
		d = doc(t, ce.get("/configurations?frequency=Weekly&enabled=yes", obs))
		testid(d, "configuration-row").Each(func(_ int, s *goquery.Selection) {
			if !strings.Contains(s.Text(), "Every ") || strings.Contains(s.Text(), "Every day") {
				t.Errorf("weekly filter let through %q", s.Text())
			}
		})
		if v, _ := testid(d, "filter-frequency").Find("option[selected]").Attr("value"); v != "Weekly" {
			t.Errorf("frequency filter not kept: %q", v)
		}
	})
	t.Run("garbage filters are ignored with a note", func(t *testing.T) {
		rec := ce.get("/configurations?agent=abc&enabled=maybe&frequency=Monthly", obs)
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if n := testid(d, "filter-note").Length(); n != 3 {
			t.Errorf("notes = %d, want 3: %q", n, testid(d, "filter-note").Text())
		}
		if testid(d, "configuration-row").Length() != ce.configCount() {
			t.Error("ignored filters still filtered")
		}
		d = doc(t, ce.get("/configurations?agent=99999999", obs))
		if !strings.Contains(testid(d, "filter-note").Text(), "does not match an agent") {
			t.Errorf("unknown agent note: %q", testid(d, "filter-note").Text())
		}
	})
	t.Run("htmx gets the results fragment", func(t *testing.T) {
		rec := ce.do(req{path: "/configurations?q=nightly", cookie: obs, headers: map[string]string{"HX-Request": "true"}})
		wantStatus(t, rec, http.StatusOK)
		if strings.Contains(rec.Body.String(), "<html") || !strings.Contains(rec.Body.String(), `id="config-results"`) {
			t.Errorf("not a fragment: %.300s", rec.Body.String())
		}
	})
	t.Run("sort headers are links that keep the filters", func(t *testing.T) {
		d := doc(t, ce.get("/configurations?sort=name&frequency=Daily", obs))
		var names []string
		testid(d, "configuration-name").Each(func(_ int, s *goquery.Selection) { names = append(names, strings.ToLower(s.Text())) })
		if len(names) < 2 || !slices.IsSorted(names) {
			t.Errorf("not sorted by name: %v", names)
		}
		th := d.Find(`th[aria-sort="ascending"]`)
		if th.Text() != "Name" {
			t.Errorf("sorted column %q", th.Text())
		}
		if href := d.Find(`a[data-testid="sort-link"]:contains("Next run")`).AttrOr("href", ""); href != "/configurations?frequency=Daily&sort=next" {
			t.Errorf("next-run link %q", href)
		}
		d = doc(t, ce.get("/configurations?sort=size", obs))
		if !strings.Contains(testid(d, "filter-note").Text(), "sorted by agent") {
			t.Errorf("note %q", testid(d, "filter-note").Text())
		}
	})
	t.Run("nothing matches", func(t *testing.T) {
		d := doc(t, ce.get("/configurations?q=no-such-thing", obs))
		if !strings.Contains(testid(d, "no-configurations").Text(), "No configuration matches") {
			t.Errorf("empty text: %q", testid(d, "no-configurations").Text())
		}
	})
}

func TestConfigurationsListEmptyAgent(t *testing.T) {
	ce := newCfgEnv(t)
	id := ce.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "fresh-01", Online: true})
	creator := ce.loginRole(app.RoleCreator)

	// The activity failing leaves the list usable, with a banner saying why
	// the last runs are missing.
	ce.sim.FailNext(rcbusim.OpListActivity, http.StatusForbidden)
	rec := ce.get("/configurations", creator)
	wantStatus(t, rec, http.StatusOK)
	d := doc(t, rec)
	if !strings.Contains(testid(d, "error-banner").Text(), "Their last runs are unknown") || testid(d, "configuration-row").Length() == 0 {
		t.Errorf("activity failure: banner %q", testid(d, "error-banner").Text())
	}

	rec = ce.get("/configurations?agent="+strconv.FormatInt(id, 10), creator)
	wantStatus(t, rec, http.StatusOK)
	d = doc(t, rec)
	empty := testid(d, "no-configurations")
	if !strings.Contains(empty.Text(), "No configurations on this agent yet.") {
		t.Errorf("empty state: %q", empty.Text())
	}
	if href, _ := testid(d, "empty-action").Attr("href"); href != "/configurations/new?agent="+strconv.FormatInt(id, 10) {
		t.Errorf("create link = %q", href)
	}
	if !strings.Contains(d.Find("h1").Text(), "fresh-01") {
		t.Errorf("heading %q does not name the agent", d.Find("h1").Text())
	}
}

func TestConfigurationDetail(t *testing.T) {
	ce := newCfgEnv(t)
	db1 := ce.agentNamed("db-dfw-01")
	cfg, ok := ce.configNamed(db1.ID, "db etc")
	if !ok {
		t.Fatal("no db etc")
	}
	path := "/configurations/" + strconv.FormatInt(int64(cfg.ID), 10)

	t.Run("observer reads, without controls", func(t *testing.T) {
		rec := ce.get(path, ce.loginRole(app.RoleObserver))
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if got := testid(d, "configuration-title").Text(); got != "db etc" {
			t.Errorf("title %q", got)
		}
		details := testid(d, "config-details").Text()
		for _, want := range []string{"Every day at 23:30 Central Standard Time", "30 days", "Notify as soon as possible", "On failure to ops@example.com", "Not encrypted"} {
			if !strings.Contains(details, want) {
				t.Errorf("details lack %q: %q", want, details)
			}
		}
		if !strings.Contains(testid(d, "inclusions").Text(), "/etc") {
			t.Errorf("inclusions: %q", testid(d, "inclusions").Text())
		}
		if testid(d, "run-row").Length() == 0 {
			t.Error("no runs from the 60 days of history")
		}
		for _, id := range []string{"edit", "clone", "disable", "enable", "delete", "start-slot", "restore"} {
			if testid(d, id).Length() != 0 {
				t.Errorf("observer sees %q", id)
			}
		}
		if testid(d, "export").Length() != 1 || testid(d, "charts-slot").Length() != 1 {
			t.Error("export link or charts slot missing")
		}
	})
	t.Run("creator and admin controls", func(t *testing.T) {
		d := doc(t, ce.get(path, ce.loginRole(app.RoleCreator)))
		if f := testid(d, "start-form"); f.Length() != 1 || f.AttrOr("action", "") != path+"/backups" {
			t.Error("creator has no Start button posting to the backups route")
		}
		if testid(d, "edit").Length() != 1 || testid(d, "clone").Length() != 1 || testid(d, "disable").Length() != 1 || testid(d, "delete").Length() != 0 {
			t.Error("creator controls wrong")
		}
		d = doc(t, ce.get(path, ce.loginRole(app.RoleAdmin)))
		if testid(d, "delete").Length() != 1 {
			t.Error("admin has no delete")
		}
	})
	t.Run("garbage and foreign ids are 404", func(t *testing.T) {
		obs := ce.loginRole(app.RoleObserver)
		for _, p := range []string{"/configurations/abc", "/configurations/-3", "/configurations/0", "/configurations/99999999"} {
			if rec := ce.get(p, obs); rec.Code != http.StatusNotFound {
				t.Errorf("%s: status %d", p, rec.Code)
			}
		}
	})
	t.Run("runs that fail to load leave the page usable", func(t *testing.T) {
		ce.sim.FailNext(rcbusim.OpListCompletedBackups, http.StatusForbidden)
		rec := ce.get(path, ce.loginRole(app.RoleObserver))
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if !strings.Contains(testid(d, "error-banner").Text(), "Your Rackspace account role does not allow this") {
			t.Errorf("banner: %q", testid(d, "error-banner").Text())
		}
		if testid(d, "config-details").Length() != 1 {
			t.Error("details gone")
		}
	})
}

func TestCreateConfiguration(t *testing.T) {
	ce := newCfgEnv(t)
	web := ce.agentNamed("web-dfw-01")
	creator := ce.loginRole(app.RoleCreator)

	t.Run("form", func(t *testing.T) {
		rec := ce.get("/configurations/new?agent="+strconv.FormatInt(int64(web.ID), 10), creator)
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if v, _ := d.Find(`select[name="agent"] option[selected]`).Attr("value"); v != strconv.FormatInt(int64(web.ID), 10) {
			t.Errorf("agent not preselected: %q", v)
		}
		if d.Find(`select[name="time_zone"] option`).Length() != len(rcbu.TimeZones()) {
			t.Error("time zones are not rcbu.TimeZones()")
		}
		ed := testid(d, "schedule-editor")
		if ed.AttrOr("hx-get", "") != "/configurations/schedule-preview" || ed.AttrOr("hx-include", "") != "closest form" {
			t.Error("schedule editor is not wired to the preview")
		}
		if !strings.Contains(testid(d, "schedule-words").Text(), "Every day at 02:00 UTC") {
			t.Errorf("preview: %q", testid(d, "schedule-preview").Text())
		}
	})
	t.Run("validation errors: 422, messages by the fields, nothing created", func(t *testing.T) {
		before := ce.configCount()
		f := dailyForm(web.ID, "")
		f.Set("start_time", "25:99")
		f.Set("notify_emails", "not-an-address")
		f["exclusion_path"] = []string{"/elsewhere/tmp"}
		rec := ce.post("/configurations", f, creator)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		d := doc(t, rec)
		for _, field := range []string{"name", "start_time", "notify_emails", "exclusions-0"} {
			msg := testid(d, "error-"+field)
			if msg.Length() != 1 || msg.Text() == "" {
				t.Errorf("no message for %s", field)
			}
		}
		if in := d.Find(`input[name="start_time"]`); in.AttrOr("value", "") != "25:99" || in.AttrOr("aria-describedby", "") == "" {
			t.Error("input not kept or not described by its error")
		}
		if testid(d, "error-summary").Find(`a[href="#field-name"]`).Length() != 1 {
			t.Error("summary does not link to the name field")
		}
		if ce.configCount() != before {
			t.Error("something was created")
		}
		if !ce.auditHas(app.ActionConfigurationCreate, app.OutcomeFailed, "") {
			t.Error("failed create not audited")
		}
	})
	t.Run("created, redirected, listed, audited", func(t *testing.T) {
		before := ce.configCount()
		rec := ce.post("/configurations", dailyForm(web.ID, "srv nightly"), creator)
		wantStatus(t, rec, http.StatusSeeOther)
		cfg, ok := ce.configNamed(web.ID, "srv nightly")
		if !ok || ce.configCount() != before+1 {
			t.Fatal("not created")
		}
		if loc := rec.Header().Get("Location"); loc != "/configurations/"+strconv.FormatInt(int64(cfg.ID), 10) {
			t.Errorf("Location %q", loc)
		}
		s, err := cfg.Schedule()
		if err != nil || s.String() != "Every day at 02:30 Eastern Standard Time" || len(cfg.Exclusions) != 1 {
			t.Errorf("created %v (%v), exclusions %v", s, err, cfg.Exclusions)
		}
		d := doc(t, ce.get("/configurations", creator))
		if d.Find(`[data-testid="configuration-name"]:contains("srv nightly")`).Length() != 1 {
			t.Error("new configuration not in the list right after the change")
		}
		if !ce.auditHas(app.ActionConfigurationCreate, app.OutcomeOK, "srv nightly") {
			t.Error("create not audited")
		}
	})
	t.Run("duplicate name is a message on the name field", func(t *testing.T) {
		rec := ce.post("/configurations", dailyForm(web.ID, "srv nightly"), creator)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if !strings.Contains(testid(doc(t, rec), "error-name").Text(), "already exists") {
			t.Errorf("name error: %q", testid(doc(t, rec), "error-name").Text())
		}
	})
	t.Run("agent outside the account", func(t *testing.T) {
		rec := ce.post("/configurations", dailyForm(99999999, "x"), creator)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if testid(doc(t, rec), "error-agent").Length() != 1 {
			t.Error("no agent error")
		}
	})
	t.Run("upstream failure in words, input kept", func(t *testing.T) {
		ce.sim.FailNext(rcbusim.OpCreateConfiguration, http.StatusServiceUnavailable)
		rec := ce.post("/configurations", dailyForm(web.ID, "will fail"), creator)
		wantStatus(t, rec, http.StatusBadGateway)
		d := doc(t, rec)
		if !strings.Contains(testid(d, "error-summary").Text(), "Cloud Backup is not answering right now") {
			t.Errorf("summary: %q", testid(d, "error-summary").Text())
		}
		if d.Find(`input[name="name"]`).AttrOr("value", "") != "will fail" {
			t.Error("input lost")
		}
	})
	t.Run("add a path without JavaScript saves nothing", func(t *testing.T) {
		before := ce.configCount()
		f := dailyForm(web.ID, "rows")
		f.Set("add_row", "inclusion")
		rec := ce.post("/configurations", f, creator)
		wantStatus(t, rec, http.StatusOK)
		rows := testid(doc(t, rec), "inclusion-rows").Find(`input[name="inclusion_path"]`)
		if rows.Length() != 3 || rows.First().AttrOr("value", "") != "/srv/data" {
			t.Errorf("rows = %d", rows.Length())
		}
		if ce.configCount() != before {
			t.Error("add row created something")
		}
	})
	t.Run("observer may not", func(t *testing.T) {
		obs := ce.loginRole(app.RoleObserver)
		if rec := ce.post("/configurations", dailyForm(web.ID, "obs"), obs); rec.Code != http.StatusForbidden {
			t.Errorf("POST status %d", rec.Code)
		}
		if rec := ce.get("/configurations/new", obs); rec.Code != http.StatusForbidden {
			t.Errorf("GET new status %d", rec.Code)
		}
	})
}

func TestSchedulePreviewAndPathRow(t *testing.T) {
	ce := newCfgEnv(t)
	ck := ce.loginRole(app.RoleCreator)
	q := url.Values{"frequency": {"Weekly"}, "weekday": {"2"}, "start_time": {"02:30"}, "time_zone": {"Eastern Standard Time"}, "name": {"ignored"}}
	rec := ce.do(req{path: "/configurations/schedule-preview?" + q.Encode(), cookie: ck, headers: map[string]string{"HX-Request": "true"}})
	wantStatus(t, rec, http.StatusOK)
	d := doc(t, rec)
	if got := testid(d, "schedule-words").Text(); got != "Every Tuesday at 02:30 Eastern Standard Time" {
		t.Errorf("words %q", got)
	}
	if testid(d, "schedule-preview").AttrOr("id", "") != "schedule-preview" || d.Find("time[datetime]").Length() != 1 {
		t.Error("preview lacks its id or the next run")
	}
	q.Set("frequency", "Hourly")
	q.Set("hour_interval", "30")
	d = doc(t, ce.get("/configurations/schedule-preview?"+q.Encode(), ck))
	if !strings.Contains(testid(d, "schedule-problem").Text(), "1 to 23") {
		t.Errorf("problem %q", testid(d, "schedule-problem").Text())
	}

	rec = ce.get("/configurations/path-row?list=exclusion&index=3", ck)
	wantStatus(t, rec, http.StatusOK)
	d = doc(t, rec)
	if d.Find(`input[name="exclusion_path"]`).Length() != 1 {
		t.Error("no row")
	}
	btn := d.Find("#add-exclusion")
	if btn.AttrOr("hx-swap-oob", "") != "true" || !strings.Contains(btn.AttrOr("hx-get", ""), "index=4") {
		t.Errorf("button not advanced out of band: %v", btn.Nodes)
	}
	if rec := ce.get("/configurations/path-row?list=bogus", ck); rec.Code != http.StatusNotFound {
		t.Errorf("bogus list: %d", rec.Code)
	}
}

func TestEditConfiguration(t *testing.T) {
	ce := newCfgEnv(t)
	app1 := ce.agentNamed("app-ord-01")
	cfg, _ := ce.configNamed(app1.ID, "app data")
	id := strconv.FormatInt(int64(cfg.ID), 10)
	creator := ce.loginRole(app.RoleCreator)

	d := doc(t, ce.get("/configurations/"+id+"/edit", creator))
	form := testid(d, "config-form")
	if form.AttrOr("action", "") != "/configurations/"+id || d.Find(`input[name="name"]`).AttrOr("value", "") != "app data" {
		t.Fatal("form not filled")
	}
	if !strings.Contains(testid(d, "agent-fixed").Text(), "app-ord-01") || d.Find(`select[name="agent"]`).Length() != 0 {
		t.Error("agent should be shown, not editable")
	}
	f := url.Values{}
	form.Find("input, select").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		switch {
		case name == "" || name == "add_row":
		case s.Is("select"):
			f.Add(name, s.Find("option[selected]").AttrOr("value", s.Find("option").First().AttrOr("value", "")))
		case s.AttrOr("type", "") == "checkbox" || s.AttrOr("type", "") == "radio":
			if _, on := s.Attr("checked"); on {
				f.Add(name, s.AttrOr("value", ""))
			}
		default:
			f.Add(name, s.AttrOr("value", ""))
		}
	})
	f.Set("name", "app data v2")
	f.Set("frequency", "Weekly")
	f.Set("weekday", "5")
	rec := ce.post("/configurations/"+id, f, creator)
	wantStatus(t, rec, http.StatusSeeOther)
	got, err := ce.client.Configurations.Get(context.Background(), cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := got.Schedule()
	if got.Name != "app data v2" || s.String() != "Every Friday at 03:00 Central Standard Time" {
		t.Errorf("updated to %q, %v", got.Name, s)
	}
	if !ce.auditHas(app.ActionConfigurationUpdate, app.OutcomeOK, "app data v2") {
		t.Error("update not audited")
	}

	f.Set("hour_interval", "0")
	f.Set("frequency", "Hourly")
	rec = ce.post("/configurations/"+id, f, creator)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if testid(doc(t, rec), "error-hour_interval").Length() != 1 {
		t.Error("no hour interval error")
	}
	if rec := ce.post("/configurations/"+id, f, ce.loginRole(app.RoleObserver)); rec.Code != http.StatusForbidden {
		t.Errorf("observer update: %d", rec.Code)
	}
}

func TestEnableDisableDeleteConfiguration(t *testing.T) {
	ce := newCfgEnv(t)
	mail := ce.agentNamed("mail-iad-01")
	cfg, _ := ce.configNamed(mail.ID, "mail spool")
	id := strconv.FormatInt(int64(cfg.ID), 10)
	creator, admin := ce.loginRole(app.RoleCreator), ce.loginRole(app.RoleAdmin)

	rec := ce.post("/configurations/"+id+"/disable", nil, creator)
	wantStatus(t, rec, http.StatusSeeOther)
	got, _ := ce.client.Configurations.Get(context.Background(), cfg.ID)
	if got.IsActive {
		t.Error("still active")
	}
	d := doc(t, ce.get("/configurations/"+id, creator))
	if !strings.Contains(testid(d, "flash").Text(), "Disabled mail spool") || testid(d, "enable").Length() != 1 {
		t.Errorf("after disable: flash %q", testid(d, "flash").Text())
	}
	wantStatus(t, ce.post("/configurations/"+id+"/enable", nil, creator), http.StatusSeeOther)
	got, _ = ce.client.Configurations.Get(context.Background(), cfg.ID)
	if !got.IsActive || !ce.auditHas(app.ActionConfigurationEnable, app.OutcomeOK, "mail spool") || !ce.auditHas(app.ActionConfigurationDisable, app.OutcomeOK, "mail spool") {
		t.Error("enable not applied or not audited")
	}

	ce.sim.FailNext(rcbusim.OpEnableConfiguration, http.StatusForbidden)
	wantStatus(t, ce.post("/configurations/"+id+"/disable", nil, creator), http.StatusSeeOther)
	d = doc(t, ce.get("/configurations/"+id, creator))
	if !strings.Contains(testid(d, "flash").Text(), "Your Rackspace account role does not allow this") {
		t.Errorf("403 flash: %q", testid(d, "flash").Text())
	}
	if !ce.auditHas(app.ActionConfigurationDisable, app.OutcomeFailed, "mail spool") {
		t.Error("failure not audited")
	}

	if rec := ce.get("/configurations/"+id+"/delete", creator); rec.Code != http.StatusForbidden {
		t.Errorf("creator delete page: %d", rec.Code)
	}
	if rec := ce.post("/configurations/"+id+"/delete", nil, creator); rec.Code != http.StatusForbidden {
		t.Errorf("creator delete: %d", rec.Code)
	}
	d = doc(t, ce.get("/configurations/"+id+"/delete", admin))
	if c := testid(d, "confirm-delete-configuration"); !strings.Contains(c.Text(), "cannot be undone") || !strings.Contains(c.Text(), "mail-iad-01") {
		t.Errorf("confirmation: %q", c.Text())
	}
	rec = ce.post("/configurations/"+id+"/delete", nil, admin)
	wantStatus(t, rec, http.StatusSeeOther)
	if _, ok := ce.configNamed(mail.ID, "mail spool"); ok {
		t.Error("not deleted")
	}
	if rec := ce.get("/configurations/"+id, admin); rec.Code != http.StatusNotFound {
		t.Errorf("deleted configuration page: %d", rec.Code)
	}
	if !ce.auditHas(app.ActionConfigurationDelete, app.OutcomeOK, "mail spool") {
		t.Error("delete not audited")
	}
}

func TestCloneExportImport(t *testing.T) {
	ce := newCfgEnv(t)
	web1, web2, app1 := ce.agentNamed("web-dfw-01"), ce.agentNamed("web-lon-01"), ce.agentNamed("app-ord-01")
	cfg, _ := ce.configNamed(web1.ID, "www nightly")
	id := strconv.FormatInt(int64(cfg.ID), 10)
	creator := ce.loginRole(app.RoleCreator)

	t.Run("clone to another agent", func(t *testing.T) {
		d := doc(t, ce.get("/configurations/"+id+"/clone", creator))
		if d.Find(`input[name="name"]`).AttrOr("value", "") != "www nightly (copy)" {
			t.Error("default name")
		}
		rec := ce.post("/configurations/"+id+"/clone", url.Values{"agent": {strconv.FormatInt(int64(web2.ID), 10)}, "name": {"www from dfw"}}, creator)
		wantStatus(t, rec, http.StatusSeeOther)
		c, ok := ce.configNamed(web2.ID, "www from dfw")
		if !ok {
			t.Fatal("clone not created")
		}
		s1, _ := cfg.Schedule()
		s2, _ := c.Schedule()
		if s1 != s2 || len(c.Inclusions) != len(cfg.Inclusions) {
			t.Errorf("clone differs: %v vs %v", s1, s2)
		}
		rec = ce.post("/configurations/"+id+"/clone", url.Values{"agent": {""}, "name": {""}}, creator)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		if testid(doc(t, rec), "error-agent").Length() != 1 {
			t.Error("no agent error")
		}
		if !ce.auditHas(app.ActionConfigurationClone, app.OutcomeOK, "www from dfw") {
			t.Error("clone not audited")
		}
	})
	t.Run("export then import round trip", func(t *testing.T) {
		rec := ce.get("/configurations/"+id+"/export.json", ce.loginRole(app.RoleObserver))
		wantStatus(t, rec, http.StatusOK)
		if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".json") {
			t.Errorf("Content-Disposition %q", cd)
		}
		exported := rec.Body.Bytes()
		var m map[string]any
		if err := json.Unmarshal(exported, &m); err != nil || m["BackupConfigurationName"] != "www nightly" {
			t.Fatalf("export: %v %v", err, m)
		}
		// Upload the file (multipart) into another agent.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("agent", strconv.FormatInt(int64(app1.ID), 10))
		fw, _ := mw.CreateFormFile("file", "configuration.json")
		_, _ = fw.Write(exported)
		_ = mw.Close()
		hr := httptest.NewRequest(http.MethodPost, "/configurations/import", &body)
		hr.Header.Set("Content-Type", mw.FormDataContentType())
		hr.AddCookie(creator)
		rr := httptest.NewRecorder()
		ce.e.ServeHTTP(rr, hr)
		wantStatus(t, rr, http.StatusSeeOther)
		imp, ok := ce.configNamed(app1.ID, "www nightly")
		if !ok {
			t.Fatal("import not created")
		}
		a, _ := cfg.Request()
		b, _ := imp.Request()
		a.AgentID, a.ScheduleID, b.ScheduleID = b.AgentID, 0, 0
		if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
			t.Errorf("round trip differs:\n%s\n%s", ja, jb)
		}
		if !ce.auditHas(app.ActionConfigurationImport, app.OutcomeOK, "www nightly") {
			t.Error("import not audited")
		}
	})
	t.Run("bad JSON is 422 and creates nothing", func(t *testing.T) {
		before := ce.configCount()
		for _, bad := range []string{`{"BackupConfigurationName": "x",`, `[1,2,3]`, ``} {
			rec := ce.post("/configurations/import", url.Values{"agent": {strconv.FormatInt(int64(web2.ID), 10)}, "json": {bad}}, creator)
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			if testid(doc(t, rec), "error-json").Length() != 1 {
				t.Errorf("%q: no json error", bad)
			}
		}
		if ce.configCount() != before {
			t.Error("bad JSON created something")
		}
	})
	t.Run("JSON that breaks a rule opens the form for review", func(t *testing.T) {
		before := ce.configCount()
		js := `{"BackupConfigurationName":"from paste","Frequency":"Hourly","HourInterval":40,"TimeZoneId":"UTC","VersionRetention":30,"MissedBackupActionId":1,"Inclusions":[{"FilePath":"/srv","FileItemType":"Folder"}]}`
		rec := ce.post("/configurations/import", url.Values{"agent": {strconv.FormatInt(int64(web2.ID), 10)}, "json": {js}}, creator)
		wantStatus(t, rec, http.StatusUnprocessableEntity)
		d := doc(t, rec)
		if testid(d, "error-hour_interval").Length() != 1 || d.Find(`input[name="name"]`).AttrOr("value", "") != "from paste" || testid(d, "form-intro").Length() != 1 {
			t.Error("review form not shown with the problem")
		}
		if ce.configCount() != before {
			t.Error("created before review")
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfigurationHostileData(t *testing.T) {
	ce := newCfgEnv(t)
	agent := ce.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "<script>alert(1)</script>", Online: true})
	cid, err := ce.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
		AgentID: agent, Name: `"><img src=x onerror=alert(2)>`, Frequency: "Daily", Hour: 1, Minute: 0, AmPm: "AM",
		Inclusions: []string{`/srv/"quoted" dir/<script>alert(3)</script>`},
	})
	if err != nil {
		t.Fatal(err)
	}
	obs := ce.loginRole(app.RoleObserver)
	for _, p := range []string{"/configurations", "/configurations/" + strconv.FormatInt(cid, 10), "/configurations?agent=" + strconv.FormatInt(agent, 10)} {
		rec := ce.get(p, obs)
		wantStatus(t, rec, http.StatusOK)
		body := rec.Body.String()
		for _, raw := range []string{"<script>alert(1)</script>", "<img src=x", "<script>alert(3)"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: unescaped %q", p, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: agent name not shown escaped", p)
		}
	}
	d := doc(t, ce.get("/configurations/"+strconv.FormatInt(cid, 10), obs))
	if !strings.Contains(testid(d, "inclusions").Text(), `/srv/"quoted" dir/<script>alert(3)</script>`) {
		t.Errorf("path text: %q", testid(d, "inclusions").Text())
	}
}

func TestForeignIDsAreNotFound(t *testing.T) {
	ce := newCfgEnv(t)
	agent := ce.sim.AddAgent(rcbusim.OtherTenant, rcbusim.AgentSeed{Name: "theirs-01", Online: true})
	cid, err := ce.sim.AddConfiguration(rcbusim.OtherTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "theirs", Frequency: "Manually", Inclusions: []string{"/x"}})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(cid, 10)
	admin := ce.loginRole(app.RoleAdmin)
	for _, p := range []string{"/configurations/" + id, "/configurations/" + id + "/edit", "/configurations/" + id + "/clone", "/configurations/" + id + "/delete", "/configurations/" + id + "/export.json"} {
		if rec := ce.get(p, admin); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, rec.Code)
		}
	}
	for _, p := range []string{"/configurations/" + id + "/disable", "/configurations/" + id + "/delete", "/configurations/" + id} {
		if rec := ce.post(p, dailyForm(1, "x"), admin); rec.Code != http.StatusNotFound {
			t.Errorf("POST %s: %d", p, rec.Code)
		}
	}
	if ids := ce.sim.ConfigurationIDs(rcbusim.OtherTenant); !slices.Contains(ids, cid) {
		t.Error("the other tenant's configuration was deleted")
	}
	rec := ce.post("/configurations", dailyForm(rcbu.AgentID(agent), "sneaky"), admin)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if testid(doc(t, rec), "error-agent").Length() != 1 {
		t.Error("foreign agent accepted")
	}
	rec = ce.get("/restores/new/destination?configuration="+id+"&backup=1", admin)
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	if testid(doc(t, rec), "error-configuration").Length() != 1 {
		t.Error("foreign configuration accepted by the wizard")
	}
}
