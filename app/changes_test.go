package app_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/pgtest"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
	"github.com/rcbu-console/rcbu-console/upstream"
)

// replica is one console's services over a shared store, with caches that
// only an invalidation refreshes (an hour's TTL), wired as run does.
type replica struct {
	store    *db.Store
	accounts *app.Accounts
	fleet    *app.Fleet
	history  *app.History
	syncer   *app.Syncer
	configs  *app.Configurations
	caches   *app.Caches
	auth     *app.Auth
	users    *app.Users
	connects atomic.Int64
}

func newReplica(t *testing.T, dsn string, now func() time.Time) *replica {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sealer, err := app.NewSealer([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{store: store}
	real := upstream.NewConnector(nil, app.NewUpstreamBudget(app.DefaultBackgroundCalls), discard(), "test")
	connect := func(ctx context.Context, c app.Credentials) (*rcbu.Client, error) {
		r.connects.Add(1)
		return real(ctx, c)
	}
	audit := app.NewAudit(store, now, discard())
	r.accounts = app.NewAccounts(store, sealer, connect, audit, now, discard())
	r.fleet = app.NewFleet(r.accounts, app.FleetOptions{Now: now, Log: discard(), TTL: time.Hour})
	r.history = app.NewHistory(store, r.accounts, audit, now, discard())
	r.history.SetSharedStore(time.Hour)
	r.syncer = app.NewSyncer(r.history, r.accounts, app.SyncOptions{})
	r.configs = app.NewConfigurations(r.fleet, audit, app.OverduePolicy{}, now)
	authCfg := app.DefaultAuthConfig()
	authCfg.DeviceKey = []byte(strings.Repeat("d", 32))
	r.auth, err = app.NewAuth(store, audit, authCfg, now, discard())
	if err != nil {
		t.Fatal(err)
	}
	r.users = app.NewUsers(store, audit, authCfg.Password, now, discard())
	r.caches = app.NewCaches(store, r.fleet, r.accounts, r.history, r.auth, r.users, discard())
	store.OnSessionsEnded(r.caches.SessionsEnded)
	subCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.caches.Run(subCtx) }()
	t.Cleanup(func() { stop(); <-done })
	poll.Until(t, "the replica to listen", func() bool { return r.caches.Applied() > 0 })
	return r
}

// Two replicas on one PostgreSQL schema, each caching for an hour: a change
// made through one (a configuration disabled, an account's credentials
// edited, snapshots synced) is seen through the other at once; and when the
// other's listening connection is dropped, what changed meanwhile without a
// notice is read afresh once it listens again.
func TestChangesThroughOneReplicaReachTheOthersCaches(t *testing.T) {
	dsn, admin := pgtest.Schema(t)
	sim := rcbusimtest.NewTestServer(t, rcbusim.WithDataset("demo"), rcbusim.WithWakeDelay(0))
	now := sim.Clock.Now
	a, b := newReplica(t, dsn, now), newReplica(t, dsn, now)
	ctx := context.Background()

	users := app.NewUsers(a.store, app.NewAudit(a.store, now, discard()), cheap, now, discard())
	if _, _, err := users.EnsureAdmin(ctx, "admin@example.com", "a long enough password"); err != nil {
		t.Fatal(err)
	}
	actor, err := a.store.UserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	req := app.AccountRequest{Name: "Production", Username: rcbusim.DemoUser, Kind: "api_key", Secret: rcbusim.DemoAPIKey, IdentityURL: sim.IdentityURL}
	acct, err := a.accounts.Create(ctx, actor, req)
	if err != nil {
		t.Fatal(err)
	}
	scope := app.NewScope(acct)

	t.Run("a configuration disabled through a is seen through b", func(t *testing.T) {
		cfgs, _, err := b.fleet.Configurations(ctx, scope)
		if err != nil || len(cfgs) == 0 {
			t.Fatalf("b's configurations: %d, %v", len(cfgs), err)
		}
		target := cfgs[0].Configuration
		if !target.Enabled() {
			t.Fatalf("configuration %d is disabled already", target.ID)
		}
		if _, err := a.configs.SetEnabled(ctx, actor, scope, target.ID, false); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, "b's cached list to show the configuration disabled", func() bool {
			cfgs, _, err := b.fleet.Configurations(ctx, scope)
			if err != nil {
				t.Fatal(err)
			}
			for _, fc := range cfgs {
				if fc.Configuration.ID == target.ID {
					return !fc.Configuration.Enabled()
				}
			}
			return false
		})
	})

	t.Run("an account edited through a signs b in again", func(t *testing.T) {
		if _, err := b.accounts.Client(ctx, acct.ID); err != nil {
			t.Fatal(err)
		}
		before := b.connects.Load()
		if _, err := b.accounts.Client(ctx, acct.ID); err != nil || b.connects.Load() != before {
			t.Fatalf("b's client is not cached: %d sign-ins after %d, %v", b.connects.Load(), before, err)
		}
		edit := req
		edit.Name, edit.Secret = "Production (renamed)", ""
		if _, err := a.accounts.Update(ctx, actor, acct.ID, edit); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, "b to drop its client and sign in again", func() bool {
			if _, err := b.accounts.Client(ctx, acct.ID); err != nil {
				t.Fatal(err)
			}
			return b.connects.Load() > before
		})
	})

	t.Run("snapshots synced by a refresh b's heatmap", func(t *testing.T) {
		hm, err := b.history.Heatmap(ctx, []app.AccountID{acct.ID}, 14, time.UTC)
		if err != nil || len(hm.Rows) != 0 {
			t.Fatalf("b's heatmap before any sync: %d rows, %v", len(hm.Rows), err)
		}
		if n, err := a.syncer.SyncAccount(ctx, acct.ID); err != nil || n == 0 {
			t.Fatalf("a's sync stored %d, %v", n, err)
		}
		poll.Until(t, "b's heatmap to show the synced runs", func() bool {
			hm, err := b.history.Heatmap(ctx, []app.AccountID{acct.ID}, 14, time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			return len(hm.Rows) > 0
		})
	})

	t.Run("b's caches are read afresh after its listener comes back", func(t *testing.T) {
		agents, _, err := b.fleet.Agents(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		// An agent appears without any console invalidating: only the gap
		// in b's listening can drop b's hour-long cache of the list.
		sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "late-arrival", Datacenter: "DFW", Online: true})
		if again, _, _ := b.fleet.Agents(ctx, scope); len(again) != len(agents) {
			t.Fatalf("b's agents list is not cached: %d then %d", len(agents), len(again))
		}
		applied := b.caches.Applied()
		var schema string
		if err := b.store.DB().QueryRowContext(ctx, `SELECT current_database() || '.' || current_schema()`).Scan(&schema); err != nil {
			t.Fatal(err)
		}
		// Both replicas' listening connections of this schema (and no
		// other test's) are dropped by the server.
		res, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, `LISTEN "rcbu changes `+schema+`"`)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 2 {
			t.Fatalf("dropped %d listening connections; want 2 (a's and b's)", n)
		}
		// Lost, then back: two drops of every cache.
		poll.Until(t, "b to listen again", func() bool { return b.caches.Applied() >= applied+2 })
		got, _, err := b.fleet.Agents(ctx, scope)
		if err != nil || len(got) != len(agents)+1 {
			t.Errorf("b's agents after listening again: %d, %v; want %d", len(got), err, len(agents)+1)
		}
	})
}

// A session ended through one replica (signed out there, or its user
// disabled) is forgotten by the other's last good reads at once: should the
// store then go away, the other does not let it in on an earlier read,
// while it still answers for a session nobody ended.
func TestSessionsEndedThroughOneReplicaAreForgottenByTheOther(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	proxied, proxy := pgtest.Behind(t, dsn)
	now := time.Now
	a := newReplica(t, dsn, now)
	b := newReplica(t, proxied, now) // its store goes away with the proxy
	ctx := context.Background()
	if _, _, err := a.users.EnsureAdmin(ctx, "admin@example.com", "a long enough password"); err != nil {
		t.Fatal(err)
	}
	admin, err := a.store.UserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var people [3]app.User
	for i, email := range []string{"stays@example.com", "signs-out@example.com", "disabled@example.com"} {
		if people[i], err = a.users.Create(ctx, admin, app.NewUserRequest{Email: email, Role: "observer", Password: "a long enough password"}); err != nil {
			t.Fatal(err)
		}
	}
	var tokens [3]string
	for i, p := range people {
		if tokens[i], err = app.NewSessionToken(); err != nil {
			t.Fatal(err)
		}
		if _, err := a.auth.CreateSession(ctx, tokens[i], p.ID, nil); err != nil {
			t.Fatal(err)
		}
		// The other replica reads each session and its user once.
		if _, err := b.auth.Session(ctx, tokens[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := b.users.Get(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}

	heard := b.caches.Applied()
	if err := a.auth.EndSession(ctx, tokens[1]); err != nil {
		t.Fatal(err)
	}
	if err := a.users.SetDisabled(ctx, admin, people[2].ID, true); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the other replica to hear both", func() bool { return b.caches.Applied() >= heard+2 })

	proxy.Down()
	if s, err := b.auth.Session(app.WithStoreWatch(ctx), tokens[0]); err != nil || s.UserID != people[0].ID {
		t.Fatalf("a session nobody ended, with the store away: %+v, %v; want it served from the last good read", s, err)
	}
	for i, what := range map[int]string{1: "signed out through the other replica", 2: "of a user disabled through the other replica"} {
		if _, err := b.auth.Session(app.WithStoreWatch(ctx), tokens[i]); !errors.Is(err, app.ErrUnavailable) {
			t.Errorf("a session %s, with the store away: %v; want ErrUnavailable, not the last good read", what, err)
		}
		if _, err := b.users.Get(app.WithStoreWatch(ctx), people[i].ID); !errors.Is(err, app.ErrUnavailable) {
			t.Errorf("the user whose session was %s, with the store away: %v; want ErrUnavailable", what, err)
		}
	}
}
