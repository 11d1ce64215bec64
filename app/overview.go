package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/words"
)

// ConfigurationState is a configuration with what the console derives
// about it: its last success and last result, whether it is overdue, and
// the backup of it that is running.
type ConfigurationState struct {
	FleetConfiguration
	LastSuccess time.Time
	// LastState is the state of its newest finished backup ("" if none known).
	LastState string
	// LastRun is when that backup last changed.
	LastRun  time.Time
	Interval time.Duration // 0 for manual schedules
	Overdue  Overdue
	// Running is its busy backup, if any.
	Running *FleetActivity
}

// ConfigurationStates derives the state of each configuration from the
// activity of the same accounts (both as the Fleet returns them).
func ConfigurationStates(configs []FleetConfiguration, acts []FleetActivity, now time.Time, p OverduePolicy) []ConfigurationState {
	type cfgKey struct {
		account AccountID
		id      rcbu.ConfigurationID
	}
	byCfg := map[cfgKey][]rcbu.Activity{}
	running := map[cfgKey]*FleetActivity{}
	for i := range acts {
		a := &acts[i]
		if a.Activity.Type != rcbu.ActivityBackup {
			continue
		}
		k := cfgKey{a.AccountID, a.Activity.ConfigurationID}
		byCfg[k] = append(byCfg[k], a.Activity)
		if a.Activity.Busy() && running[k] == nil {
			running[k] = a
		}
	}
	out := make([]ConfigurationState, len(configs))
	for i, fc := range configs {
		k := cfgKey{fc.AccountID, fc.Configuration.ID}
		its := byCfg[k]
		st := ConfigurationState{FleetConfiguration: fc, Running: running[k]}
		st.LastSuccess = LastSuccess(fc.Configuration, its)
		for _, a := range its { // newest first within an account
			if a.Done() && a.TimeOfActivity.Valid() && a.TimeOfActivity.After(st.LastRun) {
				st.LastState, st.LastRun = a.CurrentState, a.TimeOfActivity.Time
			}
		}
		if st.LastState == "" && fc.Configuration.LastRunTime.Valid() && fc.Configuration.BackupState != "" {
			st.LastState, st.LastRun = fc.Configuration.BackupState, fc.Configuration.LastRunTime.Time
		}
		st.Interval, _ = ConfigurationInterval(fc.Configuration)
		st.Overdue = p.Check(fc.Configuration, st.LastSuccess, now)
		out[i] = st
	}
	return out
}

// AgentKey identifies an agent across accounts.
type AgentKey struct {
	AccountID AccountID
	AgentID   rcbu.AgentID
}

// ProblemRun is a stored backup report that ended badly (Failed, Missed,
// CompletedWithErrors or Skipped), with the first line of its first error.
type ProblemRun struct {
	AccountID  AccountID
	BackupID   int64
	AgentID    rcbu.AgentID
	AgentName  string
	ConfigID   rcbu.ConfigurationID
	ConfigName string
	State      string
	Finished   time.Time
	ErrorCount int64
	Reason     string
	FirstError string
}

// OfflineSighting is when the alert rules first saw an agent offline, with
// its account's offline threshold.
type OfflineSighting struct {
	AgentKey
	Since     time.Time
	Threshold time.Duration
}

// OverviewStore is what the overview reads from the stored report
// snapshots and the alert rules' records; *db.Store is one. Every read is
// index-backed and bounded by what the page shows.
type OverviewStore interface {
	RunStore
	// ProblemRuns returns the backups that finished since since in one of
	// states, newest first, at most limit.
	ProblemRuns(ctx context.Context, accounts []AccountID, states []string, since time.Time, limit int) ([]ProblemRun, error)
	// CountProblemRuns counts the backups and restores that finished since
	// since in one of states.
	CountProblemRuns(ctx context.Context, accounts []AccountID, states []string, since time.Time) (int, error)
	// AgentDaysOf counts backup outcomes per agent and 24 h bucket from
	// from, for the given agents only.
	AgentDaysOf(ctx context.Context, agents []AgentKey, from time.Time, days int) ([]AgentDay, error)
	// OfflineSightings returns since when the agents seen offline are.
	OfflineSightings(ctx context.Context, accounts []AccountID) ([]OfflineSighting, error)
	// OfflineThresholds returns each account's offline alert threshold.
	OfflineThresholds(ctx context.Context, accounts []AccountID) (map[AccountID]time.Duration, error)
	// SyncState returns an account's report sync state: until its first
	// sync is done, the stored history is only complete up to Cursor.
	SyncState(ctx context.Context, account AccountID) (SyncState, error)
	// ConfigurationsFirstSeen returns when each configuration was first
	// seen, recording now for those seen for the first time.
	ConfigurationsFirstSeen(ctx context.Context, keys []ConfigurationKey, now time.Time) (map[ConfigurationKey]time.Time, error)
}

// FailedStates are the final states counted as failures ("Failed in
// 24 h", the activity page's "failed" filter).
var failedStates = []string{string(rcbu.BackupFailed), string(rcbu.BackupMissed)}

// attentionStates are the final states a run needs attention for.
var attentionStates = []string{string(rcbu.BackupFailed), string(rcbu.BackupMissed), string(rcbu.BackupCompletedWithErrors), string(rcbu.BackupSkipped)}

// AttentionWindow is how far back a badly ended run needs attention.
const AttentionWindow = 24 * time.Hour

// maxProblemRuns bounds the problem runs one overview reads.
const maxProblemRuns = 500

// OverviewAgent is one agent of the overview with its configurations and
// its running jobs.
type OverviewAgent struct {
	FleetAgent
	Configurations []ConfigurationState
	// Interval is the shortest schedule interval of its enabled
	// configurations (0 when none is scheduled); the age of the last
	// success is graded against it.
	Interval    time.Duration
	LastSuccess time.Time
	Age         AgeLevel
	// LastState is the state of its newest finished backup, over all its
	// configurations ("" when none is known), and LastRun when it ended.
	LastState string
	LastRun   time.Time
	NextRun   time.Time // earliest next scheduled run of its configurations
	Jobs      []FleetActivity
	// Severity ranks its worst problem (0: none), for "problems first".
	Severity int
	// Offline is set when its live status is Offline and it is not
	// disabled.
	Offline bool
}

// OverviewCounts are the numbers at the top of the overview.
type OverviewCounts struct {
	Running   int // busy backups and restores (when RunningKnown)
	Failed24h int // backups and restores that failed or were missed in the last 24 h
	Overdue   int // overdue configurations
	Offline   int // agents whose live status is Offline
}

// AttentionKind is the kind of a problem of the overview's Needs attention.
type AttentionKind int

// The kinds, worst first.
const (
	AttentionFailed  AttentionKind = iota + 1 // a run Failed or was Missed
	AttentionOverdue                          // a configuration is overdue
	AttentionOffline                          // an agent is offline past the threshold
	AttentionWarning                          // a run CompletedWithErrors or was Skipped
)

// Attention is one problem of the overview, with its cause in words and
// what the page needs for the action that fixes it.
type Attention struct {
	Kind        AttentionKind
	AccountID   AccountID
	AccountName string
	AgentID     rcbu.AgentID
	AgentName   string
	ConfigID    rcbu.ConfigurationID // 0 for an agent's problem
	ConfigName  string
	// At is when the run ended (runs), the last success (overdue; zero if
	// never) or since when the agent is offline.
	At time.Time
	// State is the final state of the run the problem is about ("" if
	// none); BackupID that run (0 if unknown), for View report.
	State    string
	BackupID int64
	// FirstError is the first line of that run's first error, or its
	// reason.
	FirstError string
	// Cause says why, in words: "agent offline since …", "last run
	// failed", "never succeeded", ….
	Cause   string
	Overdue Overdue
	// More is how many further problem runs the configuration had in the
	// window.
	More int
	// AgentOffline is set when the agent is offline now: Wake is the fix.
	// OfflineSince is when the alert rules first saw it offline (zero if
	// they have not yet).
	AgentOffline bool
	OfflineSince time.Time
	// LastSuccess is set on an offline agent's problem when At is its last
	// successful backup (the last time it is known to have worked) rather
	// than since when it is seen offline.
	LastSuccess bool
	// CanRun is set when Run again can start it (an enabled configuration
	// on an enabled agent).
	CanRun bool
}

// FleetOverview is everything the overview shows.
type FleetOverview struct {
	// Agents are every agent of the scope, problems first (worst first),
	// then by account and name.
	Agents []OverviewAgent
	// Attention lists every problem, worst first.
	Attention []Attention
	Counts    OverviewCounts
	// Configurations counts the scope's configurations.
	Configurations int
	Problems       []AccountProblem
	Now            time.Time
	// AsOf is when the oldest of the API lists shown was read (it may be
	// up to the Fleet's MaxStale old, while a refresh runs).
	AsOf time.Time
	// Pending is how many agents have no live status yet (the offline
	// count leaves them out).
	Pending int
	// Overdue is the verdict on every configuration of the scope.
	Overdue map[ConfigurationKey]Overdue
	// HistoryPending counts the configurations whose overdue verdict waits
	// for the first report sync: they ran after what is stored so far.
	HistoryPending int
	// RunningKnown is set when the running jobs are known: the activity
	// lists were cached. Otherwise Running and each agent's Jobs are
	// unknown and the page fetches them separately (RunningJobs).
	RunningKnown bool
	// RunningAsOf is when the oldest activity list the running jobs come
	// from was read (zero unless RunningKnown). Past the Fleet's TTL the
	// page asks the running fragment at once, which refreshes them.
	RunningAsOf time.Time
	// RunningFresh is set when RunningKnown and every one of those lists
	// is within the Fleet's TTL.
	RunningFresh bool
}

// OverviewOptions tune an Overviews. Zero fields take the defaults.
type OverviewOptions struct {
	Policy OverduePolicy
	Now    func() time.Time
	Log    *slog.Logger
	// Generation, when set, is the generation of the stored report
	// snapshots (History.Generation): every write to them changes it. The
	// configurations' latest stored runs are then read once per
	// generation rather than on every load.
	Generation func() uint64
}

// Overviews composes the fleet overview: what is live (agents,
// configurations, running jobs) from the Fleet's cached lists, what
// happened (last results, failures and their errors, offline sightings,
// the heatmap) from the store.
type Overviews struct {
	fleet *Fleet
	store OverviewStore
	opts  OverviewOptions

	// latest caches the configurations' latest stored runs for one
	// generation of the snapshots (with Generation set): a key present
	// with ok false has none.
	mu        sync.Mutex
	latestGen uint64
	latest    map[ConfigurationKey]latestRun
	fill      sync.Mutex // held while reading missing keys from the store
	// seen remembers when configurations that never ran were first seen
	// (firstSeen).
	seen map[ConfigurationKey]time.Time
}

// latestRun is a cached LatestBackups answer for one configuration.
type latestRun struct {
	run ConfigurationRun
	ok  bool
}

// NewOverviews returns the overview service.
func NewOverviews(fleet *Fleet, store OverviewStore, opts OverviewOptions) *Overviews {
	if opts.Policy == (OverduePolicy{}) {
		opts.Policy = DefaultOverduePolicy()
	}
	clockAndLog(&opts.Now, &opts.Log)
	return &Overviews{fleet: fleet, store: store, opts: opts}
}

// Fleet returns the Fleet the overview reads.
func (o *Overviews) Fleet() *Fleet { return o.fleet }

// asOf tracks the oldest fetch time of the lists a page shows.
type asOf struct {
	mu sync.Mutex
	t  time.Time
}

func (a *asOf) see(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !t.IsZero() && (a.t.IsZero() || t.Before(a.t)) {
		a.t = t
	}
}

// Overview reads the scope's agents and configurations (the account-wide
// list calls: one round trip, accounts in parallel, served from the cache
// when it has them), the agent details and activity that are cached, and
// the store's record of what happened, and derives Needs attention, the
// counts and the agents in order. It neither waits for nor starts a fetch
// of the account-wide activity list, the API's largest (tens of thousands
// of items at fleet size, most of a cold load's cost when it was read
// here): running jobs come from it only when it is cached (RunningKnown),
// and otherwise from the running fragment (RunningJobs), which reads it on
// its own request. With live true (the page without JavaScript) it waits
// for every agent's details and the activity.
func (o *Overviews) Overview(ctx context.Context, scope Scope, live bool) (FleetOverview, error) {
	f := o.fleet
	var (
		agents       []FleetAgent
		configs      []FleetConfiguration
		probA, probC []AccountProblem
		errA, errC   error
		pending      int
		seen         asOf
		wg           sync.WaitGroup
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		agents, probA, errA = perAccount(ctx, f, scope, "agent", func(ctx context.Context, a Account, c *rcbu.Client) ([]FleetAgent, error) {
			list, at, err := cachedAt(ctx, f, cacheKey{account: a.ID, kind: kindAgents}, c.Agents.List)
			if err != nil {
				return nil, upstream("list agents", "agent", err)
			}
			seen.see(at)
			out := make([]FleetAgent, len(list))
			for i, ag := range list {
				out[i] = FleetAgent{AccountID: a.ID, AccountName: a.Name, Agent: ag}
			}
			return out, nil
		})
		if errA != nil || len(agents) == 0 {
			return
		}
		if live {
			f.fillDetails(ctx, agents)
			return
		}
		pending = f.cachedDetails(ctx, agents)
	}()
	go func() {
		defer wg.Done()
		configs, probC, errC = perAccount(ctx, f, scope, "configuration", func(ctx context.Context, a Account, c *rcbu.Client) ([]FleetConfiguration, error) {
			list, at, err := cachedAt(ctx, f, cacheKey{account: a.ID, kind: kindConfigurations}, c.Configurations.List)
			if err != nil {
				return nil, upstream("list configurations", "configuration", err)
			}
			seen.see(at)
			out := make([]FleetConfiguration, 0, len(list))
			for _, cf := range list {
				if !cf.IsDeleted {
					out = append(out, FleetConfiguration{AccountID: a.ID, AccountName: a.Name, Configuration: cf})
				}
			}
			return out, nil
		})
	}()
	var (
		busy    []FleetActivity
		busyAt  time.Time
		fresh   bool
		running bool
		probV   []AccountProblem
		errV    error
	)
	if live {
		var jobs map[AgentKey][]FleetActivity
		jobs, _, probV, errV = f.RunningJobs(ctx, scope)
		for _, js := range jobs {
			busy = append(busy, js...)
		}
		running, fresh, busyAt = errV == nil, true, o.opts.Now()
	} else {
		busy, busyAt, fresh, running = f.runningCached(scope)
	}
	wg.Wait()
	if err := errors.Join(errA, errC, errV); err != nil {
		return FleetOverview{}, fmt.Errorf("overview: %w", err)
	}
	now := o.opts.Now()
	ov := FleetOverview{Now: now, AsOf: seen.t, Problems: mergeProblems(probA, probC, probV), Pending: pending, RunningKnown: running, Configurations: len(configs)}
	if running {
		ov.RunningAsOf, ov.RunningFresh = busyAt, fresh
	}
	if ov.AsOf.IsZero() || ov.AsOf.After(now) {
		ov.AsOf = now
	}
	ids := make([]AccountID, len(scope.Accounts))
	for i, a := range scope.Accounts {
		ids[i] = a.ID
	}
	rec, err := o.records(ctx, ids, configs, now)
	if err != nil {
		return FleetOverview{}, fmt.Errorf("overview: %w", err)
	}
	ov.Counts.Failed24h = rec.failed24h

	// Last success and last result come from the configurations' own last
	// run and the stored reports, which reach back further than the
	// activity list: the activity is read for the running jobs alone.
	states := ConfigurationStates(configs, nil, now, o.opts.Policy)
	ov.Overdue = make(map[ConfigurationKey]Overdue, len(states))
	var unrun []ConfigurationKey
	for i := range states {
		st := &states[i]
		k := ConfigurationKey{AccountID: st.AccountID, ConfigID: st.Configuration.ID}
		if r, ok := rec.latest[k]; ok {
			if r.LastSuccess.After(st.LastSuccess) {
				st.LastSuccess = r.LastSuccess
			}
			if r.LastState != "" && (st.LastState == "" || r.LastFinished.After(st.LastRun)) {
				st.LastState, st.LastRun = r.LastState, r.LastFinished
			}
			st.Overdue = o.opts.Policy.Check(st.Configuration, st.LastSuccess, now)
		}
		if neverRan(*st) {
			unrun = append(unrun, k)
		}
	}
	firstSeen, err := o.firstSeen(ctx, unrun, now)
	if err != nil {
		return FleetOverview{}, fmt.Errorf("overview: %w", err)
	}
	for i := range states {
		st := &states[i]
		k := ConfigurationKey{AccountID: st.AccountID, ConfigID: st.Configuration.ID}
		if at, ok := firstSeen[k]; ok && neverRan(*st) {
			st.Overdue = o.opts.Policy.CheckSeen(st.Configuration, st.LastSuccess, at, now)
		}
		if cursor, ok := rec.partial[st.AccountID]; ok && st.Overdue.Overdue && st.Configuration.LastRunTime.After(cursor) {
			// The first sync has not stored its last run yet: whether
			// it succeeded is not known, so neither is the verdict.
			st.Overdue = Overdue{}
			ov.HistoryPending++
		}
		ov.Overdue[k] = st.Overdue
		if st.Overdue.Overdue {
			ov.Counts.Overdue++
		}
	}

	cfgs := map[AgentKey][]ConfigurationState{}
	for _, st := range states {
		k := AgentKey{st.AccountID, st.Configuration.AgentID}
		cfgs[k] = append(cfgs[k], st)
	}
	var jobs map[AgentKey][]FleetActivity
	if running {
		jobs = jobsByAgent(busy)
		ov.Counts.Running = len(busy)
	}
	byAgent := map[AgentKey]*OverviewAgent{}
	ov.Agents = make([]OverviewAgent, len(agents))
	for i, fa := range agents {
		k := AgentKey{fa.AccountID, fa.Agent.ID}
		oa := OverviewAgent{FleetAgent: fa, Configurations: cfgs[k], Jobs: jobs[k]}
		if fa.Agent.TimeOfLastSuccessfulBackup.Valid() {
			oa.LastSuccess = fa.Agent.TimeOfLastSuccessfulBackup.Time
		}
		for _, st := range oa.Configurations {
			if st.LastSuccess.After(oa.LastSuccess) {
				oa.LastSuccess = st.LastSuccess
			}
			if st.LastState != "" && st.LastRun.After(oa.LastRun) {
				oa.LastState, oa.LastRun = st.LastState, st.LastRun
			}
			if st.Configuration.IsActive && st.Interval > 0 && (oa.Interval == 0 || st.Interval < oa.Interval) {
				oa.Interval = st.Interval
			}
			if st.Configuration.IsActive {
				if next, ok := st.Configuration.NextRun(); ok && (oa.NextRun.IsZero() || next.Before(oa.NextRun)) {
					oa.NextRun = next
				}
			}
		}
		if oa.LastSuccess.After(now) {
			oa.LastSuccess = now // the API's clock may run ahead of ours
		}
		oa.Age = BackupAge(oa.LastSuccess, now, oa.Interval)
		if fa.Live && fa.Agent.Status == rcbu.AgentStatusOffline && !fa.Agent.IsDisabled {
			oa.Offline = true
			ov.Counts.Offline++
		}
		ov.Agents[i] = oa
	}
	for i := range ov.Agents {
		byAgent[AgentKey{ov.Agents[i].AccountID, ov.Agents[i].Agent.ID}] = &ov.Agents[i]
	}
	ov.Attention = attention(states, byAgent, rec, now)
	for _, at := range ov.Attention {
		if oa := byAgent[AgentKey{at.AccountID, at.AgentID}]; oa != nil {
			oa.Severity = max(oa.Severity, at.Kind.severity())
		}
	}
	for i := range ov.Agents {
		oa := &ov.Agents[i]
		if oa.Offline {
			oa.Severity = max(oa.Severity, AttentionWarning.severity())
		}
		if oa.Severity == 0 && oa.LastState != "" && !rcbu.BackupState(oa.LastState).Succeeded() {
			oa.Severity = 1 // its last run did not succeed, outside the window
		}
	}
	slices.SortStableFunc(ov.Agents, func(a, b OverviewAgent) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		if c := cmp.Compare(a.AccountName, b.AccountName); c != 0 {
			return c
		}
		if c := cmp.Compare(strings.ToLower(a.Agent.MachineName), strings.ToLower(b.Agent.MachineName)); c != 0 {
			return c
		}
		return cmp.Compare(a.Agent.ID, b.Agent.ID)
	})
	return ov, nil
}

// severity ranks a kind for ordering (higher is worse).
func (k AttentionKind) severity() int {
	switch k {
	case AttentionFailed:
		return 5
	case AttentionOverdue:
		return 4
	case AttentionOffline:
		return 3
	case AttentionWarning:
		return 2
	default:
		return 0
	}
}

// JobAgent is the agent a job runs on: a restore's destination, a
// backup's source.
func JobAgent(a rcbu.Activity) rcbu.AgentID {
	if a.Type == rcbu.ActivityRestore && a.DestinationAgentID != 0 {
		return a.DestinationAgentID
	}
	return a.SourceAgentID
}

// records is what the store says for an overview.
type records struct {
	latest    map[ConfigurationKey]ConfigurationRun
	runs      []ProblemRun // attention states, the window, newest first
	failed24h int
	offline   map[AgentKey]OfflineSighting
	threshold map[AccountID]time.Duration // offline alert threshold per account
	// partial is, for each account whose first report sync has not
	// finished, the time up to which its stored history is complete.
	partial map[AccountID]time.Time
}

func (o *Overviews) records(ctx context.Context, accounts []AccountID, configs []FleetConfiguration, now time.Time) (records, error) {
	var rec records
	since := now.Add(-AttentionWindow)
	keys := make([]ConfigurationKey, len(configs))
	for i, fc := range configs {
		keys[i] = ConfigurationKey{AccountID: fc.AccountID, ConfigID: fc.Configuration.ID}
	}
	var err error
	if rec.latest, err = o.latestBackups(ctx, keys); err != nil {
		return rec, err
	}
	if rec.runs, err = o.store.ProblemRuns(ctx, accounts, attentionStates, since, maxProblemRuns); err != nil {
		return rec, err
	}
	if rec.failed24h, err = o.store.CountProblemRuns(ctx, accounts, failedStates, since); err != nil {
		return rec, err
	}
	sightings, err := o.store.OfflineSightings(ctx, accounts)
	if err != nil {
		return rec, err
	}
	rec.offline = make(map[AgentKey]OfflineSighting, len(sightings))
	for _, s := range sightings {
		rec.offline[s.AgentKey] = s
	}
	if rec.threshold, err = o.store.OfflineThresholds(ctx, accounts); err != nil {
		return rec, err
	}
	rec.partial = map[AccountID]time.Time{}
	for _, a := range accounts {
		st, err := o.store.SyncState(ctx, a)
		if err != nil {
			return rec, err
		}
		if !st.Backfilled {
			rec.partial[a] = st.Cursor
		}
	}
	return rec, nil
}

// latestBackups returns the latest stored runs of the configurations
// (those with none are absent). With a Generation it reads from the store
// only the keys not yet cached for the current generation; the generation
// is read before the store, so an answer that raced a write is cached
// under the old generation and never served again.
func (o *Overviews) latestBackups(ctx context.Context, keys []ConfigurationKey) (map[ConfigurationKey]ConfigurationRun, error) {
	out := make(map[ConfigurationKey]ConfigurationRun, len(keys))
	if o.opts.Generation == nil {
		runs, err := o.store.LatestBackups(ctx, keys)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			out[r.ConfigurationKey] = r
		}
		return out, nil
	}
	gen := o.opts.Generation()
	var missing []ConfigurationKey
	o.mu.Lock()
	if o.latest == nil || o.latestGen != gen {
		o.latest, o.latestGen = map[ConfigurationKey]latestRun{}, gen
	}
	for _, k := range keys {
		if e, ok := o.latest[k]; !ok {
			missing = append(missing, k)
		} else if e.ok {
			out[k] = e.run
		}
	}
	o.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	// One fill at a time: the loads that arrive together after a write
	// wait for the first one's answer instead of each reading every key.
	o.fill.Lock()
	defer o.fill.Unlock()
	o.mu.Lock()
	if o.latestGen == gen {
		still := missing[:0]
		for _, k := range missing {
			if e, ok := o.latest[k]; !ok {
				still = append(still, k)
			} else if e.ok {
				out[k] = e.run
			}
		}
		missing = still
	}
	o.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	runs, err := o.store.LatestBackups(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		out[r.ConfigurationKey] = r
	}
	o.mu.Lock()
	if o.latestGen == gen {
		for _, k := range missing {
			r, ok := out[k]
			o.latest[k] = latestRun{run: r, ok: ok}
		}
	}
	o.mu.Unlock()
	return out, nil
}

// neverRan reports whether a configuration has no run at all on record
// (neither the API's last run nor a stored report) while its schedule
// would run it: whether it is overdue depends on when it was first seen.
func neverRan(st ConfigurationState) bool {
	if !st.Configuration.IsActive || st.Configuration.IsDeleted || !st.LastSuccess.IsZero() || !st.LastRun.IsZero() || st.Configuration.LastRunTime.Valid() {
		return false
	}
	_, scheduled := ConfigurationInterval(st.Configuration)
	return scheduled
}

// firstSeen returns when the console first saw each of the configurations
// keys, recording now for those it sees for the first time. Only
// configurations that never ran are asked about, and each once per process
// (then remembered), so a page that shows only configurations with runs
// makes no call.
func (o *Overviews) firstSeen(ctx context.Context, keys []ConfigurationKey, now time.Time) (map[ConfigurationKey]time.Time, error) {
	out := make(map[ConfigurationKey]time.Time, len(keys))
	var missing []ConfigurationKey
	o.mu.Lock()
	for _, k := range keys {
		if at, ok := o.seen[k]; ok {
			out[k] = at
		} else {
			missing = append(missing, k)
		}
	}
	o.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := o.store.ConfigurationsFirstSeen(ctx, missing, now)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[ConfigurationKey]time.Time{}
	}
	for k, at := range got {
		o.seen[k] = at
		out[k] = at
	}
	return out, nil
}

// attention lists the problems, worst first: runs that failed or were
// missed, overdue configurations, agents offline past their threshold,
// then runs that completed with errors or were skipped. A configuration
// appears once: overdue when it is, else with its newest problem run; a
// run followed by a success of the same configuration is resolved.
func attention(states []ConfigurationState, agents map[AgentKey]*OverviewAgent, rec records, now time.Time) []Attention {
	byCfg := map[ConfigurationKey]*ConfigurationState{}
	for i := range states {
		st := &states[i]
		byCfg[ConfigurationKey{st.AccountID, st.Configuration.ID}] = st
	}
	newest := map[ConfigurationKey]int{} // index into rec.runs of the newest problem run
	more := map[ConfigurationKey]int{}
	for i, r := range rec.runs {
		k := ConfigurationKey{r.AccountID, r.ConfigID}
		if _, ok := newest[k]; ok {
			more[k]++
			continue
		}
		newest[k] = i
	}
	var out []Attention
	base := func(k AgentKey) Attention {
		a := Attention{AccountID: k.AccountID, AgentID: k.AgentID}
		if oa := agents[k]; oa != nil {
			a.AccountName, a.AgentName = oa.AccountName, oa.Agent.MachineName
			a.AgentOffline = oa.Offline
		}
		return a
	}
	for _, st := range states {
		if !st.Overdue.Overdue {
			continue
		}
		k := ConfigurationKey{st.AccountID, st.Configuration.ID}
		a := base(AgentKey{st.AccountID, st.Configuration.AgentID})
		a.Kind, a.ConfigID, a.ConfigName, a.At, a.Overdue = AttentionOverdue, st.Configuration.ID, st.Configuration.Name, st.LastSuccess, st.Overdue
		a.CanRun = canRun(st, agents)
		if i, ok := newest[k]; ok {
			r := rec.runs[i]
			a.State, a.BackupID, a.FirstError, a.More = r.State, r.BackupID, runError(r), more[k]
		} else if st.LastState != "" && !rcbu.BackupState(st.LastState).Succeeded() {
			a.State = st.LastState
			if id := st.Configuration.LastRunBackupID; id != nil && st.Configuration.BackupState == st.LastState {
				a.BackupID = int64(*id)
			}
		}
		ak := AgentKey{st.AccountID, st.Configuration.AgentID}
		a.Cause = overdueCause(st, agents[ak], a.State)
		if a.AgentOffline {
			a.OfflineSince = rec.offline[ak].Since
		}
		out = append(out, a)
	}
	for k, i := range newest {
		st := byCfg[k]
		if st == nil || st.Overdue.Overdue {
			continue // deleted since, or already listed as overdue
		}
		r := rec.runs[i]
		if st.LastState != "" && st.LastRun.After(r.Finished) && rcbu.BackupState(st.LastState).Succeeded() && !strings.EqualFold(st.LastState, string(rcbu.BackupCompletedWithErrors)) {
			continue // a later run succeeded
		}
		a := base(AgentKey{r.AccountID, r.AgentID})
		a.Kind = AttentionWarning
		if slices.Contains(failedStates, r.State) {
			a.Kind = AttentionFailed
		}
		if a.AgentName == "" {
			a.AgentName = r.AgentName
		}
		a.ConfigID, a.ConfigName = r.ConfigID, displayOr(st.Configuration.Name, r.ConfigName)
		a.At, a.State, a.BackupID, a.FirstError, a.More = r.Finished, r.State, r.BackupID, runError(r), more[k]
		a.Cause = "Last run " + words.Outcome(r.State)
		a.CanRun = canRun(*st, agents)
		out = append(out, a)
	}
	for k, oa := range agents {
		if !oa.Offline {
			continue
		}
		if a, ok := offlineAttention(base(k), oa, rec, now); ok {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Attention) int {
		if c := cmp.Compare(b.Kind.severity(), a.Kind.severity()); c != 0 {
			return c
		}
		switch a.Kind {
		case AttentionOverdue:
			if a.Overdue.Never != b.Overdue.Never {
				if a.Overdue.Never {
					return -1
				}
				return 1
			}
			if c := cmp.Compare(b.Overdue.By, a.Overdue.By); c != 0 {
				return c
			}
		case AttentionOffline:
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
		default:
			if c := b.At.Compare(a.At); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(a.AccountID, b.AccountID); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ConfigID, b.ConfigID); c != 0 {
			return c
		}
		return cmp.Compare(a.AgentID, b.AgentID)
	})
	return out
}

// offlineAttention decides whether an agent the API reports offline now
// has been away longer than its account's alert threshold, and says why.
// The alert rules' first sighting proves it when it is old enough; but
// they see an agent only from the moment the console watches it, so a
// console started yesterday would hide an agent gone for a week. The API's
// own record counts too: the agent's last successful backup (its details'
// TimeOfLastSuccessfulBackup, or the newest stored success of its
// configurations) is the last time it is known to have worked, so when
// that is older than the threshold it is listed, saying so. An offline
// agent with no successful backup on record is listed as well: nothing of
// it is protected.
func offlineAttention(a Attention, oa *OverviewAgent, rec records, now time.Time) (Attention, bool) {
	threshold, ok := rec.threshold[a.AccountID]
	if !ok {
		threshold = DefaultOfflineHours * time.Hour
	}
	s, seen := rec.offline[AgentKey{a.AccountID, a.AgentID}]
	if seen {
		threshold = s.Threshold
	}
	a.Kind = AttentionOffline
	switch {
	case seen && now.Sub(s.Since) > threshold:
		a.At = s.Since
		a.Cause = "Offline for " + ShortDuration(now.Sub(s.Since)) + ", longer than the alert threshold of " + ShortDuration(threshold)
	case oa.LastSuccess.IsZero():
		a.Cause = "Offline, with no successful backup on record"
	case now.Sub(oa.LastSuccess) > threshold:
		a.At, a.LastSuccess = oa.LastSuccess, true
		a.Cause = "Offline; its last successful backup was " + ShortDuration(now.Sub(oa.LastSuccess)) + " ago, longer than the alert threshold of " + ShortDuration(threshold)
	default:
		return Attention{}, false
	}
	return a, true
}

// canRun reports whether Run again can start the configuration.
func canRun(st ConfigurationState, agents map[AgentKey]*OverviewAgent) bool {
	oa := agents[AgentKey{st.AccountID, st.Configuration.AgentID}]
	return st.Configuration.IsActive && oa != nil && !oa.Agent.IsDisabled
}

// runError is what a problem run says went wrong: its first error line,
// else its reason, else its state in words.
func runError(r ProblemRun) string {
	switch {
	case r.FirstError != "":
		return r.FirstError
	case r.Reason != "":
		return words.Reason(r.Reason)
	default:
		return ""
	}
}

// overdueCause says why a configuration is overdue, the most useful
// reason first (the page adds since when an offline agent is away).
func overdueCause(st ConfigurationState, oa *OverviewAgent, lastState string) string {
	switch {
	case oa != nil && oa.Offline:
		return "Agent offline"
	case oa != nil && oa.Agent.IsDisabled:
		return "Agent disabled"
	case !st.Configuration.IsActive:
		return "Configuration disabled"
	case lastState != "":
		return "Last run " + words.Outcome(lastState)
	case st.Overdue.Never:
		return "Never succeeded"
	case st.LastRun.IsZero():
		return "Never ran"
	default:
		return "No run since its last success"
	}
}

func displayOr(name, fallback string) string {
	if name == "" {
		return fallback
	}
	return name
}

// cachedDetails fills in the agents' cached live details (see
// AgentsCached) and returns how many are missing.
func (f *Fleet) cachedDetails(ctx context.Context, agents []FleetAgent) int {
	now := f.opts.Now()
	missing := 0
	var stale []FleetAgent
	f.mu.Lock()
	for i := range agents {
		fa := &agents[i]
		e, ok := f.cache[cacheKey{account: fa.AccountID, kind: kindAgentDetails, id: int64(fa.Agent.ID)}]
		if !ok || now.Before(e.fetched) {
			missing++
			continue
		}
		switch age := now.Sub(e.fetched); {
		case age < f.opts.TTL:
			fa.Agent, fa.Live = e.val.(rcbu.Agent), true
		case age <= f.opts.MaxStale:
			stale = append(stale, *fa)
			fa.Agent, fa.Live = e.val.(rcbu.Agent), true
		default:
			missing++
		}
	}
	f.mu.Unlock()
	if len(stale) > 0 {
		// One background pass at a time refreshes what was served stale.
		f.sf.DoChan("details-refresh", func() (any, error) {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.opts.Budget)
			defer cancel()
			f.refreshDetails(rctx, stale)
			return nil, nil
		})
	}
	return missing
}

// runningCached returns the scope's busy jobs (backups and restores) when
// every account's activity list is cached within MaxStale, with when the
// oldest was read and whether all are within the TTL. It makes no call and
// starts no fetch: the overview's first paint never pays for the activity
// lists, the API's largest answers; the running fragment (RunningJobs)
// reads and refreshes them.
func (f *Fleet) runningCached(scope Scope) (busy []FleetActivity, oldest time.Time, fresh, ok bool) {
	now := f.opts.Now()
	fresh = true
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range scope.Accounts {
		e, hit := f.cache[cacheKey{account: a.ID, kind: kindActivity}]
		if !hit || now.Before(e.fetched) || now.Sub(e.fetched) > max(f.opts.TTL, f.opts.MaxStale) {
			return nil, time.Time{}, false, false
		}
		if now.Sub(e.fetched) >= f.opts.TTL {
			fresh = false
		}
		if oldest.IsZero() || e.fetched.Before(oldest) {
			oldest = e.fetched
		}
		for _, it := range e.busy {
			busy = append(busy, FleetActivity{AccountID: a.ID, AccountName: a.Name, Activity: it})
		}
	}
	sortActivity(busy)
	return busy, oldest, fresh, true
}

// busyJobs returns the busy backups and restores of an activity list, in
// its order.
func busyJobs(acts []rcbu.Activity) []rcbu.Activity {
	var out []rcbu.Activity
	for _, it := range acts {
		if (it.Type == rcbu.ActivityBackup || it.Type == rcbu.ActivityRestore) && jobBusy(it) {
			out = append(out, it)
		}
	}
	return out
}

// busyOf is the busy jobs of an account's activity list as cachedAt
// returned it (read at at): those picked out when it was stored, or, when
// the cache has moved on since, picked out now.
func (f *Fleet) busyOf(account AccountID, list []rcbu.Activity, at time.Time) []rcbu.Activity {
	f.mu.Lock()
	e, ok := f.cache[cacheKey{account: account, kind: kindActivity}]
	f.mu.Unlock()
	if ok && e.fetched.Equal(at) {
		return e.busy
	}
	return busyJobs(list)
}

// jobsByAgent groups busy jobs by the agent they run on, keeping their
// order.
func jobsByAgent(busy []FleetActivity) map[AgentKey][]FleetActivity {
	out := map[AgentKey][]FleetActivity{}
	for _, a := range busy {
		k := AgentKey{a.AccountID, JobAgent(a.Activity)}
		out[k] = append(out[k], a)
	}
	return out
}

// RunningJobs returns the busy backups and restores of the scope by the
// agent they run on (newest first), and how many there are, from the
// activity lists: cached, served up to MaxStale old while one background
// fetch refreshes them, and read only when no list is cached. The busy
// jobs of each list are picked out once when it is stored, so a warm call
// touches only them.
func (f *Fleet) RunningJobs(ctx context.Context, scope Scope) (map[AgentKey][]FleetActivity, int, []AccountProblem, error) {
	busy, problems, err := perAccount(ctx, f, scope, "activity", func(ctx context.Context, a Account, c *rcbu.Client) ([]FleetActivity, error) {
		list, at, err := cachedAt(ctx, f, cacheKey{account: a.ID, kind: kindActivity}, c.Activity.List)
		if err != nil {
			return nil, upstream("list activity", "activity", err)
		}
		its := f.busyOf(a.ID, list, at)
		out := make([]FleetActivity, len(its))
		for i, it := range its {
			out[i] = FleetActivity{AccountID: a.ID, AccountName: a.Name, Activity: it}
		}
		return out, nil
	})
	if err != nil {
		return nil, 0, problems, err
	}
	sortActivity(busy)
	return jobsByAgent(busy), len(busy), problems, nil
}

// HeatmapAgent is an agent to draw in the heatmap.
type HeatmapAgent struct {
	AgentKey
	Name string
}

// Heatmap returns the backup outcomes of the last days (1–366) of the
// given agents (in their order, each a row, with or without runs), the
// days being calendar days in loc ending today. It reads only those
// agents' reports of those days.
func (o *Overviews) Heatmap(ctx context.Context, agents []HeatmapAgent, days int, loc *time.Location) (Heatmap, error) {
	days = min(max(days, 1), 366)
	if loc == nil {
		loc = time.UTC
	}
	now := o.opts.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -(days - 1))
	hm := Heatmap{From: from, Days: days}
	if len(agents) == 0 {
		return hm, nil
	}
	keys := make([]AgentKey, len(agents))
	idx := make(map[AgentKey]int, len(agents))
	hm.Rows = make([]HeatmapRow, len(agents))
	for i, a := range agents {
		keys[i] = a.AgentKey
		idx[a.AgentKey] = i
		row := HeatmapRow{AccountID: a.AccountID, AgentID: a.AgentID, AgentName: a.Name, Cells: make([]AgentDay, days)}
		for d := range row.Cells {
			row.Cells[d] = AgentDay{AccountID: a.AccountID, AgentID: a.AgentID, AgentName: a.Name, Day: d}
		}
		hm.Rows[i] = row
	}
	cells, err := o.store.AgentDaysOf(ctx, keys, from, days)
	if err != nil {
		return Heatmap{}, fmt.Errorf("heatmap: %w", err)
	}
	for _, c := range cells {
		i, ok := idx[AgentKey{c.AccountID, c.AgentID}]
		if !ok || c.Day < 0 || c.Day >= days {
			continue
		}
		if c.AgentName == "" || hm.Rows[i].AgentName != "" {
			c.AgentName = hm.Rows[i].AgentName
		}
		hm.Rows[i].Cells[c.Day] = c
		if hm.Rows[i].AgentName == "" {
			hm.Rows[i].AgentName = c.AgentName
		}
	}
	return hm, nil
}

// OverviewFilter selects and pages the overview's agents table.
type OverviewFilter struct {
	AgentFilter
	// Problems keeps only agents with a problem.
	Problems bool
	Page     int // 1-based
}

// OverviewStates lists the status filter's values on the overview: the
// agents page's states and "problem".
func OverviewStates() []string { return append([]string{"problem"}, AgentStates()...) }

// FilterOverviewAgents returns the agents matching f, in their order.
func FilterOverviewAgents(list []OverviewAgent, f OverviewFilter) []OverviewAgent {
	var out []OverviewAgent
	q := strings.ToLower(strings.TrimSpace(f.Query))
	for _, oa := range list {
		a := oa.Agent
		if q != "" && !strings.Contains(strings.ToLower(a.MachineName), q) && !strings.Contains(strings.ToLower(a.IPAddress), q) &&
			!strings.Contains(strings.ToLower(a.HostServerID), q) && strconv.FormatInt(int64(a.ID), 10) != q {
			continue
		}
		if f.Problems && oa.Severity == 0 {
			continue
		}
		if f.State != "" && AgentState(oa.FleetAgent) != f.State {
			continue
		}
		if f.Datacenter != "" && !strings.EqualFold(a.Datacenter, f.Datacenter) {
			continue
		}
		out = append(out, oa)
	}
	return out
}

// PageOf returns the page-th page (1-based) of size items of list, the page
// it really is (clamped to 1…pages) and how many pages there are (at least
// one).
func PageOf[T any](list []T, page, size int) ([]T, int, int) {
	pages := max(1, (len(list)+size-1)/size)
	page = min(max(page, 1), pages)
	lo := (page - 1) * size
	hi := min(lo+size, len(list))
	return list[lo:hi], page, pages
}

// AgentNames returns the machine names of the scope's agents, from the
// agents lists (cached).
func (f *Fleet) AgentNames(ctx context.Context, scope Scope) (map[AgentKey]string, error) {
	agents, _, err := f.Agents(ctx, scope)
	if err != nil {
		return nil, err
	}
	out := make(map[AgentKey]string, len(agents))
	for _, fa := range agents {
		out[AgentKey{fa.AccountID, fa.Agent.ID}] = fa.Agent.MachineName
	}
	return out, nil
}

// OverdueConfigurations returns the overdue verdict of every configuration
// of the scope, exactly as the overview counts them.
func (o *Overviews) OverdueConfigurations(ctx context.Context, scope Scope) (map[ConfigurationKey]Overdue, error) {
	ov, err := o.Overview(ctx, scope, false)
	if err != nil {
		return nil, err
	}
	return ov.Overdue, nil
}
