package db

import (
	"context"
	"strings"

	"github.com/rcbu-console/rcbu-console/app"
)

// SetDriveLimit lowers the number of rows a history filter may select and
// still drive the query, so that small test data takes the walking plans.
func SetDriveLimit(s *Store, n int) { s.driveLimit = n }

// ExplainReports returns SQLite's query plan (EXPLAIN QUERY PLAN details,
// one a line) of the first page of f, as ListReports would read it with a
// single account in scope.
func ExplainReports(ctx context.Context, s *Store, f app.ReportFilter) (string, error) {
	p, err := s.plan(ctx, f, scopeOf(f))
	if err != nil {
		return "", err
	}
	srt := sortOf(f.Sort)
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	q, args := pageSQL(p, "", nil, ` ORDER BY `+srt.expr+` `+dir+`, r.id `+dir, 51)
	rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// TxLockKey is the PostgreSQL advisory lock key lockTx takes for purpose in
// s's schema, so that a test can find it in pg_locks.
func TxLockKey(s *Store, purpose string) int64 { return lockKey(purpose + " " + s.schema) }

// ListenerPID is the server process of the store's listening connection
// for the replicas' notices (0 while there is none).
func ListenerPID(s *Store) uint32 { return s.changes.pid.Load() }
