package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/internal/logbuf"
)

// syncBuffer takes the output of the program under test while the test
// reads it.
type syncBuffer = logbuf.Buffer

var (
	listenRE   = regexp.MustCompile(`listening on (http://\S+)`)
	passwordRE = regexp.MustCompile(`password: (\S+)`)
)

// startRun runs the program in demo mode on a free port and returns its
// base URL, its stderr and a stop func that waits for a clean shutdown.
func startRun(t *testing.T, extra map[string]string) (base string, stderr *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	vars := map[string]string{
		"RCBU_WEB_ADDR":   "127.0.0.1:0",
		"RCBU_WEB_DB":     filepath.Join(t.TempDir(), "data", "web.db"),
		"RCBU_DEMO_SPEED": "50",
	}
	for k, v := range extra {
		vars[k] = v
	}
	stdout, errw := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env(vars), stdout, errw) }()
	deadline := time.After(60 * time.Second)
	for base == "" {
		if m := listenRE.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("run returned early: %v\nstderr:\n%s", err, errw.String())
		case <-deadline:
			cancel()
			t.Fatalf("no listening line after 60 s\nstdout:\n%s\nstderr:\n%s", stdout.String(), errw.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("run did not return within 30 s of cancellation")
			}
		})
	}
	t.Cleanup(stop)
	if !strings.Contains(stdout.String(), "Demo mode") && extra["RCBU_USERNAME"] == "" {
		t.Errorf("stdout does not mention demo mode:\n%s", stdout.String())
	}
	return base, errw, stop
}

func TestRunDemoEndToEnd(t *testing.T) {
	base, stderr, stop := startRun(t, nil)
	m := passwordRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("the first admin's password was not printed:\n%s", stderr.String())
	}
	password := m[1]
	if strings.Count(stderr.String(), password) != 1 {
		t.Error("the password appears more than once (logged?)")
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(path string) *goquery.Document {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		d, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	// Anonymous: the overview sends us to the login page.
	d := get("/")
	if d.Find(`[data-testid="login-form"]`).Length() != 1 {
		t.Fatal("/ did not lead to the login form")
	}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {"admin@example.com"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The printed password opens only the page that replaces it.
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/password/change" {
		t.Fatalf("login: %d at %s, want the forced change", resp.StatusCode, resp.Request.URL)
	}
	replacePrintedPassword(t, hc, base, password)

	d = get("/")
	if got := strings.TrimSpace(d.Find(`[data-testid="demo-banner"]`).Text()); !strings.HasPrefix(got, "Demo data from the built-in Cloud Backup simulator.") {
		t.Errorf("demo banner %q", got)
	}
	if got := d.Find(`[data-testid="account-switcher"] option[selected]`).Text(); got != "Demo account (demo)" {
		t.Errorf("switcher shows %q", got)
	}
	names := d.Find(`[data-testid="agent-name"]`)
	if names.Length() < 10 {
		t.Errorf("%d demo agents on the overview, want about 12", names.Length())
	}
	if d.Find(`[data-testid="error-banner"]`).Length() != 0 {
		t.Errorf("upstream error: %s", d.Find(`[data-testid="error-banner"]`).Text())
	}
	// The first page shows live status only for agents whose details are
	// cached (the rest arrive in a fragment); the no-JavaScript link waits
	// for every agent's live status before it renders.
	live := get("/?live=1")
	if online := live.Find(`[data-testid="status-badge"][data-tone="success"]`).Length(); online == 0 {
		t.Error("no agent is shown online with live status")
	}

	// Health, readiness and the health check flag against the live server.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	addr := strings.TrimPrefix(base, "http://")
	if err := run(t.Context(), []string{"-healthcheck"}, env(map[string]string{"RCBU_WEB_ADDR": addr}), io.Discard, io.Discard); err != nil {
		t.Errorf("-healthcheck: %v", err)
	}
	stop()
	if err := run(t.Context(), []string{"-healthcheck"}, env(map[string]string{"RCBU_WEB_ADDR": addr}), io.Discard, io.Discard); err == nil {
		t.Error("-healthcheck succeeded against a stopped server")
	}
}

// TestRunDemoRegionPorts runs the demo with each simulated region on its
// own loopback port: the console works with endpoints shaped like the real
// service's (http://127.0.0.1:PORT/v1.0/{tenant}).
func TestRunDemoRegionPorts(t *testing.T) {
	base, _, _ := startRun(t, map[string]string{"RCBU_DEMO_REGION_PORTS": "true", "RCBU_WEB_ADMIN_PASSWORD": "region ports admin password"})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {"admin@example.com"}, "password": {"region ports admin password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = hc.Get(base + "/agents")
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/agents: %d %v", resp.StatusCode, err)
	}
	if d.Find(`[data-testid="error-banner"]`).Length() != 0 {
		t.Errorf("upstream error: %s", d.Find(`[data-testid="error-banner"]`).Text())
	}
	// The demo's agents live in several regions: every one of them comes
	// from its region's own port.
	if n := d.Find(`[data-testid="agent-name"]`).Length(); n < 10 {
		t.Errorf("%d demo agents, want about 12", n)
	}
}

func TestRunKeepsTheDemoAccountAndAdminAcrossStarts(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "web.db")
	_, stderr, stop := startRun(t, map[string]string{"RCBU_WEB_DB": dbPath, "RCBU_WEB_ADMIN_PASSWORD": "configured admin password"})
	if strings.Contains(stderr.String(), "configured admin password") {
		t.Error("a configured password was printed")
	}
	stop()
	base, stderr2, _ := startRun(t, map[string]string{"RCBU_WEB_DB": dbPath})
	if strings.Contains(stderr2.String(), "First admin created") {
		t.Error("a second start created another admin")
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := hc.PostForm(base+"/login", url.Values{"email": {"admin@example.com"}, "password": {"configured admin password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		t.Fatalf("login after restart landed on %s", resp.Request.URL)
	}
	resp, err = hc.Get(base + "/admin/accounts")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if n := d.Find(`[data-testid="account-row"]`).Length(); n != 1 {
		t.Errorf("%d accounts after a restart, want the one demo account", n)
	}
}

func TestRunVersionAndBadConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-version"}, env(nil), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "rcbu-web ") {
		t.Errorf("-version: %q, %v", out.String(), err)
	}
	err := run(t.Context(), nil, env(map[string]string{"RCBU_DEMO_SPEED": "-1"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "RCBU_DEMO_SPEED") {
		t.Errorf("bad config: %v", err)
	}
	err = run(t.Context(), nil, env(map[string]string{"RCBU_WEB_DB": filepath.Join(t.TempDir(), "x.db"), "RCBU_WEB_ADDR": "256.0.0.1:1"}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "RCBU_WEB_ADDR") {
		t.Errorf("unusable address: %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Error("wrong error kind")
	}
}

// A PostgreSQL database that does not answer stops the start with an error
// that names RCBU_WEB_DB and the server, never the password.
func TestRunWithUnreachablePostgreSQL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	err = run(t.Context(), nil, env(map[string]string{
		"RCBU_WEB_DB":     "postgres://app:pw-secret@" + addr + "/rcbu?sslmode=disable",
		"RCBU_WEB_SECRET": strings.Repeat("s", 40),
	}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "RCBU_WEB_DB") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v; want one naming RCBU_WEB_DB and %s", err, addr)
	}
	if strings.Contains(err.Error(), "pw-secret") {
		t.Errorf("err = %v; repeats the password", err)
	}
}
