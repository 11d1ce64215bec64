package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// ReportNames returns up to limit agents or configurations of the accounts
// (db/migrations/sqlite/00110_incident_triage.sql keeps their names) whose name
// is text ignoring case (app.MatchExact), contains it (app.MatchContains;
// every one when text is empty) or whose id it is (app.MatchID), by name.
func (s *Store) ReportNames(ctx context.Context, accounts []app.AccountID, kind app.NameKind, text string, m app.NameMatch, limit int) ([]app.NamedObject, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	args := accountArgs(accounts)
	args = append(args, string(kind))
	q := `SELECT account_id, id, name, agent_name FROM report_names WHERE account_id IN (` + placeholders(len(accounts)) + `) AND kind = ?`
	switch m {
	case app.MatchExact:
		q += ` AND ` + s.dialect.nocase("name") + ` = ` + s.dialect.nocase("?")
		args = append(args, text)
	case app.MatchID:
		id, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, nil
		}
		q += ` AND id = ?`
		args = append(args, id)
	default:
		if text != "" {
			q += ` AND ` + s.dialect.contains("name")
			args = append(args, text)
		}
	}
	q += ` ORDER BY ` + s.dialect.nocase("name") + `, id LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: report names: %w", err)
	}
	defer rows.Close()
	var out []app.NamedObject
	for rows.Next() {
		n := app.NamedObject{Kind: kind}
		if err := rows.Scan(&n.AccountID, &n.ID, &n.Name, &n.AgentName); err != nil {
			return nil, fmt.Errorf("db: report names: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: report names: %w", err)
	}
	return out, nil
}

// ReportSnippets returns, for each snapshot of ids with an error matching
// the search q (read as the history list reads it), the first such error's
// text around the matches (FTS5 snippet(), matches marked with
// app.SnippetOpen and app.SnippetClose). Each report costs one seek to its
// errors' rowids (errorRowID); errors stored before that scheme are found
// through report_errors.
func (s *Store) ReportSnippets(ctx context.Context, ids []app.SnapshotID, q string) (map[app.SnapshotID]string, error) {
	out := map[app.SnapshotID]string{}
	if len(ids) == 0 {
		return out, nil
	}
	fts, _, err := s.searchPlan(ctx, q)
	if err != nil || fts == "" {
		return out, err
	}
	if s.dialect == postgresDialect {
		return s.pgSnippets(ctx, ids, q, fts)
	}
	const pick = `SELECT snippet(report_errors_fts, -1, char(2), char(3), '…', 16) FROM report_errors_fts WHERE report_errors_fts MATCH ?`
	for _, id := range ids {
		var snip string
		err := s.db.QueryRowContext(ctx, pick+` AND rowid >= ? AND rowid < ? ORDER BY rowid LIMIT 1`,
			fts, int64(id)<<errorIDShift, (int64(id)+1)<<errorIDShift).Scan(&snip)
		if errors.Is(err, sql.ErrNoRows) {
			err = s.db.QueryRowContext(ctx, pick+` AND rowid IN (SELECT e.id FROM report_errors e WHERE e.report_id = ? AND e.id < ?)
				ORDER BY rowid LIMIT 1`, fts, int64(id), maxErrorsPerReport).Scan(&snip)
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("db: report snippets: %w", err)
		default:
			out[id] = snip
		}
	}
	return out, nil
}

// EachOutcome calls fn with the end and state of every snapshot matching f,
// reading two columns (the chart over the filtered history).
func (s *Store) EachOutcome(ctx context.Context, f app.ReportFilter, fn func(finished time.Time, state string)) error {
	p, ok, err := s.scopedPlan(ctx, f)
	if !ok {
		return err
	}
	from := p.from
	if p.walk {
		// No filter drives: read by finish time, which the date bound narrows.
		from = s.dialect.indexedBy("reports_account_finished")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.finished_unix, r.state FROM `+from+` WHERE `+strings.Join(p.conds, " AND "), p.args...)
	if err != nil {
		return fmt.Errorf("db: outcomes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t time.Time
		var state string
		if err := rows.Scan((*unixTime)(&t), &state); err != nil {
			return fmt.Errorf("db: outcomes: %w", err)
		}
		fn(t, state)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: outcomes: %w", err)
	}
	return nil
}
