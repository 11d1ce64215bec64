package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// twoFactorView is the profile page's two-factor section for u.
func (s *server) twoFactorView(c echo.Context, u app.User, errs templates.FormErrors) (templates.TwoFactorView, error) {
	st, err := s.MFA.Status(c.Request().Context(), u)
	if err != nil {
		return templates.TwoFactorView{}, err
	}
	return templates.TwoFactorView{
		Enrolled:     st.Enrolled,
		Since:        templates.NewTimeView(st.Since, s.Now(), u.Location()),
		Required:     st.Required,
		RecoveryLeft: st.RecoveryLeft,
		Errors:       errs,
	}, nil
}

// profileTwoFactorPage sets up an authenticator app for the signed-in
// user; one who has it on already goes back to the profile.
func (s *server) profileTwoFactorPage(c echo.Context) error {
	u := mustUser(c)
	st, err := s.MFA.Status(c.Request().Context(), u)
	if err != nil {
		return err
	}
	if st.Enrolled {
		return flashAndRedirect(c, templates.FlashInfo, "Two-factor sign-in is on already.", "/profile#two-factor")
	}
	return s.renderEnrol(c, http.StatusOK, u, "/profile/two-factor", "/profile", nil)
}

// profileTwoFactorConfirm turns two-factor sign-in on with a code of the
// new secret and shows the recovery codes once.
func (s *server) profileTwoFactorConfirm(c echo.Context) error {
	u := mustUser(c)
	codes, err := s.MFA.ConfirmEnrolment(c.Request().Context(), u, c.FormValue("code"))
	if fe, ok := formErrors(err); ok {
		return s.renderEnrol(c, http.StatusUnprocessableEntity, u, "/profile/two-factor", "/profile", fe)
	}
	if err != nil {
		return err
	}
	return s.renderRecoveryCodes(c, "Two-factor sign-in is on", codes, "/profile#two-factor")
}

// profileRecoveryCodes replaces the user's recovery codes, proven with a
// current code, and shows the new ones once.
func (s *server) profileRecoveryCodes(c echo.Context) error {
	u := mustUser(c)
	codes, err := s.MFA.RegenerateRecoveryCodes(c.Request().Context(), u, c.FormValue("code"))
	if fe, ok := formErrors(err); ok {
		return s.renderProfileTwoFactorErrors(c, u, fe)
	}
	if err != nil {
		return err
	}
	return s.renderRecoveryCodes(c, "New recovery codes", codes, "/profile#two-factor")
}

// profileTwoFactorDisable turns the user's second factor off, proven with
// a current code, unless their role requires it.
func (s *server) profileTwoFactorDisable(c echo.Context) error {
	u := mustUser(c)
	err := s.MFA.Disable(c.Request().Context(), u, c.FormValue("code"))
	if fe, ok := formErrors(err); ok {
		return s.renderProfileTwoFactorErrors(c, u, fe)
	}
	if err != nil {
		return err
	}
	return flashAndRedirect(c, templates.FlashSuccess, "Two-factor sign-in is off: your password alone signs you in.", "/profile#two-factor")
}

// renderProfileTwoFactorErrors shows the profile again (422) with the
// two-factor form's problems.
func (s *server) renderProfileTwoFactorErrors(c echo.Context, u app.User, fe templates.FormErrors) error {
	v, err := s.profileView(c, u, u.Name, u.TimeZone, nil, nil)
	if err != nil {
		return err
	}
	if v.TwoFactor, err = s.twoFactorView(c, u, fe); err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, templates.ProfilePage(v))
}

// mfaSettingsPage is Admin → Two-factor sign-in: the roles that require a
// second factor.
func (s *server) mfaSettingsPage(c echo.Context) error {
	required, err := s.MFA.RequiredRoles(c.Request().Context())
	if err != nil {
		return err
	}
	v := templates.MFASettingsView{Meta: s.meta(c, "Two-factor sign-in", templates.NavAdmin)}
	for _, r := range app.Roles() {
		checked := false
		for _, q := range required {
			checked = checked || q == r
		}
		v.Roles = append(v.Roles, templates.RoleChoice{Value: r.String(), Label: r.Label(), Help: r.Description(), Checked: checked})
	}
	return render(c, http.StatusOK, templates.MFASettingsPage(v))
}

// saveMFASettings stores the roles that require a second factor.
func (s *server) saveMFASettings(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return app.Invalid("roles", "The form could not be read; try again.")
	}
	ctx := c.Request().Context()
	actor := mustUser(c)
	must, err := s.MFA.SetRequiredRoles(ctx, actor, form["role"])
	if errors.Is(err, app.ErrInvalid) {
		return flashAndRedirect(c, templates.FlashError, "Choose roles from the list.", "/admin/two-factor")
	}
	if err != nil {
		return err
	}
	own, err := s.MFA.Status(ctx, actor)
	if err != nil {
		return err
	}
	msg := "The two-factor requirement was saved."
	if own.Required && !own.Enrolled {
		must--
		msg += " You have no second factor yet: set it up on your profile page now."
	}
	switch {
	case must == 1:
		msg += " 1 other user of these roles has none: they were signed out and set one up at their next sign-in."
	case must > 1:
		msg += " " + strconv.Itoa(must) + " other users of these roles have none: they were signed out and set one up at their next sign-in."
	}
	return flashAndRedirect(c, templates.FlashSuccess, msg, "/admin/two-factor")
}

// resetUserTwoFactor removes a user's second factor and ends their
// sessions (they lost their phone and their recovery codes).
func (s *server) resetUserTwoFactor(c echo.Context) error {
	u, err := byID(c, s.Users.Get)
	if err != nil {
		return err
	}
	if err := s.MFA.Reset(c.Request().Context(), mustUser(c), u.ID); err != nil {
		return err
	}
	return flashAndRedirect(c, templates.FlashSuccess,
		"The two-factor sign-in of "+u.Email+" was reset and their sessions ended. If their role requires it, they set up a new authenticator app at their next sign-in.",
		"/admin/users/"+c.Param("id"))
}
