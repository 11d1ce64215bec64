package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// profileView maps the user to the profile page; errs go to one form.
func (s *server) profileView(c echo.Context, u app.User, name, tz string, profileErrs, pwErrs templates.FormErrors) (templates.ProfileView, error) {
	tf, err := s.twoFactorView(c, u, nil)
	if err != nil {
		return templates.ProfileView{}, err
	}
	return templates.ProfileView{
		Meta:           s.meta(c, "Profile", templates.NavProfile),
		Email:          u.Email,
		Role:           u.Role.Label(),
		RoleHelp:       u.Role.Description(),
		Name:           name,
		TimeZone:       tz,
		TimeZones:      timeZones(tz),
		ProfileErrors:  profileErrs,
		PasswordErrors: pwErrs,
		HasPassword:    u.HasPassword(),
		TwoFactor:      tf,
	}, nil
}

// renderProfile renders the profile page with status.
func (s *server) renderProfile(c echo.Context, status int, u app.User, name, tz string, profileErrs, pwErrs templates.FormErrors) error {
	v, err := s.profileView(c, u, name, tz, profileErrs, pwErrs)
	if err != nil {
		return err
	}
	return render(c, status, templates.ProfilePage(v))
}

// profilePage shows the user's own profile.
func (s *server) profilePage(c echo.Context) error {
	u := mustUser(c)
	return s.renderProfile(c, http.StatusOK, u, u.Name, u.TimeZone, nil, nil)
}

type profileUpdater interface {
	UpdateProfile(ctx context.Context, actor app.User, req app.ProfileRequest) (app.User, error)
}

// updateProfile saves the display name and time zone.
func (s *server) updateProfile(users profileUpdater) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		req := app.ProfileRequest{Name: c.FormValue("name"), TimeZone: c.FormValue("time_zone")}
		_, err := users.UpdateProfile(c.Request().Context(), u, req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return s.renderProfile(c, http.StatusUnprocessableEntity, u, req.Name, req.TimeZone, fe, nil)
		}, "Your details were saved.", "/profile")
	}
}

type passwordChanger interface {
	ChangePassword(ctx context.Context, actor app.User, current, next, confirm string) error
}

// changePassword changes the user's password. Every session of the user
// ends; this browser gets a fresh one so the user stays signed in here.
func (s *server) changePassword(users passwordChanger) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		err := users.ChangePassword(c.Request().Context(), u, c.FormValue("current_password"), c.FormValue("new_password"), c.FormValue("confirm_password"))
		if fe, ok := formErrors(err); ok {
			return s.renderProfile(c, http.StatusUnprocessableEntity, u, u.Name, u.TimeZone, nil, fe)
		}
		if err != nil {
			return err
		}
		session(c).ID = "" // the row went with the others
		if err := startSession(c, u.ID, &templates.Flash{Kind: templates.FlashSuccess, Text: "Your password was changed. Other sessions were signed out."}); err != nil {
			return err
		}
		return seeOther(c, "/profile")
	}
}

type everywhereSigner interface {
	SignOutEverywhere(ctx context.Context, actor app.User) error
}

// signOutEverywhere ends every session of the user, this one too.
func (s *server) signOutEverywhere(auth everywhereSigner) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		if err := auth.SignOutEverywhere(c.Request().Context(), u); err != nil {
			return err
		}
		session(c).ID = ""
		if err := startSession(c, 0, &templates.Flash{Kind: templates.FlashInfo, Text: "You were signed out on every device."}); err != nil {
			return err
		}
		return seeOther(c, "/login")
	}
}

// formErrors extracts field messages from a validation error.
func formErrors(err error) (templates.FormErrors, bool) {
	var ve *app.ValidationError
	if errors.As(err, &ve) {
		return templates.FormErrors(ve.Fields), true
	}
	return nil, false
}
