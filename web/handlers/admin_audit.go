package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// auditActions are the actions offered in the filter.
func auditActions() []string {
	return []string{
		string(app.ActionLogin), string(app.ActionLogout), string(app.ActionSignOutEverywhere),
		string(app.ActionPasswordChange), string(app.ActionProfileUpdate),
		string(app.ActionUserCreate), string(app.ActionUserRole), string(app.ActionUserDisable),
		string(app.ActionUserEnable), string(app.ActionUserResetPassword),
		string(app.ActionAccountCreate), string(app.ActionAccountUpdate), string(app.ActionAccountDelete),
	}
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
	if len(fv.Action) > 100 {
		errs["action"] = "Choose an action from the list."
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
	if v := q.Get("before"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			f.Before = app.AuditID(n)
		}
	}
	if v := q.Get("after"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			f.After = app.AuditID(n)
		}
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
				Action: string(e.Action), Target: e.Target, OK: e.Outcome == app.OutcomeOK, Message: e.Message, IP: e.IP,
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
			return render(c, status, templates.AuditResults(v)) // the filters update the results only
		}
		return render(c, status, templates.AuditPage(v))
	}
}
