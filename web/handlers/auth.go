package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// loginPage shows the sign-in form; a signed-in user goes to the overview.
func (s *server) loginPage(c echo.Context) error {
	if _, ok := currentUser(c); ok {
		return seeOther(c, localPath(c.QueryParam("next")))
	}
	return render(c, http.StatusOK, templates.LoginPage(s.loginView(c, localPath(c.QueryParam("next")))))
}

type authenticator interface {
	SignIn(ctx context.Context, r app.LoginRequest) (app.LoginResult, error)
}

// deviceCookie marks a browser that signed in before (app/device.go): its
// sign-ins are throttled apart from failures elsewhere.
const deviceCookie = "rcbu_device"

// login checks the credentials; on success it renews the device cookie and
// passes the user to the second step of sign-in (afterFirstFactor), which
// starts a new session (a new token: never the one the browser had before)
// once any second factor is passed, and goes on to next.
func (s *server) login(auth authenticator) echo.HandlerFunc {
	return func(c echo.Context) error {
		email := strings.TrimSpace(c.FormValue("email"))
		next := localPath(c.FormValue("next"))
		req := app.LoginRequest{Email: email, Password: c.FormValue("password")}
		if ck, err := c.Cookie(deviceCookie); err == nil {
			req.Device = ck.Value
		}
		res, err := auth.SignIn(c.Request().Context(), req)
		if errors.Is(err, app.ErrUnauthorized) {
			if len(email) > app.MaxLoginEmailLen {
				email = "" // not worth echoing back
			}
			// 422 like any form that needs another go (401 would require a
			// WWW-Authenticate challenge, which a form login does not have).
			v := s.loginView(c, next)
			v.Email, v.Error = email, app.LoginFailedMessage
			if errors.Is(err, app.ErrPasswordLoginOff) {
				v.Error = passwordOffMessage(s.OIDC)
			}
			return render(c, http.StatusUnprocessableEntity, templates.LoginPage(v))
		}
		if err != nil {
			return err
		}
		c.SetCookie(&http.Cookie{
			Name: deviceCookie, Value: res.Device, Path: "/login",
			MaxAge:   int(s.Auth.Config().DeviceLifetime / time.Second),
			HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
		})
		// The password is the first factor; the second step decides
		// whether a code (or an enrolment) comes before the session.
		return s.afterFirstFactor(c, res.User, app.FirstFactorPassword, next)
	}
}

type logoutter interface {
	Logout(ctx context.Context, actor app.User, token string) error
}

// logout ends the session and shows the sign-in page with a note.
func (s *server) logout(auth logoutter) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		sess := session(c)
		if err := auth.Logout(c.Request().Context(), u, sess.ID); err != nil {
			return err
		}
		sess.ID = "" // ended above; startSession makes a fresh anonymous one for the note
		if err := startSession(c, 0, &templates.Flash{Kind: templates.FlashInfo, Text: "You have signed out."}); err != nil {
			return err
		}
		return seeOther(c, "/login")
	}
}

// selectAccount stores the header switcher's choice in the session and goes
// back to the page it came from.
func selectAccount(c echo.Context) error {
	choice := c.FormValue("account")
	sc, _ := c.Get(ctxScope).(accountScope)
	ok := choice == "all" && len(sc.Accounts) > 1
	for _, a := range sc.Accounts {
		ok = ok || a.ID.String() == choice
	}
	if !ok {
		return app.Invalid("account", "Choose an account from the list.")
	}
	sess := session(c)
	sess.Values[valAccount] = choice
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return seeOther(c, localPath(c.FormValue("return")))
}
