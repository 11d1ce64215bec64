package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// simEnv is a simulator behind a loopback server that counts the requests
// it serves, with API clients for its tenants as accounts 1 (demo tenant)
// and 2 (the other tenant).
type simEnv struct {
	sim      *rcbusim.Server
	url      string
	mu       sync.Mutex
	counts   map[string]int // by path suffix after the tenant
	inflight atomic.Int64
	maxIn    atomic.Int64
	clients  map[AccountID]*rcbu.Client
	accounts []Account
	failAcct map[AccountID]error
}

func newSimEnv(t *testing.T, opts ...rcbusim.Option) *simEnv {
	t.Helper()
	fc := rcbusim.NewFakeClock(time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC))
	sim := rcbusim.New(append([]rcbusim.Option{rcbusim.WithClock(fc), rcbusim.WithWakeDelay(0)}, opts...)...)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	env := &simEnv{sim: sim, counts: map[string]int{}, clients: map[AccountID]*rcbu.Client{}, failAcct: map[AccountID]error{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := env.inflight.Add(1)
		defer env.inflight.Add(-1)
		for {
			m := env.maxIn.Load()
			if n <= m || env.maxIn.CompareAndSwap(m, n) {
				break
			}
		}
		env.mu.Lock()
		env.counts[r.Method+" "+opName(r.URL.Path)]++
		env.mu.Unlock()
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	env.url = hs.URL
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, cr := range []rcbu.Credentials{
		{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		{Username: rcbusim.OtherUser, APIKey: rcbusim.OtherAPIKey},
	} {
		c, err := rcbuhttp.Connect(ctx, cr, rcbu.WithIdentityURL(hs.URL+"/v2.0/tokens"), rcbu.WithRegion("DFW"),
			rcbu.WithRetry(1, 0, 0), rcbu.WithStartRetry(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		id := AccountID(i + 1)
		env.clients[id] = c
		env.accounts = append(env.accounts, Account{ID: id, Name: fmt.Sprintf("Account %d", id)})
	}
	return env
}

// opName reduces a request path to its operation, without ids or tenant:
// "/dfw/v1.0/123456/agent/42" → "agent/#".
func opName(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) > 3 && parts[1] == "v1.0" {
		parts = parts[3:]
	}
	for i, s := range parts {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			parts[i] = "#"
		}
	}
	return strings.Join(parts, "/")
}

func (e *simEnv) count(op string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts[op]
}

// Client implements ClientSource.
func (e *simEnv) Client(_ context.Context, id AccountID) (*rcbu.Client, error) {
	if err := e.failAcct[id]; err != nil {
		return nil, err
	}
	c, ok := e.clients[id]
	if !ok {
		return nil, fmt.Errorf("account %d: %w", id, ErrNotFound)
	}
	return c, nil
}

func (e *simEnv) scope(ids ...AccountID) Scope {
	var s Scope
	for _, id := range ids {
		s.Accounts = append(s.Accounts, e.accounts[id-1])
	}
	return s
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFleetCachesListsAndInvalidates(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a1", Online: true})
	clk := rcbusim.NewFakeClock(time.Unix(1000, 0))
	f := NewFleet(env, FleetOptions{Now: clk.Now})
	ctx := ctxT(t)
	sc := env.scope(1)

	for range 3 {
		agents, problems, err := f.Agents(ctx, sc)
		if err != nil || len(problems) != 0 || len(agents) != 1 {
			t.Fatalf("Agents = %v, %v, %v", agents, problems, err)
		}
	}
	if n := env.count("GET user/agents"); n != 1 {
		t.Errorf("list calls within the TTL = %d, want 1", n)
	}
	clk.Advance(6 * time.Second)
	if _, _, err := f.Agents(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if n := env.count("GET user/agents"); n != 2 {
		t.Errorf("list calls after the TTL = %d, want 2", n)
	}
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a2", Online: true})
	f.Invalidate(1)
	agents, _, _ := f.Agents(ctx, sc)
	if n := env.count("GET user/agents"); n != 3 || len(agents) != 2 {
		t.Errorf("after Invalidate: %d calls, %d agents; want 3 calls, 2 agents", n, len(agents))
	}
}

func TestFleetCoalescesConcurrentRequests(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, rcbusim.WithLatency(100*time.Millisecond, 0))
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a1", Online: true})
	f := NewFleet(env, FleetOptions{})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			agents, problems, err := f.Agents(ctx, env.scope(1))
			if err == nil && (len(problems) > 0 || len(agents) != 1) {
				err = fmt.Errorf("got %d agents, problems %v", len(agents), problems)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := env.count("GET user/agents"); n != 1 {
		t.Errorf("20 concurrent requests made %d list calls, want 1", n)
	}
}

func TestFleetFailingAccountIsAProblemOthersStillShow(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "mine", Online: true})
	env.failAcct[2] = &rcbu.Error{StatusCode: http.StatusServiceUnavailable}
	f := NewFleet(env, FleetOptions{})
	agents, problems, err := f.Agents(ctxT(t), env.scope(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0].Agent.MachineName != "mine" || agents[0].AccountID != 1 || agents[0].AccountName != "Account 1" {
		t.Errorf("agents = %+v", agents)
	}
	if len(problems) != 1 || problems[0].AccountID != 2 || problems[0].Message != "Cloud Backup is not answering right now; try again." {
		t.Errorf("problems = %+v", problems)
	}

	// An upstream 503 on the list is a problem of that account, in words.
	env.failAcct[2] = nil
	env.sim.FailNext(rcbusim.OpListConfigurations, http.StatusServiceUnavailable)
	_, problems, _ = f.Configurations(ctxT(t), env.scope(1))
	if len(problems) != 1 || !strings.Contains(problems[0].Message, "not answering") {
		t.Errorf("problems = %+v", problems)
	}
}

func TestFleetAgentsLiveDegradesToListData(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	on := env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "on", Online: true})
	off := env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "off", Online: false})
	f := NewFleet(env, FleetOptions{})
	agents, _, err := f.AgentsLive(ctxT(t), env.scope(1))
	if err != nil {
		t.Fatal(err)
	}
	status := map[int64]rcbu.AgentStatus{}
	for _, a := range agents {
		if !a.Live {
			t.Errorf("agent %d not live: %s", a.Agent.ID, a.Problem)
		}
		status[int64(a.Agent.ID)] = a.Agent.Status
	}
	if status[on] != rcbu.AgentStatusOnline || status[off] != rcbu.AgentStatusOffline {
		t.Errorf("statuses = %v", status)
	}

	f.Invalidate(1)
	env.sim.FailNext(rcbusim.OpGetAgent, http.StatusServiceUnavailable)
	agents, problems, err := f.AgentsLive(ctxT(t), env.scope(1))
	if err != nil || len(problems) != 0 || len(agents) != 2 {
		t.Fatalf("AgentsLive = %v, %v, %v", agents, problems, err)
	}
	var degraded int
	for _, a := range agents {
		if !a.Live {
			degraded++
			if a.Problem == "" || a.Agent.MachineName == "" {
				t.Errorf("degraded agent %+v", a)
			}
		}
	}
	if degraded != 1 {
		t.Errorf("degraded agents = %d, want 1", degraded)
	}
}

func TestFleetLookupsCheckOwnership(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	mine := rcbu.AgentID(env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "mine", Online: true}))
	theirs := rcbu.AgentID(env.sim.AddAgent(rcbusim.OtherTenant, rcbusim.AgentSeed{Name: "theirs", Online: true}))
	myCfg, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: int64(mine), Name: "c1", Inclusions: []string{"/etc"}})
	if err != nil {
		t.Fatal(err)
	}
	theirCfg, err := env.sim.AddConfiguration(rcbusim.OtherTenant, rcbusim.ConfigurationSeed{AgentID: int64(theirs), Name: "c2", Inclusions: []string{"/etc"}})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFleet(env, FleetOptions{})
	ctx := ctxT(t)

	fa, c, err := f.Agent(ctx, env.scope(1), mine)
	if err != nil || c == nil || fa.AccountID != 1 || !fa.Live || fa.Agent.Status != rcbu.AgentStatusOnline {
		t.Fatalf("Agent(mine) = %+v, %v", fa, err)
	}
	for _, id := range []rcbu.AgentID{theirs, 0, -3, 999999} {
		if _, _, err := f.Agent(ctx, env.scope(1), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Agent(%d) in account 1: err = %v, want ErrNotFound", id, err)
		}
	}
	fa, _, err = f.Agent(ctx, env.scope(1, 2), theirs)
	if err != nil || fa.AccountID != 2 {
		t.Errorf("Agent(theirs) with both accounts = %+v, %v", fa, err)
	}

	fc, _, err := f.Configuration(ctx, env.scope(1), rcbu.ConfigurationID(myCfg))
	if err != nil || fc.Configuration.Name != "c1" {
		t.Errorf("Configuration(mine) = %+v, %v", fc, err)
	}
	if _, _, err := f.Configuration(ctx, env.scope(1), rcbu.ConfigurationID(theirCfg)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Configuration(theirs) in account 1: err = %v", err)
	}

	b, err := env.clients[1].Backups.Start(ctx, rcbu.ConfigurationID(myCfg))
	if err != nil {
		t.Fatal(err)
	}
	if fb, _, err := f.Backup(ctx, env.scope(1), b.ID); err != nil || fb.AccountID != 1 || fb.Backup.ID != b.ID {
		t.Errorf("Backup(mine) = %+v, %v", fb, err)
	}
	if _, _, err := f.Backup(ctx, env.scope(2), b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Backup(mine) in account 2: err = %v, want ErrNotFound", err)
	}
}

func TestProblemWords(t *testing.T) {
	t.Parallel()
	api := func(code int, msg string) error { return &rcbu.Error{StatusCode: code, Message: msg} }
	tests := []struct {
		name string
		err  error
		noun string
		want string
	}{
		{"offline", fmt.Errorf("start: %w", ErrAgentOffline), "configuration", "The agent is offline; wake it and try again."},
		{"403", api(403, "no"), "configuration", "Your Rackspace account role does not allow this."},
		{"404", api(404, "gone"), "configuration", "This configuration no longer exists."},
		{"404 agent", api(404, ""), "agent", "This agent no longer exists."},
		{"503", api(503, ""), "agent", "Cloud Backup is not answering right now; try again."},
		{"500", api(500, ""), "agent", "Cloud Backup is not answering right now; try again."},
		{"timeout", context.DeadlineExceeded, "agent", "Cloud Backup is not answering right now; try again."},
		{"400 with message", api(400, "cannot migrate an encrypted vault"), "agent", "Cloud Backup rejected the request: cannot migrate an encrypted vault."},
		{"401", api(401, ""), "agent", "Rackspace did not accept the account's credentials; an admin can update them in Admin → Accounts."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Problem(tt.err, tt.noun); got != tt.want {
				t.Errorf("Problem = %q, want %q", got, tt.want)
			}
			ue := &UpstreamError{Op: "x", Noun: tt.noun, Err: tt.err}
			if ue.Message() != tt.want || !errors.Is(ue, tt.err) {
				t.Errorf("UpstreamError.Message = %q", ue.Message())
			}
		})
	}
}

// TestOverviewCallsUpstreamConcurrently: for 200 agents and 1,000
// configurations the overview's two list calls per region are in flight
// together, it reads no activity list (the running fragment does), and
// the live status fetches the 200 agents' details concurrently, bounded by
// the pool.
func TestOverviewCallsUpstreamConcurrently(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t, rcbusim.WithScale(200, 5, 0), rcbusim.WithLatency(20*time.Millisecond, 0))
	ctx := ctxT(t)
	// The generated agents live in four regions: use them all.
	all, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		rcbu.WithIdentityURL(env.url+"/v2.0/tokens"), rcbu.WithAllRegions(), rcbu.WithRetry(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	env.clients[1] = all
	// A generous budget: this checks concurrency, not speed, and CI machines
	// can be loaded.
	f := NewFleet(env, FleetOptions{DetailConcurrency: 16, Budget: 30 * time.Second, DetailBudget: 30 * time.Second})
	ovs := NewOverviews(f, &fakeOverviewStore{}, OverviewOptions{})
	ov, err := ovs.Overview(ctx, env.scope(1), false)
	if err != nil || len(ov.Problems) != 0 {
		t.Fatalf("overview: %v %v", err, ov.Problems)
	}
	if len(ov.Agents) != 200 || ov.Pending != 200 {
		t.Fatalf("agents %d, pending %d", len(ov.Agents), ov.Pending)
	}
	var configs int
	for _, a := range ov.Agents {
		configs += len(a.Configurations)
	}
	if configs != 1000 {
		t.Errorf("configurations %d", configs)
	}
	if n := env.count("GET agent/#"); n != 0 {
		t.Errorf("the page made %d details calls", n)
	}
	if m := env.maxIn.Load(); m < 3 {
		t.Errorf("the list calls were not in flight together (max %d)", m)
	}
	if n := env.count("GET activity"); n != 0 {
		t.Errorf("the page made %d activity calls", n)
	}

	env.maxIn.Store(0)
	agents, _, err := f.AgentsLive(ctx, env.scope(1))
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, a := range agents {
		if a.Live {
			live++
		}
	}
	if live != 200 || env.count("GET agent/#") != 200 {
		t.Errorf("live %d, details calls %d", live, env.count("GET agent/#"))
	}
	if m := env.maxIn.Load(); m < 8 || m > 16 {
		t.Errorf("details in flight at most %d, want concurrent and bounded by 16", m)
	}
	// Warm: the page now has every status from the cache, without a call.
	before := env.count("GET agent/#")
	ov, err = ovs.Overview(ctx, env.scope(1), false)
	if err != nil || ov.Pending != 0 || env.count("GET agent/#") != before {
		t.Errorf("warm overview: pending %d, err %v", ov.Pending, err)
	}
}
