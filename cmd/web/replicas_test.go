package main

import (
	"testing"

	"github.com/rcbu-console/rcbu-console/internal/pgtest"
)

// postgresForTest returns the DSN of a fresh schema in the test PostgreSQL
// (RCBU_TEST_POSTGRES; tools/postgres-test.sh starts one), dropped when t
// ends. Without one the test is skipped, and fails under CI.
func postgresForTest(t *testing.T) string {
	t.Helper()
	dsn, _ := pgtest.Schema(t)
	return dsn
}
