package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/rcbu-console/rcbu-console/app"
)

// How a page of the history is read, so that every sort answers within a
// few milliseconds on millions of snapshots:
//
//   - A filter that selects few rows (at most driveLimit, counted with a
//     bounded COUNT on its index) drives the query: its index yields the
//     candidates and SQLite sorts them. A configuration, an agent, a rare
//     state, a narrow date range or a narrow search usually does.
//   - Otherwise the sort's own index is walked in order and the filters are
//     checked on the way, stopping after a page. A search (or "only runs
//     with errors") walks the index of reports with errors, which is small,
//     and probes the set of matches built from the full-text index.
//   - Keyset paging by (sort key, id) reads the rest of the cursor's tie
//     group (key = k, id beyond) and then the keys beyond k: both are index
//     seeks. SQLite does not seek on a row value (key, rowid) when the rowid
//     is the index's implicit last column, and a deep page would otherwise
//     walk every row of a low-cardinality key such as the state.
//   - With several accounts in scope and no driving filter, each account's
//     index is walked on its own and the pages are merged: an IN list on the
//     index's first column would make SQLite sort the whole selection.
//
// The plans are fixed with INDEXED BY / NOT INDEXED, not left to statistics
// that a fresh database does not have.

// sortSQL is how the store reads one sort: the expression and the indexes
// that hold (account_id, expression) for every report and for reports with
// errors.
type sortSQL struct {
	expr     string
	index    string
	errIndex string
}

// sortOf maps every app.ReportSort to its expression and indexes
// (db/migrations/sqlite/00010_reports.sql and 00050_report_sort_indexes.sql); an
// unknown one is the finish time.
func sortOf(s app.ReportSort) sortSQL {
	if q, ok := sorts[s]; ok {
		return q
	}
	return sortSQL{"r.finished_unix", "reports_account_finished", "reports_errors_finished"}
}

var sorts = map[app.ReportSort]sortSQL{
	app.SortStarted:  {"r.started_unix", "reports_sort_started", "reports_errsort_started"},
	app.SortDuration: {"r.duration_s", "reports_sort_duration", "reports_errsort_duration"},
	app.SortAgent:    {"r.agent_name", "reports_sort_agent", "reports_errsort_agent"},
	app.SortConfig:   {"r.config_name", "reports_sort_config", "reports_errsort_config"},
	app.SortState:    {"r.state", "reports_sort_state", "reports_errsort_state"},
	app.SortKind:     {"r.kind", "reports_sort_kind", "reports_errsort_kind"},
	app.SortFiles:    {"(r.files_backed_up + r.files_restored)", "reports_sort_files", "reports_errsort_files"},
	app.SortBytes:    {"(r.bytes_backed_up + r.bytes_restored)", "reports_sort_bytes", "reports_errsort_bytes"},
	app.SortErrors:   {"r.error_count", "reports_sort_errors", "reports_errsort_errors"},
}

// defaultDriveLimit is the most candidate rows a filter may select to
// drive the query (and have them sorted); above it, the sort's index is
// walked. Sorting 5,000 snapshots takes a few milliseconds.
const defaultDriveLimit = 5000

// searchPlan picks the FTS query for what the user typed and counts its
// matching errors (up to the drive limit + 1). Whole words are tried first; only
// when they match nothing does the last word match as a prefix (the search
// runs as the user types). A prefix term makes FTS5 read its whole posting
// list, while whole words are intersected by seeking, so this keeps a
// finished word cheap however common it is.
func (s *Store) searchPlan(ctx context.Context, q string) (fts string, matches int, err error) {
	exact := s.dialect.ftsQuery(q, false)
	if exact == "" {
		return "", 0, nil
	}
	n, err := s.countMatches(ctx, exact)
	if err != nil || n > 0 {
		return exact, n, err
	}
	prefix := s.dialect.ftsQuery(q, true)
	n, err = s.countMatches(ctx, prefix)
	return prefix, n, err
}

// listPlan is a history query without its cursor and limit: the table
// with its index choice, and the WHERE terms.
type listPlan struct {
	from  string
	conds []string
	args  []any
	walk  bool // the sort's index is walked (no filter drives)
}

// driver is a filter that can drive the query from its own index.
type driver struct {
	index string
	count string // a bounded count of the candidates; args, then the limit
	args  []any
}

// plan builds the query for f, choosing what drives it. accounts is the
// account scope of this query (f.Accounts narrowed by f.Account).
func (s *Store) plan(ctx context.Context, f app.ReportFilter, accounts []app.AccountID) (listPlan, error) {
	fts, matches, err := s.searchPlan(ctx, f.Query)
	if err != nil {
		return listPlan{}, err
	}
	var p listPlan
	add := func(cond string, args ...any) {
		p.conds = append(p.conds, cond)
		p.args = append(p.args, args...)
	}
	inAccounts := `r.account_id IN (` + placeholders(len(accounts)) + `)`
	add(inAccounts, accountArgs(accounts)...)
	var drivers []driver
	bounded := func(index, cond string, args ...any) {
		drivers = append(drivers, driver{index: index, args: args,
			count: `SELECT COUNT(*) FROM (SELECT 1 FROM ` + s.dialect.indexedBy(index) + ` WHERE ` + cond + ` LIMIT ?) c`})
	}
	if f.ConfigID != 0 {
		add(`r.config_id = ?`, int64(f.ConfigID))
		bounded("reports_config_finished", `r.config_id = ?`, int64(f.ConfigID))
	}
	if f.AgentID != 0 {
		add(`r.agent_id = ?`, int64(f.AgentID))
		bounded("reports_agent_finished", `r.agent_id = ?`, int64(f.AgentID))
	}
	if f.Kind != "" {
		add(`r.kind = ?`, string(f.Kind))
		bounded("reports_kind_finished", inAccounts+` AND r.kind = ?`, append(accountArgs(accounts), string(f.Kind))...)
	}
	if f.State != "" {
		add(`r.state = ?`, f.State)
		bounded("reports_state_finished", `r.state = ?`, f.State)
	}
	var dates []string
	var dateArgs []any
	if !f.From.IsZero() {
		dates, dateArgs = append(dates, `r.finished_unix >= ?`), append(dateArgs, f.From.Unix())
	}
	if !f.To.IsZero() {
		dates, dateArgs = append(dates, `r.finished_unix < ?`), append(dateArgs, f.To.Unix())
	}
	if len(dates) > 0 {
		add(strings.Join(dates, " AND "), dateArgs...)
		bounded("reports_account_finished", inAccounts+` AND `+strings.Join(dates, " AND "), append(accountArgs(accounts), dateArgs...)...)
	}
	withErrors := f.ErrorsOnly || fts != ""
	if withErrors {
		// A report that matches a search has errors.
		add(`r.error_count > 0`)
		bounded("reports_errors_finished", inAccounts+` AND r.error_count > 0`, accountArgs(accounts)...)
	}
	if strings.TrimSpace(f.Query) != "" && fts == "" {
		add(`1 = 0`) // only punctuation: nothing can match
	}
	// The cheapest driver: the search's own count is known already.
	driveLimit := s.driveLimit
	best, bestN := -1, driveLimit+1
	if fts != "" && matches <= driveLimit {
		bestN = matches
	}
	if s.dialect == postgresDialect {
		// PostgreSQL plans from its statistics and takes no index hints:
		// counting candidates would only cost time. Only the search's
		// condition and whether to walk per account remain to choose.
		drivers = nil
	}
	for i, d := range drivers {
		if bestN == 0 {
			break
		}
		var n int
		if err := s.db.QueryRowContext(ctx, d.count, append(d.args, min(bestN, driveLimit+1))...).Scan(&n); err != nil {
			return listPlan{}, fmt.Errorf("db: list reports: count candidates: %w", err)
		}
		if n < bestN {
			best, bestN = i, n
		}
	}
	srt := sortOf(f.Sort)
	switch {
	case best >= 0:
		p.from = s.dialect.indexedBy(drivers[best].index)
	case fts != "" && bestN <= driveLimit:
		p.from = s.dialect.notIndexed() // rowid lookups of the matches only
	case withErrors:
		p.from, p.walk = s.dialect.indexedBy(srt.errIndex), true
	default:
		p.from, p.walk = s.dialect.indexedBy(srt.index), true
	}
	switch {
	case fts == "":
	case s.dialect == postgresDialect:
		add(pgReportMatches, fts)
	case p.from == s.dialect.notIndexed():
		add(`r.id IN (`+errorReportIDs+`)`, fts)
	case strings.HasSuffix(fts, "*"):
		// A prefix term expands to every word it starts, and FTS5 does that
		// again for each query: probe the set of matches, built once.
		add(`+r.id IN (`+errorReportIDs+`)`, fts)
	default:
		add(reportMatches, fts, fts) // tested per candidate, after the other filters
	}
	return p, nil
}

// ListReports returns up to f.Limit snapshots matching f in sort order;
// with f.Before, the rows before the cursor, nearest first (the service
// reverses them).
func (s *Store) ListReports(ctx context.Context, f app.ReportFilter) ([]app.Report, error) {
	accounts := scopeOf(f)
	if len(accounts) == 0 {
		return []app.Report{}, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = app.DefaultReportPageSize
	}
	desc := !f.Asc
	cur := f.After
	if f.Before != nil {
		cur, desc = f.Before, !desc // walk backwards from the cursor
	}
	p, err := s.plan(ctx, f, accounts)
	if err != nil {
		return nil, err
	}
	if !p.walk || len(accounts) == 1 {
		return s.listPage(ctx, p, f.Sort, desc, cur, limit)
	}
	// Walk each account's index and merge the pages.
	var all []app.Report
	for _, a := range accounts {
		pa, err := s.plan(ctx, f, []app.AccountID{a})
		if err != nil {
			return nil, err
		}
		rows, err := s.listPage(ctx, pa, f.Sort, desc, cur, limit)
		if err != nil {
			return nil, err
		}
		all = append(all, rows...)
	}
	app.SortReports(all, f.Sort, !desc)
	return all[:min(len(all), limit)], nil
}

// scopeOf is the accounts a filter reads: f.Account when it is in scope.
func scopeOf(f app.ReportFilter) []app.AccountID {
	if f.Account == 0 {
		return f.Accounts
	}
	for _, a := range f.Accounts {
		if a == f.Account {
			return []app.AccountID{a}
		}
	}
	return nil
}

// listPage reads up to limit rows of p in sort order from the cursor on:
// first the rest of the cursor's tie group, then the keys beyond it.
func (s *Store) listPage(ctx context.Context, p listPlan, sort app.ReportSort, desc bool, cur *app.ReportCursor, limit int) ([]app.Report, error) {
	srt := sortOf(sort)
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	order := ` ORDER BY ` + srt.expr + ` ` + dir + `, r.id ` + dir
	if cur == nil {
		return s.queryReports(ctx, p, "", nil, order, limit)
	}
	var key any = cur.Num
	if sort.Textual() {
		key = cur.Text
	}
	out, err := s.queryReports(ctx, p, srt.expr+` = ? AND r.id `+cmp+` ?`, []any{key, int64(cur.ID)}, order, limit)
	if err != nil || len(out) == limit {
		return out, err
	}
	rest, err := s.queryReports(ctx, p, srt.expr+` `+cmp+` ?`, []any{key}, order, limit-len(out))
	return append(out, rest...), err
}

// pageSQL is the statement of one page read of p, with an extra cursor
// condition and its arguments; the limit is its last parameter.
func pageSQL(p listPlan, cond string, args []any, order string, limit int) (string, []any) {
	conds, all := p.conds, p.args
	if cond != "" {
		conds = append(conds[:len(conds):len(conds)], cond)
		all = append(all[:len(all):len(all)], args...)
	}
	// The inner query orders the candidates by key and id alone (a sorter
	// of small records, or an index walk); only the page's rows are read in
	// full.
	return `SELECT ` + reportColumns + ` FROM reports r WHERE r.id IN (SELECT r.id FROM ` + p.from + ` WHERE ` + strings.Join(conds, " AND ") +
		order + ` LIMIT ?)` + order, append(all, limit)
}

func (s *Store) queryReports(ctx context.Context, p listPlan, cond string, args []any, order string, limit int) ([]app.Report, error) {
	q, all := pageSQL(p, cond, args, order, limit)
	rows, err := s.db.QueryContext(ctx, q, all...)
	if err != nil {
		return nil, fmt.Errorf("db: list reports: %w", err)
	}
	defer rows.Close()
	out := make([]app.Report, 0, min(limit, 64))
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list reports: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list reports: %w", err)
	}
	return out, nil
}

// scopedPlan is the plan of f over its scope; ok is false when there is
// nothing to read (an empty scope) or planning failed.
func (s *Store) scopedPlan(ctx context.Context, f app.ReportFilter) (listPlan, bool, error) {
	accounts := scopeOf(f)
	if len(accounts) == 0 {
		return listPlan{}, false, nil
	}
	p, err := s.plan(ctx, f, accounts)
	return p, err == nil, err
}

// EachReport calls fn for every snapshot matching f in sort order, reading
// rows one at a time (memory stays flat however many match). f.Limit and
// the cursors are ignored. An error from fn stops the walk and is returned.
func (s *Store) EachReport(ctx context.Context, f app.ReportFilter, fn func(app.Report) error) error {
	p, ok, err := s.scopedPlan(ctx, f)
	if !ok {
		return err
	}
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	srt := sortOf(f.Sort)
	rows, err := s.db.QueryContext(ctx, `SELECT `+reportColumns+` FROM `+p.from+` WHERE `+strings.Join(p.conds, " AND ")+
		` ORDER BY `+srt.expr+` `+dir+`, r.id `+dir, p.args...)
	if err != nil {
		return fmt.Errorf("db: each report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return fmt.Errorf("db: each report: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: each report: %w", err)
	}
	return nil
}
