package db_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// On PostgreSQL the store's transactions run side by side, each guarding
// only what its own read-then-write steps need (see inTx). These tests run
// those steps at once from two Store handles on one schema, as two replicas
// would, and check the invariants the steps keep.

// twoReplicas opens two stores on one fresh PostgreSQL schema.
func twoReplicas(t *testing.T) [2]*db.Store {
	t.Helper()
	dsn := testSchema(t)
	var out [2]*db.Store
	for i := range out {
		s, err := db.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		t.Cleanup(func() { s.Close() })
		out[i] = s
	}
	return out
}

// prodAccount adds an account to s.
func prodAccount(t *testing.T, s *db.Store) app.Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), app.Account{Name: "Prod", Username: "p", Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
		IdentityURL: "https://id.example/v2.0/tokens", Source: app.SourceAdmin, Created: t0, Updated: t0})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// together runs body n times at once, the i-th call on replica i%2, and
// waits for all of them.
func together(rs [2]*db.Store, n int, body func(i int, s *db.Store)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { body(i, rs[i%2]) })
	}
	wg.Wait()
}

// A transaction that holds one sign-in key's lock stops no other write:
// the other replica signs in under another key, opens an incident, stores
// snapshots, issues a link and replaces a set while it is open. A second
// attempt under the held key waits for it (seen in pg_locks), then counts
// on top of it.
func TestUnrelatedTransactionsRunSideBySideOnPostgreSQL(t *testing.T) {
	rs := twoReplicas(t)
	ctx := context.Background()
	a := prodAccount(t, rs[0])
	u, err := rs[0].CreateUser(ctx, app.User{Email: "bob@example.com", PasswordHash: "h", Role: app.RoleCreator, TimeZone: "UTC", Created: t0, Updated: t0})
	if err != nil {
		t.Fatal(err)
	}

	const held = "email:held@example.com"
	var entered, holderDone atomic.Bool
	release := make(chan struct{})
	var releaseOnce sync.Once
	open := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(open) // runs before the stores close, should the test stop early
	increment := func(cs []app.LoginAttempts) []app.LoginAttempts {
		for i := range cs {
			cs[i].Failures++
			cs[i].LastFailure = t0
		}
		return cs
	}
	go func() {
		defer holderDone.Store(true)
		err := rs[0].UpdateLoginAttempts(ctx, []string{held}, func(cs []app.LoginAttempts) []app.LoginAttempts {
			entered.Store(true)
			<-release
			return increment(cs)
		})
		if err != nil {
			t.Errorf("the open transaction: %v", err)
		}
	}()
	poll.Until(t, "the first replica's transaction to be open", entered.Load)

	var othersDone atomic.Bool
	go func() {
		defer othersDone.Store(true)
		steps := []struct {
			name string
			run  func() error
		}{
			{"a sign-in under another key", func() error {
				return rs[1].UpdateLoginAttempts(ctx, []string{"email:other@example.com", "ip:192.0.2.7"}, increment)
			}},
			{"an incident", func() error {
				_, _, err := rs[1].OpenIncident(ctx, app.NewIncident{AccountID: a.ID, Opened: t0, Payload: []byte(`{}`),
					Finding: app.Finding{Rule: app.RuleBackupFailed, Object: "backup:1", Title: "failed", At: t0}})
				return err
			}},
			{"snapshots", func() error {
				_, err := rs[1].InsertReports(ctx, []app.Report{mkReport(a.ID, 1, t0), mkReport(a.ID, 2, t0)})
				return err
			}},
			{"a link", func() error {
				_, err := rs[1].CreateUserLink(ctx, app.UserLink{UserID: u.ID, Kind: app.LinkReset, Hash: "h1", CreatedBy: "op", Created: t0, Expires: t0.Add(time.Hour)})
				return err
			}},
			{"recovery codes", func() error { return rs[1].ReplaceRecoveryCodes(ctx, u.ID, []string{"c1", "c2"}, t0) }},
			{"the roles that need a second factor", func() error { return rs[1].SetMFARequiredRoles(ctx, []app.Role{app.RoleAdmin}) }},
		}
		for _, st := range steps {
			if err := st.run(); err != nil {
				t.Errorf("%s while another transaction is open: %v", st.name, err)
			}
		}
	}()
	poll.Until(t, "the other replica's writes to commit while the first transaction is open", othersDone.Load)
	if holderDone.Load() {
		t.Fatal("the first transaction ended before it was released")
	}

	var waiterDone atomic.Bool
	go func() {
		defer waiterDone.Store(true)
		if err := rs[1].UpdateLoginAttempts(ctx, []string{held}, increment); err != nil {
			t.Errorf("a second attempt under the held key: %v", err)
		}
	}()
	key := db.TxLockKey(rs[1], "login attempts "+held)
	poll.Until(t, "the second attempt under the held key to wait for its lock", func() bool {
		var waiting int
		err := rs[0].DB().QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND ((classid::bigint << 32) | objid::bigint) = ?`, key).Scan(&waiting)
		return err == nil && waiting == 1
	})
	if waiterDone.Load() {
		t.Fatal("the second attempt under the held key did not wait for the first")
	}
	open()
	poll.Until(t, "both attempts under the held key to commit", func() bool { return holderDone.Load() && waiterDone.Load() })
	if got, err := rs[0].LoginAttempts(ctx, held); err != nil || got.Failures != 2 {
		t.Errorf("%s: failures = %d, %v; want 2 (the second attempt counted on top of the first)", held, got.Failures, err)
	}
}

// Read-then-write steps run at once on two replicas keep their invariants.
func TestConcurrentStepsKeepTheirInvariantsOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	const n = 24

	t.Run("an incident is opened once", func(t *testing.T) {
		rs := twoReplicas(t)
		a := prodAccount(t, rs[0])
		var opened atomic.Int32
		together(rs, n, func(_ int, s *db.Store) {
			_, ok, err := s.OpenIncident(ctx, app.NewIncident{AccountID: a.ID, Opened: t0, Payload: []byte(`{}`),
				Finding: app.Finding{Rule: app.RuleOverdue, Object: "configuration:9", Title: "overdue", At: t0}})
			if err != nil {
				t.Error(err)
			}
			if ok {
				opened.Add(1)
			}
		})
		list, err := rs[1].ListIncidents(ctx, []app.AccountID{a.ID}, 100)
		if opened.Load() != 1 || len(list) != 1 || err != nil {
			t.Errorf("%d calls reported opening, %d incidents stored (%v); want 1 and 1", opened.Load(), len(list), err)
		}
	})

	t.Run("the sign-in throttle counts every attempt, keys in either order", func(t *testing.T) {
		rs := twoReplicas(t)
		keys := []string{"email:a@example.com", "ip:192.0.2.1"}
		together(rs, n, func(i int, s *db.Store) {
			ks := slices.Clone(keys)
			if i%3 == 0 {
				slices.Reverse(ks)
			}
			err := s.UpdateLoginAttempts(ctx, ks, func(cs []app.LoginAttempts) []app.LoginAttempts {
				for j := range cs {
					cs[j].Failures++
				}
				return cs
			})
			if err != nil {
				t.Error(err)
			}
		})
		for _, k := range keys {
			if a, err := rs[0].LoginAttempts(ctx, k); err != nil || a.Failures != n {
				t.Errorf("%s: failures = %d, %v; want %d", k, a.Failures, err, n)
			}
		}
	})

	t.Run("a lease is held by one", func(t *testing.T) {
		rs := twoReplicas(t)
		var winners sync.Map
		together(rs, n, func(i int, s *db.Store) {
			holder := fmt.Sprint("replica-", i)
			ok, err := s.AcquireLease(ctx, "sync:1", holder, t0, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				winners.Store(holder, true)
			}
		})
		var got []string
		winners.Range(func(k, _ any) bool { got = append(got, k.(string)); return true })
		if len(got) != 1 {
			t.Fatalf("holders %v; want one", got)
		}
		if held, err := rs[1].HeldLeases(ctx, got[0], t0); err != nil || !slices.Equal(held, []string{"sync:1"}) {
			t.Errorf("HeldLeases(%s) = %v, %v", got[0], held, err)
		}
	})

	t.Run("sets replaced at once leave one set", func(t *testing.T) {
		rs := twoReplicas(t)
		u, err := rs[0].CreateUser(ctx, app.User{Email: "carol@example.com", PasswordHash: "h", Role: app.RoleAdmin, TimeZone: "UTC", Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		together(rs, n, func(i int, s *db.Store) {
			if _, err := s.CreateUserLink(ctx, app.UserLink{UserID: u.ID, Kind: app.LinkReset, Hash: fmt.Sprint("link-", i), CreatedBy: "op",
				Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
				t.Error(err)
			}
			if err := s.ReplaceRecoveryCodes(ctx, u.ID, []string{fmt.Sprint("a-", i), fmt.Sprint("b-", i)}, t0); err != nil {
				t.Error(err)
			}
			roles := []app.Role{app.RoleAdmin}
			if i%2 == 1 {
				roles = []app.Role{app.RoleCreator}
			}
			if err := s.SetMFARequiredRoles(ctx, roles); err != nil {
				t.Error(err)
			}
		})
		links := 0
		for i := range n {
			if _, err := rs[0].UserLinkByHash(ctx, fmt.Sprint("link-", i)); err == nil {
				links++
			}
		}
		if links != 1 {
			t.Errorf("%d links of the user remain; want 1", links)
		}
		if left, err := rs[0].RecoveryCodesLeft(ctx, u.ID); err != nil || left != 2 {
			t.Errorf("%d recovery codes, %v; want the 2 of one replacement", left, err)
		}
		if roles, err := rs[0].MFARequiredRoles(ctx); err != nil || len(roles) != 1 {
			t.Errorf("required roles %v, %v; want the one role of one replacement", roles, err)
		}
	})

	t.Run("overlapping batches in opposite orders neither deadlock nor double", func(t *testing.T) {
		rs := twoReplicas(t)
		a := prodAccount(t, rs[0])
		const jobs = 40
		var stored atomic.Int64
		together(rs, n, func(i int, s *db.Store) {
			var batch []app.Report
			var keys []app.ConfigurationKey
			for j := range int64(jobs) {
				batch = append(batch, mkReport(a.ID, j+1, t0))
				keys = append(keys, app.ConfigurationKey{AccountID: a.ID, ConfigID: rcbu.ConfigurationID(j + 1)})
			}
			if i%2 == 1 {
				slices.Reverse(batch)
				slices.Reverse(keys)
			}
			k, err := s.InsertReports(ctx, batch)
			if err != nil {
				t.Error(err)
			}
			stored.Add(int64(k))
			if _, err := s.ConfigurationsFirstSeen(ctx, keys, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Error(err)
			}
		})
		if stored.Load() != jobs {
			t.Errorf("%d snapshots reported new; want %d", stored.Load(), jobs)
		}
		seen, err := rs[1].ConfigurationsFirstSeen(ctx, []app.ConfigurationKey{{AccountID: a.ID, ConfigID: 1}, {AccountID: a.ID, ConfigID: jobs}}, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for k, at := range seen {
			if !at.Before(t0.Add(time.Duration(n) * time.Minute)) {
				t.Errorf("configuration %d first seen %s: later than every call", k.ConfigID, at)
			}
		}
	})
}
