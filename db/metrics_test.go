package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// twoAccounts creates two accounts and returns their ids.
func twoAccounts(t testing.TB, s *db.Store) (app.AccountID, app.AccountID) {
	t.Helper()
	var ids [2]app.AccountID
	for i := range ids {
		a, err := s.CreateAccount(context.Background(), app.Account{Name: fmt.Sprintf("acct %d", i), Username: "u", Kind: app.CredentialAPIKey,
			SecretSealed: []byte("x"), IdentityURL: "http://127.0.0.1/v2.0/tokens", Source: app.SourceAdmin, Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	return ids[0], ids[1]
}

func TestLatestBackupsAndReportCounts(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		a, b := twoAccounts(t, s)
		job := int64(0)
		rep := func(acct app.AccountID, kind app.ReportKind, cfg rcbu.ConfigurationID, state string, ago time.Duration, bytes int64) app.Report {
			job++
			return app.Report{AccountID: acct, Kind: kind, JobID: job, ConfigID: cfg, State: state, Finished: t0.Add(-ago), BytesBackedUp: bytes, Fetched: t0}
		}
		if _, err := s.InsertReports(ctx, []app.Report{
			rep(a, app.KindBackup, 1, "Completed", 5*time.Hour, 100),
			rep(a, app.KindBackup, 1, "Completed With Errors", 3*time.Hour, 200), // spelled with spaces: still a success
			rep(a, app.KindBackup, 1, "Failed", time.Hour, 7),
			rep(a, app.KindRestore, 1, "Completed", time.Minute, 999), // restores do not count
			rep(a, app.KindBackup, 2, "Missed", 2*time.Hour, 0),       // never succeeded
			rep(b, app.KindBackup, 1, "Completed", 0, 1),              // the same configuration id in another account
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.LatestBackups(ctx, []app.ConfigurationKey{{AccountID: a, ConfigID: 1}, {AccountID: a, ConfigID: 2}, {AccountID: a, ConfigID: 3}, {AccountID: b, ConfigID: 1}})
		if err != nil {
			t.Fatal(err)
		}
		want := []app.ConfigurationRun{
			{ConfigurationKey: app.ConfigurationKey{AccountID: a, ConfigID: 1}, LastState: "Failed", LastFinished: t0.Add(-time.Hour), LastBytes: 7, LastSuccess: t0.Add(-3 * time.Hour)},
			{ConfigurationKey: app.ConfigurationKey{AccountID: a, ConfigID: 2}, LastState: "Missed", LastFinished: t0.Add(-2 * time.Hour)},
			{ConfigurationKey: app.ConfigurationKey{AccountID: b, ConfigID: 1}, LastState: "Completed", LastFinished: t0, LastBytes: 1, LastSuccess: t0},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("LatestBackups (-want +got):\n%s", diff)
		}
		if got, err := s.LatestBackups(ctx, nil); err != nil || len(got) != 0 {
			t.Errorf("no keys: %v, %v", got, err)
		}
		counts, err := s.ReportCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[app.AccountID]int64{a: 5, b: 1}, counts); diff != "" {
			t.Errorf("ReportCounts (-want +got):\n%s", diff)
		}
	})
}

// BenchmarkLatestBackups measures the snapshot part of a metrics refresh:
// 1,000 configurations with 100 stored backups each (100,000 reports).
func BenchmarkLatestBackups(b *testing.B) {
	ctx := context.Background()
	s, err := db.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a, _ := twoAccounts(b, s)
	const configs, runs = 1000, 100
	batch := make([]app.Report, 0, configs)
	for r := range runs {
		batch = batch[:0]
		for c := range configs {
			state := "Completed"
			if (r+c)%7 == 0 {
				state = "Failed"
			}
			batch = append(batch, app.Report{AccountID: a, Kind: app.KindBackup, JobID: int64(r*configs + c + 1), ConfigID: rcbu.ConfigurationID(c + 1),
				State: state, Finished: t0.Add(time.Duration(r) * time.Hour), BytesBackedUp: int64(c), Fetched: t0})
		}
		if _, err := s.InsertReports(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	keys := make([]app.ConfigurationKey, configs)
	for i := range keys {
		keys[i] = app.ConfigurationKey{AccountID: a, ConfigID: rcbu.ConfigurationID(i + 1)}
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.LatestBackups(ctx, keys)
		if err != nil || len(got) != configs {
			b.Fatalf("LatestBackups = %d, %v", len(got), err)
		}
		if _, err := s.ReportCounts(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
