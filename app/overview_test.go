package app

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// fakeOverviewStore is an OverviewStore over fixed records.
type fakeOverviewStore struct {
	latest []ConfigurationRun
	// latestAsks are the keys of each LatestBackups call.
	latestAsks [][]ConfigurationKey
	runs       []ProblemRun
	offline    []OfflineSighting
	days       []AgentDay
	daysAsks   [][]AgentKey
	// seen is when each configuration was first seen; seenAsks counts
	// the keys asked about.
	mu       sync.Mutex
	seen     map[ConfigurationKey]time.Time
	seenAsks int
	// syncing is set while the first report sync runs, with its cursor.
	syncing bool
	cursor  time.Time
}

func (s *fakeOverviewStore) LatestBackups(_ context.Context, keys []ConfigurationKey) ([]ConfigurationRun, error) {
	s.latestAsks = append(s.latestAsks, keys)
	want := map[ConfigurationKey]bool{}
	for _, k := range keys {
		want[k] = true
	}
	var out []ConfigurationRun
	for _, r := range s.latest {
		if want[r.ConfigurationKey] {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeOverviewStore) ProblemRuns(_ context.Context, _ []AccountID, states []string, since time.Time, limit int) ([]ProblemRun, error) {
	var out []ProblemRun
	for _, r := range s.runs {
		if !r.Finished.Before(since) && len(out) < limit && contains(states, r.State) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *fakeOverviewStore) CountProblemRuns(ctx context.Context, accts []AccountID, states []string, since time.Time) (int, error) {
	rs, err := s.ProblemRuns(ctx, accts, states, since, 1<<30)
	return len(rs), err
}

func (s *fakeOverviewStore) AgentDaysOf(_ context.Context, agents []AgentKey, _ time.Time, _ int) ([]AgentDay, error) {
	s.daysAsks = append(s.daysAsks, agents)
	return s.days, nil
}

func (s *fakeOverviewStore) OfflineSightings(context.Context, []AccountID) ([]OfflineSighting, error) {
	return s.offline, nil
}

func (s *fakeOverviewStore) ConfigurationsFirstSeen(_ context.Context, keys []ConfigurationKey, now time.Time) (map[ConfigurationKey]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[ConfigurationKey]time.Time{}
	}
	out := map[ConfigurationKey]time.Time{}
	for _, k := range keys {
		if _, ok := s.seen[k]; !ok {
			s.seen[k] = now
		}
		out[k] = s.seen[k]
	}
	s.seenAsks += len(keys)
	return out, nil
}

func (s *fakeOverviewStore) SyncState(_ context.Context, account AccountID) (SyncState, error) {
	return SyncState{AccountID: account, Backfilled: !s.syncing, Cursor: s.cursor}, nil
}

func (s *fakeOverviewStore) OfflineThresholds(_ context.Context, accts []AccountID) (map[AccountID]time.Duration, error) {
	out := map[AccountID]time.Duration{}
	for _, a := range accts {
		out[a] = DefaultOfflineHours * time.Hour
	}
	return out, nil
}

func TestFleetServesStaleWhileOneRefreshRuns(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a1", Online: true})
	clk := rcbusim.NewFakeClock(time.Unix(1000, 0))
	f := NewFleet(env, FleetOptions{Now: clk.Now, MaxStale: time.Minute})
	ctx := ctxT(t)
	sc := env.scope(1)
	if _, _, err := f.Agents(ctx, sc); err != nil {
		t.Fatal(err)
	}
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a2", Online: true})
	clk.Advance(30 * time.Second)
	// The first read past the TTL gets the stale list at once and starts
	// the refresh; the reads after it get the stale list or, once the
	// refresh has landed (it may, the simulator answers at once), the
	// fresh one; none starts another refresh.
	for i := range 5 {
		agents, _, err := f.Agents(ctx, sc)
		if err != nil || len(agents) != 1 && (i == 0 || len(agents) != 2) {
			t.Fatalf("read %d past the TTL: %d agents, %v", i, len(agents), err)
		}
	}
	poll.Until(t, "the background refresh", func() bool { return env.count("GET user/agents") == 2 })
	poll.Until(t, "the refreshed list", func() bool { agents, _, _ := f.Agents(ctx, sc); return len(agents) == 2 })
	if n := env.count("GET user/agents"); n != 2 {
		t.Errorf("list calls %d, want 2 (one background refresh for five stale reads)", n)
	}
	// Past MaxStale the caller waits for fresh data.
	env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a3", Online: true})
	clk.Advance(2 * time.Minute)
	if agents, _, _ := f.Agents(ctx, sc); len(agents) != 3 {
		t.Errorf("data older than MaxStale served: %d agents", len(agents))
	}
}

// TestOverviewLatestRunsPerGeneration: with a Generation the latest stored
// runs are read once per generation of the snapshots: a load at the same
// generation asks the store only for configurations it has not seen, and
// the next load after a write (a new generation) reads them all again and
// shows what was written.
func TestOverviewLatestRunsPerGeneration(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	agent := env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a1", Online: true})
	c1, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "c1", Inclusions: []string{"/etc"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	k1 := ConfigurationKey{AccountID: 1, ConfigID: rcbu.ConfigurationID(c1)}
	store := &fakeOverviewStore{latest: []ConfigurationRun{{ConfigurationKey: k1, LastState: "Completed", LastFinished: now.Add(-2 * time.Hour), LastSuccess: now.Add(-2 * time.Hour)}}}
	var gen atomic.Uint64
	f := NewFleet(env, FleetOptions{})
	ovs := NewOverviews(f, store, OverviewOptions{Generation: gen.Load})
	ctx := ctxT(t)
	lastState := func() string {
		t.Helper()
		ov, err := ovs.Overview(ctx, env.scope(1), false)
		if err != nil || len(ov.Agents) != 1 {
			t.Fatalf("overview: %v, %d agents", err, len(ov.Agents))
		}
		return ov.Agents[0].LastState
	}
	if got := lastState(); got != "Completed" {
		t.Fatalf("last state %q", got)
	}
	// The store changes without a write through History: the cached
	// answer stands and the store is not asked again.
	store.latest[0].LastState, store.latest[0].LastFinished = "Failed", now.Add(-time.Hour)
	if got := lastState(); got != "Completed" || len(store.latestAsks) != 1 {
		t.Fatalf("same generation: last state %q, %d store reads", got, len(store.latestAsks))
	}
	// A configuration added since is read alone; one without stored runs
	// is remembered as having none.
	c2, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "c2", Inclusions: []string{"/var"}})
	if err != nil {
		t.Fatal(err)
	}
	f.Invalidate(1)
	lastState()
	lastState()
	k2 := ConfigurationKey{AccountID: 1, ConfigID: rcbu.ConfigurationID(c2)}
	if len(store.latestAsks) != 2 || fmt.Sprint(store.latestAsks[1]) != fmt.Sprint([]ConfigurationKey{k2}) {
		t.Fatalf("store reads %v, want a second one for %v alone", store.latestAsks, k2)
	}
	// A write bumps the generation: the next load shows it.
	gen.Add(1)
	if got := lastState(); got != "Failed" || len(store.latestAsks) != 3 || len(store.latestAsks[2]) != 2 {
		t.Fatalf("new generation: last state %q, store reads %v", got, store.latestAsks)
	}
}

func TestAttentionOrderAndCauses(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	daily := rcbu.Configuration{IsActive: true, Frequency: rcbu.FrequencyDaily, LastRunTime: rcbu.MSDate{Time: now.Add(-50 * time.Hour)}}
	agent := func(id rcbu.AgentID, name string, offline, disabled bool) *OverviewAgent {
		return &OverviewAgent{FleetAgent: FleetAgent{AccountID: 1, AccountName: "A", Live: true, Agent: rcbu.Agent{ID: id, MachineName: name, IsDisabled: disabled}}, Offline: offline}
	}
	agents := map[AgentKey]*OverviewAgent{
		{1, 1}: agent(1, "web", false, false),
		{1, 2}: agent(2, "db", true, false),
		{1, 3}: agent(3, "old", false, true),
	}
	cfgState := func(id rcbu.ConfigurationID, agentID rcbu.AgentID, name string, lastSuccess time.Time) ConfigurationState {
		c := daily
		c.ID, c.AgentID, c.Name = id, agentID, name
		st := ConfigurationState{FleetConfiguration: FleetConfiguration{AccountID: 1, Configuration: c}, LastSuccess: lastSuccess, LastRun: c.LastRunTime.Time, LastState: "Completed"}
		st.Overdue = DefaultOverduePolicy().Check(c, lastSuccess, now)
		return st
	}
	states := []ConfigurationState{
		cfgState(10, 1, "web files", now.Add(-2*time.Hour)),  // fine, but its last run failed
		cfgState(20, 2, "db dump", now.Add(-50*time.Hour)),   // overdue: agent offline
		cfgState(30, 3, "old files", now.Add(-80*time.Hour)), // overdue longer: agent disabled
		cfgState(40, 1, "logs", now.Add(-2*time.Hour)),       // completed with errors
		cfgState(50, 1, "tmp", now.Add(-1*time.Hour)),        // failed, then succeeded
	}
	states[0].LastState, states[0].LastRun = "Failed", now.Add(-time.Hour)
	states[4].LastRun = now.Add(-time.Hour)
	rec := records{
		runs: []ProblemRun{
			{AccountID: 1, BackupID: 901, AgentID: 1, ConfigID: 10, State: "Failed", Finished: now.Add(-time.Hour), FirstError: "Access denied"},
			{AccountID: 1, BackupID: 902, AgentID: 1, ConfigID: 40, State: "CompletedWithErrors", Finished: now.Add(-90 * time.Minute), Reason: "UnableToProcessSomeFiles"},
			{AccountID: 1, BackupID: 903, AgentID: 1, ConfigID: 50, State: "Failed", Finished: now.Add(-2 * time.Hour)},
			{AccountID: 1, BackupID: 904, AgentID: 1, ConfigID: 10, State: "Failed", Finished: now.Add(-3 * time.Hour)},
			{AccountID: 1, BackupID: 905, AgentID: 9, ConfigID: 99, State: "Failed", Finished: now.Add(-3 * time.Hour)}, // deleted configuration
		},
		offline: map[AgentKey]OfflineSighting{{1, 2}: {AgentKey: AgentKey{1, 2}, Since: now.Add(-30 * time.Hour), Threshold: 24 * time.Hour}},
	}
	got := attention(states, agents, rec, now)
	var summary []string
	for _, a := range got {
		summary = append(summary, fmt.Sprintf("%d/%d/%s/%d/%d", a.Kind, a.ConfigID, a.Cause, a.BackupID, a.More))
	}
	want := []string{
		"1/10/Last run failed/901/1",
		"2/30/Agent disabled/0/0",
		"2/20/Agent offline/0/0",
		"3/0/Offline for 30 h, longer than the alert threshold of 24 h/0/0",
		"4/40/Last run completed with errors/902/0",
	}
	if diff := cmp.Diff(want, summary); diff != "" {
		t.Errorf("attention (-want +got):\n%s", diff)
	}
	if !got[0].CanRun || got[1].CanRun || !got[2].AgentOffline || !got[2].OfflineSince.Equal(now.Add(-30*time.Hour)) || got[0].FirstError != "Access denied" {
		t.Errorf("actions %+v", got[:3])
	}
	// With no error line the reason says what went wrong, in the words
	// every page uses.
	if got[4].FirstError != "Some files could not be processed" {
		t.Errorf("the reason reads %q, want the words table's", got[4].FirstError)
	}
}

// TestOfflineAttentionFromTheAPI: an agent the API reports offline needs
// attention once it has been away longer than the threshold, whether the
// alert rules' sighting or the API's record of its last successful backup
// shows it; one that backed up within the threshold does not, and one with
// no successful backup on record does.
func TestOfflineAttentionFromTheAPI(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	key := AgentKey{AccountID: 1, AgentID: 7}
	tests := []struct {
		name        string
		sighting    *OfflineSighting
		threshold   time.Duration // the account's; 0: the default
		lastSuccess time.Time
		want        string // "" when it does not need attention
		wantAt      time.Time
	}{
		{"seen offline past the threshold", &OfflineSighting{AgentKey: key, Since: now.Add(-30 * time.Hour), Threshold: 24 * time.Hour}, 0, now.Add(-31 * time.Hour),
			"Offline for 30 h, longer than the alert threshold of 24 h", now.Add(-30 * time.Hour)},
		{"not seen yet, last success five days ago", nil, 0, now.Add(-5 * 24 * time.Hour),
			"Offline; its last successful backup was 5 d ago, longer than the alert threshold of 24 h", now.Add(-5 * 24 * time.Hour)},
		{"seen an hour ago, last success two days ago", &OfflineSighting{AgentKey: key, Since: now.Add(-time.Hour), Threshold: 24 * time.Hour}, 0, now.Add(-50 * time.Hour),
			"Offline; its last successful backup was 2 d ago, longer than the alert threshold of 24 h", now.Add(-50 * time.Hour)},
		{"the account's own threshold", nil, 4 * time.Hour, now.Add(-5 * time.Hour),
			"Offline; its last successful backup was 5 h ago, longer than the alert threshold of 4 h", now.Add(-5 * time.Hour)},
		{"backed up within the threshold", nil, 0, now.Add(-3 * time.Hour), "", time.Time{}},
		{"seen recently, backed up recently", &OfflineSighting{AgentKey: key, Since: now.Add(-time.Hour), Threshold: 24 * time.Hour}, 0, now.Add(-2 * time.Hour), "", time.Time{}},
		{"never backed up", nil, 0, time.Time{}, "Offline, with no successful backup on record", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := records{offline: map[AgentKey]OfflineSighting{}, threshold: map[AccountID]time.Duration{}}
			if tt.sighting != nil {
				rec.offline[key] = *tt.sighting
			}
			if tt.threshold > 0 {
				rec.threshold[1] = tt.threshold
			}
			oa := &OverviewAgent{FleetAgent: FleetAgent{AccountID: 1, Live: true, Agent: rcbu.Agent{ID: 7, MachineName: "build-01", Status: rcbu.AgentStatusOffline}}, Offline: true, LastSuccess: tt.lastSuccess}
			got := attention(nil, map[AgentKey]*OverviewAgent{key: oa}, rec, now)
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("needs attention: %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Kind != AttentionOffline || got[0].Cause != tt.want || !got[0].At.Equal(tt.wantAt) || got[0].AgentName != "build-01" {
				t.Fatalf("got %+v, want %q at %v", got, tt.want, tt.wantAt)
			}
			if got[0].LastSuccess != (tt.want != "" && strings.Contains(tt.want, "last successful backup")) {
				t.Errorf("LastSuccess %v", got[0].LastSuccess)
			}
		})
	}
}

// TestOverviewNeverRan: a scheduled configuration the API says has never
// run is overdue, caused "Never ran", once a run was due since the console
// first saw it; the first sighting is recorded once and remembered.
func TestOverviewNeverRan(t *testing.T) {
	t.Parallel()
	env := newSimEnv(t)
	agent := env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "a1", Online: true})
	cfg, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "nightly", Frequency: "Daily", Hour: 2, Inclusions: []string{"/etc"}})
	if err != nil {
		t.Fatal(err)
	}
	// The console's clock moves on while the API (its clock held) never
	// starts the run: what a service that failed to run it would show.
	now := time.Now()
	store := &fakeOverviewStore{}
	ovs := NewOverviews(NewFleet(env, FleetOptions{}), store, OverviewOptions{Now: func() time.Time { return now }})
	ctx := ctxT(t)
	k := ConfigurationKey{AccountID: 1, ConfigID: rcbu.ConfigurationID(cfg)}
	ov, err := ovs.Overview(ctx, env.scope(1), false)
	if err != nil {
		t.Fatal(err)
	}
	if ov.Overdue[k].Overdue || len(ov.Attention) != 0 {
		t.Fatalf("just seen: overdue %+v, attention %+v", ov.Overdue[k], ov.Attention)
	}
	now = now.Add(2 * 24 * time.Hour)
	ov, err = ovs.Overview(ctx, env.scope(1), false)
	if err != nil {
		t.Fatal(err)
	}
	if o := ov.Overdue[k]; !o.Overdue || !o.NeverRan || o.Words() != "never ran" {
		t.Fatalf("two days later: %+v", o)
	}
	if len(ov.Attention) != 1 || ov.Attention[0].Kind != AttentionOverdue || ov.Attention[0].Cause != "Never ran" || ov.Counts.Overdue != 1 {
		t.Fatalf("attention %+v, overdue count %d", ov.Attention, ov.Counts.Overdue)
	}
	if store.seenAsks != 1 {
		t.Errorf("the store was asked about %d configurations, want the one, once", store.seenAsks)
	}
}
