package db

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// ProblemRuns returns the backups of accounts that finished since since in
// one of states, newest first, at most limit, each with the first line of
// its first error. The state list leads the reports_state_finished index,
// so the cost follows the problem runs of the window, not the history.
func (s *Store) ProblemRuns(ctx context.Context, accounts []app.AccountID, states []string, since time.Time, limit int) ([]app.ProblemRun, error) {
	out := []app.ProblemRun{}
	if len(accounts) == 0 || len(states) == 0 || limit <= 0 {
		return out, nil
	}
	args := make([]any, 0, len(states)+len(accounts)+2)
	for _, st := range states {
		args = append(args, st)
	}
	args = append(args, unix(since))
	args = append(args, accountArgs(accounts)...)
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT r.account_id, r.job_id, r.agent_id, r.agent_name, r.config_id, r.config_name,
			r.state, r.finished_unix, r.error_count, r.reason,
			coalesce((SELECT CASE WHEN e.description <> '' THEN e.description ELSE e.exception END
				FROM report_errors e WHERE e.report_id = r.id ORDER BY e.list_index LIMIT 1), '')
		FROM reports r
		WHERE r.state IN (`+placeholders(len(states))+`) AND r.finished_unix >= ?
		  AND `+s.dialect.unindexed("r.account_id")+` IN (`+placeholders(len(accounts))+`) AND `+s.dialect.unindexed("r.kind")+` = 'backup'
		ORDER BY r.finished_unix DESC, r.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: problem runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p app.ProblemRun
		if err := rows.Scan(&p.AccountID, &p.BackupID, &p.AgentID, &p.AgentName, &p.ConfigID, &p.ConfigName,
			&p.State, (*unixTime)(&p.Finished), &p.ErrorCount, &p.Reason, &p.FirstError); err != nil {
			return nil, fmt.Errorf("db: problem runs: %w", err)
		}
		p.FirstError = firstLine(p.FirstError)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: problem runs: %w", err)
	}
	return out, nil
}

// CountProblemRuns counts the backups and restores of accounts that
// finished since since in one of states: what the activity page lists for
// the same states and window.
func (s *Store) CountProblemRuns(ctx context.Context, accounts []app.AccountID, states []string, since time.Time) (int, error) {
	if len(accounts) == 0 || len(states) == 0 {
		return 0, nil
	}
	args := make([]any, 0, len(states)+len(accounts)+1)
	for _, st := range states {
		args = append(args, st)
	}
	args = append(args, unix(since))
	args = append(args, accountArgs(accounts)...)
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM reports r
		WHERE r.state IN (`+placeholders(len(states))+`) AND r.finished_unix >= ?
		  AND `+s.dialect.unindexed("r.account_id")+` IN (`+placeholders(len(accounts))+`)`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count problem runs: %w", err)
	}
	return n, nil
}

// firstLine is s up to its first line break, trimmed.
func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// AgentDaysOf counts backup outcomes per agent and 24 h bucket from from,
// for the given agents only. Each agent is one range on the
// reports_agent_finished index, so the cost follows the agents shown and
// the days asked for, not the whole history.
func (s *Store) AgentDaysOf(ctx context.Context, agents []app.AgentKey, from time.Time, days int) ([]app.AgentDay, error) {
	out := []app.AgentDay{}
	if len(agents) == 0 || days <= 0 {
		return out, nil
	}
	start := from.Unix()
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("db: agent days: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	stmt, err := tx.PrepareContext(ctx, `SELECT max(r.agent_name), (r.finished_unix - ?1) / 86400 AS day,
			sum(CASE WHEN r.state = 'Completed' THEN 1 ELSE 0 END), sum(CASE WHEN r.state = 'CompletedWithErrors' THEN 1 ELSE 0 END),
			sum(CASE WHEN r.state IN ('Failed', 'Missed') THEN 1 ELSE 0 END),
			sum(CASE WHEN r.state NOT IN ('Completed', 'CompletedWithErrors', 'Failed', 'Missed') THEN 1 ELSE 0 END)
		FROM reports r
		WHERE r.agent_id = ?2 AND r.finished_unix >= ?1 AND r.finished_unix < ?3 AND `+s.dialect.unindexed("r.account_id")+` = ?4 AND `+s.dialect.unindexed("r.kind")+` = 'backup'
		GROUP BY day ORDER BY day`)
	if err != nil {
		return nil, fmt.Errorf("db: agent days: %w", err)
	}
	defer stmt.Close()
	end := start + int64(days)*86400
	for _, a := range agents {
		if err := func() error {
			rows, err := stmt.QueryContext(ctx, start, int64(a.AgentID), end, int64(a.AccountID))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				d := app.AgentDay{AccountID: a.AccountID, AgentID: a.AgentID}
				if err := rows.Scan(&d.AgentName, &d.Day, &d.Success, &d.Warning, &d.Failure, &d.Neutral); err != nil {
					return err
				}
				out = append(out, d)
			}
			return rows.Err()
		}(); err != nil {
			return nil, fmt.Errorf("db: agent days of agent %d: %w", a.AgentID, err)
		}
	}
	return out, nil
}

// OfflineSightings returns, for every agent of accounts that the alert
// rules have seen offline, since when, with its account's offline
// threshold (the default where the account has no alert settings yet).
func (s *Store) OfflineSightings(ctx context.Context, accounts []app.AccountID) ([]app.OfflineSighting, error) {
	out := []app.OfflineSighting{}
	if len(accounts) == 0 {
		return out, nil
	}
	args := append([]any{app.DefaultOfflineHours}, accountArgs(accounts)...)
	rows, err := s.db.QueryContext(ctx, `SELECT o.account_id, o.agent_id, o.since_unix, coalesce(st.offline_hours, ?)
		FROM alert_agent_offline o LEFT JOIN alert_settings st ON st.account_id = o.account_id
		WHERE o.account_id IN (`+placeholders(len(accounts))+`) ORDER BY o.account_id, o.agent_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: offline sightings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o app.OfflineSighting
		var hours int64
		if err := rows.Scan(&o.AccountID, &o.AgentID, (*unixTime)(&o.Since), &hours); err != nil {
			return nil, fmt.Errorf("db: offline sightings: %w", err)
		}
		o.Threshold = time.Duration(hours) * time.Hour
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: offline sightings: %w", err)
	}
	return out, nil
}

// OfflineThresholds returns each account's offline alert threshold: its
// alert settings' hours, or the default where it has none yet.
func (s *Store) OfflineThresholds(ctx context.Context, accounts []app.AccountID) (map[app.AccountID]time.Duration, error) {
	out := make(map[app.AccountID]time.Duration, len(accounts))
	for _, a := range accounts {
		out[a] = app.DefaultOfflineHours * time.Hour
	}
	if len(accounts) == 0 {
		return out, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, offline_hours FROM alert_settings
		WHERE account_id IN (`+placeholders(len(accounts))+`)`, accountArgs(accounts)...)
	if err != nil {
		return nil, fmt.Errorf("db: offline thresholds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a app.AccountID
		var hours int64
		if err := rows.Scan(&a, &hours); err != nil {
			return nil, fmt.Errorf("db: offline thresholds: %w", err)
		}
		out[a] = time.Duration(hours) * time.Hour
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: offline thresholds: %w", err)
	}
	return out, nil
}

// ConfigurationsFirstSeen returns when the console first saw each of the
// configurations keys, recording now for those it has not seen before, in
// one transaction.
func (s *Store) ConfigurationsFirstSeen(ctx context.Context, keys []app.ConfigurationKey, now time.Time) (map[app.ConfigurationKey]time.Time, error) {
	out := make(map[app.ConfigurationKey]time.Time, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// The upserts lock their rows in one order (by account, then
	// configuration), so two transactions recording overlapping keys at
	// once on PostgreSQL wait for each other rather than deadlock.
	sorted := slices.SortedFunc(slices.Values(keys), func(a, b app.ConfigurationKey) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.ConfigID, b.ConfigID))
	})
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range sorted {
			var at time.Time
			err := tx.QueryRowContext(ctx, `INSERT INTO configuration_seen (account_id, config_id, first_seen_unix) VALUES (?, ?, ?)
				ON CONFLICT (account_id, config_id) DO UPDATE SET first_seen_unix = configuration_seen.first_seen_unix
				RETURNING first_seen_unix`, int64(k.AccountID), int64(k.ConfigID), unix(now)).Scan((*unixTime)(&at))
			if err != nil {
				return err
			}
			out[k] = at
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: configurations first seen: %w", err)
	}
	return out, nil
}
