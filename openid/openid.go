// Package openid is the OpenID Connect protocol half of the console's
// single sign-on (app.OIDC): discovery, the authorization URL with a nonce
// and a PKCE (S256) challenge, and the code exchange whose ID token it
// verifies (signature, issuer, audience, expiry) with go-oidc. What a
// sign-in means — who the person is, their role, the audit — stays in app.
package openid

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rcbu-console/rcbu-console/app"
)

// discoveryTimeout bounds one discovery of the provider's configuration.
const discoveryTimeout = 10 * time.Second

// Provider implements app.OIDCProvider for one issuer and client.
type Provider struct {
	opts   app.OIDCOptions
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider // discovered; nil until it succeeds
}

// New returns the provider of o (app.NewOIDC calls it with its options,
// defaults applied). It does not contact the provider: discovery happens
// when first needed and again after a failure, so a provider that is down
// at start does not stop the console.
func New(o app.OIDCOptions) app.OIDCProvider {
	return &Provider{opts: o, client: &http.Client{Timeout: discoveryTimeout}}
}

// Discover fetches the provider's configuration, once it succeeds kept for
// good. A failure wraps app.ErrOIDCUnreachable.
func (p *Provider) Discover(ctx context.Context) error {
	_, err := p.discover(ctx)
	return err
}

func (p *Provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), discoveryTimeout)
	defer cancel()
	dp, err := oidc.NewProvider(ctx, p.opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w: %w", p.opts.Issuer, app.ErrOIDCUnreachable, err)
	}
	p.provider = dp
	return dp, nil
}

func (p *Provider) config(dp *oidc.Provider) *oauth2.Config {
	scopes := append([]string{oidc.ScopeOpenID}, slices.DeleteFunc(slices.Clone(p.opts.Scopes), func(s string) bool { return s == oidc.ScopeOpenID })...)
	return &oauth2.Config{
		ClientID: p.opts.ClientID, ClientSecret: p.opts.ClientSecret, RedirectURL: p.opts.RedirectURL,
		Endpoint: dp.Endpoint(), Scopes: scopes,
	}
}

// AuthCodeURL returns where to send the browser: the provider's
// authorization endpoint with state, nonce and verifier's S256 challenge.
func (p *Provider) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	dp, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return p.config(dp).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Exchange trades the code (with the PKCE verifier) for the ID token and
// verifies it. A refused code is an *app.OIDCCodeError, an expired token
// an *app.OIDCExpiredError, any other untrusted token wraps
// app.ErrOIDCUntrusted.
func (p *Provider) Exchange(ctx context.Context, code, verifier string) (app.IDToken, error) {
	dp, err := p.discover(ctx)
	if err != nil {
		return app.IDToken{}, err
	}
	hctx := oidc.ClientContext(ctx, p.client)
	tok, err := p.config(dp).Exchange(hctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		ce := &app.OIDCCodeError{}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			ce.Code = re.ErrorCode
			if re.Response != nil {
				ce.Status = re.Response.StatusCode
			}
		}
		return app.IDToken{}, ce
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return app.IDToken{}, fmt.Errorf("token response without id_token: %w", app.ErrOIDCUntrusted)
	}
	v := dp.VerifierContext(context.WithoutCancel(hctx), &oidc.Config{ClientID: p.opts.ClientID, Now: p.opts.Now})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return app.IDToken{}, &app.OIDCExpiredError{Expiry: exp.Expiry}
		}
		return app.IDToken{}, fmt.Errorf("ID token refused: %w: %w", app.ErrOIDCUntrusted, err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return app.IDToken{}, fmt.Errorf("claims: %w: %w", app.ErrOIDCUntrusted, err)
	}
	return app.IDToken{Issuer: idt.Issuer, Subject: idt.Subject, Nonce: idt.Nonce, Claims: claims}, nil
}
