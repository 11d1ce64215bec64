package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// TestReportFilterIsOneForPageExportAndAPI checks that the same query
// string selects the same reports, in the same order, on /reports, in both
// exports and from /api/v1/reports, including a date-only "to", which takes
// in the whole day everywhere.
func TestReportFilterIsOneForPageExportAndAPI(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var rs []app.Report
	for i := range 40 {
		// Three days, two runs at the day's last minutes: "to" must keep them.
		fin := day.Add(time.Duration(i/13)*24*time.Hour + time.Duration(i%13)*110*time.Minute)
		if i%13 == 12 {
			fin = day.Add(time.Duration(i/13)*24*time.Hour + 23*time.Hour + 59*time.Minute)
		}
		r := app.Report{AccountID: ae.demo.ID, Kind: app.KindBackup, JobID: int64(100 + i), AgentID: rcbu.AgentID(7 + i%2), AgentName: "web-" + strconv.Itoa(i%3),
			ConfigID: rcbu.ConfigurationID(100 + i%4), ConfigName: "cfg-" + strconv.Itoa(i%4), State: []string{"Completed", "Failed", "CompletedWithErrors"}[i%3],
			Started: fin.Add(-time.Minute), Finished: fin, BytesBackedUp: int64(i % 5), Fetched: fin}
		if i%3 == 2 {
			r.ErrorCount = 1
			r.Errors = []app.ReportErrorEntry{{Path: fmt.Sprintf("/data/f-%d", i), Description: "The file is locked"}}
		}
		rs = append(rs, r)
	}
	if _, err := ae.store.InsertReports(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	ck := ae.loginRole(app.RoleObserver)
	tok := ae.token(t, app.RoleObserver)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 40},
		{"to=2026-03-01", 13},
		{"from=2026-03-02&to=2026-03-02", 13},
		{"to=2026-03-01T23:59:00Z", 12},
		{"state=failed&sort=bytes", 13},
		{"config=101&dir=asc&sort=agent", 10},
		{"q=locked&sort=errors", 13},
		{"agent=8&kind=backup&errors=yes&sort=duration", 6},
	} {
		t.Run(tc.query, func(t *testing.T) {
			page := rowJobs(ae.get("/reports?"+tc.query, ck), t)
			if len(page) != tc.want {
				t.Fatalf("page: %d rows; want %d", len(page), tc.want)
			}
			rec := ae.get("/reports/export.csv?"+tc.query, ck)
			records, err := csv.NewReader(rec.Body).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var exported []string
			for _, r := range records[1:] {
				exported = append(exported, r[3])
			}
			if diff := cmp.Diff(page, exported); diff != "" {
				t.Errorf("CSV export differs from the page (-page +export):\n%s", diff)
			}
			var v reportsJSON
			rec = ae.apiGet("/api/v1/reports?limit=500&"+tc.query, tok)
			if rec.Code != http.StatusOK {
				t.Fatalf("API: %d %s", rec.Code, rec.Body.String())
			}
			decode(t, rec, &v)
			var api []string
			for _, r := range v.Reports {
				api = append(api, strconv.FormatInt(r.JobID, 10))
			}
			if diff := cmp.Diff(page, api); diff != "" {
				t.Errorf("API differs from the page (-page +API):\n%s", diff)
			}
		})
	}
}

// TestReportCursorIsOneFormat follows the page's Next link with the API and
// the API's next_cursor with the page: both read the same cursor. A cursor
// that does not parse starts the page from the first row with a note, and
// is a 400 from the API.
func TestReportCursorIsOneFormat(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ae.seedReports(t, 120)
	ck := ae.loginRole(app.RoleObserver)
	tok := ae.token(t, app.RoleObserver)

	d := doc(t, ae.get("/reports?sort=bytes", ck))
	next, err := url.Parse(testid(d, "older").AttrOr("href", ""))
	if err != nil || next.Query().Get("after") == "" {
		t.Fatalf("no Next link: %v", err)
	}
	pageTwo := rowJobs(ae.get(next.String(), ck), t)
	var v reportsJSON
	decode(t, ae.apiGet("/api/v1/reports?sort=bytes&cursor="+url.QueryEscape(next.Query().Get("after")), tok), &v)
	var api []string
	for _, r := range v.Reports {
		api = append(api, strconv.FormatInt(r.JobID, 10))
	}
	if diff := cmp.Diff(pageTwo, api); diff != "" {
		t.Errorf("the API from the page's cursor (-page +API):\n%s", diff)
	}
	if v.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	pageThree := rowJobs(ae.get("/reports?sort=bytes&after="+url.QueryEscape(*v.NextCursor), ck), t)
	if len(pageThree) != 20 || slices.Contains(pageTwo, pageThree[0]) {
		t.Errorf("the page from the API's cursor: %v", pageThree)
	}

	first := rowJobs(ae.get("/reports", ck), t)
	for _, bad := range []string{"!!", "eyJzIjoiZmluaXNoZWQifQ", strings.Repeat("A", 3000), *v.NextCursor} { // garbage, no id, too long, another sort
		rec := ae.get("/reports?after="+url.QueryEscape(bad), ck)
		if rec.Code != http.StatusOK {
			t.Fatalf("cursor %.20q: status %d", bad, rec.Code)
		}
		if got := rowJobs(rec, t); !slices.Equal(got, first) {
			t.Errorf("cursor %.20q: not the first page", bad)
		}
		if testid(doc(t, rec), "filter-note").Length() != 1 {
			t.Errorf("cursor %.20q: no note", bad)
		}
		if rec := ae.apiGet("/api/v1/reports?cursor="+url.QueryEscape(bad), tok); rec.Code != http.StatusBadRequest {
			t.Errorf("API cursor %.20q: status %d, want 400", bad, rec.Code)
		}
	}
}
