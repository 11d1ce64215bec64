package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// TestAlertSettingsBulkEdit selects several configurations in the settings
// table and sets their grace, puts them back to the default, snoozes them,
// and is refused in words for an empty selection, a foreign configuration
// and a snooze in the past; the account's default grace shows in the table.
func TestAlertSettingsBulkEdit(t *testing.T) {
	te := newAlertsTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "bulk-host", Online: true})
	var ids []string
	for i := range 3 {
		id, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: fmt.Sprintf("bulk-%d", i), Frequency: "Daily", Hour: 2, AmPm: "AM"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	minutesOf := func(id string) string {
		t.Helper()
		d := doc(t, te.get("/alerts/settings?q=bulk-", admin))
		return d.Find(`[data-testid="grace-row"][data-config-id="`+id+`"] [data-testid="grace-input"]`).AttrOr("value", "?")
	}
	bulk := func(form url.Values) (int, string) {
		t.Helper()
		form.Set("return", "/alerts/settings?q=bulk-")
		rec := te.post("/alerts/settings/bulk", form, admin)
		return rec.Code, rec.Body.String()
	}
	if n := testid(doc(t, te.get("/alerts/settings?q=bulk-", admin)), "grace-select").Length(); n != 3 {
		t.Fatalf("%d selection boxes", n)
	}
	t.Run("set the grace of two", func(t *testing.T) {
		code, _ := bulk(url.Values{"config": {ids[0], ids[1]}, "action": {"grace"}, "minutes": {"90"}})
		if code != http.StatusSeeOther {
			t.Fatalf("status %d", code)
		}
		if got := []string{minutesOf(ids[0]), minutesOf(ids[1]), minutesOf(ids[2])}; strings.Join(got, ",") != "90,90," {
			t.Errorf("graces %v", got)
		}
	})
	t.Run("back to the default", func(t *testing.T) {
		if code, _ := bulk(url.Values{"config": {ids[0]}, "action": {"default"}}); code != http.StatusSeeOther {
			t.Fatalf("status %d", code)
		}
		if got := minutesOf(ids[0]); got != "" {
			t.Errorf("grace %q", got)
		}
	})
	t.Run("refusals in words", func(t *testing.T) {
		for name, tc := range map[string]struct {
			form url.Values
			want string
		}{
			"nothing selected":        {url.Values{"action": {"grace"}, "minutes": {"5"}}, "Select at least one"},
			"a foreign configuration": {url.Values{"config": {"999999"}, "action": {"grace"}, "minutes": {"5"}}, "not one of this account"},
			"bad minutes":             {url.Values{"config": {ids[2]}, "action": {"grace"}, "minutes": {"-4"}}, "Enter minutes"},
			"a snooze in the past": {url.Values{"config": {ids[2]}, "action": {"snooze"}, "reason": {"rebuild"},
				"until": {te.clock.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")}}, "has passed"},
		} {
			code, body := bulk(tc.form)
			if code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Errorf("%s: status %d, no %q", name, code, tc.want)
			}
		}
	})
	t.Run("snooze three", func(t *testing.T) {
		code, _ := bulk(url.Values{"config": ids, "action": {"snooze"}, "reason": {"moving datacenter"},
			"until": {te.clock.Now().Add(48 * time.Hour).UTC().Format("2006-01-02T15:04")}})
		if code != http.StatusSeeOther {
			t.Fatalf("status %d", code)
		}
		list, err := te.alerts.Snoozes(t.Context(), te.demo.ID)
		if err != nil || len(list) != 3 || list[0].Reason != "moving datacenter" || list[0].Name == "" {
			t.Errorf("snoozes %+v, %v", list, err)
		}
	})
	t.Run("the account's default grace", func(t *testing.T) {
		form := url.Values{"offline_hours": {"24"}, "growth_factor": {"5"}, "digest_frequency": {"off"}, "digest_hour": {"8"}, "digest_weekday": {"1"},
			"default_grace": {"180"}}
		if rec := te.post("/alerts/settings", form, admin); rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
		d := doc(t, te.get("/alerts/settings?q=bulk-", admin))
		if got := d.Find(`[data-testid="grace-row"][data-config-id="` + ids[0] + `"] td[data-label="Default grace"]`).Text(); got != "3 h" {
			t.Errorf("default grace shows %q", got)
		}
		form.Set("default_grace", "soon")
		if rec := te.post("/alerts/settings", form, admin); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("a bad default grace: %d", rec.Code)
		}
	})
}
