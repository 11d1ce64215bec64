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
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

const hostile = `<script>alert(1)</script>`

func rowNames(d *goquery.Document) []string {
	var out []string
	testid(d, "agent-name").Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	return out
}

func TestAgentsSearchAndFilters(t *testing.T) {
	te := newOpsEnv(t)
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Datacenter: "DFW", IP: "10.1.1.1", HostServerID: "aaaa-1111", Online: true})
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "db-01", Datacenter: "LON", IP: "10.2.2.2", HostServerID: "bbbb-2222", Online: false})
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "old-01", Datacenter: "ORD", IP: "10.3.3.3", Disabled: true})
	ck := te.loginRole(app.RoleObserver)
	tests := []struct {
		query string
		want  string
	}{
		{"", "db-01,old-01,web-01"},
		{"?q=WEB", "web-01"},
		{"?q=10.2.2", "db-01"},
		{"?q=bbbb", "db-01"},
		{"?status=offline", "db-01"},
		{"?status=online", "web-01"},
		{"?status=disabled", "old-01"},
		{"?datacenter=lon", "db-01"},
		{"?q=01&datacenter=ORD", "old-01"},
		{"?q=nothing-like-it", ""},
	}
	for _, tt := range tests {
		t.Run("filter "+tt.query, func(t *testing.T) {
			rec := te.get("/agents"+tt.query, ck)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			d := doc(t, rec)
			if got := strings.Join(rowNames(d), ","); got != tt.want {
				t.Errorf("agents %q, want %q", got, tt.want)
			}
			if tt.want == "" && testid(d, "no-match").Length() != 1 {
				t.Error("no empty state for a search that matches nothing")
			}
		})
	}

	// Garbage filters are ignored with a note, never an error.
	d := doc(t, te.get("/agents?status=%3Cb%3E&datacenter=x%27%22y", ck))
	if n := testid(d, "filter-note").Length(); n != 2 {
		t.Errorf("%d notes for two bad filters", n)
	}
	if got := len(rowNames(d)); got != 3 {
		t.Errorf("%d agents with ignored filters", got)
	}

	// The filter form is a GET form that htmx enhances; an htmx request
	// gets only the results.
	form := testid(d, "agent-filters")
	if form.AttrOr("method", "") != "get" || form.AttrOr("hx-push-url", "") != "true" || !strings.Contains(form.AttrOr("hx-trigger", ""), "delay:") {
		t.Errorf("filter form attributes: %v", form.Nodes[0].Attr)
	}
	rec := te.htmx(http.MethodGet, "/agents?q=web", nil, ck)
	frag := doc(t, rec)
	if frag.Find("header").Length() != 0 || testid(frag, "agents-results").Length() != 1 || strings.Join(rowNames(frag), ",") != "web-01" {
		t.Errorf("htmx fragment:\n%s", rec.Body.String())
	}
}

func TestAgentsUpstreamFailureInline(t *testing.T) {
	te := newOpsEnv(t)
	ck := te.loginRole(app.RoleObserver)
	te.sim.FailNext(rcbusim.OpListAgents, http.StatusServiceUnavailable)
	rec := te.get("/agents", ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	b := testid(doc(t, rec), "error-banner")
	if !strings.Contains(b.Text(), "Cloud Backup is not answering right now; try again.") || b.Find(`[data-testid="retry"]`).Length() != 1 {
		t.Errorf("banner %q", b.Text())
	}
}

func TestAgentPage(t *testing.T) {
	te := newOpsEnv(t)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: hostile, OS: "Ubuntu", OSVersion: "22.04", Datacenter: "DFW", IP: "10.9.9.9", HostServerID: "host-9", Online: true, UseServiceNet: true})
	cfg, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: `it's "nightly" <b>`, Frequency: "Daily", Hour: 2, Inclusions: []string{`/srv/it's "quoted"`}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/agents/" + i64(agent)

	obs := te.loginRole(app.RoleObserver)
	rec := te.get(path, obs)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	if strings.Contains(body, hostile) || strings.Contains(body, `"nightly" <b>`) {
		t.Fatal("API text was not escaped")
	}
	d := doc(t, rec)
	if got := testid(d, "agent-title").Text(); got != hostile {
		t.Errorf("title %q", got)
	}
	if d.Find("title").Text() != hostile+" · RCBU Console" {
		t.Errorf("page title %q", d.Find("title").Text())
	}
	facts := map[string]string{"os": "Ubuntu 22.04", "ip": "10.9.9.9", "datacenter": "DFW", "host-server": "host-9", "servicenet": "Yes", "encryption": "Not encrypted"}
	for k, want := range facts {
		if got := testid(d, "fact-"+k).Text(); got != want {
			t.Errorf("fact %s = %q, want %q", k, got, want)
		}
	}
	rows := testid(d, "configuration-row")
	if rows.Length() != 1 || rows.AttrOr("data-configuration-id", "") != i64(cfg) || !strings.Contains(rows.Text(), `it's "nightly" <b>`) {
		t.Errorf("configurations %q", rows.Text())
	}
	if testid(d, "start-backup").Length() != 0 || testid(d, "agent-actions").Length() != 0 {
		t.Error("an observer sees Start or actions")
	}

	creator := te.loginRole(app.RoleCreator)
	d = doc(t, te.get(path, creator))
	start := testid(d, "start-form")
	if start.Length() != 1 || start.AttrOr("action", "") != "/configurations/"+i64(cfg)+"/backups" || start.Find(`input[name="token"]`).AttrOr("value", "") == "" {
		t.Errorf("start form %v", start.Nodes)
	}
	if got := testid(d, "start-backup").AttrOr("aria-label", ""); got != `Start backup: it's "nightly" <b>` {
		t.Errorf("aria-label %q", got)
	}
	if testid(d, "wake").Length() != 1 || testid(d, "disable").Length() != 1 || testid(d, "delete").Length() != 0 {
		t.Error("a creator's actions are wrong")
	}
	admin := te.loginRole(app.RoleAdmin)
	d = doc(t, te.get(path, admin))
	for _, id := range []string{"encrypt", "migrate", "delete"} {
		if testid(d, id).Length() != 1 {
			t.Errorf("admin has no %s", id)
		}
	}

	// With a backup running, the configuration row shows its live panel,
	// the active jobs list it, and after it ends the activity lists it.
	te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	d = doc(t, te.get(path, creator))
	if testid(d, "configuration-row").Find(`[data-testid="job-panel"]`).Length() != 1 {
		t.Error("the running backup is not in its configuration's row")
	}
	if testid(d, "no-jobs").Length() != 0 || d.Find(`section [data-testid="job-panel"][hx-trigger="every 2s"]`).Length() < 1 {
		t.Error("no active job panel")
	}
	te.advance(6 * time.Hour)
	d = doc(t, te.get(path, creator))
	if testid(d, "activity-row").Length() != 1 || testid(d, "activity-row").Find(`[data-testid="report-link"]`).Length() != 1 {
		t.Errorf("recent activity %q", testid(d, "activity-table").Text())
	}
}

func TestAgentPageUpstreamAndIDs(t *testing.T) {
	te := newOpsEnv(t)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true})
	ck := te.loginRole(app.RoleObserver)
	for _, p := range []string{"/agents/0", "/agents/-5", "/agents/abc", "/agents/123456789012345678901", "/agents/999999"} {
		if rec := te.get(p, ck); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	// The list works but its configurations fail: the page still shows,
	// with the reason in words.
	te.sim.FailNext(rcbusim.OpListAgentConfigurations, http.StatusServiceUnavailable)
	rec := te.get("/agents/"+i64(agent), ck)
	if rec.Code != http.StatusOK || !strings.Contains(testid(doc(t, rec), "error-banner").Text(), "not answering") {
		t.Errorf("configurations failing: %d %q", rec.Code, testid(doc(t, rec), "error-banner").Text())
	}
	// The agent list itself failing is a 502 page in words, in the layout.
	te.clock.Advance(10 * time.Second)
	te.sim.FailNext(rcbusim.OpListAgents, http.StatusServiceUnavailable)
	rec = te.get("/agents/"+i64(agent), ck)
	d := doc(t, rec)
	if rec.Code != http.StatusBadGateway || testid(d, "nav").Length() != 1 || !strings.Contains(d.Text(), "Cloud Backup is not answering right now; try again.") {
		t.Errorf("list failing: %d", rec.Code)
	}
}

func TestAgentQuickActions(t *testing.T) {
	te := newOpsEnv(t)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: false})
	path := "/agents/" + i64(agent)
	for _, a := range []string{"wake", "enable", "disable"} {
		if rec := te.post(path+"/"+a, nil, te.loginRole(app.RoleObserver)); rec.Code != http.StatusForbidden {
			t.Errorf("observer %s: %d", a, rec.Code)
		}
	}
	ck := te.loginRole(app.RoleCreator)
	rec := te.post(path+"/disable", nil, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != path {
		t.Fatalf("disable: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	d := doc(t, te.get(path, ck))
	if !strings.Contains(testid(d, "flash").Text(), "Agent disabled") || strings.TrimSpace(testid(d, "status-badge").First().Text()) != "Disabled" || testid(d, "enable").Length() != 1 {
		t.Errorf("after disable: flash %q", testid(d, "flash").Text())
	}
	te.post(path+"/enable", nil, ck)
	te.post(path+"/wake", nil, ck)
	d = doc(t, te.get(path, ck))
	if got := strings.TrimSpace(testid(d, "status-badge").First().Text()); got != "Online" {
		t.Errorf("after enable and wake: %q", got)
	}
	te.sim.FailNext(rcbusim.OpEnableAgent, http.StatusForbidden)
	te.post(path+"/disable", nil, ck)
	if got := testid(doc(t, te.get(path, ck)), "flash").Text(); got != "Nothing changed. Your Rackspace account role does not allow this." {
		t.Errorf("403 flash %q", got)
	}
	for _, a := range []app.AuditAction{app.ActionAgentDisable, app.ActionAgentEnable, app.ActionAgentWake} {
		if len(te.auditActions(a)) == 0 {
			t.Errorf("no audit entry for %s", a)
		}
	}
}

func TestAgentDangerousActions(t *testing.T) {
	te := newOpsEnv(t)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true, VaultBytes: 5 << 30})
	path := "/agents/" + i64(agent)
	for _, p := range []string{"/encrypt", "/encryption-password", "/delete", "/migrate"} {
		if rec := te.get(path+p, te.loginRole(app.RoleCreator)); rec.Code != http.StatusForbidden {
			t.Errorf("creator GET %s: %d", p, rec.Code)
		}
		if rec := te.post(path+p, nil, te.loginRole(app.RoleCreator)); rec.Code != http.StatusForbidden {
			t.Errorf("creator POST %s: %d", p, rec.Code)
		}
	}
	ck := te.loginRole(app.RoleAdmin)

	t.Run("encrypt needs the typed name and says it cannot be undone", func(t *testing.T) {
		d := doc(t, te.get(path+"/encrypt", ck))
		if !strings.Contains(testid(d, "warning").Text(), "cannot be undone") {
			t.Error("no irreversibility warning")
		}
		rec := te.post(path+"/encrypt", url.Values{"confirm_name": {"web-1"}, "passphrase": {"a long passphrase"}, "confirm": {"a long passphrase"}}, ck)
		if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "error-confirm_name").Length() != 1 {
			t.Fatalf("wrong name: %d", rec.Code)
		}
		if strings.Contains(rec.Body.String(), "a long passphrase") {
			t.Error("the passphrase was echoed back")
		}
		rec = te.post(path+"/encrypt", url.Values{"confirm_name": {"web-01"}, "passphrase": {"a long passphrase"}, "confirm": {"a long passphrase"}}, ck)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != path {
			t.Fatalf("encrypt: %d\n%s", rec.Code, rec.Body.String())
		}
		if got := testid(doc(t, te.get(path, ck)), "fact-encryption").Text(); got != "Encrypted" {
			t.Errorf("encryption %q", got)
		}
		for _, e := range te.auditActions(app.ActionAgentEncrypt) {
			if strings.Contains(e.Message+e.Target, "passphrase") && strings.Contains(e.Message, "a long") {
				t.Errorf("passphrase in the audit log: %+v", e)
			}
		}
	})
	t.Run("change the encryption password", func(t *testing.T) {
		rec := te.post(path+"/encryption-password", url.Values{"current": {"a long passphrase"}, "new": {"short"}, "confirm": {"short"}}, ck)
		if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "error-new").Length() != 1 {
			t.Fatalf("short passphrase: %d", rec.Code)
		}
		rec = te.post(path+"/encryption-password", url.Values{"current": {"a long passphrase"}, "new": {"another long one"}, "confirm": {"another long one"}}, ck)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("change: %d\n%s", rec.Code, rec.Body.String())
		}
	})
	t.Run("migrate validates the destination", func(t *testing.T) {
		other := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "new-01", Online: true})
		src := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "old-02", Online: true})
		if _, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: src, Name: "c", Inclusions: []string{"/x"}}); err != nil {
			t.Fatal(err)
		}
		te.clock.Advance(10 * time.Second)
		d := doc(t, te.get("/agents/"+i64(src)+"/migrate", ck))
		var opts []string
		d.Find(`select[name="destination"] option`).Each(func(_ int, s *goquery.Selection) { opts = append(opts, s.AttrOr("value", "")) })
		// web-01 is encrypted now: only new-01 can take the vault.
		if strings.Join(opts, ",") != ","+i64(other) {
			t.Errorf("destinations %v", opts)
		}
		rec := te.post("/agents/"+i64(src)+"/migrate", url.Values{"destination": {i64(agent)}}, ck)
		if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "error-destination").Length() != 1 {
			t.Errorf("encrypted destination: %d", rec.Code)
		}
		rec = te.post("/agents/"+i64(src)+"/migrate", url.Values{"destination": {"abc"}}, ck)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("garbage destination: %d", rec.Code)
		}
		rec = te.post("/agents/"+i64(src)+"/migrate", url.Values{"destination": {i64(other)}}, ck)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("migrate: %d\n%s", rec.Code, rec.Body.String())
		}
		cfgs, err := te.fleetClient(t).Configurations.ListForAgent(t.Context(), rcbu.AgentID(other))
		if err != nil || len(cfgs) != 1 {
			t.Errorf("destination configurations %v %v", cfgs, err)
		}
	})
	t.Run("delete needs the typed name", func(t *testing.T) {
		d := doc(t, te.get(path+"/delete", ck))
		if !strings.Contains(testid(d, "warning").Text(), "cannot be undone") || !strings.Contains(testid(d, "warning").Text(), "5 GB") {
			t.Errorf("warning %q", testid(d, "warning").Text())
		}
		rec := te.post(path+"/delete", url.Values{"confirm_name": {"WEB-01"}}, ck)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong name: %d", rec.Code)
		}
		if len(te.sim.AgentIDs(rcbusim.DemoTenant)) != 3 {
			t.Fatal("deleted with a wrong name")
		}
		rec = te.post(path+"/delete", url.Values{"confirm_name": {"web-01"}}, ck)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/agents" {
			t.Fatalf("delete: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := te.get(path, ck); rec.Code != http.StatusNotFound {
			t.Errorf("deleted agent page: %d", rec.Code)
		}
		if e := te.auditActions(app.ActionAgentDelete); len(e) != 2 || e[0].Outcome != app.OutcomeOK || e[1].Outcome != app.OutcomeFailed {
			t.Errorf("audit %+v", e)
		}
	})
}

// fleetClient is the demo account's API client.
func (te *testEnv) fleetClient(t *testing.T) *rcbu.Client {
	t.Helper()
	c, err := te.accounts.Client(t.Context(), te.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
