package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

// configReader is what the read-only configuration pages use.
type configReader interface {
	List(ctx context.Context, scope app.Scope, f app.ConfigFilter) (app.ConfigList, error)
	Get(ctx context.Context, scope app.Scope, id rcbu.ConfigurationID) (app.ConfigDetail, error)
	EditableAgents(ctx context.Context, scope app.Scope) ([]app.FleetAgent, []app.AccountProblem, error)
	Export(ctx context.Context, scope app.Scope, id rcbu.ConfigurationID) ([]byte, string, error)
}

// configWriter is what the configuration forms and actions use.
type configWriter interface {
	configReader
	Create(ctx context.Context, actor app.User, scope app.Scope, in app.ConfigurationInput) (app.FleetConfiguration, error)
	Update(ctx context.Context, actor app.User, scope app.Scope, id rcbu.ConfigurationID, in app.ConfigurationInput) (app.FleetConfiguration, error)
	SetEnabled(ctx context.Context, actor app.User, scope app.Scope, id rcbu.ConfigurationID, enable bool) (app.FleetConfiguration, error)
	Delete(ctx context.Context, actor app.User, scope app.Scope, id rcbu.ConfigurationID) (app.FleetConfiguration, error)
	Clone(ctx context.Context, actor app.User, scope app.Scope, id rcbu.ConfigurationID, in app.CloneInput) (app.FleetConfiguration, error)
	Import(ctx context.Context, actor app.User, scope app.Scope, agentID string, data []byte) (app.FleetConfiguration, app.ConfigurationInput, error)
}

// startButton renders the Start control of a configuration (ops's
// StartBackupButton) for a user who may start backups.
type startButton func(fc app.FleetConfiguration) templ.Component

// configStartButton is ops's Start button for the configuration page; it
// comes back here after an error without JavaScript.
func configStartButton(fc app.FleetConfiguration) templ.Component {
	id := idString(fc.Configuration.ID)
	return templates.StartBackupButton(templates.StartButtonView{
		ConfigurationID: id,
		Label:           "Start backup",
		Name:            fc.Configuration.Name,
		Token:           app.NewStartToken(),
		Return:          "/configurations/" + id,
	})
}

// parseConfigID reads the :id of a configuration route; garbage is 404.
func parseConfigID(c echo.Context) (rcbu.ConfigurationID, error) {
	id, err := parseID(c, "id")
	return rcbu.ConfigurationID(id), err
}

// idString formats an API id for URLs and views.
func idString[T ~int64](id T) string { return strconv.FormatInt(int64(id), 10) }

// configPageSize is how many configurations one page of the list shows.
const configPageSize = 50

// listConfigurations is /configurations: account-wide or one agent's
// (?agent=ID), with search and filters from the query (?overdue=1 keeps
// the configurations the overview counts as overdue), in pages of 50.
// htmx gets the results fragment only.
func (s *server) listConfigurations(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		f, notes := app.ParseConfigFilter(c.QueryParams())
		list, err := cfgs.List(c.Request().Context(), fleetScope(c), f)
		if err != nil {
			return err
		}
		var agentName string
		if f.AgentID != 0 {
			i := slices.IndexFunc(list.Agents, func(a app.FleetAgent) bool { return a.Agent.ID == f.AgentID })
			if i < 0 {
				notes = append(notes, "The agent filter does not match an agent of the selected account, so it was ignored.")
				f.AgentID = 0
				if list, err = cfgs.List(c.Request().Context(), fleetScope(c), f); err != nil {
					return err
				}
			} else {
				agentName = list.Agents[i].Agent.MachineName
			}
		}
		if len(list.Items) > 0 {
			od, err := s.Overviews.OverdueConfigurations(c.Request().Context(), fleetScope(c))
			if err != nil {
				return err
			}
			list = list.ApplyOverdue(od, f.Overdue)
		}
		matching := len(list.Items)
		var n, pages int
		list.Items, n, pages = app.PageOf(list.Items, f.Page, configPageSize)
		canCreate := scopeRole(c, u).Allows(app.RoleCreator)
		results := configResultsView(list, f, notes, canCreate, s.Now(), u.Location(), len(scopeAccounts(c)) > 1, c.Request().URL.RequestURI())
		results.Headers = configHeaders(c.QueryParams(), f.Sort)
		q := c.QueryParams()
		results.Pager = pagerView("/configurations", q, n, pages, matching, "configurations", configPageSize)
		results.Overdue = f.Overdue
		// htmx restoring its history asks for the whole page.
		if isHTMX(c) && c.Request().Header.Get("HX-History-Restore-Request") != "true" {
			return render(c, http.StatusOK, templates.ConfigResults(results))
		}
		title := "Configurations"
		if agentName != "" {
			title = "Configurations of " + agentName
		}
		v := templates.ConfigurationsView{
			Meta:      s.meta(c, title, templates.NavConfigurations),
			AgentName: agentName,
			Filter:    configFilterView(list.Agents, f),
			Results:   results,
			CanCreate: canCreate,
		}
		if f.AgentID != 0 {
			v.AgentID = idString(f.AgentID)
		}
		return render(c, http.StatusOK, templates.ConfigurationsPage(v))
	}
}

func configFilterView(agents []app.FleetAgent, f app.ConfigFilter) templates.ConfigFilterView {
	v := templates.ConfigFilterView{Q: f.Q}
	v.Agents = append(v.Agents, templates.Option{Value: "", Label: "All agents", Selected: f.AgentID == 0})
	for _, a := range sortedAgents(agents) {
		v.Agents = append(v.Agents, templates.Option{Value: idString(a.Agent.ID), Label: a.Agent.MachineName, Selected: a.Agent.ID == f.AgentID})
	}
	en := ""
	if f.Enabled != nil {
		en = map[bool]string{true: "yes", false: "no"}[*f.Enabled]
	}
	v.Enabled = []templates.Option{{Value: "", Label: "Enabled or disabled", Selected: en == ""}, {Value: "yes", Label: "Enabled", Selected: en == "yes"}, {Value: "no", Label: "Disabled", Selected: en == "no"}}
	v.Overdue = []templates.Option{{Value: "", Label: "Any", Selected: !f.Overdue}, {Value: "1", Label: "Overdue only", Selected: f.Overdue}}
	v.Frequency = []templates.Option{{Value: "", Label: "Any frequency", Selected: f.Frequency == ""}}
	for _, fr := range []rcbu.Frequency{rcbu.FrequencyManually, rcbu.FrequencyHourly, rcbu.FrequencyDaily, rcbu.FrequencyWeekly} {
		v.Frequency = append(v.Frequency, templates.Option{Value: string(fr), Label: string(fr), Selected: fr == f.Frequency})
	}
	return v
}

func sortedAgents(agents []app.FleetAgent) []app.FleetAgent {
	out := slices.Clone(agents)
	slices.SortStableFunc(out, func(a, b app.FleetAgent) int {
		return strings.Compare(strings.ToLower(a.Agent.MachineName), strings.ToLower(b.Agent.MachineName))
	})
	return out
}

func configResultsView(list app.ConfigList, f app.ConfigFilter, notes []string, canCreate bool, now time.Time, loc *time.Location, multi bool, self string) templates.ConfigResultsView {
	r := templates.ConfigResultsView{Notes: notes, Total: list.Total, RetryHref: self}
	for _, p := range list.Problems {
		r.Problems = append(r.Problems, p.AccountName+": "+p.Message)
	}
	for _, it := range list.Items {
		cf := it.Configuration
		row := templates.ConfigRow{
			ID:        idString(cf.ID),
			Name:      cf.Name,
			AgentID:   idString(cf.AgentID),
			AgentName: cf.MachineName,
			Schedule:  it.Schedule,
			Retention: app.RetentionLabel(cf.VersionRetention),
			Enabled:   cf.Enabled(),
			Overdue:   overdueWords(it.Overdue),
		}
		if multi {
			row.AccountName = it.AccountName
		}
		if next, ok := cf.NextRun(); ok && cf.Enabled() {
			row.NextRun = templates.NewTimeView(next, now, loc)
		} else {
			row.NextRun = templates.TimeView{Rel: "Not scheduled"}
		}
		if it.Last != nil {
			row.HasLast = true
			row.LastResult = templates.BackupBadge(it.Last.CurrentState)
			row.LastRun = templates.NewTimeView(it.Last.TimeOfActivity.Time, now, loc)
		}
		r.Rows = append(r.Rows, row)
	}
	if len(r.Rows) == 0 && len(r.Problems) == 0 {
		filtered := f.Q != "" || f.Enabled != nil || f.Frequency != "" || f.Overdue
		switch {
		case filtered:
			r.EmptyText, r.EmptyHref, r.EmptyLink = "No configuration matches these filters.", "/configurations", "Clear the filters."
			if f.AgentID != 0 {
				r.EmptyHref = "/configurations?agent=" + idString(f.AgentID)
			}
		case f.AgentID != 0:
			r.EmptyText = "No configurations on this agent yet."
			if canCreate {
				r.EmptyHref, r.EmptyLink = "/configurations/new?agent="+idString(f.AgentID), "Create one."
			}
		default:
			r.EmptyText = "No configurations yet."
			if canCreate {
				r.EmptyHref, r.EmptyLink = "/configurations/new", "Create one."
			}
		}
	}
	return r
}

// configHeaders are the list's column headings; the sortable ones link to
// the same filters sorted by that column.
func configHeaders(q url.Values, sorted string) []templates.ColumnHeader {
	link := func(by string) string {
		v := url.Values{}
		for k, vals := range q {
			if k != "sort" && k != "page" && len(vals) > 0 && vals[0] != "" {
				v.Set(k, vals[0])
			}
		}
		if by != "agent" {
			v.Set("sort", by)
		}
		if len(v) == 0 {
			return "/configurations"
		}
		return "/configurations?" + v.Encode()
	}
	if sorted == "" {
		sorted = "agent"
	}
	h := func(label, by string) templates.ColumnHeader {
		if by == "" {
			return templates.ColumnHeader{Label: label}
		}
		ch := templates.ColumnHeader{Label: label, Href: link(by)}
		switch {
		case by != sorted:
		case by == "last":
			ch.Sort = "descending"
		default:
			ch.Sort = "ascending"
		}
		return ch
	}
	return []templates.ColumnHeader{
		h("Name", "name"), h("Agent", "agent"), h("Schedule", ""), h("Retention", ""),
		h("Last run", "last"), h("Next run", "next"), h("Enabled", ""),
	}
}

// overdueWords is the badge text's tail: "2 d" for "Overdue by 2 d".
func overdueWords(o app.Overdue) string {
	w := o.Words()
	if w == "" {
		return ""
	}
	if rest, ok := strings.CutPrefix(w, "overdue by "); ok {
		return rest
	}
	return w
}

// configurationPage is /configurations/{id}.
func (s *server) configurationPage(cfgs configReader, start startButton) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseConfigID(c)
		if err != nil {
			return err
		}
		u := mustUser(c)
		d, err := cfgs.Get(c.Request().Context(), fleetScope(c), id)
		if err != nil {
			return err
		}
		cf := d.Configuration
		now, loc := s.Now(), u.Location()
		v := templates.ConfigDetailView{
			Meta:      s.meta(c, cf.Name, templates.NavConfigurations),
			ID:        idString(cf.ID),
			Name:      cf.Name,
			AgentID:   idString(cf.AgentID),
			AgentName: cf.MachineName,
			Enabled:   cf.Enabled(),
			Deleted:   cf.IsDeleted,
			Schedule:  d.Schedule,
			Overdue:   overdueWords(d.Overdue),
			Retention: app.RetentionLabel(cf.VersionRetention),
			Missed:    app.MissedActionLabel(cf.MissedBackupActionID),
			NotifyTo:  strings.Join(cf.NotifyEmails(), ", "),
			NotifyOn:  notifyOn(cf.NotifySuccess, cf.NotifyFailure),
			Encrypted: cf.IsEncrypted || d.Agent.Agent.IsEncrypted,
			CanCreate: u.RoleOn(d.AccountID).Allows(app.RoleCreator),
			CanDelete: u.Role.Allows(app.RoleAdmin),
		}
		if len(scopeAccounts(c)) > 1 {
			v.AccountName = d.AccountName
		}
		if next, ok := cf.NextRun(); ok && cf.Enabled() {
			v.NextRun = templates.NewTimeView(next, now, loc)
		} else {
			v.NextRun = templates.TimeView{Rel: "Not scheduled"}
		}
		for _, p := range cf.Inclusions {
			v.Inclusions = append(v.Inclusions, templates.PathView{Path: p.FilePath, Type: string(p.FileItemType)})
		}
		for _, p := range cf.Exclusions {
			v.Exclusions = append(v.Exclusions, templates.PathView{Path: p.FilePath, Type: string(p.FileItemType)})
		}
		v.RunsProblem = d.RunsProblem
		for _, r := range d.Runs {
			row := templates.RunRow{BackupID: idString(r.BackupID), State: templates.BackupBadge(r.State), When: templates.NewTimeView(r.When, now, loc), Restorable: r.Restorable}
			if r.Bytes >= 0 {
				row.Size = templates.Bytes(r.Bytes)
			}
			if r.Errors >= 0 {
				row.Errors = templates.Count(r.Errors)
			}
			v.Runs = append(v.Runs, row)
		}
		if v.CanCreate && start != nil {
			v.Start = start(d.FleetConfiguration)
		}
		v.Charts = s.configCharts(c, d.FleetConfiguration, now, loc)
		return render(c, http.StatusOK, templates.ConfigDetailPage(v))
	}
}

// configCharts is the report history's charts of the configuration's runs
// (30 days, or 90 with ?days=90). A history that cannot be read leaves the
// slot empty: the page is about the configuration, not its charts.
func (s *server) configCharts(c echo.Context, fc app.FleetConfiguration, now time.Time, loc *time.Location) templ.Component {
	days := 30
	if c.QueryParam("days") == "90" {
		days = 90
	}
	id := fc.Configuration.ID
	pts, err := s.History.Runs(c.Request().Context(), []app.AccountID{fc.AccountID}, 0, id, days)
	if err != nil {
		s.Log.WarnContext(c.Request().Context(), "configuration_charts_unavailable", slog.Int64("configuration_id", int64(id)), slog.Any("err", err))
		return nil
	}
	return templates.RunCharts(RunChartsFor(pts, 0, id, days, "/configurations/"+idString(id), url.Values{}, now, loc))
}

func notifyOn(success, failure bool) string {
	switch {
	case success && failure:
		return "On success and failure"
	case success:
		return "On success"
	case failure:
		return "On failure"
	default:
		return "Never"
	}
}

// configForm reads the configuration form, path rows included.
func configForm(c echo.Context) (app.ConfigurationInput, error) {
	form, err := c.FormParams()
	if err != nil {
		return app.ConfigurationInput{}, fmt.Errorf("configuration form: %w", app.Invalid("", "The form could not be read."))
	}
	get := func(k string) string { return form.Get(k) }
	in := app.ConfigurationInput{
		Name:          get("name"),
		AgentID:       get("agent"),
		Enabled:       get("enabled") == "true",
		Retention:     get("retention"),
		MissedAction:  get("missed_action"),
		NotifyEmails:  get("notify_emails"),
		NotifySuccess: get("notify_success") == "true",
		NotifyFailure: get("notify_failure") == "true",
		Frequency:     get("frequency"),
		HourInterval:  get("hour_interval"),
		StartTime:     get("start_time"),
		Weekday:       get("weekday"),
		TimeZone:      get("time_zone"),
		Inclusions:    pathRows(form, "inclusion"),
		Exclusions:    pathRows(form, "exclusion"),
	}
	return in, nil
}

// pathRows zips the repeated <list>_path and <list>_type inputs.
func pathRows(form url.Values, list string) []app.PathInput {
	paths, types := form[list+"_path"], form[list+"_type"]
	var out []app.PathInput
	for i, p := range paths {
		if i >= 500 {
			break
		}
		t := "Folder"
		if i < len(types) {
			t = types[i]
		}
		out = append(out, app.PathInput{Path: p, Type: t})
	}
	return out
}

// configFormMode says what the form is doing.
type configFormMode struct {
	heading, intro, action, cancel, submit string
	agentFixed                             string // editing: the agent's name
	encrypted                              bool
}

// configFormView maps the input and its problems to the form's view model.
func (s *server) configFormView(c echo.Context, m configFormMode, in app.ConfigurationInput, agents []app.FleetAgent, errs templates.FormErrors, extraRow string) templates.ConfigFormView {
	u := mustUser(c)
	v := templates.ConfigFormView{
		Meta:          s.meta(c, m.heading, templates.NavConfigurations),
		Heading:       m.heading,
		Intro:         m.intro,
		Action:        m.action,
		CancelHref:    m.cancel,
		SubmitText:    m.submit,
		Name:          in.Name,
		AgentFixed:    m.agentFixed,
		Enabled:       in.Enabled,
		NotifyEmails:  in.NotifyEmails,
		NotifySuccess: in.NotifySuccess,
		NotifyFailure: in.NotifyFailure,
		Frequency:     in.Frequency,
		HourInterval:  in.HourInterval,
		StartTime:     in.StartTime,
		Errors:        errs,
	}
	encrypted := m.encrypted
	if m.agentFixed == "" {
		v.Agents = append(v.Agents, templates.Option{Value: "", Label: "Choose an agent…", Selected: in.AgentID == ""})
		for _, a := range sortedAgents(agents) {
			label := a.Agent.MachineName
			if a.Agent.Datacenter != "" {
				label += " (" + a.Agent.Datacenter + ")"
			}
			if a.Agent.IsEncrypted {
				label += " · encrypted vault"
			}
			sel := idString(a.Agent.ID) == strings.TrimSpace(in.AgentID)
			if sel {
				encrypted = a.Agent.IsEncrypted
			}
			v.Agents = append(v.Agents, templates.Option{Value: idString(a.Agent.ID), Label: label, Selected: sel})
		}
	}
	v.Encryption = "Not encrypted"
	if encrypted {
		v.Encryption = "Encrypted vault"
	}
	for _, d := range []int{30, 60, 0} {
		v.Retention = append(v.Retention, templates.Option{Value: strconv.Itoa(d), Label: app.RetentionLabel(d), Selected: strconv.Itoa(d) == strings.TrimSpace(in.Retention)})
	}
	for _, a := range []int{1, 2} {
		v.MissedAction = append(v.MissedAction, templates.Option{Value: strconv.Itoa(a), Label: app.MissedActionLabel(a), Selected: strconv.Itoa(a) == strings.TrimSpace(in.MissedAction)})
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		v.Weekdays = append(v.Weekdays, templates.Option{Value: strconv.Itoa(int(d)), Label: d.String(), Selected: strconv.Itoa(int(d)) == strings.TrimSpace(in.Weekday)})
	}
	v.TimeZones = timeZoneOptions(in.TimeZone)
	v.Preview = schedulePreviewView(in, s.Now(), u.Location())
	v.Inclusions = pathRowViews("inclusion", app.FieldInclusions, in.Inclusions, errs, extraRow == "inclusion")
	v.Exclusions = pathRowViews("exclusion", app.FieldExclusions, in.Exclusions, errs, extraRow == "exclusion")
	return v
}

// timeZoneOptions offers rcbu.TimeZones, keeping an unknown current value
// visible so the user sees what was wrong.
func timeZoneOptions(current string) []templates.Option {
	var out []templates.Option
	found := false
	for _, z := range rcbu.TimeZones() {
		sel := z.ID == current
		found = found || sel
		out = append(out, templates.Option{Value: z.ID, Label: z.ID + " (" + z.IANA + ")", Selected: sel})
	}
	if !found && current != "" {
		out = append([]templates.Option{{Value: current, Label: current + " (unknown)", Selected: true}}, out...)
	}
	return out
}

// pathRowViews lists the rows with a path (in the order validation counts
// them), then one empty row to add a path without JavaScript (two when the
// user asked for one more).
func pathRowViews(list, key string, rows []app.PathInput, errs templates.FormErrors, extra bool) []templates.PathRowView {
	var out []templates.PathRowView
	for _, r := range rows {
		if strings.TrimSpace(r.Path) == "" {
			continue
		}
		k := app.PathField(key, len(out))
		out = append(out, templates.PathRowView{List: list, Key: k, Index: len(out), Path: r.Path, Type: r.Type, Error: errs[k]})
	}
	blanks := 1
	if extra {
		blanks = 2
	}
	for range blanks {
		out = append(out, templates.PathRowView{List: list, Key: app.PathField(key, len(out)), Index: len(out), Type: "Folder"})
	}
	return out
}

// schedulePreviewView is the schedule in words, or what is missing.
func schedulePreviewView(in app.ConfigurationInput, now time.Time, loc *time.Location) templates.SchedulePreviewView {
	words, next, err := app.SchedulePreview(in, now)
	if err != nil {
		var ve *app.ValidationError
		msg := "Complete the schedule to see it in words."
		if errors.As(err, &ve) {
			for _, k := range []string{app.FieldFrequency, app.FieldHourInterval, app.FieldStartTime, app.FieldWeekday, app.FieldTimeZone} {
				if m := ve.Fields[k]; m != "" {
					msg = m
					break
				}
			}
		}
		return templates.SchedulePreviewView{Problem: msg}
	}
	v := templates.SchedulePreviewView{Words: words}
	if !next.IsZero() {
		v.NextRun = templates.NewTimeView(next, now, loc)
	}
	return v
}

// schedulePreview is the live sentence of the schedule editor.
func (s *server) schedulePreview(c echo.Context) error {
	u := mustUser(c)
	in := app.ConfigurationInput{
		Frequency:    c.QueryParam("frequency"),
		HourInterval: c.QueryParam("hour_interval"),
		StartTime:    c.QueryParam("start_time"),
		Weekday:      c.QueryParam("weekday"),
		TimeZone:     c.QueryParam("time_zone"),
	}
	return render(c, http.StatusOK, templates.SchedulePreview(schedulePreviewView(in, s.Now(), u.Location())))
}

// pathRow is htmx's "Add a path": one empty row of a list.
func pathRow(c echo.Context) error {
	list := c.QueryParam("list")
	key := map[string]string{"inclusion": app.FieldInclusions, "exclusion": app.FieldExclusions}[list]
	if key == "" {
		return fmt.Errorf("path row: list %q: %w", list, app.ErrNotFound)
	}
	i, err := strconv.Atoi(c.QueryParam("index"))
	if err != nil || i < 0 || i > 500 {
		i = 0
	}
	return render(c, http.StatusOK, templates.PathRowFragment(templates.PathRowView{List: list, Key: app.PathField(key, i) + "-new", Index: i, Type: "Folder"}))
}

// newConfigurationPage shows the empty form (?agent=ID preselects one).
func (s *server) newConfigurationPage(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		in := app.DefaultConfigurationInput()
		if a := c.QueryParam("agent"); a != "" {
			in.AgentID = a
		}
		return s.renderCreateForm(c, cfgs, in, nil, http.StatusOK, "")
	}
}

var createMode = configFormMode{heading: "New configuration", action: "/configurations", cancel: "/configurations", submit: "Create configuration"}

func (s *server) renderCreateForm(c echo.Context, cfgs configReader, in app.ConfigurationInput, errs templates.FormErrors, status int, extraRow string) error {
	return s.renderCreateFormMode(c, cfgs, createMode, in, errs, status, extraRow)
}

func (s *server) renderCreateFormMode(c echo.Context, cfgs configReader, m configFormMode, in app.ConfigurationInput, errs templates.FormErrors, status int, extraRow string) error {
	agents, problems, err := cfgs.EditableAgents(c.Request().Context(), creatorScope(c))
	if err != nil {
		return err
	}
	if len(problems) > 0 && errs[""] == "" {
		if errs == nil {
			errs = templates.FormErrors{}
		}
		errs[""] = "Some agents could not be listed: " + problems[0].Message
	}
	return render(c, status, templates.ConfigFormPage(s.configFormView(c, m, in, agents, errs, extraRow)))
}

// formOutcome maps a service error to the form's errors and status: field
// problems are 422; an upstream failure is said in words at the top (502);
// anything else (not found, forbidden) goes to the error handler.
func formOutcome(err error) (templates.FormErrors, int, bool) {
	if fe, ok := formErrors(err); ok {
		return fe, http.StatusUnprocessableEntity, true
	}
	var ue *app.UpstreamError
	if errors.As(err, &ue) {
		return templates.FormErrors{"": ue.Message()}, http.StatusBadGateway, true
	}
	return nil, 0, false
}

// createConfiguration saves a new configuration; "Add a path" without
// JavaScript comes here too and only re-renders the form with one more row.
func (s *server) createConfiguration(cfgs configWriter) echo.HandlerFunc {
	return func(c echo.Context) error {
		in, err := configForm(c)
		if err != nil {
			return err
		}
		if row := c.FormValue("add_row"); row != "" {
			return s.renderCreateForm(c, cfgs, in, nil, http.StatusOK, row)
		}
		actor := mustUser(c)
		fc, err := cfgs.Create(c.Request().Context(), actor, fleetScope(c), in)
		if fe, status, ok := formOutcome(err); ok {
			return s.renderCreateForm(c, cfgs, in, fe, status, "")
		}
		if err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Created "+fc.Configuration.Name+" on "+fc.Configuration.MachineName+".", "/configurations/"+idString(fc.Configuration.ID))
	}
}

func editMode(cf rcbu.Configuration) configFormMode {
	id := idString(cf.ID)
	return configFormMode{
		heading: "Edit " + cf.Name, action: "/configurations/" + id, cancel: "/configurations/" + id, submit: "Save changes",
		agentFixed: cf.MachineName, encrypted: cf.IsEncrypted,
	}
}

// configGetter reads one configuration; every configReader is one.
type configGetter interface {
	Get(ctx context.Context, scope app.Scope, id rcbu.ConfigurationID) (app.ConfigDetail, error)
}

// configOfRequest parses :id and reads that configuration in the request's
// account scope.
func configOfRequest(c echo.Context, cfgs configGetter) (rcbu.ConfigurationID, app.ConfigDetail, error) {
	id, err := parseConfigID(c)
	if err != nil {
		return 0, app.ConfigDetail{}, err
	}
	d, err := cfgs.Get(c.Request().Context(), fleetScope(c), id)
	return id, d, err
}

// editConfigurationPage shows the form filled with a configuration.
func (s *server) editConfigurationPage(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, d, err := configOfRequest(c, cfgs)
		if err != nil {
			return err
		}
		req, err := d.Configuration.Request()
		if err != nil {
			return fmt.Errorf("edit configuration %d: %w", id, app.Invalid("", "The configuration's schedule cannot be read: "+err.Error()))
		}
		in := app.InputFromRequest(req)
		return render(c, http.StatusOK, templates.ConfigFormPage(s.configFormView(c, editMode(d.Configuration), in, nil, nil, "")))
	}
}

// updateConfiguration saves an edited configuration.
func (s *server) updateConfiguration(cfgs configWriter) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, d, err := configOfRequest(c, cfgs)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		in, err := configForm(c)
		if err != nil {
			return err
		}
		m := editMode(d.Configuration)
		if row := c.FormValue("add_row"); row != "" {
			return render(c, http.StatusOK, templates.ConfigFormPage(s.configFormView(c, m, in, nil, nil, row)))
		}
		actor := mustUser(c)
		fc, err := cfgs.Update(ctx, actor, fleetScope(c), id, in)
		if fe, status, ok := formOutcome(err); ok {
			return render(c, status, templates.ConfigFormPage(s.configFormView(c, m, in, nil, fe, "")))
		}
		if err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Saved "+fc.Configuration.Name+".", "/configurations/"+idString(id))
	}
}

// setConfigurationEnabled enables or disables a configuration, then goes
// back to its page with a flash saying how it went.
func (s *server) setConfigurationEnabled(cfgs configWriter, enable bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseConfigID(c)
		if err != nil {
			return err
		}
		actor := mustUser(c)
		fc, err := cfgs.SetEnabled(c.Request().Context(), actor, fleetScope(c), id, enable)
		if err := actionFlash(c, err, func() string {
			if enable {
				return "Enabled " + fc.Configuration.Name + ": it runs on schedule again."
			}
			return "Disabled " + fc.Configuration.Name + ": it no longer runs on schedule."
		}); err != nil {
			return err
		}
		return seeOther(c, "/configurations/"+idString(id))
	}
}

// actionFlash turns the outcome of a button action into a flash: success
// text, or an upstream failure in words. Other errors are returned.
func actionFlash(c echo.Context, err error, ok func() string) error {
	var ue *app.UpstreamError
	switch {
	case err == nil:
		return addFlash(c, templates.FlashSuccess, ok())
	case errors.As(err, &ue):
		return addFlash(c, templates.FlashError, ue.Message())
	default:
		return err
	}
}

// deleteConfigurationPage asks to confirm a delete.
func (s *server) deleteConfigurationPage(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, d, err := configOfRequest(c, cfgs)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.DeleteConfigPage(templates.DeleteConfigView{
			Meta: s.meta(c, "Delete "+d.Configuration.Name, templates.NavConfigurations),
			ID:   idString(id), Name: d.Configuration.Name, AgentName: d.Configuration.MachineName,
		}))
	}
}

// deleteConfiguration deletes a configuration and goes to the list.
func (s *server) deleteConfiguration(cfgs configWriter) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseConfigID(c)
		if err != nil {
			return err
		}
		actor := mustUser(c)
		fc, err := cfgs.Delete(c.Request().Context(), actor, fleetScope(c), id)
		var ue *app.UpstreamError
		if errors.As(err, &ue) {
			return render(c, http.StatusBadGateway, templates.DeleteConfigPage(templates.DeleteConfigView{
				Meta: s.meta(c, "Delete configuration", templates.NavConfigurations), ID: idString(id),
				Name: "this configuration", Error: ue.Message(),
			}))
		}
		if err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Deleted "+fc.Configuration.Name+" from "+fc.Configuration.MachineName+".", "/configurations")
	}
}

func (s *server) cloneView(c echo.Context, d app.ConfigDetail, agents []app.FleetAgent, in app.CloneInput, errs templates.FormErrors) templates.CloneView {
	v := templates.CloneView{
		Meta: s.meta(c, "Clone "+d.Configuration.Name, templates.NavConfigurations),
		ID:   idString(d.Configuration.ID), Name: d.Configuration.Name, NewName: in.Name, Errors: errs,
	}
	v.Agents = append(v.Agents, templates.Option{Value: "", Label: "Choose an agent…", Selected: in.AgentID == ""})
	for _, a := range sortedAgents(agents) {
		label := a.Agent.MachineName
		if a.Agent.ID == d.Configuration.AgentID {
			label += " (this configuration's agent)"
		}
		v.Agents = append(v.Agents, templates.Option{Value: idString(a.Agent.ID), Label: label, Selected: idString(a.Agent.ID) == in.AgentID})
	}
	return v
}

// cloneConfigurationPage asks for the agent and the new name.
func (s *server) cloneConfigurationPage(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, d, err := configOfRequest(c, cfgs)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		agents, _, err := cfgs.EditableAgents(ctx, creatorScope(c))
		if err != nil {
			return err
		}
		in := app.CloneInput{Name: d.Configuration.Name + " (copy)"}
		return render(c, http.StatusOK, templates.ClonePage(s.cloneView(c, d, agents, in, nil)))
	}
}

// cloneConfiguration copies a configuration and opens the copy.
func (s *server) cloneConfiguration(cfgs configWriter) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseConfigID(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		actor := mustUser(c)
		in := app.CloneInput{AgentID: c.FormValue("agent"), Name: c.FormValue("name")}
		fc, err := cfgs.Clone(ctx, actor, fleetScope(c), id, in)
		if fe, status, ok := formOutcome(err); ok {
			d, gerr := cfgs.Get(ctx, fleetScope(c), id)
			if gerr != nil {
				return gerr
			}
			agents, _, aerr := cfgs.EditableAgents(ctx, creatorScope(c))
			if aerr != nil {
				return aerr
			}
			return render(c, status, templates.ClonePage(s.cloneView(c, d, agents, in, fe)))
		}
		if err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Cloned to "+fc.Configuration.MachineName+" as "+fc.Configuration.Name+".", "/configurations/"+idString(fc.Configuration.ID))
	}
}

// exportConfiguration downloads a configuration as JSON, in the shape Import
// reads.
func (s *server) exportConfiguration(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseConfigID(c)
		if err != nil {
			return err
		}
		b, name, err := cfgs.Export(c.Request().Context(), fleetScope(c), id)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		return c.Blob(http.StatusOK, "application/json; charset=utf-8", b)
	}
}

func (s *server) importView(c echo.Context, agents []app.FleetAgent, agentID, text string, errs templates.FormErrors) templates.ImportView {
	v := templates.ImportView{Meta: s.meta(c, "Import a configuration", templates.NavConfigurations), JSON: text, Errors: errs}
	v.Agents = append(v.Agents, templates.Option{Value: "", Label: "Choose an agent…", Selected: agentID == ""})
	for _, a := range sortedAgents(agents) {
		v.Agents = append(v.Agents, templates.Option{Value: idString(a.Agent.ID), Label: a.Agent.MachineName, Selected: idString(a.Agent.ID) == agentID})
	}
	return v
}

// importConfigurationPage shows the import form.
func (s *server) importConfigurationPage(cfgs configReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		agents, _, err := cfgs.EditableAgents(c.Request().Context(), creatorScope(c))
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.ImportPage(s.importView(c, agents, c.QueryParam("agent"), "", nil)))
	}
}

// importConfiguration creates a configuration from an uploaded or pasted
// JSON document. Success opens the new configuration. JSON that does not
// read is shown again with the reason (422); JSON that reads but breaks a
// rule opens the filled form with the problems marked, for review (422).
func (s *server) importConfiguration(cfgs configWriter) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		agentID := c.FormValue("agent")
		text := c.FormValue("json")
		data := []byte(text)
		if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
			f, err := fh.Open()
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			data, err = io.ReadAll(io.LimitReader(f, app.MaxImportBytes+1))
			_ = f.Close()
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			text = ""
		}
		actor := mustUser(c)
		fc, in, err := cfgs.Import(ctx, actor, fleetScope(c), agentID, data)
		fe, status, ok := formOutcome(err)
		switch {
		case ok && (fe["json"] != "" || in.Name == "" && in.Frequency == ""):
			agents, _, aerr := cfgs.EditableAgents(ctx, creatorScope(c))
			if aerr != nil {
				return aerr
			}
			if len(text) > app.MaxImportBytes {
				text = ""
			}
			return render(c, status, templates.ImportPage(s.importView(c, agents, agentID, text, fe)))
		case ok:
			m := createMode
			m.heading, m.intro = "Review the imported configuration", "Fix what is marked, then create it. Nothing was created yet."
			return s.renderCreateFormMode(c, cfgs, m, in, fe, status, "")
		case err != nil:
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Imported "+fc.Configuration.Name+" to "+fc.Configuration.MachineName+".", "/configurations/"+idString(fc.Configuration.ID))
	}
}
