package app_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/upstream"
)

func TestBackgroundMarks(t *testing.T) {
	ctx := context.Background()
	if app.IsBackground(ctx) || !app.IsBackground(app.Background(ctx)) || app.IsBackground(app.Foreground(app.Background(ctx))) || app.IsBackground(app.Foreground(ctx)) {
		t.Error("Background/Foreground marks wrong")
	}
}

// The report sync is background work: however wide its own pool, its
// calls stay within the background budget, and it still stores everything.
func TestSyncStaysWithinTheBackgroundBudget(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{Concurrency: 8}, rcbusim.WithScale(3, 2, 5))
	cl, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		rcbu.WithIdentityURL(e.url+"/v2.0/tokens"), rcbu.WithAllRegions(), rcbu.WithRetry(1, 0, 0), rcbu.WithClock(e.clock.Now),
		rcbuhttp.WithHTTPClient(&http.Client{Transport: upstream.Budgeted(nil, app.NewUpstreamBudget(2))}))
	if err != nil {
		t.Fatal(err)
	}
	e.clients.mu.Lock()
	e.clients.m[e.acct.ID] = cl
	e.clients.mu.Unlock()
	var inflight, maxIn atomic.Int32
	e.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for m := maxIn.Load(); n > m && !maxIn.CompareAndSwap(m, n); m = maxIn.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		next.ServeHTTP(w, r)
	})
	if _, err := e.syncer.SyncAccount(ctx, e.acct.ID); err != nil {
		t.Fatal(err)
	}
	e.assertComplete(t)
	if m := maxIn.Load(); m > 2 {
		t.Errorf("the sync had %d calls in flight, want at most 2", m)
	}
}
