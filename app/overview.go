package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
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
	NextRun     time.Time // earliest next scheduled run of its configurations
	Jobs        []FleetActivity
}

// OverviewCounts are the numbers at the top of the overview.
type OverviewCounts struct {
	Running   int // busy backups and restores
	Failed24h int // backups and restores that failed or were missed in the last 24 h
	Overdue   int // overdue configurations
	Offline   int // agents whose live status is Offline
}

// FleetOverview is everything the overview shows.
type FleetOverview struct {
	Agents   []OverviewAgent
	Counts   OverviewCounts
	Problems []AccountProblem
	Now      time.Time
	// Pending is how many agents have no live status yet (the offline
	// count leaves them out).
	Pending int
}

// Overview reads the scope's agents (with live details), configurations and
// activity concurrently, and derives per agent the last success and its
// age, the next run, the running jobs, and the counts. An account that
// fails is a Problem; the rest still shows.
//
// With live false it makes only the account-wide list calls (one round
// trip, accounts in parallel) and uses the agent details that are cached;
// Pending says how many agents lack live status, for the page to fetch
// them in a second request (AgentsLive). With live true it waits for every
// agent's details.
func (f *Fleet) Overview(ctx context.Context, scope Scope, p OverduePolicy, live bool) (FleetOverview, error) {
	var (
		agents              []FleetAgent
		configs             []FleetConfiguration
		acts                []FleetActivity
		probA, probC, probV []AccountProblem
		errA, errC, errV    error
		pending             int
		wg                  sync.WaitGroup
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		if live {
			agents, probA, errA = f.AgentsLive(ctx, scope)
			return
		}
		agents, probA, pending, errA = f.AgentsCached(ctx, scope)
	}()
	go func() { defer wg.Done(); configs, probC, errC = f.Configurations(ctx, scope) }()
	go func() { defer wg.Done(); acts, probV, errV = f.Activity(ctx, scope) }()
	wg.Wait()
	if err := errors.Join(errA, errC, errV); err != nil {
		return FleetOverview{}, fmt.Errorf("overview: %w", err)
	}
	now := f.opts.Now()
	ov := FleetOverview{Now: now, Problems: uniqueProblems(probA, probC, probV), Pending: pending}
	sortActivity(acts)

	type agentKey struct {
		account AccountID
		id      rcbu.AgentID
	}
	states := ConfigurationStates(configs, acts, now, p)
	cfgs := map[agentKey][]ConfigurationState{}
	for _, st := range states {
		k := agentKey{st.AccountID, st.Configuration.AgentID}
		cfgs[k] = append(cfgs[k], st)
		if st.Overdue.Overdue {
			ov.Counts.Overdue++
		}
	}
	jobs := map[agentKey][]FleetActivity{}
	for _, a := range acts {
		it := a.Activity
		if it.Type != rcbu.ActivityBackup && it.Type != rcbu.ActivityRestore {
			continue
		}
		if jobBusy(it) {
			ov.Counts.Running++
			on := it.SourceAgentID
			if it.Type == rcbu.ActivityRestore && it.DestinationAgentID != 0 {
				on = it.DestinationAgentID // a restore runs on its destination
			}
			k := agentKey{a.AccountID, on}
			jobs[k] = append(jobs[k], a)
			continue
		}
		if failed(it) && it.TimeOfActivity.Valid() && now.Sub(it.TimeOfActivity.Time) < 24*time.Hour {
			ov.Counts.Failed24h++
		}
	}
	ov.Agents = make([]OverviewAgent, len(agents))
	for i, fa := range agents {
		k := agentKey{fa.AccountID, fa.Agent.ID}
		oa := OverviewAgent{FleetAgent: fa, Configurations: cfgs[k], Jobs: jobs[k]}
		if fa.Agent.TimeOfLastSuccessfulBackup.Valid() {
			oa.LastSuccess = fa.Agent.TimeOfLastSuccessfulBackup.Time
		}
		for _, st := range oa.Configurations {
			if st.LastSuccess.After(oa.LastSuccess) {
				oa.LastSuccess = st.LastSuccess
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
		oa.Age = BackupAge(oa.LastSuccess, now, oa.Interval)
		if fa.Live && fa.Agent.Status == rcbu.AgentStatusOffline && !fa.Agent.IsDisabled {
			ov.Counts.Offline++
		}
		ov.Agents[i] = oa
	}
	slices.SortStableFunc(ov.Agents, func(a, b OverviewAgent) int {
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

// failed reports whether a finished job failed or was missed.
func failed(a rcbu.Activity) bool {
	switch rcbu.BackupState(a.CurrentState) {
	case rcbu.BackupFailed, rcbu.BackupMissed:
		return true
	}
	return false
}

// uniqueProblems keeps one problem per account (the first seen).
func uniqueProblems(lists ...[]AccountProblem) []AccountProblem {
	var out []AccountProblem
	seen := map[AccountID]bool{}
	for _, l := range lists {
		for _, p := range l {
			if !seen[p.AccountID] {
				seen[p.AccountID] = true
				out = append(out, p)
			}
		}
	}
	return out
}
