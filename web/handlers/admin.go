package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/web/templates"
)

// adminIndex links the admin sections.
func (s *server) adminIndex(c echo.Context) error {
	return render(c, http.StatusOK, templates.AdminIndexPage(s.meta(c, "Admin", templates.NavAdmin)))
}
