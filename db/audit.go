package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/rcbu-console/rcbu-console/app"
)

// InsertAudit appends an entry and returns it with its id.
func (s *Store) InsertAudit(ctx context.Context, e app.AuditEntry) (app.AuditEntry, error) {
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO audit_log (time_unix, actor_id, actor, action, target, outcome, message, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		unix(e.Time), nullUserID(e.ActorID), e.Actor, string(e.Action), e.Target, string(e.Outcome), e.Message, e.IP)
	if err != nil {
		return app.AuditEntry{}, fmt.Errorf("db: insert audit: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return app.AuditEntry{}, fmt.Errorf("db: insert audit: %w", err)
	}
	e.ID = app.AuditID(id)
	return e, nil
}

// ListAudit returns up to f.Limit entries matching f. With f.After set it
// returns the oldest entries newer than After in ascending id order;
// otherwise the newest (older than f.Before when set) in descending order.
func (s *Store) ListAudit(ctx context.Context, f app.AuditFilter) ([]app.AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where = append(where, `actor LIKE ? ESCAPE '\'`)
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
	q := `SELECT id, time_unix, actor_id, actor, action, target, outcome, message, ip FROM audit_log`
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
		if err := rows.Scan(&e.ID, (*unixTime)(&e.Time), &actorID, &e.Actor, &action, &e.Target, &outcome, &e.Message, &e.IP); err != nil {
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
