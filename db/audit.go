package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// InsertAudit appends an entry and returns it with its id.
func (s *Store) InsertAudit(ctx context.Context, e app.AuditEntry) (app.AuditEntry, error) {
	var agg any
	if e.Aggregate != "" {
		agg = e.Aggregate
	}
	// An aggregated entry bumps the count of its row (and takes over its
	// latest details); RETURNING gives the row's id and count either way.
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO audit_log (time_unix, actor_id, actor, action, target, outcome, message, ip, count, aggregate_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
		 ON CONFLICT (aggregate_key) WHERE aggregate_key IS NOT NULL DO UPDATE SET
		   count = audit_log.count + 1, time_unix = excluded.time_unix, actor_id = excluded.actor_id, actor = excluded.actor,
		   target = excluded.target, outcome = excluded.outcome, message = excluded.message, ip = excluded.ip
		 RETURNING id, count`,
		unix(e.Time), nullUserID(e.ActorID), e.Actor, string(e.Action), e.Target, string(e.Outcome), e.Message, e.IP, agg,
	).Scan(&e.ID, &e.Count)
	if err != nil {
		return app.AuditEntry{}, fmt.Errorf("db: insert audit: %w", err)
	}
	return e, nil
}

// PruneAudit deletes the entries older than before, in chunks so that a long
// log does not hold the write lock for long.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.execCount(ctx, "prune audit",
			`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE time_unix < ? ORDER BY time_unix LIMIT ?)`, unix(before), pruneChunk)
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

// ListAudit returns up to f.Limit entries matching f. With f.After set it
// returns the oldest entries newer than After in ascending id order;
// otherwise the newest (older than f.Before when set) in descending order.
func (s *Store) ListAudit(ctx context.Context, f app.AuditFilter) ([]app.AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where = append(where, s.dialect.likeNocase(`actor`))
		args = append(args, "%"+escapeLike(strings.ToLower(f.Actor))+"%")
	}
	if f.Action != "" {
		where = append(where, `action = ?`)
		args = append(args, string(f.Action))
	}
	if f.Outcome != "" {
		where = append(where, `outcome = ?`)
		args = append(args, string(f.Outcome))
	}
	if !f.From.IsZero() {
		where = append(where, `time_unix >= ?`)
		args = append(args, unix(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, `time_unix < ?`)
		args = append(args, unix(f.To))
	}
	order := "DESC"
	switch {
	case f.After != 0:
		where = append(where, `id > ?`)
		args = append(args, f.After)
		order = "ASC"
	case f.Before != 0:
		where = append(where, `id < ?`)
		args = append(args, f.Before)
	}
	q := `SELECT id, time_unix, actor_id, actor, action, target, outcome, message, ip, count FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id ` + order + ` LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list audit: %w", err)
	}
	defer rows.Close()
	var out []app.AuditEntry
	for rows.Next() {
		var e app.AuditEntry
		var actorID sql.NullInt64
		var action, outcome string
		if err := rows.Scan(&e.ID, (*unixTime)(&e.Time), &actorID, &e.Actor, &action, &e.Target, &outcome, &e.Message, &e.IP, &e.Count); err != nil {
			return nil, fmt.Errorf("db: list audit: %w", err)
		}
		e.ActorID, e.Action, e.Outcome = app.UserID(actorID.Int64), app.AuditAction(action), app.Outcome(outcome)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list audit: %w", err)
	}
	return out, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
