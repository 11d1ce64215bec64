package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// recentJobs is how many finished jobs the activity page lists.
const recentJobs = 50

// jobLister lists running and recent jobs.
type jobLister interface {
	Jobs(ctx context.Context, scope app.Scope, recent int) (app.ActiveJobs, error)
}

// activity is the activity page (GET /activity): every running backup and
// restore with Stop, refreshed live, and the recent finished ones with
// their result and a link to the report.
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
	v := templates.ActivityView{NoAccounts: len(scope.Accounts) == 0, ShowAccount: scope.Multi(), CanCreate: u.Role.Allows(app.RoleCreator)}
	if v.NoAccounts {
		return v, nil
	}
	jobs, err := ops.Jobs(c.Request().Context(), scope, recentJobs)
	if err != nil {
		return v, err
	}
	v.Problems = problemViews(jobs.Problems, "/activity")
	now, loc := s.Now(), u.Location()
	canStop := u.Role.Allows(app.RoleCreator)
	for _, a := range jobs.Running {
		v.Running = append(v.Running, activityRow(a, canStop, now, loc))
	}
	for _, a := range jobs.Finished {
		v.Finished = append(v.Finished, activityRow(a, false, now, loc))
	}
	return v, nil
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
		Configuration: displayName(a.DisplayName, "configuration "+cid),
		ConfigHref:    "/configurations/" + cid,
		Account:       fa.AccountName,
		When:          templates.NewTimeView(a.TimeOfActivity.Time, now, loc),
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
