package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// accountNames names accounts by id, for the access in words; an account
// deleted since is named by its id.
func accountNames(accts []app.Account) func(app.AccountID) string {
	names := make(map[app.AccountID]string, len(accts))
	for _, a := range accts {
		names[a.ID] = a.Name
	}
	return func(id app.AccountID) string {
		if n, ok := names[id]; ok {
			return n
		}
		return "account " + id.String()
	}
}

// grantChoices are the roles one account can be given, after "No access".
var grantChoices = []app.Role{app.RoleObserver, app.RoleCreator}

// accessView fills the access form with a, over every account.
func accessView(accts []app.Account, a app.Access, errs templates.FormErrors) templates.AccessView {
	role := a.Role
	if !a.All {
		role = app.RoleObserver
	}
	v := templates.AccessView{All: a.All, Roles: roleOptions(role.String()), Errors: errs}
	for _, acct := range accts {
		on := a.RoleOn(acct.ID)
		if a.All {
			on = app.RoleNone
		}
		opts := []templates.Option{{Value: "none", Label: "No access", Selected: on == app.RoleNone}}
		for _, r := range grantChoices {
			opts = append(opts, templates.Option{Value: r.String(), Label: r.Label(), Selected: on == r})
		}
		v.Grants = append(v.Grants, templates.GrantRow{AccountID: acct.ID.String(), Account: acct.Name, Options: opts})
	}
	return v
}

// parseAccess reads the access form. What cannot be read (no choice, an
// unknown role, a field naming no account id) is refused in words; whether
// the accounts exist is app's to check.
func parseAccess(form url.Values) (app.Access, error) {
	switch form.Get("scope") {
	case "all":
		// An unknown role is RoleNone, which app refuses in words on the
		// role field along with whatever else is wrong with the form.
		r, _ := app.ParseRole(form.Get("role"))
		return app.AllAccounts(r), nil
	case "accounts":
	default:
		return app.Access{}, app.Invalid("scope", "Choose all accounts or only some accounts.")
	}
	a := app.OnlyAccounts()
	for key, vals := range form {
		raw, ok := strings.CutPrefix(key, "grant_")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 || len(vals) != 1 {
			return app.Access{}, app.Invalid("grants", "The form named an account that does not exist; reload the page and choose again.")
		}
		if vals[0] == "none" || vals[0] == "" {
			continue
		}
		r, err := app.ParseRole(vals[0])
		if err != nil {
			return app.Access{}, app.Invalid("grants", "Choose No access, Observer or Creator for each account.")
		}
		a.Grants = append(a.Grants, app.Grant{Account: app.AccountID(id), Role: r})
	}
	return a, nil
}

// formAccess is the access the form asked for, as far as it can be read,
// to show the form again after a refusal: the admin's choices are kept.
func formAccess(form url.Values, fallback app.Access) app.Access {
	if a, err := parseAccess(form); err == nil {
		return a
	}
	return fallback
}

type accessSetter interface {
	userGetter
	SetAccess(ctx context.Context, actor app.User, id app.UserID, a app.Access) error
}

// setUserAccess changes what the user in the path may see and do. The
// change ends their sessions and tokens; the flash says so.
func (s *server) setUserAccess(users accessSetter) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		u, err := byID(c, users.Get)
		if err != nil {
			return err
		}
		form, err := c.FormParams()
		if err != nil {
			return fmt.Errorf("access form: %w", app.Invalid("scope", "The form could not be read."))
		}
		a, err := parseAccess(form)
		if err == nil {
			err = users.SetAccess(c.Request().Context(), actor, u.ID, a)
		}
		if fe, ok := formErrors(err); ok {
			return s.renderUserPage(c, http.StatusUnprocessableEntity, u, formAccess(form, u.Access()), fe)
		}
		if err != nil {
			return err
		}
		if u.Access().Equal(a) {
			return flashAndRedirect(c, templates.FlashInfo, u.Email+" already has this access; nothing changed.", "/admin/users/"+u.ID.String())
		}
		if actor.ID == u.ID {
			return seeOther(c, "/login") // their own sessions ended too
		}
		accts, err := s.Accounts.List(c.Request().Context())
		if err != nil {
			return err
		}
		msg := u.Email + " now has: " + a.Describe(accountNames(accts)) + ". Their sessions and API tokens were ended."
		return flashAndRedirect(c, templates.FlashSuccess, msg, "/admin/users/"+u.ID.String())
	}
}
