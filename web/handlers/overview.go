package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// fleetScope is the request's account scope for the Fleet: the account
// chosen in the header, or all of them.
func fleetScope(c echo.Context) app.Scope {
	return app.NewScope(scopeAccounts(c)...)
}

// overviewReader is what the overview needs.
type overviewReader interface {
	Fleet() *app.Fleet
	OverduePolicy() app.OverduePolicy
}

// overview answers "is anything wrong right now?": counts of running jobs,
// failures in 24 h, overdue configurations and offline agents, then every
// agent of the scope with its status, last success, next run, running jobs
// and quick Start buttons. The page makes only the account-wide list calls
// (one round trip); live agent status comes from the cache, and what is
// not cached arrives in a second request (overviewStatus), or with ?live=1
// (the no-JavaScript link) before the page renders. An account whose API
// fails gets an inline banner; the others still show.
func (s *server) overview(ops overviewReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u := mustUser(c)
		scope := fleetScope(c)
		v := templates.OverviewView{
			Meta:       s.meta(c, "Overview", templates.NavOverview),
			NoAccounts: len(scope.Accounts) == 0,
			CanStart:   u.Role.Allows(app.RoleCreator),
		}
		if v.NoAccounts {
			return render(c, http.StatusOK, templates.OverviewPage(v))
		}
		ov, err := ops.Fleet().Overview(ctx, scope, ops.OverduePolicy(), c.QueryParam("live") == "1")
		if err != nil {
			return err
		}
		overviewView(&v, ov, scope, u.Location(), app.NewStartToken(), s.Now())
		v.Heatmap = s.overviewHeatmap(c, scope, u.Location())
		return render(c, http.StatusOK, templates.OverviewPage(v))
	}
}

// heatmapDays is the span of the overview's heatmap.
const heatmapDays = 30

// overviewHeatmap is the report history's agents × days grid for the
// scope (nil without a history, or when it cannot be read: the rest of
// the page matters more).
func (s *server) overviewHeatmap(c echo.Context, scope app.Scope, loc *time.Location) templ.Component {
	if s.History == nil {
		return nil
	}
	ids := make([]app.AccountID, len(scope.Accounts))
	for i, a := range scope.Accounts {
		ids[i] = a.ID
	}
	hm, err := s.History.Heatmap(c.Request().Context(), ids, heatmapDays, loc)
	if err != nil {
		s.Log.WarnContext(c.Request().Context(), "overview_heatmap_failed", slog.Any("err", err))
		return nil
	}
	return templates.Heatmap(HeatmapFor(hm, scope.Multi(), loc))
}

// overviewStatus is the fragment that brings the overview's live agent
// status (GET /overview/status): the agent details, fetched concurrently
// (bounded) or from the cache, swapped into the status cells out of band
// with the offline count. Without htmx it is the overview with live status.
func (s *server) overviewStatus(fleet agentLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isHTMX(c) {
			return seeOther(c, "/?live=1")
		}
		agents, _, err := fleet.AgentsLive(c.Request().Context(), fleetScope(c))
		if err != nil {
			return err
		}
		var v templates.OverviewStatusView
		for _, fa := range agents {
			v.Rows = append(v.Rows, templates.OverviewAgentRow{Key: agentKey(fa), Status: agentBadge(fa), StatusNote: fa.Problem})
			if fa.Live && fa.Agent.Status == rcbu.AgentStatusOffline && !fa.Agent.IsDisabled {
				v.Offline++
			}
		}
		return render(c, http.StatusOK, templates.OverviewStatus(v))
	}
}

// agentKey identifies an agent across accounts, for element ids.
func agentKey(fa app.FleetAgent) string {
	return fa.AccountID.String() + "-" + strconv.FormatInt(int64(fa.Agent.ID), 10)
}

// overviewView maps the fleet overview to the page's view model: a section
// per account of the scope, in the scope's order.
func overviewView(v *templates.OverviewView, ov app.FleetOverview, scope app.Scope, loc *time.Location, token string, now time.Time) {
	v.Counts = templates.OverviewCounts{Running: ov.Counts.Running, Failed24h: ov.Counts.Failed24h, Overdue: ov.Counts.Overdue, Offline: ov.Counts.Offline}
	v.PendingStatus = ov.Pending
	index := map[app.AccountID]int{}
	for i, a := range scope.Accounts {
		index[a.ID] = i
		v.Sections = append(v.Sections, templates.OverviewSection{AccountName: a.Name, ShowHeading: scope.Multi()})
	}
	for _, oa := range ov.Agents {
		if i, ok := index[oa.AccountID]; ok {
			v.Sections[i].Agents = append(v.Sections[i].Agents, overviewRow(oa, v.CanStart, token, now, loc))
		}
	}
	for _, p := range ov.Problems {
		i, ok := index[p.AccountID]
		if !ok {
			continue
		}
		title := "Some of the data of " + p.AccountName + " could not be loaded."
		if len(v.Sections[i].Agents) == 0 {
			title = "Could not load the agents of " + p.AccountName + "."
		}
		v.Sections[i].Problem = &templates.ProblemView{Title: title, Detail: p.Message, RetryHref: "/"}
	}
}

func overviewRow(oa app.OverviewAgent, canStart bool, token string, now time.Time, loc *time.Location) templates.OverviewAgentRow {
	a := oa.Agent
	id := strconv.FormatInt(int64(a.ID), 10)
	r := templates.OverviewAgentRow{
		Key:        agentKey(oa.FleetAgent),
		ID:         id,
		Href:       "/agents/" + id,
		Name:       displayName(a.MachineName, "agent "+id),
		Status:     agentBadge(oa.FleetAgent),
		StatusNote: oa.Problem,
		Encryption: encryptionWord(a.IsEncrypted),
		Encrypted:  a.IsEncrypted,
		VaultSize:  vaultSize(a),
		Age:        ageView(oa.LastSuccess, oa.Age, now, loc),
		NextRun:    templates.NewTimeView(oa.NextRun, now, loc),
	}
	var opts []templates.Option
	for _, st := range oa.Configurations {
		if st.Overdue.Overdue {
			r.Overdue = append(r.Overdue, templates.Badge{Word: st.Configuration.Name + ": " + st.Overdue.Words(), Tone: templates.ToneOverdue})
		}
		cid := strconv.FormatInt(int64(st.Configuration.ID), 10)
		opts = append(opts, templates.Option{Value: cid, Label: displayName(st.Configuration.Name, "configuration "+cid)})
	}
	if canStart && len(opts) > 0 {
		r.Start = &templates.AgentStartView{AgentID: id, Token: token, Options: opts}
	}
	for _, j := range oa.Jobs {
		r.Jobs = append(r.Jobs, activityPanel(j, canStart, now, loc))
	}
	return r
}

// problemViews maps account problems to inline banners.
func problemViews(ps []app.AccountProblem, retry string) []templates.ProblemView {
	out := make([]templates.ProblemView, len(ps))
	for i, p := range ps {
		out[i] = templates.ProblemView{Title: "Could not load everything from " + p.AccountName + ".", Detail: p.Message, RetryHref: retry}
	}
	return out
}

// agentBadge is the agent's status: disabled, else the live Online/Offline,
// else Unknown (the list's placeholder, when details were not available).
func agentBadge(fa app.FleetAgent) templates.Badge {
	status := ""
	if fa.Live {
		status = string(fa.Agent.Status)
	}
	return templates.AgentBadge(status, fa.Agent.IsDisabled)
}

func vaultSize(a rcbu.Agent) string {
	if a.BackupVaultSize == nil {
		return "—"
	}
	return templates.Bytes(a.BackupVaultSize.Bytes)
}

// ageView colours the age of the last success: green under 1.5 schedule
// intervals, amber under 3, red beyond or never.
func ageView(last time.Time, level app.AgeLevel, now time.Time, loc *time.Location) templates.AgeView {
	if last.After(now) {
		// The API's clock runs ahead of ours (skew, or the simulator's
		// speed): a past event must not read "in 10 s".
		last = now
	}
	tone := templates.ToneDanger
	switch level {
	case app.AgeFresh:
		tone = templates.ToneSuccess
	case app.AgeStale:
		tone = templates.ToneWarning
	}
	return templates.AgeView{Time: templates.NewTimeView(last, now, loc), Tone: tone}
}

// displayName shows a name from the API, or a fallback for an empty one.
func displayName(name, fallback string) string {
	if name == "" {
		return fallback
	}
	return name
}

// activityPanel is the compact live panel of a busy job in a table. A
// backup polls its own status fragment; a restore links to its page.
func activityPanel(fa app.FleetActivity, canStop bool, now time.Time, loc *time.Location) templates.JobPanelView {
	a := fa.Activity
	id := strconv.FormatInt(a.ID, 10)
	v := templates.JobPanelView{
		ID:            id,
		State:         templates.BackupBadge(a.CurrentState),
		Busy:          app.JobBusy(a),
		Compact:       true,
		Agent:         a.SourceMachineName,
		Configuration: displayName(a.DisplayName, "configuration "+strconv.FormatInt(int64(a.ConfigurationID), 10)),
		Since:         templates.NewTimeView(a.TimeOfActivity.Time, now, loc),
	}
	if a.Type == rcbu.ActivityRestore {
		v.ID = "restore-" + id
		v.PageURL = "/restores/" + id
		v.Configuration = "Restore: " + v.Configuration
		v.Busy = false // its page has its own live panel; no polling here
		v.State = templates.BackupBadge(a.CurrentState)
		return v
	}
	v.PageURL = "/backups/" + id
	v.StatusURL = "/backups/" + id + "/status?compact=1"
	v.StopURL = "/backups/" + id + "/stop?compact=1"
	v.CanStop = canStop
	return v
}

// upstreamMessage is what a failed action says inline: an upstream failure
// or a refusal in words, or "" for errors the error handler deals with
// (not found, forbidden, internal).
func upstreamMessage(err error) string {
	var ue *app.UpstreamError
	switch {
	case errors.As(err, &ue):
		return ue.Message()
	case errors.Is(err, app.ErrConflict), errors.Is(err, context.DeadlineExceeded):
		return app.Problem(err, "")
	}
	return ""
}
