package app_test

import (
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// heatmapRuns counts the runs a heatmap shows.
func heatmapRuns(hm app.Heatmap) int {
	n := 0
	for _, r := range hm.Rows {
		for _, c := range r.Cells {
			n += c.Success + c.Warning + c.Failure + c.Neutral
		}
	}
	return n
}

// The heatmap is reused between page loads, but never once snapshots were
// stored or pruned: it always shows what the store holds.
func TestHeatmapFollowsStoredSnapshots(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{}, rcbusim.WithScale(3, 1, 8))
	accts := []app.AccountID{e.acct.ID}
	hm, err := e.history.Heatmap(ctx, accts, 30, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(hm.Rows) != 0 {
		t.Fatalf("heatmap before any sync has %d rows", len(hm.Rows))
	}
	if _, err := e.syncer.SyncAccount(ctx, e.acct.ID); err != nil {
		t.Fatal(err)
	}
	hm, err = e.history.Heatmap(ctx, accts, 30, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	synced := heatmapRuns(hm)
	if len(hm.Rows) < 3 || synced == 0 {
		t.Fatalf("after the sync: %d rows, %d runs; want every agent's runs", len(hm.Rows), synced)
	}
	again, err := e.history.Heatmap(ctx, accts, 30, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if heatmapRuns(again) != synced {
		t.Fatalf("the same heatmap twice: %d then %d runs", synced, heatmapRuns(again))
	}
	admin := app.User{ID: 1, Role: app.RoleAdmin}
	if _, err := e.history.Prune(ctx, admin, 3); err != nil {
		t.Fatal(err)
	}
	hm, err = e.history.Heatmap(ctx, accts, 30, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if n := heatmapRuns(hm); n == 0 || n >= synced {
		t.Fatalf("after pruning all but 3 days: %d runs, want fewer than %d", n, synced)
	}
}
