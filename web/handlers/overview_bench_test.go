package handlers

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/cputime"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// The overview benchmarks run on the synced fleet dataset (see
// dataset_bench_test.go): 200 agents with their whole history in the store,
// the simulator answering every call after 20 ms. Besides time they report
// upstream round trips per page (calls/op), so a regression to more calls
// shows even when the machine is fast, and the process's CPU time per page
// (cpu-ms/op, the simulator's share included), which stays comparable when
// the machine is oversubscribed and wall times are not.
//
//	go test -run '^$' -bench 'FleetOverview' -benchtime 20x -count 5 ./web/handlers/

// BenchmarkFleetOverview is the server time of GET / at 200 agents. Cold:
// the fleet cache is dropped before each request, so the page waits for
// its account-wide list calls; warm: everything cached.
func BenchmarkFleetOverview(b *testing.B) {
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			fe := newFleetEnv(b, 200)
			start, cpu := fe.calls.Load(), cputime.Process()
			for b.Loop() {
				if mode == "cold" {
					fe.deps.Fleet.Invalidate(fe.demo.ID)
				}
				fe.mustGet(b, "/")
			}
			b.ReportMetric(ms(cputime.Process()-cpu)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(fe.calls.Load()-start)/float64(b.N), "calls/op")
		})
	}
}

// BenchmarkFleetOverviewStatus is the live-status fragment of the overview
// at 200 agents: the agent details through the bounded pool (cold) or from
// the cache (warm).
func BenchmarkFleetOverviewStatus(b *testing.B) { benchFragment(b, "/overview/status") }

// BenchmarkFleetOverviewRunning is the running-jobs fragment of the
// overview at 200 agents: the page itself never reads the activity lists,
// so this is where their cost went. Cold: the account-wide activity list of
// every region (about 26,000 items of the whole history) is read and its
// busy jobs picked out; warm: the busy jobs from the cache.
func BenchmarkFleetOverviewRunning(b *testing.B) { benchFragment(b, "/overview/running") }

// benchFragment loads one of the overview's fragments with htmx, cold (the
// fleet cache dropped before each load) and warm.
func benchFragment(b *testing.B, path string) {
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			fe := newFleetEnv(b, 200)
			fe.htmx(http.MethodGet, path, nil, fe.ck)
			start, cpu := fe.calls.Load(), cputime.Process()
			for b.Loop() {
				if mode == "cold" {
					fe.deps.Fleet.Invalidate(fe.demo.ID)
				}
				if rec := fe.htmx(http.MethodGet, path, nil, fe.ck); rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			b.ReportMetric(ms(cputime.Process()-cpu)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(fe.calls.Load()-start)/float64(b.N), "calls/op")
		})
	}
}

// BenchmarkFleetOverviewSize reports the size of / at 200 and 1,000 agents,
// raw and as the gzip middleware sends it; it must not grow with the fleet.
// The 1,000-agent dataset is built (once, then cached) only here.
func BenchmarkFleetOverviewSize(b *testing.B) {
	for _, agents := range []int{200, 1000} {
		b.Run(strconv.Itoa(agents), func(b *testing.B) {
			fe := newFleetEnv(b, agents)
			var raw, zipped int
			for b.Loop() {
				raw = fe.mustGet(b, "/").Body.Len()
				rec := fe.do(req{path: "/", cookie: fe.ck, headers: map[string]string{"Accept-Encoding": "gzip"}})
				if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" {
					b.Fatalf("gzip: status %d, encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
				}
				zipped = rec.Body.Len()
			}
			b.ReportMetric(float64(raw), "bytes/page")
			b.ReportMetric(float64(zipped), "gzip-bytes/page")
		})
	}
}

// BenchmarkFleetOverviewConcurrent is / at 200 agents with 8 signed-in
// users loading it at once, each on its own session. The console's clock
// follows the wall clock, so the fleet cache expires (TTL 5 s) and is
// served up to a minute stale while it refreshes, as in production. Each
// user then loads what the page asks for on load, as a browser does: the
// live-status and running fragments, when their loaders say so. One op is
// one load by each user (8 pages, at most 8 in flight); it reports the
// median and p99 of the page times (p50-ms, p99-ms: the page alone), the
// p99 of the fragments (frag-p99-ms, 0 when none was asked for), and CPU
// time and upstream calls per page, the fragments' included.
//
//	go test -run '^$' -bench 'FleetOverviewConcurrent' -benchtime 10x -count 5 ./web/handlers/
func BenchmarkFleetOverviewConcurrent(b *testing.B) {
	const users = 8
	fe := newFleetEnv(b, 200)
	cookies := make([]*http.Cookie, users)
	for i := range cookies {
		cookies[i] = fe.loginRole(app.RoleObserver)
	}
	stop := fe.followWallClock()
	defer stop()
	var (
		mu    sync.Mutex
		times []time.Duration
		frags []time.Duration
		next  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for i := range users {
		wg.Go(func() {
			for range next {
				t0 := time.Now()
				rec := fe.get("/", cookies[i])
				d := time.Since(t0)
				if rec.Code != http.StatusOK {
					b.Errorf("status %d", rec.Code)
				}
				var fd []time.Duration
				for _, href := range onLoadFragments(rec.Body.String()) {
					t1 := time.Now()
					if fr := fe.htmx(http.MethodGet, href, nil, cookies[i]); fr.Code != http.StatusOK {
						b.Errorf("%s: status %d", href, fr.Code)
					}
					fd = append(fd, time.Since(t1))
				}
				mu.Lock()
				times = append(times, d)
				frags = append(frags, fd...)
				mu.Unlock()
			}
		})
	}
	start, cpu := fe.calls.Load(), cputime.Process()
	for b.Loop() {
		for range users {
			next <- struct{}{}
		}
	}
	close(next)
	wg.Wait()
	pages := float64(b.N * users)
	b.ReportMetric(ms(cputime.Process()-cpu)/pages, "cpu-ms/page")
	b.ReportMetric(float64(fe.calls.Load()-start)/pages, "calls/page")
	b.ReportMetric(ms(percentile(times, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(times, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(frags, 99)), "frag-p99-ms")
}

// onLoadLoader finds the overview's fragment loaders that fire as soon as
// the page is shown (hx-trigger starting with "load" but not "load
// delay"), and their URLs.
var onLoadLoader = regexp.MustCompile(`id="(?:live-status-loader|running-loader)" hx-get="([^"]+)" hx-trigger="load(?:,|")`)

// onLoadFragments returns the URLs a browser loads right after the page.
func onLoadFragments(body string) []string {
	var out []string
	for _, m := range onLoadLoader.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// BenchmarkFleetOverviewBackfill is / at 200 agents while a report sync
// backfills a whole history from scratch, against the same page idle. The
// backfill is the first sync of a second account (on the same simulator,
// so it fetches the same 26,000 reports through the same process and the
// console's background budget) while the page shows the first account,
// whose history stays as it was: only the load differs. Each op loads the
// page twice: once with the backfill paused (its report fetches held at the
// simulator, nothing stored meanwhile) and once with it running, so both
// samples see the same machine; idle-ms and backfill-ms are their medians
// and ratio the one over the other.
func BenchmarkFleetOverviewBackfill(b *testing.B) {
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			fe := newFleetEnv(b, 200)
			load := func() time.Duration {
				if mode == "cold" {
					fe.deps.Fleet.Invalidate(fe.demo.ID)
				}
				t0 := time.Now()
				fe.mustGet(b, "/")
				return time.Since(t0)
			}
			second, err := fe.deps.Accounts.Create(context.Background(), fe.byRole[app.RoleAdmin], app.AccountRequest{
				Name: "Zeta backfill", Username: rcbusim.DemoUser, Kind: string(app.CredentialAPIKey), Secret: rcbusim.DemoAPIKey, IdentityURL: fe.sim.IdentityURL,
			})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				fe.deps.Syncer.SyncAccount(ctx, second.ID)
			}()
			defer func() {
				fe.resumeReports()
				cancel()
				<-done
			}()
			waitStored(b, fe, second.ID, 200) // the backfill is under way
			var idle, during []time.Duration
			for b.Loop() {
				fe.pauseReports()
				time.Sleep(100 * time.Millisecond) // fetches in flight land
				idle = append(idle, load())
				fe.resumeReports()
				time.Sleep(100 * time.Millisecond) // back to full speed
				during = append(during, load())
			}
			b.ReportMetric(ms(percentile(idle, 50)), "idle-ms")
			b.ReportMetric(ms(percentile(during, 50)), "backfill-ms")
			b.ReportMetric(float64(percentile(during, 50))/float64(percentile(idle, 50)), "ratio")
		})
	}
}

// waitStored waits until account has at least n report snapshots.
func waitStored(b *testing.B, fe *fleetEnv, account app.AccountID, n int64) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var have int64
		if err := fe.store.DB().QueryRow(`SELECT COUNT(*) FROM reports WHERE account_id = ?`, account).Scan(&have); err != nil {
			b.Fatal(err)
		}
		if have >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("the backfill stored fewer than %d reports in 2 minutes", n)
}

// followWallClock makes the console's clock advance with the wall clock
// until the returned func is called.
func (fe *fleetEnv) followWallClock() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				fe.clock.Advance(now.Sub(last))
				last = now
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// percentile is the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
