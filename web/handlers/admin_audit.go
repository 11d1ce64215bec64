package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// auditActions are the actions offered in the filter: every action the
// console records, sorted, so that each can be picked.
func auditActions() []string {
	out := []string{}
	for _, a := range []app.AuditAction{
		app.ActionLogin, app.ActionLogout, app.ActionSignOutEverywhere, app.ActionPasswordChange, app.ActionProfileUpdate,
		app.ActionUserCreate, app.ActionUserRole, app.ActionUserAccess, app.ActionUserDisable, app.ActionUserEnable, app.ActionUserResetPassword,
		app.ActionUserInvite, app.ActionUserResetLink, app.ActionLinkUsed, app.ActionLinkRefused,
		app.ActionAccountCreate, app.ActionAccountUpdate, app.ActionAccountDelete,
		app.ActionTokenCreate, app.ActionTokenRevoke,
		app.ActionBackupStart, app.ActionBackupStop, app.ActionRestoreStart, app.ActionRestoreStop,
		app.ActionAgentWake, app.ActionAgentEnable, app.ActionAgentDisable, app.ActionAgentEncrypt, app.ActionAgentPassword,
		app.ActionAgentDelete, app.ActionAgentMigrateVault,
		app.ActionConfigurationCreate, app.ActionConfigurationUpdate, app.ActionConfigurationEnable, app.ActionConfigurationDisable,
		app.ActionConfigurationDelete, app.ActionConfigurationClone, app.ActionConfigurationImport,
		app.ActionReportsSync, app.ActionReportsPrune, app.ActionDBCheckpoint, app.ActionDBBackup,
		app.ActionChannelCreate, app.ActionChannelUpdate, app.ActionChannelDelete, app.ActionChannelTest,
		app.ActionAlertSettings, app.ActionOverdueGrace, app.ActionDigestSend,
	} {
		out = append(out, string(a))
	}
	slices.Sort(out)
	return out
}

// parseAuditFilter reads the filter from the query. Bad values come back as
// field messages; the filter then ignores them.
func parseAuditFilter(c echo.Context) (app.AuditFilter, templates.AuditFilterView, templates.FormErrors) {
	q := c.QueryParams()
	fv := templates.AuditFilterView{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Outcome: q.Get("outcome"), From: q.Get("from"), To: q.Get("to"), Actions: auditActions(),
	}
	errs := templates.FormErrors{}
	f := app.AuditFilter{Actor: fv.Actor, Action: app.AuditAction(fv.Action)}
	if len(fv.Actor) > 200 {
		errs["actor"] = "Use at most 200 characters."
		f.Actor = ""
	}
	if fv.Action != "" && !slices.Contains(fv.Actions, fv.Action) {
		errs["action"] = fmt.Sprintf("%q is not an action the console records; choose one from the list. Showing every action.", clipNote(fv.Action))
		f.Action = ""
	}
	switch app.Outcome(fv.Outcome) {
	case "", app.OutcomeOK, app.OutcomeFailed:
		f.Outcome = app.Outcome(fv.Outcome)
	default:
		errs["outcome"] = "Choose OK or Failed."
	}
	if fv.From != "" {
		t, err := time.Parse(time.DateOnly, fv.From)
		if err != nil {
			errs["from"] = "Enter a date like 2026-01-31."
		} else {
			f.From = t
		}
	}
	if fv.To != "" {
		t, err := time.Parse(time.DateOnly, fv.To)
		if err != nil {
			errs["to"] = "Enter a date like 2026-01-31."
		} else {
			f.To = t.AddDate(0, 0, 1) // inclusive of the whole day
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		errs["to"] = "The end must not be before the start."
		f.To = time.Time{}
	}
	// A page position that does not parse starts from the newest entries.
	for _, p := range []struct {
		name string
		dst  *app.AuditID
	}{{"before", &f.Before}, {"after", &f.After}} {
		if v := q.Get(p.name); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				*p.dst = app.AuditID(n)
			} else {
				fv.Note = "The page position in the link is not valid; showing the newest entries."
			}
		}
	}
	if f.Before != 0 && f.After != 0 {
		f.After = 0
	}
	return f, fv, errs
}

// auditPageURL keeps the filters and sets one cursor.
func auditPageURL(fv templates.AuditFilterView, cursor string, id app.AuditID) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": fv.Actor, "action": fv.Action, "outcome": fv.Outcome, "from": fv.From, "to": fv.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set(cursor, id.String())
	return "/admin/audit?" + q.Encode()
}

type auditLister interface {
	List(ctx context.Context, actor app.User, f app.AuditFilter) (app.AuditPage, error)
}

// auditLog shows the audit log, filtered and paged by the query string.
func (s *server) auditLog(audit auditLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		f, fv, errs := parseAuditFilter(c)
		page, err := audit.List(c.Request().Context(), actor, f)
		if err != nil {
			return err
		}
		v := templates.AuditView{Meta: s.meta(c, "Audit log", templates.NavAdmin), Filter: fv, Errors: errs}
		now, loc := s.Now(), actor.Location()
		for _, e := range page.Entries {
			v.Entries = append(v.Entries, templates.AuditRow{
				ID: e.ID.String(), Time: templates.NewTimeView(e.Time, now, loc), Actor: e.Actor,
				Action: string(e.Action), Target: e.Target, OK: e.Outcome == app.OutcomeOK, Message: auditMessage(e), IP: e.IP,
			})
		}
		if n := len(page.Entries); n > 0 {
			if page.HasOlder {
				v.OlderHref = auditPageURL(fv, "before", page.Entries[n-1].ID)
			}
			if page.HasNewer {
				v.NewerHref = auditPageURL(fv, "after", page.Entries[0].ID)
			}
		}
		status := http.StatusOK
		if errs.Any() {
			status = http.StatusUnprocessableEntity
		}
		if isHTMX(c) {
			return render(c, status, templates.AuditResultsRegion(v)) // the filters update the results only
		}
		return render(c, status, templates.AuditPage(v))
	}
}

// clipNote shortens a value quoted back in a note.
func clipNote(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// auditMessage is an entry's message, with the count of an aggregated row.
func auditMessage(e app.AuditEntry) string {
	if e.Count <= 1 {
		return e.Message
	}
	return fmt.Sprintf("%s (%d times; the latest shown)", e.Message, e.Count)
}
