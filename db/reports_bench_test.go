package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/cputime"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// The history benchmarks run over 1,000,000 generated snapshots, on SQLite
// and (with RCBU_TEST_POSTGRES, see onBoth) on PostgreSQL. The database is
// generated once (inside the database, in one transaction) and cached by
// version: SQLite's under os.TempDir(), PostgreSQL's as a schema of the test
// database, so later runs start at once. Bump the version when the
// generator or the schema changes.
//
//	go test -run '^$' -bench 'History' -benchtime 1s ./db
const benchVersion = "v4"

const (
	benchReports = 1_000_000
	benchAgents  = 200
	benchConfigs = 1000
)

// benchEpoch is when the generated history ends; it spans about two years
// (one report a minute).
var benchEpoch = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

type benchDB struct {
	store *db.Store
	acct  app.AccountID
	path  string
	err   error
}

// benchDBs holds the 1M-snapshot database of each dialect, generated (or
// found cached) once per process.
var benchDBs = map[string]*struct {
	once sync.Once
	db   benchDB
}{"sqlite": {}, "postgres": {}}

// onBothB runs a benchmark's body once per database, as onBoth does a
// test's: the sub-benchmarks "sqlite" and "postgres".
func onBothB(b *testing.B, body func(b *testing.B)) {
	b.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			if name == "postgres" {
				requirePostgres(b)
			}
			body(b)
		})
	}
}

// openBenchDB returns the cached 1M-snapshot database of b's dialect,
// generating it if needed.
func openBenchDB(b *testing.B) benchDB {
	b.Helper()
	d := dialectOf(b)
	e := benchDBs[d]
	e.once.Do(func() {
		if d == "postgres" {
			e.db = generatePostgresBenchDB()
		} else {
			e.db = generateBenchDB()
		}
	})
	if e.db.err != nil {
		b.Fatal(e.db.err)
	}
	return e.db
}

// cachedBenchDB opens a benchmark database generated earlier; ok is true
// when it opened (err set if it could not) or holds the whole history.
func cachedBenchDB(ctx context.Context, dsn string) (benchDB, bool) {
	s, err := db.Open(ctx, dsn)
	if err != nil {
		return benchDB{err: err}, true
	}
	var n int64
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM reports`).Scan(&n); err == nil && n == benchReports {
		return benchDB{store: s, acct: 1, path: dsn}, true
	}
	s.Close()
	return benchDB{}, false
}

func generateBenchDB() benchDB {
	ctx := context.Background()
	path := filepath.Join(os.TempDir(), "rcbu-history-bench-"+benchVersion+".db")
	if _, err := os.Stat(path); err == nil {
		if bd, ok := cachedBenchDB(ctx, path); ok {
			return bd
		}
	}
	tmp := path + ".tmp"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	s, err := db.Open(ctx, tmp)
	if err != nil {
		return benchDB{err: err}
	}
	start := time.Now()
	a, err := s.CreateAccount(ctx, app.Account{Name: "bench", Username: "bench", Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
		IdentityURL: "http://127.0.0.1/v2.0/tokens", Source: app.SourceAdmin, Created: benchEpoch, Updated: benchEpoch})
	if err != nil {
		return benchDB{err: err}
	}
	// Realistic shape: 200 agents × 5 configurations, a run a minute over two
	// years; ~90% Completed, 5% with errors, 3% failed, 1% missed, 1% stopped
	// or skipped; one restore in fifty; 1–3 errors on runs that had them; a raw
	// body of the size the API sends.
	stmts := []string{
		`PRAGMA cache_size = -262144`, // 256 MiB while building the indexes
		`BEGIN`,
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		INSERT INTO reports (account_id, kind, job_id, agent_id, agent_name, config_id, config_name, backup_id, state, can_restore,
			started_unix, finished_unix, duration_s, files_searched, bytes_searched, files_backed_up, bytes_backed_up, files_restored, bytes_restored,
			error_count, reason, diagnostics, raw, fetched_unix)
		SELECT %d, CASE WHEN i %% 50 = 0 THEN 'restore' ELSE 'backup' END, 4000000 + i,
			100000 + (i %% %d), 'agent-' || (i %% %d), 300000 + (i %% %d), 'config-' || (i %% %d), 4000000 + i,
			CASE WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 90 THEN 'Completed'
				WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 95 THEN 'CompletedWithErrors'
				WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 98 THEN 'Failed'
				WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 99 THEN 'Missed' ELSE 'Stopped' END,
			1, %d + i * 60 - 240, %d + i * 60, 240, 120000 + i %% 9000, (20 + i %% 50) * 1073741824,
			CASE WHEN i %% 50 = 0 THEN 0 ELSE i %% 4000 END, CASE WHEN i %% 50 = 0 THEN 0 ELSE (i %% 4000) * 262144 END,
			CASE WHEN i %% 50 = 0 THEN i %% 300 ELSE 0 END, CASE WHEN i %% 50 = 0 THEN (i %% 300) * 1048576 ELSE 0 END,
			0, 'Success', 'No errors',
			CAST(printf('{"BackupId":%%d,"BackupConfigurationId":%%d,"BackupConfigurationName":"config-%%d","BackupConfigurationIsDeleted":false,"ComputerName":"agent-%%d","MachineAgentId":%%d,"State":"Completed","CanRestore":true,"StartTime":"/Date(%%d000)/","CompletedTime":"/Date(%%d000)/","Duration":"00:04:00","FilesSearched":"%%d","BytesSearched":"%%d GB","FilesBackedUp":"%%d","BytesBackedUp":"%%d KB","NumErrors":0,"Reason":"Success","Diagnostics":"No errors","ErrorList":[],"Datacenter":"DFW","BackupDatacenter":"DFW","SnapshotId":%%d}',
				4000000 + i, 300000 + i %% %d, i %% %d, i %% %d, 100000 + i %% %d, %d + i * 60 - 240, %d + i * 60, 120000 + i %% 9000, 20 + i %% 50, i %% 4000, (i %% 4000) * 256, i) AS BLOB),
			%d + i * 60 + 30
		FROM n`, benchReports, a.ID, benchAgents, benchAgents, benchConfigs, benchConfigs,
			benchEpoch.Unix()-benchReports*60, benchEpoch.Unix()-benchReports*60,
			benchConfigs, benchConfigs, benchAgents, benchAgents, benchEpoch.Unix()-benchReports*60, benchEpoch.Unix()-benchReports*60,
			benchEpoch.Unix()-benchReports*60),
		// Errors for the runs that had them (1–3 each), FTS-indexed by the trigger.
		`WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 3)
		INSERT INTO report_errors (id, report_id, list_index, error_type, code, path, description, exception, details)
		SELECT r.id * 1048576 + k.j - 1, r.id, k.j, 101, 13,
			'/var/www/site-' || ((r.job_id * 40503 % 65536) % 700) || '/uploads/file-' || (((r.job_id * 3 + k.j) * 2654435761 % 4294967296) / 65536 % 50000) || '.dat',
			CASE (r.job_id + k.j) % 4 WHEN 0 THEN 'The agent could not read a file.' WHEN 1 THEN 'The file is locked by another process.'
				WHEN 2 THEN 'The path is too long.' ELSE 'The file vanished during the backup.' END,
			'Permission denied opening the file', 'open(): EACCES'
		FROM reports r JOIN k ON k.j <= 1 + r.job_id % 3
		WHERE r.state IN ('CompletedWithErrors', 'Failed')`,
		`UPDATE reports SET error_count = (SELECT COUNT(*) FROM report_errors e WHERE e.report_id = reports.id), can_restore = 0
		WHERE state IN ('CompletedWithErrors', 'Failed')`,
		`UPDATE reports SET can_restore = 1 WHERE state = 'CompletedWithErrors'`,
		`COMMIT`,
		`PRAGMA wal_checkpoint(TRUNCATE)`,
		`ANALYZE`,
	}
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		return benchDB{err: err}
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			conn.Close()
			s.Close()
			return benchDB{err: fmt.Errorf("generate: %w\n%.200s", err, q)}
		}
	}
	conn.Close()
	s.Close()
	if err := os.Rename(tmp, path); err != nil {
		return benchDB{err: err}
	}
	fmt.Fprintf(os.Stderr, "generated %d snapshots in %s into %s\n", benchReports, time.Since(start).Round(time.Second), path)
	s, err = db.Open(ctx, path)
	if err != nil {
		return benchDB{err: err}
	}
	return benchDB{store: s, acct: a.ID, path: path}
}

// benchListPage times listing the page f selects, reporting the process
// CPU time per page; an empty page fails unless mayBeEmpty.
func benchListPage(b *testing.B, h *app.History, f app.ReportFilter, mayBeEmpty bool) {
	b.Helper()
	ctx := context.Background()
	cpu := cputime.Process()
	for b.Loop() {
		p, err := h.List(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Reports) == 0 && !mayBeEmpty {
			b.Fatal("no rows")
		}
	}
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
}

func benchHistory(s *db.Store) *app.History {
	log := slog.New(slog.DiscardHandler)
	return app.NewHistory(s, nil, app.NewAudit(s, time.Now, log), func() time.Time { return benchEpoch }, log)
}

// BenchmarkHistoryPage measures one page (50 rows + 1) of the history table
// for typical filters over 1,000,000 snapshots.
func BenchmarkHistoryPage(b *testing.B) {
	onBothB(b, func(b *testing.B) {
		bd := openBenchDB(b)
		h := benchHistory(bd.store)
		ctx := context.Background()
		scope := []app.AccountID{bd.acct}
		week := benchEpoch.Add(-30 * 24 * time.Hour)
		cases := []struct {
			name string
			f    app.ReportFilter
		}{
			{"newest", app.ReportFilter{}},
			{"configuration", app.ReportFilter{ConfigID: 300123}},
			{"agent", app.ReportFilter{AgentID: 100042}},
			{"state=Failed", app.ReportFilter{State: "Failed"}},
			{"errors only", app.ReportFilter{ErrorsOnly: true}},
			{"kind=restore", app.ReportFilter{Kind: app.KindRestore}},
			{"date range", app.ReportFilter{From: week, To: week.Add(24 * time.Hour)}},
			{"agent+state+range", app.ReportFilter{AgentID: 100042, State: "Completed", From: week.Add(-60 * 24 * time.Hour), To: week}},
			{"configuration sorted by bytes", app.ReportFilter{ConfigID: 300123, Sort: app.SortBytes}},
			{"agent, page 40 by keyset", app.ReportFilter{AgentID: 100042}},
		}
		for _, tc := range cases {
			b.Run(tc.name, func(b *testing.B) {
				f := tc.f
				f.Accounts = scope
				if tc.name == "agent, page 40 by keyset" {
					for range 40 {
						p, err := h.List(ctx, f)
						if err != nil {
							b.Fatal(err)
						}
						c := p.Reports[len(p.Reports)-1].Cursor(app.SortFinished)
						f.After = &c
					}
				}
				benchListPage(b, h, f, false)
			})
		}
	})
}

// BenchmarkHistoryFTS measures a full-text search page over the errors of
// 1,000,000 snapshots.
func BenchmarkHistoryFTS(b *testing.B) {
	onBothB(b, func(b *testing.B) {
		bd := openBenchDB(b)
		h := benchHistory(bd.store)
		for _, tc := range []struct{ name, q string }{
			{"one file", "file-12345"},
			{"a site folder", "site-123 uploads"},
			{"a common word, sorted by errors", "locked"},
			{"a common word", "locked"},
			{"prefix", "vanish"},
		} {
			b.Run(tc.name, func(b *testing.B) {
				f := app.ReportFilter{Accounts: []app.AccountID{bd.acct}, Query: tc.q}
				if strings.HasSuffix(tc.name, "sorted by errors") {
					f.Sort = app.SortErrors
				}
				benchListPage(b, h, f, false)
			})
		}
	})
}

// BenchmarkHistorySorts measures one page (50 rows + 1) of every sort,
// both directions, over 1,000,000 snapshots: with no filter, a common word
// of the error messages, one configuration, both, and (page 20 by keyset)
// deep into the unfiltered order.
//
//	go test -run '^$' -bench 'HistorySorts' -benchtime 20x -count 5 ./db
func BenchmarkHistorySorts(b *testing.B) {
	onBothB(b, func(b *testing.B) {
		bd := openBenchDB(b)
		h := benchHistory(bd.store)
		ctx := context.Background()
		filters := []struct {
			name string
			f    app.ReportFilter
			deep bool
		}{
			{"none", app.ReportFilter{}, false},
			{"word", app.ReportFilter{Query: "locked"}, false},
			{"config", app.ReportFilter{ConfigID: 300123}, false},
			{"word+config", app.ReportFilter{Query: "locked", ConfigID: 300123}, false},
			{"page20", app.ReportFilter{}, true},
		}
		for _, sort := range app.ReportSorts() {
			for _, dir := range []string{"desc", "asc"} {
				for _, fc := range filters {
					b.Run(string(sort)+"/"+dir+"/"+fc.name, func(b *testing.B) {
						f := fc.f
						f.Accounts, f.Sort, f.Asc = []app.AccountID{bd.acct}, sort, dir == "asc"
						if fc.deep {
							for range 19 {
								p, err := h.List(ctx, f)
								if err != nil {
									b.Fatal(err)
								}
								c := p.Reports[len(p.Reports)-1].Cursor(sort)
								f.After = &c
							}
						}
						benchListPage(b, h, f, fc.name == "word+config")
					})
				}
			}
		}
	})
}

// BenchmarkHistoryIngest measures storing snapshots in batches of 500, as
// the sync does, into a database that already holds the previous batches.
func BenchmarkHistoryIngest(b *testing.B) {
	onBothB(b, func(b *testing.B) {
		ctx := context.Background()
		s, err := db.Open(ctx, filepath.Join(b.TempDir(), "ingest.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		a, err := s.CreateAccount(ctx, app.Account{Name: "bench", Username: "bench", Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
			IdentityURL: "http://127.0.0.1/v2.0/tokens", Source: app.SourceAdmin, Created: benchEpoch, Updated: benchEpoch})
		if err != nil {
			b.Fatal(err)
		}
		const batch = 500
		raw := []byte(`{"BackupId":4100028,"BackupConfigurationId":380002,"BackupConfigurationName":"scale-0001-1","BackupConfigurationIsDeleted":false,"ComputerName":"scale-0001","MachineAgentId":212043,"State":"Completed","CanRestore":true,"StartTime":"/Date(1772205780000)/","CompletedTime":"/Date(1772205864463)/","Duration":"00:01:24","FilesSearched":"128363","BytesSearched":"22 GB","FilesBackedUp":"2982","BytesBackedUp":"684.1 MB","NumErrors":0,"Reason":"Success","Diagnostics":"No errors","ErrorList":[],"Datacenter":"DFW","BackupDatacenter":"DFW","SnapshotId":41000281}`)
		job := int64(0)
		mk := func() []app.Report {
			rs := make([]app.Report, batch)
			for i := range rs {
				job++
				fin := benchEpoch.Add(time.Duration(job) * time.Minute)
				rs[i] = app.Report{AccountID: a.ID, Kind: app.KindBackup, JobID: job, AgentID: rcbu.AgentID(100000 + job%200), AgentName: "agent",
					ConfigID: rcbu.ConfigurationID(300000 + job%1000), ConfigName: "config", BackupID: rcbu.BackupID(job), State: "Completed", CanRestore: true,
					Started: fin.Add(-4 * time.Minute), Finished: fin, Duration: 4 * time.Minute, FilesSearched: 128363, BytesSearched: 22 << 30,
					FilesBackedUp: 2982, BytesBackedUp: 684 << 20, Reason: "Success", Diagnostics: "No errors", Raw: raw, Fetched: fin}
				if job%20 == 0 {
					rs[i].State, rs[i].ErrorCount = "CompletedWithErrors", 2
					rs[i].Errors = []app.ReportErrorEntry{
						{ListIndex: 1, Path: fmt.Sprintf("/var/www/site-%d/file-%d.dat", job%700, job), Description: "The file is locked by another process."},
						{ListIndex: 2, Path: fmt.Sprintf("/var/www/site-%d/other-%d.dat", job%700, job), Description: "The agent could not read a file."},
					}
				}
			}
			return rs
		}
		cpu := cputime.Process()
		for b.Loop() {
			b.StopTimer()
			rs := mk()
			b.StartTimer()
			n, err := s.InsertReports(ctx, rs)
			if err != nil || n != batch {
				b.Fatalf("InsertReports = %d, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "snapshots/s")
		b.ReportMetric(float64(b.N*batch)/(cputime.Process()-cpu).Seconds(), "snapshots/cpu-s")
		b.ReportMetric(0, "ns/op")
	})
}

// BenchmarkHistorySize reports the database size per snapshot of the 1M
// database (file pages over snapshots, errors and FTS index included).
func BenchmarkHistorySize(b *testing.B) {
	onBothB(b, func(b *testing.B) {
		bd := openBenchDB(b)
		ctx := context.Background()
		var st app.HistoryStats
		var err error
		for b.Loop() {
			if st, err = bd.store.HistoryStats(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(st.DBBytes)/float64(st.Reports), "bytes/snapshot")
		b.ReportMetric(float64(st.Errors), "error-rows")
		b.ReportMetric(float64(st.DBBytes)/(1<<20), "MiB")
	})
}

// generatePostgresBenchDB is generateBenchDB on PostgreSQL: the same rows
// (generate_series for SQLite's recursive counter, format for printf) in a
// schema of the test database, kept for later runs.
func generatePostgresBenchDB() benchDB {
	ctx := context.Background()
	schema := "bench_history_" + benchVersion
	dsn := pg.dsn + "&search_path=" + schema
	if !strings.Contains(pg.dsn, "?") {
		dsn = pg.dsn + "?search_path=" + schema
	}
	var exists bool
	if err := pg.admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil {
		return benchDB{err: err}
	}
	if exists {
		if bd, ok := cachedBenchDB(ctx, dsn); ok {
			return bd
		}
	}
	for _, q := range []string{`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`, `CREATE SCHEMA ` + schema} {
		if _, err := pg.admin.ExecContext(ctx, q); err != nil {
			return benchDB{err: err}
		}
	}
	s, err := db.Open(ctx, dsn)
	if err != nil {
		return benchDB{err: err}
	}
	start := time.Now()
	a, err := s.CreateAccount(ctx, app.Account{Name: "bench", Username: "bench", Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
		IdentityURL: "http://127.0.0.1/v2.0/tokens", Source: app.SourceAdmin, Created: benchEpoch, Updated: benchEpoch})
	if err != nil {
		return benchDB{err: err}
	}
	base := benchEpoch.Unix() - benchReports*60
	stmts := []string{
		`SET maintenance_work_mem = '256MB'`,
		`BEGIN`,
		fmt.Sprintf(`INSERT INTO reports (account_id, kind, job_id, agent_id, agent_name, config_id, config_name, backup_id, state, can_restore,
			started_unix, finished_unix, duration_s, files_searched, bytes_searched, files_backed_up, bytes_backed_up, files_restored, bytes_restored,
			error_count, reason, diagnostics, raw, fetched_unix)
		SELECT %[1]d, CASE WHEN i %% 50 = 0 THEN 'restore' ELSE 'backup' END, 4000000 + i,
			100000 + (i %% %[2]d), 'agent-' || (i %% %[2]d), 300000 + (i %% %[3]d), 'config-' || (i %% %[3]d), 4000000 + i,
			CASE WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 90 THEN 'Completed'
				WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 95 THEN 'CompletedWithErrors'
				WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 98 THEN 'Failed'
				WHEN (i * 2654435761 %% 4294967296) / 65536 %% 100 < 99 THEN 'Missed' ELSE 'Stopped' END,
			1, %[4]d + i * 60 - 240, %[4]d + i * 60, 240, 120000 + i %% 9000, (20 + i %% 50) * 1073741824,
			CASE WHEN i %% 50 = 0 THEN 0 ELSE i %% 4000 END, CASE WHEN i %% 50 = 0 THEN 0 ELSE (i %% 4000) * 262144 END,
			CASE WHEN i %% 50 = 0 THEN i %% 300 ELSE 0 END, CASE WHEN i %% 50 = 0 THEN (i %% 300) * 1048576 ELSE 0 END,
			0, 'Success', 'No errors',
			convert_to(format('{"BackupId":%%s,"BackupConfigurationId":%%s,"BackupConfigurationName":"config-%%s","BackupConfigurationIsDeleted":false,"ComputerName":"agent-%%s","MachineAgentId":%%s,"State":"Completed","CanRestore":true,"StartTime":"/Date(%%s000)/","CompletedTime":"/Date(%%s000)/","Duration":"00:04:00","FilesSearched":"%%s","BytesSearched":"%%s GB","FilesBackedUp":"%%s","BytesBackedUp":"%%s KB","NumErrors":0,"Reason":"Success","Diagnostics":"No errors","ErrorList":[],"Datacenter":"DFW","BackupDatacenter":"DFW","SnapshotId":%%s}',
				4000000 + i, 300000 + i %% %[3]d, i %% %[3]d, i %% %[2]d, 100000 + i %% %[2]d, %[4]d + i * 60 - 240, %[4]d + i * 60, 120000 + i %% 9000, 20 + i %% 50, i %% 4000, (i %% 4000) * 256, i), 'UTF8'),
			%[4]d + i * 60 + 30
		FROM generate_series(1::bigint, %[5]d) AS i`, a.ID, benchAgents, benchConfigs, base, benchReports),
		`INSERT INTO report_errors (id, report_id, list_index, error_type, code, path, description, exception, details)
		SELECT r.id * 1048576 + k.j - 1, r.id, k.j, 101, 13,
			'/var/www/site-' || ((r.job_id * 40503 % 65536) % 700) || '/uploads/file-' || (((r.job_id * 3 + k.j) * 2654435761 % 4294967296) / 65536 % 50000) || '.dat',
			CASE (r.job_id + k.j) % 4 WHEN 0 THEN 'The agent could not read a file.' WHEN 1 THEN 'The file is locked by another process.'
				WHEN 2 THEN 'The path is too long.' ELSE 'The file vanished during the backup.' END,
			'Permission denied opening the file', 'open(): EACCES'
		FROM reports r JOIN generate_series(1::bigint, 3) AS k(j) ON k.j <= 1 + r.job_id % 3
		WHERE r.state IN ('CompletedWithErrors', 'Failed')`,
		`UPDATE reports SET error_count = (SELECT COUNT(*) FROM report_errors e WHERE e.report_id = reports.id), can_restore = 0
		WHERE state IN ('CompletedWithErrors', 'Failed')`,
		`UPDATE reports SET can_restore = 1 WHERE state = 'CompletedWithErrors'`,
		`COMMIT`,
		`VACUUM ANALYZE`,
	}
	conn, err := s.DB().Conn(ctx)
	if err != nil {
		return benchDB{err: err}
	}
	defer conn.Close()
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			s.Close()
			return benchDB{err: fmt.Errorf("generate: %w\n%.200s", err, q)}
		}
	}
	fmt.Fprintf(os.Stderr, "generated %d snapshots in %s into PostgreSQL schema %s\n", benchReports, time.Since(start).Round(time.Second), schema)
	return benchDB{store: s, acct: a.ID, path: dsn}
}
