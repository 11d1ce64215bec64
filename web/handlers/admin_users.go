package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// parseID reads a positive integer path parameter of 1 to 18 decimal
// digits. Anything else (signs, spaces, hex, overflow) is "not found", an id
// that cannot exist, never a server error.
func parseID(c echo.Context, name string) (int64, error) {
	p := c.Param(name)
	if len(p) == 0 || len(p) > 18 {
		return 0, fmt.Errorf("%s %q: %w", name, p, app.ErrNotFound)
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%s %q: %w", name, p, app.ErrNotFound)
		}
	}
	id, err := strconv.ParseInt(p, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q: %w", name, p, app.ErrNotFound)
	}
	return id, nil
}

// byID parses the "id" path parameter and loads what it names with get;
// get's id type (app.UserID, app.AccountID, …) says what kind of id it is.
func byID[ID ~int64, T any](c echo.Context, get func(context.Context, ID) (T, error)) (T, error) {
	id, err := parseID(c, "id")
	if err != nil {
		var zero T
		return zero, err
	}
	return get(c.Request().Context(), ID(id))
}

func roleOptions(selected string) []templates.Option {
	out := []templates.Option{}
	for _, r := range app.Roles() {
		out = append(out, templates.Option{Value: r.String(), Label: r.Label() + " — " + r.Description(), Selected: r.String() == selected})
	}
	return out
}

type userLister interface {
	List(ctx context.Context, actor app.User) ([]app.User, error)
}

// listUsers lists every user.
func (s *server) listUsers(users userLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		list, err := users.List(c.Request().Context(), actor)
		if err != nil {
			return err
		}
		accts, err := s.Accounts.List(c.Request().Context())
		if err != nil {
			return err
		}
		name := accountNames(accts)
		v := templates.UsersView{Meta: s.meta(c, "Users", templates.NavAdmin)}
		now, loc := s.Now(), actor.Location()
		for _, u := range list {
			v.Users = append(v.Users, templates.UserRow{
				ID: u.ID.String(), Email: u.Email, Name: u.Name, Access: u.Access().Describe(name), Disabled: u.Disabled, Invited: u.Invited(),
				Created: templates.NewTimeView(u.Created, now, loc),
			})
		}
		return render(c, http.StatusOK, templates.UsersPage(v))
	}
}

// newUserPage shows the form to invite a user.
func (s *server) newUserPage(c echo.Context) error {
	return s.renderInvite(c, http.StatusOK, "", "", app.AllAccounts(app.RoleObserver), nil)
}

// renderInvite renders the invitation form with what was typed and chosen.
func (s *server) renderInvite(c echo.Context, status int, email, name string, access app.Access, errs templates.FormErrors) error {
	accts, err := s.Accounts.List(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, status, templates.NewUserPage(templates.NewUserView{
		Meta: s.meta(c, "Invite a user", templates.NavAdmin), Email: email, Name: name,
		Access: accessView(accts, access, errs), Errors: errs,
	}))
}

type linkIssuer interface {
	Invite(ctx context.Context, actor app.User, req app.InviteRequest, baseURL string) (app.IssuedLink, error)
	ResetLink(ctx context.Context, actor app.User, id app.UserID, baseURL string) (app.IssuedLink, error)
}

// inviteUser creates the user without a password and shows their one-time
// link on this response, once (not in a flash: the session store must not
// hold it); invalid input re-renders the form (422).
func (s *server) inviteUser(links linkIssuer) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		req := app.InviteRequest{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role")}
		form, err := c.FormParams()
		if err != nil {
			return fmt.Errorf("invite form: %w", app.Invalid("email", "The form could not be read."))
		}
		var out app.IssuedLink
		if form.Get("scope") == "" {
			// A form without the choice (a script, an older page) means
			// every account with the role, as before grants.
			form.Set("scope", "all")
		}
		a, err := parseAccess(form)
		if err == nil {
			req.AccountsOnly, req.Grants = !a.All, a.Grants
			out, err = links.Invite(c.Request().Context(), actor, req, s.baseURL(c))
		}
		if fe, ok := formErrors(err); ok {
			return s.renderInvite(c, http.StatusUnprocessableEntity, req.Email, req.Name, formAccess(form, app.AllAccounts(app.RoleObserver)), fe)
		}
		if err != nil {
			return err
		}
		return s.renderIssuedLink(c, out)
	}
}

// resetLink makes a new one-time link for the user in the path and shows
// it once: an invitation again for a user who never set a password.
func (s *server) resetLink(users userGetter, links linkIssuer) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		u, err := byID(c, users.Get)
		if err != nil {
			return err
		}
		out, err := links.ResetLink(c.Request().Context(), actor, u.ID, s.baseURL(c))
		if fe, ok := formErrors(err); ok {
			return s.renderUserPage(c, http.StatusUnprocessableEntity, u, u.Access(), fe)
		}
		if err != nil {
			return err
		}
		return s.renderIssuedLink(c, out)
	}
}

// renderIssuedLink shows a link just made, the only time it is shown.
func (s *server) renderIssuedLink(c echo.Context, out app.IssuedLink) error {
	title := "Invitation for " + out.User.Email
	if out.Kind == app.LinkReset {
		title = "Reset link for " + out.User.Email
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, templates.IssuedLinkPage(templates.IssuedLinkView{
		Meta: s.meta(c, title, templates.NavAdmin), Title: title, UserID: out.User.ID.String(), Email: out.User.Email,
		Invite: out.Kind == app.LinkInvite, URL: out.URL, Expires: templates.NewTimeView(out.Expires, s.Now(), mustUser(c).Location()),
		MailedVia: out.MailedVia, MailError: out.MailError,
	}))
}

// baseURL is the console's address that links start with:
// RCBU_WEB_PUBLIC_URL, else the address the admin's browser used.
func (s *server) baseURL(c echo.Context) string {
	if s.PublicURL != "" {
		return s.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

type userGetter interface {
	Get(ctx context.Context, id app.UserID) (app.User, error)
}

// renderUserPage renders the user's admin page with status, the access
// form showing access (the user's, or what a refused form asked for) and
// errs.
func (s *server) renderUserPage(c echo.Context, status int, u app.User, access app.Access, errs templates.FormErrors) error {
	actor := mustUser(c)
	accts, err := s.Accounts.List(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, status, templates.UserPage(templates.UserAdminView{
		Meta:       s.meta(c, u.Email, templates.NavAdmin),
		ID:         u.ID.String(),
		Email:      u.Email,
		Name:       u.Name,
		AccessText: u.Access().Describe(accountNames(accts)),
		Access:     accessView(accts, access, errs),
		Disabled:   u.Disabled,
		Self:       actor.ID == u.ID,
		Errors:     errs,
		Invited:    u.Invited(),
	}))
}

// userPage shows one user with the admin actions.
func (s *server) userPage(users userGetter) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := byID(c, users.Get)
		if err != nil {
			return err
		}
		return s.renderUserPage(c, http.StatusOK, u, u.Access(), nil)
	}
}

type userAdmin interface {
	userGetter
	SetDisabled(ctx context.Context, actor app.User, id app.UserID, disabled bool) error
}

// userAction runs one admin action on the user in the path. A validation
// failure re-renders the user page (422); success redirects with a flash.
func (s *server) userAction(users userAdmin, do func(c echo.Context, actor app.User, u app.User) (string, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		u, err := byID(c, users.Get)
		if err != nil {
			return err
		}
		msg, err := do(c, actor, u)
		if fe, ok := formErrors(err); ok {
			return s.renderUserPage(c, http.StatusUnprocessableEntity, u, u.Access(), fe)
		}
		if err != nil {
			return err
		}
		if actor.ID == u.ID {
			// Acting on oneself revoked one's own sessions: sign in again.
			return seeOther(c, "/login")
		}
		return flashAndRedirect(c, templates.FlashSuccess, msg, "/admin/users/"+u.ID.String())
	}
}

// setUserDisabled disables or enables a user.
func (s *server) setUserDisabled(users userAdmin, disabled bool) echo.HandlerFunc {
	return s.userAction(users, func(c echo.Context, actor, u app.User) (string, error) {
		if err := users.SetDisabled(c.Request().Context(), actor, u.ID, disabled); err != nil {
			return "", err
		}
		if disabled {
			return u.Email + " is disabled and was signed out everywhere.", nil
		}
		return u.Email + " can sign in again.", nil
	})
}
