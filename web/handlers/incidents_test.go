package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// incidentsEnv is the HTTP stack with three failed backups of the last day
// stored and evaluated: three open incidents.
type incidentsEnv struct {
	*testEnv
	alerts *app.Alerts
	tokens *app.Tokens
}

const hostileError = `<img src=x onerror=alert(1)> "quoted" & <b>bold</b>`

func newIncidentsEnv(t *testing.T) *incidentsEnv {
	t.Helper()
	te, deps := buildTestEnv(t, envOptions{fleetTTL: time.Nanosecond})
	ie := &incidentsEnv{testEnv: te, alerts: deps.Alerts, tokens: deps.Tokens}
	now := te.clock.Now()
	var rs []app.Report
	for i, name := range []string{"mysql dumps", "web files", "mail spool"} {
		job := int64(500 + i)
		rs = append(rs, app.Report{AccountID: te.demo.ID, Kind: app.KindBackup, JobID: job, AgentID: rcbu.AgentID(70 + i), AgentName: "db-0" + strconv.Itoa(i),
			ConfigID: rcbu.ConfigurationID(900 + i), ConfigName: name, BackupID: rcbu.BackupID(job), State: "Failed",
			Started: now.Add(-time.Duration(i+2) * time.Hour), Finished: now.Add(-time.Duration(i+1) * time.Hour), ErrorCount: 1, Raw: []byte(`{}`), Fetched: now,
			Errors: []app.ReportErrorEntry{{Path: "/var/lib/mysql/ibdata1", Description: "Access denied " + hostileError}}})
	}
	if _, err := te.store.InsertReports(t.Context(), rs); err != nil {
		t.Fatal(err)
	}
	if res, err := ie.alerts.Evaluate(t.Context(), te.demo.ID); err != nil || res.Opened < 3 {
		t.Fatalf("evaluate: %+v, %v", res, err)
	}
	return ie
}

// incidentIDs lists the ids of the incident rows of a page.
func (ie *incidentsEnv) incidentIDs(t *testing.T, path string, ck *http.Cookie) []string {
	t.Helper()
	rec := ie.get(path, ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, rec.Code)
	}
	var ids []string
	for _, n := range testid(doc(t, rec), "incident-row").Nodes {
		for _, a := range n.Attr {
			if a.Key == "data-incident-id" {
				ids = append(ids, a.Val)
			}
		}
	}
	return ids
}

// backupIncident is the id of the incident about backup job.
func (ie *incidentsEnv) backupIncident(t *testing.T, job int64) app.IncidentID {
	t.Helper()
	p, err := ie.alerts.ListIncidents(t.Context(), app.IncidentQuery{Accounts: []app.AccountID{ie.demo.ID}, Rule: app.RuleBackupFailed})
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range p.Incidents {
		if inc.JobID == job {
			return inc.ID
		}
	}
	t.Fatalf("no incident about backup %d", job)
	return 0
}

func TestIncidentsPageAcknowledgeAndSnooze(t *testing.T) {
	ie := newIncidentsEnv(t)
	observer, creator := ie.loginRole(app.RoleObserver), ie.loginRole(app.RoleCreator)
	mysql := ie.backupIncident(t, 500)
	detail := "/alerts/incidents/" + mysql.String()

	t.Run("every recent failure is an open incident, linked to its report", func(t *testing.T) {
		d := doc(t, ie.get("/alerts", observer))
		if got := testid(d, "open-count").Text(); !strings.Contains(got, "open") || strings.Contains(got, "open 2 incidents") {
			t.Errorf("count %q", got)
		}
		if n := len(ie.incidentIDs(t, "/alerts?rule=backup_failed", observer)); n != 3 {
			t.Errorf("%d backup incidents", n)
		}
		href, _ := testid(d, "incident-report").First().Attr("href")
		if !strings.HasPrefix(href, "/reports/backup/50") {
			t.Errorf("report link %q", href)
		}
	})
	t.Run("an observer reads but cannot acknowledge", func(t *testing.T) {
		d := doc(t, ie.get(detail, observer))
		if testid(d, "ack-form").Length() != 0 || testid(d, "incident-deliveries").Length() != 0 {
			t.Error("an observer sees the acknowledge form or the deliveries")
		}
		if rec := ie.post(detail+"/ack", url.Values{"note": {"mine"}}, observer); rec.Code != http.StatusForbidden {
			t.Errorf("observer ack: %d", rec.Code)
		}
	})
	t.Run("a creator acknowledges with a hostile note, shown as text", func(t *testing.T) {
		if testid(doc(t, ie.get(detail, creator)), "ack-form").Length() != 1 {
			t.Fatal("no acknowledge form")
		}
		rec := ie.post(detail+"/ack", url.Values{"note": {"restoring from " + hostileError}}, creator)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("ack: %d %s", rec.Code, rec.Body)
		}
		page := ie.get(detail, creator)
		d := doc(t, page)
		if got := testid(d, "ack-note").Text(); got != "restoring from "+hostileError {
			t.Errorf("note %q", got)
		}
		if strings.Contains(page.Body.String(), "<img src=x") || strings.Contains(page.Body.String(), "<b>bold</b>") {
			t.Error("the note reached the page as HTML")
		}
		if got := testid(d, "incident-status").Text(); !strings.Contains(got, "Acknowledged") {
			t.Errorf("status %q", got)
		}
		if diff := ie.incidentIDs(t, "/alerts?status=acknowledged", observer); len(diff) != 1 || diff[0] != mysql.String() {
			t.Errorf("acknowledged tab %v", diff)
		}
		for _, id := range ie.incidentIDs(t, "/alerts", observer) {
			if id == mysql.String() {
				t.Error("still in the open tab")
			}
		}
	})
	t.Run("a second acknowledgement is answered in words", func(t *testing.T) {
		rec := ie.post(detail+"/ack", url.Values{"note": {"me too"}}, ie.loginRole(app.RoleAdmin))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(testid(doc(t, rec), "error-note").Text(), "acknowledged it already") {
			t.Errorf("second ack: %d", rec.Code)
		}
	})
	web := ie.backupIncident(t, 501)
	snooze := func(until, reason string) *httptest.ResponseRecorder {
		return ie.post("/alerts/snoozes", url.Values{"incident": {web.String()}, "kind": {"agent"}, "id": {"71"}, "name": {"db-01"},
			"until": {until}, "reason": {reason}}, creator)
	}
	t.Run("a snooze in the past is refused in words", func(t *testing.T) {
		rec := snooze(ie.clock.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04"), "rebuild")
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(testid(doc(t, rec), "error-until").Text(), "has passed") {
			t.Errorf("past snooze: %d", rec.Code)
		}
	})
	t.Run("another agent's id cannot be snoozed from this incident", func(t *testing.T) {
		rec := ie.post("/alerts/snoozes", url.Values{"incident": {web.String()}, "kind": {"agent"}, "id": {"70"},
			"until": {ie.clock.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04")}, "reason": {"x"}}, creator)
		if rec.Code != http.StatusNotFound {
			t.Errorf("foreign snooze: %d", rec.Code)
		}
	})
	t.Run("a snoozed agent's incident shows under Snoozed", func(t *testing.T) {
		rec := snooze(ie.clock.Now().Add(48*time.Hour).UTC().Format("2006-01-02T15:04"), "being rebuilt until Friday")
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("snooze: %d %s", rec.Code, rec.Body)
		}
		if ids := ie.incidentIDs(t, "/alerts?status=snoozed", observer); len(ids) != 1 || ids[0] != web.String() {
			t.Errorf("snoozed tab %v", ids)
		}
		d := doc(t, ie.get("/alerts?status=snoozed", creator))
		if got := testid(d, "snooze-row").Text(); !strings.Contains(got, "being rebuilt until Friday") {
			t.Errorf("snoozes %q", got)
		}
		rec = ie.post("/alerts/snoozes/end", url.Values{"kind": {"agent"}, "id": {"71"}, "return": {"/alerts?status=snoozed"}}, creator)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("end: %d", rec.Code)
		}
		if ids := ie.incidentIDs(t, "/alerts?status=snoozed", observer); len(ids) != 0 {
			t.Errorf("still snoozed %v", ids)
		}
	})
	t.Run("bad filters are notes, never a 500", func(t *testing.T) {
		for _, q := range []string{"status=gone", "rule=nope", "agent=-1", "before=x", "account=99999", "config=abc"} {
			rec := ie.get("/alerts?"+q, observer)
			if rec.Code != http.StatusOK || testid(doc(t, rec), "filter-note").Length() == 0 {
				t.Errorf("%s: %d", q, rec.Code)
			}
		}
	})
	t.Run("an acknowledgement is audited", func(t *testing.T) {
		rec := ie.get("/admin/audit", ie.loginRole(app.RoleAdmin))
		if !strings.Contains(rec.Body.String(), string(app.ActionIncidentAck)) {
			t.Error("no audit entry")
		}
	})
}

func TestIncidentsAPI(t *testing.T) {
	ie := newIncidentsEnv(t)
	ae := &apiEnv{testEnv: ie.testEnv, tokens: ie.tokens}
	tok := ae.token(t, app.RoleObserver)
	rec := ae.apiGet("/api/v1/incidents?status=open&rule=backup_failed&limit=2", tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var body struct {
		Incidents []apiIncident `json:"incidents"`
		Next      *string       `json:"next"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Incidents) != 2 || body.Next == nil || body.Incidents[0].Status != app.StatusOpen || body.Incidents[0].BackupID == 0 {
		t.Fatalf("page %+v", body)
	}
	rec = ae.apiGet(*body.Next, tok)
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Incidents) != 1 || body.Next != nil {
		t.Errorf("next page %+v %v", body, err)
	}
	for _, q := range []string{"status=nope", "limit=500", "agent=x"} {
		if rec := ae.apiGet("/api/v1/incidents?"+q, tok); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s", q, rec.Code, rec.Body)
		}
	}
	if rec := ae.apiGet("/api/v1/incidents", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", rec.Code)
	}
}
