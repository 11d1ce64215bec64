package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// reportColumns are the list columns of reports, in scanReport's order.
const reportColumns = `r.id, r.account_id, r.kind, r.job_id, r.agent_id, r.agent_name, r.config_id, r.config_name,
	r.backup_id, r.dest_agent_id, r.dest_name, r.state, r.can_restore, r.started_unix, r.finished_unix, r.duration_s,
	r.files_searched, r.bytes_searched, r.files_backed_up, r.bytes_backed_up, r.files_restored, r.bytes_restored,
	r.error_count, r.reason, r.diagnostics, r.parse_error, r.fetched_unix`

func scanReport(sc rowScanner, extra ...any) (app.Report, error) {
	var r app.Report
	var kind string
	var canRestore int64
	var dur int64
	dest := []any{&r.ID, &r.AccountID, &kind, &r.JobID, &r.AgentID, &r.AgentName, &r.ConfigID, &r.ConfigName,
		&r.BackupID, &r.DestAgentID, &r.DestName, &r.State, &canRestore, (*unixTime)(&r.Started), (*unixTime)(&r.Finished), &dur,
		&r.FilesSearched, &r.BytesSearched, &r.FilesBackedUp, &r.BytesBackedUp, &r.FilesRestored, &r.BytesRestored,
		&r.ErrorCount, &r.Reason, &r.Diagnostics, &r.ParseError, (*unixTime)(&r.Fetched)}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return app.Report{}, err
	}
	r.Kind, r.CanRestore, r.Duration = app.ReportKind(kind), canRestore == 1, time.Duration(dur)*time.Second
	return r, nil
}

// insertChunk is how many snapshots one INSERT statement carries: fewer
// statements to step through makes ingest several times faster than one
// INSERT per row (27 parameters a row stays far below SQLite's limit).
const insertChunk = 32

// chunk is how many snapshots one INSERT carries on this dialect. On
// PostgreSQL every statement is a round trip and fires the report_names
// trigger once, so a batch goes in as few statements as its 65,535
// parameters allow (27 a row).
func (d dialect) chunk() int {
	if d == postgresDialect {
		return 512
	}
	return insertChunk
}

const insertReportSQL = `INSERT INTO reports (account_id, kind, job_id, agent_id, agent_name, config_id, config_name,
	backup_id, dest_agent_id, dest_name, state, can_restore, started_unix, finished_unix, duration_s,
	files_searched, bytes_searched, files_backed_up, bytes_backed_up, files_restored, bytes_restored,
	error_count, reason, diagnostics, parse_error, raw, fetched_unix) VALUES `

const insertReportRow = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertReportsSQL is the statement for n rows. ON CONFLICT DO NOTHING
// RETURNING yields exactly the rows that were new.
func insertReportsSQL(n int) string {
	return insertReportSQL + strings.Repeat(insertReportRow+", ", n-1) + insertReportRow +
		` ON CONFLICT (account_id, kind, job_id) DO NOTHING RETURNING id, account_id, kind, job_id`
}

// InsertReports stores snapshots in one transaction, skipping those whose
// (account, kind, job) is already stored (the first snapshot is kept as it
// is), and returns how many were new.
func (s *Store) InsertReports(ctx context.Context, rs []app.Report) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// One account's snapshots go in one transaction at a time: two
		// overlapping batches (a sync and a run seen to end) would
		// otherwise wait on each other's new rows in opposite orders.
		if err := s.lockTx(ctx, tx, reportLocks(rs)...); err != nil {
			return err
		}
		var full *sql.Stmt
		chunk := s.dialect.chunk()
		if len(rs) >= chunk {
			var err error
			if full, err = tx.PrepareContext(ctx, insertReportsSQL(chunk)); err != nil {
				return err
			}
			defer full.Close()
		}
		for start := 0; start < len(rs); start += chunk {
			part := rs[start:min(start+chunk, len(rs))]
			args := make([]any, 0, len(part)*27)
			for _, r := range part {
				raw := r.Raw
				if raw == nil {
					raw = []byte{}
				}
				args = append(args, int64(r.AccountID), string(r.Kind), r.JobID, int64(r.AgentID), r.AgentName, int64(r.ConfigID), r.ConfigName,
					int64(r.BackupID), int64(r.DestAgentID), r.DestName, r.State, boolInt(r.CanRestore), unix(r.Started), unix(r.Finished), int64(r.Duration/time.Second),
					r.FilesSearched, r.BytesSearched, r.FilesBackedUp, r.BytesBackedUp, r.FilesRestored, r.BytesRestored,
					r.ErrorCount, r.Reason, r.Diagnostics, r.ParseError, raw, unix(r.Fetched))
			}
			var rows *sql.Rows
			var err error
			if len(part) == chunk && full != nil {
				rows, err = full.QueryContext(ctx, args...)
			} else {
				rows, err = tx.QueryContext(ctx, insertReportsSQL(len(part)), args...)
			}
			if err != nil {
				return err
			}
			type key struct {
				account int64
				kind    string
				job     int64
			}
			ids := map[key]int64{}
			for rows.Next() {
				var id, acct, job int64
				var kind string
				if err := rows.Scan(&id, &acct, &kind, &job); err != nil {
					rows.Close()
					return err
				}
				ids[key{acct, kind, job}] = id
			}
			if err := rows.Err(); err != nil {
				rows.Close()
				return err
			}
			rows.Close()
			n += len(ids)
			var errArgs []any
			for _, r := range part {
				k := key{int64(r.AccountID), string(r.Kind), r.JobID}
				id, ok := ids[k]
				if !ok {
					continue // already stored
				}
				delete(ids, k) // a job twice in one batch: its errors once
				for i, e := range r.Errors[:min(len(r.Errors), maxErrorsPerReport)] {
					errArgs = append(errArgs, errorRowID(id, i), id, e.ListIndex, e.ErrorType, e.Code, e.Path, e.Description, e.Exception, e.Details)
				}
			}
			if err := insertErrors(ctx, tx, errArgs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("db: insert reports: %w", err)
	}
	return n, nil
}

// reportLocks are the lockTx purposes of the accounts of rs, one each.
func reportLocks(rs []app.Report) []string {
	var out []string
	for i, r := range rs {
		if i == 0 || r.AccountID != rs[i-1].AccountID {
			out = append(out, fmt.Sprintf("reports %d", r.AccountID))
		}
	}
	return out
}

// Error rows get ids that carry their report's id: report id << 20 | the
// entry's position. The full-text index's rowids are the error ids, so a
// search turns matches into report ids with a shift, reading nothing but the
// index's posting lists. (Rows stored before this scheme have small ids and
// are resolved through report_errors; see errorReportIDs.)
const (
	errorIDShift       = 20
	maxErrorsPerReport = 1 << errorIDShift // entries beyond are not stored
)

func errorRowID(report int64, i int) int64 { return report<<errorIDShift | int64(i) }

// errorReportIDs selects the ids of the reports with an error matching the
// FTS query given as its one parameter.
const errorReportIDs = `SELECT CASE WHEN rowid >= 1048576 THEN rowid >> 20
		ELSE (SELECT e.report_id FROM report_errors e WHERE e.id = report_errors_fts.rowid) END
	FROM report_errors_fts WHERE report_errors_fts MATCH ?`

// reportMatches is true for the report r with an error matching the FTS
// query given as its two parameters. It seeks in the posting lists to the
// rowids of r's errors (errorRowID), so testing one report costs a few
// seeks however common the words are, where errorReportIDs would read every
// match first; errors stored before that scheme are found through
// report_errors.
const reportMatches = `(EXISTS (SELECT 1 FROM report_errors_fts WHERE report_errors_fts MATCH ?
		AND report_errors_fts.rowid >= (r.id << 20) AND report_errors_fts.rowid < ((r.id + 1) << 20))
	OR EXISTS (SELECT 1 FROM report_errors e WHERE e.report_id = r.id AND e.id < 1048576
		AND e.id IN (SELECT rowid FROM report_errors_fts WHERE report_errors_fts MATCH ? AND rowid < 1048576)))`

// insertErrors inserts error rows, 9 values each, a few hundred per statement.
func insertErrors(ctx context.Context, tx *sql.Tx, args []any) error {
	const cols, per = 9, 200
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	for start := 0; start < len(args); start += cols * per {
		part := args[start:min(start+cols*per, len(args))]
		k := len(part) / cols
		q := `INSERT INTO report_errors (id, report_id, list_index, error_type, code, path, description, exception, details) VALUES ` +
			strings.Repeat(row+", ", k-1) + row
		if _, err := tx.ExecContext(ctx, q, part...); err != nil {
			return err
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// StoredJobs returns which of ids are stored for the account and kind.
func (s *Store) StoredJobs(ctx context.Context, account app.AccountID, kind app.ReportKind, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		args := []any{int64(account), string(kind)}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.db.QueryContext(ctx,
			`SELECT job_id FROM reports WHERE account_id = ? AND kind = ? AND job_id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("db: stored jobs: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("db: stored jobs: %w", err)
			}
			out[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("db: stored jobs: %w", err)
		}
	}
	return out, nil
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func accountArgs(ids []app.AccountID) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Report returns one snapshot with its errors and raw body, looked up in
// accounts (the lowest account id wins if several hold the job).
func (s *Store) Report(ctx context.Context, accounts []app.AccountID, kind app.ReportKind, jobID int64) (app.Report, error) {
	if len(accounts) == 0 {
		return app.Report{}, fmt.Errorf("%s report %d: %w", kind, jobID, app.ErrNotFound)
	}
	args := append([]any{string(kind), jobID}, accountArgs(accounts)...)
	var raw []byte
	r, err := scanReport(s.db.QueryRowContext(ctx, `SELECT `+reportColumns+`, r.raw FROM reports r
		WHERE r.kind = ? AND r.job_id = ? AND r.account_id IN (`+placeholders(len(accounts))+`) ORDER BY r.account_id LIMIT 1`, args...), &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return app.Report{}, fmt.Errorf("%s report %d: %w", kind, jobID, app.ErrNotFound)
	}
	if err != nil {
		return app.Report{}, fmt.Errorf("db: %s report %d: %w", kind, jobID, err)
	}
	r.Raw = raw
	rows, err := s.db.QueryContext(ctx, `SELECT list_index, error_type, code, path, description, exception, details
		FROM report_errors WHERE report_id = ? ORDER BY list_index, id`, int64(r.ID))
	if err != nil {
		return app.Report{}, fmt.Errorf("db: %s report %d errors: %w", kind, jobID, err)
	}
	defer rows.Close()
	r.Errors = []app.ReportErrorEntry{}
	for rows.Next() {
		var e app.ReportErrorEntry
		if err := rows.Scan(&e.ListIndex, &e.ErrorType, &e.Code, &e.Path, &e.Description, &e.Exception, &e.Details); err != nil {
			return app.Report{}, fmt.Errorf("db: %s report %d errors: %w", kind, jobID, err)
		}
		r.Errors = append(r.Errors, e)
	}
	if err := rows.Err(); err != nil {
		return app.Report{}, fmt.Errorf("db: %s report %d errors: %w", kind, jobID, err)
	}
	return r, nil
}

// AgentDays counts backup outcomes per agent and 24 h bucket from from.
func (s *Store) AgentDays(ctx context.Context, accounts []app.AccountID, from time.Time, days int) ([]app.AgentDay, error) {
	if len(accounts) == 0 {
		return []app.AgentDay{}, nil
	}
	start := from.Unix()
	args := []any{start}
	args = append(args, accountArgs(accounts)...)
	args = append(args, start, start+int64(days)*86400)
	// One row per agent, day and state, counted in the covering index
	// reports_agent_days (no table reads), folded into cells here: cheaper
	// than evaluating four string comparisons per run in SQL.
	rows, err := s.db.QueryContext(ctx, `SELECT r.account_id, r.agent_id, (r.finished_unix - ?) / 86400 AS day, r.state, MAX(r.agent_name), COUNT(*)
		FROM reports r
		WHERE r.account_id IN (`+placeholders(len(accounts))+`) AND r.kind = 'backup' AND r.finished_unix >= ? AND r.finished_unix < ?
		GROUP BY r.account_id, r.agent_id, day, r.state
		ORDER BY r.account_id, r.agent_id, day`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: agent days: %w", err)
	}
	defer rows.Close()
	var out []app.AgentDay
	for rows.Next() {
		var (
			acct        app.AccountID
			agent       rcbu.AgentID
			day, n      int
			state, name string
		)
		if err := rows.Scan(&acct, &agent, &day, &state, &name, &n); err != nil {
			return nil, fmt.Errorf("db: agent days: %w", err)
		}
		if k := len(out) - 1; k < 0 || out[k].AccountID != acct || out[k].AgentID != agent || out[k].Day != day {
			out = append(out, app.AgentDay{AccountID: acct, AgentID: agent, Day: day})
		}
		d := &out[len(out)-1]
		if name > d.AgentName {
			d.AgentName = name // as MAX(agent_name) over the day
		}
		switch state {
		case "Completed":
			d.Success += n
		case "CompletedWithErrors":
			d.Warning += n
		case "Failed", "Missed":
			d.Failure += n
		default:
			d.Neutral += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: agent days: %w", err)
	}
	return out, nil
}

// RunPoints returns the finished backups of an agent or a configuration
// since from, oldest first.
func (s *Store) RunPoints(ctx context.Context, accounts []app.AccountID, agent rcbu.AgentID, config rcbu.ConfigurationID, from time.Time) ([]app.RunPoint, error) {
	if len(accounts) == 0 {
		return []app.RunPoint{}, nil
	}
	cond, id := `r.config_id = ?`, int64(config)
	if config == 0 {
		cond, id = `r.agent_id = ?`, int64(agent)
	}
	args := append([]any{id, from.Unix()}, accountArgs(accounts)...)
	rows, err := s.db.QueryContext(ctx, `SELECT r.job_id, r.config_name, r.agent_name, r.state, r.started_unix, r.finished_unix,
			r.duration_s, r.files_backed_up, r.bytes_backed_up
		FROM reports r
		WHERE `+cond+` AND r.kind = 'backup' AND r.finished_unix >= ? AND r.account_id IN (`+placeholders(len(accounts))+`)
		ORDER BY r.finished_unix, r.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: run points: %w", err)
	}
	defer rows.Close()
	var out []app.RunPoint
	for rows.Next() {
		var p app.RunPoint
		var dur int64
		if err := rows.Scan(&p.JobID, &p.ConfigName, &p.AgentName, &p.State, (*unixTime)(&p.Started), (*unixTime)(&p.Finished), &dur, &p.Files, &p.Bytes); err != nil {
			return nil, fmt.Errorf("db: run points: %w", err)
		}
		p.Duration = time.Duration(dur) * time.Second
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: run points: %w", err)
	}
	return out, nil
}

// SyncState returns an account's sync state (the zero state when none).
func (s *Store) SyncState(ctx context.Context, account app.AccountID) (app.SyncState, error) {
	st := app.SyncState{AccountID: account}
	var backfilled int64
	err := s.db.QueryRowContext(ctx, `SELECT cursor_unix, backfilled, last_start_unix, last_end_unix, last_ok_unix, last_error, last_stored
		FROM report_sync WHERE account_id = ?`, int64(account)).Scan(
		(*unixTime)(&st.Cursor), &backfilled, (*unixTime)(&st.LastStart), (*unixTime)(&st.LastEnd), (*unixTime)(&st.LastOK), &st.LastError, &st.LastStored)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return app.SyncState{}, fmt.Errorf("db: sync state %d: %w", account, err)
	}
	st.Backfilled = backfilled == 1
	return st, nil
}

// SaveSyncState writes an account's sync state. A state for an account that
// no longer exists is dropped silently (the foreign key would refuse it).
func (s *Store) SaveSyncState(ctx context.Context, st app.SyncState) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO report_sync (account_id, cursor_unix, backfilled, last_start_unix, last_end_unix, last_ok_unix, last_error, last_stored)
		SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)
		ON CONFLICT (account_id) DO UPDATE SET cursor_unix = excluded.cursor_unix, backfilled = excluded.backfilled,
			last_start_unix = excluded.last_start_unix, last_end_unix = excluded.last_end_unix, last_ok_unix = excluded.last_ok_unix,
			last_error = excluded.last_error, last_stored = excluded.last_stored`,
		int64(st.AccountID), unix(st.Cursor), boolInt(st.Backfilled), unix(st.LastStart), unix(st.LastEnd), unix(st.LastOK), st.LastError, st.LastStored,
		int64(st.AccountID))
	if err != nil {
		return fmt.Errorf("db: save sync state %d: %w", st.AccountID, err)
	}
	return nil
}
