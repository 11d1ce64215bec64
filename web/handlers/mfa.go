package handlers

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// signInCookie holds the token of a half sign-in (a first factor passed,
// the second not yet). It is scoped to /login, so only the second-step
// pages (/login/verify, /login/enrol) ever see it, and it is nothing like a
// session: no other page accepts it.
const signInCookie = "rcbu_signin"

// afterFirstFactor is the handler side of the second step of sign-in.
// Every first factor that identified a user (the password form; the
// OpenID Connect callback) calls it instead of starting a session itself,
// with method app.FirstFactorPassword or app.FirstFactorOIDC and next a
// local path (localPath) to go on to. It asks app.MFA.AfterFirstFactor what
// comes next:
//   - no second factor to pass: it starts the session (a new token) and
//     redirects to next;
//   - a code to enter, or a factor to enrol first (the role requires one):
//     it keeps the half sign-in's token in the HttpOnly rcbu_signin cookie
//     (path /login, the half sign-in's lifetime) and redirects to
//     /login/verify or /login/enrol, which make the session once the
//     second factor is passed.
//
// A disabled user gets app.ErrUnauthorized: treat it as a failed sign-in.
func (s *server) afterFirstFactor(c echo.Context, u app.User, method, next string) error {
	step, err := s.MFA.AfterFirstFactor(c.Request().Context(), u, method, localPath(next))
	if err != nil {
		return err
	}
	if step.Kind == app.SecondStepNone {
		if err := startSession(c, u.ID, nil); err != nil {
			return err
		}
		return seeOther(c, localPath(next))
	}
	c.SetCookie(&http.Cookie{
		Name: signInCookie, Value: step.Token, Path: "/login",
		MaxAge:   int(s.MFA.PendingTTL() / time.Second),
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	if step.Kind == app.SecondStepEnrol {
		return seeOther(c, "/login/enrol")
	}
	return seeOther(c, "/login/verify")
}

// signInToken is the half sign-in token the browser holds, or "".
func signInToken(c echo.Context) string {
	ck, err := c.Cookie(signInCookie)
	if err != nil {
		return ""
	}
	return ck.Value
}

// clearSignIn drops the half sign-in cookie.
func (s *server) clearSignIn(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: signInCookie, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// signInExpired answers a second step whose half sign-in ended (or never
// began): 410, saying why, with the way back to the sign-in page.
func (s *server) signInExpired(c echo.Context) error {
	s.clearSignIn(c)
	return render(c, http.StatusGone, templates.SignInExpiredPage(templates.SignInExpiredView{
		Meta: s.meta(c, "Sign in again", templates.NavNone),
	}))
}

// mfaVerifyPage asks a half-signed-in user for their code.
func (s *server) mfaVerifyPage(c echo.Context) error {
	p, u, err := s.MFA.Pending(c.Request().Context(), signInToken(c))
	if errors.Is(err, app.ErrSignInExpired) {
		return s.signInExpired(c)
	}
	if err != nil {
		return err
	}
	if p.Enrol {
		return seeOther(c, "/login/enrol")
	}
	return s.renderVerify(c, http.StatusOK, u, nil)
}

func (s *server) renderVerify(c echo.Context, status int, u app.User, errs templates.FormErrors) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, status, templates.MFAVerifyPage(templates.MFAVerifyView{
		Meta: s.meta(c, "Enter your code", templates.NavNone), Email: u.Email, Errors: errs,
	}))
}

// mfaVerify checks the code and, when it is right, starts the session.
func (s *server) mfaVerify(c echo.Context) error {
	ctx := c.Request().Context()
	token := signInToken(c)
	res, err := s.MFA.VerifySignIn(ctx, token, c.FormValue("code"))
	if errors.Is(err, app.ErrSignInExpired) {
		return s.signInExpired(c)
	}
	if fe, ok := formErrors(err); ok {
		return s.againWithPending(c, token, func(u app.User) error {
			return s.renderVerify(c, http.StatusUnprocessableEntity, u, fe)
		})
	}
	if err != nil {
		return err
	}
	s.clearSignIn(c)
	var flash *templates.Flash
	if res.RecoveryUsed {
		flash = &templates.Flash{Kind: templates.FlashInfo, Text: "You signed in with a recovery code. " + recoveryLeftNote(res.RecoveryLeft)}
	}
	if err := startSession(c, res.User.ID, flash); err != nil {
		return err
	}
	return seeOther(c, res.Next)
}

// recoveryLeftNote tells how many recovery codes remain.
func recoveryLeftNote(n int) string {
	switch n {
	case 0:
		return "None is left: make new ones on your profile page now."
	case 1:
		return "1 is left: make new ones on your profile page."
	default:
		return "You have " + strconv.Itoa(n) + " left."
	}
}

// mfaEnrolSignInPage shows the setup to a half-signed-in user whose role
// requires a second factor.
func (s *server) mfaEnrolSignInPage(c echo.Context) error {
	p, u, err := s.MFA.Pending(c.Request().Context(), signInToken(c))
	if errors.Is(err, app.ErrSignInExpired) {
		return s.signInExpired(c)
	}
	if err != nil {
		return err
	}
	if !p.Enrol {
		return seeOther(c, "/login/verify")
	}
	return s.renderEnrol(c, http.StatusOK, u, "/login/enrol", "/login", nil)
}

// renderEnrol shows the setup of u's authenticator app, the form posting to
// action.
func (s *server) renderEnrol(c echo.Context, status int, u app.User, action, cancel string, errs templates.FormErrors) error {
	ctx := c.Request().Context()
	en, err := s.MFA.BeginEnrolment(ctx, u)
	if err != nil {
		return err
	}
	required, err := s.MFA.Required(ctx, u.Role)
	if err != nil {
		return err
	}
	// The page holds the secret: never cached.
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, status, templates.MFAEnrolPage(templates.MFAEnrolView{
		Meta:     s.meta(c, "Set up two-factor sign-in", templates.NavNone),
		Email:    u.Email,
		Action:   action,
		Required: required,
		QR:       "data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG),
		Secret:   en.Secret,
		Cancel:   cancel,
		Errors:   errs,
	}))
}

// mfaEnrolSignIn confirms the new factor of a half-signed-in user, starts
// the session and shows the recovery codes once.
func (s *server) mfaEnrolSignIn(c echo.Context) error {
	ctx := c.Request().Context()
	token := signInToken(c)
	res, err := s.MFA.EnrolSignIn(ctx, token, c.FormValue("code"))
	if errors.Is(err, app.ErrSignInExpired) {
		return s.signInExpired(c)
	}
	if fe, ok := formErrors(err); ok {
		return s.againWithPending(c, token, func(u app.User) error {
			return s.renderEnrol(c, http.StatusUnprocessableEntity, u, "/login/enrol", "/login", fe)
		})
	}
	if err != nil {
		return err
	}
	s.clearSignIn(c)
	if err := startSession(c, res.User.ID, nil); err != nil {
		return err
	}
	return s.renderRecoveryCodes(c, "Two-factor sign-in is on", res.RecoveryCodes, res.Next)
}

// renderRecoveryCodes shows recovery codes, once: the response is never
// cached.
func (s *server) renderRecoveryCodes(c echo.Context, title string, codes []string, next string) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, templates.MFARecoveryCodesPage(templates.MFARecoveryCodesView{
		Meta: s.meta(c, title, templates.NavNone), Title: title, Codes: codes, Continue: localPath(next),
	}))
}

// againWithPending shows a second-step page again (after a refused code)
// for the user of the half sign-in behind token, or the "sign in again"
// page when that half sign-in has ended meanwhile.
func (s *server) againWithPending(c echo.Context, token string, show func(app.User) error) error {
	_, u, err := s.MFA.Pending(c.Request().Context(), token)
	if errors.Is(err, app.ErrSignInExpired) {
		return s.signInExpired(c)
	}
	if err != nil {
		return err
	}
	return show(u)
}
