package main

import (
	"database/sql"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/pgtest"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// leaked are what must never reach a page: a stack trace, a driver's or
// the network's own words.
var leaked = []string{"goroutine ", ".go:", "panic", "pgx", "pgconn", "SQLSTATE", "dial tcp", "connection refused", "database unavailable:", "unexpected EOF"}

// A console on PostgreSQL whose database goes away while people use it:
// the signed-in pages that need only Cloud Backup still render (with a
// banner saying the database is not answering), those that need the
// database answer 503 in words, a Start is refused whole (no job in the
// simulator), and once the database is back everything works again with
// nothing recorded twice or lost.
func TestDatabaseGoesAwayAndComesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the console on PostgreSQL and takes the database away and back")
	}
	direct, _ := pgtest.Schema(t)
	dsn, proxy := pgtest.Behind(t, direct)

	sim := rcbusim.New(rcbusim.WithDataset("demo"))
	t.Cleanup(func() { _ = sim.Close() })
	agent := sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "away-web-01", Online: true, Datacenter: "DFW"})
	cfg, err := sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "away manual", Inclusions: []string{"/etc"}})
	if err != nil {
		t.Fatal(err)
	}
	early, err := sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "away early", Inclusions: []string{"/srv"}})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	const email, password = "admin@example.com", "a password long enough"
	base, _, _ := startRun(t, map[string]string{
		"RCBU_WEB_DB":             dsn,
		"RCBU_WEB_SECRET":         strings.Repeat("s", 40),
		"RCBU_USERNAME":           rcbusim.DemoUser,
		"RCBU_API_KEY":            rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL":       simSrv.URL + "/v2.0/tokens",
		"RCBU_WEB_ADMIN_EMAIL":    email,
		"RCBU_WEB_ADMIN_PASSWORD": password,
	})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	start := func(cfg int64) (int, string, string) {
		t.Helper()
		form := url.Values{"token": {app.NewStartToken()}}
		resp, err := hc.PostForm(base+"/configurations/"+strconv.FormatInt(cfg, 10)+"/backups", form)
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b), resp.Request.URL.Path
	}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		t.Fatalf("sign in landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	agentPath := "/agents/" + strconv.FormatInt(agent, 10)
	// The pages that need only Cloud Backup, each with what shows it read it.
	shows := map[string]string{"/agents": "away-web-01", agentPath: "away-web-01", "/configurations/" + strconv.FormatInt(cfg, 10): "away manual", "/activity": `data-testid="activity-row"`}
	// A backup started while the database answers, for its page.
	code, _, jobPath := start(early)
	if code != http.StatusOK || !strings.HasPrefix(jobPath, "/backups/") {
		t.Fatalf("Start with the database up: %d at %s", code, jobPath)
	}
	shows[jobPath] = "away early"
	upstreamOnly := slices.Sorted(maps.Keys(shows))
	for _, p := range upstreamOnly {
		if code, body := get(p); code != http.StatusOK || strings.Contains(body, `data-testid="store-away-banner"`) {
			t.Fatalf("GET %s with the database up: %d, banner %v", p, code, strings.Contains(body, "store-away-banner"))
		}
	}
	backupsBefore := len(sim.Backups())

	proxy.Down()
	for _, p := range upstreamOnly {
		code, body := get(p)
		if code != http.StatusOK || !strings.Contains(body, `data-testid="store-away-banner"`) || !strings.Contains(body, "away-") {
			t.Errorf("GET %s with the database away: %d, banner %v, agent shown %v; want 200 with the banner and the agent",
				p, code, strings.Contains(body, "store-away-banner"), strings.Contains(body, "away-web-01"))
		}
		wantNoLeak(t, p, body)
	}
	for _, p := range []string{"/reports", "/admin/audit"} {
		code, body := get(p)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "The database is not answering") {
			t.Errorf("GET %s with the database away: %d; want 503 saying the database is not answering", p, code)
		}
		wantNoLeak(t, p, body)
	}
	// Nobody can sign in meanwhile: that too is refused in words.
	other := &http.Client{Timeout: 30 * time.Second}
	resp, err = other.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(page), "The database is not answering") {
		t.Errorf("sign-in with the database away: %d, %v; want 503 saying the database is not answering", resp.StatusCode, err)
	}
	wantNoLeak(t, "sign-in", string(page))
	code, body, _ := start(cfg)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "nothing was changed") {
		t.Errorf("Start with the database away: %d; want 503 saying nothing was changed", code)
	}
	wantNoLeak(t, "Start", body)
	if n := len(sim.Backups()); n != backupsBefore {
		t.Errorf("the simulator has %d backups after a refused Start; want %d", n, backupsBefore)
	}

	proxy.Up(t)
	poll.Until(t, "the pages to work without the banner once the database is back", func() bool {
		code, body := get("/agents")
		return code == http.StatusOK && !strings.Contains(body, "store-away-banner")
	})
	for _, p := range append([]string{"/reports", "/admin/audit"}, upstreamOnly...) {
		if code, _ := get(p); code != http.StatusOK {
			t.Errorf("GET %s once the database is back: %d; want 200", p, code)
		}
	}
	if code, body, _ := start(cfg); code != http.StatusOK || strings.Contains(body, "store-away-banner") {
		t.Errorf("Start once the database is back: %d; want 200 (the backup's page)", code)
	}
	if n := len(sim.Backups()); n != backupsBefore+1 {
		t.Errorf("the simulator has %d backups after the Start; want %d", n, backupsBefore+1)
	}

	// The audit log: the sign-in once and the two Starts that ran, nothing
	// of the one refused.
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	counts := map[string]int{}
	rows, err := admin.Query(`SELECT action, outcome FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var action, outcome string
		if err := rows.Scan(&action, &outcome); err != nil {
			t.Fatal(err)
		}
		counts[action+" "+outcome]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for want, n := range map[string]int{string(app.ActionLogin) + " ok": 1, string(app.ActionBackupStart) + " ok": 2} {
		if counts[want] != n {
			t.Errorf("audit log has %q %d times; want %d (all: %v)", want, counts[want], n, counts)
		}
	}
	if counts[string(app.ActionBackupStart)+" failed"] != 0 {
		t.Errorf("audit log records a failed Start: %v", counts)
	}
}

func wantNoLeak(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range leaked {
		if strings.Contains(body, s) {
			t.Errorf("%s: the page shows %q", what, s)
		}
	}
}
