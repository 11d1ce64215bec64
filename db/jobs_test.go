package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestRestoreRequests(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		rq := app.RestoreRequest{AccountID: a, RestoreID: 88, ConfigID: 100, BackupID: 7, DestAgentID: 12, DestName: "web-02",
			DestPath: "/srv/x", Overwrite: true, Include: []string{"/etc/nginx/", `/var/www/<b>"x".html`}, Exclude: []string{"/etc/nginx/ssl/"},
			Created: histT0}
		if err := s.SaveRestoreRequest(ctx, rq); err != nil {
			t.Fatal(err)
		}
		got, err := s.RestoreRequest(ctx, a, 88)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rq, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if _, err := s.RestoreRequest(ctx, b, 88); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("another account's restore: %v, want not found", err)
		}
		// A later restore of the same configuration: its paths come first, each once.
		later := rq
		later.RestoreID, later.Include, later.Created = 89, []string{"/root/.bashrc", "/etc/nginx/"}, histT0.Add(time.Hour)
		if err := s.SaveRestoreRequest(ctx, later); err != nil {
			t.Fatal(err)
		}
		everything := rq
		everything.RestoreID, everything.Include, everything.Created = 90, nil, histT0.Add(2*time.Hour)
		if err := s.SaveRestoreRequest(ctx, everything); err != nil {
			t.Fatal(err)
		}
		paths, err := s.RestoredPaths(ctx, a, 100, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"/etc/nginx/", "/root/.bashrc", `/var/www/<b>"x".html`}, paths); diff != "" {
			t.Errorf("restored paths (-want +got):\n%s", diff)
		}
		if paths, _ := s.RestoredPaths(ctx, b, 100, 10); len(paths) != 0 {
			t.Errorf("another account's paths: %q", paths)
		}
	})
}

func TestReportedPathsAndRecentRuns(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		withErr := func(path string) func(*app.Report) {
			return func(r *app.Report) {
				r.State, r.ErrorCount = "CompletedWithErrors", 1
				r.Errors = []app.ReportErrorEntry{{ListIndex: 1, Path: path, Description: "denied"}}
			}
		}
		rs := []app.Report{
			mkReport(a, 1, histT0.Add(1*time.Hour), withErr("/etc/shadow")),
			mkReport(a, 2, histT0.Add(2*time.Hour), withErr("/var/log/syslog")),
			mkReport(a, 3, histT0.Add(3*time.Hour), withErr("/etc/shadow")),
			mkReport(a, 4, histT0.Add(4*time.Hour), func(r *app.Report) { r.State, r.Duration = "Failed", time.Minute }),
			mkReport(a, 5, histT0.Add(5*time.Hour), func(r *app.Report) { r.Duration = 9 * time.Minute }),
		}
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		paths, err := s.ReportedPaths(ctx, a, 100, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]app.ReportedPath{{Path: "/etc/shadow", BackupID: 3}, {Path: "/var/log/syslog", BackupID: 2}}, paths); diff != "" {
			t.Errorf("reported paths (-want +got):\n%s", diff)
		}
		runs, err := s.RecentRuns(ctx, []app.AccountID{a}, app.KindBackup, 100, 3)
		if err != nil {
			t.Fatal(err)
		}
		var jobs []int64
		for _, r := range runs {
			jobs = append(jobs, r.JobID)
		}
		if diff := cmp.Diff([]int64{5, 3, 2}, jobs); diff != "" {
			t.Errorf("recent successful runs, newest first, the failed one left out (-want +got):\n%s", diff)
		}
		if runs, _ := s.RecentRuns(ctx, []app.AccountID{a}, app.KindBackup, rcbu.ConfigurationID(999), 3); len(runs) != 0 {
			t.Errorf("runs of another configuration: %v", runs)
		}
	})
}
