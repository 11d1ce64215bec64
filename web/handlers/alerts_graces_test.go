package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// TestAlertSettingsGracesArePagedAndSearched checks the grace table shows
// at most a page of configurations, pages with Next and Previous, searches
// configuration and agent names on the server, notes a page position that
// does not parse, and comes back to the same page after a grace is set.
func TestAlertSettingsGracesArePagedAndSearched(t *testing.T) {
	te := newAlertsTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	for a := range 3 {
		agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: fmt.Sprintf("host-%d", a), Online: true})
		for i := range 25 {
			if _, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: fmt.Sprintf("cfg-%d-%02d", a, i), Frequency: "Daily", Hour: 2, AmPm: "AM"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := doc(t, te.get("/alerts/settings?q=cfg-", admin))
	total := testid(d, "grace-shown").Text()
	rows := testid(d, "grace-row")
	if rows.Length() != app.DefaultGracePageSize || !strings.Contains(total, "of 75") {
		t.Fatalf("first page: %d rows, %q", rows.Length(), total)
	}
	if testid(d, "grace-prev").Length() != 0 {
		t.Error("Previous on the first page")
	}
	next := testid(d, "grace-next").AttrOr("href", "")
	d2 := doc(t, te.get(next, admin))
	if n := testid(d2, "grace-row").Length(); n != 25 || testid(d2, "grace-next").Length() != 0 {
		t.Fatalf("second page: %d rows", n)
	}
	if first := testid(d2, "grace-row").First().Find("th").Text(); !strings.HasPrefix(first, "cfg-2-00") {
		t.Errorf("second page starts at %q; want cfg-2-00", first)
	}
	back := doc(t, te.get(testid(d2, "grace-prev").AttrOr("href", ""), admin))
	if got, want := testid(back, "grace-row").First().Find("th").Text(), rows.First().Find("th").Text(); got != want {
		t.Errorf("Previous shows %q first; want %q", got, want)
	}

	t.Run("searches agent and configuration names", func(t *testing.T) {
		if n := testid(doc(t, te.get("/alerts/settings?q=HOST-1", admin)), "grace-row").Length(); n != 25 {
			t.Errorf("agent host-1: %d rows; want 25", n)
		}
		if n := testid(doc(t, te.get("/alerts/settings?q=cfg-0-1", admin)), "grace-row").Length(); n != 10 {
			t.Errorf("cfg-0-1: %d rows; want 10", n)
		}
		d := doc(t, te.get("/alerts/settings?q=nothing-like-this", admin))
		if testid(d, "grace-row").Length() != 0 || !strings.Contains(testid(d, "no-graces").Text(), "nothing-like-this") {
			t.Error("an empty search does not say so")
		}
	})
	t.Run("a bad page position is noted", func(t *testing.T) {
		for _, q := range []string{"after=abc", "before=-1", "after=999999"} {
			rec := te.get("/alerts/settings?"+q, admin)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d", q, rec.Code)
			}
			d := doc(t, rec)
			if testid(d, "filter-note").Length() != 1 || testid(d, "grace-row").Length() != app.DefaultGracePageSize {
				t.Errorf("%s: no note or not the first page", q)
			}
		}
	})
	t.Run("setting a grace comes back to the same page", func(t *testing.T) {
		row := testid(d2, "grace-row").Eq(3)
		cfg := row.AttrOr("data-config-id", "")
		ret := row.Find(`input[name="return"]`).AttrOr("value", "")
		rec := te.post("/alerts/settings/grace", url.Values{"config": {cfg}, "grace": {"90"}, "return": {ret}}, admin)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != next {
			t.Fatalf("%d to %q; want back to %q", rec.Code, rec.Header().Get("Location"), next)
		}
		rec = te.post("/alerts/settings/grace", url.Values{"config": {cfg}, "grace": {"soon"}, "return": {ret}}, admin)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("bad grace: %d", rec.Code)
		}
		if d := doc(t, rec); testid(d, "grace-error").Length() != 1 || testid(d, "grace-row").Length() != 25 {
			t.Error("the form error is not shown on its page")
		}
		rec = te.post("/alerts/settings/grace", url.Values{"config": {cfg}, "grace": {""}, "return": {"https://evil.example/alerts/settings"}}, admin)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, "/alerts/settings") {
			t.Errorf("redirected off-site to %q", loc)
		}
	})
}
