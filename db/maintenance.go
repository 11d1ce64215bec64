package db

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// pruneChunk bounds each delete transaction, so pruning a large history
// never holds the write lock for long and page requests keep flowing.
const pruneChunk = 2000

// execCount runs a statement and returns how many rows it changed; op
// names the work in its errors.
func (s *Store) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("db: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("db: %s: %w", op, err)
	}
	return n, nil
}

// PruneReports deletes the snapshots finished before before (their errors
// and search entries go with them) and returns how many went.
func (s *Store) PruneReports(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.execCount(ctx, "prune reports", `DELETE FROM reports WHERE id IN
			(SELECT id FROM reports WHERE finished_unix < ? ORDER BY finished_unix LIMIT ?)`, before.Unix(), pruneChunk)
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// HistoryStats summarises the stored snapshots and the database's size.
func (s *Store) HistoryStats(ctx context.Context) (app.HistoryStats, error) {
	var st app.HistoryStats
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(finished_unix), 0), COALESCE(MAX(finished_unix), 0) FROM reports`).
		Scan(&st.Reports, (*unixTime)(&st.Oldest), (*unixTime)(&st.Newest))
	if err != nil {
		return app.HistoryStats{}, fmt.Errorf("db: history stats: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM report_errors`).Scan(&st.Errors); err != nil {
		return app.HistoryStats{}, fmt.Errorf("db: history stats: %w", err)
	}
	if s.dialect == postgresDialect {
		// The tables of the store's schema with their indexes and TOAST; the
		// WAL is the server's, shared by every database in the cluster.
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')`).Scan(&st.DBBytes); err != nil {
			return app.HistoryStats{}, fmt.Errorf("db: history stats: %w", err)
		}
		st.ServerManaged = true
		return st, nil
	}
	var pages, size int64
	if err := s.db.QueryRowContext(ctx, `SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()`).Scan(&pages, &size); err != nil {
		return app.HistoryStats{}, fmt.Errorf("db: history stats: %w", err)
	}
	st.DBBytes = pages * size
	if path, err := s.path(ctx); err == nil && path != "" {
		if fi, err := os.Stat(path + "-wal"); err == nil {
			st.WALBytes = fi.Size()
		}
	}
	return st, nil
}

// path returns the main database file's path.
func (s *Store) path(ctx context.Context) (string, error) {
	var seq int
	var name, file string
	if err := s.db.QueryRowContext(ctx, `SELECT seq, name, file FROM pragma_database_list() WHERE name = 'main'`).Scan(&seq, &name, &file); err != nil {
		return "", fmt.Errorf("db: database path: %w", err)
	}
	return file, nil
}

// Checkpoint copies the WAL into the database and truncates it
// (wal_checkpoint(TRUNCATE)); on PostgreSQL there is nothing to do. Busy is set when readers kept it from
// finishing; nothing is lost then, the WAL just stays.
func (s *Store) Checkpoint(ctx context.Context) (app.CheckpointResult, error) {
	if s.dialect == postgresDialect {
		return app.CheckpointResult{ServerManaged: true}, nil // the server checkpoints its own WAL
	}
	var busy int64
	var res app.CheckpointResult
	if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &res.LogFrames, &res.Checkpointed); err != nil {
		return app.CheckpointResult{}, fmt.Errorf("db: checkpoint: %w", err)
	}
	res.Busy = busy != 0
	return res, nil
}

// VacuumInto writes a consistent, compacted copy of the SQLite database to
// path, which must not exist yet. Readers and writers carry on meanwhile.
// On PostgreSQL it refuses with an *app.ConflictError whose words say what
// to use instead: the request is sound, the database is of the wrong kind.
func (s *Store) VacuumInto(ctx context.Context, path string) error {
	if s.dialect == postgresDialect {
		return app.Conflict("a PostgreSQL database is backed up with pg_dump (or the server's own backups), not downloaded from the console")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("db: vacuum into %s: file exists", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("db: vacuum into %s: %w", path, err)
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("db: vacuum into: %w", err)
	}
	return nil
}
