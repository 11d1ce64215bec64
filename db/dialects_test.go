package db_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that makes and drops the test schemas

	"github.com/rcbu-console/rcbu-console/db"
)

// The store tests run on both databases: onBoth runs a test's body as the
// subtests "sqlite" and "postgres", and newTestStore opens a fresh, empty
// store on the database of the subtest it is called in (SQLite outside
// onBoth). SQLite gets a file in t.TempDir(); PostgreSQL a schema of its own
// in the database RCBU_TEST_POSTGRES names (tools/postgres-test.sh starts a
// throwaway cluster and prints it), dropped when the test ends, so the tests
// stay independent and may run in parallel.
//
// Without RCBU_TEST_POSTGRES, or when it does not answer, the PostgreSQL
// subtests are skipped (said once on stderr); under CI (CI=true) they fail
// instead.

// onBoth runs body once per database.
func onBoth(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" {
				requirePostgres(t)
			}
			body(t)
		})
	}
}

// dialectOf is the database of the onBoth subtest t runs in.
func dialectOf(t testing.TB) string {
	if parts := strings.Split(t.Name(), "/"); len(parts) > 1 && parts[1] == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// testDSN is a fresh, empty database on t's database: an SQLite file in
// t.TempDir(), or a PostgreSQL schema of its own.
func testDSN(t testing.TB) string {
	t.Helper()
	if dialectOf(t) == "postgres" {
		return testSchema(t)
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// newTestStore opens a fresh store on t's database.
func newTestStore(t testing.TB) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), testDSN(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var pg struct {
	once   sync.Once
	admin  *sql.DB
	dsn    string
	reason string // why there is none
	said   sync.Once
}

// requirePostgres skips t (fails it under CI) when no test PostgreSQL answers.
func requirePostgres(t testing.TB) {
	t.Helper()
	pg.once.Do(func() {
		pg.dsn = os.Getenv("RCBU_TEST_POSTGRES")
		if pg.dsn == "" {
			pg.reason = "RCBU_TEST_POSTGRES is not set (eval \"$(tools/postgres-test.sh start)\" starts a throwaway cluster)"
			return
		}
		admin, err := sql.Open("pgx", pg.dsn)
		if err == nil {
			err = admin.PingContext(context.Background())
		}
		if err != nil {
			pg.reason = fmt.Sprintf("RCBU_TEST_POSTGRES (%s) does not answer: %v", db.RedactDSN(pg.dsn), err)
			return
		}
		pg.admin = admin
	})
	if pg.admin != nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is required under CI: %s", pg.reason)
	}
	pg.said.Do(func() { fmt.Fprintf(os.Stderr, "db tests: the PostgreSQL half is skipped: %s\n", pg.reason) })
	t.Skip("no PostgreSQL for tests")
}

// testSchema creates an empty schema for t and returns the DSN that puts
// the store in it; the schema is dropped when t ends.
func testSchema(t testing.TB) string {
	t.Helper()
	requirePostgres(t)
	name := "t_" + strings.ToLower(rand.Text())
	ctx := context.Background()
	if _, err := pg.admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := pg.admin.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(pg.dsn, "?") {
		sep = "&"
	}
	return pg.dsn + sep + "search_path=" + name
}
