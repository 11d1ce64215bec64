package db_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

var histT0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// newHistoryStore opens a fresh store on t's database with two accounts.
func newHistoryStore(t *testing.T) (*db.Store, app.AccountID, app.AccountID) {
	t.Helper()
	ctx := context.Background()
	s := newTestStore(t)
	var ids []app.AccountID
	for _, name := range []string{"alpha", "beta"} {
		a, err := s.CreateAccount(ctx, app.Account{Name: name, Username: name, Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
			IdentityURL: "http://127.0.0.1/v2.0/tokens", Source: app.SourceAdmin, Created: histT0, Updated: histT0})
		if err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
		ids = append(ids, a.ID)
	}
	return s, ids[0], ids[1]
}

// mkReport builds a backup snapshot finished i hours after histT0.
func mkReport(acct app.AccountID, job int64, finished time.Time, opts ...func(*app.Report)) app.Report {
	r := app.Report{
		AccountID: acct, Kind: app.KindBackup, JobID: job, AgentID: 10, AgentName: "web-01", ConfigID: 100, ConfigName: "nightly",
		BackupID: rcbu.BackupID(job), State: "Completed", CanRestore: true, Started: finished.Add(-5 * time.Minute), Finished: finished,
		Duration: 5 * time.Minute, FilesSearched: 1000, BytesSearched: 1 << 30, FilesBackedUp: job, BytesBackedUp: job * 1024,
		Reason: "Success", Diagnostics: "No errors", Raw: []byte(fmt.Sprintf(`{"BackupId":%d}`, job)), Fetched: finished.Add(time.Minute),
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func withErrors(es ...app.ReportErrorEntry) func(*app.Report) {
	return func(r *app.Report) {
		r.Errors, r.ErrorCount, r.State = es, int64(len(es)), "CompletedWithErrors"
	}
}

// eachReport returns field of every report, in order.
func eachReport[T any](rs []app.Report, field func(app.Report) T) []T {
	out := make([]T, len(rs))
	for i, r := range rs {
		out[i] = field(r)
	}
	return out
}

func jobIDs(rs []app.Report) []int64 {
	return eachReport(rs, func(r app.Report) int64 { return r.JobID })
}

func TestInsertReportsIsIdempotent(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		first := []app.Report{mkReport(a, 1, histT0), mkReport(a, 2, histT0.Add(time.Hour), withErrors(app.ReportErrorEntry{Path: "/etc/x", Description: "denied"})), mkReport(b, 1, histT0)}
		n, err := s.InsertReports(ctx, first)
		if err != nil || n != 3 {
			t.Fatalf("InsertReports = %d, %v; want 3", n, err)
		}
		// The same jobs again (one with different content) plus a new one: only the new one is stored,
		// and the first snapshot stays as it was.
		changed := mkReport(a, 2, histT0.Add(time.Hour), func(r *app.Report) { r.State = "Failed"; r.Raw = []byte(`{}`) })
		n, err = s.InsertReports(ctx, []app.Report{mkReport(a, 1, histT0), changed, mkReport(a, 3, histT0.Add(2*time.Hour))})
		if err != nil || n != 1 {
			t.Fatalf("second InsertReports = %d, %v; want 1", n, err)
		}
		got, err := s.Report(ctx, []app.AccountID{a}, app.KindBackup, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "CompletedWithErrors" || string(got.Raw) != `{"BackupId":2}` || len(got.Errors) != 1 {
			t.Errorf("report 2 = state %q raw %q errors %d; want the first snapshot", got.State, got.Raw, len(got.Errors))
		}
		all, err := s.ListReports(ctx, app.ReportFilter{Accounts: []app.AccountID{a, b}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 4 {
			t.Errorf("stored %d reports; want 4", len(all))
		}
		stored, err := s.StoredJobs(ctx, a, app.KindBackup, []int64{1, 2, 3, 4})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[int64]bool{1: true, 2: true, 3: true}, stored); diff != "" {
			t.Errorf("StoredJobs (-want +got):\n%s", diff)
		}
		// A restore with the same job id is another report.
		rs := mkReport(a, 1, histT0, func(r *app.Report) { r.Kind = app.KindRestore })
		if n, err := s.InsertReports(ctx, []app.Report{rs}); err != nil || n != 1 {
			t.Errorf("restore 1 = %d, %v; want stored", n, err)
		}
	})
}

func TestReportKeepsRawBodyAndParseError(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		raw := []byte("{\"BackupId\": 7, \"State\": <garbage>\x00")
		r := mkReport(a, 7, histT0, func(r *app.Report) { r.Raw, r.ParseError = raw, "invalid character '<'" })
		if _, err := s.InsertReports(ctx, []app.Report{r}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Report(ctx, []app.AccountID{b, a}, app.KindBackup, 7)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Raw) != string(raw) || got.ParseError == "" {
			t.Errorf("got raw %q parse error %q; want the bytes as stored and the flag", got.Raw, got.ParseError)
		}
		if _, err := s.Report(ctx, []app.AccountID{b}, app.KindBackup, 7); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("report of another account: err = %v; want ErrNotFound", err)
		}
		if _, err := s.Report(ctx, []app.AccountID{a}, app.KindRestore, 7); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("restore 7: err = %v; want ErrNotFound", err)
		}
	})
}

func TestListReportsFilters(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		h := func(n int) time.Time { return histT0.Add(time.Duration(n) * time.Hour) }
		rs := []app.Report{
			mkReport(a, 1, h(0)),
			mkReport(a, 2, h(24), func(r *app.Report) { r.State = "Failed"; r.CanRestore = false }),
			mkReport(a, 3, h(48), withErrors(app.ReportErrorEntry{Path: "/var/www/secret.key", Description: "Permission denied", Exception: "EACCES"})),
			mkReport(a, 4, h(72), func(r *app.Report) { r.AgentID, r.AgentName, r.ConfigID, r.ConfigName = 11, "db-01", 101, "hourly" }),
			mkReport(a, 5, h(96), func(r *app.Report) { r.Kind = app.KindRestore; r.FilesBackedUp, r.FilesRestored = 0, 5 }),
			mkReport(b, 6, h(120), withErrors(app.ReportErrorEntry{Path: `C:\Users\Ünïcode\report.docx`, Description: "File locked"})),
			mkReport(a, 7, h(144), withErrors(app.ReportErrorEntry{Path: "/home/a/notes.txt", Description: "Vanished during backup"}, app.ReportErrorEntry{Path: "/srv/secret/data.db", Description: "Locked"})),
		}
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		both := []app.AccountID{a, b}
		tests := []struct {
			name string
			f    app.ReportFilter
			want []int64
		}{
			{"scope only, newest first", app.ReportFilter{Accounts: both}, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"one account of the scope", app.ReportFilter{Accounts: both, Account: b}, []int64{6}},
			{"an account outside the scope sees nothing", app.ReportFilter{Accounts: []app.AccountID{a}, Account: b}, []int64{}},
			{"agent", app.ReportFilter{Accounts: both, AgentID: 11}, []int64{4}},
			{"configuration", app.ReportFilter{Accounts: both, ConfigID: 101}, []int64{4}},
			{"kind restore", app.ReportFilter{Accounts: both, Kind: app.KindRestore}, []int64{5}},
			{"kind backup", app.ReportFilter{Accounts: both, Kind: app.KindBackup}, []int64{7, 6, 4, 3, 2, 1}},
			{"state", app.ReportFilter{Accounts: both, State: "Failed"}, []int64{2}},
			{"from (inclusive)", app.ReportFilter{Accounts: both, From: h(96)}, []int64{7, 6, 5}},
			{"to (exclusive)", app.ReportFilter{Accounts: both, To: h(48)}, []int64{2, 1}},
			{"from and to", app.ReportFilter{Accounts: both, From: h(24), To: h(73)}, []int64{4, 3, 2}},
			{"errors only", app.ReportFilter{Accounts: both, ErrorsOnly: true}, []int64{7, 6, 3}},
			{"full text: a word of a path", app.ReportFilter{Accounts: both, Query: "secret"}, []int64{7, 3}},
			{"full text: a prefix", app.ReportFilter{Accounts: both, Query: "permiss"}, []int64{3}},
			{"full text: every word must match", app.ReportFilter{Accounts: both, Query: "secret key"}, []int64{3}},
			{"full text: exception text", app.ReportFilter{Accounts: both, Query: "eacces"}, []int64{3}},
			{"full text: unicode and a windows path", app.ReportFilter{Accounts: both, Query: `unicode\report`}, []int64{6}},
			{"full text: a report with two matching errors is listed once", app.ReportFilter{Accounts: both, Query: "locked"}, []int64{7, 6}},
			{"full text: FTS syntax is taken as words", app.ReportFilter{Accounts: both, Query: `secret" OR "x*`}, []int64{}},
			{"full text: only punctuation matches nothing", app.ReportFilter{Accounts: both, Query: `"*()`}, []int64{}},
			{"full text and a filter", app.ReportFilter{Accounts: both, Query: "secret", To: h(100)}, []int64{3}},
			{"ascending", app.ReportFilter{Accounts: both, Asc: true, Kind: app.KindBackup, AgentID: 10, Account: a}, []int64{1, 2, 3, 7}},
			{"sort by files", app.ReportFilter{Accounts: both, Sort: app.SortFiles}, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"sort by agent ascending", app.ReportFilter{Accounts: both, Sort: app.SortAgent, Asc: true, Account: a}, []int64{4, 1, 2, 3, 5, 7}},
			{"no accounts, no rows", app.ReportFilter{}, []int64{}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tc.f.Limit = 100
				got, err := s.ListReports(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, jobIDs(got)); diff != "" {
					t.Errorf("jobs (-want +got):\n%s", diff)
				}
				// Export walks the same rows.
				var each []app.Report
				if err := s.EachReport(ctx, tc.f, func(r app.Report) error { each = append(each, r); return nil }); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, jobIDs(each)); diff != "" {
					t.Errorf("EachReport jobs (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestKeysetPaginationWalksEveryRowOnceBothWays(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		// 61 rows with many ties in every sort column, so the id tie-breaker matters.
		var rs []app.Report
		agents := []string{"a", "b", "B", "c", ""}
		for i := int64(1); i <= 61; i++ {
			rs = append(rs, mkReport(a, i, histT0.Add(time.Duration(i%7)*time.Hour), func(r *app.Report) {
				r.AgentName = agents[i%5]
				r.ConfigName = fmt.Sprintf("cfg-%d", i%3)
				r.State = app.ReportStates()[i%4]
				r.Duration = time.Duration(i%4) * time.Minute
				r.FilesBackedUp, r.BytesBackedUp, r.ErrorCount = i%5, (i%6)<<20, i%2
				if i%9 == 0 {
					r.Kind = app.KindRestore
				}
			}))
		}
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		hist := app.NewHistory(s, nil, app.NewAudit(s, time.Now, slog.New(slog.DiscardHandler)), func() time.Time { return histT0 }, slog.New(slog.DiscardHandler))
		for _, sort := range app.ReportSorts() {
			for _, asc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s asc=%v", sort, asc), func(t *testing.T) {
					base := app.ReportFilter{Accounts: []app.AccountID{a}, Sort: sort, Asc: asc}
					var want []int64
					if err := hist.Export(ctx, base, func(r app.Report) error { want = append(want, r.JobID); return nil }); err != nil {
						t.Fatal(err)
					}
					if len(want) != 61 {
						t.Fatalf("export has %d rows; want 61", len(want))
					}
					// Forwards, page by page.
					var fwd []int64
					var pages []app.ReportPage
					f := base
					f.Limit = 8
					for i := 0; ; i++ {
						if i > 20 {
							t.Fatal("paging forwards does not end")
						}
						p, err := hist.List(ctx, f)
						if err != nil {
							t.Fatal(err)
						}
						if p.HasPrev != (i > 0) {
							t.Errorf("page %d: HasPrev = %v", i, p.HasPrev)
						}
						pages = append(pages, p)
						fwd = append(fwd, jobIDs(p.Reports)...)
						if !p.HasNext {
							break
						}
						c := p.Reports[len(p.Reports)-1].Cursor(sort)
						f.After, f.Before = &c, nil
					}
					if diff := cmp.Diff(want, fwd); diff != "" {
						t.Fatalf("forward walk (-want +got):\n%s", diff)
					}
					// Backwards from the last page, using each page's first row.
					var back [][]int64
					last := pages[len(pages)-1]
					back = append(back, jobIDs(last.Reports))
					cur := last
					for i := 0; cur.HasPrev; i++ {
						if i > 20 {
							t.Fatal("paging backwards does not end")
						}
						c := cur.Reports[0].Cursor(sort)
						f.After, f.Before = nil, &c
						p, err := hist.List(ctx, f)
						if err != nil {
							t.Fatal(err)
						}
						if !p.HasNext {
							t.Errorf("a page reached backwards must have a next page")
						}
						back = append(back, jobIDs(p.Reports))
						cur = p
					}
					slices.Reverse(back)
					var bwd []int64
					for _, ids := range back {
						bwd = append(bwd, ids...)
					}
					if diff := cmp.Diff(want, bwd); diff != "" {
						t.Errorf("backward walk (-want +got):\n%s", diff)
					}
				})
			}
		}
	})
}

func TestPruneReportsDropsErrorsAndSearchEntries(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		e := app.ReportErrorEntry{Path: "/data/old.txt", Description: "ancient failure"}
		var rs []app.Report
		for i := int64(1); i <= 4500; i++ { // more than one prune chunk
			rs = append(rs, mkReport(a, i, histT0.Add(-time.Duration(4501-i)*time.Minute), withErrors(e)))
		}
		rs = append(rs, mkReport(a, 9999, histT0.Add(time.Hour), withErrors(app.ReportErrorEntry{Path: "/data/new.txt", Description: "ancient but kept"})))
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneReports(ctx, histT0)
		if err != nil || n != 4500 {
			t.Fatalf("PruneReports = %d, %v; want 4500", n, err)
		}
		got, err := s.ListReports(ctx, app.ReportFilter{Accounts: []app.AccountID{a}, Query: "ancient", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{9999}, jobIDs(got)); diff != "" {
			t.Errorf("search after prune (-want +got):\n%s", diff)
		}
		st, err := s.HistoryStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Reports != 1 || st.Errors != 1 || !st.Oldest.Equal(histT0.Add(time.Hour)) {
			t.Errorf("stats after prune = %+v; want one report with one error", st)
		}
		if n, err := s.PruneReports(ctx, histT0); err != nil || n != 0 {
			t.Errorf("second prune = %d, %v; want 0", n, err)
		}
	})
}

func TestDeletingAnAccountDropsItsHistory(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		if _, err := s.InsertReports(ctx, []app.Report{mkReport(a, 1, histT0), mkReport(b, 2, histT0, withErrors(app.ReportErrorEntry{Path: "/x/gone"}))}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSyncState(ctx, app.SyncState{AccountID: b, Cursor: histT0}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, b); err != nil {
			t.Fatal(err)
		}
		st, err := s.HistoryStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Reports != 1 || st.Errors != 0 {
			t.Errorf("after deleting account b: %d reports, %d errors; want 1, 0", st.Reports, st.Errors)
		}
	})
}

func TestAgentDaysAndRunPoints(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		day := func(d, h int) time.Time { return histT0.Add(time.Duration(d*24+h) * time.Hour) }
		rs := []app.Report{
			mkReport(a, 1, day(0, 1)),
			mkReport(a, 2, day(0, 2), func(r *app.Report) { r.State = "Failed" }),
			mkReport(a, 3, day(1, 1), func(r *app.Report) { r.State = "CompletedWithErrors" }),
			mkReport(a, 4, day(1, 2), func(r *app.Report) { r.State = "Skipped"; r.AgentID, r.AgentName = 11, "db-01" }),
			mkReport(a, 5, day(2, 0), func(r *app.Report) { r.State = "Missed" }),
			mkReport(a, 6, day(2, 0), func(r *app.Report) { r.Kind = app.KindRestore }), // restores do not count
			mkReport(b, 7, day(0, 3)),  // outside the scope
			mkReport(a, 8, day(-1, 0)), // before the range
			mkReport(a, 9, day(3, 0)),  // after the range
			mkReport(a, 10, day(0, 5), func(r *app.Report) { r.ConfigID = 101 }), // another configuration
		}
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		got, err := s.AgentDays(ctx, []app.AccountID{a}, histT0, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := []app.AgentDay{
			{AccountID: a, AgentID: 10, AgentName: "web-01", Day: 0, Success: 2, Failure: 1},
			{AccountID: a, AgentID: 10, AgentName: "web-01", Day: 1, Warning: 1},
			{AccountID: a, AgentID: 10, AgentName: "web-01", Day: 2, Failure: 1},
			{AccountID: a, AgentID: 11, AgentName: "db-01", Day: 1, Neutral: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AgentDays (-want +got):\n%s", diff)
		}
		pts, err := s.RunPoints(ctx, []app.AccountID{a}, 0, 100, histT0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, p := range pts {
			ids = append(ids, p.JobID)
		}
		if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 9}, ids); diff != "" {
			t.Errorf("RunPoints by configuration (-want +got):\n%s", diff)
		}
		pts, err = s.RunPoints(ctx, []app.AccountID{a}, 11, 0, histT0)
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != 1 || pts[0].JobID != 4 || pts[0].Duration != 5*time.Minute || pts[0].Bytes != 4*1024 {
			t.Errorf("RunPoints by agent = %+v; want job 4 with its figures", pts)
		}
	})
}

func TestSyncStateRoundTrip(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		zero, err := s.SyncState(ctx, a)
		if err != nil || !zero.Cursor.IsZero() || zero.Backfilled {
			t.Fatalf("fresh SyncState = %+v, %v; want the zero state", zero, err)
		}
		want := app.SyncState{AccountID: a, Cursor: histT0, Backfilled: true, LastStart: histT0, LastEnd: histT0.Add(time.Second), LastOK: histT0.Add(time.Second), LastError: "", LastStored: 12}
		if err := s.SaveSyncState(ctx, want); err != nil {
			t.Fatal(err)
		}
		want.LastError, want.LastStored = "Cloud Backup was unavailable", 3
		if err := s.SaveSyncState(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.SyncState(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SyncState (-want +got):\n%s", diff)
		}
		// A state for an account that is gone is dropped, not an error.
		if err := s.SaveSyncState(ctx, app.SyncState{AccountID: 9999, Cursor: histT0}); err != nil {
			t.Errorf("SaveSyncState for a missing account: %v", err)
		}
	})
}

// On PostgreSQL the server checkpoints its own log and backs itself up:
// Checkpoint does nothing and says so, and VacuumInto refuses in words
// (a conflict: the request is sound, the database is of the other kind)
// and writes no file.
func TestCheckpointAndVacuumIntoOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	s, err := db.Open(ctx, testSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res, err := s.Checkpoint(ctx); err != nil || res != (app.CheckpointResult{ServerManaged: true}) {
		t.Errorf("Checkpoint = %+v, %v; want nothing done, the server's to do", res, err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	err = s.VacuumInto(ctx, path)
	var ce *app.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(ce.Message(), "backed up with pg_dump") {
		t.Errorf("VacuumInto = %v; want a conflict saying to use pg_dump", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("VacuumInto on PostgreSQL left %s: %v", path, err)
	}
}

func TestCheckpointAndVacuumInto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, a, _ := newHistoryStore(t)
	if _, err := s.InsertReports(ctx, []app.Report{mkReport(a, 1, histT0), mkReport(a, 2, histT0)}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Busy || res.ServerManaged || res.Checkpointed != res.LogFrames {
		t.Errorf("Checkpoint = %+v; want every frame checkpointed", res)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := s.VacuumInto(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := s.VacuumInto(ctx, path); err == nil {
		t.Error("VacuumInto over an existing file succeeded; want an error")
	}
	copyStore, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	st, err := copyStore.HistoryStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reports != 2 {
		t.Errorf("the copy holds %d reports; want 2", st.Reports)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "SQLite format 3\x00" {
		t.Errorf("copy header = %q, %v; want an SQLite file", head, err)
	}
}

func TestSearchFindsErrorsStoredBeforeTheIDScheme(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		legacy := mkReport(a, 1, histT0, func(r *app.Report) { r.ErrorCount = 1 })
		if _, err := s.InsertReports(ctx, []app.Report{legacy, mkReport(a, 2, histT0, withErrors(app.ReportErrorEntry{Path: "/new/scheme.txt"}))}); err != nil {
			t.Fatal(err)
		}
		// An error row with a plain small id, as the first version stored them.
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO report_errors (id, report_id, path, description) SELECT 7, id, '/legacy/row.txt', 'old' FROM reports WHERE job_id = 1`); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string][]int64{"legacy": {1}, "scheme": {2}, "txt": {2, 1}} {
			for _, sort := range []app.ReportSort{app.SortFinished, app.SortErrors} {
				got, err := s.ListReports(ctx, app.ReportFilter{Accounts: []app.AccountID{a}, Query: q, Sort: sort, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, jobIDs(got)); diff != "" {
					t.Errorf("search %q sorted by %s (-want +got):\n%s", q, sort, diff)
				}
			}
		}
	})
}

func TestBroadSearchPagesLikeANarrowOne(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		// More matches than the planner switch, so the search walks the time index.
		var rs []app.Report
		for i := int64(1); i <= 2600; i++ {
			e := app.ReportErrorEntry{Path: fmt.Sprintf("/data/common-%d.txt", i), Description: "common failure"}
			if i%2 == 0 {
				e.Description = "rare failure"
			}
			rs = append(rs, mkReport(a, i, histT0.Add(time.Duration(i%500)*time.Minute), withErrors(e)))
		}
		rs = append(rs, mkReport(a, 9999, histT0.Add(time.Hour))) // no errors: never a match
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		hist := app.NewHistory(s, nil, app.NewAudit(s, time.Now, slog.New(slog.DiscardHandler)), func() time.Time { return histT0 }, slog.New(slog.DiscardHandler))
		for _, q := range []string{"failure", "common", "rare"} {
			var want []int64
			if err := hist.Export(ctx, app.ReportFilter{Accounts: []app.AccountID{a}, Query: q}, func(r app.Report) error { want = append(want, r.JobID); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(want) < 1300 {
				t.Fatalf("search %q matched %d; the test needs a broad search", q, len(want))
			}
			var got []int64
			f := app.ReportFilter{Accounts: []app.AccountID{a}, Query: q, Limit: 500}
			for i := 0; ; i++ {
				if i > 10 {
					t.Fatal("paging does not end")
				}
				p, err := hist.List(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, jobIDs(p.Reports)...)
				if !p.HasNext {
					break
				}
				c := p.Reports[len(p.Reports)-1].Cursor(app.SortFinished)
				f.After = &c
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("search %q paged (-want +got):\n%s", q, diff)
			}
		}
	})
}
