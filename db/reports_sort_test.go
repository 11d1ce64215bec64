package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// TestEverySortPagesEveryFilter pages through every sort, both directions,
// under the filters the history page offers, with the plans that drive from
// a filter and (with the drive limit lowered) the plans that walk the
// sort's index, and checks each walk against the same selection sorted in
// Go: no row twice, none missing, ties broken by id, forwards and back.
func TestEverySortPagesEveryFilter(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s, a, b := newHistoryStore(t)
		words := map[int64]string{} // job → its error text
		var rs []app.Report
		for i := int64(1); i <= 72; i++ {
			acct := a
			if i%4 == 0 {
				acct = b
			}
			r := mkReport(acct, i, histT0.Add(time.Duration(i%37)*time.Hour), func(r *app.Report) {
				r.AgentID = rcbu.AgentID(10 + i%3)
				r.AgentName = []string{"web", "db", "Web", ""}[i%4]
				r.ConfigID = rcbu.ConfigurationID(100 + i%5)
				r.ConfigName = fmt.Sprintf("cfg-%d", i%5)
				r.State = app.ReportStates()[i%6]
				r.Started = r.Finished.Add(-time.Duration(i%4) * time.Minute)
				r.Duration = time.Duration(i%4) * time.Minute
				r.FilesBackedUp, r.BytesBackedUp = i%7, (i%5)<<20
				if i%11 == 0 {
					r.Kind, r.FilesBackedUp, r.BytesBackedUp, r.FilesRestored, r.BytesRestored = app.KindRestore, 0, 0, i%3, (i%4)<<20
				}
			})
			if i%3 != 1 {
				text := "The file is locked by another process"
				if i%17 == 0 {
					text = "A rare disk fault"
				}
				words[i] = text
				var es []app.ReportErrorEntry
				for k := range 1 + i%3 {
					es = append(es, app.ReportErrorEntry{ListIndex: int64(k), Path: fmt.Sprintf("/srv/f-%d-%d", i, k), Description: text})
				}
				state := r.State
				withErrors(es...)(&r)
				r.State = state // errors in every state, so that state and search filters overlap
			}
			rs = append(rs, r)
		}
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		hist := app.NewHistory(s, nil, app.NewAudit(s, time.Now, log), func() time.Time { return histT0 }, log)
		// Every stored row, with its snapshot id, to filter and sort in Go.
		var all []app.Report
		if err := hist.Export(ctx, app.ReportFilter{Accounts: []app.AccountID{a, b}}, func(r app.Report) error { all = append(all, r); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(all) != len(rs) {
			t.Fatalf("stored %d of %d", len(all), len(rs))
		}
		from, to := histT0.Add(5*time.Hour), histT0.Add(20*time.Hour)
		filters := []struct {
			name string
			f    app.ReportFilter
			keep func(app.Report) bool
		}{
			{"none", app.ReportFilter{}, func(app.Report) bool { return true }},
			{"both accounts", app.ReportFilter{Accounts: []app.AccountID{a, b}}, func(app.Report) bool { return true }},
			{"configuration", app.ReportFilter{ConfigID: 102}, func(r app.Report) bool { return r.ConfigID == 102 }},
			{"agent", app.ReportFilter{AgentID: 11}, func(r app.Report) bool { return r.AgentID == 11 }},
			{"state", app.ReportFilter{State: "Failed"}, func(r app.Report) bool { return r.State == "Failed" }},
			{"kind", app.ReportFilter{Kind: app.KindRestore}, func(r app.Report) bool { return r.Kind == app.KindRestore }},
			{"dates", app.ReportFilter{From: from, To: to}, func(r app.Report) bool { return !r.Finished.Before(from) && r.Finished.Before(to) }},
			{"errors only", app.ReportFilter{ErrorsOnly: true}, func(r app.Report) bool { return r.ErrorCount > 0 }},
			{"a common word", app.ReportFilter{Query: "locked"}, func(r app.Report) bool { return strings.Contains(words[r.JobID], "locked") }},
			{"a rare word", app.ReportFilter{Query: "rare"}, func(r app.Report) bool { return strings.Contains(words[r.JobID], "rare") }},
			{"word and configuration", app.ReportFilter{Query: "locked", ConfigID: 103}, func(r app.Report) bool {
				return r.ConfigID == 103 && strings.Contains(words[r.JobID], "locked")
			}},
			{"word, both accounts", app.ReportFilter{Accounts: []app.AccountID{a, b}, Query: "locked"}, func(r app.Report) bool { return strings.Contains(words[r.JobID], "locked") }},
		}
		for _, plan := range []struct {
			name  string
			limit int
		}{{"driven by a filter", 5000}, {"walking the sort index", 3}} {
			db.SetDriveLimit(s, plan.limit)
			for _, fc := range filters {
				for _, sort := range app.ReportSorts() {
					for _, asc := range []bool{false, true} {
						name := fmt.Sprintf("%s/%s/%s asc=%v", plan.name, fc.name, sort, asc)
						f := fc.f
						if f.Accounts == nil {
							f.Accounts = []app.AccountID{a}
						}
						f.Sort, f.Asc, f.Limit = sort, asc, 10
						var want []app.Report
						for _, r := range all {
							if slices.Contains(f.Accounts, r.AccountID) && fc.keep(r) {
								want = append(want, r)
							}
						}
						if len(want) == 0 {
							t.Fatalf("%s: the test data selects nothing", name)
						}
						app.SortReports(want, sort, asc)
						checkPaging(t, hist, name, f, snapshotIDs(want))
					}
				}
			}
		}
	})
}

// checkPaging walks f forwards to the end and back to the start and
// compares both walks with want (snapshot ids in order), and the export too.
func checkPaging(t *testing.T, hist *app.History, name string, f app.ReportFilter, want []app.SnapshotID) {
	t.Helper()
	ctx := context.Background()
	var fwd []app.SnapshotID
	var pages []app.ReportPage
	for i := 0; ; i++ {
		if i > len(want) {
			t.Fatalf("%s: paging forwards does not end", name)
		}
		p, err := hist.List(ctx, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pages = append(pages, p)
		fwd = append(fwd, snapshotIDs(p.Reports)...)
		if !p.HasNext {
			break
		}
		c := p.Reports[len(p.Reports)-1].Cursor(f.Sort)
		f.After, f.Before = &c, nil
	}
	if diff := cmp.Diff(want, fwd); diff != "" {
		t.Fatalf("%s: forwards (-want +got):\n%s", name, diff)
	}
	var back []app.SnapshotID
	cur := pages[len(pages)-1]
	back = append(snapshotIDs(cur.Reports), back...)
	for i := 0; cur.HasPrev; i++ {
		if i > len(want) {
			t.Fatalf("%s: paging backwards does not end", name)
		}
		c := cur.Reports[0].Cursor(f.Sort)
		f.After, f.Before = nil, &c
		p, err := hist.List(ctx, f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back = append(snapshotIDs(p.Reports), back...)
		cur = p
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Fatalf("%s: backwards (-want +got):\n%s", name, diff)
	}
	f.After, f.Before = nil, nil
	var exp []app.SnapshotID
	if err := hist.Export(ctx, f, func(r app.Report) error { exp = append(exp, r.ID); return nil }); err != nil {
		t.Fatalf("%s: export: %v", name, err)
	}
	if diff := cmp.Diff(want, exp); diff != "" {
		t.Fatalf("%s: export (-want +got):\n%s", name, diff)
	}
}

func snapshotIDs(rs []app.Report) []app.SnapshotID {
	return eachReport(rs, func(r app.Report) app.SnapshotID { return r.ID })
}

// TestSortPlansWalkAnIndex checks with EXPLAIN QUERY PLAN that an
// unfiltered page, and a search that matches many errors, read the sort's
// own index in order (no temporary b-tree over the selection, only over the
// page), and that a selective filter drives the query from its index.
func TestSortPlansWalkAnIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, a, _ := newHistoryStore(t)
	var rs []app.Report
	for i := int64(1); i <= 40; i++ {
		rs = append(rs, mkReport(a, i, histT0.Add(time.Duration(i)*time.Minute), withErrors(app.ReportErrorEntry{Path: "/x", Description: "locked"}),
			func(r *app.Report) { r.ConfigID = rcbu.ConfigurationID(100 + i%2) }))
	}
	if _, err := s.InsertReports(ctx, rs); err != nil {
		t.Fatal(err)
	}
	db.SetDriveLimit(s, 25) // 40 matches: a broad search here; 20 runs of a configuration drive
	for _, sort := range app.ReportSorts() {
		for _, asc := range []bool{false, true} {
			for _, tc := range []struct {
				name  string
				f     app.ReportFilter
				index string
			}{
				{"no filter", app.ReportFilter{}, "_sort_"},
				{"a broad search", app.ReportFilter{Query: "locked"}, "_errsort_"},
				{"one configuration", app.ReportFilter{ConfigID: 100}, "reports_config_finished"},
			} {
				f := tc.f
				f.Accounts, f.Sort, f.Asc = []app.AccountID{a}, sort, asc
				plan, err := db.ExplainReports(ctx, s, f)
				if err != nil {
					t.Fatal(err)
				}
				index := tc.index
				if sort == app.SortFinished && index == "_sort_" {
					index = "reports_account_finished"
				} else if sort == app.SortFinished && index == "_errsort_" {
					index = "reports_errors_finished"
				}
				if !strings.Contains(plan, "INDEX "+index) && !strings.Contains(plan, index+string(sort)) {
					t.Errorf("%s sorted by %s asc=%v: plan does not use %s:\n%s", tc.name, sort, asc, index, plan)
				}
				// One temporary b-tree orders the page's own rows; a second
				// would sort the whole selection.
				if tc.index != "reports_config_finished" && strings.Count(plan, "TEMP B-TREE") > 1 {
					t.Errorf("%s sorted by %s asc=%v sorts the selection:\n%s", tc.name, sort, asc, plan)
				}
			}
		}
	}
}
