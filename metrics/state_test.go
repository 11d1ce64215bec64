package metrics_test

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/metrics"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
	"github.com/rcbu-console/rcbu-console/upstream"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// stateEnv is the collector over a real database and the simulator, with
// the demo tenant as the one account.
type stateEnv struct {
	store   *db.Store
	clock   *rcbusim.FakeClock
	sim     *rcbusimtest.TestServer
	acct    app.Account
	metrics *metrics.Metrics
}

func newStateEnv(t *testing.T) *stateEnv {
	t.Helper()
	store, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "metrics.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := rcbusim.NewFakeClock(time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC))
	audit := app.NewAudit(store, clk.Now, discard())
	sim := rcbusimtest.NewTestServer(t)
	sealer, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	accounts := app.NewAccounts(store, sealer, upstream.NewConnector(nil, app.NewUpstreamBudget(app.DefaultBackgroundCalls), discard(), "test"), audit, clk.Now, discard())
	acct, err := accounts.EnsureDemo(context.Background(), sim.IdentityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	fleet := app.NewFleet(accounts, app.FleetOptions{Now: clk.Now, Log: discard()})
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Register(metrics.NewStateCollector(accounts, app.NewHealth(fleet, store, app.DefaultOverduePolicy(), clk.Now), store, metrics.StateCollectorOptions{Now: clk.Now, Log: discard()})); err != nil {
		t.Fatal(err)
	}
	return &stateEnv{store: store, clock: clk, sim: sim, acct: acct, metrics: m}
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
