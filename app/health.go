package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// ConfigurationKey names a configuration of an account.
type ConfigurationKey struct {
	AccountID AccountID
	ConfigID  rcbu.ConfigurationID
}

// ConfigurationRun is what the stored report snapshots say about a
// configuration: its newest backup and its newest successful one.
type ConfigurationRun struct {
	ConfigurationKey
	LastState    string // the newest stored backup's state
	LastFinished time.Time
	LastBytes    int64 // bytes that backup backed up
	LastSuccess  time.Time
}

// RunStore reads the stored report snapshots per configuration.
type RunStore interface {
	// LatestBackups returns, for each key that has stored backup reports,
	// its newest backup and newest successful backup.
	LatestBackups(ctx context.Context, keys []ConfigurationKey) ([]ConfigurationRun, error)
}

// fleetReader is the part of *Fleet that Health reads (cached lists).
type fleetReader interface {
	Configurations(ctx context.Context, scope Scope) ([]FleetConfiguration, []AccountProblem, error)
	Activity(ctx context.Context, scope Scope) ([]FleetActivity, []AccountProblem, error)
}

// ConfigurationHealth is a configuration's state as the console knows it
// from both the API and the report history: ConfigurationState with the
// last success, last run and overdue verdict taking the stored snapshots
// into account (they reach further back than the activity list), and the
// bytes of the newest stored backup.
type ConfigurationHealth struct {
	ConfigurationState
	LastBytes int64
	HasBytes  bool // a backup report of it is stored
}

// Health derives the state of configurations for /metrics and the JSON
// API, so both say the same about a configuration.
type Health struct {
	fleet  fleetReader
	runs   RunStore // nil: the API's view only
	policy OverduePolicy
	now    func() time.Time
}

// NewHealth returns the configuration state service over the Fleet's
// cached lists and, when runs is not nil, the stored snapshots.
func NewHealth(fleet fleetReader, runs RunStore, policy OverduePolicy, now func() time.Time) *Health {
	if policy == (OverduePolicy{}) {
		policy = DefaultOverduePolicy()
	}
	if now == nil {
		now = time.Now
	}
	return &Health{fleet: fleet, runs: runs, policy: policy, now: now}
}

// Configurations returns the state of every configuration (deleted ones
// left out) of the scope's accounts that could be read; those that could
// not are problems. The error is the request's own context error, or the
// database's.
func (h *Health) Configurations(ctx context.Context, scope Scope) ([]ConfigurationHealth, []AccountProblem, error) {
	var (
		configs      []FleetConfiguration
		acts         []FleetActivity
		probC, probA []AccountProblem
		errC, errA   error
		wg           sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); configs, probC, errC = h.fleet.Configurations(ctx, scope) }()
	go func() { defer wg.Done(); acts, probA, errA = h.fleet.Activity(ctx, scope) }()
	wg.Wait()
	if err := errors.Join(errC, errA); err != nil {
		return nil, nil, fmt.Errorf("configuration health: %w", err)
	}
	problems := mergeProblems(probC, probA)
	down := map[AccountID]bool{}
	for _, p := range problems {
		down[p.AccountID] = true
	}
	live := configs[:0:0]
	for _, fc := range configs {
		if !fc.Configuration.IsDeleted && !down[fc.AccountID] {
			live = append(live, fc)
		}
	}
	now := h.now()
	states := ConfigurationStates(live, acts, now, h.policy)
	out := make([]ConfigurationHealth, len(states))
	for i, st := range states {
		out[i] = ConfigurationHealth{ConfigurationState: st}
	}
	if h.runs == nil || len(states) == 0 {
		return out, problems, nil
	}
	keys := make([]ConfigurationKey, len(states))
	for i, st := range states {
		keys[i] = ConfigurationKey{AccountID: st.AccountID, ConfigID: st.Configuration.ID}
	}
	runs, err := h.runs.LatestBackups(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration health: %w", err)
	}
	byKey := make(map[ConfigurationKey]ConfigurationRun, len(runs))
	for _, r := range runs {
		byKey[r.ConfigurationKey] = r
	}
	for i := range out {
		ch := &out[i]
		r, ok := byKey[keys[i]]
		if !ok {
			continue
		}
		if r.LastSuccess.After(ch.LastSuccess) {
			ch.LastSuccess = r.LastSuccess
		}
		if r.LastState != "" && (ch.LastState == "" || r.LastFinished.After(ch.LastRun)) {
			ch.LastState, ch.LastRun = r.LastState, r.LastFinished
		}
		ch.LastBytes, ch.HasBytes = r.LastBytes, true
		ch.Overdue = h.policy.Check(ch.Configuration, ch.LastSuccess, now)
	}
	return out, problems, nil
}
