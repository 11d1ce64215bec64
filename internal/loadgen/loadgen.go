// Package loadgen is a small closed-loop HTTP load generator for the
// console: each worker signs in with its own cookie jar, then GETs a list of
// paths in turn until the run ends, and the run reports throughput and
// latency percentiles, in all and per replica. It talks only to the base
// URLs it is given. It also reads what the run cost: processor time from
// /proc, and CPU budgets for the replicas as cgroup v1 quotas.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config is one load run.
type Config struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	// Replicas, when set, are the base URLs of several consoles on one
	// store, used instead of BaseURL: worker w sends its requests to
	// Replicas[w % n] after signing in on the next one, so every worker's
	// session is made by one replica and used on another.
	Replicas []string
	Email    string        // a console user every worker signs in as
	Password string        // that user's password
	Paths    []string      // GET in turn by every worker, e.g. "/", "/reports"
	Workers  int           // concurrent clients (closed loop: one request at a time each)
	Duration time.Duration // how long to send requests
	Timeout  time.Duration // per request; default 10s
	// Started, if set, is called once every worker has signed in, just
	// before the measured requests start: what it reads (processor time,
	// say) then covers the measured window and not the sign-ins.
	Started func()
}

// Latencies summarises request durations.
type Latencies struct {
	Count         int
	P50, P99, Max time.Duration
}

// Result is what a run measured.
type Result struct {
	Requests  int           // completed requests (any status)
	Errors    int           // transport errors and non-2xx answers
	Elapsed   time.Duration // wall time of the measuring phase
	All       Latencies
	ByPath    map[string]Latencies
	ByReplica []ReplicaResult // one per base URL, in the order given
	Statuses  map[int]int     // status code → count (0: transport error)
	// FirstError is the first failure seen, for the report ("" if none).
	FirstError string
}

// ReplicaResult is the share of a run one replica served.
type ReplicaResult struct {
	BaseURL  string
	Workers  int
	Requests int
	Errors   int
	All      Latencies
}

// RequestsPerSecond is Requests divided by Elapsed.
func (r Result) RequestsPerSecond() float64 {
	return perSecond(r.Requests, r.Elapsed)
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

type sample struct {
	path   int
	d      time.Duration
	status int
	err    string
}

// Run signs every worker in, then sends requests for cfg.Duration (or
// until ctx ends) and returns the measurements. Sign-in failures are
// errors: a load run against the login page measures nothing useful.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Workers <= 0 || cfg.Duration <= 0 || len(cfg.Paths) == 0 {
		return Result{}, errors.New("loadgen: need workers > 0, duration > 0 and at least one path")
	}
	bases := cfg.Replicas
	if len(bases) == 0 {
		bases = []string{cfg.BaseURL}
	}
	for _, b := range bases {
		if _, err := url.Parse(b); err != nil || !strings.HasPrefix(b, "http") {
			return Result{}, fmt.Errorf("loadgen: base URL %q: want http(s)://host:port", b)
		}
	}
	replicaOf := func(w int) int { return w % len(bases) }
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	transport := &http.Transport{MaxIdleConns: cfg.Workers * 2, MaxIdleConnsPerHost: cfg.Workers * 2, IdleConnTimeout: 30 * time.Second}
	defer transport.CloseIdleConnections()
	clients := make([]*http.Client, cfg.Workers)
	for i := range clients {
		// Signed in on the replica after its own: the session cookie one
		// replica made must then work on another (the cookie jar sends it
		// to every port of the host).
		c, err := SignIn(ctx, transport, bases[replicaOf(i+1)], cfg.Email, cfg.Password, cfg.Timeout)
		if err != nil {
			return Result{}, fmt.Errorf("loadgen: worker %d: %w", i, err)
		}
		clients[i] = c
	}

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	perWorker := make([][]sample, cfg.Workers)
	var wg sync.WaitGroup
	if cfg.Started != nil {
		cfg.Started()
	}
	start := time.Now()
	for w := range cfg.Workers {
		wg.Go(func() {
			samples := make([]sample, 0, 4096)
			for i := w; runCtx.Err() == nil; i++ {
				p := i % len(cfg.Paths)
				s := get(runCtx, clients[w], bases[replicaOf(w)]+cfg.Paths[p])
				if runCtx.Err() != nil && s.err != "" {
					break // cut off by the end of the run: not a server error
				}
				s.path = p
				samples = append(samples, s)
			}
			perWorker[w] = samples
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := Result{Elapsed: elapsed, ByPath: map[string]Latencies{}, Statuses: map[int]int{},
		ByReplica: make([]ReplicaResult, len(bases))}
	var all []time.Duration
	byPath := make([][]time.Duration, len(cfg.Paths))
	byReplica := make([][]time.Duration, len(bases))
	for w, ss := range perWorker {
		rr := &res.ByReplica[replicaOf(w)]
		rr.Workers++
		for _, s := range ss {
			res.Requests++
			rr.Requests++
			res.Statuses[s.status]++
			if s.err != "" || s.status < 200 || s.status > 299 {
				res.Errors++
				rr.Errors++
				if res.FirstError == "" {
					res.FirstError = bases[replicaOf(w)] + cfg.Paths[s.path] + ": " + cmpOr(s.err, "status "+strconv.Itoa(s.status))
				}
			}
			all = append(all, s.d)
			byPath[s.path] = append(byPath[s.path], s.d)
			byReplica[replicaOf(w)] = append(byReplica[replicaOf(w)], s.d)
		}
	}
	res.All = Summarize(all)
	for i, p := range cfg.Paths {
		res.ByPath[p] = Summarize(byPath[i])
	}
	for i, b := range bases {
		res.ByReplica[i].BaseURL = b
		res.ByReplica[i].All = Summarize(byReplica[i])
	}
	return res, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func get(ctx context.Context, c *http.Client, u string) sample {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return sample{err: err.Error()}
	}
	// Like a browser: compressed answers, so the server's gzip is measured.
	req.Header.Set("Accept-Encoding", "gzip")
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return sample{d: time.Since(t0), err: err.Error()}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s := sample{d: time.Since(t0), status: resp.StatusCode}
	if err != nil {
		s.err = err.Error()
	}
	return s
}

// SignIn returns a client with its own cookie jar, signed in to the
// console at base. Redirects are not followed, so a request that lost its
// session shows as a 303, an error.
func SignIn(ctx context.Context, rt http.RoundTripper, base, email, password string, timeout time.Duration) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Transport: rt, Jar: jar, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login",
		strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(jar.Cookies(req.URL)) == 0 {
		return nil, fmt.Errorf("sign in as %s: status %d, want 303 with a session cookie", email, resp.StatusCode)
	}
	return c, nil
}

// Summarize returns the count, median, 99th percentile (nearest rank) and
// maximum of ds. It sorts ds.
func Summarize(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1 // nearest rank, 1-based → 0-based
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return Latencies{Count: len(ds), P50: rank(0.50), P99: rank(0.99), Max: ds[len(ds)-1]}
}

// RSS reads the resident set size and its peak (VmRSS, VmHWM) of process
// pid from /proc (Linux only; pid 0 means this process).
func RSS(pid int) (rss, peak int64, err error) {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("loadgen: rss: %w", err)
	}
	return parseStatus(string(b))
}

func parseStatus(s string) (rss, peak int64, err error) {
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("loadgen: rss: unexpected %q", strings.TrimSpace(line))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("loadgen: rss: %w", err)
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("loadgen: rss: no VmRSS line")
	}
	return rss, peak, nil
}

// Format renders a result as the few lines make bench prints.
func Format(r Result, paths []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests %d in %.1fs  errors %d  req/s %.1f  p50 %s  p99 %s  max %s\n",
		r.Requests, r.Elapsed.Seconds(), r.Errors, r.RequestsPerSecond(), ms(r.All.P50), ms(r.All.P99), ms(r.All.Max))
	for _, p := range paths {
		l := r.ByPath[p]
		fmt.Fprintf(&b, "  GET %-24s n %-7d p50 %-9s p99 %s\n", p, l.Count, ms(l.P50), ms(l.P99))
	}
	if len(r.ByReplica) > 1 {
		for i, rr := range r.ByReplica {
			fmt.Fprintf(&b, "  replica %d %-22s workers %-3d n %-7d errors %-4d req/s %-8.1f p50 %-9s p99 %s\n",
				i+1, rr.BaseURL, rr.Workers, rr.Requests, rr.Errors, perSecond(rr.Requests, r.Elapsed), ms(rr.All.P50), ms(rr.All.P99))
		}
	}
	if r.FirstError != "" {
		fmt.Fprintf(&b, "  first error: %s\n", r.FirstError)
	}
	return b.String()
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}
