package metrics_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestIncidentsOpenSeries(t *testing.T) {
	ctx := t.Context()
	se := newStateEnv(t)
	now := se.clock.Now()
	open := func(obj string, rule app.RuleKind) app.Incident {
		t.Helper()
		inc, ok, err := se.store.OpenIncident(ctx, app.NewIncident{AccountID: se.acct.ID, Opened: now, Payload: []byte(`{}`),
			Finding: app.Finding{Rule: rule, Object: obj, Title: obj, At: now}})
		if err != nil || !ok {
			t.Fatalf("open %s: %v %v", obj, ok, err)
		}
		return inc
	}
	open("backup:1", app.RuleBackupFailed)
	acked := open("backup:2", app.RuleBackupFailed)
	open("configuration:3", app.RuleOverdue)
	if ok, err := se.store.AcknowledgeIncident(ctx, acked.ID, "alice@example.com", "on it", now); err != nil || !ok {
		t.Fatalf("acknowledge: %v %v", ok, err)
	}
	got := series(t, se.metrics.Registry(), "rcbu_incidents_open")
	a := "account=" + se.acct.ID.String()
	want := map[string]float64{}
	for _, r := range app.RuleKinds() {
		for _, st := range []string{"acknowledged", "open", "snoozed"} {
			want[a+",rule="+string(r)+",status="+st] = 0
		}
	}
	want[a+",rule=backup_failed,status=open"] = 1
	want[a+",rule=backup_failed,status=acknowledged"] = 1
	want[a+",rule=overdue,status=open"] = 1
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rcbu_incidents_open (-want +got):\n%s", diff)
	}
}
