package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/web/templates"
)

// adminIndex links the admin sections.
func (s *server) adminIndex(c echo.Context) error {
	v := templates.AdminIndexView{
		Meta: s.meta(c, "Admin", templates.NavAdmin),
		Sections: []templates.AdminSection{
			{Href: "/admin/users", Title: "Users", Text: "Who can sign in, and with which role: Observer, Creator or Admin.", TestID: "admin-users-link"},
			{Href: "/admin/accounts", Title: "Rackspace accounts", Text: "The Cloud Backup accounts the console reads and acts on.", TestID: "admin-accounts-link"},
			{Href: "/admin/audit", Title: "Audit log", Text: "Who did what, when, and whether it worked.", TestID: "admin-audit-link"},
			{Href: "/admin/two-factor", Title: "Two-factor sign-in", Text: "Which roles must use a code from an authenticator app after their password.", TestID: "admin-two-factor-link"},
		},
	}
	v.Sections = append(v.Sections,
		templates.AdminSection{Href: "/admin/maintenance", Title: "Maintenance", Text: "Prune report history, checkpoint the database, download a backup of it.", TestID: "admin-maintenance-link"},
		templates.AdminSection{Href: "/alerts/channels", Title: "Alerts", Text: "Channels (webhook, Slack, email), which rules go where, thresholds and the digest.", TestID: "admin-alerts-link"},
	)
	return render(c, http.StatusOK, templates.AdminIndexPage(v))
}
