package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// agentLister lists the scope's agents with live status.
type agentLister interface {
	AgentsLive(ctx context.Context, scope app.Scope) ([]app.FleetAgent, []app.AccountProblem, error)
}

// agentsPageSize is how many agents one page of the agents page lists.
const agentsPageSize = 50

// listAgents is the agents page (GET /agents): search by name, IP or host
// server id, filter by status and datacenter, in pages of 50 by name. The filters are a GET form,
// so the URL reproduces the view; htmx swaps only the results. Filter
// values that make no sense are ignored, with a note.
func (s *server) listAgents(fleet agentLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		scope := fleetScope(c)
		f, notes := parseAgentFilter(c)
		v := templates.AgentsView{NoAccounts: len(scope.Accounts) == 0, ShowAccount: scope.Multi(), Notes: notes}
		var all []app.FleetAgent
		if !v.NoAccounts {
			list, problems, err := fleet.AgentsLive(c.Request().Context(), scope)
			if err != nil {
				return err
			}
			all = list
			v.Problems = problemViews(problems, c.Request().URL.RequestURI())
		}
		v.Total = len(all)
		now, loc := s.Now(), u.Location()
		matching := app.FilterAgents(all, f)
		slices.SortStableFunc(matching, func(a, b app.FleetAgent) int {
			return strings.Compare(strings.ToLower(displayName(a.Agent.MachineName, "agent")), strings.ToLower(displayName(b.Agent.MachineName, "agent")))
		})
		page, n, pages := app.PageOf(matching, pageParam(c), agentsPageSize)
		for _, fa := range page {
			v.Rows = append(v.Rows, agentListRow(fa, now, loc))
		}
		v.Matching = len(matching)
		q := url.Values{}
		for k, val := range map[string]string{"q": f.Query, "status": f.State, "datacenter": f.Datacenter} {
			if val != "" {
				q.Set(k, val)
			}
		}
		v.Pager = pagerView("/agents", q, n, pages, len(matching), "agents", agentsPageSize)
		v.Filter = agentFilterView(f, all)
		if isHTMX(c) && c.Request().Header.Get("HX-History-Restore-Request") != "true" {
			return render(c, http.StatusOK, templates.AgentsResults(v))
		}
		v.Meta = s.meta(c, "Agents", templates.NavAgents)
		return render(c, http.StatusOK, templates.AgentsPage(v))
	}
}

// parseAgentFilter reads the filter from the query. Bad values are dropped
// with a note saying so, never an error.
func parseAgentFilter(c echo.Context) (app.AgentFilter, []string) {
	var f app.AgentFilter
	var notes []string
	f.Query = app.SearchText(c.QueryParam("q"), &notes)
	if st := strings.ToLower(strings.TrimSpace(c.QueryParam("status"))); st != "" {
		if slices.Contains(app.AgentStates(), st) {
			f.State = st
		} else {
			notes = append(notes, "The status filter was not understood and is ignored.")
		}
	}
	f.Datacenter = datacenterParam(c, "datacenter", &notes)
	return f, notes
}

func agentFilterView(f app.AgentFilter, all []app.FleetAgent) templates.AgentFilterView {
	v := templates.AgentFilterView{Query: f.Query, Active: f != (app.AgentFilter{})}
	v.Status = templates.SelectField{Name: "status", Label: "Status", Options: append(
		[]templates.Option{{Value: "", Label: "Any status", Selected: f.State == ""}},
		agentStateOptions(f.State)...)}
	dcs := make([]string, len(all))
	for i, fa := range all {
		dcs[i] = fa.Agent.Datacenter
	}
	v.Datacenter = datacenterField("datacenter", "Datacenter", "Any datacenter", f.Datacenter, dcs)
	return v
}

// agentStateOptions are the options of an agent status filter, one per
// state, with selected chosen.
func agentStateOptions(selected string) []templates.Option {
	var out []templates.Option
	for _, st := range app.AgentStates() {
		out = append(out, templates.Option{Value: st, Label: strings.ToUpper(st[:1]) + st[1:], Selected: selected == st})
	}
	return out
}

// datacenterParam is the datacenter code in the query's param (upper
// case); one that cannot be a code is dropped with a note naming the
// filter.
func datacenterParam(c echo.Context, param string, notes *[]string) string {
	dc := strings.ToUpper(strings.TrimSpace(c.QueryParam(param)))
	if dc == "" || len(dc) <= 8 && strings.Trim(dc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == "" {
		return dc
	}
	*notes = append(*notes, "The "+param+" filter was not understood and is ignored.")
	return ""
}

// datacenterField is a datacenter filter: "any" first, then every
// datacenter the agents are in (upper case, sorted), plus the selected one
// even when no agent of the page is there any more.
func datacenterField(name, label, anyLabel, selected string, datacenters []string) templates.SelectField {
	set := map[string]bool{}
	for _, dc := range datacenters {
		if dc != "" {
			set[strings.ToUpper(dc)] = true
		}
	}
	if selected != "" {
		set[selected] = true
	}
	f := templates.SelectField{Name: name, Label: label, Options: []templates.Option{{Value: "", Label: anyLabel, Selected: selected == ""}}}
	for _, dc := range slices.Sorted(maps.Keys(set)) {
		f.Options = append(f.Options, templates.Option{Value: dc, Label: dc, Selected: selected == dc})
	}
	return f
}

func agentListRow(fa app.FleetAgent, now time.Time, loc *time.Location) templates.AgentListRow {
	a := fa.Agent
	id := strconv.FormatInt(int64(a.ID), 10)
	r := templates.AgentListRow{
		ID: id, Href: "/agents/" + id, Name: displayName(a.MachineName, "agent "+id), Account: fa.AccountName,
		Status: agentBadge(fa), StatusNote: fa.Problem, Datacenter: a.Datacenter, IP: a.IPAddress,
		OS: osName(a), VaultSize: vaultSize(a), Encryption: encryptionWord(a.IsEncrypted),
	}
	if a.TimeOfLastSuccessfulBackup.Valid() {
		r.LastSuccess = templates.NewTimeView(a.TimeOfLastSuccessfulBackup.Time, now, loc)
	} else {
		r.LastSuccess = templates.NewTimeView(time.Time{}, now, loc)
	}
	return r
}

func osName(a rcbu.Agent) string {
	s := a.OperatingSystem
	if a.OperatingSystemVersion != "" {
		s += " " + a.OperatingSystemVersion
	}
	return s
}

func encryptionWord(enc bool) string {
	if enc {
		return "Encrypted"
	}
	return "Not encrypted"
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// agentReader reads one agent's page data.
type agentReader interface {
	AgentDetail(ctx context.Context, scope app.Scope, id rcbu.AgentID) (app.AgentDetail, error)
}

// agentPage shows one agent (GET /agents/{id}): details, configurations with
// their last result and Start buttons, active jobs, recent activity, and
// the actions the user's role allows. An id that is not an agent of the
// selected account(s) is 404.
func (s *server) agentPage(ops agentReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		d, err := ops.AgentDetail(c.Request().Context(), fleetScope(c), rcbu.AgentID(id))
		if err != nil {
			return s.upstreamPage(c, err, "Agent")
		}
		u := mustUser(c)
		v := s.agentView(c, u, d)
		v.Charts = s.agentCharts(c, rcbu.AgentID(id), u.Location())
		return render(c, http.StatusOK, templates.AgentPage(v))
	}
}

// agentCharts is the report history's charts of the agent's runs over 30
// days (?days=90 for 90), or nil when the history cannot be read.
func (s *server) agentCharts(c echo.Context, id rcbu.AgentID, loc *time.Location) templ.Component {
	days := 30
	if c.QueryParam("days") == "90" {
		days = 90
	}
	scope := fleetScope(c)
	ids := make([]app.AccountID, len(scope.Accounts))
	for i, a := range scope.Accounts {
		ids[i] = a.ID
	}
	pts, err := s.History.Runs(c.Request().Context(), ids, id, 0, days)
	if err != nil {
		s.Log.WarnContext(c.Request().Context(), "agent_charts_failed", slog.Any("err", err))
		return nil
	}
	path := "/agents/" + strconv.FormatInt(int64(id), 10)
	return templates.RunCharts(RunChartsFor(pts, id, 0, days, path, url.Values{}, s.Now(), loc))
}

func (s *server) agentView(c echo.Context, u app.User, d app.AgentDetail) templates.AgentView {
	now, loc := s.Now(), u.Location()
	a := d.Agent
	id := strconv.FormatInt(int64(a.ID), 10)
	name := displayName(a.MachineName, "agent "+id)
	v := templates.AgentView{
		Meta:            s.meta(c, name, templates.NavAgents),
		ID:              id,
		Name:            name,
		Status:          agentBadge(d.FleetAgent),
		StatusNote:      d.Problem,
		Disabled:        a.IsDisabled,
		Encrypted:       a.IsEncrypted,
		CanCreate:       u.RoleOn(d.AccountID).Allows(app.RoleCreator),
		IsAdmin:         u.Role.Allows(app.RoleAdmin),
		ConfigsProblem:  d.ConfigurationsProblem,
		ActivityProblem: d.ActivityProblem,
	}
	vault := vaultSize(a)
	backupDC := a.BackupDatacenter
	if backupDC == "" {
		backupDC = a.Datacenter
	}
	v.Facts = []templates.Fact{
		{Label: "Operating system", Value: orDash(osName(a)), Key: "os"},
		{Label: "Agent version", Value: orDash(a.AgentVersion), Key: "version"},
		{Label: "IP address", Value: orDash(a.IPAddress), Key: "ip"},
		{Label: "Datacenter", Value: orDash(a.Datacenter), Key: "datacenter"},
		{Label: "Backup datacenter", Value: orDash(backupDC), Key: "backup-datacenter"},
		{Label: "Uses ServiceNet", Value: yesNo(a.UseServiceNet), Key: "servicenet"},
		{Label: "Vault size", Value: vault, Key: "vault"},
		{Label: "Vault encryption", Value: encryptionWord(a.IsEncrypted), Key: "encryption"},
		{Label: "Host server id", Value: orDash(a.HostServerID), Key: "host-server"},
		{Label: "Agent id", Value: id, Key: "id"},
	}
	if fleetScope(c).Multi() {
		v.Facts = append(v.Facts, templates.Fact{Label: "Rackspace account", Value: d.AccountName, Key: "account"})
	}
	if a.TimeOfLastSuccessfulBackup.Valid() {
		v.LastSuccess = templates.NewTimeView(a.TimeOfLastSuccessfulBackup.Time, now, loc)
	} else {
		v.LastSuccess = templates.NewTimeView(time.Time{}, now, loc)
	}
	token := app.NewStartToken()
	for _, st := range d.Configurations {
		cf := st.Configuration
		cid := strconv.FormatInt(int64(cf.ID), 10)
		row := templates.AgentConfigRow{
			ID: cid, Href: "/configurations/" + cid, Name: configName(cf.Name, int64(cf.ID)),
			Schedule: scheduleWords(cf), Enabled: cf.IsActive, Overdue: st.Overdue.Words(),
			LastState: lastStateBadge(st.LastState),
			LastRun:   templates.NewTimeView(st.LastRun, now, loc),
		}
		if next, ok := cf.NextRun(); ok && cf.IsActive {
			row.NextRun = templates.NewTimeView(next, now, loc)
		}
		if st.Running != nil {
			p := activityPanel(*st.Running, v.CanCreate, now, loc)
			row.Running = &p
		} else if v.CanCreate {
			row.Start = &templates.StartButtonView{ConfigurationID: cid, Label: "Start backup", Name: cf.Name, Token: token, Return: "/agents/" + id}
		}
		v.Configurations = append(v.Configurations, row)
	}
	for _, j := range d.Jobs {
		p := activityPanel(j, v.CanCreate, now, loc)
		p.Compact = false
		p.Agent, p.AgentHref = name, "/agents/"+id
		p.ConfigurationHref = "/configurations/" + strconv.FormatInt(int64(j.Activity.ConfigurationID), 10)
		if p.StatusURL != "" {
			p.StatusURL = strings.TrimSuffix(p.StatusURL, "?compact=1")
			p.StopURL = strings.TrimSuffix(p.StopURL, "?compact=1")
		}
		v.Jobs = append(v.Jobs, p)
	}
	for _, a := range d.Recent {
		v.Activity = append(v.Activity, activityRow(a, false, now, loc))
	}
	return v
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// scheduleWords says a configuration's schedule in words.
func scheduleWords(cf rcbu.Configuration) string {
	sch, err := cf.Schedule()
	if err != nil {
		return string(cf.Frequency)
	}
	return sch.String()
}

// lastStateBadge is a configuration's last result; "" reads "No runs yet".
func lastStateBadge(state string) templates.Badge {
	if state == "" || strings.EqualFold(state, "Not Available") {
		return templates.Badge{Word: "No runs yet", Tone: templates.ToneNeutral}
	}
	return templates.BackupBadge(state)
}

// agentActor runs one agent action.
type agentActor interface {
	WakeAgent(ctx context.Context, actor app.User, scope app.Scope, id rcbu.AgentID) (app.FleetAgent, error)
	SetAgentEnabled(ctx context.Context, actor app.User, scope app.Scope, id rcbu.AgentID, enabled bool) (app.FleetAgent, error)
}

// agentQuick is a one-click agent action. It is not a string, so a
// misspelt action in routes.go cannot compile.
type agentQuick int

// The one-click agent actions.
const (
	quickWake agentQuick = iota + 1
	quickEnable
	quickDisable
)

// agentQuickAction handles Wake, Enable and Disable (POST
// /agents/{id}/wake|enable|disable, Creator and up): the action, then a
// flash and the agent's page. An upstream failure is a flash in words.
func (s *server) agentQuickAction(ops agentActor, kind agentQuick) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		u := mustUser(c)
		ctx, sc, aid := c.Request().Context(), fleetScope(c), rcbu.AgentID(id)
		var ok string
		switch kind {
		case quickWake:
			_, err = ops.WakeAgent(ctx, u, sc, aid)
			ok = "Asked the account's agents to connect. An agent that was asleep comes online within about 20 seconds."
		case quickEnable:
			_, err = ops.SetAgentEnabled(ctx, u, sc, aid, true)
			ok = "Agent enabled: its scheduled backups run again."
		case quickDisable:
			_, err = ops.SetAgentEnabled(ctx, u, sc, aid, false)
			ok = "Agent disabled: it runs no backups until enabled again."
		default:
			return fmt.Errorf("handlers: agent action %d has no handler", kind)
		}
		back := "/agents/" + strconv.FormatInt(id, 10)
		if err != nil {
			msg := upstreamMessage(err)
			if msg == "" {
				return err
			}
			return flashAndRedirect(c, templates.FlashError, "Nothing changed. "+msg, back)
		}
		return flashAndRedirect(c, templates.FlashSuccess, ok, back)
	}
}

// agentDangerOps runs the Admin actions behind a confirmation page.
type agentDangerOps interface {
	AgentDetail(ctx context.Context, scope app.Scope, id rcbu.AgentID) (app.AgentDetail, error)
	EnableEncryption(ctx context.Context, actor app.User, scope app.Scope, id rcbu.AgentID, req app.EncryptionRequest) (app.FleetAgent, error)
	ChangeEncryptionPassword(ctx context.Context, actor app.User, scope app.Scope, id rcbu.AgentID, req app.PasswordChangeRequest) (app.FleetAgent, error)
	DeleteAgent(ctx context.Context, actor app.User, scope app.Scope, id rcbu.AgentID, confirmName string) (app.FleetAgent, error)
	MigrationTargets(ctx context.Context, scope app.Scope, id rcbu.AgentID) (app.FleetAgent, []app.FleetAgent, error)
	MigrateVault(ctx context.Context, actor app.User, scope app.Scope, id, dst rcbu.AgentID) (app.FleetAgent, error)
}

// agentDanger is an Admin agent action behind a confirmation page. It is
// not a string, so a misspelt action in routes.go cannot compile.
type agentDanger int

// The agent actions behind a confirmation page.
const (
	dangerEncrypt agentDanger = iota + 1
	dangerPassword
	dangerDelete
	dangerMigrate
)

// String is the action's form on the confirmation page
// (templates.AgentActionView.Kind).
func (k agentDanger) String() string {
	switch k {
	case dangerEncrypt:
		return "encrypt"
	case dangerPassword:
		return "password"
	case dangerDelete:
		return "delete"
	case dangerMigrate:
		return "migrate"
	}
	return "unknown"
}

// title is the confirmation page's title.
func (k agentDanger) title() string {
	switch k {
	case dangerEncrypt:
		return "Enable encryption"
	case dangerPassword:
		return "Change encryption password"
	case dangerDelete:
		return "Delete agent"
	case dangerMigrate:
		return "Migrate vault"
	}
	return "Agent action"
}

// agentActionPage shows the confirmation page of an Admin agent action
// (GET /agents/{id}/encrypt|encryption-password|delete|migrate).
func (s *server) agentActionPage(ops agentDangerOps, kind agentDanger) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		v, err := s.agentActionView(c, ops, kind, rcbu.AgentID(id), nil, "")
		if err != nil {
			return s.upstreamPage(c, err, "Agent")
		}
		return render(c, http.StatusOK, templates.AgentActionPage(v))
	}
}

func (s *server) agentActionView(c echo.Context, ops agentDangerOps, kind agentDanger, id rcbu.AgentID, errs templates.FormErrors, dst string) (templates.AgentActionView, error) {
	ctx, sc := c.Request().Context(), fleetScope(c)
	var fa app.FleetAgent
	var targets []app.FleetAgent
	var err error
	if kind == dangerMigrate {
		fa, targets, err = ops.MigrationTargets(ctx, sc, id)
	} else {
		var d app.AgentDetail
		d, err = ops.AgentDetail(ctx, sc, id)
		fa = d.FleetAgent
	}
	if err != nil {
		return templates.AgentActionView{}, err
	}
	sid := strconv.FormatInt(int64(id), 10)
	v := templates.AgentActionView{
		Meta: s.meta(c, kind.title(), templates.NavAgents), Kind: kind.String(), AgentID: sid,
		AgentName: displayName(fa.Agent.MachineName, "agent "+sid), Errors: errs, VaultSize: vaultSize(fa.Agent),
	}
	if len(targets) > 0 {
		v.Targets = append(v.Targets, templates.Option{Value: "", Label: "Choose an agent", Selected: dst == ""})
	}
	for _, t := range targets {
		tid := strconv.FormatInt(int64(t.Agent.ID), 10)
		v.Targets = append(v.Targets, templates.Option{Value: tid, Label: displayName(t.Agent.MachineName, "agent "+tid) + " (" + t.Agent.Datacenter + ")", Selected: tid == dst})
	}
	return v, nil
}

// agentAction runs an Admin agent action (POST). A form mistake re-renders
// the page with its messages (422) and changes nothing; an upstream failure
// re-renders it with the reason in words (502); success goes to the agent's
// page (the agents list after a delete) with a flash.
func (s *server) agentAction(ops agentDangerOps, kind agentDanger) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		u := mustUser(c)
		ctx, sc, aid := c.Request().Context(), fleetScope(c), rcbu.AgentID(id)
		sid := strconv.FormatInt(id, 10)
		back, ok := "/agents/"+sid, ""
		dst := c.FormValue("destination")
		switch kind {
		case dangerEncrypt:
			_, err = ops.EnableEncryption(ctx, u, sc, aid, app.EncryptionRequest{
				ConfirmName: c.FormValue("confirm_name"), Passphrase: c.FormValue("passphrase"), Confirm: c.FormValue("confirm"),
			})
			ok = "Encryption is being enabled. The vault is encrypted once the agent confirms; keep the passphrase safe."
		case dangerPassword:
			_, err = ops.ChangeEncryptionPassword(ctx, u, sc, aid, app.PasswordChangeRequest{
				Current: c.FormValue("current"), New: c.FormValue("new"), Confirm: c.FormValue("confirm"),
			})
			ok = "The encryption passphrase was changed."
		case dangerDelete:
			var fa app.FleetAgent
			fa, err = ops.DeleteAgent(ctx, u, sc, aid, c.FormValue("confirm_name"))
			back, ok = "/agents", "Agent "+fa.Agent.MachineName+" and its backups were deleted."
		case dangerMigrate:
			dstID, perr := strconv.ParseInt(dst, 10, 64)
			if perr != nil || dstID <= 0 {
				err = app.Invalid("destination", "Choose the agent to move the vault to.")
			} else {
				_, err = ops.MigrateVault(ctx, u, sc, aid, rcbu.AgentID(dstID))
			}
			ok = "The vault was migrated."
		default:
			return fmt.Errorf("handlers: agent action %s has no handler", kind)
		}
		if err == nil {
			return flashAndRedirect(c, templates.FlashSuccess, ok, back)
		}
		status := http.StatusUnprocessableEntity
		errs, isForm := formErrors(err)
		if !isForm {
			msg := upstreamMessage(err)
			if msg == "" {
				return err
			}
			errs, status = templates.FormErrors{"": msg}, http.StatusBadGateway
		}
		v, verr := s.agentActionView(c, ops, kind, aid, errs, dst)
		if verr != nil {
			if errors.Is(verr, app.ErrNotFound) {
				return verr
			}
			return s.upstreamPage(c, verr, "Agent")
		}
		return render(c, status, templates.AgentActionPage(v))
	}
}
