package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// restoreService is what the restore wizard and the restore pages use.
type restoreService interface {
	Sources(ctx context.Context, scope app.Scope) ([]app.RestoreSource, []app.AccountProblem, error)
	Load(ctx context.Context, scope app.Scope, p app.RestorePlan, upTo int) (app.RestoreContext, error)
	Start(ctx context.Context, actor app.User, scope app.Scope, p app.RestorePlan, in app.StartInput) (app.FleetRestore, error)
	Job(ctx context.Context, scope app.Scope, id rcbu.RestoreID) (app.RestoreJob, error)
	Stop(ctx context.Context, actor app.User, scope app.Scope, id rcbu.RestoreID) (app.FleetRestore, error)
	PickerPaths(ctx context.Context, rc app.RestoreContext) (app.PathTree, error)
}

// The wizard's pages, by step.
var restoreStepPaths = map[int]string{
	app.StepBackup:      "/restores/new",
	app.StepDestination: "/restores/new/destination",
	app.StepFiles:       "/restores/new/files",
	app.StepReview:      "/restores/new/review",
}

var restoreStepTitles = map[int]string{
	app.StepBackup:      "Choose a backup",
	app.StepDestination: "Choose the destination",
	app.StepFiles:       "Choose files",
	app.StepReview:      "Review and start",
}

// stepFields are the query keys each step sets; the other steps carry them
// as hidden fields.
var stepFields = map[int][]string{
	app.StepBackup:      {"configuration", "backup"},
	app.StepDestination: {"destination", "path_mode", "path", "overwrite"},
	app.StepFiles:       {"include", "exclude"},
	app.StepReview:      nil,
}

func stepHref(step int, p app.RestorePlan) string {
	q := p.Values().Encode()
	if q == "" {
		return restoreStepPaths[step]
	}
	return restoreStepPaths[step] + "?" + q
}

// hiddenExcept lists the plan's values as hidden fields, but for the keys
// the current step's form sets itself.
func hiddenExcept(p app.RestorePlan, step int) []templates.Hidden {
	skip := map[string]bool{}
	for _, k := range stepFields[step] {
		skip[k] = true
	}
	var out []templates.Hidden
	vals := p.Values()
	for _, k := range []string{"configuration", "backup", "destination", "path_mode", "path", "overwrite", "include", "exclude"} {
		if v := vals.Get(k); v != "" && !skip[k] {
			out = append(out, templates.Hidden{Name: k, Value: v})
		}
	}
	return out
}

// restoreWizard serves one GET step of the wizard. A choice of an earlier
// step that is missing or wrong sends the user back to that step, with the
// message, as 422. The wizard works within the accounts the user is a
// Creator on: a restore reads one and writes another.
func (s *server) restoreWizard(rs restoreService, step int) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := app.ParseRestorePlan(c.QueryParams())
		if step == app.StepBackup && p.ConfigurationID == 0 {
			return s.renderRestoreStep(c, rs, p, app.StepBackup, app.RestoreContext{}, nil, http.StatusOK)
		}
		rc, err := rs.Load(c.Request().Context(), creatorScope(c), p, step)
		return s.restoreOutcome(c, rs, p, step, rc, err)
	}
}

// restoreOutcome renders the step the outcome of Load or Start points at.
func (s *server) restoreOutcome(c echo.Context, rs restoreService, p app.RestorePlan, step int, rc app.RestoreContext, err error) error {
	var we *app.WizardError
	var ue *app.UpstreamError
	switch {
	case err == nil:
		return s.renderRestoreStep(c, rs, p, step, rc, nil, http.StatusOK)
	case errors.As(err, &we):
		if we.Step < step {
			// rc holds what Load read before the problem; read it again for
			// that step so the page has all it needs.
			rc, _ = rs.Load(c.Request().Context(), creatorScope(c), p, we.Step)
		}
		return s.renderRestoreStep(c, rs, p, we.Step, rc, templates.FormErrors(we.Invalid.Fields), http.StatusUnprocessableEntity)
	case errors.Is(err, app.ErrNotFound) && step <= app.StepReview:
		p.ConfigurationID, p.BackupID = 0, 0
		errs := templates.FormErrors{"configuration": "This configuration no longer exists, or is not in the selected account. Choose another one."}
		return s.renderRestoreStep(c, rs, p, app.StepBackup, app.RestoreContext{}, errs, http.StatusUnprocessableEntity)
	case errors.As(err, &ue):
		return s.renderRestoreStep(c, rs, p, step, rc, templates.FormErrors{"": ue.Message()}, http.StatusBadGateway)
	default:
		return err
	}
}

// renderRestoreStep maps the plan and what Load read to the step's view.
func (s *server) renderRestoreStep(c echo.Context, rs restoreService, p app.RestorePlan, step int, rc app.RestoreContext, errs templates.FormErrors, status int) error {
	u := mustUser(c)
	now, loc := s.Now(), u.Location()
	v := templates.RestoreWizardView{
		Meta:   s.meta(c, restoreStepTitles[step], templates.NavActivity),
		Step:   step,
		Errors: errs,
		Hidden: hiddenExcept(p, step),
	}
	for n := app.StepBackup; n <= app.StepReview; n++ {
		ws := templates.WizardStep{N: n, Label: strconv.Itoa(n) + ". " + restoreStepTitles[n], Current: n == step}
		if n < step {
			ws.Href = stepHref(n, p)
		}
		v.Steps = append(v.Steps, ws)
	}
	if step > app.StepBackup {
		v.Back = stepHref(step-1, p)
	}
	switch step {
	case app.StepBackup:
		srcs, problems, err := rs.Sources(c.Request().Context(), creatorScope(c))
		if err != nil {
			return err
		}
		for _, pr := range problems {
			v.SourceProblems = append(v.SourceProblems, pr.AccountName+": "+pr.Message)
		}
		multi := len(scopeAccounts(c)) > 1
		for _, src := range srcs {
			ab := src.Available
			o := templates.RestoreSourceOption{
				Value: idString(ab.ConfigurationID), Name: ab.ConfigurationName, AgentName: ab.MachineName,
				LastSuccess: templates.NewTimeView(ab.LastSuccessfulBackupTime.Time, now, loc),
				Encrypted:   ab.IsEncrypted, Selected: ab.ConfigurationID == p.ConfigurationID,
			}
			if multi {
				o.AccountName = src.AccountName
			}
			v.Sources = append(v.Sources, o)
		}
		if p.ConfigurationID != 0 && rc.Source.Configuration.ID != 0 {
			v.ConfigurationID = idString(p.ConfigurationID)
			v.ConfigName = rc.Source.Configuration.Name + " on " + rc.Source.Configuration.MachineName
			for _, b := range rc.Backups {
				v.Backups = append(v.Backups, templates.RestoreBackupOption{
					Value: idString(b.ID), Completed: templates.NewTimeView(b.CompletedTime.Time, now, loc),
					Size: templates.Bytes(b.BytesSearched.Bytes), Errors: templates.Count(b.NumErrors), Selected: b.ID == p.BackupID,
				})
			}
		}
	case app.StepDestination:
		want := p.DestinationID
		if want == 0 {
			want = rc.Source.Configuration.AgentID
		}
		for _, a := range rc.Destinations {
			v.Destinations = append(v.Destinations, templates.Option{Value: idString(a.Agent.ID), Label: destinationLabel(a, rc.Source.Configuration.AgentID), Selected: a.Agent.ID == want})
		}
		v.PathMode, v.Path, v.Overwrite = p.PathMode, p.Path, p.Overwrite
		v.OriginalHint = "Each file goes back to the path it was backed up from."
	case app.StepFiles:
		filter := strings.TrimSpace(c.QueryParam("filter"))
		if len(filter) > 200 {
			filter = filter[:200]
		}
		tree, terr := rs.PickerPaths(c.Request().Context(), rc)
		pv := pickerView(tree, p.Include, filter)
		v.Tree, v.KeptPicks, v.Filter = pv.nodes, pv.kept, filter
		v.Include, v.Exclude = strings.Join(pv.typed, "\n"), strings.Join(p.Exclude, "\n")
		switch {
		case terr != nil:
			v.TreeNote = "The list of known paths could not be read; type the paths to restore below."
		case tree.Count == 0:
			v.TreeNote = "This console knows no paths of this configuration yet; type the paths to restore below."
		case filter != "" && len(pv.nodes) == 0:
			v.TreeNote = "Nothing in the list matches \u201c" + filter + "\u201d."
		default:
			v.TreeNote = templates.Plural(int64(tree.Count), "path", "paths") + " from this configuration's inclusions, its backups' reports and earlier restores."
		}
		v.Warnings = outsideWarnings(tree, p.Include)
	case app.StepReview:
		if tree, err := rs.PickerPaths(c.Request().Context(), rc); err == nil {
			v.Warnings = outsideWarnings(tree, p.Include)
		}
		v.Summary = restoreSummary(p, rc, now, loc)
		v.Overwrite, v.Encrypted = p.Overwrite, rc.Encrypted
		v.Token = c.FormValue("token") // a form shown again keeps its token
		if v.Token == "" {
			v.Token = app.NewStartToken()
		}
	}
	return render(c, status, templates.RestoreWizardPage(v))
}

// pickerTree is the picker as one page shows it: the visible nodes, the
// ticked paths the filter hides, and the typed paths (those not in the
// tree at all).
type pickerTree struct {
	nodes []templates.PathNodeView
	kept  []string
	typed []string
}

// pickerView maps the tree to the page: ticked where the plan includes the
// path; with a filter, only the nodes whose path contains it (a match shows
// its whole folder) and the folders on the way, opened.
func pickerView(tree app.PathTree, include []string, filter string) pickerTree {
	var out pickerTree
	inTree := map[string]bool{}
	ticked := map[string]bool{}
	for _, p := range include {
		ticked[p] = true
	}
	f := strings.ToLower(filter)
	var walk func(ns []*app.PathNode, depth int, shown bool) ([]templates.PathNodeView, bool)
	walk = func(ns []*app.PathNode, depth int, shown bool) ([]templates.PathNodeView, bool) {
		var views []templates.PathNodeView
		anyTicked := false
		for _, n := range ns {
			inTree[n.Path] = true
			match := shown || f == "" || strings.Contains(strings.ToLower(n.Path), f)
			kids, kidTicked := walk(n.Children, depth+1, match)
			nv := templates.PathNodeView{Name: n.Name, Path: n.Path, Folder: n.Folder, Checked: ticked[n.Path], Children: kids,
				Disabled: len(n.Sources) == 1 && n.Sources[0] == app.PathExcluded}
			for _, src := range n.Sources {
				nv.Tags = append(nv.Tags, pathTag(src, n.BackupID))
			}
			nv.Open = depth == 0 || f != "" || kidTicked
			anyTicked = anyTicked || nv.Checked || kidTicked
			if !match && len(kids) == 0 {
				if nv.Checked {
					out.kept = append(out.kept, n.Path)
				}
				continue
			}
			views = append(views, nv)
		}
		return views, anyTicked
	}
	out.nodes, _ = walk(tree.Roots, 0, false)
	for _, p := range include {
		if !inTree[p] {
			out.typed = append(out.typed, p)
		}
	}
	return out
}

// pathTag says where a picker path comes from.
func pathTag(source string, backup rcbu.BackupID) string {
	switch source {
	case app.PathIncluded:
		return "backed up"
	case app.PathExcluded:
		return "left out of backups"
	case app.PathReported:
		if backup != 0 {
			return "in the report of backup " + idString(backup)
		}
		return "in a report"
	case app.PathRestored:
		return "restored before"
	}
	return source
}

// outsideWarnings names the paths to restore that lie outside what the
// configuration backs up.
func outsideWarnings(tree app.PathTree, include []string) []string {
	var out []string
	for _, p := range include {
		if w := tree.Outside(p); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func destinationLabel(a app.FleetAgent, source rcbu.AgentID) string {
	l := a.Agent.MachineName
	if a.Agent.Datacenter != "" {
		l += " (" + a.Agent.Datacenter + ")"
	}
	switch {
	case a.Agent.IsDisabled:
		l += " · disabled"
	case a.Live && a.Agent.Status == rcbu.AgentStatusOffline:
		l += " · offline"
	case a.Live && a.Agent.Status == rcbu.AgentStatusOnline:
		l += " · online"
	}
	if a.Agent.ID == source {
		l += " · the backed-up server"
	}
	return l
}

func restoreSummary(p app.RestorePlan, rc app.RestoreContext, now time.Time, loc *time.Location) []templates.SummaryRow {
	src := rc.Source.Configuration
	rows := []templates.SummaryRow{{Label: "From", Value: src.Name + " on " + src.MachineName}}
	if b := rc.Backup; b != nil {
		tv := templates.NewTimeView(b.CompletedTime.Time, now, loc)
		rows = append(rows, templates.SummaryRow{Label: "Backup", Value: "#" + idString(b.ID) + ", completed " + tv.Abs + " (" + tv.Rel + "), " +
			templates.Bytes(b.BytesSearched.Bytes) + ", " + templates.Plural(b.NumErrors, "error", "errors")})
	}
	if d := rc.Destination; d != nil {
		rows = append(rows, templates.SummaryRow{Label: "To", Value: destinationLabel(*d, src.AgentID)})
		where := p.DestinationPath(d.Agent)
		if p.PathMode != app.PathOther {
			where += " (the original location)"
		}
		rows = append(rows, templates.SummaryRow{Label: "Folder", Value: where})
	}
	if p.Overwrite {
		rows = append(rows, templates.SummaryRow{Label: "Existing files", Value: "Overwritten", Warn: true})
	} else {
		rows = append(rows, templates.SummaryRow{Label: "Existing files", Value: "Kept (not overwritten)"})
	}
	inc, exc := "Everything in the backup", "Nothing"
	if len(p.Include) > 0 {
		inc = strings.Join(p.Include, ", ")
	}
	if len(p.Exclude) > 0 {
		exc = strings.Join(p.Exclude, ", ")
	}
	rows = append(rows, templates.SummaryRow{Label: "Restore", Value: inc}, templates.SummaryRow{Label: "Leave out", Value: exc})
	if rc.Encrypted {
		rows = append(rows, templates.SummaryRow{Label: "Vault", Value: "Encrypted: the passphrase is needed"})
	}
	return rows
}

// startRestore is the review step's POST: it checks everything again and
// starts the restore, then shows its live page.
func (s *server) startRestore(rs restoreService) echo.HandlerFunc {
	return func(c echo.Context) error {
		form, err := c.FormParams()
		if err != nil {
			form = url.Values{}
		}
		p := app.ParseRestorePlan(form)
		in := app.StartInput{ConfirmOverwrite: form.Get("confirm_overwrite") == "true", Passphrase: form.Get("passphrase"), Token: form.Get("token")}
		actor := mustUser(c)
		fr, err := rs.Start(c.Request().Context(), actor, creatorScope(c), p, in)
		if err != nil {
			var rc app.RestoreContext
			var we *app.WizardError
			if !errors.As(err, &we) || we.Step == app.StepReview {
				rc, _ = rs.Load(c.Request().Context(), creatorScope(c), p, app.StepReview)
			}
			return s.restoreOutcome(c, rs, p, app.StepReview, rc, err)
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Restore started: "+fr.Restore.ConfigurationName+" to "+fr.Restore.DestinationMachineName+".", "/restores/"+idString(fr.Restore.ID))
	}
}

func parseRestoreID(c echo.Context) (rcbu.RestoreID, error) {
	id, err := parseID(c, "id")
	return rcbu.RestoreID(id), err
}

// restorePanelView maps a restore to its live panel: the same component
// as a backup's, with where the files go and what was asked.
func (s *server) restorePanelView(c echo.Context, j app.RestoreJob, compact bool) templates.JobPanelView {
	u := mustUser(c)
	now, loc := s.Now(), u.Location()
	r := j.Restore
	id := idString(r.ID)
	busy := r.State.Busy()
	q := ""
	if compact {
		q = "?compact=1"
	}
	v := templates.JobPanelView{
		Kind:              "restore",
		ID:                "restore-" + id,
		Title:             "Restore " + id,
		State:             templates.BackupBadge(r.State.String()),
		Busy:              busy,
		Compact:           compact,
		PageURL:           "/restores/" + id,
		Agent:             displayName(r.BackupMachineName, "agent "+idString(r.BackupAgentID)),
		AgentHref:         "/agents/" + idString(r.BackupAgentID),
		Configuration:     s.jobConfigName(c, j.AccountID, r.ConfigurationName, int64(r.ConfigurationID)),
		ConfigurationHref: "/configurations/" + idString(r.ConfigurationID),
		RestorePoint:      templates.NewTimeView(r.BackupRestorePoint.Time, now, loc),
		Destination:       restoreDestination(r),
		CanStop:           u.RoleOn(j.AccountID).Allows(app.RoleCreator) && busy && r.State != rcbu.RestoreStopRequested,
		StopURL:           "/restores/" + id + "/stop" + q,
		ReportURL:         "/reports/restore/" + id,
		ReportProblem:     j.ReportProblem,
		Request:           restoreRequestView(j),
	}
	if fleetScope(c).Multi() {
		v.Account = j.AccountName
	}
	if r.State == rcbu.RestoreCreating {
		v.Note = "This restore was prepared but never started."
	}
	var start, ended time.Time
	if rep := j.Report; rep != nil {
		start, ended = rep.StartTime.Time, rep.CompletedTime.Time
	}
	if start.IsZero() && len(j.Trail) > 0 && stepOf(j.Trail[0].State) == stepRequested {
		start = j.Trail[0].At
	}
	if r.State != rcbu.RestoreCreating {
		v.Timeline = jobTimeline(j.Trail, r.State.String(), start, ended, now, loc)
	}
	elapsed := time.Duration(-1)
	switch {
	case busy && !start.IsZero():
		elapsed = shownElapsed(now.Sub(start))
		v.Elapsed = templates.Duration(elapsed)
	case j.Report != nil && j.Report.Duration > 0:
		v.Elapsed = templates.Duration(j.Report.Duration)
	}
	if busy {
		v.Estimate, v.NoEstimate = s.jobEstimate(c, j.AccountID, app.KindRestore, r.ConfigurationID, elapsed)
	}
	if rep := j.Report; rep != nil {
		v.Summary = reportSummary(app.KindRestore, rep.OK(), rep.State.String(), rep.Duration,
			templates.Plural(rep.NumFilesRestored, "file", "files")+" restored", rep.NumBytesRestored.Bytes, rep.NumErrors, rep.Reason, rep.Errors)
	} else if r.State.Done() && j.ReportProblem == "" {
		v.Summary = &templates.JobSummaryView{Final: finalWords(app.KindRestore, r.State.String())}
	}
	if r.State.Done() && u.RoleOn(j.AccountID).Allows(app.RoleCreator) {
		v.AgainHref = restoreAgainHref(j)
	}
	withVersion(&v, "/restores/"+id+"/status"+q)
	return v
}

// restoreDestination says where a restore's files go: the agent, and the
// folder or the original location.
func restoreDestination(r rcbu.RestoreConfiguration) string {
	d := displayName(r.DestinationMachineName, "agent "+idString(r.DestinationAgentID))
	switch p := r.DestinationPath; {
	case p == "/" || strings.EqualFold(p, `C:\`):
		return d + ", each file to the place it was backed up from"
	case p != "":
		return d + ", into " + p
	}
	return d
}

// restoreRequestView is what the restore was asked to bring back: as the
// console stored it when it started the restore, else as the API's restore
// object lists its inclusions and exclusions.
func restoreRequestView(j app.RestoreJob) *templates.RestoreRequestView {
	r := j.Restore
	v := &templates.RestoreRequestView{Destination: displayName(r.DestinationMachineName, "agent "+idString(r.DestinationAgentID)), Overwrite: r.OverwriteFiles}
	if rq := j.Request; rq != nil {
		return storedRequestView(*rq, v.Destination)
	}
	for _, f := range r.Inclusions {
		v.Paths = append(v.Paths, restoreFilePath(f))
	}
	for _, f := range r.Exclusions {
		v.Excluded = append(v.Excluded, restoreFilePath(f))
	}
	v.Folder = folderWords(r.DestinationPath == "/" || strings.EqualFold(r.DestinationPath, `C:\`), r.DestinationPath)
	return v
}

// storedRequestView is a request as the console stored it; dest names the
// destination when the request does not.
func storedRequestView(rq app.RestoreRequest, dest string) *templates.RestoreRequestView {
	v := &templates.RestoreRequestView{Paths: rq.Include, Excluded: rq.Exclude, Overwrite: rq.Overwrite, Destination: rq.DestName,
		Folder: folderWords(rq.Original, rq.DestPath)}
	if v.Destination == "" {
		v.Destination = displayName(dest, "agent "+idString(rq.DestAgentID))
	}
	return v
}

// restoreFilePath shows a restore file entry as the wizard takes it: a
// folder ends with a separator.
func restoreFilePath(f rcbu.RestoreFile) string {
	if f.FileItemType == rcbu.RestoreItemFolder && !strings.HasSuffix(f.FilePath, "/") && !strings.HasSuffix(f.FilePath, `\`) {
		if strings.Contains(f.FilePath, `\`) {
			return f.FilePath + `\`
		}
		return f.FilePath + "/"
	}
	return f.FilePath
}

func folderWords(original bool, path string) string {
	if original {
		return "the original location"
	}
	return "into " + path
}

// restoreAgainHref is the wizard's review step with the same request, or,
// for a restore the console did not start, its first steps with the same
// backup.
func restoreAgainHref(j app.RestoreJob) string {
	if rq := j.Request; rq != nil {
		return stepHref(app.StepReview, rq.Plan())
	}
	r := j.Restore
	return stepHref(app.StepDestination, app.RestorePlan{ConfigurationID: r.ConfigurationID, BackupID: r.BackupID, DestinationID: r.DestinationAgentID, PathMode: app.PathOriginal})
}

// restorePanelOf reads the restore in the path and maps it to its live
// panel (with Stop for Creators and up).
func (s *server) restorePanelOf(c echo.Context, rs restoreService) (rcbu.RestoreID, templates.JobPanelView, error) {
	id, err := parseRestoreID(c)
	if err != nil {
		return 0, templates.JobPanelView{}, err
	}
	j, err := rs.Job(c.Request().Context(), fleetScope(c), id)
	if err != nil {
		return 0, templates.JobPanelView{}, err
	}
	return id, s.restorePanelView(c, j, c.QueryParam("compact") == "1"), nil
}

// restorePage is /restores/{id}: the restore's live panel.
func (s *server) restorePage(rs restoreService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, panel, err := s.restorePanelOf(c, rs)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.RestoreJobPage(templates.RestoreJobView{
			Meta:  s.meta(c, "Restore "+idString(id), templates.NavActivity),
			Panel: panel,
		}))
	}
}

// restoreStatus is the panel fragment the page polls while the restore is
// busy: 204 while nothing shown changes.
func (s *server) restoreStatus(rs restoreService) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, panel, err := s.restorePanelOf(c, rs)
		if err != nil {
			return err
		}
		return answerPoll(c, panel)
	}
}

// stopRestore asks a restore to stop: htmx gets the panel back, a plain
// form a redirect to the restore's page with a flash.
func (s *server) stopRestore(rs restoreService) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := parseRestoreID(c)
		if err != nil {
			return err
		}
		actor := mustUser(c)
		ctx := c.Request().Context()
		_, err = rs.Stop(ctx, actor, fleetScope(c), id)
		var ue *app.UpstreamError
		if err != nil && !errors.As(err, &ue) && !errors.Is(err, app.ErrConflict) {
			return err
		}
		if isHTMX(c) {
			j, jerr := rs.Job(ctx, fleetScope(c), id)
			if jerr != nil {
				return jerr
			}
			pv := s.restorePanelView(c, j, c.QueryParam("compact") == "1")
			if err != nil {
				pv.Message, pv.MessageKind = stopProblem(err), templates.FlashError
			} else {
				pv.Message, pv.MessageKind = "Asked the restore to stop.", templates.FlashSuccess
			}
			return render(c, http.StatusOK, templates.JobPanelBody(pv))
		}
		if err != nil {
			return flashAndRedirect(c, templates.FlashError, stopProblem(err), "/restores/"+idString(id))
		}
		return flashAndRedirect(c, templates.FlashSuccess, "Asked the restore to stop.", "/restores/"+idString(id))
	}
}

func stopProblem(err error) string {
	var ue *app.UpstreamError
	if errors.As(err, &ue) {
		return "The restore was not stopped: " + ue.Message()
	}
	return "The restore is not running any more, so there is nothing to stop."
}
