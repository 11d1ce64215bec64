package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// activityPageSize is how many finished jobs one page of the activity
// page lists.
const activityPageSize = 50

// allFinished asks for every finished job the activity lists hold; the
// page filters and pages them.
const allFinished = 1 << 30

// jobLister lists running and recent jobs.
type jobLister interface {
	Jobs(ctx context.Context, scope app.Scope, recent int) (app.ActiveJobs, error)
}

// activity is the activity page (GET /activity): every running backup and
// restore with Stop, refreshed live, and the finished ones with their
// result and a link to the report, newest first in pages of 50. The state
// (?state=running|failed|warning|completed|stopped) and window
// (?since=24h|7d|30d) filters are in the URL; the overview's counts link
// here.
func (s *server) activity(ops jobLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := s.activityView(c, ops)
		if err != nil {
			return err
		}
		v.Meta = s.meta(c, "Activity", templates.NavActivity)
		return render(c, http.StatusOK, templates.ActivityPage(v))
	}
}

// runningJobs is the running-jobs fragment the activity page polls (GET
// /activity/running); without htmx it is the activity page.
func (s *server) runningJobs(ops jobLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isHTMX(c) {
			return seeOther(c, "/activity")
		}
		v, err := s.activityView(c, ops)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.RunningJobs(v))
	}
}

func (s *server) activityView(c echo.Context, ops jobLister) (templates.ActivityView, error) {
	u := mustUser(c)
	scope := fleetScope(c)
	f, notes := app.ParseJobFilter(c.QueryParams())
	v := templates.ActivityView{NoAccounts: len(scope.Accounts) == 0, ShowAccount: scope.Multi(), CanCreate: scopeRole(c, u).Allows(app.RoleCreator), Notes: notes}
	v.Filter = activityFilterView(f)
	v.ShowRunning, v.ShowFinished = f.ShowsRunning(), f.ShowsFinished()
	if v.NoAccounts {
		return v, nil
	}
	jobs, err := ops.Jobs(c.Request().Context(), scope, allFinished)
	if err != nil {
		return v, err
	}
	v.Problems = problemViews(jobs.Problems, "/activity")
	now, loc := s.Now(), u.Location()
	for _, a := range jobs.Running {
		// Stop follows the role on the job's own account: with every
		// account chosen, a user may be Creator on one and Observer on
		// another.
		v.Running = append(v.Running, activityRow(a, u.RoleOn(a.AccountID).Allows(app.RoleCreator), now, loc))
	}
	finished := app.FilterFinished(jobs.Finished, f, now)
	page, n, pages := app.PageOf(finished, f.Page, activityPageSize)
	for _, a := range page {
		v.Finished = append(v.Finished, activityRow(a, false, now, loc))
	}
	q := url.Values{}
	if f.State != app.JobAny {
		q.Set("state", string(f.State))
	}
	if f.Since != app.SinceAny {
		q.Set("since", string(f.Since))
	}
	v.Pager = pagerView("/activity", q, n, pages, len(finished), "finished jobs", activityPageSize)
	v.RunningHref = withQuery("/activity/running", q)
	return v, nil
}

// activityFilterView is the filter form's state.
func activityFilterView(f app.JobFilter) templates.ActivityFilterView {
	v := templates.ActivityFilterView{Active: f.State != app.JobAny || f.Since != app.SinceAny}
	v.State = templates.SelectField{Name: "state", Label: "State", Options: []templates.Option{{Value: "", Label: "Any state", Selected: f.State == app.JobAny}}}
	for _, st := range app.JobStates() {
		v.State.Options = append(v.State.Options, templates.Option{Value: string(st), Label: jobStateLabel(st), Selected: f.State == st})
	}
	v.Since = templates.SelectField{Name: "since", Label: "Finished", Options: []templates.Option{{Value: "", Label: "Any time", Selected: f.Since == app.SinceAny}}}
	for _, sn := range app.JobSinces() {
		v.Since.Options = append(v.Since.Options, templates.Option{Value: string(sn), Label: "In the last " + app.ShortDuration(sn.Duration()), Selected: f.Since == sn})
	}
	return v
}

// jobStateLabel names a state filter value for the form.
func jobStateLabel(st app.JobState) string {
	switch st {
	case app.JobRunning:
		return "Running"
	case app.JobFailed:
		return "Failed or missed"
	case app.JobWarning:
		return "Completed with errors or skipped"
	case app.JobCompleted:
		return "Completed"
	case app.JobOtherEnded:
		return "Stopped or other"
	default:
		return "Any state"
	}
}

// activityRow maps one job of an activity list.
func activityRow(fa app.FleetActivity, canStop bool, now time.Time, loc *time.Location) templates.ActivityRow {
	a := fa.Activity
	id := strconv.FormatInt(a.ID, 10)
	cid := strconv.FormatInt(int64(a.ConfigurationID), 10)
	r := templates.ActivityRow{
		ID:            id,
		Kind:          string(a.Type),
		State:         templates.BackupBadge(a.CurrentState),
		Busy:          app.JobBusy(a),
		Agent:         displayName(a.SourceMachineName, "agent "+strconv.FormatInt(int64(a.SourceAgentID), 10)),
		AgentHref:     "/agents/" + strconv.FormatInt(int64(a.SourceAgentID), 10),
		Configuration: configName(a.DisplayName, int64(a.ConfigurationID)),
		ConfigHref:    "/configurations/" + cid,
		Account:       fa.AccountName,
		When:          templates.NewTimeView(pastOrNow(a.TimeOfActivity.Time, now), now, loc),
	}
	if a.IsBackupConfigurationDeleted {
		r.Configuration += " (deleted)"
	}
	switch a.Type {
	case rcbu.ActivityRestore:
		r.Href = "/restores/" + id
		r.Destination = a.DestinationMachineName
		if !r.Busy {
			r.ReportHref = "/reports/restore/" + id
		} else if canStop {
			r.StopURL = "/restores/" + id + "/stop"
		}
	default:
		r.Href = "/backups/" + id
		if !r.Busy {
			r.ReportHref = "/reports/backup/" + id
		} else if canStop {
			r.StopURL = "/backups/" + id + "/stop"
		}
	}
	if !a.TimeOfActivity.Valid() {
		r.When = templates.NewTimeView(time.Time{}, now, loc)
	}
	return r
}

// pastOrNow is t, or now when t is ahead of it: the API's clock may run
// ahead of ours (skew, or the simulator's speed), and a job that already
// happened must not read "in 10 min".
func pastOrNow(t, now time.Time) time.Time {
	if t.After(now) {
		return now
	}
	return t
}
