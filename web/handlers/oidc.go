package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// ssoStartPath starts a single sign-on; the sign-in page links to it.
const ssoStartPath = templates.SSOStartPath

// loginView is the sign-in page's view for next, with the single sign-on
// button when it is configured.
func (s *server) loginView(c echo.Context, next string) templates.LoginView {
	v := templates.LoginView{Meta: s.meta(c, "Sign in", templates.NavNone), Next: next}
	if s.OIDC.Enabled() {
		v.SSOName, v.PasswordOff = s.OIDC.Name(), s.OIDC.PasswordOff()
	}
	return v
}

// passwordOffMessage is what a refused password sign-in says while
// password sign-in is off.
func passwordOffMessage(o *app.OIDC) string {
	return "Password sign-in is off here: use “Sign in with " + o.Name() + "”. Only break-glass admins sign in with a password."
}

// passwordSignIn is password sign-in under the single sign-on policy (with
// single sign-on off, Auth's own sign-in).
func (s *server) passwordSignIn() authenticator {
	return s.OIDC.PasswordGate(s.Auth)
}

// oidcStart keeps a new pending sign-in (state, nonce, PKCE verifier) in
// the browser's session and sends the browser to the provider.
func (s *server) oidcStart(c echo.Context) error {
	if !s.OIDC.Enabled() {
		return echo.ErrNotFound
	}
	next := localPath(c.QueryParam("next"))
	if _, ok := currentUser(c); ok {
		return seeOther(c, next)
	}
	to, pending, err := s.OIDC.Start(c.Request().Context(), next)
	if err != nil {
		return s.ssoRefused(c, next, err)
	}
	sess := session(c)
	sess.Values[valOIDC] = pending
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return seeOther(c, to)
}

// ssoSignIn finishes a single sign-on (app.OIDC).
type ssoSignIn interface {
	Finish(ctx context.Context, pending *app.OIDCPending, cb app.OIDCCallback) (app.User, error)
}

// oidcCallback takes the provider's answer. The pending sign-in leaves the
// session before anything else, so each answer is used at most once; a
// person the provider signed in goes on to the second step of sign-in.
func (s *server) oidcCallback(c echo.Context) error {
	if !s.OIDC.Enabled() {
		return echo.ErrNotFound
	}
	return s.finishSSO(c, s.OIDC)
}

func (s *server) finishSSO(c echo.Context, sso ssoSignIn) error {
	sess := session(c)
	var pending *app.OIDCPending
	if p, ok := sess.Values[valOIDC].(app.OIDCPending); ok {
		pending = &p
		delete(sess.Values, valOIDC)
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	}
	q := c.QueryParams()
	u, err := sso.Finish(c.Request().Context(), pending, app.OIDCCallback{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	})
	next := "/"
	if pending != nil {
		next = pending.Next
	}
	if err != nil {
		return s.ssoRefused(c, next, err)
	}
	// The second step of sign-in, as after a password: a code, or the
	// setup of a factor the role requires, before the session is made.
	return s.afterFirstFactor(c, u, app.FirstFactorOIDC, next)
}

// ssoRefused shows the sign-in page with why single sign-on did not work:
// 503 when the provider cannot be reached, 403 for a refusal.
func (s *server) ssoRefused(c echo.Context, next string, err error) error {
	var r *app.SSORefusal
	if !errors.As(err, &r) {
		return err
	}
	status := http.StatusForbidden
	if r.Unavailable {
		status = http.StatusServiceUnavailable
	}
	v := s.loginView(c, next)
	v.SSOError = r.Message
	return render(c, status, templates.LoginPage(v))
}
