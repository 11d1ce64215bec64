package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
	"github.com/rcbu-console/rcbu-console/words"
)

// historyReader is what the history pages need from app.History.
type historyReader interface {
	List(ctx context.Context, f app.ReportFilter) (app.ReportPage, error)
	Get(ctx context.Context, accounts []app.AccountID, kind app.ReportKind, jobID int64) (app.Report, error)
	Export(ctx context.Context, f app.ReportFilter, fn func(app.Report) error) error
	SuccessRate(ctx context.Context, accounts []app.AccountID, days int, loc *time.Location) ([]app.DayRate, error)
	Runs(ctx context.Context, accounts []app.AccountID, agent rcbu.AgentID, config rcbu.ConfigurationID, days int) ([]app.RunPoint, error)
	ResolveNames(ctx context.Context, f *app.ReportFilter) ([]app.FilterProblem, error)
	NameOf(ctx context.Context, accounts []app.AccountID, kind app.NameKind, id int64) (string, error)
	Names(ctx context.Context, accounts []app.AccountID, kind app.NameKind, text string) ([]app.NamedObject, error)
	Snippets(ctx context.Context, rs []app.Report, q string) (map[app.SnapshotID][]string, error)
	FilteredRate(ctx context.Context, f app.ReportFilter, days int, loc *time.Location) ([]app.DayRate, error)
}

// syncer is what the history pages need from app.Syncer.
type syncer interface {
	SyncNow(ctx context.Context, actor app.User, accounts []app.AccountID) error
	Status(ctx context.Context, accounts []app.Account) ([]app.SyncStatus, error)
}

// reportQuery is the parsed query of /reports and the exports.
type reportQuery struct {
	f     app.ReportFilter
	view  templates.ReportsFilterView
	notes []string
	days  int // chart period: 30 or 90
	// agent and config are the filters as links carry them: the id once a
	// name resolved to one, else what was typed.
	agent, config string
	// resolved: a name became an id, so the canonical URL differs.
	resolved bool
}

func scopeIDs(accts []app.Account) []app.AccountID {
	ids := make([]app.AccountID, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	return ids
}

// parseReportQuery reads the filters from the query string with
// app.ParseReportQuery, as the API does. The page is lenient only in how it
// reports a bad value: it says so in a note and ignores the value.
func parseReportQuery(c echo.Context, accts []app.Account, loc *time.Location) reportQuery {
	q := c.QueryParams()
	f, problems := app.ParseReportQuery(q, app.ReportQueryOptions{Accounts: accts, Location: loc})
	rq := reportQuery{f: f, days: 30}
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	v := &rq.view
	v.Errs = templates.FormErrors{}
	v.Account, v.Agent, v.Config, v.From, v.To, v.Q = get("account"), get("agent"), get("config"), get("from"), get("to"), f.Query
	rq.agent, rq.config = v.Agent, v.Config
	v.Kind, v.State, v.Errors = string(f.Kind), f.State, f.ErrorsOnly
	if get("sort") != "" && f.Sort == app.ReportSort(strings.ToLower(get("sort"))) {
		v.Sort = string(f.Sort)
	}
	if f.Asc {
		v.Dir = "asc"
	}
	for _, p := range problems {
		note := p.Message + "; " + p.Ignored + "."
		note = strings.ToUpper(note[:1]) + note[1:]
		v.Errs[p.Field] = note
		rq.notes = append(rq.notes, note)
	}
	if d := get("days"); d == "90" {
		rq.days = 90
	}
	return rq
}

// resolveNames turns agent and configuration names into ids (a name that
// matches nothing, or several, is a note) and shows names in the form
// where the URL has ids.
func resolveNames(ctx context.Context, hist historyReader, rq *reportQuery) error {
	hadAgent, hadConfig := rq.f.AgentName, rq.f.ConfigName
	problems, err := hist.ResolveNames(ctx, &rq.f)
	if err != nil {
		return err
	}
	for _, p := range problems {
		note := p.Message + "; " + p.Ignored + "."
		note = strings.ToUpper(note[:1]) + note[1:]
		rq.view.Errs[p.Field] = note
		rq.notes = append(rq.notes, note)
	}
	scope := rq.f.Accounts
	if rq.f.Account != 0 {
		scope = []app.AccountID{rq.f.Account}
	}
	for _, n := range []struct {
		had, name string
		id        int64
		kind      app.NameKind
		param     *string
		shown     *string
	}{
		{hadAgent, rq.f.AgentName, int64(rq.f.AgentID), app.NameAgent, &rq.agent, &rq.view.Agent},
		{hadConfig, rq.f.ConfigName, int64(rq.f.ConfigID), app.NameConfiguration, &rq.config, &rq.view.Config},
	} {
		switch {
		case n.had != "" && n.id != 0:
			*n.param, *n.shown = strconv.FormatInt(n.id, 10), n.name
			rq.resolved = true
		case n.had == "" && n.id != 0:
			name, err := hist.NameOf(ctx, scope, n.kind, n.id)
			if err != nil {
				return err
			}
			if name != "" {
				*n.shown = name
			}
		}
	}
	return nil
}

// filtersActive counts the filters set beyond the search and the names.
func (rq reportQuery) filtersActive() int {
	n := 0
	v := rq.view
	for _, s := range []string{v.Account, v.Kind, v.State, v.From, v.To, v.Sort} {
		if s != "" {
			n++
		}
	}
	if v.Dir != "" {
		n++
	}
	if v.Errors {
		n++
	}
	return n
}

// narrowed reports whether anything beyond the account narrows the list.
func (rq reportQuery) narrowed() bool {
	f := rq.f
	return f.AgentID != 0 || f.ConfigID != 0 || f.Kind != "" || f.State != "" || !f.From.IsZero() || !f.To.IsZero() ||
		f.ErrorsOnly || f.Query != "" || f.Nothing
}

// values returns the filter as query parameters (no cursor), for links.
func (rq reportQuery) values() url.Values {
	v := rq.view
	q := url.Values{}
	set := func(k, val string) {
		if val != "" && v.Errs[k] == "" {
			q.Set(k, val)
		}
	}
	set("q", v.Q)
	set("account", v.Account)
	set("agent", rq.agent)
	set("config", rq.config)
	set("kind", v.Kind)
	set("state", v.State)
	set("from", v.From)
	set("to", v.To)
	if v.Errors {
		q.Set("errors", "1")
	}
	set("sort", v.Sort)
	set("dir", v.Dir)
	return q
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// reportsPage shows the history. An htmx request from the filter form or
// a paging link gets the results fragment only.
func (s *server) reportsPage(hist historyReader, sync syncer) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u := mustUser(c)
		loc, now := u.Location(), s.Now()
		accts := scopeAccounts(c)
		rq := parseReportQuery(c, accts, loc)
		if err := resolveNames(ctx, hist, &rq); err != nil {
			return err
		}
		htmx := isHTMX(c) && c.Request().Header.Get("HX-History-Restore-Request") != "true"
		if rq.resolved {
			// The URL keeps the id a name stands for.
			canonical := withQuery("/reports", rq.values())
			if !htmx {
				return seeOther(c, canonical)
			}
			c.Response().Header().Set("HX-Push-Url", canonical)
		}
		page, err := hist.List(ctx, rq.f)
		if err != nil {
			return err
		}
		results := s.resultsView(rq, page, accts, now, loc)
		if rq.f.Query != "" {
			snips, err := hist.Snippets(ctx, page.Reports, rq.f.Query)
			if err != nil {
				return err
			}
			for i, r := range page.Reports {
				results.Rows[i].Snippet = snips[r.ID]
			}
		}
		// The chart shows what the table shows: the same filters, and none
		// when nothing matches.
		if len(page.Reports) > 0 || rq.f.After != nil || rq.f.Before != nil {
			var rates []app.DayRate
			if rq.narrowed() {
				rates, err = hist.FilteredRate(ctx, rq.f, rq.days, loc)
			} else {
				ids := scopeIDs(accts)
				if rq.f.Account != 0 {
					ids = []app.AccountID{rq.f.Account}
				}
				rates, err = hist.SuccessRate(ctx, ids, rq.days, loc)
			}
			if err != nil {
				return err
			}
			ch := successRateChart(rates, rq.days, now, loc)
			if rq.narrowed() {
				ch.Title = "Backups matching these filters that succeeded, per day"
			}
			results.Rate = &ch
		}
		if htmx {
			return render(c, http.StatusOK, templates.ReportsResults(results))
		}
		v := templates.ReportsView{Meta: s.meta(c, "Reports", templates.NavReports), Filter: rq.view, Results: results}
		v.Filter.AccountOptions = accountOptions(accts, rq.view.Account)
		v.Filter.KindOptions = []templates.Option{
			{Value: "", Label: "Backups and restores", Selected: rq.view.Kind == ""},
			{Value: "backup", Label: "Backups", Selected: rq.view.Kind == "backup"},
			{Value: "restore", Label: "Restores", Selected: rq.view.Kind == "restore"},
		}
		v.Filter.StateOptions = []templates.Option{{Value: "", Label: "Any state", Selected: rq.f.State == ""}}
		for _, st := range app.ReportStates() {
			v.Filter.StateOptions = append(v.Filter.StateOptions, templates.Option{Value: st, Label: templates.BackupBadge(st).Word, Selected: rq.f.State == st})
		}
		for _, so := range app.ReportSorts() {
			v.Filter.SortOptions = append(v.Filter.SortOptions, templates.Option{Value: string(so), Label: so.Label(), Selected: rq.f.Sort == so})
		}
		v.Filter.DirOptions = []templates.Option{
			{Value: "desc", Label: "Descending", Selected: !rq.f.Asc},
			{Value: "asc", Label: "Ascending", Selected: rq.f.Asc},
		}
		statuses, err := sync.Status(ctx, accts)
		if err != nil {
			return err
		}
		v.Sync = syncPanelView(statuses, scopeRole(c, u).Allows(app.RoleCreator), c.Request().URL.RequestURI(), now, loc)
		ids := scopeIDs(accts)
		if rq.f.Account != 0 {
			ids = []app.AccountID{rq.f.Account}
		}
		v.Filter.Active = rq.filtersActive()
		for _, k := range []app.NameKind{app.NameAgent, app.NameConfiguration} {
			list, err := hist.Names(ctx, ids, k, "")
			if err != nil {
				return err
			}
			opts := nameOptions(list)
			if k == app.NameAgent {
				v.Filter.AgentNames = opts
			} else {
				v.Filter.ConfigNames = opts
			}
		}
		if rq.f.ConfigID != 0 || rq.f.AgentID != 0 {
			pts, err := hist.Runs(ctx, ids, rq.f.AgentID, rq.f.ConfigID, rq.days)
			if err != nil {
				return err
			}
			rc := RunChartsFor(pts, rq.f.AgentID, rq.f.ConfigID, rq.days, "/reports", rq.values(), now, loc)
			v.Runs = &rc
		}
		return render(c, http.StatusOK, templates.ReportsPage(v))
	}
}

func accountOptions(accts []app.Account, selected string) []templates.Option {
	if len(accts) < 2 {
		return nil
	}
	out := []templates.Option{{Value: "", Label: "All accounts in scope", Selected: selected == ""}}
	for _, a := range accts {
		out = append(out, templates.Option{Value: a.ID.String(), Label: a.Name, Selected: a.ID.String() == selected})
	}
	return out
}

// resultsView maps a page of reports to the results fragment.
func (s *server) resultsView(rq reportQuery, page app.ReportPage, accts []app.Account, now time.Time, loc *time.Location) templates.ReportsResultsView {
	names := map[app.AccountID]string{}
	for _, a := range accts {
		names[a.ID] = a.Name
	}
	multi := len(accts) > 1
	base := rq.values()
	v := templates.ReportsResultsView{
		Notes: rq.notes, ShowAccount: multi,
		CSVHref: withQuery("/reports/export.csv", base), JSONHref: withQuery("/reports/export.json", base),
		Empty: "No reports match these filters. Clear a filter, or press Sync now if jobs finished recently.",
	}
	if len(accts) == 0 {
		v.Empty = "No Rackspace account is connected yet. An admin can add one in Admin → Accounts."
	}
	if rq.f.Nothing {
		v.Empty = "No reports match: see the note above. Type part of a name and pick it from the suggestions."
	}
	// Nine columns fit 1280 px: the kind shows under the finish time, and
	// the start time is the finish time less the duration.
	cols := []struct {
		label string
		sort  app.ReportSort
	}{{"Finished", app.SortFinished}, {"Account", ""}, {"Agent", app.SortAgent}, {"Configuration", app.SortConfig},
		{"State", app.SortState}, {"Duration", app.SortDuration}, {"Files", app.SortFiles}, {"Bytes", app.SortBytes}, {"Errors", app.SortErrors}}
	for _, col := range cols {
		if col.label == "Account" && !multi {
			continue
		}
		h := templates.SortHeader{Label: col.label}
		if col.sort != "" {
			q := cloneValues(base)
			q.Set("sort", string(col.sort))
			q.Del("dir")
			if rq.f.Sort == col.sort {
				if rq.f.Asc {
					h.AriaSort, h.Arrow = "ascending", "▲"
				} else {
					h.AriaSort, h.Arrow = "descending", "▼"
					q.Set("dir", "asc") // clicking again flips the order
				}
			}
			h.Href = withQuery("/reports", q)
		}
		v.Headers = append(v.Headers, h)
	}
	for _, r := range page.Reports {
		v.Rows = append(v.Rows, reportRow(r, names[r.AccountID], multi, now, loc))
	}
	if n := len(page.Reports); n > 0 {
		if page.HasNext {
			q := cloneValues(base)
			q.Set("after", app.EncodeReportCursor(rq.f, page.Reports[n-1].Cursor(rq.f.Sort)))
			v.NextHref = withQuery("/reports", q)
		}
		if page.HasPrev {
			q := cloneValues(base)
			q.Set("before", app.EncodeReportCursor(rq.f, page.Reports[0].Cursor(rq.f.Sort)))
			v.PrevHref = withQuery("/reports", q)
		}
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// reportHref is the report page of r; with several accounts in scope it
// names the account.
func reportHref(r app.Report, multi bool) string {
	h := fmt.Sprintf("/reports/%s/%d", r.Kind, r.JobID)
	if multi {
		h += "?account=" + r.AccountID.String()
	}
	return h
}

func reportRow(r app.Report, account string, multi bool, now time.Time, loc *time.Location) templates.ReportRow {
	row := templates.ReportRow{
		Href: reportHref(r, multi), Kind: string(r.Kind), JobID: strconv.FormatInt(r.JobID, 10), Account: account,
		AgentName: r.AgentName, ConfigName: r.ConfigName, State: templates.BackupBadge(r.State),
		Started: templates.NewTimeView(r.Started, now, loc), Finished: templates.NewTimeView(r.Finished, now, loc),
		Duration: templates.Duration(r.Duration), Files: templates.Count(r.Files()), Bytes: templates.Bytes(r.Bytes()),
		Errors: templates.Count(r.ErrorCount), HasErrors: r.ErrorCount > 0, ParseError: r.ParseError != "",
	}
	if row.AgentName == "" && r.AgentID != 0 {
		row.AgentName = "Agent " + strconv.FormatInt(int64(r.AgentID), 10)
	}
	if r.AgentID != 0 {
		row.AgentHref = fmt.Sprintf("/agents/%d", r.AgentID)
	}
	if r.ConfigID != 0 {
		row.ConfigHref = fmt.Sprintf("/configurations/%d", r.ConfigID)
	}
	return row
}

func syncPanelView(list []app.SyncStatus, canSync bool, ret string, now time.Time, loc *time.Location) templates.SyncPanelView {
	v := templates.SyncPanelView{CanSync: canSync && len(list) > 0, Return: ret}
	for _, st := range list {
		row := templates.SyncRow{
			Account: st.AccountName, LastOK: templates.NewTimeView(st.LastOK, now, loc), LastRun: templates.NewTimeView(st.LastEnd, now, loc),
			Stored: templates.Count(int64(st.LastStored)), Error: st.LastError, Running: st.Running,
		}
		if st.LastError != "" && st.NextAttempt.After(now) {
			row.Next = templates.NewTimeView(st.NextAttempt, now, loc)
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// reportPage shows one report, from the store or (snapshotting it) the API.
func (s *server) reportPage(hist historyReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		kind, err := app.ParseReportKind(c.Param("kind"))
		if err != nil {
			return fmt.Errorf("report kind: %w", app.ErrNotFound)
		}
		id, err := parseID(c, "id")
		if err != nil {
			return err
		}
		accts := scopeAccounts(c)
		ids := scopeIDs(accts)
		if a := c.QueryParam("account"); a != "" {
			n, err := strconv.ParseInt(a, 10, 64)
			found := false
			for _, acc := range accts {
				if err == nil && acc.ID == app.AccountID(n) {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("report %s %d: account %q not in scope: %w", kind, id, a, app.ErrNotFound)
			}
			ids = []app.AccountID{app.AccountID(n)}
		}
		u := mustUser(c)
		now, loc := s.Now(), u.Location()
		title := fmt.Sprintf("%s %d", kindLabel(kind), id)
		r, err := hist.Get(ctx, ids, kind, id)
		if err != nil {
			if errors.Is(err, app.ErrNotFound) {
				return err
			}
			if ctx.Err() != nil {
				return err
			}
			// The API failed and nothing is stored: say so; the page still renders.
			v := templates.ReportView{Meta: s.meta(c, title, templates.NavReports), Heading: title, Kind: string(kind),
				JobID: strconv.FormatInt(id, 10), BackHref: "/reports", Problem: app.Problem(err, "report"), RetryHref: c.Request().URL.RequestURI()}
			return render(c, http.StatusBadGateway, templates.ReportPage(v))
		}
		v := reportView(r, len(accts) > 1, u.RoleOn(r.AccountID).Allows(app.RoleCreator), now, loc)
		v.Meta = s.meta(c, title, templates.NavReports)
		if kind == app.KindRestore {
			// A restore started here repeats what it was asked to do.
			if rq, err := s.Restores.Request(ctx, r.AccountID, rcbu.RestoreID(r.JobID)); err == nil {
				v.Request = storedRequestView(rq, r.DestName)
			}
		}
		return render(c, http.StatusOK, templates.ReportPage(v))
	}
}

func kindLabel(k app.ReportKind) string {
	if k == app.KindRestore {
		return "Restore"
	}
	return "Backup"
}

func reportView(r app.Report, multi, canCreate bool, now time.Time, loc *time.Location) templates.ReportView {
	v := templates.ReportView{
		Heading: fmt.Sprintf("%s %d", kindLabel(r.Kind), r.JobID), Kind: string(r.Kind), JobID: strconv.FormatInt(r.JobID, 10),
		State: templates.BackupBadge(r.State), ErrorCount: templates.Count(r.ErrorCount), ParseError: r.ParseError,
		Raw: string(r.Raw), AgentName: r.AgentName, ConfigName: r.ConfigName, BackHref: "/reports",
	}
	if r.ConfigName != "" {
		v.Heading += " of " + r.ConfigName
	}
	acct := ""
	if multi {
		acct = "account=" + r.AccountID.String()
	}
	join := func(base string, qs ...string) string {
		var parts []string
		for _, q := range qs {
			if q != "" {
				parts = append(parts, q)
			}
		}
		if len(parts) == 0 {
			return base
		}
		return base + "?" + strings.Join(parts, "&")
	}
	if r.AgentID != 0 {
		v.AgentHref = fmt.Sprintf("/agents/%d", r.AgentID)
		if v.AgentName == "" {
			v.AgentName = strconv.FormatInt(int64(r.AgentID), 10)
		}
	}
	if r.ConfigID != 0 {
		v.ConfigHref = fmt.Sprintf("/configurations/%d", r.ConfigID)
	}
	if r.Kind == app.KindBackup {
		v.JobHref = join(fmt.Sprintf("/backups/%d", r.JobID), acct)
		if r.CanRestore && canCreate && r.ConfigID != 0 {
			v.RestoreHref = join("/restores/new", fmt.Sprintf("configuration=%d&backup=%d", r.ConfigID, r.JobID), acct)
		}
	} else {
		v.JobHref = join(fmt.Sprintf("/restores/%d", r.JobID), acct)
	}
	tv := func(t time.Time) *templates.TimeView { x := templates.NewTimeView(t, now, loc); return &x }
	add := func(label, value string) {
		v.Fields = append(v.Fields, templates.ReportField{Label: label, Value: value})
	}
	v.Fields = append(v.Fields, templates.ReportField{Label: "State", Value: v.State.Word, Raw: r.State})
	v.Fields = append(v.Fields,
		templates.ReportField{Label: "Agent", Value: r.AgentName, Href: v.AgentHref},
		templates.ReportField{Label: "Configuration", Value: r.ConfigName, Href: v.ConfigHref})
	if r.Kind == app.KindRestore {
		add("Restored backup", strconv.FormatInt(int64(r.BackupID), 10))
		add("Destination", r.DestName)
	}
	v.Fields = append(v.Fields,
		templates.ReportField{Label: "Started", Time: tv(r.Started)},
		templates.ReportField{Label: "Finished", Time: tv(r.Finished)})
	add("Duration", templates.Duration(r.Duration))
	if r.Kind == app.KindBackup {
		add("Files searched", templates.Count(r.FilesSearched))
		add("Bytes searched", templates.Bytes(r.BytesSearched))
		add("Files backed up", templates.Count(r.FilesBackedUp))
		add("Bytes backed up", templates.Bytes(r.BytesBackedUp))
		if r.CanRestore {
			add("Restorable", "Yes")
		} else {
			add("Restorable", "No")
		}
	} else {
		add("Files restored", templates.Count(r.FilesRestored))
		add("Bytes restored", templates.Bytes(r.BytesRestored))
	}
	add("Errors", templates.Count(r.ErrorCount))
	if w := words.Reason(r.Reason); w != "" {
		v.Fields = append(v.Fields, templates.ReportField{Label: "Reason", Value: w, Raw: r.Reason})
	}
	if r.Diagnostics != "" && !strings.EqualFold(r.Diagnostics, "No errors") {
		add("Diagnostics", r.Diagnostics)
	}
	v.Cause = reportCause(r)
	v.Fields = append(v.Fields, templates.ReportField{Label: "Snapshot taken", Time: tv(r.Fetched)})
	for _, e := range r.Errors {
		v.Errors = append(v.Errors, templates.ReportErrorRow{
			Index: strconv.FormatInt(e.ListIndex, 10), Path: e.Path, Description: e.Description, Exception: e.Exception,
			Details: e.Details, Code: strconv.FormatInt(e.Code, 10), Type: strconv.FormatInt(e.ErrorType, 10),
		})
	}
	return v
}

// reportCause says, for a run that failed or did not finish cleanly, what
// went wrong in one sentence: the state and the reason in words, then the
// agent's diagnostics. A clean run has no cause (nil).
func reportCause(r app.Report) *templates.ReportCauseView {
	out := r.Outcome()
	if out == app.RunSuccess && r.ErrorCount == 0 {
		return nil
	}
	if out == app.RunNeutral && r.ErrorCount == 0 && !strings.EqualFold(r.State, "Skipped") && !strings.EqualFold(r.State, "Stopped") {
		return nil
	}
	what, moved := "This "+strings.ToLower(kindLabel(r.Kind)), "backed up"
	if r.Kind == app.KindRestore {
		moved = "restored"
	}
	var sent string
	switch strings.ToLower(strings.ReplaceAll(r.State, " ", "")) {
	case "failed":
		sent = what + " failed"
	case "completedwitherrors":
		sent = what + " finished, but some files were not " + moved
	case "missed":
		sent = what + " did not run at its scheduled time"
	case "skipped":
		sent = what + " was skipped"
	case "stopped":
		sent = what + " was stopped before it finished"
	default:
		sent = what + " ended " + strings.ToLower(words.State(r.State))
	}
	if w := words.Reason(r.Reason); w != "" && !strings.EqualFold(w, words.State(r.State)) {
		sent += ": " + strings.ToLower(w[:1]) + w[1:]
	}
	c := &templates.ReportCauseView{Summary: sent + ".", Raw: r.State}
	if r.Reason != "" {
		c.Raw += " · " + r.Reason
	}
	if d := r.Diagnostics; d != "" && !strings.EqualFold(d, "No errors") && !strings.EqualFold(strings.ReplaceAll(d, " ", ""), strings.ReplaceAll(r.State, " ", "")) {
		c.Diagnostics = d
	}
	if r.ErrorCount > 0 {
		c.Files = templates.Plural(r.ErrorCount, "file has an error", "files have errors")
	}
	return c
}

// syncReports asks the worker to sync the accounts in scope now.
func (s *server) syncReports(sync syncer) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		accts := scopeAccounts(c)
		if err := sync.SyncNow(c.Request().Context(), u, scopeIDs(accts)); err != nil {
			return err
		}
		if err := addFlash(c, templates.FlashInfo, "Sync started. New reports appear here within a minute; reload to see them."); err != nil {
			return err
		}
		to := localPath(c.FormValue("return"))
		if !strings.HasPrefix(to, "/reports") {
			to = "/reports"
		}
		return seeOther(c, to)
	}
}

// nameOptions are the suggestions of a name filter: the value is the name
// (what the input sends), the label says which agent a configuration is on.
func nameOptions(list []app.NamedObject) []templates.Option {
	out := make([]templates.Option, 0, len(list))
	seen := map[string]bool{}
	for _, n := range list {
		if seen[n.Label()] {
			continue
		}
		seen[n.Label()] = true
		out = append(out, templates.Option{Value: n.Name, Label: n.Label()})
	}
	return out
}

// maxNameQuery bounds a suggestions search, in characters.
const maxNameQuery = 200

// reportNames is the htmx suggestions endpoint of the name filters: the
// options of the datalist for what is typed in ?agent= or ?config=.
func (s *server) reportNames(hist historyReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		kind, text := app.NameConfiguration, c.QueryParam("config")
		if c.QueryParam("kind") == string(app.NameAgent) {
			kind, text = app.NameAgent, c.QueryParam("agent")
		}
		if len([]rune(text)) > maxNameQuery {
			text = string([]rune(text)[:maxNameQuery])
		}
		ids := scopeIDs(scopeAccounts(c))
		list, err := hist.Names(c.Request().Context(), ids, kind, text)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.NameOptions(nameOptions(list)))
	}
}
