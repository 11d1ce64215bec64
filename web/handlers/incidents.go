package handlers

import (
	"cmp"
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
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
	"github.com/rcbu-console/rcbu-console/words"
)

// incidentService is what the incidents pages need; *app.Alerts is one.
type incidentService interface {
	ListIncidents(ctx context.Context, q app.IncidentQuery) (app.IncidentPage, error)
	Incident(ctx context.Context, accounts []app.AccountID, id app.IncidentID) (app.IncidentDetail, error)
	IncidentCounts(ctx context.Context) ([]app.IncidentCount, error)
	Snoozes(ctx context.Context, account app.AccountID) ([]app.Snooze, error)
	channelLister
}

// incidentFilter is the parsed query of /alerts (and /api/v1/incidents).
type incidentFilter struct {
	q      app.IncidentQuery
	all    bool // ?status=all
	notes  []string
	values url.Values // the filters as they go into links (no cursor)
	// agentName and configName are agent and configuration filters given
	// as names, not ids: the page resolves them through the report
	// history's names, the API refuses them.
	agentName, configName string
}

// parseIncidentQuery reads status, account, rule, agent, config, before
// and after. A value that cannot be used is reported as a note and
// ignored.
func parseIncidentQuery(q url.Values, accts []app.Account, defaultStatus app.IncidentStatus) incidentFilter {
	f := incidentFilter{values: url.Values{}}
	f.q.Accounts = scopeIDs(accts)
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	bad := func(format string, a ...any) { f.notes = append(f.notes, fmt.Sprintf(format, a...)) }
	switch raw := get("status"); raw {
	case "":
		f.q.Status = defaultStatus
	case "all":
		f.all = true
		f.values.Set("status", "all")
	default:
		st := app.IncidentStatus(raw)
		if !slices.Contains(app.IncidentStatuses(), st) {
			bad("Status %q is not one of open, acknowledged, snoozed, resolved or all; showing %s.", clip(raw), defaultStatus)
			st = defaultStatus
		}
		f.q.Status = st
		if st != defaultStatus {
			f.values.Set("status", string(st))
		}
	}
	if raw := get("account"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		found := false
		for _, a := range accts {
			found = found || err == nil && a.ID == app.AccountID(id)
		}
		if found {
			f.q.Account = app.AccountID(id)
			f.values.Set("account", raw)
		} else {
			bad("Account %q is not one of yours; showing every account in scope.", clip(raw))
		}
	}
	if raw := get("rule"); raw != "" {
		if r, err := app.ParseRuleKind(raw); err == nil {
			f.q.Rule = r
			f.values.Set("rule", raw)
		} else {
			bad("Rule %q is not one of the alert rules; showing every rule.", clip(raw))
		}
	}
	num := func(k, what string, name *string) int64 {
		raw := get(k)
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		switch {
		case err != nil:
			*name = raw
			return 0
		case n <= 0:
			bad("The %s id %q is not a positive number; that filter is ignored.", what, clip(raw))
			return 0
		}
		f.values.Set(k, raw)
		return n
	}
	f.q.AgentID = rcbu.AgentID(num("agent", "agent", &f.agentName))
	f.q.ConfigID = rcbu.ConfigurationID(num("config", "configuration", &f.configName))
	cursor := func(k string) app.IncidentID {
		raw := get(k)
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			bad("The page position in the link is not valid; showing the newest page.")
			return 0
		}
		return app.IncidentID(n)
	}
	f.q.Before, f.q.After = cursor("before"), cursor("after")
	return f
}

// incidentNamer resolves the incidents page's name filters; *app.History
// is one.
type incidentNamer interface {
	ResolveNames(ctx context.Context, f *app.ReportFilter) ([]app.FilterProblem, error)
	NameOf(ctx context.Context, accounts []app.AccountID, kind app.NameKind, id int64) (string, error)
}

// resolveIncidentNames turns the agent and configuration names of f into
// ids as the report filters do: a name that fits one agent or
// configuration becomes its id (resolved is true, and the canonical URL
// carries the id); one that fits several is a note and ignored; one that
// fits none is a note and matches nothing. It returns the names to show in
// the filter form.
func resolveIncidentNames(ctx context.Context, names incidentNamer, f *incidentFilter) (agent, config string, nothing, resolved bool, err error) {
	rf := app.ReportFilter{Accounts: f.q.Accounts, Account: f.q.Account, AgentName: f.agentName, ConfigName: f.configName}
	problems, err := names.ResolveNames(ctx, &rf)
	if err != nil {
		return "", "", false, false, err
	}
	for _, p := range problems {
		note := p.Message + "; " + p.Ignored + "."
		f.notes = append(f.notes, strings.ToUpper(note[:1])+note[1:])
	}
	scope := f.q.Accounts
	if f.q.Account != 0 {
		scope = []app.AccountID{f.q.Account}
	}
	show := func(typed string, kind app.NameKind, id int64, set func(int64), param string) (string, error) {
		switch {
		case typed != "" && id != 0: // a name that fits one
			set(id)
			f.values.Set(param, strconv.FormatInt(id, 10))
			resolved = true
		case typed != "":
			// Links keep what was typed, so the answer stays the same.
			f.values.Set(param, typed)
			return typed, nil
		}
		if id = cmp.Or(id, f.idOf(kind)); id == 0 {
			return "", nil
		}
		n, err := names.NameOf(ctx, scope, kind, id)
		return cmp.Or(n, strconv.FormatInt(id, 10)), err
	}
	if agent, err = show(f.agentName, app.NameAgent, int64(rf.AgentID), func(id int64) { f.q.AgentID = rcbu.AgentID(id) }, "agent"); err != nil {
		return "", "", false, false, err
	}
	if config, err = show(f.configName, app.NameConfiguration, int64(rf.ConfigID), func(id int64) { f.q.ConfigID = rcbu.ConfigurationID(id) }, "config"); err != nil {
		return "", "", false, false, err
	}
	return agent, config, rf.Nothing, resolved, nil
}

// idOf is the id filter of kind, 0 when none is set.
func (f *incidentFilter) idOf(kind app.NameKind) int64 {
	if kind == app.NameAgent {
		return int64(f.q.AgentID)
	}
	return int64(f.q.ConfigID)
}

// incidentStatusBadge is the badge of each status.
func incidentStatusBadge(st app.IncidentStatus) templates.Badge {
	switch st {
	case app.StatusAcknowledged:
		return templates.Badge{Word: st.Label(), Tone: templates.ToneWarning}
	case app.StatusSnoozed:
		return templates.Badge{Word: st.Label(), Tone: templates.ToneMuted}
	case app.StatusResolved:
		return templates.Badge{Word: st.Label(), Tone: templates.ToneSuccess}
	}
	return templates.Badge{Word: st.Label(), Tone: templates.ToneDanger}
}

// incidentReportHref is the report a backup incident is about ("" for
// others).
func incidentReportHref(inc app.Incident, multi bool) string {
	if inc.JobID == 0 || (inc.Rule != app.RuleBackupFailed && inc.Rule != app.RuleGrowth) {
		return ""
	}
	h := "/reports/backup/" + strconv.FormatInt(inc.JobID, 10)
	if multi {
		h += "?account=" + inc.AccountID.String()
	}
	return h
}

// incidentsPage lists the incidents of the accounts in scope by status,
// newest first, 50 a page, with the snoozes running now.
func (s *server) incidentsPage(al incidentService, namer incidentNamer) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u := mustUser(c)
		accts := scopeAccounts(c)
		names := map[app.AccountID]string{}
		for _, a := range accts {
			names[a.ID] = a.Name
		}
		multi := len(accts) > 1
		f := parseIncidentQuery(c.QueryParams(), accts, app.StatusOpen)
		agentShown, configShown, nothing, resolved, err := resolveIncidentNames(ctx, namer, &f)
		if err != nil {
			return err
		}
		if resolved {
			// The URL keeps the id a name stands for.
			return seeOther(c, withQuery("/alerts", f.values))
		}
		var page app.IncidentPage
		if !nothing {
			if page, err = al.ListIncidents(ctx, f.q); err != nil {
				return err
			}
		}
		counts, err := al.IncidentCounts(ctx)
		if err != nil {
			return err
		}
		byStatus := map[app.IncidentStatus]int{}
		for _, n := range counts {
			if _, ok := names[n.AccountID]; ok && (f.q.Account == 0 || n.AccountID == f.q.Account) {
				byStatus[n.Status] += n.N
			}
		}
		now, loc := s.Now(), u.Location()
		v := templates.IncidentsView{Meta: s.meta(c, "Alerts", templates.NavAlerts), Nav: alertsNav(c, "incidents"), ShowAccount: multi,
			Notes: f.notes, CanSnooze: scopeRole(c, u).Allows(app.RoleCreator)}
		var parts []string
		for _, st := range []app.IncidentStatus{app.StatusOpen, app.StatusAcknowledged, app.StatusSnoozed} {
			parts = append(parts, templates.Count(int64(byStatus[st]))+" "+strings.ToLower(st.Label()))
		}
		v.Summary = strings.Join(parts, " · ")
		if byStatus[app.StatusOpen]+byStatus[app.StatusAcknowledged]+byStatus[app.StatusSnoozed] == 0 {
			v.Summary = "Nothing is wrong now."
		}
		tabHref := func(st string) string {
			q := cloneValues(f.values)
			q.Del("status")
			if st != string(app.StatusOpen) {
				q.Set("status", st)
			}
			return withQuery("/alerts", q)
		}
		for _, st := range app.IncidentStatuses() {
			t := templates.TabView{Label: st.Label(), Href: tabHref(string(st)), Current: !f.all && f.q.Status == st}
			if st != app.StatusResolved {
				t.Count = templates.Count(int64(byStatus[st]))
			}
			v.Tabs = append(v.Tabs, t)
		}
		v.Tabs = append(v.Tabs, templates.TabView{Label: "All", Href: tabHref("all"), Current: f.all})

		v.Filter = templates.IncidentFilterView{Status: f.values.Get("status"), Agent: agentShown, Config: configShown,
			Clear: tabHref(cmp.Or(f.values.Get("status"), string(app.StatusOpen)))}
		for _, k := range []string{"account", "rule", "agent", "config"} {
			if f.values.Get(k) != "" || k == "agent" && f.agentName != "" || k == "config" && f.configName != "" {
				v.Filter.Active++
			}
		}
		v.Filter.AccountOptions = accountOptions(accts, f.values.Get("account"))
		v.Filter.RuleOptions = []templates.Option{{Value: "", Label: "Every rule", Selected: f.q.Rule == ""}}
		for _, r := range app.RuleKinds() {
			v.Filter.RuleOptions = append(v.Filter.RuleOptions, templates.Option{Value: string(r), Label: r.Label(), Selected: f.q.Rule == r})
		}
		for _, inc := range page.Incidents {
			st := inc.Status()
			row := templates.IncidentRow{ID: inc.ID.String(), Href: "/alerts/incidents/" + inc.ID.String(), Account: names[inc.AccountID],
				Rule: inc.Rule.Label(), Title: inc.Title, Detail: inc.Detail, Badge: incidentStatusBadge(st),
				Opened: templates.NewTimeView(inc.Opened, now, loc), Resolved: templates.TimeView{Rel: "—"},
				ReportHref: incidentReportHref(inc, multi)}
			if inc.State == app.IncidentResolved {
				row.Resolved = templates.NewTimeView(inc.Resolved, now, loc)
			}
			if !inc.Acked.IsZero() {
				m := "Acknowledged by " + inc.AckBy + " " + templates.NewTimeView(inc.Acked, now, loc).Rel
				if inc.AckNote != "" {
					m += ": " + inc.AckNote
				}
				row.Marks = append(row.Marks, m)
			}
			if !inc.SnoozedUntil.IsZero() {
				row.Marks = append(row.Marks, "Snoozed until "+templates.NewTimeView(inc.SnoozedUntil, now, loc).Abs+"; it sends nothing")
			}
			if inc.ConfigID != 0 && f.q.ConfigID == 0 {
				q := cloneValues(f.values)
				q.Set("config", strconv.FormatInt(int64(inc.ConfigID), 10))
				row.ConfigHref = withQuery("/alerts", q)
			}
			v.Rows = append(v.Rows, row)
		}
		if n := len(page.Incidents); n > 0 {
			if page.HasOlder {
				q := cloneValues(f.values)
				q.Set("before", page.Incidents[n-1].ID.String())
				v.OlderHref = withQuery("/alerts", q)
			}
			if page.HasNewer {
				q := cloneValues(f.values)
				q.Set("after", page.Incidents[0].ID.String())
				v.NewerHref = withQuery("/alerts", q)
			}
		}
		switch {
		case len(accts) == 0:
			v.Empty = "No Rackspace account is connected yet. An admin can add one in Admin → Accounts."
		case f.q.Status == app.StatusOpen && !f.all && v.Filter.Active == 0:
			v.Empty = "Nothing is open that nobody is on. The rules run after every report sync and every few minutes."
			if v.Nav.IsAdmin {
				v.Empty += " Add a channel under Channels to be told when something goes wrong."
			}
		default:
			v.Empty = "No incidents match. Try another tab, or clear the filters."
		}
		for _, a := range accts {
			if f.q.Account != 0 && a.ID != f.q.Account {
				continue
			}
			list, err := al.Snoozes(ctx, a.ID)
			if err != nil {
				return err
			}
			for _, z := range list {
				row := templates.SnoozeRow{Kind: string(z.Kind), ID: strconv.FormatInt(z.TargetID, 10),
					What:  string(z.Kind) + " " + displayName(z.Name, strconv.FormatInt(z.TargetID, 10)),
					Until: templates.NewTimeView(z.Until, now, loc), Reason: z.Reason, By: z.By, Return: c.Request().URL.RequestURI()}
				if multi {
					row.Account = a.Name
				}
				v.Snoozes = append(v.Snoozes, row)
			}
		}
		if acct, ok := currentAccount(c); ok && u.RoleOn(acct.ID).Allows(app.RoleCreator) {
			chans, err := al.Channels(ctx, u, acct.ID)
			if err != nil {
				return err
			}
			for _, ch := range chans {
				v.Logs = append(v.Logs, templates.LinkView{Href: "/alerts/channels/" + ch.ID.String() + "/deliveries", Label: ch.Name})
			}
		}
		return render(c, http.StatusOK, templates.IncidentsPage(v))
	}
}

// incidentView builds the incident page; ackErrs and snoozeErrs carry a
// rejected form (with its input) back to it.
func (s *server) incidentView(c echo.Context, d app.IncidentDetail, note string, ackErrs templates.FormErrors, snooze *templates.SnoozeFormView) (templates.IncidentView, error) {
	u := mustUser(c)
	now, loc := s.Now(), u.Location()
	accts := scopeAccounts(c)
	inc := d.Incident
	v := templates.IncidentView{
		Meta: s.meta(c, "Incident "+inc.ID.String(), templates.NavAlerts), Nav: alertsNav(c, "incidents"),
		ID: inc.ID.String(), Title: inc.Title, Detail: inc.Detail, Rule: inc.Rule.Label(), Badge: incidentStatusBadge(inc.Status()),
		Opened: templates.NewTimeView(inc.Opened, now, loc), Happened: templates.NewTimeView(inc.Happened, now, loc),
		IsResolved: inc.State == app.IncidentResolved, Resolved: templates.NewTimeView(inc.Resolved, now, loc),
		IsAcked: !inc.Acked.IsZero(), Acked: templates.NewTimeView(inc.Acked, now, loc), AckBy: inc.AckBy, AckNote: inc.AckNote,
		IsSnoozed: !inc.SnoozedUntil.IsZero(), Snoozed: templates.NewTimeView(inc.SnoozedUntil, now, loc),
		ReportHref: incidentReportHref(inc, len(accts) > 1), CanAct: u.RoleOn(inc.AccountID).Allows(app.RoleCreator),
		Note: note, Errors: ackErrs, ShowDeliveries: u.RoleOn(inc.AccountID).Allows(app.RoleCreator),
	}
	if len(accts) > 1 {
		for _, a := range accts {
			if a.ID == inc.AccountID {
				v.Account = a.Name
			}
		}
	}
	if inc.ConfigID != 0 {
		v.ConfigHref = "/configurations/" + strconv.FormatInt(int64(inc.ConfigID), 10)
	}
	if inc.AgentID != 0 {
		v.AgentHref = "/agents/" + strconv.FormatInt(int64(inc.AgentID), 10)
	}
	until := now.In(loc).Add(24 * time.Hour).Format("2006-01-02T15:04")
	cfgName, agentName, err := incidentNames(c.Request().Context(), s.History, inc)
	if err != nil {
		return templates.IncidentView{}, err
	}
	if inc.ConfigID != 0 {
		v.Snooze = append(v.Snooze, templates.SnoozeFormView{Kind: string(app.SnoozeConfiguration), ID: strconv.FormatInt(int64(inc.ConfigID), 10),
			Name: cfgName, Label: "Snooze the configuration " + cfgName, Until: until})
	}
	if inc.AgentID != 0 {
		v.Snooze = append(v.Snooze, templates.SnoozeFormView{Kind: string(app.SnoozeAgent), ID: strconv.FormatInt(int64(inc.AgentID), 10),
			Name: agentName, Label: "Snooze the agent " + agentName, Until: until})
	}
	if snooze != nil {
		for i := range v.Snooze {
			if v.Snooze[i].Kind == snooze.Kind {
				v.Snooze[i].Until, v.Snooze[i].Reason, v.Snooze[i].Errors = snooze.Until, snooze.Reason, snooze.Errors
			}
		}
	}
	for _, dl := range d.Deliveries {
		v.Deliveries = append(v.Deliveries, templates.IncidentDeliveryRow{
			Channel: displayName(d.Channels[dl.ChannelID], "Channel "+strconv.FormatInt(int64(dl.ChannelID), 10)),
			Href:    "/alerts/channels/" + strconv.FormatInt(int64(dl.ChannelID), 10) + "/deliveries",
			Event:   words.NoticeEvents.Say(string(dl.Event)), Badge: deliveryBadge(dl), Time: templates.NewTimeView(dl.Created, now, loc),
		})
	}
	return v, nil
}

// renderIncident renders the incident page with status.
func (s *server) renderIncident(c echo.Context, status int, d app.IncidentDetail, note string, ackErrs templates.FormErrors, snooze *templates.SnoozeFormView) error {
	v, err := s.incidentView(c, d, note, ackErrs, snooze)
	if err != nil {
		return err
	}
	return render(c, status, templates.IncidentPage(v))
}

// incidentNames are the names the report history knows for an incident's
// configuration and agent ("configuration 12" and "agent 7" when it knows
// none, as for one that never reported).
func incidentNames(ctx context.Context, names nameSource, inc app.Incident) (cfg, agent string, err error) {
	cfg = words.DeletedConfiguration(int64(inc.ConfigID))
	agent = "agent " + strconv.FormatInt(int64(inc.AgentID), 10)
	scope := []app.AccountID{inc.AccountID}
	if n, err := names.NameOf(ctx, scope, app.NameConfiguration, int64(inc.ConfigID)); err != nil {
		return "", "", err
	} else if n != "" {
		cfg = n
	}
	if n, err := names.NameOf(ctx, scope, app.NameAgent, int64(inc.AgentID)); err != nil {
		return "", "", err
	} else if n != "" {
		agent = n
	}
	return cfg, agent, nil
}

// nameSource finds the names of agents and configurations; *app.History
// is one.
type nameSource interface {
	NameOf(ctx context.Context, accounts []app.AccountID, kind app.NameKind, id int64) (string, error)
}

// incidentOfRequest loads :id among the incidents in scope.
func incidentOfRequest(c echo.Context, al incidentService) (app.IncidentDetail, error) {
	id, err := parseID(c, "id")
	if err != nil {
		return app.IncidentDetail{}, err
	}
	return al.Incident(c.Request().Context(), scopeIDs(scopeAccounts(c)), app.IncidentID(id))
}

// incidentPage shows one incident.
func (s *server) incidentPage(al incidentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := incidentOfRequest(c, al)
		if err != nil {
			return err
		}
		return s.renderIncident(c, http.StatusOK, d, "", nil, nil)
	}
}

type incidentActor interface {
	incidentService
	Acknowledge(ctx context.Context, actor app.User, accounts []app.AccountID, id app.IncidentID, note string) (app.Incident, error)
	SnoozeUntil(ctx context.Context, actor app.User, account app.AccountID, loc *time.Location, req app.SnoozeRequest) (app.Snooze, error)
	EndSnooze(ctx context.Context, actor app.User, account app.AccountID, kind app.SnoozeKind, id int64) error
}

// acknowledgeIncident records "I am on it" with the note; a refusal (a
// resolved incident, a note too long) is said on the incident's page.
func (s *server) acknowledgeIncident(al incidentActor) echo.HandlerFunc {
	return func(c echo.Context) error {
		d, err := incidentOfRequest(c, al)
		if err != nil {
			return err
		}
		note := c.FormValue("note")
		_, err = al.Acknowledge(c.Request().Context(), mustUser(c), scopeIDs(scopeAccounts(c)), d.Incident.ID, note)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return s.renderIncident(c, http.StatusUnprocessableEntity, d, note, fe, nil)
		}, "Acknowledged. The team can see you are on it.", "/alerts/incidents/"+d.Incident.ID.String())
	}
}

// snoozeTarget snoozes the agent or configuration of an incident until a
// time; a refusal is said on the incident's page, under its form.
func (s *server) snoozeTarget(al incidentActor) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.FormValue("incident"), 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("incident %q: %w", clip(c.FormValue("incident")), app.ErrNotFound)
		}
		d, err := al.Incident(c.Request().Context(), scopeIDs(scopeAccounts(c)), app.IncidentID(id))
		if err != nil {
			return err
		}
		inc := d.Incident
		req := app.SnoozeRequest{Kind: c.FormValue("kind"), ID: c.FormValue("id"), Name: c.FormValue("name"),
			Until: c.FormValue("until"), Reason: c.FormValue("reason")}
		// Only what the incident is about can be snoozed from its page.
		ok := req.Kind == string(app.SnoozeAgent) && req.ID == strconv.FormatInt(int64(inc.AgentID), 10) && inc.AgentID != 0 ||
			req.Kind == string(app.SnoozeConfiguration) && req.ID == strconv.FormatInt(int64(inc.ConfigID), 10) && inc.ConfigID != 0
		if !ok {
			return fmt.Errorf("snooze %s %q of incident %d: %w", clip(req.Kind), clip(req.ID), id, app.ErrNotFound)
		}
		u := mustUser(c)
		z, err := al.SnoozeUntil(c.Request().Context(), u, inc.AccountID, u.Location(), req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			f := &templates.SnoozeFormView{Kind: req.Kind, Until: req.Until, Reason: req.Reason, Errors: fe}
			return s.renderIncident(c, http.StatusUnprocessableEntity, d, "", nil, f)
		}, fmt.Sprintf("Snoozed the %s %s until %s: its incidents still show, and send nothing.", req.Kind,
			displayName(z.Name, req.ID), templates.NewTimeView(z.Until, s.Now(), u.Location()).Abs), "/alerts/incidents/"+inc.ID.String())
	}
}

// endSnooze ends a snooze of the selected account (or of any account in
// scope that has it) now.
func (s *server) endSnooze(al incidentActor) echo.HandlerFunc {
	return func(c echo.Context) error {
		kind, err := app.ParseSnoozeKind(c.FormValue("kind"))
		if err != nil {
			return fmt.Errorf("end snooze: %w", app.ErrNotFound)
		}
		id, err := strconv.ParseInt(c.FormValue("id"), 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("end snooze %q: %w", clip(c.FormValue("id")), app.ErrNotFound)
		}
		back := localPath(c.FormValue("return"))
		if !strings.HasPrefix(back, "/alerts") {
			back = "/alerts"
		}
		u := mustUser(c)
		ctx := c.Request().Context()
		for _, a := range scopeAccounts(c) {
			list, err := al.Snoozes(ctx, a.ID)
			if err != nil {
				return err
			}
			for _, z := range list {
				if z.Kind == kind && z.TargetID == id {
					if err := al.EndSnooze(ctx, u, a.ID, kind, id); err != nil {
						return err
					}
					return flashAndRedirect(c, templates.FlashSuccess, "The snooze has ended; new problems send notices again.", back)
				}
			}
		}
		return flashAndRedirect(c, templates.FlashInfo, "That snooze had ended already.", back)
	}
}

// clip shortens a value quoted back in an error.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:39]) + "…"
	}
	return s
}

// apiIncident is one incident as /api/v1/incidents returns it.
type apiIncident struct {
	ID              app.IncidentID       `json:"id"`
	AccountID       app.AccountID        `json:"account_id"`
	Rule            app.RuleKind         `json:"rule"`
	Object          string               `json:"object"`
	Status          app.IncidentStatus   `json:"status"`
	Title           string               `json:"title"`
	Detail          string               `json:"detail"`
	AgentID         rcbu.AgentID         `json:"agent_id,omitempty"`
	ConfigurationID rcbu.ConfigurationID `json:"configuration_id,omitempty"`
	BackupID        int64                `json:"backup_id,omitempty"`
	HappenedAt      *string              `json:"happened_at"`
	OpenedAt        *string              `json:"opened_at"`
	ResolvedAt      *string              `json:"resolved_at"`
	AcknowledgedAt  *string              `json:"acknowledged_at"`
	AcknowledgedBy  string               `json:"acknowledged_by,omitempty"`
	Note            string               `json:"note,omitempty"`
	SnoozedUntil    *string              `json:"snoozed_until"`
}

// apiIncidents is GET /api/v1/incidents: the incidents of every account,
// newest first, with the incidents page's filters (status open,
// acknowledged, snoozed, resolved or all (the default); account, rule,
// agent, config) and keyset paging (before; follow next). A filter that
// cannot be used is refused with 400.
func apiIncidents(accounts accountLister, al incidentService) echo.HandlerFunc {
	return func(c echo.Context) error {
		list, err := apiAccounts(c, accounts)
		if err != nil {
			return err
		}
		f := parseIncidentQuery(c.QueryParams(), list, "")
		for _, n := range []struct{ what, raw string }{{"agent", f.agentName}, {"configuration", f.configName}} {
			if n.raw != "" {
				f.notes = append(f.notes, fmt.Sprintf("The %s id %q is not a positive number; that filter is ignored.", n.what, clip(n.raw)))
			}
		}
		if raw := c.QueryParam("limit"); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > app.IncidentPageSize {
				f.notes = append(f.notes, fmt.Sprintf("limit %q is not a number from 1 to %d", clip(raw), app.IncidentPageSize))
			}
			f.q.Limit = n
		}
		if len(f.notes) > 0 {
			return fmt.Errorf("api incidents: %w", app.Invalid("filter", strings.Join(f.notes, " ")))
		}
		page, err := al.ListIncidents(c.Request().Context(), f.q)
		if err != nil {
			return err
		}
		out := make([]apiIncident, len(page.Incidents))
		for i, inc := range page.Incidents {
			out[i] = apiIncident{ID: inc.ID, AccountID: inc.AccountID, Rule: inc.Rule, Object: inc.Object, Status: inc.Status(),
				Title: inc.Title, Detail: inc.Detail, AgentID: inc.AgentID, ConfigurationID: inc.ConfigID, BackupID: inc.JobID,
				HappenedAt: jsonTime(inc.Happened), OpenedAt: jsonTime(inc.Opened), ResolvedAt: jsonTime(inc.Resolved),
				AcknowledgedAt: jsonTime(inc.Acked), AcknowledgedBy: inc.AckBy, Note: inc.AckNote, SnoozedUntil: jsonTime(inc.SnoozedUntil)}
		}
		var next *string
		if page.HasOlder && len(page.Incidents) > 0 {
			q := c.QueryParams()
			q.Del("after")
			q.Set("before", page.Incidents[len(page.Incidents)-1].ID.String())
			u := c.Request().URL.Path + "?" + q.Encode()
			next = &u
		}
		return c.JSON(http.StatusOK, struct {
			Incidents []apiIncident `json:"incidents"`
			Next      *string       `json:"next"`
		}{out, next})
	}
}
