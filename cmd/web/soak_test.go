//go:build soak

package main

// The resilience soak, behind the build tag soak (make soak):
// the console runs against a simulator that answers 20% of calls with 503,
// lets 5% hang, adds up to 200 ms of jitter and expires every token each
// 30 s, while simulated users browse, start and stop backups. About two
// minutes.
//
//	go test -tags soak -race -run Soak -v ./cmd/web/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

const (
	soakUsers    = 8
	soakDuration = 100 * time.Second
	soakPassword = "soak admin password 2026"
)

// soakStart is one Start a user sent and what the console told them.
type soakStart struct {
	user     int
	configID int64
	backupID int64  // shown to the user: the console's /backups/{id}
	failed   string // the error the user was shown instead
}

// soakLog is what the users saw, shared by their goroutines.
type soakLog struct {
	mu       sync.Mutex
	requests int
	statuses map[int]int
	bad      []string // 5xx pages that are not a designed upstream-failure page, transport errors
	starts   []soakStart
	stops    int
}

func (l *soakLog) record(status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	l.statuses[status]++
}

func (l *soakLog) problem(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bad) < 50 {
		l.bad = append(l.bad, fmt.Sprintf(format, a...))
	}
}

func TestSoak(t *testing.T) {
	baseline := runtime.NumGoroutine()

	sim := rcbusim.New(
		rcbusim.WithDataset("demo"),
		rcbusim.WithClock(rcbusim.NewScaledClock(20)),
		rcbusim.WithRandSeed(uint64(time.Now().UnixNano())),
		rcbusim.WithErrorRate(0.20, http.StatusServiceUnavailable),
		rcbusim.WithHangRate(0.05),
		rcbusim.WithLatency(0, 200*time.Millisecond),
	)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	// Manual-only configurations the users start: every backup of them in
	// the simulator must be one a user was shown.
	var configs []int64
	for i := range 4 {
		agent := sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: fmt.Sprintf("soak-%02d", i), Online: true})
		for j, size := range []int64{200 << 20, 2 << 40} { // seconds and minutes at 20x
			id, err := sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{
				AgentID: agent, Name: fmt.Sprintf("soak %d-%d", i, j), Inclusions: []string{"/data"}, DataBytes: size,
			})
			if err != nil {
				t.Fatal(err)
			}
			configs = append(configs, id)
		}
	}
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), soakDuration)
	defer cancel()
	// Expire every token each 30 s (real time), as a long day would.
	expiries := 0
	expDone := make(chan struct{})
	go func() {
		defer close(expDone)
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				sim.ExpireTokens()
				expiries++
			}
		}
	}()

	base, stderr, stop := startRun(t, map[string]string{
		"RCBU_USERNAME":           rcbusim.DemoUser,
		"RCBU_API_KEY":            rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL":       simSrv.URL + "/v2.0/tokens",
		"RCBU_WEB_ADMIN_PASSWORD": soakPassword,
		"RCBU_WEB_SYNC_INTERVAL":  "10s",
	})

	log := &soakLog{statuses: map[int]int{}}
	var wg sync.WaitGroup
	for u := range soakUsers {
		wg.Go(func() { soakUser(ctx, t, u, base, configs, log) })
	}
	wg.Wait()
	<-expDone
	stop()
	simSrv.Close()

	t.Logf("%d requests by %d users in %s; statuses %v; %d starts, %d stops; tokens expired %d times",
		log.requests, soakUsers, soakDuration, log.statuses, len(log.starts), log.stops, expiries)

	// 1. No 5xx page caused by our code, no transport failure.
	for _, p := range log.bad {
		t.Error(p)
	}
	if len(log.bad) > 0 {
		// The server logs each 5xx once, with its cause: show them.
		var lines []string
		for line := range strings.Lines(stderr.String()) {
			if strings.Contains(line, "level=ERROR") && len(lines) < 20 {
				lines = append(lines, strings.TrimSpace(line))
			}
		}
		t.Logf("server errors:\n%s", strings.Join(lines, "\n"))
	}
	if log.requests < soakUsers*10 {
		t.Errorf("only %d requests: the users could not work", log.requests)
	}
	// 2. No panic.
	if out := stderr.String(); regexp.MustCompile(`(?i)panic|goroutine \d+ \[`).MatchString(out) {
		i := regexp.MustCompile(`(?i)panic|goroutine \d+ \[`).FindStringIndex(out)[0]
		t.Errorf("the server log shows a panic:\n%s", out[max(0, i-200):min(len(out), i+2000)])
	}
	// 3. Every backup a user was shown exists; every backup of the soak
	// configurations is one a user was shown (none started behind a
	// "failed" message, none started twice for one click).
	shown := map[int64]bool{}
	okStarts, failedStarts := 0, 0
	for _, s := range log.starts {
		if s.failed != "" {
			failedStarts++
			continue
		}
		okStarts++
		shown[s.backupID] = true
	}
	inSim := map[int64]bool{}
	for _, b := range sim.Backups() {
		if slices.Contains(configs, b.ConfigurationID) {
			inSim[b.ID] = true
		}
	}
	for id := range shown {
		if !inSim[id] {
			t.Errorf("a user was shown backup %d, which the simulator never started", id)
		}
	}
	for id := range inSim {
		if !shown[id] {
			t.Errorf("the simulator ran backup %d, but no user was shown it (reported as failed, or started twice)", id)
		}
	}
	if okStarts == 0 {
		t.Error("no start succeeded: the soak proved nothing about starts")
	}
	t.Logf("starts: %d shown as started (%d distinct backups), %d shown as failed", okStarts, len(shown), failedStarts)

	// 4. No goroutine leak: back near the baseline once everything stopped.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > baseline+5 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline+5 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("%d goroutines after shutdown, %d before the run:\n%s", n, baseline, buf)
	}
}

var backupPathRE = regexp.MustCompile(`^/backups/(\d+)$`)

// soakUser signs in and, until ctx ends, browses, starts and stops.
func soakUser(ctx context.Context, t *testing.T, u int, base string, configs []int64, log *soakLog) {
	rng := rand.New(rand.NewPCG(uint64(u), 7))
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// do sends one request; it returns the status, the body and the
	// redirect target, and records problems.
	do := func(method, path string, form url.Values) (int, string, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			log.problem("user %d: %s %s: %v", u, method, path, err)
			return 0, "", ""
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				log.problem("user %d: %s %s: %v", u, method, path, err)
			} else if ctx.Err() == nil {
				log.problem("user %d: %s %s: no answer within 60 s", u, method, path)
			}
			return 0, "", ""
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		log.record(resp.StatusCode)
		page := string(b)
		if resp.StatusCode >= 500 {
			designed := resp.StatusCode != http.StatusInternalServerError &&
				(strings.Contains(page, `data-testid="error-page"`) || strings.Contains(page, `data-testid="error-banner"`))
			if !designed {
				log.problem("user %d: %s %s: %d page (not an upstream-failure page):\n%.400s", u, method, path, resp.StatusCode, page)
			}
		}
		return resp.StatusCode, page, resp.Header.Get("Location")
	}

	for ctx.Err() == nil {
		if st, _, loc := do(http.MethodPost, "/login", url.Values{"email": {"admin@example.com"}, "password": {soakPassword}}); st == http.StatusSeeOther && loc == "/" {
			break
		} else if ctx.Err() == nil {
			log.problem("user %d: sign in: %d → %q", u, st, loc)
			return
		}
	}

	browse := []string{"/", "/agents", "/activity", "/configurations", "/reports"}
	for ctx.Err() == nil {
		switch r := rng.IntN(10); {
		case r < 5: // browse
			do(http.MethodGet, browse[rng.IntN(len(browse))], nil)
		case r < 8: // open a configuration and press Start
			cid := configs[rng.IntN(len(configs))]
			st, page, _ := do(http.MethodGet, fmt.Sprintf("/configurations/%d", cid), nil)
			if st != http.StatusOK {
				continue
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
			if err != nil {
				continue
			}
			form := doc.Find(`[data-testid="start-slot"] form[data-testid="start-form"]`)
			token, ok := form.Find(`input[name="token"]`).Attr("value")
			if !ok {
				continue // the page could not show the configuration (upstream failure banner)
			}
			path := fmt.Sprintf("/configurations/%d/backups", cid)
			st, _, loc := do(http.MethodPost, path, url.Values{"token": {token}})
			if ctx.Err() != nil {
				// Cut off by the end of the run: the user never learnt the
				// outcome, so it cannot be checked either way.
				continue
			}
			s := soakStart{user: u, configID: cid}
			if m := backupPathRE.FindStringSubmatch(loc); st == http.StatusSeeOther && m != nil {
				s.backupID, _ = strconv.ParseInt(m[1], 10, 64)
			} else {
				// A failure must be said: the flash on the page it returns to.
				_, back, _ := do(http.MethodGet, loc, nil)
				if !strings.Contains(back, "The backup did not start.") && ctx.Err() == nil {
					log.problem("user %d: start of %d answered %d → %q without a message", u, cid, st, loc)
				}
				s.failed = fmt.Sprintf("%d → %s", st, loc)
			}
			log.mu.Lock()
			log.starts = append(log.starts, s)
			log.mu.Unlock()
		default: // stop something running
			_, page, _ := do(http.MethodGet, "/activity", nil)
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
			if err != nil {
				continue
			}
			var actions []string
			doc.Find(`form[data-testid="stop-form"]`).Each(func(_ int, f *goquery.Selection) {
				if a, ok := f.Attr("action"); ok && strings.HasPrefix(a, "/backups/") {
					actions = append(actions, a)
				}
			})
			if len(actions) == 0 {
				continue
			}
			if st, _, _ := do(http.MethodPost, actions[rng.IntN(len(actions))], url.Values{}); st > 0 && st < 500 {
				log.mu.Lock()
				log.stops++
				log.mu.Unlock()
			}
		}
	}
}
