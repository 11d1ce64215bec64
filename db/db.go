// Package db is the console's store: it implements the store interfaces that
// package app declares, over one SQLite file (modernc.org/sqlite, no cgo, the
// default) or a PostgreSQL database (pgx v5 through its database/sql driver),
// and runs the embedded goose migrations of that database when it opens.
//
// One Store serves both databases, so a store method is written once. Its SQL
// uses ? placeholders and the subset of SQL both read alike (RETURNING,
// ON CONFLICT upserts, no bare columns beside aggregates, no SQLite-only
// functions where a standard form exists); on PostgreSQL a thin wrapper
// around pgx's driver rewrites the placeholders to $1, $2, … for every
// statement (rebindConn). The fragments that cannot be shared (case-blind
// comparison and order, index hints, JSON arrays, full-text search, SQLite's
// PRAGMAs and file maintenance) come from methods of the Store's dialect in
// dialect.go and search.go, and nowhere else. Each database has its own
// migrations (migrations/sqlite, migrations/postgres) with the same version
// numbers and meaning; a test checks that the two sets match. The app and
// the handlers cannot tell which database runs.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/rcbu-console/rcbu-console/app"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Store implements app's store interfaces over SQLite or PostgreSQL.
type Store struct {
	db      *sql.DB
	dialect dialect
	// schema names the PostgreSQL database and schema (see schemaKey); the
	// advisory locks of lockTx derive from it. Empty on SQLite.
	schema string
	hot    hotStatements
	// driveLimit is the most rows a history filter may select and still
	// drive the query (see reports_list.go); tests lower it.
	driveLimit int
	// damage is what PRAGMA quick_check found at open (nil: nothing, or
	// the check did not finish in its budget); Ping reports it.
	damage error
	// changes is the replicas' notice channel (notify.go); nil on SQLite.
	changes *changes
	// sessionsEnded hears of each user whose sessions the store ended,
	// after the change is committed (OnSessionsEnded); nil: nobody.
	sessionsEnded func(app.UserID)
}

// quickCheckBudget bounds the integrity check at open: a very large
// database is then checked only in part rather than delaying the start.
const quickCheckBudget = 10 * time.Second

// hotStatements are the queries of every signed-in request (session, user,
// account switcher), prepared once: with modernc's SQLite, parsing a
// statement costs more than running it.
type hotStatements struct {
	session  *sql.Stmt
	user     *sql.Stmt
	accounts *sql.Stmt
}

func (h *hotStatements) prepare(ctx context.Context, db *sql.DB, d dialect) error {
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&h.session, sessionQuery},
		{&h.user, `SELECT ` + userColumns + ` FROM users WHERE id = ?`},
		{&h.accounts, `SELECT ` + accountColumns + ` FROM accounts ORDER BY ` + d.nocase("name") + `, id`},
	} {
		st, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			h.close()
			return fmt.Errorf("db: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (h *hotStatements) close() {
	for _, st := range []*sql.Stmt{h.session, h.user, h.accounts} {
		if st != nil {
			st.Close()
		}
	}
}

// Open opens the database dsn names and brings its schema up to date: a
// postgres:// (or postgresql://) URL is a PostgreSQL database, anything else
// the path of an SQLite file (created when needed, with its directory).
func Open(ctx context.Context, dsn string) (*Store, error) {
	if IsPostgresDSN(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("db: open: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("db: open: create directory: %w", err)
		}
	}
	// busy_timeout comes first so that it applies while the other pragmas run.
	// WAL lets readers proceed during a write; _txlock=immediate takes the write
	// lock at BEGIN, so two writers queue on busy_timeout instead of failing
	// with SQLITE_BUSY halfway through a transaction.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	if err := migrate(ctx, sqlDB); err != nil {
		sqlDB.Close()
		return nil, err
	}
	st := &Store{db: sqlDB, driveLimit: defaultDriveLimit}
	st.damage = quickCheck(ctx, sqlDB)
	if err := st.hot.prepare(ctx, sqlDB, st.dialect); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return st, nil
}

// migrate runs the SQLite migrations. Versions are taken in blocks by work
// that lands in any order, so a database may already have a later version
// than one that lands after it: goose applies such a missing lower version
// instead of refusing to start (WithAllowOutofOrder), on both dialects.
func migrate(ctx context.Context, sqlDB *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, sqlDB, fsys, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.hot.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("db: close: %w", err)
	}
	return nil
}

// quickCheck runs PRAGMA quick_check within quickCheckBudget. It returns an
// error wrapping app.ErrCorrupt when the check finds damage; a check that
// runs out of time (or cannot run) finds nothing.
func quickCheck(ctx context.Context, sqlDB *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, quickCheckBudget)
	defer cancel()
	rows, err := sqlDB.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		if ctx.Err() == nil && isCorrupt(err) {
			return fmt.Errorf("db: quick_check: %v: %w", err, app.ErrCorrupt)
		}
		return nil
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if rows.Scan(&line) == nil && line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil && ctx.Err() == nil && isCorrupt(err) {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("db: quick_check: %s: %w", strings.Join(problems, "; "), app.ErrCorrupt)
	}
	return nil
}

// isCorrupt reports whether err is SQLite's "database disk image is
// malformed" (or not a database at all).
func isCorrupt(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_CORRUPT || c == sqlite3.SQLITE_NOTADB
	}
	return strings.Contains(err.Error(), "malformed")
}

// Ping checks that the database answers and passed its integrity check at
// open; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	if s.damage != nil {
		return s.damage
	}
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// DB returns the underlying handle. Only tests and benchmarks use it, to seed
// rows in bulk or break data on purpose; the console itself goes through the
// Store's methods.
func (s *Store) DB() *sql.DB { return s.db }

// inTx runs fn in a transaction, committing if it returns nil.
//
// On SQLite, store transactions run one at a time: BEGIN IMMEDIATE
// (_txlock=immediate) takes the database's write lock first. On PostgreSQL
// they run side by side at READ COMMITTED, on every replica, and each one
// guards its own read-then-write steps with what they need and no more:
//   - nothing, for plain writes and for upserts (INSERT … ON CONFLICT is
//     atomic, and waits for a conflicting row another transaction has not
//     committed yet);
//   - the row lock of an UPDATE that is also the check (a link used once, a
//     factor confirmed once), or of a SELECT … FOR UPDATE (forUpdate);
//   - a transaction-level advisory lock keyed by the thing protected
//     (lockTx): the sign-in throttle per key, an incident per account, rule
//     and object, a user's one-time links, a set of rows replaced whole.
//
// Replacing a set (DELETE then INSERT) needs such a lock: at READ COMMITTED
// a DELETE does not see the rows a concurrent transaction inserts, so two
// replacements at once would otherwise leave both sets.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// lockTx takes, on PostgreSQL, the transaction-level advisory lock of each
// purpose (a phrase naming what is protected, such as "login attempts
// email:a@example.com"), held until tx ends. Another transaction asking for
// one of them, on any replica, waits; all others proceed. The keys are
// taken in ascending order, so two transactions that need overlapping sets
// cannot deadlock. On SQLite there is nothing to take: its transactions
// already run one at a time.
func (s *Store) lockTx(ctx context.Context, tx *sql.Tx, purposes ...string) error {
	if s.dialect != postgresDialect {
		return nil
	}
	keys := make([]int64, 0, len(purposes))
	for _, p := range purposes {
		keys = append(keys, lockKey(p+" "+s.schema))
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, k); err != nil {
			return fmt.Errorf("db: lock: %w", err)
		}
	}
	return nil
}

// unixTime scans an INTEGER unix time into a UTC time.Time; 0 is the zero time.
type unixTime time.Time

func (t *unixTime) Scan(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("unix time: unexpected %T", v)
	}
	if n == 0 {
		*t = unixTime(time.Time{})
		return nil
	}
	*t = unixTime(time.Unix(n, 0).UTC())
	return nil
}

// unix converts a time to the stored INTEGER; the zero time is 0.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	if isUniquePostgres(err) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return true
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
