package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/notify"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// alertsTestEnv is the real HTTP stack with the alerts service, the report
// history and its sync, over a temp SQLite file and a simulator.
type alertsTestEnv struct {
	*testEnv
	alerts  *app.Alerts
	history *app.History
	syncer  *app.Syncer
}

func newAlertsTestEnv(t *testing.T, simOpts ...rcbusim.Option) *alertsTestEnv {
	t.Helper()
	env := &alertsTestEnv{}
	te, deps := buildTestEnv(t, envOptions{sim: simOpts, fleetTTL: time.Nanosecond})
	env.testEnv, env.history, env.syncer, env.alerts = te, deps.History, deps.Syncer, deps.Alerts
	return env
}

// hookReceiver records the webhook requests it gets.
type hookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.sigs = append(h.sigs, r.Header.Get(notify.HeaderSignature))
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

const testHookSecret = "the receiver's shared secret"

// addWebhook posts the new-channel form and returns the channel's id.
func (te *alertsTestEnv) addWebhook(t *testing.T, admin *http.Cookie, name, target string, rules ...app.RuleKind) string {
	t.Helper()
	form := url.Values{"name": {name}, "kind": {"webhook"}, "enabled": {"true"}, "url": {target}, "secret": {testHookSecret}}
	for _, r := range rules {
		form.Add("rules", string(r))
	}
	rec := te.post("/alerts/channels", form, admin)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("add channel: status %d\n%s", rec.Code, rec.Body.String())
	}
	d := doc(t, te.get("/alerts/channels", admin))
	var id string
	testid(d, "channel-row").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Find("th").Text(), name) {
			id = s.AttrOr("data-channel-id", "")
		}
	})
	if id == "" {
		t.Fatalf("channel %q not listed", name)
	}
	return id
}

func TestAlertRoutesEnforceTheirRoles(t *testing.T) {
	te := newAlertsTestEnv(t)
	roles := []app.Role{app.RoleNone, app.RoleObserver, app.RoleCreator, app.RoleAdmin}
	seen := 0
	for _, pol := range te.routes.list() {
		if !strings.HasPrefix(pol.Path, "/alerts") {
			continue
		}
		seen++
		for _, role := range roles {
			t.Run(pol.Method+" "+pol.Path+" as "+role.String(), func(t *testing.T) {
				r := req{method: pol.Method, path: concretePath(pol.Path)}
				if pol.Method == http.MethodPost {
					r.form = url.Values{}
				}
				if role != app.RoleNone {
					r.cookie = te.loginRole(role)
				}
				rec := te.do(r)
				switch {
				case role == app.RoleNone:
					if !redirectsToLogin(rec) {
						t.Errorf("anonymous: status %d", rec.Code)
					}
				case !role.Allows(pol.Min):
					if rec.Code != http.StatusForbidden {
						t.Errorf("status %d, want 403", rec.Code)
					}
				default:
					if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized || rec.Code >= 500 {
						t.Errorf("status %d with enough role\n%s", rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
	if seen != 19 {
		t.Errorf("%d alert routes, want 19", seen)
	}
}

func TestChannelPages(t *testing.T) {
	te := newAlertsTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	rcv := newHookReceiver(t)

	t.Run("bad input re-renders the form with messages and saves nothing", func(t *testing.T) {
		rec := te.post("/alerts/channels", url.Values{"name": {"Ops"}, "kind": {"webhook"}, "url": {"ftp://nope"}, "secret": {"short"}}, admin)
		d := wantFieldErrors(t, rec, "url", "secret")
		if v := d.Find(`input[name="name"]`).AttrOr("value", ""); v != "Ops" {
			t.Errorf("the input was not kept: %q", v)
		}
		if v := d.Find(`input[name="secret"]`).AttrOr("value", ""); v != "" {
			t.Error("the secret was echoed back")
		}
		if testid(doc(t, te.get("/alerts/channels", admin)), "channel-row").Length() != 0 {
			t.Error("a channel was saved")
		}
	})
	id := te.addWebhook(t, admin, "Ops hook", rcv.srv.URL+"/in", app.RuleBackupFailed, app.RuleOverdue)
	t.Run("the list and the edit form never show the secret", func(t *testing.T) {
		for _, p := range []string{"/alerts/channels", "/alerts/channels/" + id + "/edit"} {
			body := te.get(p, admin).Body.String()
			if strings.Contains(body, testHookSecret) {
				t.Errorf("%s shows the secret", p)
			}
		}
		d := doc(t, te.get("/alerts/channels/"+id+"/edit", admin))
		if !d.Find(`input[name="rules"][value="overdue"]`).Is("[checked]") || d.Find(`input[name="rules"][value="growth"]`).Is("[checked]") {
			t.Error("the routing is not shown")
		}
	})
	t.Run("send test delivers, flashes and shows in the delivery log", func(t *testing.T) {
		rec := te.post("/alerts/channels/"+id+"/test", nil, admin)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
		if rcv.count() != 1 {
			t.Fatalf("%d requests", rcv.count())
		}
		d := doc(t, te.get("/alerts/channels", admin))
		if !strings.Contains(testid(d, "flash").Text(), "delivered (200)") {
			t.Errorf("flash %q", testid(d, "flash").Text())
		}
		creator := te.loginRole(app.RoleCreator)
		d = doc(t, te.get("/alerts/channels/"+id+"/deliveries", creator))
		rows := testid(d, "delivery-row")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "Sent") || strings.TrimSpace(testid(d, "delivery-code").Text()) != "200" {
			t.Errorf("delivery log: %q", rows.Text())
		}
		if rec := te.get("/alerts/channels/"+id+"/deliveries", te.loginRole(app.RoleObserver)); rec.Code != http.StatusForbidden {
			t.Errorf("observer: status %d", rec.Code)
		}
		d = doc(t, te.get("/alerts", creator))
		if testid(d, "delivery-logs").Find(`a[href="/alerts/channels/`+id+`/deliveries"]`).Length() != 1 {
			t.Error("the incidents page does not link the delivery log for creators")
		}
	})
	t.Run("edit keeps the secret and a duplicate name is refused", func(t *testing.T) {
		te.addWebhook(t, admin, "Second", rcv.srv.URL)
		form := url.Values{"name": {"Second"}, "kind": {"webhook"}, "enabled": {"true"}, "url": {rcv.srv.URL + "/in"}}
		rec := te.post("/alerts/channels/"+id, form, admin)
		if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "error-name").Length() != 1 {
			t.Errorf("duplicate name: status %d", rec.Code)
		}
		form.Set("name", "Ops renamed")
		if rec := te.post("/alerts/channels/"+id, form, admin); rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		te.post("/alerts/channels/"+id+"/test", nil, admin)
		rcv.mu.Lock()
		last, sig := rcv.bodies[len(rcv.bodies)-1], rcv.sigs[len(rcv.sigs)-1]
		rcv.mu.Unlock()
		if !notify.VerifyWebhook([]byte(testHookSecret), last, sig) {
			t.Error("after an edit with an empty secret, the stored secret no longer signs")
		}
	})
	t.Run("unknown and malformed ids are 404", func(t *testing.T) {
		for _, p := range []string{"/alerts/channels/999/edit", "/alerts/channels/abc/edit", "/alerts/channels/-1/deliveries"} {
			if rec := te.get(p, admin); rec.Code != http.StatusNotFound {
				t.Errorf("%s: status %d", p, rec.Code)
			}
		}
		if rec := te.post("/alerts/channels/999/test", nil, admin); rec.Code != http.StatusNotFound {
			t.Errorf("test of an unknown channel: status %d", rec.Code)
		}
	})
	t.Run("removing asks first, then goes", func(t *testing.T) {
		if rec := te.get("/alerts/channels/"+id+"/delete", admin); rec.Code != http.StatusOK || testid(doc(t, rec), "confirm-delete").Length() != 1 {
			t.Fatalf("confirm page: status %d", rec.Code)
		}
		if rec := te.post("/alerts/channels/"+id+"/delete", nil, admin); rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
		if rec := te.get("/alerts/channels/"+id+"/deliveries", admin); rec.Code != http.StatusNotFound {
			t.Errorf("the log of a removed channel: status %d", rec.Code)
		}
		p, err := te.audit.List(t.Context(), te.byRole[app.RoleAdmin], app.AuditFilter{Action: app.ActionChannelDelete})
		if err != nil || len(p.Entries) != 1 {
			t.Errorf("audit: %+v, %v", p.Entries, err)
		}
	})
}

func TestAlertSettingsPage(t *testing.T) {
	te := newAlertsTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true})
	cfgID, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "nightly", Frequency: "Daily", Hour: 2, AmPm: "AM"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := strconv.FormatInt(cfgID, 10)
	d := doc(t, te.get("/alerts/settings", admin))
	if v := d.Find(`input[name="offline_hours"]`).AttrOr("value", ""); v != "24" {
		t.Errorf("offline hours %q", v)
	}
	row := testid(d, "grace-row")
	if row.Length() != 1 || !strings.Contains(row.Text(), "nightly") || !strings.Contains(row.Text(), "6 h") {
		t.Errorf("grace row %q", row.Text())
	}
	t.Run("bad settings are 422 with messages and change nothing", func(t *testing.T) {
		rec := te.post("/alerts/settings", url.Values{"offline_hours": {"0"}, "growth_factor": {"1"}, "digest_frequency": {"daily"}, "digest_hour": {"7"}, "digest_weekday": {"1"}}, admin)
		d := wantFieldErrors(t, rec, "offline_hours", "growth_factor", "digest_channel")
		if v := d.Find(`input[name="offline_hours"]`).AttrOr("value", ""); v != "0" {
			t.Errorf("input not kept: %q", v)
		}
		if v := doc(t, te.get("/alerts/settings", admin)).Find(`input[name="offline_hours"]`).AttrOr("value", ""); v != "24" {
			t.Errorf("saved anyway: %q", v)
		}
	})
	t.Run("good settings save", func(t *testing.T) {
		rec := te.post("/alerts/settings", url.Values{"offline_hours": {"6"}, "growth_factor": {"3.5"}, "digest_frequency": {"off"}, "digest_hour": {"7"}, "digest_weekday": {"1"}}, admin)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		d := doc(t, te.get("/alerts/settings", admin))
		if v := d.Find(`input[name="growth_factor"]`).AttrOr("value", ""); v != "3.5" {
			t.Errorf("growth factor %q", v)
		}
	})
	t.Run("a grace that is not a number is 422 under its row", func(t *testing.T) {
		rec := te.post("/alerts/settings/grace", url.Values{"config": {cfg}, "grace": {"soon"}}, admin)
		if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "grace-error").Length() != 1 {
			t.Errorf("status %d", rec.Code)
		}
	})
	t.Run("a grace is set and cleared", func(t *testing.T) {
		if rec := te.post("/alerts/settings/grace", url.Values{"config": {cfg}, "grace": {"45"}}, admin); rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
		if v := testid(doc(t, te.get("/alerts/settings", admin)), "grace-input").AttrOr("value", ""); v != "45" {
			t.Errorf("grace %q", v)
		}
		te.post("/alerts/settings/grace", url.Values{"config": {cfg}, "grace": {""}}, admin)
		if v := testid(doc(t, te.get("/alerts/settings", admin)), "grace-input").AttrOr("value", ""); v != "" {
			t.Errorf("grace not cleared: %q", v)
		}
	})
	t.Run("a configuration of nobody is 404", func(t *testing.T) {
		if rec := te.post("/alerts/settings/grace", url.Values{"config": {"424242"}, "grace": {"5"}}, admin); rec.Code != http.StatusNotFound {
			t.Errorf("status %d", rec.Code)
		}
	})
	t.Run("send digest now without a channel says so", func(t *testing.T) {
		rec := te.post("/alerts/digest/send", nil, admin)
		if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "error-summary").Length() != 1 {
			t.Errorf("status %d", rec.Code)
		}
	})
}

// TestFailedDemoBackupProducesOneWebhookDelivery is the alerts' promise end
// to end: on the demo dataset, a failed backup produces exactly one webhook
// delivery, visible in the delivery log, however often the rules run.
func TestFailedDemoBackupProducesOneWebhookDelivery(t *testing.T) {
	te := newAlertsTestEnv(t, rcbusim.WithDataset("demo"))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	admin := te.loginRole(app.RoleAdmin)
	rcv := newHookReceiver(t)
	id := te.addWebhook(t, admin, "Ops", rcv.srv.URL, app.RuleBackupFailed)

	// The console starts watching: the demo's 60 days of history are synced;
	// the problems of the last day are incidents, told as one summary.
	if _, err := te.syncer.SyncAccount(ctx, te.demo.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := te.alerts.Evaluate(ctx, te.demo.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := te.alerts.DispatchDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rcv.count(); n != 1 {
		t.Fatalf("%d deliveries after the first sync, want one summary", n)
	}
	var sum notify.WebhookPayload
	if err := json.Unmarshal(rcv.bodies[0], &sum); err != nil || sum.Event != app.EventSummary {
		t.Fatalf("first delivery %+v, %v", sum, err)
	}

	cl, err := te.accounts.Client(ctx, te.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A configuration with no backup running, on an online agent: a second
	// start would be Skipped, an offline agent refuses.
	busy := map[int64]bool{}
	for _, b := range te.sim.Backups() {
		busy[b.ConfigurationID] = busy[b.ConfigurationID] || b.End.IsZero()
	}
	var cfg int64
	for _, id := range te.sim.ConfigurationIDs(rcbusim.DemoTenant) {
		c, err := cl.Configurations.Get(ctx, rcbu.ConfigurationID(id))
		if err != nil {
			t.Fatal(err)
		}
		ag, err := cl.Agents.Get(ctx, c.AgentID)
		if err != nil {
			t.Fatal(err)
		}
		if !busy[id] && ag.Online() && !ag.IsDisabled {
			cfg = id
			break
		}
	}
	if cfg == 0 {
		t.Fatal("the demo dataset has no idle configuration on an online agent")
	}
	te.sim.SetNextOutcome(cfg, "Failed")
	b, err := cl.Backups.Start(ctx, rcbu.ConfigurationID(cfg))
	if err != nil {
		t.Fatal(err)
	}
	// Run the backup to its end on the simulated clock, a minute at a time.
	var state string
	for range 24 * 60 {
		te.sim.Advance(time.Minute)
		st, err := cl.Backups.Get(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State.Done() {
			state = string(st.State)
			break
		}
	}
	if state != "Failed" {
		t.Fatalf("the backup ended %q", state)
	}
	te.clock.Advance(time.Minute) // the console's clock moves on too
	if _, err := te.syncer.SyncAccount(ctx, te.demo.ID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := te.alerts.Evaluate(ctx, te.demo.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := te.alerts.DispatchDue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := rcv.count(); n != 2 {
		t.Fatalf("%d webhook deliveries, want the summary and exactly 1 alert", n)
	}
	var p notify.WebhookPayload
	if err := json.Unmarshal(rcv.bodies[1], &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != app.EventOpened || p.Rule != app.RuleBackupFailed || p.Object != "backup:"+strconv.FormatInt(int64(b.ID), 10) || !notify.VerifyWebhook([]byte(testHookSecret), rcv.bodies[1], rcv.sigs[1]) {
		t.Errorf("payload %+v", p)
	}
	d := doc(t, te.get("/alerts/channels/"+id+"/deliveries", admin))
	rows := testid(d, "delivery-row")
	if rows.Length() != 2 || !strings.Contains(rows.Text(), "Sent") || !strings.Contains(rows.Text(), "Failed") {
		t.Errorf("delivery log: %q", rows.Text())
	}
	d = doc(t, te.get("/alerts", admin))
	if !strings.Contains(testid(d, "incidents-table").Text(), "Backup of") {
		t.Errorf("incidents: %q", testid(d, "incidents-table").Text())
	}
}
