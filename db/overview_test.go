package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestProblemRunsNewestFirstWithTheirFirstErrorLine(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		now := histT0.Add(48 * time.Hour)
		state := func(st string) func(*app.Report) { return func(r *app.Report) { r.State = st } }
		cfg := func(id rcbu.ConfigurationID) func(*app.Report) { return func(r *app.Report) { r.ConfigID = id } }
		if _, err := s.InsertReports(ctx, []app.Report{
			mkReport(a, 1, now.Add(-30*time.Hour), state("Failed")), // outside the window
			mkReport(a, 2, now.Add(-5*time.Hour), state("Failed"), withErrorsKeepState(
				app.ReportErrorEntry{ListIndex: 1, Description: "second"},
				app.ReportErrorEntry{ListIndex: 0, Description: "Access denied\r\n  at C:\\data"},
			)),
			mkReport(a, 3, now.Add(-4*time.Hour), state("Completed")),
			mkReport(a, 4, now.Add(-3*time.Hour), state("Missed"), cfg(200)),
			mkReport(a, 5, now.Add(-2*time.Hour), withErrors(app.ReportErrorEntry{Exception: "disk full"})),
			mkReport(b, 6, now.Add(-1*time.Hour), state("Failed")), // another account
			mkReport(a, 7, now.Add(-1*time.Hour), state("Failed"), func(r *app.Report) { r.Kind = app.KindRestore }),
		}); err != nil {
			t.Fatal(err)
		}
		states := []string{"Failed", "Missed", "CompletedWithErrors", "Skipped"}
		got, err := s.ProblemRuns(ctx, []app.AccountID{a}, states, now.Add(-24*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		var summary []string
		for _, r := range got {
			summary = append(summary, r.State+"/"+r.FirstError)
		}
		want := []string{"CompletedWithErrors/disk full", "Missed/", "Failed/Access denied"}
		if diff := cmp.Diff(want, summary); diff != "" {
			t.Errorf("ProblemRuns (-want +got):\n%s", diff)
		}
		if got[0].BackupID != 5 || got[1].ConfigID != 200 || got[2].AgentName != "web-01" || got[2].ErrorCount != 2 {
			t.Errorf("runs %+v", got)
		}
		if got, _ := s.ProblemRuns(ctx, []app.AccountID{a}, states, now.Add(-24*time.Hour), 1); len(got) != 1 {
			t.Errorf("limit: %d runs", len(got))
		}
		n, err := s.CountProblemRuns(ctx, []app.AccountID{a, b}, []string{"Failed", "Missed"}, now.Add(-24*time.Hour))
		if err != nil || n != 4 { // the restore counts too
			t.Errorf("count %d, %v", n, err)
		}
		if got, err := s.ProblemRuns(ctx, nil, states, now, 10); err != nil || len(got) != 0 {
			t.Errorf("no accounts: %v %v", got, err)
		}
	})
}

// withErrorsKeepState adds errors without changing the state.
func withErrorsKeepState(es ...app.ReportErrorEntry) func(*app.Report) {
	return func(r *app.Report) { r.Errors, r.ErrorCount = es, int64(len(es)) }
}

func TestAgentDaysOfReadsOnlyTheAgentsAsked(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		agent := func(id rcbu.AgentID) func(*app.Report) { return func(r *app.Report) { r.AgentID = id } }
		state := func(st string) func(*app.Report) { return func(r *app.Report) { r.State = st } }
		from := histT0
		if _, err := s.InsertReports(ctx, []app.Report{
			mkReport(a, 1, from.Add(2*time.Hour), agent(10)),
			mkReport(a, 2, from.Add(3*time.Hour), agent(10), state("Failed")),
			mkReport(a, 3, from.Add(26*time.Hour), agent(10), state("Skipped")),
			mkReport(a, 4, from.Add(2*time.Hour), agent(11)),
			mkReport(b, 5, from.Add(2*time.Hour), agent(10)),                   // the same agent id in another account
			mkReport(a, 6, from.Add(-time.Hour), agent(10)),                    // before the range
			mkReport(a, 7, from.Add(72*time.Hour), agent(10), state("Failed")), // after it
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.AgentDaysOf(ctx, []app.AgentKey{{AccountID: a, AgentID: 10}}, from, 2)
		if err != nil {
			t.Fatal(err)
		}
		want := []app.AgentDay{
			{AccountID: a, AgentID: 10, AgentName: "web-01", Day: 0, Success: 1, Failure: 1},
			{AccountID: a, AgentID: 10, AgentName: "web-01", Day: 1, Neutral: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AgentDaysOf (-want +got):\n%s", diff)
		}
	})
}

func TestOfflineSightingsCarryTheThreshold(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		if _, err := s.TrackOffline(ctx, a, []rcbu.AgentID{7}, nil, histT0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TrackOffline(ctx, b, []rcbu.AgentID{8}, nil, histT0); err != nil {
			t.Fatal(err)
		}
		st, err := s.EnsureAlertSettings(ctx, b, histT0)
		if err != nil {
			t.Fatal(err)
		}
		st.OfflineHours = 4
		if err := s.SaveAlertSettings(ctx, st); err != nil {
			t.Fatal(err)
		}
		got, err := s.OfflineSightings(ctx, []app.AccountID{a, b})
		if err != nil {
			t.Fatal(err)
		}
		want := []app.OfflineSighting{
			{AgentKey: app.AgentKey{AccountID: a, AgentID: 7}, Since: histT0, Threshold: 24 * time.Hour},
			{AgentKey: app.AgentKey{AccountID: b, AgentID: 8}, Since: histT0, Threshold: 4 * time.Hour},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("OfflineSightings (-want +got):\n%s", diff)
		}
		// Without a sighting the threshold is known too: the overview lists an
		// agent the API reports offline before the alert rules have seen it.
		th, err := s.OfflineThresholds(ctx, []app.AccountID{a, b, 99})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[app.AccountID]time.Duration{a: 24 * time.Hour, b: 4 * time.Hour, 99: 24 * time.Hour}, th); diff != "" {
			t.Errorf("OfflineThresholds (-want +got):\n%s", diff)
		}
	})
}

// TestOverviewQueriesUseIndexes: the overview's reads are index range
// scans, never a scan of the reports table.
func TestOverviewQueriesUseIndexes(t *testing.T) {
	s, _, _ := newHistoryStore(t)
	for name, q := range map[string]string{
		"problem runs": `SELECT r.id FROM reports r WHERE r.state IN ('Failed', 'Missed') AND r.finished_unix >= 0
			AND +r.account_id IN (1, 2) AND +r.kind = 'backup' ORDER BY r.finished_unix DESC, r.id DESC LIMIT 10`,
		"agent days": `SELECT (r.finished_unix - 0) / 86400 AS day, count(*) FROM reports r
			WHERE r.agent_id = 1 AND r.finished_unix >= 0 AND r.finished_unix < 100 AND +r.account_id = 1 AND +r.kind = 'backup' GROUP BY day`,
	} {
		rows, err := s.DB().QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		if !strings.Contains(joined, "USING INDEX") || strings.Contains(joined, "SCAN r") {
			t.Errorf("%s: plan %q", name, joined)
		}
	}
}

// TestConfigurationsFirstSeen: the first sighting of a configuration is
// recorded once; later calls return it, not their own time.
func TestConfigurationsFirstSeen(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		k1 := app.ConfigurationKey{AccountID: a, ConfigID: 11}
		k2 := app.ConfigurationKey{AccountID: b, ConfigID: 11}
		got, err := s.ConfigurationsFirstSeen(ctx, []app.ConfigurationKey{k1}, histT0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[app.ConfigurationKey]time.Time{k1: histT0}, got); diff != "" {
			t.Errorf("first call (-want +got):\n%s", diff)
		}
		later := histT0.Add(48 * time.Hour)
		got, err = s.ConfigurationsFirstSeen(ctx, []app.ConfigurationKey{k1, k2}, later)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[app.ConfigurationKey]time.Time{k1: histT0, k2: later}, got); diff != "" {
			t.Errorf("second call (-want +got):\n%s", diff)
		}
	})
}
