package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

type accountLister interface {
	List(ctx context.Context) ([]app.Account, error)
}

// listAccounts lists the Rackspace accounts (never their secrets).
func (s *server) listAccounts(accounts accountLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		list, err := accounts.List(c.Request().Context())
		if err != nil {
			return err
		}
		v := templates.AccountsView{Meta: s.meta(c, "Rackspace accounts", templates.NavAdmin)}
		for _, a := range list {
			row := templates.AccountRow{
				ID: a.ID.String(), Name: a.Name, Username: a.Username, Kind: a.Kind.Label(),
				Region: a.RegionLabel(), Identity: a.IdentityURL,
			}
			switch a.Source {
			case app.SourceDemo:
				row.Managed = "Built-in demo; goes away when a real account is configured"
			case app.SourceEnv:
				row.Managed = "Set by the server's environment (RCBU_USERNAME)"
			}
			v.Accounts = append(v.Accounts, row)
		}
		return render(c, http.StatusOK, templates.AccountsPage(v))
	}
}

func accountForm(c echo.Context) app.AccountRequest {
	return app.AccountRequest{
		Name:        c.FormValue("name"),
		Username:    c.FormValue("username"),
		Kind:        c.FormValue("kind"),
		Secret:      c.FormValue("secret"),
		IdentityURL: c.FormValue("identity_url"),
		Region:      c.FormValue("region"),
	}
}

func (s *server) accountFormView(c echo.Context, title string, id string, req app.AccountRequest, errs templates.FormErrors) templates.AccountFormView {
	return templates.AccountFormView{
		Meta:        s.meta(c, title, templates.NavAdmin),
		Editing:     id != "",
		ID:          id,
		Name:        req.Name,
		Username:    req.Username,
		Kind:        req.Kind,
		IdentityURL: req.IdentityURL,
		Region:      req.Region,
		Regions:     app.AccountRegions(),
		Errors:      errs,
	}
}

// newAccountPage shows the form to add an account.
func (s *server) newAccountPage(c echo.Context) error {
	req := app.AccountRequest{Kind: string(app.CredentialAPIKey), IdentityURL: app.DefaultIdentityURL}
	return render(c, http.StatusOK, templates.AccountFormPage(s.accountFormView(c, "Add an account", "", req, nil)))
}

type accountCreator interface {
	Create(ctx context.Context, actor app.User, req app.AccountRequest) (app.Account, error)
}

// createAccount checks the credentials with Rackspace and saves the account;
// a failure re-renders the form with the reason (422) and saves nothing.
func (s *server) createAccount(accounts accountCreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		req := accountForm(c)
		a, err := accounts.Create(c.Request().Context(), actor, req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return render(c, http.StatusUnprocessableEntity, templates.AccountFormPage(s.accountFormView(c, "Add an account", "", req, fe)))
		}, "Connected "+a.Name+".", "/admin/accounts")
	}
}

type accountGetter interface {
	Get(ctx context.Context, id app.AccountID) (app.Account, error)
}

// editAccountPage shows the form to edit an account (without its secret).
func (s *server) editAccountPage(accounts accountGetter) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := byID(c, accounts.Get)
		if err != nil {
			return err
		}
		req := app.AccountRequest{Name: a.Name, Username: a.Username, Kind: string(a.Kind), IdentityURL: a.IdentityURL, Region: a.Region}
		return render(c, http.StatusOK, templates.AccountFormPage(s.accountFormView(c, "Edit "+a.Name, a.ID.String(), req, nil)))
	}
}

type accountUpdater interface {
	accountGetter
	Update(ctx context.Context, actor app.User, id app.AccountID, req app.AccountRequest) (app.Account, error)
}

// updateAccount checks and saves an edited account.
func (s *server) updateAccount(accounts accountUpdater) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		old, err := byID(c, accounts.Get)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		req := accountForm(c)
		a, err := accounts.Update(ctx, actor, old.ID, req)
		return formDone(c, err, func(fe templates.FormErrors) error {
			return render(c, http.StatusUnprocessableEntity, templates.AccountFormPage(s.accountFormView(c, "Edit "+old.Name, old.ID.String(), req, fe)))
		}, "Saved "+a.Name+".", "/admin/accounts")
	}
}

// deleteAccountPage asks to confirm removing an account.
func (s *server) deleteAccountPage(accounts accountGetter) echo.HandlerFunc {
	return func(c echo.Context) error {
		a, err := byID(c, accounts.Get)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.DeleteAccountPage(templates.DeleteAccountView{
			Meta: s.meta(c, "Remove "+a.Name, templates.NavAdmin), ID: a.ID.String(), Name: a.Name,
		}))
	}
}

type accountDeleter interface {
	Delete(ctx context.Context, actor app.User, id app.AccountID) error
}

// deleteAccount removes an account.
func (s *server) deleteAccount(accounts accountDeleter) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor := mustUser(c)
		id, err := parseID(c, "id")
		if err != nil {
			return err
		}
		if err := accounts.Delete(c.Request().Context(), actor, app.AccountID(id)); err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "The account was removed.", "/admin/accounts")
	}
}
