package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func TestOverviewListsAgents(t *testing.T) {
	te := newTestEnv(t)
	now := te.sim.Now()
	web := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", OS: "Ubuntu", OSVersion: "22.04", Datacenter: "DFW", Online: true, VaultBytes: 35<<20 + 300<<10})
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "db-01", OS: "Windows Server 2019", Datacenter: "LON", Online: false})
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "old-01", OS: "CentOS", Datacenter: "ORD", Disabled: true})
	te.clock.Advance(now.Add(3 * time.Hour).Sub(te.clock.Now())) // the console's clock, for relative times
	ck := te.loginRole(app.RoleObserver)
	// ?live=1 is the no-JavaScript way to the live status (see
	// TestOverviewLiveStatusFragment for the htmx way).
	rec := te.get("/?live=1", ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
	}
	d := doc(t, rec)
	if d.Find("title").Text() != "Overview · RCBU Console" {
		t.Errorf("title %q", d.Find("title").Text())
	}
	if got := strings.TrimSpace(testid(d, "demo-banner").Text()); got != "Demo data from the built-in Cloud Backup simulator. Connect a Rackspace account in Admin → Accounts." {
		t.Errorf("demo banner %q", got)
	}
	if testid(d, "nav").Find(`[data-nav="overview"][aria-current="page"]`).Length() != 1 {
		t.Error("Overview is not marked current")
	}
	if d.Find(`[data-nav="admin"]`).Length() != 0 {
		t.Error("an observer sees the Admin link")
	}
	rows := map[string][]string{}
	testid(d, "agent-row").Each(func(_ int, s *goquery.Selection) {
		var cells []string
		s.Find("td").Each(func(_ int, td *goquery.Selection) {
			cells = append(cells, strings.Join(strings.Fields(td.Text()), " "))
		})
		rows[strings.TrimSpace(s.Find(`[data-testid="agent-name"]`).Text())] = cells
	})
	// Status, last result, last success, next run, running jobs (OS and
	// datacenter are on the agents page; vault size and encryption are
	// under the name).
	want := map[string][]string{
		"web-01": {"Online", "No run yet", "Never", "Not scheduled", "—"},
		"db-01":  {"Offline", "No run yet", "Never", "Not scheduled", "—"},
		"old-01": {"Disabled", "No run yet", "Never", "Not scheduled", "—"},
	}
	for name, w := range want {
		got := rows[name]
		if strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("%s: %q, want %q", name, got, w)
		}
	}
	if row := d.Find(`[data-agent-id="` + itoa(web) + `"]`); row.Length() != 1 {
		t.Error("rows are not keyed by agent id")
	} else if got := strings.Join(strings.Fields(row.Find("th small").Text()), " "); got != "35.3 MB · Not encrypted" {
		t.Errorf("vault and encryption %q", got)
	}
}

func TestOverviewShowsUpstreamFailureInline(t *testing.T) {
	te := newTestEnv(t)
	ck := te.loginRole(app.RoleObserver)
	te.sim.FailNext(rcbusim.OpListAgents, http.StatusInternalServerError)
	rec := te.get("/", ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: an upstream failure must not fail the page", rec.Code)
	}
	d := doc(t, rec)
	banner := testid(d, "error-banner")
	if banner.Length() != 1 || !strings.Contains(banner.Text(), "Could not load the agents of Demo account") {
		t.Fatalf("banner %q", banner.Text())
	}
	if banner.Find(`[data-testid="retry"]`).AttrOr("href", "") != "/" {
		t.Error("no Retry link")
	}
	if testid(d, "site-header").Length() != 1 {
		t.Error("the layout is missing")
	}
	// The next request works again.
	if testid(doc(t, te.get("/", ck)), "error-banner").Length() != 0 {
		t.Error("the failure stuck")
	}
}

func TestNotFoundPageKeepsTheLayout(t *testing.T) {
	te := newTestEnv(t)
	ck := te.loginRole(app.RoleAdmin)
	rec := te.get("/agents/nope/nothing", ck)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d", rec.Code)
	}
	d := doc(t, rec)
	if testid(d, "error-page").AttrOr("data-status", "") != "404" || testid(d, "nav").Length() != 1 || testid(d, "user-menu").Length() != 1 {
		t.Error("the 404 page lost the layout")
	}
	if d.Find("title").Text() != "Page not found · RCBU Console" {
		t.Errorf("title %q", d.Find("title").Text())
	}
	// Anonymous visitors get the 404 too (no redirect for unknown paths).
	if rec := te.get("/definitely/not/here", nil); rec.Code != http.StatusNotFound {
		t.Errorf("anonymous: %d", rec.Code)
	}
	if rec := te.do(req{method: http.MethodDelete, path: "/profile", cookie: ck}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /profile: %d", rec.Code)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	te, deps := buildTestEnv(t, envOptions{})
	if rec := te.get("/healthz", nil); rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("healthz: %d %q", rec.Code, rec.Body.String())
	}
	release, err := deps.Leases.Hold(t.Context(), "sync:7")
	if err != nil {
		t.Fatal(err)
	}
	rec := te.get("/readyz", nil)
	var ready readyStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
		t.Fatalf("readyz: %d %s: %v", rec.Code, rec.Body.String(), err)
	}
	if rec.Code != http.StatusOK || !slices.Equal(ready.Leases, []string{"sync:7"}) {
		t.Fatalf("readyz holding one lease: %d %s", rec.Code, rec.Body.String())
	}
	release()
	te.sim.FailNext(rcbusim.OpAuth, http.StatusUnauthorized)
	te.accounts.Invalidate(te.demo.ID)
	rec = te.get("/readyz", nil)
	var body readyStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || body.Status != "unavailable" || !strings.HasPrefix(body.Reason, "upstream: ") {
		t.Errorf("readyz with failing identity: %d %+v", rec.Code, body)
	}
	te.store.Close()
	rec = te.get("/readyz", nil)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "database") {
		t.Errorf("readyz without a database: %d %s", rec.Code, rec.Body.String())
	}
}

func TestStaticFiles(t *testing.T) {
	te := newTestEnv(t)
	d := doc(t, te.get("/login", nil))
	for _, sel := range []string{`link[rel="stylesheet"]`, `script[src]`} {
		d.Find(sel).Each(func(_ int, s *goquery.Selection) {
			u := s.AttrOr("href", s.AttrOr("src", ""))
			rec := te.get(u, nil)
			if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
				t.Errorf("%s: %d", u, rec.Code)
			}
			if !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
				t.Errorf("%s: Cache-Control %q", u, rec.Header().Get("Cache-Control"))
			}
		})
	}
	for _, p := range []string{"/static/", "/static/vendor/", "/static/nope.js", "/static/../go.mod"} {
		if rec := te.get(p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	rec := te.do(req{path: "/static/vendor/pico.min.css", headers: map[string]string{"Accept-Encoding": "gzip"}})
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Error("CSS is not compressed")
	}
}

func itoa(n int64) string { return app.AccountID(n).String() }
