package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/openid"
)

// newSSO builds single sign-on when RCBU_WEB_OIDC_ISSUER is set (switched
// off otherwise: app.OIDCOff) and tries the provider once: one that does not answer is
// logged and tried again at the next "Sign in with …", so the console
// starts anyway and break-glass admins can still sign in with a password.
func newSSO(ctx context.Context, cfg Config, store app.IdentityStore, audit *app.Audit, now func() time.Time, log *slog.Logger) (*app.OIDC, error) {
	if cfg.OIDC == nil {
		return app.OIDCOff(), nil
	}
	o := cfg.OIDC
	sso, err := app.NewOIDC(store, audit, app.OIDCOptions{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
		Name: o.Name, Claim: o.Claim, Scopes: o.Scopes, Rules: o.Roles, CreateUsers: o.CreateUsers,
		PasswordOff: cfg.PasswordLoginOff, BreakGlass: cfg.BreakGlass, Now: now, Log: log, Connect: openid.New,
	})
	if err != nil {
		return nil, fmt.Errorf("RCBU_WEB_OIDC_ISSUER: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sso.Discover(dctx); err != nil {
		log.Warn("oidc_provider_unreachable", slog.String("variable", "RCBU_WEB_OIDC_ISSUER"), slog.String("issuer", o.Issuer), slog.Any("err", err))
	} else {
		log.Info("oidc_provider_discovered", slog.String("issuer", o.Issuer), slog.String("name", sso.Name()), slog.Bool("password_login", !cfg.PasswordLoginOff))
	}
	return sso, nil
}
