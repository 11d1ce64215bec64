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
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("email") != "u@example.com" || r.FormValue("password") != "pw" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "ok", Path: "/"})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("s"); err != nil || c.Value != "ok" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		hits.Add(1)
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
	res, err := Run(ctx, Config{BaseURL: srv.URL, Email: "u@example.com", Password: "pw",
		Paths: []string{"/", "/slow", "/bad"}, Workers: 3, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// Requests cut off by the end of the run are not counted (at most one
	// per worker); every counted one reached the server.
	if n := int64(res.Requests); n == 0 || n > hits.Load() || n < hits.Load()-3 {
		t.Errorf("requests %d, server saw %d", res.Requests, hits.Load())
	}
	if res.Errors != res.Statuses[500] || res.Errors == 0 {
		t.Errorf("errors %d, 500s %d: every /bad answer is an error and nothing else", res.Errors, res.Statuses[500])
	}
	if !strings.HasPrefix(res.FirstError, "/bad: status 500") {
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
