package main

import (
	"crypto/rand"
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that makes the test schema
)

// postgresForTest returns the DSN of a fresh schema in the test PostgreSQL
// (RCBU_TEST_POSTGRES; tools/postgres-test.sh starts one), dropped when t
// ends. Without one the test is skipped, and fails under CI.
func postgresForTest(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("RCBU_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL is required under CI: RCBU_TEST_POSTGRES is not set")
		}
		t.Skip("RCBU_TEST_POSTGRES is not set (eval \"$(tools/postgres-test.sh start)\" starts a throwaway cluster)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "t_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}
