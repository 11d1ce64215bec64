package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

type clientSource interface {
	Client(ctx context.Context, id app.AccountID) (*rcbu.Client, error)
}

// overview lists the agents of the account(s) in scope. The list call's
// status is a placeholder, so the agents' details are fetched (concurrently,
// by the client) for live status and last success. An account whose API
// fails gets an inline banner; the others still show.
func (s *server) overview(clients clientSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u, _ := currentUser(c)
		accts := scopeAccounts(c)
		v := templates.OverviewView{Meta: s.meta(c, "Overview", templates.NavOverview)}
		now, loc := s.Now(), u.Location()
		for _, a := range accts {
			sec := templates.AgentSection{AccountName: a.Name, ShowHeading: len(accts) > 1, RetryHref: "/"}
			agents, err := accountAgents(ctx, clients, a.ID)
			if err != nil {
				sec.Error = upstreamProblem(err)
			}
			for _, ag := range agents {
				sec.Agents = append(sec.Agents, agentRow(ag, now, loc))
			}
			v.Sections = append(v.Sections, sec)
		}
		return render(c, http.StatusOK, templates.OverviewPage(v))
	}
}

// accountAgents returns the agents of one account with live details.
func accountAgents(ctx context.Context, clients clientSource, id app.AccountID) ([]rcbu.Agent, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cl, err := clients.Client(ctx, id)
	if err != nil {
		return nil, err
	}
	list, err := cl.Agents.List(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]rcbu.AgentID, len(list))
	for i, a := range list {
		ids[i] = a.ID
	}
	return cl.Agents.GetMany(ctx, ids)
}

func agentRow(a rcbu.Agent, now time.Time, loc *time.Location) templates.AgentRow {
	osName := a.OperatingSystem
	if a.OperatingSystemVersion != "" {
		osName += " " + a.OperatingSystemVersion
	}
	vault := "—"
	if a.BackupVaultSize != nil {
		vault = templates.Bytes(a.BackupVaultSize.Bytes)
	}
	var last time.Time
	if a.TimeOfLastSuccessfulBackup.Valid() {
		last = a.TimeOfLastSuccessfulBackup.Time
	}
	return templates.AgentRow{
		ID:          strconv.FormatInt(int64(a.ID), 10),
		Name:        a.MachineName,
		Status:      templates.AgentBadge(string(a.Status), a.IsDisabled),
		Datacenter:  a.Datacenter,
		OS:          osName,
		VaultSize:   vault,
		LastSuccess: templates.NewTimeView(last, now, loc),
	}
}

// upstreamProblem says in words what went wrong talking to Cloud Backup.
func upstreamProblem(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "Cloud Backup did not answer in time. Try again in a moment."
	case errors.Is(err, rcbu.ErrUnauthorized):
		return "Rackspace did not accept the account's credentials. An admin can update them in Admin → Accounts."
	case errors.Is(err, rcbu.ErrForbidden):
		return "The account's Rackspace user may not read Cloud Backup."
	case errors.Is(err, rcbu.ErrUnavailable):
		return "Cloud Backup is unavailable right now. Try again in a moment."
	case errors.Is(err, app.ErrNotFound):
		return "The account no longer exists."
	default:
		return "The Cloud Backup API call failed: " + err.Error()
	}
}
