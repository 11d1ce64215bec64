package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/words"
)

func TestAuditLogFilterNotesBadValues(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	for range 55 {
		te.audit.Record(t.Context(), app.AuditEntry{Actor: "ops@example.com", Action: app.ActionBackupStart, Target: "configuration 7", Outcome: app.OutcomeOK})
	}
	te.audit.Record(t.Context(), app.AuditEntry{Actor: "ops@example.com", Action: app.ActionAgentWake, Target: "agent 9", Outcome: app.OutcomeOK})

	t.Run("every recorded action can be picked", func(t *testing.T) {
		d := doc(t, te.get("/admin/audit?action="+url.QueryEscape(string(app.ActionAgentWake)), admin))
		if n := testid(d, "audit-row").Length(); n != 1 {
			t.Fatalf("%d rows for agent.wake; want 1", n)
		}
		if d.Find(`select[name="action"] option[value="agent.wake"]`).Length() != 1 ||
			d.Find(`select[name="action"] option[value="backup.start"]`).Length() != 1 {
			t.Error("the action list lacks the operations' actions")
		}
	})
	t.Run("an unknown action is noted and ignored", func(t *testing.T) {
		rec := te.get("/admin/audit?action=cleanup.everything", admin)
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		d := doc(t, rec)
		if n := testid(d, "audit-row").Length(); n != app.DefaultAuditPageSize {
			t.Errorf("%d rows; want a full page of every action", n)
		}
		if !strings.Contains(testid(d, "error-action").Text(), "cleanup.everything") {
			t.Errorf("no note naming the action: %q", testid(d, "error-action").Text())
		}
	})
	t.Run("a page position that does not parse starts from the newest", func(t *testing.T) {
		first := doc(t, te.get("/admin/audit", admin))
		for _, q := range []string{"before=abc", "after=-4", "before=1e9"} {
			rec := te.get("/admin/audit?"+q, admin)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: status %d", q, rec.Code)
			}
			d := doc(t, rec)
			if testid(d, "filter-note").Length() != 1 {
				t.Errorf("%s: no note", q)
			}
			if got, want := testid(d, "audit-row").First().Text(), testid(first, "audit-row").First().Text(); got != want {
				t.Errorf("%s: first row %q; want the newest %q", q, got, want)
			}
		}
	})
}

// TestEveryAuditActionHasWords fails on an action the console records
// without words for the audit log.
func TestEveryAuditActionHasWords(t *testing.T) {
	for _, a := range auditActions() {
		if !words.AuditActions.Known(a) {
			t.Errorf("audit action %q has no words in the words table", a)
		}
	}
}
