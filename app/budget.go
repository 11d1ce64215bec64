package app

import "context"

// DefaultBackgroundCalls is how many Cloud Backup calls background work
// (the report sync, alert evaluation, status refreshes) may have in flight
// at once, across every account of the process.
//
// Why 2: a first sync backfills the whole history, one report call per job
// (about 26,000 for 200 agents over 60 days). With nothing to hold it back
// it reads as fast as its own pool allows and every report it fetches costs
// this process CPU to decode, parse and store, while a page's reads and
// render wait for the same two cores and the same database. At 20 ms a
// call, 2 calls in flight still read 100 reports a second (a 26,000-report
// backfill in about 4.5 minutes, once), a sustained rate far below
// Rackspace's per-tenant API rate limits, and leave pages (whose own
// fan-outs run 8–16 calls wide and are not bounded by this budget) the
// upstream and most of the CPU.
const DefaultBackgroundCalls = 2

type backgroundKey struct{}

// Background returns ctx marked as background work: the Cloud Backup calls
// made with it wait for a slot of the background budget (UpstreamBudget),
// which is small and separate from what pages use, so a page load never
// queues behind a report backfill. The report sync and the alert loop mark
// their contexts; a request handler never does.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// Foreground returns ctx without the background mark. A fetch that pages
// may wait on (a shared fleet cache fill) uses it even when background
// work started it, so a page that joins the fetch is not held back by the
// background budget.
func Foreground(ctx context.Context) context.Context {
	if !IsBackground(ctx) {
		return ctx
	}
	return context.WithValue(ctx, backgroundKey{}, false)
}

// IsBackground reports whether ctx is marked as background work.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

// UpstreamBudget bounds the Cloud Backup calls that background work has in
// flight. It is one per process, shared by the clients of every account
// (the connector cmd/web wires applies it to each client's transport),
// because what it protects (the CPU, the database and the upstream) is
// shared too. Interactive calls are not counted.
type UpstreamBudget struct {
	slots chan struct{}
}

// NewUpstreamBudget returns a budget of n background calls in flight (at
// least 1, so background work always progresses).
func NewUpstreamBudget(n int) *UpstreamBudget {
	return &UpstreamBudget{slots: make(chan struct{}, max(n, 1))}
}

// Acquire takes a slot of the budget, waiting for one until ctx ends (then
// it returns ctx's error). The caller gives the slot back by calling
// release exactly once.
func (b *UpstreamBudget) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case b.slots <- struct{}{}:
		return func() { <-b.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
