package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rcbu-console/rcbu-console/app"
)

// LatestBackups returns, for each configuration in keys that has stored
// backup reports, its newest backup (state, finish time, bytes backed up)
// and the finish time of its newest successful one. Each key costs two
// lookups on the (config_id, finished_unix) index, all in one read
// transaction, so a scrape sees one consistent state whatever the history's
// size (BenchmarkLatestBackups).
func (s *Store) LatestBackups(ctx context.Context, keys []app.ConfigurationKey) ([]app.ConfigurationRun, error) {
	out := []app.ConfigurationRun{}
	if len(keys) == 0 {
		return out, nil
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("db: latest backups: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	// The unary + keeps the planner off the account indexes, whose order
	// also fits the ORDER BY but would scan the whole account per lookup.
	last, err := tx.PrepareContext(ctx, `SELECT state, finished_unix, bytes_backed_up FROM reports
		WHERE config_id = ? AND `+s.dialect.unindexed("account_id")+` = ? AND `+s.dialect.unindexed("kind")+` = 'backup'
		ORDER BY finished_unix DESC, id DESC LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("db: latest backups: %w", err)
	}
	defer last.Close()
	// The same states as rcbu.BackupState.Succeeded, which ignores case and spaces.
	success, err := tx.PrepareContext(ctx, `SELECT finished_unix FROM reports
		WHERE config_id = ? AND `+s.dialect.unindexed("account_id")+` = ? AND `+s.dialect.unindexed("kind")+` = 'backup'
		  AND lower(replace(state, ' ', '')) IN ('completed', 'completedwitherrors', 'finished')
		ORDER BY finished_unix DESC, id DESC LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("db: latest backups: %w", err)
	}
	defer success.Close()
	for _, k := range keys {
		r := app.ConfigurationRun{ConfigurationKey: k}
		err := last.QueryRowContext(ctx, k.ConfigID, k.AccountID).Scan(&r.LastState, (*unixTime)(&r.LastFinished), &r.LastBytes)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("db: latest backup of configuration %d: %w", k.ConfigID, err)
		}
		err = success.QueryRowContext(ctx, k.ConfigID, k.AccountID).Scan((*unixTime)(&r.LastSuccess))
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("db: latest success of configuration %d: %w", k.ConfigID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ReportCounts returns the number of stored report snapshots per account
// (accounts with none are absent).
func (s *Store) ReportCounts(ctx context.Context) (map[app.AccountID]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, count(*) FROM reports GROUP BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("db: report counts: %w", err)
	}
	defer rows.Close()
	out := map[app.AccountID]int64{}
	for rows.Next() {
		var id app.AccountID
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("db: report counts: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: report counts: %w", err)
	}
	return out, nil
}
