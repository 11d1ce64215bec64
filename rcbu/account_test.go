//go:build !integration

package rcbu_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
)

// TestAccountViewOnDemoData reads the simulator's demo estate across all
// regions: merged lists, activity with cleanups, cleanup reports.
func TestAccountViewOnDemoData(t *testing.T) {
	ts := rcbusimtest.NewTestServer(t, rcbusim.WithDataset("demo"))
	ctx := testCtx(t)
	tg := &target{identityURL: ts.IdentityURL}
	c := tg.connect(t, rcbu.Credentials{Username: rcbusim.DemoUser, Password: rcbusim.DemoPassword}, rcbu.WithAllRegions())

	if eps := c.Endpoints(); len(eps) != len(rcbusim.Regions()) || !strings.HasSuffix(eps[0].URL.Path, "/v1.0/123456") {
		t.Fatalf("endpoints = %v", eps)
	}
	agents := must[[]rcbu.Agent](t)(c.Agents.List(ctx))
	regions := map[string]bool{}
	for _, a := range agents {
		regions[a.Region] = true
		if a.Region != a.Datacenter {
			t.Errorf("agent %d in %s listed by region %s", a.ID, a.Datacenter, a.Region)
		}
	}
	if len(agents) < 10 || len(regions) < 3 {
		t.Fatalf("%d agents in regions %v", len(agents), regions)
	}
	cfgs := must[[]rcbu.Configuration](t)(c.Configurations.List(ctx))
	if len(cfgs) < 20 || !slices.IsSortedFunc(cfgs, func(a, b rcbu.Configuration) int { return int(a.ID - b.ID) }) {
		t.Fatalf("%d configurations, sorted %v", len(cfgs), slices.IsSortedFunc(cfgs, func(a, b rcbu.Configuration) int { return int(a.ID - b.ID) }))
	}
	for _, cfg := range cfgs {
		if _, err := cfg.Schedule(); err != nil {
			t.Errorf("configuration %d schedule: %v", cfg.ID, err)
		}
	}
	acts := must[[]rcbu.Activity](t)(c.Activity.List(ctx))
	i := slices.IndexFunc(acts, func(a rcbu.Activity) bool { return a.Type == rcbu.ActivityCleanup })
	if i < 0 {
		t.Fatal("no cleanup in the demo activity")
	}
	rep := must[*rcbu.CleanupReport](t)(c.Activity.CleanupReport(ctx, rcbu.CleanupID(acts[i].ID)))
	if rep.ID != rcbu.CleanupID(acts[i].ID) || rep.AgentID != acts[i].SourceAgentID || rep.State == "" || len(rep.Raw) == 0 {
		t.Errorf("cleanup report = %+v", rep)
	}
	// Reports of finished backups decode, wherever their region.
	n := 0
	for _, a := range acts {
		if a.Type != rcbu.ActivityBackup || !rcbu.BackupState(a.CurrentState).Succeeded() || n == 5 {
			continue
		}
		n++
		r := must[*rcbu.BackupReport](t)(c.Backups.Report(ctx, rcbu.BackupID(a.ID)))
		if r.BackupID != rcbu.BackupID(a.ID) || r.Duration <= 0 {
			t.Errorf("report = %+v", r)
		}
	}
	avail := must[[]rcbu.AvailableBackup](t)(c.Restores.AvailableBackups(ctx))
	if len(avail) == 0 || !avail[0].LastSuccessfulBackupTime.Valid() {
		t.Errorf("available backups = %+v", avail)
	}
	must[[]rcbu.Activity](t)(c.ActiveBackups(ctx))
}
