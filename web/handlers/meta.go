package handlers

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// meta builds the layout's view model for the current request: the user,
// the account switcher, the demo flag, and the flash messages (which are
// consumed: they show once).
func (s *server) meta(c echo.Context, title string, nav templates.Nav) templates.PageMeta {
	m := templates.PageMeta{
		Title:     title,
		ActiveNav: nav,
		Demo:      s.Accounts.DemoActive(),
		AssetTag:  s.assetTag,
		Path:      c.Request().URL.Path,
		StoreAway: app.StoreAway(c.Request().Context()),
	}
	if u, ok := currentUser(c); ok {
		m.User = &templates.UserView{
			Name:        u.DisplayName(),
			Email:       u.Email,
			RoleLabel:   scopeRole(c, u).Label(),
			IsAdmin:     u.Role.Allows(app.RoleAdmin),
			CanCreate:   scopeRole(c, u).Allows(app.RoleCreator),
			HasPassword: u.HasPassword(),
		}
		sc, _ := c.Get(ctxScope).(accountScope)
		m.Accounts = switcherView(sc)
	}
	if sess := session(c); sess != nil {
		if fl := sess.Flashes(); len(fl) > 0 {
			for _, f := range fl {
				if f, ok := f.(templates.Flash); ok {
					m.Flashes = append(m.Flashes, f)
				}
			}
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				// The page still renders; the flash may show once more.
				s.Log.WarnContext(c.Request().Context(), "flash_save_failed", slog.Any("err", err))
			}
		}
	}
	return m
}

// switcherView maps the account scope to the header's select.
func switcherView(sc accountScope) templates.AccountSwitcher {
	var sw templates.AccountSwitcher
	for _, a := range sc.Accounts {
		label := a.Name
		if a.Demo() {
			label += " (demo)"
		}
		sw.Options = append(sw.Options, templates.AccountOption{
			Value:    a.ID.String(),
			Label:    label,
			Selected: !sc.All && sc.Current.ID == a.ID,
		})
	}
	if len(sc.Accounts) > 1 {
		sw.Options = append(sw.Options, templates.AccountOption{Value: "all", Label: "All accounts", Selected: sc.All})
	}
	return sw
}
