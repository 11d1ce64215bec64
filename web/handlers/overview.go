package handlers

import (
	"context"
	"errors"
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

// fleetScope is the request's account scope for the Fleet: the account
// chosen in the header, or all of them.
func fleetScope(c echo.Context) app.Scope {
	return app.NewScope(scopeAccounts(c)...)
}

// overviewPageSize is how many agents one page of the overview's table
// shows.
const overviewPageSize = 50

// attentionRows is how many problems Needs attention lists; the rest are
// behind a link.
const attentionRows = 10

// overview answers "what is wrong, and why?" first: Needs attention (each
// problem with its cause and the action that fixes it), the counts (each a
// link to exactly what it counts), then the agents, problems first, in
// pages of 50 with filters in the URL. It makes only the account-wide
// agent and configuration list calls (served from the Fleet's cache, even
// stale, while it refreshes); live agent status and running jobs come from
// the cache when there, else from two small fragments
// (overviewStatus, overviewRunning) once the page is shown: the page never
// reads the activity lists, whose size grows with the whole history. With ?live=1
// (the no-JavaScript link) it waits for the live status before rendering.
// An account whose API fails gets an inline banner; the others still show.
func (s *server) overview(ov *app.Overviews) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u := mustUser(c)
		scope := fleetScope(c)
		f, notes := parseOverviewFilter(c)
		v := templates.OverviewView{
			Meta:       s.meta(c, "Overview", templates.NavOverview),
			NoAccounts: len(scope.Accounts) == 0,
			CanStart:   scopeRole(c, u).Allows(app.RoleCreator),
			Notes:      notes,
		}
		if v.NoAccounts {
			return render(c, http.StatusOK, templates.OverviewPage(v))
		}
		o, err := ov.Overview(ctx, scope, c.QueryParam("live") == "1")
		if err != nil {
			return err
		}
		overviewView(&v, o, f, scope, u, app.NewStartToken(), s.Now())
		return render(c, http.StatusOK, templates.OverviewPage(v))
	}
}

// parseOverviewFilter reads the table's filter and page from the query.
// Values that are not understood are dropped with a note; a page that does
// not parse is the first.
func parseOverviewFilter(c echo.Context) (app.OverviewFilter, []string) {
	var f app.OverviewFilter
	var notes []string
	f.Query = app.SearchText(c.QueryParam("q"), &notes)
	switch st := strings.ToLower(strings.TrimSpace(c.QueryParam("status"))); {
	case st == "":
	case st == "problem":
		f.Problems = true
	case slices.Contains(app.AgentStates(), st):
		f.State = st
	default:
		notes = append(notes, "The status filter was not understood and is ignored.")
	}
	f.Datacenter = datacenterParam(c, "region", &notes)
	f.Page = pageParam(c)
	return f, notes
}

// pageParam is the 1-based page number of the query's "page"; one that
// does not parse is the first page.
func pageParam(c echo.Context) int {
	n, err := strconv.Atoi(strings.TrimSpace(c.QueryParam("page")))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// pagerView links the neighbours of page among pages, keeping the query.
func pagerView(path string, q url.Values, page, pages, total int, noun string, size int) templates.PagerView {
	v := templates.PagerView{Page: page, Pages: pages}
	if total > 0 {
		lo := (page-1)*size + 1
		hi := min(page*size, total)
		v.Summary = fmt.Sprintf("%s–%s of %s %s", templates.Count(int64(lo)), templates.Count(int64(hi)), templates.Count(int64(total)), noun)
	}
	link := func(p int) string {
		qq := url.Values{}
		for k, vs := range q {
			if k != "page" {
				qq[k] = vs
			}
		}
		if p > 1 {
			qq.Set("page", strconv.Itoa(p))
		}
		return withQuery(path, qq)
	}
	if page > 1 {
		v.PrevHref = link(page - 1)
	}
	if page < pages {
		v.NextHref = link(page + 1)
	}
	return v
}

// agentKey identifies an agent across accounts, for element ids.
func agentKey(fa app.FleetAgent) string {
	return fa.AccountID.String() + "-" + strconv.FormatInt(int64(fa.Agent.ID), 10)
}

// parseAgentKeys reads "account-agent" keys (agentKey's form), at most
// max of them; malformed ones are skipped.
func parseAgentKeys(s string, limit int) []app.AgentKey {
	var out []app.AgentKey
	for _, part := range strings.Split(s, ",") {
		if len(out) == limit {
			break
		}
		a, g, ok := strings.Cut(strings.TrimSpace(part), "-")
		if !ok {
			continue
		}
		acct, err1 := strconv.ParseInt(a, 10, 64)
		agent, err2 := strconv.ParseInt(g, 10, 64)
		if err1 != nil || err2 != nil || acct <= 0 || agent <= 0 {
			continue
		}
		out = append(out, app.AgentKey{AccountID: app.AccountID(acct), AgentID: rcbu.AgentID(agent)})
	}
	return out
}

func keyString(k app.AgentKey) string {
	return k.AccountID.String() + "-" + strconv.FormatInt(int64(k.AgentID), 10)
}

// overviewStatus is the fragment that brings the live status of the
// overview's agents (GET /overview/status?agents=…): the agent details,
// fetched concurrently (bounded) or from the cache, swapped into the
// status cells out of band with the offline count. Without htmx it is the
// overview with live status.
func (s *server) overviewStatus(fleet agentLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isHTMX(c) {
			return seeOther(c, "/?live=1")
		}
		agents, _, err := fleet.AgentsLive(c.Request().Context(), fleetScope(c))
		if err != nil {
			return err
		}
		shown := map[string]bool{}
		for _, k := range parseAgentKeys(c.QueryParam("agents"), overviewPageSize) {
			shown[keyString(k)] = true
		}
		var v templates.OverviewStatusView
		for _, fa := range agents {
			if key := agentKey(fa); shown[key] {
				v.Rows = append(v.Rows, templates.OverviewAgentRow{Key: key, Status: agentBadge(fa), StatusNote: fa.Problem})
			}
			if fa.Live && fa.Agent.Status == rcbu.AgentStatusOffline && !fa.Agent.IsDisabled {
				v.Offline++
			}
		}
		return render(c, http.StatusOK, templates.OverviewStatus(v))
	}
}

// runningReader gives the busy jobs by agent.
type runningReader interface {
	RunningJobs(ctx context.Context, scope app.Scope) (map[app.AgentKey][]app.FleetActivity, int, []app.AccountProblem, error)
}

// overviewRunning is the fragment that keeps the overview's Running
// column and count live (GET /overview/running?agents=…): the running
// cells of the agents shown and the count, swapped out of band. While
// anything runs the fragment polls itself; once nothing does, it stops.
// Without htmx it is the activity page's running jobs.
func (s *server) overviewRunning(fleet runningReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isHTMX(c) {
			return seeOther(c, "/activity?state=running")
		}
		u, _ := currentUser(c)
		jobs, n, _, err := fleet.RunningJobs(c.Request().Context(), fleetScope(c))
		if err != nil {
			return err
		}
		keys := parseAgentKeys(c.QueryParam("agents"), overviewPageSize)
		v := templates.OverviewRunningView{Running: n, Href: runningHref(keys)}
		now, loc := s.Now(), u.Location()
		for _, k := range keys {
			v.Rows = append(v.Rows, templates.OverviewAgentRow{Key: keyString(k), Jobs: jobChips(jobs[k], now, loc), RunningKnown: true})
		}
		v.Poll = n > 0
		return render(c, http.StatusOK, templates.OverviewRunning(v))
	}
}

// runningHref is the running fragment's URL for the agents shown.
func runningHref(keys []app.AgentKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = keyString(k)
	}
	return "/overview/running?agents=" + url.QueryEscape(strings.Join(parts, ","))
}

// jobChips are an agent's busy jobs, compact: state and configuration,
// linking to the job's page.
func jobChips(jobs []app.FleetActivity, now time.Time, loc *time.Location) []templates.JobChip {
	out := make([]templates.JobChip, 0, len(jobs))
	for _, fa := range jobs {
		a := fa.Activity
		id := strconv.FormatInt(a.ID, 10)
		ch := templates.JobChip{
			State: templates.BackupBadge(a.CurrentState),
			Name:  configName(a.DisplayName, int64(a.ConfigurationID)),
			Href:  "/backups/" + id,
			Since: templates.NewTimeView(a.TimeOfActivity.Time, now, loc),
		}
		if a.Type == rcbu.ActivityRestore {
			ch.Href = "/restores/" + id
			ch.Name = "Restore: " + ch.Name
		}
		out = append(out, ch)
	}
	return out
}

// overviewHeatmap is the heatmap of the agents given (GET
// /overview/heatmap?agents=…, at most a page of them; without the
// parameter, the agents with problems): a fragment for htmx, which the
// overview loads when it scrolls into view, or a page of its own.
func (s *server) overviewHeatmap(ov *app.Overviews) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u, _ := currentUser(c)
		scope := fleetScope(c)
		loc := u.Location()
		var agents []app.HeatmapAgent
		if keys := parseAgentKeys(c.QueryParam("agents"), overviewPageSize); len(keys) > 0 {
			inScope := map[app.AccountID]bool{}
			for _, a := range scope.Accounts {
				inScope[a.ID] = true
			}
			for _, k := range keys {
				if inScope[k.AccountID] {
					agents = append(agents, app.HeatmapAgent{AgentKey: k})
				}
			}
			names, err := ov.Fleet().AgentNames(ctx, scope)
			if err != nil {
				return err
			}
			for i := range agents {
				agents[i].Name = names[agents[i].AgentKey]
			}
		} else if len(scope.Accounts) > 0 {
			o, err := ov.Overview(ctx, scope, false)
			if err != nil {
				return err
			}
			for _, oa := range o.Agents {
				if oa.Severity == 0 || len(agents) == overviewPageSize {
					break // problems come first
				}
				agents = append(agents, app.HeatmapAgent{AgentKey: app.AgentKey{AccountID: oa.AccountID, AgentID: oa.Agent.ID}, Name: oa.Agent.MachineName})
			}
		}
		hm, err := ov.Heatmap(ctx, agents, heatmapDays, loc)
		if err != nil {
			return err
		}
		v := HeatmapFor(hm, scope.Multi(), loc)
		if isHTMX(c) {
			return render(c, http.StatusOK, templates.Heatmap(v))
		}
		return render(c, http.StatusOK, templates.HeatmapPage(templates.HeatmapPageView{Meta: s.meta(c, "Backups over 30 days", templates.NavOverview), Heatmap: v}))
	}
}

// heatmapDays is the span of the overview's heatmap.
const heatmapDays = 30

// overviewView maps the fleet overview to the page's view model.
// v.CanStart decides whether the table has a Start column at all; each row
// offers Start only when u is Creator on that row's account (with every
// account chosen a user may be Creator on one and Observer on another).
func overviewView(v *templates.OverviewView, ov app.FleetOverview, f app.OverviewFilter, scope app.Scope, u app.User, token string, now time.Time) {
	loc := u.Location()
	canStartOn := func(a app.AccountID) bool { return v.CanStart && u.RoleOn(a).Allows(app.RoleCreator) }
	v.Counts = templates.OverviewCounts{Running: ov.Counts.Running, RunningKnown: ov.RunningKnown, Failed24h: ov.Counts.Failed24h, Overdue: ov.Counts.Overdue, Offline: ov.Counts.Offline}
	v.PendingStatus = ov.Pending
	v.AsOf = templates.NewTimeView(ov.AsOf, now, loc)
	v.Stale = now.Sub(ov.AsOf) >= 10*time.Second
	v.CheckedAt = templates.NewTimeView(ov.Now, now, loc)
	for i, at := range ov.Attention {
		if i == attentionRows {
			v.AttentionMore = len(ov.Attention) - attentionRows
			break
		}
		v.Attention = append(v.Attention, attentionRow(at, canStartOn(at.AccountID), token, now, loc))
	}
	if ov.HistoryPending > 0 {
		v.HistoryNote = "The report history is still being read: whether " + templates.Plural(int64(ov.HistoryPending), "configuration is", "configurations are") +
			" overdue shows once their last runs are stored."
	}
	switch {
	case len(ov.Attention) > 0 || len(ov.Problems) > 0:
	case ov.HistoryPending > 0:
		v.AllGood = "Nothing needs attention so far."
	case ov.Configurations == 1:
		v.AllGood = "The one configuration backed up within its schedule."
	default:
		v.AllGood = "All " + templates.Plural(int64(ov.Configurations), "configuration", "configurations") + " backed up within their schedule."
	}

	matching := app.FilterOverviewAgents(ov.Agents, f)
	page, n, pages := app.PageOf(matching, f.Page, overviewPageSize)
	q := url.Values{}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	switch {
	case f.Problems:
		q.Set("status", "problem")
	case f.State != "":
		q.Set("status", f.State)
	}
	if f.Datacenter != "" {
		q.Set("region", f.Datacenter)
	}
	v.Pager = pagerView("/", q, n, pages, len(matching), "agents", overviewPageSize)
	v.Filter = overviewFilterView(f, ov.Agents)
	v.Total = len(ov.Agents)

	index := map[app.AccountID]int{}
	for i, a := range scope.Accounts {
		index[a.ID] = i
		v.Sections = append(v.Sections, templates.OverviewSection{AccountName: a.Name, ShowHeading: scope.Multi()})
	}
	keys := make([]app.AgentKey, 0, len(page))
	running := 0
	for _, oa := range page {
		if i, ok := index[oa.AccountID]; ok {
			v.Sections[i].Agents = append(v.Sections[i].Agents, overviewRow(oa, ov.RunningKnown, canStartOn(oa.AccountID), token, now, loc))
			keys = append(keys, app.AgentKey{AccountID: oa.AccountID, AgentID: oa.Agent.ID})
			running += len(oa.Jobs)
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
	if len(keys) > 0 {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = keyString(k)
		}
		joined := url.QueryEscape(strings.Join(parts, ","))
		v.StatusHref = "/overview/status?agents=" + joined
		v.RunningHref = runningHref(keys)
		v.HeatmapHref = "/overview/heatmap?agents=" + joined
		v.RunningLoad = !ov.RunningKnown || !ov.RunningFresh
		v.RunningPoll = ov.RunningKnown && ov.Counts.Running > 0
	}
}

func overviewFilterView(f app.OverviewFilter, all []app.OverviewAgent) templates.AgentFilterView {
	v := templates.AgentFilterView{Query: f.Query, Active: f.AgentFilter != (app.AgentFilter{}) || f.Problems}
	v.Status = templates.SelectField{Name: "status", Label: "Status", Options: append([]templates.Option{
		{Value: "", Label: "Any status", Selected: f.State == "" && !f.Problems},
		{Value: "problem", Label: "Has a problem", Selected: f.Problems},
	}, agentStateOptions(f.State)...)}
	dcs := make([]string, len(all))
	for i, oa := range all {
		dcs[i] = oa.Agent.Datacenter
	}
	v.Datacenter = datacenterField("region", "Region", "Any region", f.Datacenter, dcs)
	return v
}

// attentionRow maps one problem to its row: what, why, when, and the
// actions that fix it.
func attentionRow(at app.Attention, canAct bool, token string, now time.Time, loc *time.Location) templates.AttentionRow {
	agentID := strconv.FormatInt(int64(at.AgentID), 10)
	r := templates.AttentionRow{
		Agent:     displayName(at.AgentName, "agent "+agentID),
		AgentHref: "/agents/" + agentID,
		Cause:     at.Cause,
		Error:     at.FirstError,
		When:      templates.NewTimeView(at.At, now, loc),
	}
	if at.ConfigID != 0 {
		cid := strconv.FormatInt(int64(at.ConfigID), 10)
		r.Configuration = configName(at.ConfigName, int64(at.ConfigID))
		r.ConfigHref = "/configurations/" + cid
	}
	switch at.Kind {
	case app.AttentionFailed:
		r.Kind, r.Badge, r.WhenLabel = "failed", templates.BackupBadge(at.State), "Ended"
	case app.AttentionWarning:
		r.Kind, r.Badge, r.WhenLabel = "warning", templates.BackupBadge(at.State), "Ended"
	case app.AttentionOverdue:
		r.Kind, r.Badge, r.WhenLabel = "overdue", templates.Badge{Word: capitalize(at.Overdue.Words()), Tone: templates.ToneOverdue}, "Last success"
	case app.AttentionOffline:
		r.Kind, r.Badge, r.WhenLabel = "offline", templates.Badge{Word: "Offline", Tone: templates.ToneOffline}, "Offline since"
		if at.LastSuccess {
			r.WhenLabel = "Last success"
		}
	default:
		r.Kind, r.Badge = "other", templates.Badge{Word: "Problem", Tone: templates.ToneWarning}
	}
	if !at.OfflineSince.IsZero() {
		r.Cause += " since " + templates.NewTimeView(at.OfflineSince, now, loc).Abs
	}
	if at.More > 0 {
		r.More = "and " + templates.Plural(int64(at.More), "more problem run", "more problem runs") + " in 24 h"
	}
	if at.BackupID != 0 {
		r.ReportHref = "/reports/backup/" + strconv.FormatInt(at.BackupID, 10)
	}
	if canAct && at.CanRun && at.ConfigID != 0 && !at.AgentOffline {
		r.RunAgain = &templates.AgentStartView{AgentID: agentID, Token: token, Options: []templates.Option{{Value: strconv.FormatInt(int64(at.ConfigID), 10), Label: r.Configuration}}}
	}
	if canAct && at.AgentOffline {
		r.WakeHref = "/agents/" + agentID + "/wake"
	}
	return r
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func overviewRow(oa app.OverviewAgent, runningKnown, canStart bool, token string, now time.Time, loc *time.Location) templates.OverviewAgentRow {
	a := oa.Agent
	id := strconv.FormatInt(int64(a.ID), 10)
	r := templates.OverviewAgentRow{
		Key:          agentKey(oa.FleetAgent),
		ID:           id,
		Href:         "/agents/" + id,
		Name:         displayName(a.MachineName, "agent "+id),
		Status:       agentBadge(oa.FleetAgent),
		StatusNote:   oa.Problem,
		Encryption:   encryptionWord(a.IsEncrypted),
		Encrypted:    a.IsEncrypted,
		VaultSize:    vaultSize(a),
		Age:          ageView(oa.LastSuccess, oa.Age, now, loc),
		NextRun:      templates.NewTimeView(oa.NextRun, now, loc),
		RunningKnown: runningKnown,
		Problem:      oa.Severity > 0,
	}
	if oa.LastState != "" {
		r.LastResult = templates.BackupBadge(oa.LastState)
		r.LastRun = templates.NewTimeView(oa.LastRun, now, loc)
	}
	var opts []templates.Option
	for _, st := range oa.Configurations {
		if st.Overdue.Overdue {
			r.Overdue = append(r.Overdue, templates.Badge{Word: st.Configuration.Name + ": " + st.Overdue.Words(), Tone: templates.ToneOverdue})
		}
		cid := strconv.FormatInt(int64(st.Configuration.ID), 10)
		opts = append(opts, templates.Option{Value: cid, Label: configName(st.Configuration.Name, int64(st.Configuration.ID))})
	}
	if canStart && len(opts) > 0 {
		r.Start = &templates.AgentStartView{AgentID: id, Token: token, Options: opts}
	}
	r.Jobs = jobChips(oa.Jobs, now, loc)
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
// configName is how a page names a configuration: its name, else words
// saying it is gone (with its id), never the bare id.
func configName(name string, id int64) string {
	return displayName(name, words.DeletedConfiguration(id))
}

// jobConfigName names a job's configuration: the name the API gave, else
// the newest one the report history knows, else words saying it is gone.
// A failed history read costs only the name, so it falls back to the words.
func (s *server) jobConfigName(c echo.Context, account app.AccountID, name string, id int64) string {
	if name == "" {
		if n, err := s.History.NameOf(c.Request().Context(), []app.AccountID{account}, app.NameConfiguration, id); err == nil {
			name = n
		}
	}
	return configName(name, id)
}

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
		Configuration: configName(a.DisplayName, int64(a.ConfigurationID)),
		Since:         templates.NewTimeView(a.TimeOfActivity.Time, now, loc),
	}
	if a.Type == rcbu.ActivityRestore {
		// The same live panel as a backup's, polling the restore's fragment.
		v.Kind, v.ID = "restore", "restore-"+id
		v.PageURL = "/restores/" + id
		v.Configuration = "Restore: " + v.Configuration
		v.StatusURL = "/restores/" + id + "/status?compact=1"
		v.StopURL = "/restores/" + id + "/stop?compact=1"
		v.CanStop = canStop
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
