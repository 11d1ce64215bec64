package app_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/words"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// run is one recorded backup of configuration cfg that ended h hours after t0.
func run(job int64, cfg rcbu.ConfigurationID, state string, h float64, bytes int64) app.Report {
	return app.Report{Kind: app.KindBackup, JobID: job, ConfigID: cfg, ConfigName: "nightly", AgentID: 7, AgentName: "web-01",
		State: state, Finished: t0.Add(time.Duration(h * float64(time.Hour))), BytesBackedUp: bytes}
}

// objects returns the Objects of the findings.
func objects(fs []app.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Object)
	}
	return out
}

func TestFailedBackups(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		runs         []app.Report
		lastSuccess  map[rcbu.ConfigurationID]time.Time
		since        time.Time
		open         []app.OpenIncident
		wantFiring   []string
		wantResolved []string
	}{
		{
			name:       "every alerting state fires, stopped and completed do not",
			runs:       []app.Report{run(1, 1, "Failed", 1, 0), run(2, 2, "CompletedWithErrors", 2, 5), run(3, 3, "Missed", 3, 0), run(4, 4, "Skipped", 4, 0), run(5, 5, "Stopped", 5, 0), run(6, 6, "Completed", 6, 9)},
			since:      t0,
			wantFiring: []string{"backup:1", "backup:2", "backup:3", "backup:4"},
		},
		{
			name:  "a failure before the console watched is history",
			runs:  []app.Report{run(1, 1, "Failed", -2, 0), run(2, 1, "Failed", 1, 0)},
			since: t0, wantFiring: []string{"backup:2"},
		},
		{
			name:  "a later completed run of the same configuration clears a failure",
			runs:  []app.Report{run(1, 1, "Failed", 1, 0), run(2, 1, "Completed", 2, 10), run(3, 2, "Failed", 3, 0)},
			since: t0, wantFiring: []string{"backup:3"},
		},
		{
			name:  "a run that completed with errors does not clear a failure",
			runs:  []app.Report{run(1, 1, "Failed", 1, 0), run(2, 1, "CompletedWithErrors", 2, 10)},
			since: t0, wantFiring: []string{"backup:1", "backup:2"},
		},
		{
			name:        "an open incident resolves once its configuration completes after it, even outside the window",
			runs:        []app.Report{run(9, 2, "Failed", 1, 0)},
			lastSuccess: map[rcbu.ConfigurationID]time.Time{1: t0.Add(5 * time.Hour), 2: t0},
			since:       t0,
			open: []app.OpenIncident{
				{Object: "backup:1", Group: "configuration:1", At: t0.Add(time.Hour)},
				{Object: "backup:9", Group: "configuration:2", At: t0.Add(time.Hour)},
				{Object: "backup:8", Group: "configuration:3", At: t0},
			},
			wantFiring:   []string{"backup:9"},
			wantResolved: []string{"backup:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := app.FailedBackups(tt.runs, tt.lastSuccess, tt.since, tt.open)
			if diff := cmp.Diff(tt.wantFiring, objects(got.Firing)); diff != "" {
				t.Errorf("firing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantResolved, got.Resolved); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
			for _, f := range got.Firing {
				if !f.Once || f.Rule != app.RuleBackupFailed || f.Title == "" || f.Group == "" {
					t.Errorf("finding %+v", f)
				}
			}
		})
	}
}

// history returns n Completed runs of configuration 1, one per day before
// t0, each of size bytes(i).
func history(n int, bytes func(i int) int64) []app.Report {
	var out []app.Report
	for i := range n {
		out = append(out, run(int64(100+i), 1, "Completed", float64(-24*(n-i)), bytes(i)))
	}
	return out
}

func TestGrowthJumps(t *testing.T) {
	t.Parallel()
	flat := func(int) int64 { return 100 }
	tests := []struct {
		name         string
		runs         []app.Report
		factor       float64
		open         []app.OpenIncident
		wantFiring   []string
		wantResolved []string
	}{
		{name: "a 6x jump over the median fires", runs: append(history(10, flat), run(1, 1, "Completed", 1, 600)), factor: 5, wantFiring: []string{"backup:1"}},
		{name: "exactly 5x does not", runs: append(history(10, flat), run(1, 1, "Completed", 1, 500)), factor: 5},
		{name: "a lower factor catches a smaller jump", runs: append(history(10, flat), run(1, 1, "Completed", 1, 300)), factor: 2, wantFiring: []string{"backup:1"}},
		{name: "four previous runs are too few", runs: append(history(4, flat), run(1, 1, "Completed", 1, 10000)), factor: 5},
		{name: "five previous runs are enough", runs: append(history(5, flat), run(1, 1, "CompletedWithErrors", 1, 10000)), factor: 5, wantFiring: []string{"backup:1"}},
		{
			name: "only the last 30 runs make the median",
			// 20 old huge runs, then 30 small ones: the median of the last 30 is 100.
			runs: append(history(50, func(i int) int64 {
				if i < 20 {
					return 1 << 40
				}
				return 100
			}), run(1, 1, "Completed", 1, 1000)),
			factor: 5, wantFiring: []string{"backup:1"},
		},
		{
			name:   "failed runs do not count towards the median",
			runs:   append(append(history(6, flat), run(50, 1, "Failed", -1, 0), run(51, 1, "Failed", -0.5, 0)), run(1, 1, "Completed", 1, 600)),
			factor: 5, wantFiring: []string{"backup:1"},
		},
		{name: "a failed newest run is not a jump", runs: append(history(10, flat), run(1, 1, "Failed", 1, 1<<30)), factor: 5},
		{name: "a zero median never fires", runs: append(history(10, func(int) int64 { return 0 }), run(1, 1, "Completed", 1, 1<<30)), factor: 5},
		{name: "a jump before the console watched is history", runs: append(history(10, flat), run(1, 1, "Completed", -0.5, 1<<30)), factor: 5},
		{
			name:   "the next run resolves an open jump",
			runs:   append(history(10, flat), run(1, 1, "Completed", 1, 1<<30), run(2, 1, "Completed", 2, 100)),
			factor: 5,
			open:   []app.OpenIncident{{Object: "backup:1", Group: "configuration:1", At: t0.Add(time.Hour)}},
			// The newest run is normal: nothing fires and the jump is over.
			wantResolved: []string{"backup:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := app.GrowthJumps(tt.runs, tt.factor, t0, tt.open)
			if diff := cmp.Diff(tt.wantFiring, objects(got.Firing)); diff != "" {
				t.Errorf("firing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantResolved, got.Resolved); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

func daily(id rcbu.ConfigurationID, active bool) rcbu.Configuration {
	return rcbu.Configuration{ID: id, Name: "nightly", AgentID: 7, IsActive: active, Frequency: rcbu.FrequencyDaily,
		LastRunTime: rcbu.MSDate{Time: t0.Add(-time.Hour)}}
}

func TestOverdueConfigurations(t *testing.T) {
	t.Parallel()
	now := t0
	ago := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	manual := rcbu.Configuration{ID: 5, IsActive: true, Frequency: rcbu.FrequencyManually}
	tests := []struct {
		name         string
		in           []app.OverdueInput
		open         []app.OpenIncident
		wantFiring   []string
		wantResolved []string
	}{
		{name: "within interval plus the default grace (6 h of a day)", in: []app.OverdueInput{{Configuration: daily(1, true), LastSuccess: ago(30)}}},
		{name: "past interval plus grace", in: []app.OverdueInput{{Configuration: daily(1, true), LastSuccess: ago(31)}}, wantFiring: []string{"configuration:1"}},
		{name: "its own longer grace wins", in: []app.OverdueInput{{Configuration: daily(1, true), LastSuccess: ago(31), Grace: 12 * time.Hour, HasGrace: true}}},
		{name: "its own zero grace wins", in: []app.OverdueInput{{Configuration: daily(1, true), LastSuccess: ago(25), Grace: 0, HasGrace: true}}, wantFiring: []string{"configuration:1"}},
		{name: "disabled and manual configurations are never overdue", in: []app.OverdueInput{{Configuration: daily(1, false), LastSuccess: ago(100)}, {Configuration: manual, LastSuccess: ago(1000)}}},
		{name: "ran but never succeeded", in: []app.OverdueInput{{Configuration: daily(1, true)}}, wantFiring: []string{"configuration:1"}},
		{
			name:         "open incidents resolve when caught up or deleted",
			in:           []app.OverdueInput{{Configuration: daily(1, true), LastSuccess: ago(1)}, {Configuration: daily(2, true), LastSuccess: ago(48)}},
			open:         []app.OpenIncident{{Object: "configuration:1"}, {Object: "configuration:2"}, {Object: "configuration:3"}},
			wantFiring:   []string{"configuration:2"},
			wantResolved: []string{"configuration:1", "configuration:3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := app.OverdueConfigurations(tt.in, app.DefaultOverduePolicy(), now, tt.open)
			if diff := cmp.Diff(tt.wantFiring, objects(got.Firing)); diff != "" {
				t.Errorf("firing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantResolved, got.Resolved); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOfflineAgents(t *testing.T) {
	t.Parallel()
	now := t0
	ago := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	tests := []struct {
		name         string
		in           []app.AgentPresence
		open         []app.OpenIncident
		wantFiring   []string
		wantResolved []string
	}{
		{name: "offline longer than the threshold fires", in: []app.AgentPresence{{ID: 1, Known: true, OfflineSince: ago(25)}}, wantFiring: []string{"agent:1"}},
		{name: "offline for less does not", in: []app.AgentPresence{{ID: 1, Known: true, OfflineSince: ago(23)}}},
		{name: "online does not", in: []app.AgentPresence{{ID: 1, Known: true}}},
		{name: "disabled does not", in: []app.AgentPresence{{ID: 1, Known: true, Disabled: true, OfflineSince: ago(100)}}},
		{
			name: "incidents resolve when back, disabled or gone, not when unknown",
			in: []app.AgentPresence{
				{ID: 1, Known: true}, {ID: 2, Known: true, Disabled: true, OfflineSince: ago(100)},
				{ID: 4, Known: false}, {ID: 5, Known: true, OfflineSince: ago(30)},
			},
			open:         []app.OpenIncident{{Object: "agent:1"}, {Object: "agent:2"}, {Object: "agent:3"}, {Object: "agent:4"}, {Object: "agent:5"}},
			wantFiring:   []string{"agent:5"},
			wantResolved: []string{"agent:1", "agent:2", "agent:3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := app.OfflineAgents(tt.in, 24*time.Hour, now, tt.open)
			if diff := cmp.Diff(tt.wantFiring, objects(got.Firing)); diff != "" {
				t.Errorf("firing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantResolved, got.Resolved); diff != "" {
				t.Errorf("resolved (-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkRules runs the backup rules over an account's recorded window:
// 1,000 configurations × 31 runs (what Evaluate reads from the store).
func BenchmarkRules(b *testing.B) {
	var runs []app.Report
	for c := range 1000 {
		for i := range 31 {
			state := "Completed"
			if i%7 == 3 {
				state = "Failed"
			}
			runs = append(runs, run(int64(c*100+i), rcbu.ConfigurationID(c+1), state, float64(i*24), int64(1000+i)))
		}
	}
	open := []app.OpenIncident{{Object: "backup:5", Group: "configuration:1", At: t0}}
	b.ReportAllocs()
	for b.Loop() {
		app.FailedBackups(runs, nil, t0, open)
		app.GrowthJumps(runs, 5, t0, open)
	}
}

// Every rule and incident status is said in words from the one table, not
// split out of its stored name.
func TestRulesAndStatusesHaveWords(t *testing.T) {
	for _, r := range app.RuleKinds() {
		if !words.AlertRules.Known(string(r)) || r.Label() == "" {
			t.Errorf("rule %q has no words", r)
		}
	}
	for _, s := range app.IncidentStatuses() {
		if !words.IncidentStatuses.Known(string(s)) || s.Label() == "" {
			t.Errorf("status %q has no words", s)
		}
	}
	if got := app.RuleOverdue.Label(); got != "Configuration overdue" {
		t.Errorf("overdue reads %q", got)
	}
}

// Every notice event is said in words from the one table.
func TestNoticeEventsHaveWords(t *testing.T) {
	for _, e := range []app.NoticeEvent{app.EventOpened, app.EventResolved, app.EventSummary, app.EventTest, app.EventDigest} {
		if !words.NoticeEvents.Known(string(e)) {
			t.Errorf("notice %q has no words", e)
		}
	}
}
