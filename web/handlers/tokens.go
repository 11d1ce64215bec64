package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// tokenManager is what the tokens page needs; *app.Tokens is one.
type tokenManager interface {
	List(ctx context.Context, actor app.User) ([]app.Token, error)
	Create(ctx context.Context, actor app.User, req app.TokenRequest) (app.Token, string, error)
	Revoke(ctx context.Context, actor app.User, id app.TokenID) error
}

// tokensView maps the user's tokens to the page.
func (s *server) tokensView(c echo.Context, u app.User, list []app.Token, form app.TokenRequest, errs templates.FormErrors) templates.TokensView {
	now := s.Now()
	loc := u.Location()
	v := templates.TokensView{
		Meta:    s.meta(c, "API tokens", templates.NavProfile),
		Errors:  errs,
		AtLimit: len(list) >= app.MaxTokensPerUser,
		Form:    templates.TokenForm{Name: form.Name},
	}
	if form.ExpiresInDays == "" {
		form.ExpiresInDays = strconv.Itoa(app.DefaultTokenExpiry)
	}
	for _, d := range app.TokenExpiries() {
		label := "in " + strconv.Itoa(d) + " days"
		if d == 0 {
			label = "Never"
		}
		v.Form.Expires = append(v.Form.Expires, templates.Option{Value: strconv.Itoa(d), Label: label, Selected: strconv.Itoa(d) == form.ExpiresInDays})
	}
	for _, t := range list {
		row := templates.TokenRow{
			ID: t.ID.String(), Name: t.Name, Hint: t.Hint,
			Created:  templates.NewTimeView(t.Created, now, loc),
			LastUsed: templates.NewTimeView(t.LastUsed, now, loc),
			Expired:  t.Expired(now),
		}
		if !t.Expires.IsZero() {
			row.Expires = templates.NewTimeView(t.Expires, now, loc)
		}
		v.Tokens = append(v.Tokens, row)
	}
	return v
}

// tokensPage lists the user's tokens with the create form.
func (s *server) tokensPage(tokens tokenManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		list, err := tokens.List(c.Request().Context(), u)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.TokensPage(s.tokensView(c, u, list, app.TokenRequest{}, nil)))
	}
}

// createToken makes a token and shows it once. The page is rendered in the
// answer to the POST rather than after a redirect: the token must not pass
// through the session (which is stored) to reach the next page, and it is
// never stored anywhere in the clear. The answer is not cached.
func (s *server) createToken(tokens tokenManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		ctx := c.Request().Context()
		req := app.TokenRequest{Name: c.FormValue("name"), ExpiresInDays: c.FormValue("expires")}
		tok, secret, err := tokens.Create(ctx, u, req)
		if fe, ok := formErrors(err); ok {
			list, lerr := tokens.List(ctx, u)
			if lerr != nil {
				return lerr
			}
			return render(c, http.StatusUnprocessableEntity, templates.TokensPage(s.tokensView(c, u, list, req, fe)))
		}
		if err != nil {
			return err
		}
		list, err := tokens.List(ctx, u)
		if err != nil {
			return err
		}
		v := s.tokensView(c, u, list, app.TokenRequest{}, nil)
		v.Created = &templates.CreatedToken{Name: tok.Name, Secret: secret}
		c.Response().Header().Set("Cache-Control", "no-store")
		return render(c, http.StatusCreated, templates.TokensPage(v))
	}
}

// revokeToken deletes one of the user's tokens; another user's token is
// not found.
func (s *server) revokeToken(tokens tokenManager) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		id, err := parseID(c, "id")
		if err != nil {
			return err
		}
		if err := tokens.Revoke(c.Request().Context(), u, app.TokenID(id)); err != nil {
			return err
		}
		return flashAndRedirect(c, templates.FlashSuccess, "The token was revoked; requests with it now fail.", "/profile/tokens")
	}
}
