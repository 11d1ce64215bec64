package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// SaveRestoreRequest stores what a restore was asked to do.
func (s *Store) SaveRestoreRequest(ctx context.Context, r app.RestoreRequest) error {
	inc, err := json.Marshal(pathList(r.Include))
	if err != nil {
		return fmt.Errorf("db: save restore request %d: %w", r.RestoreID, err)
	}
	exc, err := json.Marshal(pathList(r.Exclude))
	if err != nil {
		return fmt.Errorf("db: save restore request %d: %w", r.RestoreID, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO restore_requests (account_id, restore_id, config_id, backup_id, dest_agent_id, dest_name,
			dest_path, original, overwrite, includes, excludes, created_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, restore_id) DO UPDATE SET config_id = excluded.config_id, backup_id = excluded.backup_id,
			dest_agent_id = excluded.dest_agent_id, dest_name = excluded.dest_name, dest_path = excluded.dest_path,
			original = excluded.original, overwrite = excluded.overwrite, includes = excluded.includes, excludes = excluded.excludes,
			created_unix = excluded.created_unix`,
		int64(r.AccountID), int64(r.RestoreID), int64(r.ConfigID), int64(r.BackupID), int64(r.DestAgentID), r.DestName,
		r.DestPath, boolInt(r.Original), boolInt(r.Overwrite), string(inc), string(exc), unix(r.Created))
	if err != nil {
		return fmt.Errorf("db: save restore request %d: %w", r.RestoreID, err)
	}
	return nil
}

func pathList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RestoreRequest returns the request of one restore. The error wraps
// app.ErrNotFound when the console did not start it.
func (s *Store) RestoreRequest(ctx context.Context, account app.AccountID, id rcbu.RestoreID) (app.RestoreRequest, error) {
	r := app.RestoreRequest{AccountID: account, RestoreID: id}
	var original, overwrite int64
	var inc, exc string
	err := s.db.QueryRowContext(ctx, `SELECT config_id, backup_id, dest_agent_id, dest_name, dest_path, original, overwrite,
			includes, excludes, created_unix
		FROM restore_requests WHERE account_id = ? AND restore_id = ?`, int64(account), int64(id)).Scan(
		&r.ConfigID, &r.BackupID, &r.DestAgentID, &r.DestName, &r.DestPath, &original, &overwrite, &inc, &exc, (*unixTime)(&r.Created))
	if errors.Is(err, sql.ErrNoRows) {
		return app.RestoreRequest{}, fmt.Errorf("restore request %d: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return app.RestoreRequest{}, fmt.Errorf("db: restore request %d: %w", id, err)
	}
	r.Original, r.Overwrite = original == 1, overwrite == 1
	if err := json.Unmarshal([]byte(inc), &r.Include); err != nil {
		return app.RestoreRequest{}, fmt.Errorf("db: restore request %d includes: %w", id, err)
	}
	if err := json.Unmarshal([]byte(exc), &r.Exclude); err != nil {
		return app.RestoreRequest{}, fmt.Errorf("db: restore request %d excludes: %w", id, err)
	}
	return r, nil
}

// RestoredPaths returns the distinct paths earlier restores of a
// configuration asked for, most recent first, at most limit.
func (s *Store) RestoredPaths(ctx context.Context, account app.AccountID, config rcbu.ConfigurationID, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT j.value
		FROM (SELECT includes, created_unix FROM restore_requests WHERE account_id = ? AND config_id = ? ORDER BY created_unix DESC LIMIT 200) r,
			`+s.dialect.jsonEach("r.includes", "j")+`
		GROUP BY j.value ORDER BY max(r.created_unix) DESC, j.value LIMIT ?`, int64(account), int64(config), limit)
	if err != nil {
		return nil, fmt.Errorf("db: restored paths: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("db: restored paths: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: restored paths: %w", err)
	}
	return out, nil
}

// ReportedPaths returns the distinct paths the stored backup reports of a
// configuration name in their error lists, newest report first, at most
// limit. It reads the 100 newest reports with errors, through the
// configuration's index.
func (s *Store) ReportedPaths(ctx context.Context, account app.AccountID, config rcbu.ConfigurationID, limit int) ([]app.ReportedPath, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.path, max(r.job_id)
		FROM (SELECT id, job_id, finished_unix FROM reports
				WHERE config_id = ? AND account_id = ? AND kind = 'backup' AND error_count > 0
				ORDER BY finished_unix DESC LIMIT 100) r
			JOIN report_errors e ON e.report_id = r.id
		WHERE e.path <> ''
		GROUP BY e.path ORDER BY max(r.finished_unix) DESC, e.path LIMIT ?`, int64(config), int64(account), limit)
	if err != nil {
		return nil, fmt.Errorf("db: reported paths: %w", err)
	}
	defer rows.Close()
	out := []app.ReportedPath{}
	for rows.Next() {
		var p app.ReportedPath
		if err := rows.Scan(&p.Path, &p.BackupID); err != nil {
			return nil, fmt.Errorf("db: reported paths: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: reported paths: %w", err)
	}
	return out, nil
}

// RecentRuns returns the newest successful runs (Completed or
// CompletedWithErrors) of a configuration's backups or restores, newest
// first, at most limit: the history an estimate is made from.
func (s *Store) RecentRuns(ctx context.Context, accounts []app.AccountID, kind app.ReportKind, config rcbu.ConfigurationID, limit int) ([]app.RunPoint, error) {
	if len(accounts) == 0 {
		return []app.RunPoint{}, nil
	}
	args := append([]any{int64(config), string(kind)}, accountArgs(accounts)...)
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT r.job_id, r.state, r.started_unix, r.finished_unix, r.duration_s,
			r.files_backed_up + r.files_restored, r.bytes_backed_up + r.bytes_restored
		FROM reports r
		WHERE r.config_id = ? AND r.kind = ? AND r.state IN ('Completed', 'CompletedWithErrors') AND r.duration_s > 0
			AND r.account_id IN (`+placeholders(len(accounts))+`)
		ORDER BY r.finished_unix DESC, r.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: recent runs: %w", err)
	}
	defer rows.Close()
	out := []app.RunPoint{}
	for rows.Next() {
		var p app.RunPoint
		var dur int64
		if err := rows.Scan(&p.JobID, &p.State, (*unixTime)(&p.Started), (*unixTime)(&p.Finished), &dur, &p.Files, &p.Bytes); err != nil {
			return nil, fmt.Errorf("db: recent runs: %w", err)
		}
		p.Duration = time.Duration(dur) * time.Second
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: recent runs: %w", err)
	}
	return out, nil
}
