package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

type linkUser interface {
	Open(ctx context.Context, token string) (app.OpenLink, error)
	Use(ctx context.Context, token string, req app.SetPasswordRequest) (app.User, error)
}

// linkPage is a one-time link's page: the form to choose a password, or
// (410) why the link cannot be used. Nobody needs to be signed in.
func (s *server) linkPage(links linkUser) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := c.Param("token")
		l, err := links.Open(c.Request().Context(), token)
		if err != nil {
			return s.linkRefused(c, err)
		}
		return render(c, http.StatusOK, templates.SetPasswordPage(s.setPasswordView(c, token, l, nil)))
	}
}

// useLink sets the password through the link and sends the person to sign
// in with it. Bad input shows the form again (422) and keeps the link
// usable; a refused link changes nothing.
func (s *server) useLink(links linkUser) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, token := c.Request().Context(), c.Param("token")
		_, err := links.Use(ctx, token, app.SetPasswordRequest{Password: c.FormValue("password"), Confirm: c.FormValue("confirm_password")})
		if fe, ok := formErrors(err); ok {
			l, err := links.Open(ctx, token)
			if err != nil {
				return s.linkRefused(c, err)
			}
			return render(c, http.StatusUnprocessableEntity, templates.SetPasswordPage(s.setPasswordView(c, token, l, fe)))
		}
		if err != nil {
			return s.linkRefused(c, err)
		}
		// Whoever was signed in in this browser is not who set the password.
		if sess := session(c); sess != nil {
			if err := startSession(c, 0, &templates.Flash{Kind: templates.FlashSuccess, Text: "Your password is set. Sign in with it."}); err != nil {
				return err
			}
		}
		return seeOther(c, "/login")
	}
}

func (s *server) setPasswordView(c echo.Context, token string, l app.OpenLink, fe templates.FormErrors) templates.SetPasswordView {
	title := "Set a new password"
	if l.Kind == app.LinkInvite {
		title = "Welcome"
	}
	return templates.SetPasswordView{
		Meta: s.meta(c, title, templates.NavNone), Invite: l.Kind == app.LinkInvite, Email: l.Email,
		Action: app.LinkPath + token, Expires: templates.NewTimeView(l.Expires, s.Now(), time.UTC), Errors: fe,
	}
}

// linkRefused answers a link that cannot be used: 410 with the reason in
// words (the link is gone for good), or the error handler for a failure.
func (s *server) linkRefused(c echo.Context, err error) error {
	var lr *app.LinkRefusedError
	if !errors.As(err, &lr) {
		return err
	}
	return render(c, http.StatusGone, templates.LinkRefusedPage(templates.LinkRefusedView{
		Meta: s.meta(c, "Link cannot be used", templates.NavNone), Reason: lr.Reason,
	}))
}

// changePasswordPage is the forced change of a password somebody else
// chose; a user without that duty goes to their profile's form.
func (s *server) changePasswordPage(c echo.Context) error {
	u := mustUser(c)
	if !u.MustChangePassword {
		return seeOther(c, "/profile#password")
	}
	return render(c, http.StatusOK, templates.ChangePasswordPage(templates.ChangePasswordView{
		Meta: s.meta(c, "Choose your password", templates.NavNone), Email: u.Email,
	}))
}

// forcedPasswordChange changes the password like the profile's form, then
// lets the user on to the overview.
func (s *server) forcedPasswordChange(users passwordChanger) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		err := users.ChangePassword(c.Request().Context(), u, c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("confirm_password"))
		if fe, ok := formErrors(err); ok {
			return render(c, http.StatusUnprocessableEntity, templates.ChangePasswordPage(templates.ChangePasswordView{
				Meta: s.meta(c, "Choose your password", templates.NavNone), Email: u.Email, Errors: fe,
			}))
		}
		if err != nil {
			return err
		}
		session(c).ID = "" // the row went with the others
		if err := startSession(c, u.ID, &templates.Flash{Kind: templates.FlashSuccess, Text: "Your password was changed."}); err != nil {
			return err
		}
		return seeOther(c, "/")
	}
}
