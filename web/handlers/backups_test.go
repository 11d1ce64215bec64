package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// opsEnv is the real HTTP stack (temp SQLite, sessions, roles) over a
// simulator whose server counts requests and their concurrency.
type opsEnv struct {
	*testEnv
	fleet    *app.Fleet
	requests atomic.Int64
	details  atomic.Int64 // GET .../agent/{id}: agent details
	inflight atomic.Int64
	maxIn    atomic.Int64
}

// agentDetailPath matches the agent-details call.
var agentDetailPath = regexp.MustCompile(`/agent/[0-9]+$`)

// newOpsEnv builds the stack like newTestEnv, with the simulator options
// given and an API client that does not retry (so injected faults show).
func newOpsEnv(t testing.TB, opts ...rcbusim.Option) *opsEnv {
	t.Helper()
	env := &opsEnv{}
	te, deps := buildTestEnv(t, envOptions{
		sim: opts,
		wrapSim: func(sim http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				env.requests.Add(1)
				if r.Method == http.MethodGet && agentDetailPath.MatchString(r.URL.Path) {
					env.details.Add(1)
				}
				n := env.inflight.Add(1)
				defer env.inflight.Add(-1)
				for m := env.maxIn.Load(); n > m && !env.maxIn.CompareAndSwap(m, n); m = env.maxIn.Load() {
				}
				sim.ServeHTTP(w, r)
			})
		},
		connect: func(ctx context.Context, c app.Credentials) (*rcbu.Client, error) {
			return rcbuhttp.Connect(ctx, rcbu.Credentials{Username: c.Username, APIKey: c.APIKey}, rcbu.WithIdentityURL(c.IdentityURL),
				rcbu.WithAllRegions(), rcbu.WithRetry(1, 0, 0), rcbu.WithStartRetry(1, 0))
		},
	})
	env.testEnv, env.fleet = te, deps.Fleet
	return env
}

// advance moves the simulator and the console's clock together (the
// console's cache expires with its own clock).
func (te *testEnv) advance(d time.Duration) {
	te.sim.Advance(d)
	te.clock.Advance(d)
}

func (te *testEnv) htmx(method, path string, form url.Values, ck *http.Cookie) *httptest.ResponseRecorder {
	te.t.Helper()
	return te.do(req{method: method, path: path, form: form, cookie: ck, headers: map[string]string{"HX-Request": "true"}})
}

// seedAgent adds an online agent with one daily configuration.
func seedAgent(t testing.TB, te *testEnv, name, config string) (agent, cfg int64) {
	t.Helper()
	agent = te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: name, Online: true, Datacenter: "DFW", IP: "10.0.0.7", HostServerID: "host-" + name})
	cfg, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: config, Frequency: "Daily", Hour: 2, Inclusions: []string{"/var/www"}})
	if err != nil {
		t.Fatal(err)
	}
	return agent, cfg
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// pollPath is the address a live panel polls, without the version of what
// it shows.
func pollPath(panel *goquery.Selection) string {
	u, err := url.Parse(panel.AttrOr("hx-get", ""))
	if err != nil {
		return "unparsable: " + err.Error()
	}
	q := u.Query()
	if q.Get("v") == "" {
		return "no version: " + u.String()
	}
	q.Del("v")
	u.RawQuery = q.Encode()
	return u.String()
}

func (te *testEnv) auditActions(action app.AuditAction) []app.AuditEntry {
	te.t.Helper()
	p, err := te.audit.List(context.Background(), te.byRole[app.RoleAdmin], app.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		te.t.Fatal(err)
	}
	return p.Entries
}

func TestStartBackupWithoutJavaScript(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	ck := te.loginRole(app.RoleCreator)
	token := app.NewStartToken()
	rec := te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {token}, "return": {"/"}}, ck)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/backups/") {
		t.Fatalf("start: %d %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	loc := rec.Header().Get("Location")
	backups := te.sim.Backups()
	if len(backups) != 1 || loc != "/backups/"+i64(backups[0].ID) {
		t.Fatalf("sim backups %+v, redirect %q", backups, loc)
	}
	d := doc(t, te.get(loc, ck))
	if got := testid(d, "flash").Text(); !strings.Contains(got, "Backup started") {
		t.Errorf("flash %q", got)
	}
	panel := testid(d, "job-panel")
	if panel.AttrOr("hx-trigger", "") != "every 2s" || pollPath(panel) != loc+"/status" {
		t.Errorf("busy panel attributes: trigger %q get %q", panel.AttrOr("hx-trigger", ""), panel.AttrOr("hx-get", ""))
	}
	// The page's polite announcer reads the panel's state sentence when it
	// changes (app.js), not the whole panel on every poll.
	if testid(d, "announcer").AttrOr("aria-live", "") != "polite" || testid(d, "job-live").AttrOr("aria-live", "") != "" {
		t.Error("the page has no polite announcer, or the polled panel is a live region itself")
	}
	if got := panel.AttrOr("data-announce", ""); !strings.HasPrefix(got, "Backup "+i64(backups[0].ID)+": ") {
		t.Errorf("the panel announces %q", got)
	}
	if testid(d, "refresh-link").AttrOr("href", "") != loc {
		t.Error("no Refresh link for browsers without JavaScript")
	}
	if got := strings.TrimSpace(testid(d, "job-agent").Text()); got != "web-01" {
		t.Errorf("agent %q", got)
	}
	if testid(d, "stop-backup").Length() != 1 {
		t.Error("no Stop button while busy")
	}

	// The same form posted again (a double click without JavaScript, a
	// reload) starts nothing new.
	rec = te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {token}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != loc {
		t.Errorf("repeat: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	// Another page's form while it runs shows the running one.
	rec = te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != loc {
		t.Errorf("second start while running: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := testid(doc(t, te.get(loc, ck)), "flash").Text(); !strings.Contains(got, "already running") {
		t.Errorf("flash after a second start %q", got)
	}
	if n := len(te.sim.Backups()); n != 1 {
		t.Errorf("sim has %d backups, want 1", n)
	}
	entries := te.auditActions(app.ActionBackupStart)
	if len(entries) != 2 || entries[1].Outcome != app.OutcomeOK || !strings.Contains(entries[1].Target, "nightly") || entries[1].Actor != "creator@example.com" {
		t.Errorf("audit %+v", entries)
	}
}

func TestStartBackupWithHTMXReturnsLivePanel(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	ck := te.loginRole(app.RoleCreator)
	rec := te.htmx(http.MethodPost, "/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}, "compact": {"1"}}, ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
	}
	d := doc(t, rec)
	if d.Find("html").Length() == 1 && d.Find("header").Length() > 0 {
		t.Error("a full page came back, not the fragment")
	}
	panel := testid(d, "job-panel")
	id := i64(te.sim.Backups()[0].ID)
	if panel.AttrOr("data-job-id", "") != id || panel.AttrOr("hx-trigger", "") != "every 2s" || pollPath(panel) != "/backups/"+id+"/status?compact=1" {
		t.Errorf("panel %q trigger %q get %q", panel.AttrOr("data-job-id", ""), panel.AttrOr("hx-trigger", ""), panel.AttrOr("hx-get", ""))
	}
	if got := panel.AttrOr("data-announce", ""); !strings.HasPrefix(got, "Backup "+id+": ") {
		t.Errorf("the panel announces %q", got)
	}
}

// TestLiveStatusFragment is the fragment test: while the job is busy the
// panel polls itself; once it is final it comes back without the trigger,
// with the report summary and a link to the full report.
func TestLiveStatusFragment(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	ck := te.loginRole(app.RoleObserver)
	creator := te.loginRole(app.RoleCreator)
	te.sim.SetNextOutcome(cfg, rcbusim.StateCompleted)
	te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, creator)
	id := i64(te.sim.Backups()[0].ID)

	rec := te.htmx(http.MethodGet, "/backups/"+id+"/status", nil, ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	d := doc(t, rec)
	panel := testid(d, "job-panel")
	if panel.AttrOr("hx-trigger", "") != "every 2s" || panel.AttrOr("data-busy", "") != "true" {
		t.Errorf("busy fragment: trigger %q busy %q", panel.AttrOr("hx-trigger", ""), panel.AttrOr("data-busy", ""))
	}
	if testid(d, "stop-backup").Length() != 0 {
		t.Error("an observer sees Stop")
	}
	if testid(d, "job-summary").Length() != 0 {
		t.Error("a summary before the end")
	}

	te.advance(6 * time.Hour)
	d = doc(t, te.htmx(http.MethodGet, "/backups/"+id+"/status", nil, ck))
	panel = testid(d, "job-panel")
	if _, has := panel.Attr("hx-trigger"); has {
		t.Error("the final fragment still polls")
	}
	if _, has := panel.Attr("hx-get"); has {
		t.Error("the final fragment still has hx-get")
	}
	sum := testid(d, "job-summary")
	if sum.Length() != 1 || sum.AttrOr("data-ok", "") != "true" || !strings.Contains(sum.Text(), "No errors") || !strings.Contains(sum.Text(), "files backed up") {
		t.Errorf("summary %q", sum.Text())
	}
	if testid(d, "report-link").AttrOr("href", "") != "/reports/backup/"+id {
		t.Error("no link to the full report")
	}
	if got := strings.TrimSpace(testid(d, "status-badge").First().Text()); got != "Completed" {
		t.Errorf("state %q", got)
	}
	// Without htmx, the status address is the job's page.
	if rec := te.get("/backups/"+id+"/status", ck); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/backups/"+id {
		t.Errorf("status without htmx: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestStartBackupRolesAndErrors(t *testing.T) {
	te := newOpsEnv(t)
	agent, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	path := "/configurations/" + i64(cfg) + "/backups"
	if rec := te.post(path, url.Values{"token": {app.NewStartToken()}}, te.loginRole(app.RoleObserver)); rec.Code != http.StatusForbidden {
		t.Errorf("observer: %d", rec.Code)
	}
	ck := te.loginRole(app.RoleCreator)
	for _, bad := range []string{"abc", "-1", "0", "99999999999999999999", "1e3"} {
		if rec := te.post("/configurations/"+bad+"/backups", nil, ck); rec.Code != http.StatusNotFound {
			t.Errorf("id %q: %d", bad, rec.Code)
		}
	}
	if rec := te.post("/configurations/999999/backups", nil, ck); rec.Code != http.StatusNotFound {
		t.Errorf("unknown configuration: %d", rec.Code)
	}

	// An offline agent: words, inline with htmx, a flash without.
	te.sim.SetAgentOnline(agent, false)
	d := doc(t, te.htmx(http.MethodPost, path, url.Values{"token": {app.NewStartToken()}}, ck))
	if got := testid(d, "start-error").Text(); got != "The agent is offline; wake it and try again." {
		t.Errorf("htmx offline: %q", got)
	}
	if testid(d, "start-backup").Length() != 1 {
		t.Error("the Start button is gone after an error")
	}
	rec := te.post(path, url.Values{"token": {app.NewStartToken()}, "return": {"/agents/" + i64(agent)}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/agents/"+i64(agent) {
		t.Fatalf("offline without htmx: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if n := len(te.sim.Backups()); n != 0 {
		t.Errorf("started %d backups on an offline agent", n)
	}
	// A 503 when starting.
	te.sim.SetAgentOnline(agent, true)
	te.clock.Advance(time.Minute) // the cached agent status expires
	te.sim.FailNext(rcbusim.OpStartBackup, http.StatusServiceUnavailable)
	d = doc(t, te.htmx(http.MethodPost, path, url.Values{"token": {app.NewStartToken()}}, ck))
	if got := testid(d, "start-error").Text(); got != "Cloud Backup is not answering right now; try again." {
		t.Errorf("503: %q", got)
	}
	// An open redirect through "return" goes home instead.
	te.sim.FailNext(rcbusim.OpStartBackup, http.StatusServiceUnavailable)
	rec = te.post(path, url.Values{"return": {"https://evil.example/"}}, ck)
	if loc := rec.Header().Get("Location"); loc != "/" {
		t.Errorf("return to another site: %q", loc)
	}
	failed := 0
	for _, e := range te.auditActions(app.ActionBackupStart) {
		if e.Outcome == app.OutcomeFailed {
			failed++
		}
	}
	if failed < 4 {
		t.Errorf("failed starts audited: %d", failed)
	}
}

func TestStopBackup(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "nightly")
	ck := te.loginRole(app.RoleCreator)
	te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, ck)
	id := i64(te.sim.Backups()[0].ID)
	if rec := te.post("/backups/"+id+"/stop", nil, te.loginRole(app.RoleObserver)); rec.Code != http.StatusForbidden {
		t.Errorf("observer stop: %d", rec.Code)
	}
	d := doc(t, te.htmx(http.MethodPost, "/backups/"+id+"/stop", nil, ck))
	if got := strings.TrimSpace(testid(d, "status-badge").First().Text()); got != "Stopping" {
		t.Errorf("after stop: %q", got)
	}
	if got := testid(d, "job-message").Text(); got != "Asked the backup to stop." {
		t.Errorf("message %q", got)
	}
	te.advance(time.Hour)
	if st := te.sim.Backups()[0].State; st != rcbusim.StateStopped {
		t.Errorf("sim state %s", st)
	}
	// Stopping a finished backup says so, without JavaScript too.
	rec := te.post("/backups/"+id+"/stop", url.Values{"return": {"/activity"}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/activity" {
		t.Fatalf("stop finished: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := testid(doc(t, te.get("/activity", ck)), "flash").Text(); !strings.Contains(got, "already finished") {
		t.Errorf("flash %q", got)
	}
	// (The observer was refused by the route, before any action.)
	entries := te.auditActions(app.ActionBackupStop)
	if len(entries) != 2 || entries[1].Outcome != app.OutcomeOK || entries[0].Outcome != app.OutcomeFailed {
		t.Errorf("audit %+v", entries)
	}
}

func TestBackupPageChecksOwnership(t *testing.T) {
	te := newOpsEnv(t)
	ck := te.loginRole(app.RoleAdmin)
	// A backup of another tenant, started with that tenant's own client.
	theirs := te.sim.AddAgent(rcbusim.OtherTenant, rcbusim.AgentSeed{Name: "theirs", Online: true})
	cfg, err := te.sim.AddConfiguration(rcbusim.OtherTenant, rcbusim.ConfigurationSeed{AgentID: theirs, Name: "theirs", Inclusions: []string{"/x"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	other, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: rcbusim.OtherUser, APIKey: rcbusim.OtherAPIKey}, rcbu.WithIdentityURL(te.sim.IdentityURL), rcbu.WithAllRegions())
	if err != nil {
		t.Fatal(err)
	}
	b, err := other.Backups.Start(ctx, rcbu.ConfigurationID(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/backups/" + i64(int64(b.ID)), "/agents/" + i64(theirs), "/backups/x1", "/agents/%3Cscript%3E", "/agents/1.5"} {
		if rec := te.get(p, ck); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if rec := te.htmx(http.MethodGet, "/backups/"+i64(int64(b.ID))+"/status", nil, ck); rec.Code != http.StatusNotFound {
		t.Errorf("status of another tenant's backup: %d", rec.Code)
	}
	if rec := te.post("/backups/"+i64(int64(b.ID))+"/stop", nil, ck); rec.Code != http.StatusNotFound {
		t.Errorf("stop another tenant's backup: %d", rec.Code)
	}
	if rec := te.post("/configurations/"+i64(cfg)+"/backups", nil, ck); rec.Code != http.StatusNotFound {
		t.Errorf("start another tenant's configuration: %d", rec.Code)
	}
	if n := len(te.sim.Backups()); n != 1 {
		t.Errorf("sim backups %d", n)
	}
}
