package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// pathID reads the "id" path parameter (see parseID).
func pathID(c echo.Context) (int64, error) { return parseID(c, "id") }

// backupStarter is what the Start buttons need.
type backupStarter interface {
	StartAgentBackup(ctx context.Context, actor app.User, scope app.Scope, agent rcbu.AgentID, id rcbu.ConfigurationID, token string) (app.StartedBackup, error)
	Fleet() *app.Fleet
}

// startBackup starts a backup of a configuration (POST
// /configurations/{id}/backups, Creator and up). Without htmx it redirects
// to the job's page with a flash; with htmx it answers the live status
// panel that replaces the button. A configuration with a running backup
// shows that one instead of starting another; a repeated post of the same
// form (its token) shows the backup the first post started. An upstream
// failure is said in words: inline next to the button, or as a flash on
// the page the form came from.
func (s *server) startBackup(ops backupStarter) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		return s.start(c, ops, 0, rcbu.ConfigurationID(id))
	}
}

// startAgentBackup is the overview's quick Start (POST
// /agents/{id}/backups, Creator and up): the configuration chosen in the
// form, which must be one of this agent's; otherwise as startBackup.
func (s *server) startAgentBackup(ops backupStarter) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		cfg, perr := strconv.ParseInt(c.FormValue("configuration"), 10, 64)
		if perr != nil || cfg <= 0 {
			return fmt.Errorf("start backup: %w", app.Invalid("configuration", "Choose a configuration to back up."))
		}
		return s.start(c, ops, rcbu.AgentID(id), rcbu.ConfigurationID(cfg))
	}
}

func (s *server) start(c echo.Context, ops backupStarter, agent rcbu.AgentID, id rcbu.ConfigurationID) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	compact := c.FormValue("compact") == "1" || agent != 0
	cid := strconv.FormatInt(int64(id), 10)
	res, err := ops.StartAgentBackup(ctx, u, fleetScope(c), agent, id, c.FormValue("token"))
	if err != nil {
		msg := upstreamMessage(err)
		if msg == "" {
			return err
		}
		if isHTMX(c) {
			if agent != 0 {
				return render(c, http.StatusOK, templates.AgentStartForm(s.agentStartView(c, ops, agent, id, msg)))
			}
			return render(c, http.StatusOK, templates.StartBackupButton(templates.StartButtonView{
				ConfigurationID: cid, Label: "Start backup", Name: c.FormValue("label"), Token: app.NewStartToken(),
				Return: returnPath(c.FormValue("return"), ""), Compact: compact, Error: msg,
			}))
		}
		if err := addFlash(c, templates.FlashError, "The backup did not start. "+msg); err != nil {
			return err
		}
		back := "/configurations/" + cid
		if agent != 0 {
			back = "/"
		}
		return seeOther(c, returnPath(c.FormValue("return"), back))
	}
	note, kind := "Backup started.", templates.FlashSuccess
	switch {
	case res.AlreadyRunning:
		note, kind = "A backup of this configuration was already running; here it is.", templates.FlashInfo
	case res.Repeated:
		note, kind = "This form was already sent; here is the backup it started.", templates.FlashInfo
	}
	bid := strconv.FormatInt(int64(res.Backup.Backup.ID), 10)
	if !isHTMX(c) {
		return flashAndRedirect(c, kind, note, "/backups/"+bid)
	}
	// The overview's Running column and count reload on this event.
	c.Response().Header().Set("HX-Trigger", "running-changed")
	job := app.BackupJob{FleetBackup: res.Backup}
	if !res.AlreadyRunning && !res.Repeated {
		job.Started = s.Now()
	}
	v := s.jobPanelView(c, job, compact)
	v.Message, v.MessageKind = note, kind
	return render(c, http.StatusOK, templates.JobPanel(v))
}

// agentStartView rebuilds an agent's quick Start form with an error.
func (s *server) agentStartView(c echo.Context, ops backupStarter, agent rcbu.AgentID, chosen rcbu.ConfigurationID, msg string) templates.AgentStartView {
	v := templates.AgentStartView{AgentID: strconv.FormatInt(int64(agent), 10), Token: app.NewStartToken(), Error: msg}
	cfgs, _, err := ops.Fleet().Configurations(c.Request().Context(), fleetScope(c))
	if err == nil {
		for _, fc := range cfgs {
			if fc.Configuration.AgentID == agent {
				cid := strconv.FormatInt(int64(fc.Configuration.ID), 10)
				v.Options = append(v.Options, templates.Option{Value: cid, Label: configName(fc.Configuration.Name, int64(fc.Configuration.ID)), Selected: fc.Configuration.ID == chosen})
			}
		}
	}
	if len(v.Options) == 0 {
		cid := strconv.FormatInt(int64(chosen), 10)
		v.Options = []templates.Option{{Value: cid, Label: configName("", int64(chosen)), Selected: true}}
	}
	return v
}

// backupJobReader reads a backup run's live status.
type backupJobReader interface {
	BackupJob(ctx context.Context, scope app.Scope, id rcbu.BackupID) (app.BackupJob, error)
}

// backupPage is a backup run's page: its live status panel, then its
// report summary (GET /backups/{id}).
func (s *server) backupPage(ops backupJobReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		j, err := ops.BackupJob(c.Request().Context(), fleetScope(c), rcbu.BackupID(id))
		if err != nil {
			return s.upstreamPage(c, err, "Backup")
		}
		panel := s.jobPanelView(c, j, false)
		v := templates.BackupPageView{
			Meta:          s.meta(c, "Backup "+panel.ID, templates.NavActivity),
			Panel:         panel,
			Configuration: panel.Configuration,
		}
		return render(c, http.StatusOK, templates.BackupPage(v))
	}
}

// backupStatus is the live status fragment the panel polls every 2 s while
// the job is busy (GET /backups/{id}/status). Once the job is final, the
// fragment comes back without its trigger, with the report summary. A
// request without htmx gets the job's page.
func (s *server) backupStatus(ops backupJobReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		if !isHTMX(c) {
			return seeOther(c, "/backups/"+strconv.FormatInt(id, 10))
		}
		j, err := ops.BackupJob(c.Request().Context(), fleetScope(c), rcbu.BackupID(id))
		if err != nil {
			return err
		}
		return answerPoll(c, s.jobPanelView(c, j, c.QueryParam("compact") == "1"))
	}
}

// backupStopper stops a backup run.
type backupStopper interface {
	StopBackup(ctx context.Context, actor app.User, scope app.Scope, id rcbu.BackupID) (app.FleetBackup, error)
	backupJobReader
}

// stopBackup asks a running backup to stop (POST /backups/{id}/stop,
// Creator and up): a flash and the job's page without htmx, the refreshed
// panel with it.
func (s *server) stopBackup(ops backupStopper) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		u := mustUser(c)
		ctx := c.Request().Context()
		bid := strconv.FormatInt(id, 10)
		_, err = ops.StopBackup(ctx, u, fleetScope(c), rcbu.BackupID(id))
		msg := ""
		if err != nil {
			if msg = upstreamMessage(err); msg == "" {
				return err
			}
		}
		if !isHTMX(c) {
			kind, text := templates.FlashSuccess, "Asked the backup to stop."
			if msg != "" {
				kind, text = templates.FlashError, "The backup was not stopped. "+msg
			}
			return flashAndRedirect(c, kind, text, returnPath(c.FormValue("return"), "/backups/"+bid))
		}
		j, jerr := ops.BackupJob(ctx, fleetScope(c), rcbu.BackupID(id))
		if jerr != nil {
			return jerr
		}
		v := s.jobPanelView(c, j, c.QueryParam("compact") == "1")
		if msg != "" {
			v.Message, v.MessageKind = "Not stopped: "+msg, templates.FlashError
		} else {
			v.Message, v.MessageKind = "Asked the backup to stop.", templates.FlashSuccess
		}
		return render(c, http.StatusOK, templates.JobPanelBody(v))
	}
}

// jobPanelView maps a backup run to its live panel: the timeline, elapsed
// time and estimate while it runs; the report summary and Run again once
// it is done.
func (s *server) jobPanelView(c echo.Context, j app.BackupJob, compact bool) templates.JobPanelView {
	u := mustUser(c)
	now, loc := s.Now(), u.Location()
	b := j.Backup
	id := strconv.FormatInt(int64(b.ID), 10)
	cid := strconv.FormatInt(int64(b.ConfigurationID), 10)
	q := ""
	if compact {
		q = "?compact=1"
	}
	busy := b.State.Busy()
	v := templates.JobPanelView{
		Kind:              "backup",
		ID:                id,
		Title:             "Backup " + id,
		State:             templates.BackupBadge(string(b.State)),
		Busy:              busy,
		Compact:           compact,
		PageURL:           "/backups/" + id,
		Agent:             displayName(b.MachineName, "agent "+strconv.FormatInt(int64(b.AgentID), 10)),
		AgentHref:         "/agents/" + strconv.FormatInt(int64(b.AgentID), 10),
		Configuration:     s.jobConfigName(c, j.AccountID, b.ConfigurationName, int64(b.ConfigurationID)),
		ConfigurationHref: "/configurations/" + cid,
		CanStop:           u.RoleOn(j.AccountID).Allows(app.RoleCreator),
		StopURL:           "/backups/" + id + "/stop" + q,
		ReportURL:         "/reports/backup/" + id,
		ReportProblem:     j.ReportProblem,
	}
	if sc := fleetScope(c); sc.Multi() {
		v.Account = j.AccountName
	}
	start := j.Started
	if start.IsZero() && len(j.Trail) > 0 && stepOf(j.Trail[0].State) == stepRequested {
		start = j.Trail[0].At
	}
	var ended time.Time
	if r := j.Report; r != nil && r.CompletedTime.Valid() {
		ended = r.CompletedTime.Time
	} else if !busy && b.StateChangeTime.Valid() {
		ended = b.StateChangeTime.Time
	}
	v.Timeline = jobTimeline(j.Trail, string(b.State), start, ended, now, loc)
	elapsed := time.Duration(-1)
	switch d := j.Elapsed(now); {
	case busy && !start.IsZero():
		elapsed = shownElapsed(now.Sub(start))
		v.Elapsed = templates.Duration(elapsed)
	case d > 0:
		v.Elapsed = templates.Duration(d)
	case b.StateChangeTime.Valid():
		v.Since = templates.NewTimeView(b.StateChangeTime.Time, now, loc)
	}
	if busy {
		v.Estimate, v.NoEstimate = s.jobEstimate(c, j.AccountID, app.KindBackup, b.ConfigurationID, elapsed)
	}
	if r := j.Report; r != nil {
		v.Summary = reportSummary(app.KindBackup, r.OK(), string(r.State), r.Duration,
			templates.Plural(r.FilesBackedUp, "file", "files")+" backed up of "+templates.Count(r.FilesSearched),
			r.BytesBackedUp.Bytes, r.NumErrors, r.Reason, r.Errors)
	} else if !busy && j.ReportProblem == "" {
		v.Summary = &templates.JobSummaryView{Final: finalWords(app.KindBackup, string(b.State))}
	}
	if !busy && v.CanStop {
		v.Again = &templates.StartButtonView{ConfigurationID: cid, Label: "Run again", Name: v.Configuration, Token: app.NewStartToken(),
			Return: v.PageURL, Compact: compact, Target: "closest .job-live", Plain: !compact}
	}
	withVersion(&v, "/backups/"+id+"/status"+q)
	return v
}

// upstreamPage answers a page whose main object could not be read: not
// found and forbidden go to the error handler; an upstream failure renders
// the error page with the reason in words and status 502, in the layout.
func (s *server) upstreamPage(c echo.Context, err error, what string) error {
	msg := upstreamMessage(err)
	if msg == "" {
		return err
	}
	if isHTMX(c) {
		return render(c, http.StatusBadGateway, templates.ErrorFragment(templates.ErrorView{Status: http.StatusBadGateway, Heading: what + " unavailable", Message: msg}))
	}
	meta := s.meta(c, what+" unavailable", templates.NavNone)
	return render(c, http.StatusBadGateway, templates.ErrorPage(templates.ErrorView{Meta: meta, Status: http.StatusBadGateway, Heading: what + " unavailable", Message: msg}))
}

// returnPath is where a form asks to go back to: a path on this site, or
// fallback when it names none.
func returnPath(p, fallback string) string {
	if p == "" {
		return fallback
	}
	return localPath(p)
}
