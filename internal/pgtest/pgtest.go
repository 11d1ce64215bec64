// Package pgtest gives a test an empty PostgreSQL schema of its own in the
// test database RCBU_TEST_POSTGRES names (tools/postgres-test.sh starts a
// throwaway cluster and prints it), so tests on PostgreSQL stay independent
// and may run in parallel.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that makes and drops the schemas
)

// Schema creates an empty schema for t and returns the DSN that puts a
// store in it, with the admin connection that made it (for what a test
// does behind the console's back); both are dropped when t ends. Without
// RCBU_TEST_POSTGRES t is skipped, and fails under CI (CI=true).
func Schema(t testing.TB) (dsn string, admin *sql.DB) {
	t.Helper()
	base := os.Getenv("RCBU_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL is required under CI: RCBU_TEST_POSTGRES is not set")
		}
		t.Skip("RCBU_TEST_POSTGRES is not set (eval \"$(tools/postgres-test.sh start)\" starts a throwaway cluster)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "t_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// A schema left behind is untidy, not a failure of what was tested
		// (a console process killed on purpose may still hold it briefly).
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", name, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + name, admin
}
