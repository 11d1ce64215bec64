package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func rowIDs(d *goquery.Document, testID, attr string) []string {
	var out []string
	testid(d, testID).Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr(attr, "")) })
	return out
}

// TestActivityFilters: the overview's counts link to /activity filtered to
// exactly what they count; the finished jobs page by 50; values that are
// not understood are noted and ignored.
func TestActivityFilters(t *testing.T) {
	te := newOpsEnv(t)
	// Manual schedules: the only runs are the ones started here.
	manual := func(agent, name string) int64 {
		id := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: agent, Online: true, Datacenter: "DFW"})
		cfg, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: id, Name: name, Inclusions: []string{"/srv"}})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	ok, bad := manual("web-01", "web files"), manual("db-01", "db dump")
	creator := te.loginRole(app.RoleCreator)
	// Two days ago: a failure; today: 55 successes, one failure, one
	// completed with errors, and one backup still running.
	te.sim.SetNextOutcome(bad, rcbusim.StateFailed)
	startBackup(te, bad, creator)
	te.advance(48 * time.Hour)
	creator = te.loginRole(app.RoleCreator)
	for range 55 {
		te.sim.SetNextOutcome(ok, rcbusim.StateCompleted)
		startBackup(te, ok, creator)
		te.advance(2 * time.Minute)
	}
	te.sim.SetNextOutcome(bad, rcbusim.StateFailed)
	startBackup(te, bad, creator)
	te.advance(time.Hour)
	te.sim.SetNextOutcome(bad, rcbusim.StateCompletedWithErrors)
	startBackup(te, bad, creator)
	te.advance(time.Hour)
	startBackup(te, ok, creator)
	te.syncReports()

	// The overview's failed count is what the filtered page lists.
	d := doc(t, te.get("/?live=1", creator))
	failedHref := testid(d, "count-failed").Find("a").AttrOr("href", "")
	failedCount := testid(d, "count-failed").AttrOr("data-count", "")
	d = doc(t, te.get(failedHref, creator))
	if n := testid(d, "activity-row").Length(); fmt.Sprint(n) != failedCount || n != 1 {
		t.Errorf("%s lists %d jobs, the overview counts %s", failedHref, n, failedCount)
	}
	if testid(d, "running-table").Length() != 0 {
		t.Error("the failed filter shows the running jobs")
	}
	runningHref := testid(doc(t, te.get("/?live=1", creator)), "count-running").Find("a").AttrOr("href", "")
	d = doc(t, te.get(runningHref, creator))
	if testid(d, "running-row").Length() != 1 || testid(d, "activity-table").Length() != 0 {
		t.Errorf("%s: %d running rows, finished table %d", runningHref, testid(d, "running-row").Length(), testid(d, "activity-table").Length())
	}

	for _, lc := range []listCase{
		{"/activity", 50, "1–50 of 58 finished jobs · page 1 of 2", ""},
		{"/activity?page=2", 8, "51–58 of 58 finished jobs · page 2 of 2", ""},
		{"/activity?page=zz", 50, "1–50 of 58 finished jobs · page 1 of 2", ""},
		{"/activity?state=failed", 2, "1–2 of 2 finished jobs", ""},
		{"/activity?state=warning&since=24h", 1, "1–1 of 1 finished jobs", ""},
		{"/activity?state=completed&since=7d", 50, "1–50 of 55 finished jobs · page 1 of 2", ""},
		{"/activity?state=exploded", 50, "1–50 of 58 finished jobs · page 1 of 2", `The state filter "exploded" was not understood and is ignored.`},
		{"/activity?since=yesterday", 50, "1–50 of 58 finished jobs · page 1 of 2", `The time filter "yesterday" was not understood and is ignored.`},
	} {
		t.Run(lc.query, func(t *testing.T) { lc.check(t, te.testEnv, creator, "activity-row") })
	}
	if next := testid(doc(t, te.get("/activity?state=completed", creator)), "next-page").AttrOr("href", ""); next != "/activity?page=2&state=completed" {
		t.Errorf("next page keeps the filter: %q", next)
	}
}

// TestConfigurationsOverdueFilterAndPages: ?overdue=1 lists exactly the
// configurations the overview counts as overdue; the list pages by 50.
func TestConfigurationsOverdueFilterAndPages(t *testing.T) {
	te := newOpsEnv(t)
	web, late := seedAgent(t, te.testEnv, "web-01", "web files")
	for i := range 60 {
		if _, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: web, Name: fmt.Sprintf("manual %02d", i), Inclusions: []string{"/srv"}}); err != nil {
			t.Fatal(err)
		}
	}
	creator := te.loginRole(app.RoleCreator)
	te.sim.SetNextOutcome(late, rcbusim.StateCompleted)
	startBackup(te, late, creator)
	te.sim.SetAgentOnline(web, false)
	te.advance(72 * time.Hour)
	te.syncReports()
	ck := te.loginRole(app.RoleObserver)
	d := doc(t, te.get("/?live=1", ck))
	href := testid(d, "count-overdue").Find("a").AttrOr("href", "")
	if href != "/configurations?overdue=1" || testid(d, "count-overdue").AttrOr("data-count", "") != "1" {
		t.Fatalf("overdue count %q → %q", testid(d, "count-overdue").AttrOr("data-count", ""), href)
	}
	d = doc(t, te.get(href, ck))
	if got := rowIDs(d, "configuration-row", "data-configuration-id"); len(got) != 1 || got[0] != i64(late) {
		t.Errorf("overdue list %q", got)
	}
	if testid(d, "filter-overdue").Find("option[selected]").AttrOr("value", "") != "1" {
		t.Error("the form does not show the overdue filter")
	}
	for _, lc := range []listCase{
		{"/configurations", 50, "1–50 of 61 configurations · page 1 of 2", ""},
		{"/configurations?page=2", 11, "51–61 of 61 configurations · page 2 of 2", ""},
		{"/configurations?page=-3", 50, "1–50 of 61 configurations · page 1 of 2", ""},
		{"/configurations?overdue=maybe", 50, "1–50 of 61 configurations · page 1 of 2", `The overdue filter "maybe" is not yes or no, so it was ignored.`},
	} {
		lc.check(t, te.testEnv, ck, "configuration-row")
	}
}

// TestAgentsPages: the agents page lists 50 agents a page, by name, the
// filters kept in the page links; /agents?status=offline is what the
// overview's offline count counts.
func TestAgentsPages(t *testing.T) {
	te := newOpsEnv(t)
	for i := range 70 {
		te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: fmt.Sprintf("host-%03d", i), Online: i%7 != 0, Datacenter: "DFW"})
	}
	ck := te.loginRole(app.RoleObserver)
	d := doc(t, te.get("/?live=1", ck))
	offline := testid(d, "count-offline")
	d = doc(t, te.get(offline.Find("a").AttrOr("href", ""), ck))
	if n := testid(d, "agent-row").Length(); fmt.Sprint(n) != offline.AttrOr("data-count", "") {
		t.Errorf("/agents?status=offline lists %d, the overview counts %s", n, offline.AttrOr("data-count", ""))
	}
	d = doc(t, te.get("/agents?datacenter=dfw", ck))
	if n := testid(d, "agent-row").Length(); n != 50 {
		t.Errorf("first page %d rows", n)
	}
	next := testid(d, "next-page").AttrOr("href", "")
	if next != "/agents?datacenter=DFW&page=2" {
		t.Errorf("next %q", next)
	}
	d = doc(t, te.get(next, ck))
	if n := testid(d, "agent-row").Length(); n != 20 || strings.TrimSpace(d.Find(`[data-testid="agent-name"]`).First().Text()) != "host-050" {
		t.Errorf("second page %d rows", n)
	}
	if n := testid(doc(t, te.get("/agents?page=%00", ck)), "agent-row").Length(); n != 50 {
		t.Errorf("a page that does not parse: %d rows", n)
	}
}

func TestPastOrNowKeepsAFinishedJobInThePast(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	if got := pastOrNow(now.Add(10*time.Minute), now); !got.Equal(now) {
		t.Errorf("a time ahead of the clock = %v, want now", got)
	}
	if got := pastOrNow(now.Add(-time.Hour), now); !got.Equal(now.Add(-time.Hour)) {
		t.Errorf("a past time = %v, want it unchanged", got)
	}
}

// listCase is a list page's query with the rows, the page summary and the
// filter note it should show.
type listCase struct {
	query   string
	rows    int
	summary string
	note    string
}

func (lc listCase) check(t *testing.T, te *testEnv, ck *http.Cookie, rowID string) {
	t.Helper()
	rec := te.get(lc.query, ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: status %d", lc.query, rec.Code)
	}
	d := doc(t, rec)
	if n := testid(d, rowID).Length(); n != lc.rows {
		t.Errorf("%s: rows %d, want %d", lc.query, n, lc.rows)
	}
	if s := strings.Join(strings.Fields(testid(d, "page-summary").Text()), " "); s != lc.summary {
		t.Errorf("%s: summary %q, want %q", lc.query, s, lc.summary)
	}
	if n := strings.TrimSpace(testid(d, "filter-note").Text()); n != lc.note {
		t.Errorf("%s: note %q, want %q", lc.query, n, lc.note)
	}
}
