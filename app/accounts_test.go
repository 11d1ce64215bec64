package app_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim/rcbusimtest"
	"github.com/rcbu-console/rcbu-console/upstream"
)

type accountsEnv struct {
	*env
	sim      *rcbusimtest.TestServer
	accounts *app.Accounts
	connects *atomic.Int64
}

func newAccountsEnv(t *testing.T) *accountsEnv {
	t.Helper()
	e := newEnv(t)
	sim := rcbusimtest.NewTestServer(t)
	sealer, err := app.NewSealer([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	real := upstream.NewConnector(nil, app.NewUpstreamBudget(app.DefaultBackgroundCalls), discard(), "test")
	counting := func(ctx context.Context, c app.Credentials) (*rcbu.Client, error) {
		n.Add(1)
		return real(ctx, c)
	}
	return &accountsEnv{env: e, sim: sim, accounts: app.NewAccounts(e.store, sealer, counting, e.audit, e.clock.Now, discard()), connects: &n}
}

func (e *accountsEnv) request(secret string) app.AccountRequest {
	return app.AccountRequest{Name: "Production", Username: rcbusim.DemoUser, Kind: "api_key", Secret: secret, IdentityURL: e.sim.IdentityURL}
}

func TestCreateAccount(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	t.Run("bad credentials save nothing", func(t *testing.T) {
		_, err := e.accounts.Create(ctx, e.admin, e.request("wrong-key"))
		var ve *app.ValidationError
		if !errors.As(err, &ve) || !strings.Contains(ve.Fields[""], "rejected") {
			t.Fatalf("err = %v", err)
		}
		if list, _ := e.accounts.List(ctx); len(list) != 0 {
			t.Fatalf("accounts after a failed create: %+v", list)
		}
		if last := e.lastAudit(t); last.Action != app.ActionAccountCreate || last.Outcome != app.OutcomeFailed {
			t.Errorf("audit = %+v", last)
		}
	})
	t.Run("invalid fields are reported without a sign-in", func(t *testing.T) {
		before := e.connects.Load()
		_, err := e.accounts.Create(ctx, e.admin, app.AccountRequest{Kind: "token", IdentityURL: "ftp://x", Region: "MOON"})
		var ve *app.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v", err)
		}
		for _, f := range []string{"name", "username", "kind", "secret", "identity_url", "region"} {
			if ve.Fields[f] == "" {
				t.Errorf("no message for %s: %v", f, ve.Fields)
			}
		}
		if e.connects.Load() != before {
			t.Error("invalid input was sent to Rackspace")
		}
	})
	t.Run("good credentials are saved encrypted", func(t *testing.T) {
		a, err := e.accounts.Create(ctx, e.admin, e.request(rcbusim.DemoAPIKey))
		if err != nil {
			t.Fatal(err)
		}
		if a.Region != "" || a.RegionLabel() != "All regions" || a.Source != app.SourceAdmin {
			t.Errorf("account = %+v", a)
		}
		e.store.Close() // flush the WAL into the main file
		b, err := os.ReadFile(e.dbPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("Production")) {
			t.Fatal("the database file does not hold the account at all")
		}
		if bytes.Contains(b, []byte(rcbusim.DemoAPIKey)) {
			t.Fatal("the API key is in the database file in plain text")
		}
	})
}

func TestAccountClientIsCachedAndReconnectsAfterEdit(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	a, err := e.accounts.Create(ctx, e.admin, e.request(rcbusim.DemoAPIKey))
	if err != nil {
		t.Fatal(err)
	}
	e.connects.Store(0)
	var wg sync.WaitGroup
	clients := make([]*rcbu.Client, 8)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.accounts.Client(ctx, a.ID)
			if err != nil {
				t.Error(err)
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	if n := e.connects.Load(); n != 1 {
		t.Fatalf("%d sign-ins for 8 concurrent callers, want 1", n)
	}
	for _, c := range clients {
		if c != clients[0] {
			t.Fatal("callers got different clients")
		}
	}
	agents, err := clients[0].Agents.List(ctx)
	if err != nil {
		t.Fatalf("the cached client does not work: %v", err)
	}
	_ = agents
	req := e.request("") // keep the stored key
	req.Name = "Prod (renamed)"
	if _, err := e.accounts.Update(ctx, e.admin, a.ID, req); err != nil {
		t.Fatal(err)
	}
	e.connects.Store(0)
	c2, err := e.accounts.Client(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c2 == clients[0] || e.connects.Load() != 1 {
		t.Errorf("after an edit: same client %v, sign-ins %d; want a reconnect", c2 == clients[0], e.connects.Load())
	}
	if err := e.accounts.CheckAll(ctx); err != nil {
		t.Errorf("CheckAll: %v", err)
	}
}

func TestAccountClientFailureIsNotCached(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	a, err := e.accounts.Create(ctx, e.admin, e.request(rcbusim.DemoAPIKey))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.FailNext(rcbusim.OpAuth, 500)
	if _, err := e.accounts.Client(ctx, a.ID); err == nil {
		t.Fatal("Client succeeded while identity failed")
	}
	if _, err := e.accounts.Client(ctx, a.ID); err != nil {
		t.Fatalf("the failure was cached: %v", err)
	}
	if _, err := e.accounts.Client(ctx, 9999); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown account: %v", err)
	}
}

func TestDemoAccount(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()
	if has, _ := e.accounts.HasConfiguredAccounts(ctx); has {
		t.Fatal("fresh store has accounts")
	}
	d1, err := e.accounts.EnsureDemo(ctx, e.sim.IdentityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if !e.accounts.DemoActive() || !d1.Demo() {
		t.Fatal("demo not active")
	}
	d2, err := e.accounts.EnsureDemo(ctx, e.sim.URL+"/v2.0/tokens?restart", rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil || d2.ID != d1.ID {
		t.Fatalf("second EnsureDemo = %+v, %v; want the same id", d2, err)
	}
	if has, _ := e.accounts.HasConfiguredAccounts(ctx); has {
		t.Error("the demo account counts as configured")
	}
	if err := e.accounts.Delete(ctx, e.admin, d1.ID); !errors.Is(err, app.ErrConflict) {
		t.Errorf("deleting the demo account: %v", err)
	}
	if _, err := e.accounts.Update(ctx, e.admin, d1.ID, e.request("x")); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("editing the demo account: %v", err)
	}
	// A later start without demo mode hides the row.
	sealer, _ := app.NewSealer([]byte(strings.Repeat("s", 32)))
	plain := app.NewAccounts(e.store, sealer, upstream.NewConnector(nil, app.NewUpstreamBudget(app.DefaultBackgroundCalls), discard(), "t"), e.audit, e.clock.Now, discard())
	if list, _ := plain.List(ctx); len(list) != 0 {
		t.Errorf("demo row listed outside demo mode: %+v", list)
	}
	if _, err := plain.Get(ctx, d1.ID); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("demo row readable outside demo mode: %v", err)
	}
}
