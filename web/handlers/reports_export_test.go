package handlers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestExportFormatSpec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format           exportFormat
		ext, contentType string
	}{
		{exportCSV, "csv", "text/csv; charset=utf-8"},
		{exportJSON, "json", "application/json"},
	} {
		ext, ct, enc := tc.format.spec()
		if ext != tc.ext || ct != tc.contentType || enc == nil {
			t.Errorf("format %d: %q %q (encoder %v); want %q %q", tc.format, ext, ct, enc != nil, tc.ext, tc.contentType)
		}
	}
	t.Run("a format outside the constants stops the handler's construction", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("exportReports accepted format 0")
			}
		}()
		(&server{}).exportReports(nil, exportFormat(0))
	})
}

func TestReportCountsAreFlatInJSON(t *testing.T) {
	t.Parallel()
	r := app.Report{FilesSearched: 1, BytesSearched: 2, FilesBackedUp: 3, BytesBackedUp: 4, FilesRestored: 5, BytesRestored: 6, ErrorCount: 7,
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	want := map[string]float64{"files_searched": 1, "bytes_searched": 2, "files_backed_up": 3, "bytes_backed_up": 4,
		"files_restored": 5, "bytes_restored": 6, "error_count": 7}
	for name, v := range map[string]any{"export": exportRowOf(r, "a"), "api": apiReport{reportCounts: countsOf(r)}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		counts := map[string]float64{}
		for k := range want {
			n, _ := got[k].(float64)
			counts[k] = n
		}
		if d := cmp.Diff(want, counts); d != "" {
			t.Errorf("%s JSON counts (-want +got):\n%s", name, d)
		}
	}
}
