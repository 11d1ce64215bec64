package db_test

import (
	"context"
	"sync"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// Two consoles on one PostgreSQL database: they start together (the
// migrations take turns under goose's lock, neither fails) and count failed
// sign-ins together (every concurrent increment is kept, as within one
// SQLite process).
func TestTwoReplicasOnOnePostgreSQL(t *testing.T) {
	requirePostgres(t)
	dsn := testSchema(t)
	ctx := context.Background()
	stores := make([]*db.Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = db.Open(ctx, dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	const attempts = 40
	for i := range attempts {
		wg.Go(func() {
			err := stores[i%2].UpdateLoginAttempts(ctx, []string{"email:a@example.com", "ip:192.0.2.1"}, func(cs []app.LoginAttempts) []app.LoginAttempts {
				for j := range cs {
					cs[j].Failures++
					cs[j].LastFailure = t0
				}
				return cs
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, key := range []string{"email:a@example.com", "ip:192.0.2.1"} {
		a, err := stores[0].LoginAttempts(ctx, key)
		if err != nil || a.Failures != attempts {
			t.Errorf("%s: failures = %d, %v; want %d", key, a.Failures, err, attempts)
		}
	}
}
