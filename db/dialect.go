package db

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/rcbu-console/rcbu-console/app"
)

// dialect is the database a Store talks to. The store's SQL is written once,
// with ? placeholders, in the subset both databases read the same way; the
// few fragments that differ come from the methods below, and nowhere else.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// IsPostgresDSN reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than an SQLite file.
func IsPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// RedactDSN returns dsn with any password replaced, for error messages and
// logs; an SQLite path comes back as it is.
func RedactDSN(dsn string) string {
	if !IsPostgresDSN(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// nocase is expr compared and ordered without regard to ASCII case.
func (d dialect) nocase(expr string) string {
	if d == postgresDialect {
		return `lower(` + expr + `)`
	}
	return expr + ` COLLATE NOCASE`
}

// contains is true when the text in expr contains the parameter, ignoring
// case; neither side is a pattern (LIKE would read % and _ as wildcards).
func (d dialect) contains(expr string) string {
	if d == postgresDialect {
		return `strpos(lower(` + expr + `), lower(?)) > 0`
	}
	return `instr(lower(` + expr + `), lower(?)) > 0`
}

// likeNocase is expr LIKE the parameter, ignoring ASCII case (SQLite's LIKE
// does, PostgreSQL's does not), with \ escaping % and _.
func (d dialect) likeNocase(expr string) string {
	if d == postgresDialect {
		return expr + ` ILIKE ? ESCAPE '\'`
	}
	return expr + ` LIKE ? ESCAPE '\'`
}

// indexedBy names the index SQLite must read reports r through. PostgreSQL
// takes no hints: its planner chooses from statistics.
func (d dialect) indexedBy(index string) string {
	if d == postgresDialect {
		return `reports r`
	}
	return `reports r INDEXED BY ` + index
}

// unindexed is column as an expression that SQLite cannot look up in an
// index (a unary +), which steers its planner to a better index; PostgreSQL
// plans from statistics and takes the column as it is.
func (d dialect) unindexed(column string) string {
	if d == postgresDialect {
		return column
	}
	return `+` + column
}

// notIndexed is reports r read by id only (SQLite: never through one of its
// indexes).
func (d dialect) notIndexed() string {
	if d == postgresDialect {
		return `reports r`
	}
	return `reports r NOT INDEXED`
}

// skipLocked ends a SELECT that claims rows: on PostgreSQL the rows are
// locked, and rows another transaction has locked are passed over (SQLite
// runs one write transaction at a time, so there is nothing to skip).
func (d dialect) skipLocked() string {
	if d == postgresDialect {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}

// forUpdate ends a SELECT whose rows the transaction goes on to change: on
// PostgreSQL they are locked until it ends, and a concurrent writer of them
// waits (SQLite runs one write transaction at a time, so it needs none).
// The lock is the one an UPDATE of non-key columns takes, so rows of other
// tables that refer to them can still be inserted meanwhile.
func (d dialect) forUpdate() string {
	if d == postgresDialect {
		return ` FOR NO KEY UPDATE`
	}
	return ``
}

// jsonEach is a FROM item with one row per element of the JSON array of
// strings in expr, the element in column value.
func (d dialect) jsonEach(expr, alias string) string {
	if d == postgresDialect {
		return `jsonb_array_elements_text(` + expr + `::jsonb) ` + alias + `(value)`
	}
	return `json_each(` + expr + `) ` + alias
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, … (and a
// numbered ?N into $N), leaving quoted strings and identifiers alone.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch c {
		case '\'', '"':
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+2])
			i += j + 1
		case '?':
			b.WriteByte('$')
			if i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				continue // ?N is $N
			}
			n++
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// rebindConnector hands database/sql connections that rebind every
// statement, so the store's SQL keeps its ? placeholders on both databases.
type rebindConnector struct{ sqldriver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (sqldriver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("db: unexpected driver connection %T", conn)
	}
	return rebindConn{pc}, nil
}

// rebindConn is a pgx connection whose statements are rebound first; every
// other method (transactions, pings, resets, value checks) is pgx's own.
type rebindConn struct{ *stdlib.Conn }

func (c rebindConn) Prepare(q string) (sqldriver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c rebindConn) PrepareContext(ctx context.Context, q string) (sqldriver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, rebind(q))
	if err != nil {
		return nil, lostConnection(err)
	}
	if ps, ok := st.(*stdlib.Stmt); ok {
		return watchedStmt{ps}, nil
	}
	return st, nil
}

// watchedStmt is a prepared statement (the hot statements) whose failures
// are classified as the connection's ones are (lostConnection).
type watchedStmt struct{ *stdlib.Stmt }

func (s watchedStmt) ExecContext(ctx context.Context, args []sqldriver.NamedValue) (sqldriver.Result, error) {
	res, err := s.Stmt.ExecContext(ctx, args)
	return res, lostConnection(err)
}

func (s watchedStmt) QueryContext(ctx context.Context, args []sqldriver.NamedValue) (sqldriver.Rows, error) {
	rows, err := s.Stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, lostConnection(err)
	}
	return watchRows(rows), nil
}

// watchedRows are a result whose reading fails as the connection's calls
// do: a server that goes away mid-result is unavailable too.
type watchedRows struct{ *stdlib.Rows }

func watchRows(rows sqldriver.Rows) sqldriver.Rows {
	if r, ok := rows.(*stdlib.Rows); ok {
		return watchedRows{r}
	}
	return rows
}

func (r watchedRows) Next(dest []sqldriver.Value) error {
	err := r.Rows.Next(dest)
	if errors.Is(err, io.EOF) {
		return err // the end of the rows, as database/sql expects it
	}
	return lostConnection(err)
}

func (c rebindConn) ExecContext(ctx context.Context, q string, args []sqldriver.NamedValue) (sqldriver.Result, error) {
	res, err := c.Conn.ExecContext(ctx, rebind(q), args)
	return res, lostConnection(err)
}

// CheckNamedValue passes a Go bool as the integer 0 or 1: the schema keeps
// flags in integer columns on both databases, which SQLite's driver fills
// from a bool by itself.
func (c rebindConn) CheckNamedValue(nv *sqldriver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = boolInt(b)
		return nil
	}
	return c.Conn.CheckNamedValue(nv)
}

func (c rebindConn) QueryContext(ctx context.Context, q string, args []sqldriver.NamedValue) (sqldriver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, rebind(q), args)
	if err != nil {
		return nil, lostConnection(err)
	}
	return watchRows(rows), nil
}

func (c rebindConn) BeginTx(ctx context.Context, opts sqldriver.TxOptions) (sqldriver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	return tx, lostConnection(err)
}

// unavailableError is a PostgreSQL server that could not be reached or
// dropped the connection. It matches app.ErrUnavailable (the pages answer
// 503 in words) as well as the error it wraps, so database/sql still sees
// driver.ErrBadConn and retries on a fresh connection.
type unavailableError struct{ err error }

func (e unavailableError) Error() string   { return "database unavailable: " + e.err.Error() }
func (e unavailableError) Unwrap() []error { return []error{e.err, app.ErrUnavailable} }

func unavailable(err error) error {
	if err == nil || errors.Is(err, app.ErrUnavailable) {
		return err
	}
	return unavailableError{err}
}

// lostConnection marks err unavailable when the connection, not the
// statement, failed: the network, the server closing it (an admin shutdown
// or a restart, SQLSTATE class 08 and 57P0x), or a connection pgx already
// knows is broken. A statement the server refused stays as it is.
func lostConnection(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the request gave up, not the database
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		if strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P0") {
			return unavailable(err)
		}
		return err
	}
	var ne net.Error
	if errors.Is(err, sqldriver.ErrBadConn) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) {
		return unavailable(err)
	}
	return err
}

// openPostgres connects to the PostgreSQL database dsn names and brings its
// schema up to date. The error names the database with its password
// redacted.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the URL; say only what is wrong.
		return nil, fmt.Errorf("db: open %s: not a valid PostgreSQL URL", RedactDSN(dsn))
	}
	sqlDB := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	// A bounded pool: each connection is a server process, and a replica
	// should leave room for the others. Every open connection may stay idle
	// a while, so a burst of requests does not close connections only to
	// open them again (each a new server process) for the next.
	const poolSize = 16
	sqlDB.SetMaxOpenConns(poolSize)
	sqlDB.SetMaxIdleConns(poolSize)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("db: open %s: %s", RedactDSN(dsn), pgError(err))
	}
	// The migrations run through pgx's own driver, as goose expects: the
	// store's connections rebind placeholders and pass bools as integers.
	schema, err := schemaKey(ctx, sqlDB)
	if err != nil {
		sqlDB.Close()
		return nil, err
	}
	if err := migratePostgres(ctx, stdlib.OpenDB(*cfg), schema); err != nil {
		sqlDB.Close()
		return nil, err
	}
	st := &Store{db: sqlDB, dialect: postgresDialect, driveLimit: defaultDriveLimit, schema: schema, changes: newChanges(cfg, schema)}
	if err := st.hot.prepare(ctx, sqlDB, st.dialect); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return st, nil
}

// pgError is err without anything that could carry the password (pgx's
// connect errors name the host and user only, but say so explicitly).
func pgError(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return "cannot connect: " + errors.Unwrap(ce).Error()
	}
	return err.Error()
}

// schemaKey names the database and schema the store's tables are in; the
// store's advisory lock keys derive from it, so that replicas of one console
// share their locks and databases or schemas side by side in one cluster do
// not wait for each other.
func schemaKey(ctx context.Context, sqlDB *sql.DB) (string, error) {
	var schema string
	if err := sqlDB.QueryRowContext(ctx, `SELECT current_database() || '.' || COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
		return "", fmt.Errorf("db: schema: %w", err)
	}
	return schema, nil
}

// lockKey is the advisory lock key for a purpose within a schema.
func lockKey(purpose string) int64 {
	h := fnv.New64a()
	h.Write([]byte("rcbu-console " + purpose))
	return int64(h.Sum64() >> 1)
}

// migratePostgres runs the PostgreSQL migrations through sqlDB, which it
// closes. Replicas starting together take turns: goose holds a session-level
// advisory lock of the schema while it migrates.
func migratePostgres(ctx context.Context, sqlDB *sql.DB, schema string) error {
	defer sqlDB.Close()
	fsys, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockKey("migrations " + schema)))
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("db: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

// isUniquePostgres reports whether err is PostgreSQL's unique_violation.
func isUniquePostgres(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
