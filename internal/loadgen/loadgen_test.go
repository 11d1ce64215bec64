package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, ms(i))
	}
	got := Summarize(ds)
	want := Latencies{Count: 100, P50: ms(50), P99: ms(99), Max: ms(100)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("1..100 ms (-want +got):\n%s", diff)
	}
	if got := Summarize([]time.Duration{ms(7)}); got != (Latencies{1, ms(7), ms(7), ms(7)}) {
		t.Errorf("one sample: %+v", got)
	}
	if got := Summarize(nil); got != (Latencies{}) {
		t.Errorf("no samples: %+v", got)
	}
}

func TestParseStatus(t *testing.T) {
	rss, peak, err := parseStatus("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads: 3\n")
	if err != nil || rss != 1<<20 || peak != 2<<20 {
		t.Errorf("got %d %d %v", rss, peak, err)
	}
	if _, _, err := parseStatus("Name: x\n"); err == nil {
		t.Error("no VmRSS line: no error")
	}
	if _, _, err := parseStatus("VmRSS: 12 MB\n"); err == nil {
		t.Error("unexpected unit: no error")
	}
	if rss, _, err := RSS(0); err != nil || rss <= 0 {
		t.Errorf("RSS of this process: %d, %v", rss, err)
	}
}

// fakeConsole signs in "u@example.com"/"pw" with a cookie and answers GETs
// for signed-in clients; /slow takes 20 ms, /bad answers 500.
func fakeConsole(t *testing.T, hits *atomic.Int64) *httptest.Server {
	return fakeReplica(t, "one", hits, nil)
}

// fakeReplica is a fakeConsole whose session cookies name it, as replica
// name; it accepts the sessions of every replica (a shared store) and
// counts in foreign the GETs made with a session another replica made.
func fakeReplica(t *testing.T, name string, hits, foreign *atomic.Int64) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("email") != "u@example.com" || r.FormValue("password") != "pw" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "ok-" + name, Path: "/"})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("s")
		if err != nil || !strings.HasPrefix(c.Value, "ok-") {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		hits.Add(1)
		if c.Value != "ok-"+name && foreign != nil {
			foreign.Add(1)
		}
		switch r.URL.Path {
		case "/slow":
			time.Sleep(20 * time.Millisecond)
		case "/bad":
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	var hits atomic.Int64
	srv := fakeConsole(t, &hits)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var hitsAtStart int64 = -1
	res, err := Run(ctx, Config{BaseURL: srv.URL, Email: "u@example.com", Password: "pw",
		Paths: []string{"/", "/slow", "/bad"}, Workers: 3, Duration: 300 * time.Millisecond,
		Started: func() { hitsAtStart = hits.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	if hitsAtStart != 0 {
		t.Errorf("Started saw %d GETs already sent; want it called once, after the sign-ins and before any GET", hitsAtStart)
	}
	// Requests cut off by the end of the run are not counted (at most one
	// per worker); every counted one reached the server.
	if n := int64(res.Requests); n == 0 || n > hits.Load() || n < hits.Load()-3 {
		t.Errorf("requests %d, server saw %d", res.Requests, hits.Load())
	}
	if res.Errors != res.Statuses[500] || res.Errors == 0 {
		t.Errorf("errors %d, 500s %d: every /bad answer is an error and nothing else", res.Errors, res.Statuses[500])
	}
	if !strings.HasPrefix(res.FirstError, srv.URL+"/bad: status 500") {
		t.Errorf("first error %q", res.FirstError)
	}
	if slow := res.ByPath["/slow"]; slow.Count == 0 || slow.P50 < 20*time.Millisecond {
		t.Errorf("/slow latencies %+v, want p50 >= 20ms", slow)
	}
	if res.RequestsPerSecond() <= 0 {
		t.Error("no throughput")
	}
	out := Format(res, []string{"/", "/slow", "/bad"})
	for _, want := range []string{"req/s", "p50", "p99", "GET /slow"} {
		if !strings.Contains(out, want) {
			t.Errorf("Format lacks %q:\n%s", want, out)
		}
	}
}

// Workers spread round-robin over the replicas, keep theirs, and use a
// session another replica made; the result is split per replica.
func TestRunReplicas(t *testing.T) {
	var hitsA, hitsB, foreignA, foreignB atomic.Int64
	a := fakeReplica(t, "a", &hitsA, &foreignA)
	b := fakeReplica(t, "b", &hitsB, &foreignB)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, Config{Replicas: []string{a.URL, b.URL}, Email: "u@example.com", Password: "pw",
		Paths: []string{"/slow"}, Workers: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ByReplica) != 2 {
		t.Fatalf("%d replica results, want 2", len(res.ByReplica))
	}
	for i, c := range []struct {
		url           string
		hits, foreign *atomic.Int64
	}{{a.URL, &hitsA, &foreignA}, {b.URL, &hitsB, &foreignB}} {
		rr := res.ByReplica[i]
		if rr.BaseURL != c.url || rr.Workers != 2 || rr.Errors != 0 {
			t.Errorf("replica %d: %+v, want %s with 2 workers and no errors", i+1, rr, c.url)
		}
		// Every counted request reached this replica; at most one per
		// worker was cut off by the end of the run.
		if n := int64(rr.Requests); n == 0 || n > c.hits.Load() || n < c.hits.Load()-2 {
			t.Errorf("replica %d: %d requests counted, it saw %d", i+1, rr.Requests, c.hits.Load())
		}
		if c.foreign.Load() != c.hits.Load() {
			t.Errorf("replica %d: %d of %d GETs came with a session another replica made; want all", i+1, c.foreign.Load(), c.hits.Load())
		}
		if rr.All.P50 < 20*time.Millisecond {
			t.Errorf("replica %d: p50 %s, want >= 20ms (/slow)", i+1, rr.All.P50)
		}
	}
	if res.Requests != res.ByReplica[0].Requests+res.ByReplica[1].Requests {
		t.Errorf("total %d is not the sum of the replicas' %d and %d", res.Requests, res.ByReplica[0].Requests, res.ByReplica[1].Requests)
	}
	if out := Format(res, []string{"/slow"}); !strings.Contains(out, "replica 2 "+b.URL) {
		t.Errorf("Format lacks the second replica's line:\n%s", out)
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	var hits atomic.Int64
	srv := fakeConsole(t, &hits)
	ctx := context.Background()
	for name, cfg := range map[string]Config{
		"no workers":     {BaseURL: srv.URL, Paths: []string{"/"}, Duration: time.Second},
		"no paths":       {BaseURL: srv.URL, Workers: 1, Duration: time.Second},
		"no duration":    {BaseURL: srv.URL, Paths: []string{"/"}, Workers: 1},
		"bad URL":        {BaseURL: "ftp://x", Paths: []string{"/"}, Workers: 1, Duration: time.Second},
		"wrong password": {BaseURL: srv.URL, Email: "u@example.com", Password: "nope", Paths: []string{"/"}, Workers: 1, Duration: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Run(ctx, cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("%d GETs sent although no run could start", hits.Load())
	}
}
