package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
)

// TestIncidentsFilterByName: the incidents page's agent and configuration
// filters take names as /reports does. A name that fits one becomes its
// id in the URL (the form still shows the name); one that fits nothing is
// answered in words and lists nothing (the API, which wants ids, refuses a
// name: see TestIncidentsAPI).
func TestIncidentsFilterByName(t *testing.T) {
	ie := newIncidentsEnv(t)
	ck := ie.loginRole(app.RoleObserver)
	mysql := strconv.FormatInt(int64(ie.backupIncident(t, 500)), 10)

	t.Run("a configuration name becomes its id in the URL", func(t *testing.T) {
		rec := ie.get("/alerts?config="+url.QueryEscape("mysql"), ck)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/alerts?config=900" {
			t.Fatalf("GET by name: %d to %q, want 303 to /alerts?config=900", rec.Code, rec.Header().Get("Location"))
		}
		if got := ie.incidentIDs(t, "/alerts?config=900", ck); strings.Join(got, ",") != mysql {
			t.Errorf("incidents %v, want only %s (mysql dumps)", got, mysql)
		}
		d := doc(t, ie.get("/alerts?config=900", ck))
		if got := testid(d, "filter-config").AttrOr("value", ""); got != "mysql dumps" {
			t.Errorf("the configuration filter shows %q, want the name", got)
		}
		if testid(d, "filter-config").AttrOr("list", "") != "config-names" || testid(d, "filter-config").AttrOr("hx-get", "") == "" {
			t.Error("the configuration filter offers no suggestions")
		}
		if got := filterSummaryText(d); got != "Filters (1 active)" {
			t.Errorf("filters summary %q", got)
		}
	})
	t.Run("an agent name becomes its id", func(t *testing.T) {
		rec := ie.get("/alerts?agent=db-00", ck)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/alerts?agent=70" {
			t.Fatalf("GET by agent name: %d to %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("a name that fits nothing is said in words and lists nothing", func(t *testing.T) {
		rec := ie.get("/alerts?config="+url.QueryEscape("<b>nope</b>"), ck)
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if n := testid(d, "incident-row").Length(); n != 0 {
			t.Errorf("%d incidents listed for a name that fits nothing", n)
		}
		note := testid(d, "filter-note").Text()
		if !strings.Contains(note, `No configuration named like "<b>nope</b>" has reports; nothing matches.`) {
			t.Errorf("note %q, want the name that fits nothing said in words", note)
		}
		if strings.Contains(rec.Body.String(), "<b>nope</b>") {
			t.Error("the typed name is not escaped")
		}
		if got := testid(d, "filter-config").AttrOr("value", ""); got != "<b>nope</b>" {
			t.Errorf("the form shows %q, want what was typed", got)
		}
		if href := testid(d, "tab-All").AttrOr("href", ""); !strings.Contains(href, "config=%3Cb%3Enope") {
			t.Errorf("the tabs drop the typed name: %q", href)
		}
	})
	t.Run("a name that fits several is said in words and ignored", func(t *testing.T) {
		rec := ie.get("/alerts?agent=db-0", ck)
		wantStatus(t, rec, http.StatusOK)
		d := doc(t, rec)
		if note := testid(d, "filter-note").Text(); !strings.Contains(note, "matches several agents") {
			t.Errorf("note %q", note)
		}
		if n := testid(d, "incident-row").Length(); n != 3 {
			t.Errorf("%d incidents, want all three (the filter is ignored)", n)
		}
	})
}

// filterSummaryText is the incidents page's filters summary.
func filterSummaryText(d *goquery.Document) string {
	return strings.Join(strings.Fields(d.Find(`[data-testid="incident-filters"] > summary`).Text()), " ")
}
