// Package handlers is the console's HTTP layer: echo routes (routes.go lists
// every one with its minimum role), middleware, the single error handler,
// and small handler makers that parse input, call one service, map the result
// to a templates view model and render it.
package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is everything the HTTP layer needs, built by cmd/web's run (and by
// the handler tests' one builder). Every service is required, so no route
// depends on what was passed; only a few settings, marked optional, have a
// meaningful zero. newServer names the first field missing.
type Deps struct {
	Log      *slog.Logger
	Auth     *app.Auth
	Users    *app.Users
	Accounts *app.Accounts
	Audit    *app.Audit
	// Fleet is the account-scoped, cached API access of the operations
	// pages; one shared instance, so its cache and invalidation are shared
	// by every page.
	Fleet *app.Fleet
	// Overviews composes the overview page from Fleet (the same instance)
	// and the store.
	Overviews *app.Overviews
	// Ops starts and stops jobs and runs agent actions, over Fleet.
	Ops *app.Ops
	// Configurations and Restores are the configuration pages' and the
	// restore wizard's services, over Fleet.
	Configurations *app.Configurations
	Restores       *app.Restores
	// History keeps the report snapshots and Syncer syncs them.
	History *app.History
	Syncer  *app.Syncer
	// HistoryKeepDays is RCBU_WEB_HISTORY_KEEP_DAYS (optional: 0 keeps
	// snapshots forever).
	HistoryKeepDays int
	// Alerts is the alert rules, channels, delivery log and digest.
	Alerts *app.Alerts
	// Links makes and honours the one-time invitation and reset links.
	Links *app.Links
	// MFA is two-factor sign-in: the second step of every sign-in, TOTP
	// enrolment, recovery codes and the roles that require a factor.
	MFA *app.MFA
	// OIDC is single sign-on through an OpenID Connect provider; without
	// one configured it is app.OIDCOff(), which offers only password
	// sign-in.
	OIDC *app.OIDC
	// PublicURL is RCBU_WEB_PUBLIC_URL, the console's address in links;
	// optional: without it a link starts with the address the admin's
	// browser used.
	PublicURL string
	// Tokens checks the personal access tokens of the read-only JSON API
	// (/api/v1/...) and manages them on /profile/tokens.
	Tokens *app.Tokens
	// Metrics is the Prometheus registry, the latency histograms and the
	// /metrics access policy; with neither a token nor an allow list
	// configured, /metrics is 404.
	Metrics *metrics.Metrics
	// Health is the configurations' state from the fleet and the stored
	// report snapshots, shared by /metrics and the JSON API.
	Health *app.Health
	DB     Pinger
	// Leases are the background work this replica holds, which /readyz
	// reports.
	Leases *app.Leases
	// SessionKey signs the session cookie (HMAC); at least 32 bytes, derived
	// from the app secret.
	SessionKey []byte
	// SecureCookies is optional (false: cookies also go over plain HTTP).
	SecureCookies bool
	// TrustedProxies are reverse proxies whose X-Forwarded-For header names
	// the client; optional: without them the TCP peer is the client (login
	// throttle, audit log).
	TrustedProxies []*net.IPNet
	Static         fs.FS // web/static's files
	Now            func() time.Time
	Version        string
}

// missing returns the name of the first required field that is not set,
// or "".
func (d Deps) missing() string {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Log", d.Log != nil}, {"Auth", d.Auth != nil}, {"Users", d.Users != nil}, {"Accounts", d.Accounts != nil},
		{"Audit", d.Audit != nil}, {"Fleet", d.Fleet != nil}, {"Overviews", d.Overviews != nil}, {"Ops", d.Ops != nil}, {"Configurations", d.Configurations != nil},
		{"Restores", d.Restores != nil}, {"History", d.History != nil}, {"Syncer", d.Syncer != nil}, {"Alerts", d.Alerts != nil},
		{"Links", d.Links != nil}, {"MFA", d.MFA != nil}, {"OIDC", d.OIDC != nil}, {"Tokens", d.Tokens != nil}, {"Metrics", d.Metrics != nil},
		{"Health", d.Health != nil}, {"DB", d.DB != nil}, {"Leases", d.Leases != nil},
		{"SessionKey", len(d.SessionKey) > 0}, {"Static", d.Static != nil}, {"Now", d.Now != nil}, {"Version", d.Version != ""},
	} {
		if !f.set {
			return f.name
		}
	}
	return ""
}

// server carries what middleware and handlers share.
type server struct {
	Deps
	sessions *sessionStore
	assetTag string
}

// New returns the console's HTTP handler: the echo instance with every route,
// middleware and the error handler installed.
func New(d Deps) (*echo.Echo, error) {
	e, _, err := newServer(d)
	return e, err
}

// newServer is New plus the route policy table, which the route × role test
// walks.
func newServer(d Deps) (*echo.Echo, *routes, error) {
	if name := d.missing(); name != "" {
		return nil, nil, fmt.Errorf("handlers: new: Deps.%s is missing", name)
	}
	if len(d.SessionKey) < 32 {
		return nil, nil, errors.New("handlers: new: session key shorter than 32 bytes")
	}
	if d.Fleet != d.Overviews.Fleet() {
		return nil, nil, errors.New("handlers: new: the overview reads another Fleet than the pages")
	}
	tag, err := assetTag(d.Static)
	if err != nil {
		return nil, nil, fmt.Errorf("handlers: new: %w", err)
	}
	s := &server{Deps: d, assetTag: tag}
	s.sessions = newSessionStore(d.Auth, d.SessionKey, d.SecureCookies, d.Auth.Config().AbsoluteTimeout)

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Trust only the TCP peer for the client address: a header anyone can set
	// must not pick the login throttle's key. (Behind a proxy, configure it.)
	e.IPExtractor = echo.ExtractIPDirect()
	if len(d.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range d.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.HTTPErrorHandler = s.handleError
	r := s.routes(e)
	return e, r, nil
}

// assetTag hashes the static files, so their URLs change when they do and
// browsers may cache them for long.
func assetTag(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("asset tag: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// render renders component into a buffer first, so that a failed render
// becomes a clean error page instead of half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX reports whether the request wants a fragment: an htmx request that
// is not a boosted navigation.
func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true"
}

// seeOther redirects with 303, the answer to a successful POST.
func seeOther(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}
