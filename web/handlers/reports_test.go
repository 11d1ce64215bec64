package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/pgtest"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// reportsEnv is the real HTTP stack with the report history wired in.
type reportsEnv struct {
	*testEnv
	history *app.History
	syncer  *app.Syncer
}

func newReportsEnv(t *testing.T) *reportsEnv {
	t.Helper()
	return newReportsEnvOn(t, "")
}

// newReportsEnvOn is newReportsEnv over the database dsn names (an SQLite
// file or a PostgreSQL URL; empty: a new SQLite file).
func newReportsEnvOn(t *testing.T, dsn string) *reportsEnv {
	t.Helper()
	te, deps := buildTestEnv(t, envOptions{dbPath: dsn})
	return &reportsEnv{testEnv: te, history: deps.History, syncer: deps.Syncer}
}

// seed stores n backup reports of the demo account, one an hour back from
// the clock; every tenth has an error under /secret, every seventh is a
// restore.
func (re *reportsEnv) seed(t *testing.T, n int) []app.Report {
	t.Helper()
	now := re.clock.Now()
	var rs []app.Report
	for i := 1; i <= n; i++ {
		fin := now.Add(-time.Duration(i) * time.Hour)
		r := app.Report{
			AccountID: re.demo.ID, Kind: app.KindBackup, JobID: int64(5000 + i), AgentID: 42, AgentName: "web-01", ConfigID: 77, ConfigName: "nightly",
			BackupID: rcbu.BackupID(5000 + i), State: "Completed", CanRestore: true, Started: fin.Add(-3 * time.Minute), Finished: fin, Duration: 3 * time.Minute,
			FilesBackedUp: int64(i), BytesBackedUp: int64(i) << 20, Raw: []byte(fmt.Sprintf(`{"BackupId":%d}`, 5000+i)), Fetched: now,
		}
		if i%7 == 0 {
			r.Kind, r.CanRestore, r.FilesRestored, r.FilesBackedUp, r.BytesBackedUp = app.KindRestore, false, 3, 0, 0
		}
		if i%10 == 0 {
			r.State, r.ErrorCount = "CompletedWithErrors", 1
			r.Errors = []app.ReportErrorEntry{{ListIndex: 1, ErrorType: 101, Code: 13, Path: fmt.Sprintf("/secret/file-%d.key", i), Description: "Permission denied", Exception: "EACCES"}}
		}
		if i == 3 {
			r.AgentName, r.ConfigName = `<script>alert(1)</script>`, `=HYPERLINK("http://x")`
		}
		rs = append(rs, r)
	}
	if _, err := re.store.InsertReports(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func rowJobs(rec *httptest.ResponseRecorder, t *testing.T) []string {
	t.Helper()
	var out []string
	testid(doc(t, rec), "report-row").Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("data-job", ""))
	})
	return out
}

func TestReportsPageListsFiltersAndPages(t *testing.T) {
	t.Parallel()
	re := newReportsEnv(t)
	re.seed(t, 120)
	ck := re.loginRole(app.RoleObserver)

	rec := re.get("/reports", ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /reports: %d\n%s", rec.Code, rec.Body.String())
	}
	d := doc(t, rec)
	if n := testid(d, "report-row").Length(); n != app.DefaultReportPageSize {
		t.Fatalf("first page has %d rows; want %d", n, app.DefaultReportPageSize)
	}
	if testid(d, "newer").Length() != 0 || testid(d, "older").Length() != 1 {
		t.Error("the first page should offer Next only")
	}
	if testid(d, "sync-now").Length() != 0 {
		t.Error("an observer sees Sync now")
	}
	if testid(d, "chart").Length() == 0 || testid(d, "chart-table").Length() == 0 {
		t.Error("the success-rate chart and its table are missing")
	}
	if strings.Contains(rec.Body.String(), "<script>alert(1)") {
		t.Error("an agent name from the API was not escaped")
	}

	// Walk all pages forwards: every report once, newest first.
	seen := map[string]bool{}
	next := "/reports"
	var order []string
	for i := 0; next != ""; i++ {
		if i > 5 {
			t.Fatal("paging does not end")
		}
		rec := re.get(next, ck)
		d := doc(t, rec)
		for _, j := range rowJobs(rec, t) {
			if seen[j] {
				t.Fatalf("report %s listed twice", j)
			}
			seen[j] = true
			order = append(order, j)
		}
		next = testid(d, "older").AttrOr("href", "")
		if i == 1 {
			// Previous from the second page is the first page.
			prev := testid(d, "newer").AttrOr("href", "")
			if got := rowJobs(re.get(prev, ck), t); strings.Join(got, ",") != strings.Join(order[:50], ",") {
				t.Errorf("Previous from page 2 = %v; want page 1", got)
			}
		}
	}
	if len(seen) != 120 || order[0] != "5001" || order[119] != "5120" {
		t.Errorf("walked %d reports, first %s last %s; want 120 from 5001 to 5120", len(seen), order[0], order[len(order)-1])
	}

	tests := []struct {
		name  string
		query string
		want  int
		notes int
	}{
		{"kind", "kind=restore", 17, 0},
		{"state", "state=CompletedWithErrors", 12, 0},
		{"errors only", "errors=1", 12, 0},
		{"full text", "q=secret+file-20", 1, 0},
		{"agent and config", "agent=42&config=77&kind=backup", 50, 0},
		{"another agent", "agent=43", 0, 0},
		{"dates in the user's zone", "from=2026-03-02&to=2026-03-02", 15, 0},
		{"a name that matches nothing shows nothing, with a note", "agent=no+such+agent", 0, 1},
		{"garbage is ignored with notes", "agent=0&config=-3&kind=cleanup&state=Exploded&from=yesterday&to=2026-02-31&errors=maybe&sort=size&dir=up&after=!!&account=999", 50, 11},
		{"a cursor for another sort is ignored", "sort=agent&after=n.5.5", 50, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := re.get("/reports?"+tc.query, ck)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
			}
			d := doc(t, rec)
			if n := testid(d, "report-row").Length(); n != tc.want {
				t.Errorf("%d rows; want %d", n, tc.want)
			}
			if n := testid(d, "filter-note").Length(); n != tc.notes {
				t.Errorf("%d notes; want %d: %q", n, tc.notes, testid(d, "filter-note").Text())
			}
		})
	}

	// Sorting: the header links sort, and say how.
	rec = re.get("/reports?sort=bytes", ck)
	d = doc(t, rec)
	if got := d.Find(`th[aria-sort="descending"]`).Text(); !strings.Contains(got, "Bytes") {
		t.Errorf("sorted column header = %q; want Bytes, descending", got)
	}
	if jobs := rowJobs(rec, t); jobs[0] != "5120" {
		t.Errorf("largest backup first = %s; want 5120", jobs[0])
	}
	if href := d.Find(`th[aria-sort] a`).AttrOr("href", ""); !strings.Contains(href, "dir=asc") {
		t.Errorf("clicking the sorted column again should flip the order: %q", href)
	}

	// htmx asks for the results only.
	rec = re.do(req{path: "/reports?kind=restore", cookie: ck, headers: map[string]string{"HX-Request": "true"}})
	if body := rec.Body.String(); strings.Contains(body, "<html") || !strings.Contains(body, `id="report-results"`) {
		t.Errorf("htmx response is not the results fragment:\n%.300s", body)
	}
	if n := testid(doc(t, rec), "report-row").Length(); n != 17 {
		t.Errorf("fragment has %d rows; want 17", n)
	}
	// A history restore by htmx needs the whole page.
	rec = re.do(req{path: "/reports", cookie: ck, headers: map[string]string{"HX-Request": "true", "HX-History-Restore-Request": "true"}})
	if !strings.Contains(rec.Body.String(), "<html") {
		t.Error("a history restore got a fragment")
	}

	// Filtered to one configuration, the run charts come first.
	d = doc(t, re.get("/reports?config=77", ck))
	if testid(d, "run-charts").Length() != 1 || testid(d, "chart").Length() != 4 {
		t.Errorf("config filter: %d run-chart sections, %d charts; want 1 and 4", testid(d, "run-charts").Length(), testid(d, "chart").Length())
	}
}

func TestReportPage(t *testing.T) {
	t.Parallel()
	re := newReportsEnv(t)
	re.seed(t, 20)
	obs, cre := re.loginRole(app.RoleObserver), re.loginRole(app.RoleCreator)

	rec := re.get("/reports/backup/5010", cre)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
	}
	d := doc(t, rec)
	if got := testid(d, "report-heading").Text(); got != "Backup 5010 of nightly" {
		t.Errorf("heading %q", got)
	}
	if p := testid(d, "report-error").Find("code").Text(); p != "/secret/file-10.key" {
		t.Errorf("error path %q", p)
	}
	if h := testid(d, "agent-link").AttrOr("href", ""); h != "/agents/42" {
		t.Errorf("agent link %q", h)
	}
	if h := testid(d, "config-link").AttrOr("href", ""); h != "/configurations/77" {
		t.Errorf("configuration link %q", h)
	}
	if h := testid(d, "restore-from").AttrOr("href", ""); h != "/restores/new?configuration=77&backup=5010" {
		t.Errorf("restore link %q", h)
	}
	// A run with errors starts with its cause, then its files, figures after.
	if got := testid(d, "report-cause-summary").Text(); got != "This backup finished, but some files were not backed up." {
		t.Errorf("cause %q", got)
	}
	if testid(d, "report-cause").Find(`[data-testid="report-error"]`).Length() != 1 {
		t.Error("the files with errors are not under the cause")
	}
	if html, _ := d.Html(); strings.Index(html, `data-testid="report-cause"`) > strings.Index(html, `data-testid="report-fields"`) {
		t.Error("the figures come before the cause")
	}
	if testid(doc(t, re.get("/reports/backup/5001", cre)), "report-cause").Length() != 0 {
		t.Error("a clean run shows a cause")
	}
	if raw := testid(d, "report-raw").Find("code").Text(); raw != `{"BackupId":5010}` {
		t.Errorf("raw body %q", raw)
	}
	if testid(doc(t, re.get("/reports/backup/5010", obs)), "restore-from").Length() != 0 {
		t.Error("an observer is offered a restore")
	}
	if testid(doc(t, re.get("/reports/restore/5007", cre)), "restore-from").Length() != 0 {
		t.Error("a restore report offers a restore")
	}
	for _, p := range []string{"/reports/backup/999999", "/reports/cleanup/5010", "/reports/backup/abc", "/reports/backup/-1",
		"/reports/backup/5010?account=999", "/reports/backup/5010?account=x", "/reports/restore/5010"} {
		if rec := re.get(p, obs); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d; want 404", p, rec.Code)
		}
	}
}

func TestReportPageSnapshotsAFinishedJobOnView(t *testing.T) {
	t.Parallel()
	re := newReportsEnv(t)
	ctx := context.Background()
	agent := re.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: `db "primary"`, Online: true})
	cfg, err := re.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := re.accounts.Client(ctx, re.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cl.Backups.Start(ctx, rcbu.ConfigurationID(cfg))
	if err != nil {
		t.Fatal(err)
	}
	ck := re.loginRole(app.RoleObserver)
	path := "/reports/backup/" + strconv.FormatInt(int64(b.ID), 10)
	if rec := re.get(path, ck); rec.Code != http.StatusNotFound {
		t.Errorf("a running backup's report: %d; want 404", rec.Code)
	}
	re.sim.Advance(6 * time.Hour)
	rec := re.get(path, ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("finished backup's report: %d\n%s", rec.Code, rec.Body.String())
	}
	if _, err := re.store.Report(ctx, []app.AccountID{re.demo.ID}, app.KindBackup, int64(b.ID)); err != nil {
		t.Errorf("viewing did not snapshot the report: %v", err)
	}
	// Cloud Backup failing for a report nobody stored: a banner, not a 500.
	re.sim.FailNext(rcbusim.OpGetBackupReport, http.StatusServiceUnavailable)
	re.sim.FailNext(rcbusim.OpGetBackupReport, http.StatusServiceUnavailable)
	re.sim.FailNext(rcbusim.OpGetBackupReport, http.StatusServiceUnavailable)
	re.sim.FailNext(rcbusim.OpGetBackupReport, http.StatusServiceUnavailable)
	b2, err := cl.Backups.Start(ctx, rcbu.ConfigurationID(cfg))
	if err != nil {
		t.Fatal(err)
	}
	re.sim.Advance(6 * time.Hour)
	rec = re.get("/reports/backup/"+strconv.FormatInt(int64(b2.ID), 10), ck)
	if rec.Code != http.StatusBadGateway || testid(doc(t, rec), "error-banner").Length() != 1 || testid(doc(t, rec), "retry").Length() != 1 {
		t.Errorf("upstream failure: %d\n%.500s", rec.Code, rec.Body.String())
	}
}

func TestSyncNowAndRoles(t *testing.T) {
	t.Parallel()
	re := newReportsEnv(t)
	if rec := re.post("/reports/sync", nil, re.loginRole(app.RoleObserver)); rec.Code != http.StatusForbidden {
		t.Errorf("observer sync: %d; want 403", rec.Code)
	}
	ck := re.loginRole(app.RoleCreator)
	rec := re.post("/reports/sync", url.Values{"return": {"/reports?kind=backup"}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/reports?kind=backup" {
		t.Errorf("sync: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	rec = re.post("/reports/sync", url.Values{"return": {"https://evil.example/"}}, ck)
	if rec.Header().Get("Location") != "/reports" {
		t.Errorf("sync with a foreign return: redirected to %q", rec.Header().Get("Location"))
	}
	entries, err := re.store.ListAudit(context.Background(), app.AuditFilter{Action: app.ActionReportsSync, Limit: 10})
	if err != nil || len(entries) != 2 {
		t.Errorf("audit entries for sync: %d, %v; want 2", len(entries), err)
	}
	d := doc(t, re.get("/reports", ck))
	if testid(d, "sync-now").Length() != 1 || testid(d, "sync-row").Length() != 1 {
		t.Error("a creator does not see the sync panel with Sync now")
	}
	for _, p := range []string{"/reports", "/reports/export.csv", "/reports/export.json", "/reports/backup/1"} {
		if rec := re.get(p, nil); !redirectsToLogin(rec) {
			t.Errorf("anonymous GET %s: %d", p, rec.Code)
		}
	}
}

func TestExportCSVAndJSON(t *testing.T) {
	t.Parallel()
	re := newReportsEnv(t)
	re.seed(t, 30)
	ck := re.loginRole(app.RoleObserver)

	rec := re.get("/reports/export.csv?kind=backup&errors=1", ck)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Content-Disposition"))
	}
	records, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 4 || records[0][3] != "job_id" || records[1][3] != "5010" || records[1][9] != "CompletedWithErrors" {
		t.Errorf("CSV records = %v", records)
	}

	rec = re.get("/reports/export.csv?q=nomatch", ck)
	records, err = csv.NewReader(rec.Body).ReadAll()
	if err != nil || len(records) != 1 {
		t.Errorf("empty CSV: %v, %v; want the header only", records, err)
	}
	// A name that a spreadsheet would run as a formula is defused.
	rec = re.get("/reports/export.csv", ck)
	if !strings.Contains(rec.Body.String(), `'=HYPERLINK(""http://x"")`) {
		t.Error("a formula-like name was not defused")
	}

	rec = re.get("/reports/export.json?kind=restore", ck)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var rows []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil {
		t.Fatalf("JSON export is not valid JSON: %v\n%s", err, rec.Body.String())
	}
	if len(rows) != 4 || rows[0]["kind"] != "restore" || rows[0]["job_id"] != float64(5007) {
		t.Errorf("JSON rows = %v", rows)
	}
	if len(rows) > 0 && (rows[0]["state"] != "Completed" || rows[0]["state_words"] != "Completed") {
		t.Errorf("JSON export keeps the raw state beside its words: %v", rows[0])
	}
	rec = re.get("/reports/export.json?state=Failed", ck)
	if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil || len(rows) != 0 {
		t.Errorf("empty JSON export: %v, %v; want []", rows, err)
	}
}

// streamCounter is a ResponseWriter that keeps no body: it counts bytes and
// lines, and at every Flush samples the heap, so a test can tell a stream
// from a buffered answer.
type streamCounter struct {
	header      http.Header
	status      int
	bytes       int64
	lines       int64
	flushes     int
	firstFlush  int64 // bytes written when the first Flush came
	baseHeap    uint64
	maxHeapGrow uint64
	jsonTail    []byte
}

func (w *streamCounter) Header() http.Header { return w.header }
func (w *streamCounter) WriteHeader(s int)   { w.status = s }
func (w *streamCounter) Write(b []byte) (int, error) {
	w.bytes += int64(len(b))
	w.lines += int64(bytes.Count(b, []byte("\n")))
	w.jsonTail = append(w.jsonTail, b...)
	if len(w.jsonTail) > 64 {
		w.jsonTail = w.jsonTail[len(w.jsonTail)-64:]
	}
	return len(b), nil
}
func (w *streamCounter) Flush() {
	if w.flushes == 0 {
		w.firstFlush = w.bytes
	}
	w.flushes++
	if w.flushes%20 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > w.baseHeap && ms.HeapInuse-w.baseHeap > w.maxHeapGrow {
			w.maxHeapGrow = ms.HeapInuse - w.baseHeap
		}
	}
}

func TestExportStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a large export")
	}
	n := exportTestRows
	re := newReportsEnv(t)
	ctx := context.Background()
	// Generated inside SQLite: fast even under the race detector.
	_, err := re.store.DB().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO reports (account_id, kind, job_id, agent_id, agent_name, config_id, config_name, backup_id, state, started_unix, finished_unix,
			duration_s, files_backed_up, bytes_backed_up, reason, diagnostics, raw, fetched_unix)
		SELECT ?, 'backup', 1000000 + i, 40 + i % 50, 'agent-' || (i % 50), 900 + i % 200, 'config-' || (i % 200), 1000000 + i,
			CASE WHEN i % 17 = 0 THEN 'Failed' ELSE 'Completed' END, 1700000000 + i * 60, 1700000000 + i * 60 + 300,
			300, i % 5000, i * 1024, 'Success', 'No errors', CAST('{}' AS BLOB), 1772463845 FROM n`, n, int64(re.demo.ID))
	if err != nil {
		t.Fatal(err)
	}
	ck := re.loginRole(app.RoleObserver)
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			w := &streamCounter{header: http.Header{}, baseHeap: ms.HeapInuse}
			r := httptest.NewRequest(http.MethodGet, "/reports/export."+format, nil)
			r.AddCookie(ck)
			re.e.ServeHTTP(w, r)
			if w.status != http.StatusOK {
				t.Fatalf("status %d", w.status)
			}
			wantLines := int64(n + 1) // a header or "[", then a line per row
			if format == "json" {
				wantLines = int64(n + 2) // "[", the rows, "]"
				if !bytes.HasSuffix(w.jsonTail, []byte("}\n]\n")) {
					t.Errorf("JSON does not end the array: %q", w.jsonTail)
				}
			}
			if w.lines != wantLines {
				t.Errorf("%d lines; want %d", w.lines, wantLines)
			}
			// It streams: flushed as it goes (the first flush long before the
			// end), and the heap never grew anywhere near the output's size.
			if w.flushes < n/exportFlushEvery || w.firstFlush*4 > w.bytes {
				t.Errorf("%d flushes, first after %d of %d bytes; want a flush every %d rows", w.flushes, w.firstFlush, w.bytes, exportFlushEvery)
			}
			if w.maxHeapGrow > uint64(w.bytes)/2 {
				t.Errorf("heap grew by %d bytes while writing %d: the export is buffered", w.maxHeapGrow, w.bytes)
			}
			t.Logf("%s: %d bytes, %d flushes, heap growth at most %d bytes", format, w.bytes, w.flushes, w.maxHeapGrow)
		})
	}
}

func TestHeatmapAndRunChartsRender(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	hm := app.Heatmap{From: from, Days: 3, Rows: []app.HeatmapRow{{
		AccountID: 1, AgentID: 42, AgentName: `<b>web</b>`,
		Cells: []app.AgentDay{{Success: 2}, {Success: 1, Failure: 1}, {Warning: 1}},
	}, {
		AccountID: 1, AgentID: 43, AgentName: "db",
		Cells: []app.AgentDay{{}, {Neutral: 1}, {}},
	}}}
	var buf bytes.Buffer
	if err := templates.Heatmap(HeatmapFor(hm, false, time.UTC)).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	d := docString(t, buf.String())
	var marks []string
	cells := d.Find(`svg.heatmap-svg rect[class^="hm-"]`)
	cells.Each(func(_ int, s *goquery.Selection) { marks = append(marks, s.AttrOr("class", "")) })
	if got := strings.Join(marks, ","); got != "hm-ok,hm-fail,hm-warn,hm-empty,hm-none,hm-empty" {
		t.Errorf("cell marks = %s", got)
	}
	if n := d.Find(`svg.heatmap-svg path`).Length(); n != 2 {
		t.Errorf("%d marks drawn; want an × and a !", n)
	}
	if strings.Contains(buf.String(), "<b>web</b>") {
		t.Error("agent name not escaped")
	}
	if title := cells.Eq(1).Find("title").Text(); !strings.Contains(title, "1 failed or missed") || !strings.Contains(title, "Mon Mar 2") {
		t.Errorf("cell title %q", title)
	}
	if href := d.Find(`a[href*="from=2026-03-02"]`).AttrOr("href", ""); !strings.Contains(href, "agent=42") {
		t.Errorf("a day with runs should link to its reports: %q", href)
	}
	if testid(d, "heatmap-table").Find("tbody tr").Length() != 2 {
		t.Error("the table fallback does not list both agents")
	}

	now := from.Add(10 * 24 * time.Hour)
	pts := []app.RunPoint{
		{JobID: 1, ConfigName: "nightly", State: "Completed", Finished: from.Add(24 * time.Hour), Duration: time.Minute, Files: 10, Bytes: 3 << 30},
		{JobID: 2, ConfigName: "nightly", State: "Missed", Finished: from.Add(48 * time.Hour)},
		{JobID: 3, ConfigName: "nightly", State: "Failed", Finished: from.Add(72 * time.Hour), Duration: 2 * time.Minute, Files: 1, Bytes: 1 << 20},
	}
	buf.Reset()
	v := RunChartsFor(pts, 0, 77, 30, "/configurations/77", url.Values{}, now, time.UTC)
	if err := templates.RunCharts(v).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	d = docString(t, buf.String())
	if n := testid(d, "chart").Length(); n != 3 {
		t.Fatalf("%d charts; want 3", n)
	}
	if n := testid(d, "chart").First().Find("circle").Length(); n != 2 {
		t.Errorf("%d points in the bytes chart; want 2 (a missed run did not run)", n)
	}
	if txt := testid(d, "chart").First().Find("text").Text(); !strings.Contains(txt, "1 GB") || !strings.Contains(txt, "3 GB") {
		t.Errorf("byte ticks should be round binary sizes: %q", txt)
	}
	if v.ReportsHref != "/reports?config=77" || v.DayLinks[1].Href != "/configurations/77?days=90" {
		t.Errorf("links: %q %+v", v.ReportsHref, v.DayLinks)
	}
}

// Admin → Maintenance on both databases. On PostgreSQL the backup download
// is refused in words (the server's own tools back it up), and the refusal
// is audited like a download.
func TestMaintenance(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testMaintenance(t, newReportsEnv(t), false)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn, _ := pgtest.Schema(t)
		testMaintenance(t, newReportsEnvOn(t, dsn), true)
	})
}

func testMaintenance(t *testing.T, re *reportsEnv, postgres bool) {
	re.seed(t, 50) // one an hour back: 26 finished more than a day ago
	for _, r := range []app.Role{app.RoleObserver, app.RoleCreator} {
		ck := re.loginRole(r)
		if rec := re.get("/admin/maintenance", ck); rec.Code != http.StatusForbidden {
			t.Errorf("%s GET maintenance: %d", r, rec.Code)
		}
		if rec := re.post("/admin/maintenance/prune", url.Values{"days": {"1"}, "confirm": {"yes"}}, ck); rec.Code != http.StatusForbidden {
			t.Errorf("%s prune: %d", r, rec.Code)
		}
	}
	ck := re.loginRole(app.RoleAdmin)
	d := doc(t, re.get("/admin/maintenance", ck))
	stats := testid(d, "maintenance-stats").Text()
	if !strings.Contains(stats, "50") {
		t.Errorf("stats: %q", stats)
	}
	// On PostgreSQL the page speaks of the schema's tables and offers no
	// action on a file the console does not have.
	fileWords := strings.Contains(stats, "Database file") || strings.Contains(stats, "Write-ahead log")
	fileActions := testid(d, "checkpoint").Length() + testid(d, "backup").Length()
	if postgres && (fileWords || fileActions != 0 || !strings.Contains(stats, "Tables and indexes") || !strings.Contains(testid(d, "server-managed").Text(), "pg_dump")) {
		t.Errorf("on PostgreSQL the page shows %q with %d file actions; want the tables' size, no file actions and pg_dump named", stats, fileActions)
	}
	if !postgres && (!fileWords || fileActions != 2) {
		t.Errorf("on SQLite the page shows %q with %d file actions; want the file, its log and both actions", stats, fileActions)
	}
	if rec := re.post("/admin/maintenance/prune", url.Values{"days": {"zero"}}, ck); rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "error-days").Length() != 1 {
		t.Errorf("bad days: %d", rec.Code)
	}
	rec := re.post("/admin/maintenance/prune", url.Values{"days": {"1"}}, ck)
	if rec.Code != http.StatusOK || testid(doc(t, rec), "prune-confirm").Length() != 1 {
		t.Fatalf("prune without confirmation: %d", rec.Code)
	}
	if st, _ := re.history.Stats(context.Background()); st.Reports != 50 {
		t.Fatalf("the confirmation step deleted something: %d left", st.Reports)
	}
	rec = re.post("/admin/maintenance/prune", url.Values{"days": {"1"}, "confirm": {"yes"}}, ck)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("prune: %d", rec.Code)
	}
	if st, _ := re.history.Stats(context.Background()); st.Reports != 24 {
		t.Errorf("%d reports after pruning those older than a day; want 24", st.Reports)
	}
	if rec := re.post("/admin/maintenance/checkpoint", nil, ck); rec.Code != http.StatusSeeOther {
		t.Errorf("checkpoint: %d", rec.Code)
	}
	want := "Checkpoint done"
	if postgres {
		want = "Nothing to do: PostgreSQL checkpoints its own write-ahead log."
	}
	if flash := testid(doc(t, re.get("/admin/maintenance", ck)), "flash").Text(); !strings.Contains(flash, want) {
		t.Errorf("after the checkpoint the page says %q; want %q", flash, want)
	}
	rec = re.post("/admin/maintenance/backup", nil, ck)
	switch {
	case postgres:
		msg := testid(doc(t, rec), "error-message").Text()
		if rec.Code != http.StatusConflict || rec.Header().Get("Content-Disposition") != "" || !strings.Contains(msg, "backed up with pg_dump") {
			t.Errorf("backup on PostgreSQL: %d %q, saying %q; want 409 saying to use pg_dump", rec.Code, rec.Header().Get("Content-Disposition"), msg)
		}
	case rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "SQLite format 3\x00") ||
		!strings.Contains(rec.Header().Get("Content-Disposition"), ".db"):
		t.Errorf("backup: %d %q", rec.Code, rec.Header().Get("Content-Disposition"))
	}
	var actions []string
	entries, _ := re.store.ListAudit(context.Background(), app.AuditFilter{Limit: 20})
	for _, e := range entries {
		actions = append(actions, string(e.Action))
	}
	for _, want := range []app.AuditAction{app.ActionReportsPrune, app.ActionDBCheckpoint, app.ActionDBBackup} {
		if !strings.Contains(strings.Join(actions, " "), string(want)) {
			t.Errorf("no %s in the audit log: %v", want, actions)
		}
	}
}

// docString parses an HTML string.
func docString(t *testing.T, s string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
