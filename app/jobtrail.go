package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// StateSeen is one state of a job and when the console first saw it (the
// API's StateChangeTime when it gave one).
type StateSeen struct {
	State string
	At    time.Time
}

// jobTrails remembers the states the console has seen each job in, for the
// live panel's timeline: the API tells only the current state and when it
// changed, so earlier steps have times only when someone watched them.
// Bounded: past maxTrails the trail first seen longest ago is forgotten.
type jobTrails struct {
	mu sync.Mutex
	m  map[trailKey][]StateSeen
}

type trailKey struct {
	account AccountID
	kind    ReportKind
	id      int64
}

const maxTrails = 5000

func newJobTrails() *jobTrails { return &jobTrails{m: map[trailKey][]StateSeen{}} }

// observe records that the job is in state since at, and returns the trail
// so far (oldest first).
func (t *jobTrails) observe(k trailKey, state string, at time.Time) []StateSeen {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr, ok := t.m[k]
	if !ok && len(t.m) >= maxTrails {
		var oldest trailKey
		var first time.Time
		for k2, tr2 := range t.m {
			if first.IsZero() || tr2[0].At.Before(first) {
				oldest, first = k2, tr2[0].At
			}
		}
		delete(t.m, oldest)
	}
	if n := len(tr); n == 0 || !strings.EqualFold(tr[n-1].State, state) {
		tr = append(tr, StateSeen{State: state, At: at})
		t.m[k] = tr
	}
	return slices.Clone(tr)
}

// started records a job the console has just started, in its first state.
func (t *jobTrails) started(k trailKey, state string, at time.Time) { t.observe(k, state, at) }

// Estimate is what a configuration's recent successful runs say about the
// next one: the median duration and size of at most estimateRuns runs.
// Runs is 0 when there is no history to go by.
type Estimate struct {
	Runs     int
	Duration time.Duration
	Bytes    int64
	Files    int64
}

// estimateRuns is how many recent successful runs an estimate looks at:
// enough to smooth one odd run, few enough to follow a growing data set.
const estimateRuns = 10

// EstimateStore reads the runs an estimate is made from.
type EstimateStore interface {
	// RecentRuns returns the newest successful runs of a configuration's
	// backups or restores, newest first, at most limit.
	RecentRuns(ctx context.Context, accounts []AccountID, kind ReportKind, config rcbu.ConfigurationID, limit int) ([]RunPoint, error)
}

// Estimate returns what the recent successful backups (or restores) of a
// configuration took: the median duration, bytes and files.
func (h *History) Estimate(ctx context.Context, accounts []AccountID, kind ReportKind, config rcbu.ConfigurationID) (Estimate, error) {
	if len(accounts) == 0 || config == 0 {
		return Estimate{}, nil
	}
	runs, err := h.store.RecentRuns(ctx, accounts, kind, config, estimateRuns)
	if err != nil {
		return Estimate{}, fmt.Errorf("estimate: %w", err)
	}
	return estimateOf(runs), nil
}

func estimateOf(runs []RunPoint) Estimate {
	if len(runs) == 0 {
		return Estimate{}
	}
	d := make([]int64, len(runs))
	b := make([]int64, len(runs))
	f := make([]int64, len(runs))
	for i, r := range runs {
		d[i], b[i], f[i] = int64(r.Duration), r.Bytes, r.Files
	}
	return Estimate{Runs: len(runs), Duration: time.Duration(lowerMedian(d)), Bytes: lowerMedian(b), Files: lowerMedian(f)}
}

// lowerMedian of xs (the lower middle for an even count, so it is a value some
// run really had).
func lowerMedian(xs []int64) int64 {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	return xs[(len(xs)-1)/2]
}
