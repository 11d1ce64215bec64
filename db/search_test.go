package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

// One table of searches, run on both databases: the same words find the
// same reports on SQLite (FTS5) and PostgreSQL (tsvector).
func TestSearchFindsTheSameOnBothDatabases(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, a, _ := newHistoryStore(t)
		errs := map[int64]app.ReportErrorEntry{
			1: {Path: `/var/www/site-12/uploads/file-12345.dat`, Description: "The file is locked by another process."},
			2: {Path: `C:\Users\Ünïcode\report.docx`, Description: "Access denied"},
			3: {Path: `/srv/db/backup.tar.gz`, Description: "Checksum mismatch", Exception: "java.io.IOException: stream closed"},
			4: {Path: `/home/jörg/naïve-notes.txt`, Description: "File vanished during backup"},
			5: {Path: `/data/日本語/ファイル.txt`, Description: "read error"},
		}
		var rs []app.Report
		for job, e := range errs {
			rs = append(rs, mkReport(a, job, histT0.Add(time.Duration(job)*time.Hour), withErrors(e)))
		}
		if _, err := s.InsertReports(ctx, rs); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			q    string
			want []int64
		}{
			{"locked", []int64{1}},
			{"LOCKED process", []int64{1}},
			{"file-12345", []int64{1}},
			{"1234", []int64{1}}, // no whole word: the last one matches as a prefix
			{"file", []int64{1, 4}},
			{"backup", []int64{3, 4}},
			{"unicode", []int64{2}},
			{"Ünïcode report", []int64{2}},
			{"jorg", []int64{4}},
			{"naive notes", []int64{4}},
			{"io", []int64{3}},
			{"ioexception", []int64{3}},
			{"tar gz", []int64{3}},
			{"vanish", []int64{4}},
			{"日本語", []int64{5}},
			{`secret" OR "x*`, nil},
			{"locked denied", nil},
			{"--", nil},
		} {
			list, err := s.ListReports(ctx, app.ReportFilter{Accounts: []app.AccountID{a}, Query: tc.q})
			if err != nil {
				t.Fatalf("%q: %v", tc.q, err)
			}
			got := jobIDs(list)
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(x, y []int64) bool { return slices.Equal(x, y) })); diff != "" {
				t.Errorf("search %q (-want +got):\n%s", tc.q, diff)
			}
		}
		// The matching error is shown with its matches marked.
		list, err := s.ListReports(ctx, app.ReportFilter{Accounts: []app.AccountID{a}, Query: "locked"})
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %v, %v", list, err)
		}
		snips, err := s.ReportSnippets(ctx, []app.SnapshotID{list[0].ID}, "locked")
		if err != nil {
			t.Fatal(err)
		}
		if snip := snips[list[0].ID]; !strings.Contains(snip, app.SnippetOpen+"locked"+app.SnippetClose) {
			t.Errorf("snippet = %q, want locked marked", snip)
		}
	})
}
