package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// syncReports stores the demo account's finished reports, as the
// background sync does.
func (te *testEnv) syncReports() {
	te.t.Helper()
	if _, err := app.NewSyncer(te.history, te.accounts, app.SyncOptions{}).SyncAccount(context.Background(), te.demo.ID); err != nil {
		te.t.Fatal(err)
	}
}

func startBackup(te *opsEnv, cfg int64, ck *http.Cookie) {
	te.t.Helper()
	if rec := te.post("/configurations/"+i64(cfg)+"/backups", url.Values{"token": {app.NewStartToken()}}, ck); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/backups/") {
		te.t.Fatalf("start %d: %d", cfg, rec.Code)
	}
}

func attentionKinds(d *goquery.Document) []string {
	var out []string
	testid(d, "attention-row").Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("data-kind", "")+":"+strings.TrimSpace(s.Find(`[data-testid="attention-configuration"]`).Text()))
	})
	return out
}

// TestNeedsAttention: each problem is one row, worst first, with its cause
// in words and the action that fixes it; the counts link to exactly what
// they count; with nothing wrong the page says so.
func TestNeedsAttention(t *testing.T) {
	te := newOpsEnv(t)
	web, webCfg := seedAgent(t, te.testEnv, "web-01", "web files")
	db, dbCfg := seedAgent(t, te.testEnv, "db-01", "db dump")
	_, mailCfg := seedAgent(t, te.testEnv, "mail-01", "mail spool")
	creator := te.loginRole(app.RoleCreator)

	// Everything succeeds once: nothing needs attention.
	for _, c := range []int64{webCfg, dbCfg, mailCfg} {
		te.sim.SetNextOutcome(c, rcbusim.StateCompleted)
		startBackup(te, c, creator)
	}
	te.advance(time.Hour)
	te.syncReports()
	d := doc(t, te.get("/?live=1", creator))
	if got := strings.Join(strings.Fields(testid(d, "all-good").Text()), " "); !strings.HasPrefix(got, "All 3 configurations backed up within their schedule.") || !strings.Contains(got, "Checked") {
		t.Errorf("all good %q", got)
	}
	for key, href := range map[string]string{
		"running": "/activity?state=running", "failed": "/activity?state=failed&since=24h",
		"overdue": "/configurations?overdue=1", "offline": "/agents?status=offline",
	} {
		if got := testid(d, "count-"+key).Find("a").AttrOr("href", ""); got != href {
			t.Errorf("count %s links to %q, want %q", key, got, href)
		}
	}

	// db dump fails, mail spool completes with errors; web-01 goes offline
	// and stays away for two days, so web files is overdue.
	te.sim.SetNextOutcome(dbCfg, rcbusim.StateFailed)
	startBackup(te, dbCfg, creator)
	te.sim.SetAgentOnline(web, false)
	te.advance(36 * time.Hour)
	creator = te.loginRole(app.RoleCreator) // the session has idled out meanwhile
	te.sim.SetNextOutcome(dbCfg, rcbusim.StateFailed)
	startBackup(te, dbCfg, creator)
	te.advance(time.Hour)
	te.sim.SetNextOutcome(dbCfg, rcbusim.StateFailed)
	te.sim.SetNextOutcome(mailCfg, rcbusim.StateCompletedWithErrors)
	startBackup(te, dbCfg, creator)
	startBackup(te, mailCfg, creator)
	te.advance(time.Hour)
	te.syncReports()
	if _, err := te.store.TrackOffline(context.Background(), te.demo.ID, []rcbu.AgentID{rcbu.AgentID(web)}, nil, te.clock.Now().Add(-30*time.Hour)); err != nil {
		t.Fatal(err)
	}
	creator = te.loginRole(app.RoleCreator)
	d = doc(t, te.get("/?live=1", creator))
	if testid(d, "all-good").Length() != 0 {
		t.Error("all good while backups fail")
	}
	got := attentionKinds(d)
	want := []string{"failed:db dump", "overdue:web files", "offline:", "warning:mail spool"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("attention %q, want %q", got, want)
	}
	rows := testid(d, "attention-row")
	failed := rows.Eq(0)
	if cause := strings.Join(strings.Fields(failed.Find(`[data-testid="attention-cause"]`).Text()), " "); !strings.HasPrefix(cause, "Last run failed") {
		t.Errorf("failed cause %q", cause)
	}
	if failed.Find(`[data-testid="attention-error"]`).Text() == "" {
		t.Error("the failed run shows no error line")
	}
	if !strings.Contains(failed.Text(), "and 1 more problem run in 24 h") {
		t.Errorf("the earlier failure is not counted: %q", failed.Text())
	}
	report := failed.Find(`[data-testid="attention-report"]`).AttrOr("href", "")
	if !strings.HasPrefix(report, "/reports/backup/") {
		t.Errorf("View report %q", report)
	}
	if f := failed.Find(`[data-testid="attention-run-again"]`); f.AttrOr("method", "") != "post" || f.AttrOr("action", "") != "/agents/"+i64(db)+"/backups" ||
		f.Find(`input[name="configuration"]`).AttrOr("value", "") != i64(dbCfg) {
		t.Errorf("Run again form %v", f.Nodes)
	}
	overdue := rows.Eq(1)
	if cause := overdue.Find(`[data-testid="attention-cause"]`).Text(); !strings.Contains(cause, "Agent offline since") {
		t.Errorf("overdue cause %q", cause)
	}
	if overdue.Find(`[data-testid="attention-run-again"]`).Length() != 0 || overdue.Find(`[data-testid="attention-wake"]`).Length() != 1 {
		t.Error("an overdue configuration of an offline agent offers Run again instead of Wake")
	}
	offline := rows.Eq(2)
	if cause := offline.Find(`[data-testid="attention-cause"]`).Text(); !strings.Contains(cause, "Offline for 1 d") && !strings.Contains(cause, "Offline for 30 h") {
		t.Errorf("offline cause %q", cause)
	}
	if w := offline.Find(`form`); w.AttrOr("action", "") != "/agents/"+i64(web)+"/wake" || w.AttrOr("method", "") != "post" {
		t.Errorf("Wake form %v", w.Nodes)
	}
	if cause := rows.Eq(3).Find(`[data-testid="attention-cause"]`).Text(); !strings.Contains(cause, "completed with errors") {
		t.Errorf("warning cause %q", cause)
	}
	// Problems first in the table: db-01 (failed) before mail-01, web-01 listed before healthy ones.
	var order []string
	testid(d, "agent-row").Each(func(_ int, s *goquery.Selection) {
		order = append(order, strings.TrimSpace(s.Find(`[data-testid="agent-name"]`).Text()))
	})
	if len(order) != 3 || order[0] != "db-01" || order[1] != "web-01" || order[2] != "mail-01" {
		t.Errorf("table order %q", order)
	}
	// db-01's last result is Failed even though it once succeeded.
	dbRow := d.Find(`[data-testid="agent-row"][data-agent-id="` + i64(db) + `"]`)
	if got := dbRow.Find(`[data-testid="agent-last-result"] [data-testid="status-badge"]`).AttrOr("data-tone", ""); got != "danger" {
		t.Errorf("db-01 last result tone %q", got)
	}

	// An observer sees the problems but no action that changes anything.
	d = doc(t, te.get("/?live=1", te.loginRole(app.RoleObserver)))
	if testid(d, "attention-row").Length() != 4 || testid(d, "attention-run-again").Length() != 0 || testid(d, "attention-wake").Length() != 0 {
		t.Error("an observer is offered Run again or Wake")
	}
	if testid(d, "attention-report").Length() == 0 {
		t.Error("an observer cannot open the report")
	}
}

// TestOverviewShowsNewSnapshotsAtOnce: the overview reads the latest
// stored runs once per generation of the snapshots, and every write (here a
// sync) starts a new one: a run synced while the API lists are still
// cached is the agent's last result on the very next load.
func TestOverviewShowsNewSnapshotsAtOnce(t *testing.T) {
	te := newOpsEnv(t)
	agent, cfg := seedAgent(t, te.testEnv, "web-01", "web files")
	creator := te.loginRole(app.RoleCreator)
	lastResult := func() string {
		t.Helper()
		d := doc(t, te.get("/", creator))
		row := d.Find(`[data-testid="agent-row"][data-agent-id="` + i64(agent) + `"]`)
		return row.Find(`[data-testid="agent-last-result"] [data-testid="status-badge"]`).AttrOr("data-tone", "")
	}
	te.sim.SetNextOutcome(cfg, rcbusim.StateCompleted)
	startBackup(te, cfg, creator)
	te.advance(time.Hour)
	te.syncReports()
	if got := lastResult(); got != "success" {
		t.Fatalf("last result tone %q after a success", got)
	}
	// The next run fails on the API's clock alone: the console's lists stay
	// cached (its clock stands still), so only the stored reports know.
	te.sim.SetNextOutcome(cfg, rcbusim.StateFailed)
	startBackup(te, cfg, creator)
	if got := lastResult(); got != "success" {
		t.Fatalf("last result tone %q while the run is not synced", got)
	}
	te.sim.Advance(time.Hour)
	te.syncReports()
	if got := lastResult(); got != "danger" {
		t.Errorf("last result tone %q after the failed run was synced, want danger", got)
	}
}

// TestOverviewFiltersAndPages: the agents table pages by 50 with its
// filters in the URL; values that are not understood are noted and
// ignored; a page that does not parse is the first.
func TestOverviewFiltersAndPages(t *testing.T) {
	te := newOpsEnv(t)
	for i := range 120 {
		dc := "DFW"
		if i%4 == 0 {
			dc = "LON"
		}
		te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: fmt.Sprintf("host-%03d", i), Online: i%10 != 0, Datacenter: dc})
	}
	ck := te.loginRole(app.RoleObserver)
	names := func(d *goquery.Document) []string {
		var out []string
		testid(d, "agent-row").Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.TrimSpace(s.Find(`[data-testid="agent-name"]`).Text()))
		})
		return out
	}
	tests := []struct {
		name    string
		query   string
		rows    int
		first   string
		next    string
		summary string
		note    string
	}{
		{"first page", "/?live=1", 50, "host-000", "/?page=2", "1–50 of 120 agents · page 1 of 3", ""},
		{"last page", "/?live=1&page=3", 20, "host-119", "", "101–120 of 120 agents · page 3 of 3", ""},
		{"page past the end is the last", "/?live=1&page=99", 20, "host-119", "", "101–120 of 120 agents · page 3 of 3", ""},
		{"page that does not parse is the first", "/?live=1&page=x%27", 50, "host-000", "/?page=2", "1–50 of 120 agents · page 1 of 3", ""},
		{"offline", "/?live=1&status=offline", 12, "host-000", "", "1–12 of 12 agents", ""},
		{"region", "/?live=1&region=lon", 30, "host-000", "", "1–30 of 30 agents", ""},
		{"search", "/?live=1&q=host-11", 10, "host-110", "", "1–10 of 10 agents", ""},
		{"filters survive paging", "/?live=1&region=DFW", 50, "host-001", "/?page=2&region=DFW", "1–50 of 90 agents · page 1 of 2", ""},
		{"unknown status is noted and ignored", "/?live=1&status=sideways", 50, "host-000", "/?page=2", "1–50 of 120 agents · page 1 of 3", "The status filter was not understood and is ignored."},
		{"bad region is noted and ignored", "/?live=1&region=%3Cscript%3E", 50, "host-000", "/?page=2", "1–50 of 120 agents · page 1 of 3", "The region filter was not understood and is ignored."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := te.get(tt.query, ck)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			d := doc(t, rec)
			got := names(d)
			// Offline agents are problems and come first; the rest by name.
			if len(got) != tt.rows || (len(got) > 0 && !strings.HasPrefix(got[0], "host-")) {
				t.Fatalf("rows %d (%q…), want %d", len(got), got[:min(3, len(got))], tt.rows)
			}
			if tt.first != "" && !contains(got, tt.first) {
				t.Errorf("%s not on the page", tt.first)
			}
			if href := testid(d, "next-page").AttrOr("href", ""); href != tt.next {
				t.Errorf("next %q, want %q", href, tt.next)
			}
			if s := strings.Join(strings.Fields(testid(d, "page-summary").Text()), " "); s != tt.summary {
				t.Errorf("summary %q, want %q", s, tt.summary)
			}
			if n := strings.TrimSpace(testid(d, "filter-note").Text()); n != tt.note {
				t.Errorf("note %q, want %q", n, tt.note)
			}
		})
	}
	// Offline agents (problems) lead the first page.
	d := doc(t, te.get("/?live=1", ck))
	if got := names(d); got[0] != "host-000" || got[1] != "host-010" {
		t.Errorf("problems are not first: %q", got[:3])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOverviewStaleWhileRevalidate: past the TTL but within a minute the
// page is served from the cache at once, says how old its data is, and one
// background refresh replaces it; a change made through the console is
// never hidden behind the stale data.
func TestOverviewStaleWhileRevalidate(t *testing.T) {
	var lists atomic.Int64
	te, deps := buildTestEnv(t, envOptions{
		wrapSim: func(sim http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/user/agents") {
					lists.Add(1)
				}
				sim.ServeHTTP(w, r)
			})
		},
		fleetMaxStale: time.Minute,
	})
	fleet := deps.Fleet
	web := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true})
	ck := te.loginRole(app.RoleObserver)
	d := doc(t, te.get("/", ck))
	perPage := lists.Load() // one agents list per region
	if testid(d, "agent-row").Length() != 1 || perPage == 0 {
		t.Fatalf("rows %d, list calls %d", testid(d, "agent-row").Length(), perPage)
	}
	if !strings.HasPrefix(strings.TrimSpace(testid(d, "as-of").Text()), "Checked") {
		t.Errorf("fresh data: %q", testid(d, "as-of").Text())
	}

	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "db-01", Online: true})
	te.clock.Advance(20 * time.Second)
	d = doc(t, te.get("/", ck))
	if testid(d, "agent-row").Length() != 1 {
		t.Error("the stale page waited for the new list")
	}
	if got := strings.Join(strings.Fields(testid(d, "as-of").Text()), " "); got != "Data as of 20 s ago, refreshing." {
		t.Errorf("as of %q", got)
	}
	// The simulator counts a list call when it arrives, before the refresh
	// has stored its answer: wait for the page itself to show the new agent.
	// Pages served while the refresh runs must not start another one.
	poll.Until(t, "the page to show the new agent", func() bool {
		d = doc(t, te.get("/", ck))
		return testid(d, "agent-row").Length() == 2
	})
	if lists.Load() != 2*perPage {
		t.Errorf("after the refresh: list calls %d, want %d (one background refresh)", lists.Load(), 2*perPage)
	}

	// Past a minute the page waits for the API.
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "mail-01", Online: true})
	te.clock.Advance(2 * time.Minute)
	if d = doc(t, te.get("/", ck)); testid(d, "agent-row").Length() != 3 {
		t.Errorf("data over a minute old was served: %d rows", testid(d, "agent-row").Length())
	}
	// A change made through the console drops what is cached.
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "dns-01", Online: true})
	te.clock.Advance(20 * time.Second)
	fleet.Invalidate(te.demo.ID)
	if d = doc(t, te.get("/", ck)); testid(d, "agent-row").Length() != 4 {
		t.Errorf("invalidated data was served: %d rows", testid(d, "agent-row").Length())
	}
	_ = web
}

// TestOfflineAgentNeedsAttentionFromTheAPI: an agent the API reports
// offline is in Needs attention, with Wake, as soon as the console reads
// it, when its last successful backup is older than the alert threshold
// or it has none; the alert rules need not have seen it first.
func TestOfflineAgentNeedsAttentionFromTheAPI(t *testing.T) {
	te := newOpsEnv(t)
	web, webCfg := seedAgent(t, te.testEnv, "web-01", "web files")
	te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "new-01", Online: false, Datacenter: "DFW"})
	creator := te.loginRole(app.RoleCreator)
	te.sim.SetNextOutcome(webCfg, rcbusim.StateCompleted)
	startBackup(te, webCfg, creator)
	te.advance(time.Hour)
	te.sim.SetAgentOnline(web, false)
	te.advance(30 * time.Hour)
	te.syncReports()
	creator = te.loginRole(app.RoleCreator) // the session has idled out meanwhile
	d := doc(t, te.get("/?live=1", creator))
	causes := map[string]string{}
	testid(d, "attention-row").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("data-kind", "") != "offline" {
			return
		}
		agent := strings.TrimSpace(s.Find(`[data-testid="attention-agent"]`).Text())
		causes[agent] = strings.Join(strings.Fields(s.Find(`[data-testid="attention-cause"]`).Text()), " ")
		if w := s.Find(`[data-testid="attention-wake"]`); w.Length() != 1 {
			t.Errorf("%s offers no Wake", agent)
		}
	})
	if c := causes["web-01"]; !strings.HasPrefix(c, "Offline; its last successful backup was 30 h ago, longer than the alert threshold of 24 h") || !strings.Contains(c, "Last success") {
		t.Errorf("web-01: cause %q", c)
	}
	if c := causes["new-01"]; !strings.HasPrefix(c, "Offline, with no successful backup on record") {
		t.Errorf("new-01: cause %q", c)
	}
	if got := testid(d, "count-offline").AttrOr("data-count", ""); got != "2" {
		t.Errorf("offline count %q", got)
	}
}

// TestOverdueWaitsForTheFirstSync: while the first report sync has not
// stored a configuration's last run, whether it is overdue is not known:
// the overview says so instead of calling it "never succeeded"; once the
// sync has stored the run, the verdict shows.
func TestOverdueWaitsForTheFirstSync(t *testing.T) {
	te := newOpsEnv(t)
	web, cfg := seedAgent(t, te.testEnv, "web-01", "web files")
	creator := te.loginRole(app.RoleCreator)
	// Its one run fails, then its agent is away and the scheduled runs are
	// missed: it has never succeeded.
	te.sim.SetNextOutcome(cfg, rcbusim.StateFailed)
	startBackup(te, cfg, creator)
	te.advance(time.Hour)
	te.sim.SetAgentOnline(web, false)
	te.advance(40 * time.Hour)
	creator = te.loginRole(app.RoleCreator) // the session has idled out meanwhile
	d := doc(t, te.get("/?live=1", creator))
	if kinds := attentionKinds(d); len(kinds) != 0 && strings.Contains(strings.Join(kinds, " "), "overdue") {
		t.Errorf("overdue before its runs are stored: %q", kinds)
	}
	if note := testid(d, "history-pending").Text(); !strings.Contains(note, "whether 1 configuration is overdue shows once their last runs are stored") {
		t.Errorf("history note %q", note)
	}
	if got := testid(d, "count-overdue").AttrOr("data-count", ""); got != "0" {
		t.Errorf("overdue count %q before the sync", got)
	}
	te.syncReports()
	d = doc(t, te.get("/?live=1", creator))
	if testid(d, "history-pending").Length() != 0 {
		t.Error("the history note stays after the sync")
	}
	if got := testid(d, "count-overdue").AttrOr("data-count", ""); got != "1" {
		t.Errorf("overdue count %q after the sync", got)
	}
}

// TestOverviewRunningFragment: with the activity not cached the page
// leaves the Running column to a fragment, which fills it and polls while
// a job runs, and stops polling once nothing does.
func TestOverviewRunningFragment(t *testing.T) {
	te := newOpsEnv(t)
	web, cfg := seedAgent(t, te.testEnv, "web-01", "web files")
	creator := te.loginRole(app.RoleCreator)
	startBackup(te, cfg, creator)
	te.fleet.Invalidate(te.demo.ID)
	d := doc(t, te.get("/", creator))
	key := te.demo.ID.String() + "-" + i64(web)
	if got := testid(d, "count-running").Find(".count-number").Text(); got != "…" {
		t.Errorf("running count before the fragment %q", got)
	}
	loader := testid(d, "running-loader")
	href := loader.AttrOr("hx-get", "")
	if href != "/overview/running?agents="+url.QueryEscape(key) || !strings.Contains(loader.AttrOr("hx-trigger", ""), "load") {
		t.Fatalf("running loader %q %q", href, loader.AttrOr("hx-trigger", ""))
	}
	rec := te.htmx(http.MethodGet, href, nil, creator)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `id="agent-running-`+key+`"`) || !strings.Contains(body, `data-testid="job-chip"`) {
		t.Fatalf("fragment %d:\n%s", rec.Code, body)
	}
	frag := doc(t, rec)
	if c := testid(frag, "count-running"); c.AttrOr("data-count", "") != "1" || c.AttrOr("hx-swap-oob", "") != "true" {
		t.Errorf("running count %q", c.AttrOr("data-count", ""))
	}
	if l := testid(frag, "running-loader"); !strings.Contains(l.AttrOr("hx-trigger", ""), "every 5s") {
		t.Error("the fragment does not poll while a job runs")
	}
	// The job ends: the fragment says so and stops polling.
	te.advance(time.Hour)
	frag = doc(t, te.htmx(http.MethodGet, href, nil, creator))
	if l := testid(frag, "running-loader"); strings.Contains(l.AttrOr("hx-trigger", ""), "every") || l.AttrOr("data-polling", "") != "false" {
		t.Error("the fragment still polls with nothing running")
	}
	if testid(frag, "count-running").AttrOr("data-count", "") != "0" {
		t.Error("running count after the job")
	}
	// Without htmx it is the running jobs' page.
	if rec := te.get(href, creator); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/activity?state=running" {
		t.Errorf("without htmx: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// TestOverviewHeatmap: the heatmap is not on the first paint; it loads
// lazily for the agents shown (a link without JavaScript), and its picture
// holds no links: the days with problems are links beneath it.
func TestOverviewHeatmap(t *testing.T) {
	te := newOpsEnv(t)
	_, cfg := seedAgent(t, te.testEnv, "web-01", "web files")
	creator := te.loginRole(app.RoleCreator)
	te.sim.SetNextOutcome(cfg, rcbusim.StateFailed)
	startBackup(te, cfg, creator)
	te.advance(time.Hour)
	te.syncReports()
	d := doc(t, te.get("/", creator))
	if d.Find("svg.heatmap-svg").Length() != 0 {
		t.Error("the heatmap is on the first paint")
	}
	link := testid(d, "heatmap-link").AttrOr("href", "")
	if !strings.HasPrefix(link, "/overview/heatmap?agents=") || testid(d, "heatmap-loader").AttrOr("hx-get", "") != link {
		t.Fatalf("heatmap loader %q", link)
	}
	for _, htmx := range []bool{true, false} {
		var rec = te.get(link, creator)
		if htmx {
			rec = te.htmx(http.MethodGet, link, nil, creator)
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("heatmap %d", rec.Code)
		}
		h := doc(t, rec)
		if h.Find("svg.heatmap-svg").Length() != 1 || h.Find("svg.heatmap-svg a").Length() != 0 {
			t.Error("heatmap picture missing, or with links inside")
		}
		if testid(h, "heatmap-row").Length() != 1 {
			t.Errorf("heatmap rows %d", testid(h, "heatmap-row").Length())
		}
		days := testid(h, "heatmap-problem-days").Find("a")
		if days.Length() != 1 || !strings.HasPrefix(days.AttrOr("href", ""), "/reports?") {
			t.Errorf("problem days %d", days.Length())
		}
		if full := h.Find("title").Length() > 0 && h.Find("nav").Length() > 0; full == htmx {
			t.Errorf("htmx %v: full page %v", htmx, full)
		}
	}
	// Keys that do not parse, or of another account, are ignored.
	if rec := te.htmx(http.MethodGet, "/overview/heatmap?agents=x-1,999-1,%3C", nil, creator); rec.Code != http.StatusOK {
		t.Errorf("bad keys: %d", rec.Code)
	}
}

// TestOverviewSizeAt200Agents: at 200 agents with 1,000 configurations the
// page stays under 150 KB raw and 25 KB gzipped, and the same page at 600
// agents is no larger than that bound either (it holds one page of agents).
func TestOverviewSizeAt200Agents(t *testing.T) {
	for _, agents := range []int{200, 600} {
		t.Run(fmt.Sprint(agents), func(t *testing.T) {
			te := newOpsEnv(t, rcbusim.WithScale(agents, 5, 0))
			ck := te.loginRole(app.RoleCreator)
			te.get("/?live=1", ck) // warm every cache, as a user's second visit
			rec := te.get("/", ck)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			raw := rec.Body.Len()
			var gz bytes.Buffer
			w := gzip.NewWriter(&gz)
			_, _ = w.Write(rec.Body.Bytes())
			_ = w.Close()
			t.Logf("%d agents: %d bytes raw, %d gzipped", agents, raw, gz.Len())
			if raw > 150<<10 || gz.Len() > 25<<10 {
				t.Errorf("%d agents: %d bytes raw, %d gzipped; want ≤ 150 KB and ≤ 25 KB", agents, raw, gz.Len())
			}
		})
	}
}
