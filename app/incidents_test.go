package app_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

func (ae *alertsEnv) incidents(t *testing.T, status app.IncidentStatus) []app.Incident {
	t.Helper()
	p, err := ae.alerts.ListIncidents(t.Context(), app.IncidentQuery{Accounts: []app.AccountID{ae.account.ID}, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return p.Incidents
}

func incidentObjects(list []app.Incident) []string {
	var out []string
	for _, i := range list {
		out = append(out, i.Object)
	}
	return out
}

func TestFirstSyncOpensIncidentsAndSendsOneSummary(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	now := ae.clock.Now()
	// What a first sync stores: 60 days of history, three problems in the last day.
	ae.report(t, 10, 1, "Failed", now.Add(-30*24*time.Hour), 0)
	ae.report(t, 11, 1, "Completed", now.Add(-29*24*time.Hour), 100)
	ae.report(t, 20, 2, "Failed", now.Add(-20*time.Hour), 0)
	ae.report(t, 30, 3, "CompletedWithErrors", now.Add(-3*time.Hour), 100)
	ae.report(t, 40, 4, "Missed", now.Add(-time.Hour), 0)
	ae.report(t, 50, 5, "Skipped", now.Add(-30*time.Minute), 0)

	res := ae.evaluate(t)
	if res.Opened != 4 || res.Summaries != 1 {
		t.Fatalf("evaluation %+v", res)
	}
	ae.dispatch(t)
	got := rcv.payloads(t)
	if diff := cmp.Diff([]string{"alert.summary "}, events(got)); diff != "" {
		t.Fatal(diff)
	}
	if !strings.HasPrefix(got[0].Title, "4 problems are open in ") || strings.Count(got[0].Text, "• ") != 4 {
		t.Errorf("summary %q\n%s", got[0].Title, got[0].Text)
	}
	if diff := cmp.Diff([]string{"backup:50", "backup:40", "backup:30", "backup:20"}, incidentObjects(ae.incidents(t, app.StatusOpen))); diff != "" {
		t.Errorf("open incidents: %s", diff)
	}

	ae.clock.Advance(time.Hour)
	ae.report(t, 60, 6, "Failed", ae.clock.Now(), 0)
	if res := ae.evaluate(t); res.Opened != 1 || res.Summaries != 0 {
		t.Fatalf("second evaluation %+v", res)
	}
	ae.dispatch(t)
	if diff := cmp.Diff([]string{"alert.summary ", "alert.opened backup:60"}, events(rcv.payloads(t))); diff != "" {
		t.Error(diff)
	}
}

func TestNotificationsWaitForTheFirstSync(t *testing.T) {
	ae := newAlertsEnv(t)
	alerts := ae.newAlerts(app.AlertsOptions{Now: ae.clock.Now, Log: discard(), AwaitFirstSync: true})
	rcv := newReceiver(t)
	ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	ae.report(t, 20, 2, "Failed", ae.clock.Now().Add(-time.Hour), 0)
	res, err := alerts.Evaluate(t.Context(), ae.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 1 || res.Summaries != 0 {
		t.Fatalf("before the sync: %+v", res)
	}
	if err := ae.store.SaveSyncState(t.Context(), app.SyncState{AccountID: ae.account.ID, LastOK: ae.clock.Now(), Backfilled: true}); err != nil {
		t.Fatal(err)
	}
	ae.report(t, 30, 3, "Failed", ae.clock.Now(), 0)
	if res, err = alerts.Evaluate(t.Context(), ae.account.ID); err != nil || res.Opened != 1 || res.Summaries != 1 {
		t.Fatalf("after the sync: %+v, %v", res, err)
	}
	if _, err := alerts.DispatchDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := rcv.payloads(t)
	if diff := cmp.Diff([]string{"alert.summary "}, events(got)); diff != "" {
		t.Fatal(diff)
	}
	if !strings.HasPrefix(got[0].Title, "2 problems are open") {
		t.Errorf("summary %q", got[0].Title)
	}
}

func TestIncidentsToldInASummaryResolveThere(t *testing.T) {
	ae := newAlertsEnv(t)
	first, late, down := newReceiver(t), newReceiver(t), newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500)
	ae.webhook(t, first.srv.URL, app.RuleBackupFailed)
	now := ae.clock.Now()
	ae.report(t, 20, 2, "Failed", now.Add(-2*time.Hour), 0) // in the first sync: told by the summary only
	ae.evaluate(t)
	ae.dispatch(t)
	ae.clock.Advance(time.Minute)
	ae.report(t, 30, 3, "Failed", ae.clock.Now(), 0) // after it: an alert of its own
	ae.evaluate(t)
	ae.dispatch(t)
	// A channel added now is told both in its summary; one whose summary
	// could not be delivered was told nothing.
	ae.webhook(t, late.srv.URL, app.RuleBackupFailed)
	ae.webhook(t, down.srv.URL, app.RuleBackupFailed)
	if res := ae.evaluate(t); res.Summaries != 2 {
		t.Fatalf("summaries to the new channels: %+v", res)
	}
	for range 8 {
		ae.dispatch(t)
		ae.clock.Advance(time.Hour)
	}
	if got := late.payloads(t); len(got) != 1 || !slices.Equal(got[0].IncidentIDs, incidentIDs(ae.incidents(t, app.StatusOpen))) {
		t.Fatalf("the new channel's summary: %+v", got)
	}

	ae.report(t, 21, 2, "Completed", ae.clock.Now(), 100)
	ae.report(t, 31, 3, "Completed", ae.clock.Now(), 100)
	if res := ae.evaluate(t); res.Resolved != 2 {
		t.Fatalf("resolving: %+v", res)
	}
	ae.dispatch(t)
	for name, c := range map[string]struct {
		rcv  *receiver
		want []string
	}{
		"first": {first, []string{"alert.summary ", "alert.opened backup:30", "alert.resolved backup:20", "alert.resolved backup:30"}},
		"late":  {late, []string{"alert.summary ", "alert.resolved backup:20", "alert.resolved backup:30"}},
		"down":  {down, slices.Repeat([]string{"alert.summary "}, 8)},
	} {
		got := events(c.rcv.payloads(t))
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s channel: %s", name, diff)
		}
	}
}

func incidentIDs(list []app.Incident) []app.IncidentID {
	var out []app.IncidentID
	for _, i := range list {
		out = append(out, i.ID)
	}
	slices.Sort(out)
	return out
}

func TestAcknowledge(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	ae.evaluate(t) // the channel's (empty) summary
	ae.report(t, 20, 2, "Failed", ae.clock.Now(), 0)
	ae.evaluate(t)
	ae.dispatch(t)
	inc := ae.incidents(t, app.StatusOpen)[0]
	scope := []app.AccountID{ae.account.ID}
	creator := ae.admin
	creator.Role = app.RoleCreator
	observer := ae.admin
	observer.Role = app.RoleObserver
	note := `<script>alert(1)</script> *bold* <!here> & restoring`

	t.Run("an observer cannot", func(t *testing.T) {
		if _, err := ae.alerts.Acknowledge(t.Context(), observer, scope, inc.ID, "mine"); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("outside the scope it is not found", func(t *testing.T) {
		if _, err := ae.alerts.Acknowledge(t.Context(), creator, []app.AccountID{999}, inc.ID, "x"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a creator acknowledges with a note, audited", func(t *testing.T) {
		got, err := ae.alerts.Acknowledge(t.Context(), creator, scope, inc.ID, "  "+note+"  ")
		if err != nil {
			t.Fatal(err)
		}
		if got.AckBy != creator.Email || got.AckNote != note || !got.Acked.Equal(ae.clock.Now()) || got.Status() != app.StatusAcknowledged {
			t.Errorf("incident %+v", got)
		}
		if diff := cmp.Diff([]string{"backup:20"}, incidentObjects(ae.incidents(t, app.StatusAcknowledged))); diff != "" {
			t.Error(diff)
		}
		if n := len(ae.incidents(t, app.StatusOpen)); n != 0 {
			t.Errorf("%d still in the open tab", n)
		}
		e := ae.lastAudit(t)
		if e.Action != app.ActionIncidentAck || e.Outcome != app.OutcomeOK || e.Message != note || !strings.Contains(e.Target, "incident") {
			t.Errorf("audit %+v", e)
		}
	})
	t.Run("a second acknowledgement says who", func(t *testing.T) {
		_, err := ae.alerts.Acknowledge(t.Context(), ae.admin, scope, inc.ID, "")
		if fe := fieldErr(err, "note"); !strings.Contains(fe, "acknowledged it already") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("the resolution notice carries the note", func(t *testing.T) {
		ae.clock.Advance(time.Hour)
		ae.report(t, 21, 2, "Completed", ae.clock.Now(), 10)
		if res := ae.evaluate(t); res.Resolved != 1 {
			t.Fatalf("evaluation %+v", res)
		}
		ae.dispatch(t)
		got := rcv.payloads(t)
		last := got[len(got)-1]
		if last.Event != app.EventResolved || !strings.Contains(last.Text, "Acknowledged by "+creator.Email) || !strings.Contains(last.Text, note) {
			t.Errorf("resolution %+v", last.Notice)
		}
	})
	t.Run("a resolved incident cannot be acknowledged", func(t *testing.T) {
		ae.report(t, 22, 3, "Failed", ae.clock.Now(), 0)
		ae.evaluate(t)
		other := ae.incidents(t, app.StatusOpen)[0]
		ae.clock.Advance(time.Hour)
		ae.report(t, 23, 3, "Completed", ae.clock.Now(), 10)
		ae.evaluate(t)
		_, err := ae.alerts.Acknowledge(t.Context(), creator, scope, other.ID, "late")
		if fe := fieldErr(err, "note"); !strings.Contains(fe, "resolved already") {
			t.Errorf("err %v", err)
		}
	})
}

// fieldErr is the message of a validation error for field ("" if none).
func fieldErr(err error, field string) string {
	var ve *app.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	return ve.Fields[field]
}

func TestSnoozeSilencesThenEndsByItself(t *testing.T) {
	ae := newAlertsEnv(t)
	rcv := newReceiver(t)
	ae.webhook(t, rcv.srv.URL, app.RuleBackupFailed)
	ae.evaluate(t)
	creator := ae.admin
	creator.Role = app.RoleCreator
	loc := time.UTC
	at := func(d time.Duration) string { return ae.clock.Now().Add(d).In(loc).Format("2006-01-02T15:04") }

	// Configuration 1 is alerted before the snooze; configuration 2 fails under it.
	ae.report(t, 10, 1, "Failed", ae.clock.Now(), 0)
	ae.evaluate(t)
	ae.dispatch(t)

	t.Run("bad snoozes are refused in words", func(t *testing.T) {
		cases := []struct {
			name  string
			req   app.SnoozeRequest
			field string
			want  string
		}{
			{"in the past", app.SnoozeRequest{Kind: "configuration", ID: "2", Until: at(-time.Hour), Reason: "rebuild"}, "until", "has passed"},
			{"not a time", app.SnoozeRequest{Kind: "configuration", ID: "2", Until: "friday", Reason: "rebuild"}, "until", "date and time"},
			{"too long", app.SnoozeRequest{Kind: "agent", ID: "7", Until: at(100 * 24 * time.Hour), Reason: "rebuild"}, "until", "90 days"},
			{"no reason", app.SnoozeRequest{Kind: "agent", ID: "7", Until: at(time.Hour)}, "reason", "Say why"},
			{"no target", app.SnoozeRequest{Kind: "server", ID: "x", Until: at(time.Hour), Reason: "r"}, "kind", "Choose"},
		}
		for _, tc := range cases {
			_, err := ae.alerts.SnoozeUntil(t.Context(), creator, ae.account.ID, loc, tc.req)
			if fe := fieldErr(err, tc.field); !strings.Contains(fe, tc.want) {
				t.Errorf("%s: err %v", tc.name, err)
			}
		}
		observer := creator
		observer.Role = app.RoleObserver
		if _, err := ae.alerts.SnoozeUntil(t.Context(), observer, ae.account.ID, loc, app.SnoozeRequest{Kind: "agent", ID: "7", Until: at(time.Hour), Reason: "r"}); !errors.Is(err, app.ErrForbidden) {
			t.Errorf("observer: %v", err)
		}
	})

	s, err := ae.alerts.SnoozeUntil(t.Context(), creator, ae.account.ID, loc,
		app.SnoozeRequest{Kind: "agent", ID: "7", Name: "web-01", Until: at(2 * time.Hour), Reason: "being rebuilt"})
	if err != nil {
		t.Fatal(err)
	}
	if e := ae.lastAudit(t); e.Action != app.ActionSnooze || e.Outcome != app.OutcomeOK || !strings.Contains(e.Message, "being rebuilt") {
		t.Errorf("audit %+v", e)
	}
	t.Run("a snoozed problem still shows, marked, and sends nothing", func(t *testing.T) {
		ae.report(t, 20, 2, "Failed", ae.clock.Now(), 0)
		if res := ae.evaluate(t); res.Opened != 1 {
			t.Fatalf("evaluation %+v", res)
		}
		ae.dispatch(t)
		if diff := cmp.Diff([]string{"alert.opened backup:10"}, events(rcv.payloads(t))); diff != "" {
			t.Error(diff)
		}
		snoozed := ae.incidents(t, app.StatusSnoozed)
		if diff := cmp.Diff([]string{"backup:20", "backup:10"}, incidentObjects(snoozed)); diff != "" {
			t.Error(diff)
		}
		if !snoozed[0].SnoozedUntil.Equal(s.Until) || !snoozed[0].Silenced {
			t.Errorf("incident %+v", snoozed[0])
		}
	})
	t.Run("resolution notices still go out while snoozed", func(t *testing.T) {
		ae.clock.Advance(time.Minute)
		ae.report(t, 11, 1, "Completed", ae.clock.Now(), 10)
		ae.evaluate(t)
		ae.dispatch(t)
		if diff := cmp.Diff([]string{"alert.opened backup:10", "alert.resolved backup:10"}, events(rcv.payloads(t))); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("the snooze ends by itself and what is still open is told", func(t *testing.T) {
		ae.clock.Advance(3 * time.Hour)
		if res := ae.evaluate(t); res.Released != 1 {
			t.Fatalf("evaluation %+v", res)
		}
		ae.evaluate(t)
		ae.dispatch(t)
		if diff := cmp.Diff([]string{"alert.opened backup:10", "alert.resolved backup:10", "alert.opened backup:20"}, events(rcv.payloads(t))); diff != "" {
			t.Error(diff)
		}
		if diff := cmp.Diff([]string{"backup:20"}, incidentObjects(ae.incidents(t, app.StatusOpen))); diff != "" {
			t.Error(diff)
		}
		if list, err := ae.alerts.Snoozes(t.Context(), ae.account.ID); err != nil || len(list) != 0 {
			t.Errorf("snoozes %v, %v", list, err)
		}
	})
	t.Run("a snooze can be ended early", func(t *testing.T) {
		if _, err := ae.alerts.SnoozeUntil(t.Context(), creator, ae.account.ID, loc,
			app.SnoozeRequest{Kind: "configuration", ID: "2", Until: at(time.Hour), Reason: "fixing"}); err != nil {
			t.Fatal(err)
		}
		if n := len(ae.incidents(t, app.StatusSnoozed)); n != 1 {
			t.Errorf("%d snoozed", n)
		}
		if err := ae.alerts.EndSnooze(t.Context(), creator, ae.account.ID, app.SnoozeConfiguration, 2); err != nil {
			t.Fatal(err)
		}
		if n := len(ae.incidents(t, app.StatusSnoozed)); n != 0 {
			t.Errorf("%d snoozed", n)
		}
	})
}

func TestIncidentPaging(t *testing.T) {
	ae := newAlertsEnv(t)
	for i := range 60 {
		ae.report(t, int64(100+i), int64(1+i), "Failed", ae.clock.Now().Add(-time.Duration(60-i)*time.Minute), 0)
	}
	ae.evaluate(t)
	scope := []app.AccountID{ae.account.ID}
	p1, err := ae.alerts.ListIncidents(t.Context(), app.IncidentQuery{Accounts: scope})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Incidents) != 50 || !p1.HasOlder || p1.HasNewer || p1.Incidents[0].Object != "backup:159" {
		t.Fatalf("first page: %d, older %v, newer %v", len(p1.Incidents), p1.HasOlder, p1.HasNewer)
	}
	p2, err := ae.alerts.ListIncidents(t.Context(), app.IncidentQuery{Accounts: scope, Before: p1.Incidents[49].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Incidents) != 10 || p2.HasOlder || !p2.HasNewer || p2.Incidents[9].Object != "backup:100" {
		t.Fatalf("second page: %d, older %v, newer %v", len(p2.Incidents), p2.HasOlder, p2.HasNewer)
	}
	back, err := ae.alerts.ListIncidents(t.Context(), app.IncidentQuery{Accounts: scope, After: p2.Incidents[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(incidentObjects(p1.Incidents), incidentObjects(back.Incidents)); diff != "" || back.HasNewer {
		t.Errorf("back to the first page: %s (newer %v)", diff, back.HasNewer)
	}
	one, err := ae.alerts.ListIncidents(t.Context(), app.IncidentQuery{Accounts: scope, ConfigID: 3, Rule: app.RuleBackupFailed})
	if err != nil || len(one.Incidents) != 1 || one.Incidents[0].Object != "backup:102" || one.Incidents[0].JobID != 102 || one.Incidents[0].AgentID != 7 {
		t.Errorf("by configuration: %+v, %v", one.Incidents, err)
	}
}
