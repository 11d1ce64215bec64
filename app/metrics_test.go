package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
)

func TestMetricsAuthorize(t *testing.T) {
	const token = "a-scrape-token-long-enough"
	lo := netip.MustParseAddr("127.0.0.1")
	lan := netip.MustParseAddr("10.1.2.3")
	mapped := netip.MustParseAddr("::ffff:10.1.2.3")
	far := netip.MustParseAddr("203.0.113.9")
	allow, err := app.ParseAllowList("127.0.0.1/32, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   app.MetricsOptions
		bearer string
		addr   netip.Addr
		want   error // nil: allowed
	}{
		{"off: neither token nor allow list", app.MetricsOptions{}, token, lo, app.ErrNotFound},
		{"token matches", app.MetricsOptions{Token: token}, token, far, nil},
		{"token missing", app.MetricsOptions{Token: token}, "", lo, app.ErrUnauthorized},
		{"token wrong", app.MetricsOptions{Token: token}, token + "x", far, app.ErrUnauthorized},
		{"token prefix", app.MetricsOptions{Token: token}, token[:10], far, app.ErrUnauthorized},
		{"allowed address without token", app.MetricsOptions{Allow: allow}, "", lan, nil},
		{"allowed IPv4-mapped address", app.MetricsOptions{Allow: allow}, "", mapped, nil},
		{"address not allowed", app.MetricsOptions{Allow: allow}, "", far, app.ErrForbidden},
		{"address not allowed, token ignored when none configured", app.MetricsOptions{Allow: allow}, token, far, app.ErrForbidden},
		{"both: allowed address, no token", app.MetricsOptions{Token: token, Allow: allow}, "", lo, nil},
		{"both: far address, right token", app.MetricsOptions{Token: token, Allow: allow}, token, far, nil},
		{"both: far address, no token", app.MetricsOptions{Token: token, Allow: allow}, "", far, app.ErrUnauthorized},
		{"invalid address", app.MetricsOptions{Allow: allow}, "", netip.Addr{}, app.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := app.NewMetrics(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Authorize(tt.bearer, tt.addr)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Authorize = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Fatalf("error %q contains the token", err)
			}
		})
	}
	if _, err := app.NewMetrics(app.MetricsOptions{Token: "short"}); err == nil {
		t.Fatal("a short token was accepted")
	}
}

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.1", []string{"127.0.0.1/32"}, false},
		{"127.0.0.1/32,10.0.0.0/8", []string{"127.0.0.1/32", "10.0.0.0/8"}, false},
		{" 10.1.2.3/8 ,  ::1 ", []string{"10.0.0.0/8", "::1/128"}, false},
		{"::ffff:192.0.2.1", []string{"192.0.2.1/32"}, false},
		{"10.0.0.0/33", nil, true},
		{"localhost", nil, true},
		{"10.0.0.1,garbage", nil, true},
		{"fe80::1%eth0", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := app.ParseAllowList(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseAllowList = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpstreamOperation(t *testing.T) {
	tests := map[string]string{
		"/v2.0/tokens":                            "/v2.0/tokens",
		"/v1.0/123456/agent/401122":               "/v1.0/{tenant}/agent/{id}",
		"/dfw/v1.0/123456/user/agents":            "/v1.0/{tenant}/user/agents",
		"/v1.0/123456/backup/report/99":           "/v1.0/{tenant}/backup/report/{id}",
		"/v1.0/123456/agent/configuration/7":      "/v1.0/{tenant}/agent/configuration/{id}",
		"/v1.0/123456/a/b/c/d/e/f":                "/v1.0/{tenant}/a/b/c/d/…",
		"/v1.0/123456/agent/x%20y":                "/v1.0/{tenant}/agent/{x}",
		"/v1.0":                                   "/v1.0",
		"/favicon.ico":                            "other",
		"/":                                       "other",
		"/v1.0/123456/restore/files/12?x=1&y=2":   "/v1.0/{tenant}/restore/files/{x}",
		"/v1.0/123456/" + strings.Repeat("a", 40): "/v1.0/{tenant}/{x}",
	}
	for in, want := range tests {
		if got := app.UpstreamOperation(in); got != want {
			t.Errorf("UpstreamOperation(%q) = %q, want %q", in, got, want)
		}
	}
}

// series returns the samples of one metric family by their labels
// ("k=v,k=v" in label order), as gauges, counters or histogram counts.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			v := m.GetGauge().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			out[strings.Join(ls, ",")] = v
		}
	}
	return out
}

func TestTransportObservesUpstreamCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/404") {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	m, err := app.NewMetrics(app.MetricsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: m.Transport(nil), Timeout: 5 * time.Second}
	for _, p := range []string{"/v1.0/123456/agent/1", "/v1.0/123456/agent/2", "/v1.0/123456/agent/404"} {
		resp, err := hc.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := series(t, m.Registry(), "rcbu_upstream_request_duration_seconds")
	want := map[string]float64{
		"method=GET,operation=/v1.0/{tenant}/agent/{id},status=200": 2,
		"method=GET,operation=/v1.0/{tenant}/agent/{id},status=404": 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("upstream histogram (-want +got):\n%s", diff)
	}
	m.ObserveHTTP("/configurations/:id", http.MethodGet, 503, time.Millisecond)
	if got := series(t, m.Registry(), "rcbu_http_request_duration_seconds"); got["method=GET,route=/configurations/:id,status=5xx"] != 1 {
		t.Fatalf("http histogram = %v", got)
	}
}

// stateEnv is the collector over a real database and the simulator, with
// the demo tenant as the one account.
type stateEnv struct {
	*env
	sim     *rcbusimtest.TestServer
	acct    app.Account
	metrics *app.Metrics
}

func newStateEnv(t *testing.T) *stateEnv {
	t.Helper()
	e := newEnv(t)
	sim := rcbusimtest.NewTestServer(t)
	sealer, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	accounts := app.NewAccounts(e.store, sealer, app.RCBUConnector(nil, discard(), "test"), e.audit, e.clock.Now, discard())
	acct, err := accounts.EnsureDemo(context.Background(), sim.IdentityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	fleet := app.NewFleet(accounts, app.FleetOptions{Now: e.clock.Now, Log: discard()})
	m, err := app.NewMetrics(app.MetricsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Register(app.NewStateCollector(accounts, app.NewHealth(fleet, e.store, app.DefaultOverduePolicy(), e.clock.Now), e.store, app.StateCollectorOptions{Now: e.clock.Now, Log: discard()})); err != nil {
		t.Fatal(err)
	}
	return &stateEnv{env: e, sim: sim, acct: acct, metrics: m}
}

func TestStateCollector(t *testing.T) {
	ctx := context.Background()
	se := newStateEnv(t)
	now := se.clock.Now()
	agent := se.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", OS: "Ubuntu", Datacenter: "DFW", Online: true})
	add := func(name, freq string, inactive bool) int64 {
		t.Helper()
		id, err := se.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: name, Frequency: freq, Hour: 2, HourInterval: 1, Inactive: inactive, Inclusions: []string{"/etc"}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	stale := add("nightly-stale", "Daily", false)     // last success 3 days ago: overdue
	fresh := add("nightly-fresh", "Daily", false)     // succeeded 2 h ago
	failing := add("hourly-failing", "Hourly", false) // succeeded 30 min ago, then failed
	off := add("disabled-old", "Daily", true)         // old, but disabled: never overdue
	manual := add("manual", "Manually", false)        // no schedule, no runs
	job := int64(0)
	snap := func(cfg int64, state string, finished time.Time, bytes int64) app.Report {
		job++
		return app.Report{AccountID: se.acct.ID, Kind: app.KindBackup, JobID: job, AgentID: rcbu.AgentID(agent), AgentName: "web-01",
			ConfigID: rcbu.ConfigurationID(cfg), State: state, Started: finished.Add(-time.Minute), Finished: finished, BytesBackedUp: bytes, Fetched: now}
	}
	reports := []app.Report{
		snap(stale, "Completed", now.Add(-96*time.Hour), 10),
		snap(stale, "CompletedWithErrors", now.Add(-72*time.Hour), 20),
		snap(fresh, "Completed", now.Add(-2*time.Hour), 3000),
		snap(failing, "Completed", now.Add(-30*time.Minute), 5),
		snap(failing, "Failed", now.Add(-10*time.Minute), 0),
		snap(off, "Completed", now.Add(-30*24*time.Hour), 1),
		// Another account's snapshot of the same configuration id never leaks in.
		{AccountID: se.acct.ID + 100, Kind: app.KindBackup, JobID: 999, ConfigID: rcbu.ConfigurationID(fresh), State: "Failed", Finished: now, Fetched: now},
	}
	if _, err := se.store.InsertReports(ctx, reports[:len(reports)-1]); err != nil {
		t.Fatal(err)
	}
	if err := se.store.SaveSyncState(ctx, app.SyncState{AccountID: se.acct.ID, LastStart: now.Add(-time.Minute), LastEnd: now.Add(-30 * time.Second), LastOK: now.Add(-10 * time.Minute), LastError: "Cloud Backup is not answering right now; try again."}); err != nil {
		t.Fatal(err)
	}

	a := se.acct.ID.String()
	ag := strconv.FormatInt(agent, 10)
	key := func(cfg int64, extra ...string) string {
		ls := append([]string{"account=" + a, "agent=" + ag, "configuration=" + strconv.FormatInt(cfg, 10)}, extra...)
		slices.Sort(ls)
		return strings.Join(ls, ",")
	}
	reg := se.metrics.Registry()
	if diff := cmp.Diff(map[string]float64{
		key(stale): 1, key(fresh): 0, key(failing): 0, key(off): 0, key(manual): 0,
	}, series(t, reg, "rcbu_configuration_overdue")); diff != "" {
		t.Errorf("overdue (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{
		key(stale):   unixSec(now.Add(-72 * time.Hour)),
		key(fresh):   unixSec(now.Add(-2 * time.Hour)),
		key(failing): unixSec(now.Add(-30 * time.Minute)),
		key(off):     unixSec(now.Add(-30 * 24 * time.Hour)),
	}, series(t, reg, "rcbu_configuration_last_success_timestamp_seconds")); diff != "" {
		t.Errorf("last success (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{
		key(stale): 20, key(fresh): 3000, key(failing): 0, key(off): 1,
	}, series(t, reg, "rcbu_configuration_last_run_backed_up_bytes")); diff != "" {
		t.Errorf("bytes (-want +got):\n%s", diff)
	}
	states := series(t, reg, "rcbu_configuration_last_run_state")
	for k, want := range map[string]float64{
		key(failing, "state=Failed"):            1,
		key(failing, "state=Completed"):         0,
		key(stale, "state=CompletedWithErrors"): 1,
		key(stale, "state=Completed"):           0,
		key(fresh, "state=Completed"):           1,
		key(fresh, "state=Failed"):              0,
		key(off, "state=Completed"):             1,
	} {
		if got, ok := states[k]; !ok || got != want {
			t.Errorf("last run state %s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	for k := range states {
		if strings.Contains(k, "configuration="+strconv.FormatInt(manual, 10)+",") {
			t.Errorf("last run state of a configuration that never ran: %s", k)
		}
	}
	if len(states) != 4*len(app.ReportStates()) {
		t.Errorf("%d last-run-state series, want %d (4 configurations that ran × %d states)", len(states), 4*len(app.ReportStates()), len(app.ReportStates()))
	}
	info := series(t, reg, "rcbu_configuration_info")
	if info[key(stale, "account_name="+se.acct.Name, "agent_name=web-01", "configuration_name=nightly-stale", "enabled=true", "frequency=Daily")] != 1 {
		t.Errorf("configuration info = %v", info)
	}
	if diff := cmp.Diff(map[string]float64{"account=" + a: 6}, series(t, reg, "rcbu_report_snapshots")); diff != "" {
		t.Errorf("snapshots (-want +got):\n%s", diff)
	}
	for name, want := range map[string]float64{
		"rcbu_sync_last_error":                     1,
		"rcbu_sync_last_success_timestamp_seconds": unixSec(now.Add(-10 * time.Minute)),
		"rcbu_sync_last_run_timestamp_seconds":     unixSec(now.Add(-30 * time.Second)),
		"rcbu_account_up":                          1,
	} {
		if got := series(t, reg, name); got["account="+a] != want || len(got) != 1 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := series(t, reg, "rcbu_state_refresh_success"); got[""] != 1 {
		t.Errorf("refresh success = %v", got)
	}

	// A refresh serves scrapes for MaxAge: new snapshots show after it.
	if _, err := se.store.InsertReports(ctx, []app.Report{snap(stale, "Completed", now.Add(-time.Minute), 7)}); err != nil {
		t.Fatal(err)
	}
	if got := series(t, reg, "rcbu_configuration_overdue")[key(stale)]; got != 1 {
		t.Fatalf("within MaxAge: overdue = %v, want the cached 1", got)
	}
	se.clock.Advance(31 * time.Second)
	if got := series(t, reg, "rcbu_configuration_overdue")[key(stale)]; got != 0 {
		t.Fatalf("after MaxAge: overdue = %v, want 0 after the new success", got)
	}
	if got := series(t, reg, "rcbu_configuration_last_run_backed_up_bytes")[key(stale)]; got != 7 {
		t.Fatalf("after MaxAge: bytes = %v, want 7", got)
	}
}

func TestStateCollectorAccountDown(t *testing.T) {
	se := newStateEnv(t)
	agent := se.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true})
	if _, err := se.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "c", Frequency: "Daily", Hour: 1, Inclusions: []string{"/"}}); err != nil {
		t.Fatal(err)
	}
	for range 20 { // every regional endpoint; 500 is not retried
		se.sim.FailNext(rcbusim.OpListConfigurations, http.StatusInternalServerError)
	}
	reg := se.metrics.Registry()
	if got := series(t, reg, "rcbu_account_up"); got["account="+se.acct.ID.String()] != 0 {
		t.Fatalf("account_up = %v, want 0 while the API fails", got)
	}
	if got := series(t, reg, "rcbu_configuration_overdue"); len(got) != 0 {
		t.Fatalf("configurations of a failing account = %v, want none", got)
	}
}

func unixSec(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
