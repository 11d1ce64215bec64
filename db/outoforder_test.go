package db_test

import (
	"context"
	"testing"

	"github.com/rcbu-console/rcbu-console/db"
)

// Migration versions are taken in blocks by work that lands in any order:
// a database that already has later versions still gets a lower one that
// arrives after them, instead of refusing to start.
func TestAMigrationThatLandsLateIsApplied(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		dsn := testDSN(t)
		s, err := db.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		// As if 00004 had not existed when the later ones ran.
		for _, q := range []string{`DROP TABLE login_attempts`, `DELETE FROM goose_db_version WHERE version_id = 4`} {
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		s, err = db.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("reopen with a late migration: %v", err)
		}
		defer s.Close()
		if _, err := s.LoginAttempts(ctx, "ip:192.0.2.1"); err != nil {
			t.Errorf("the late migration's table: %v", err)
		}
	})
}
