package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/rcbu-console/rcbu-console/app"
)

// Keys of values the middleware puts in the echo context.
const (
	ctxSession = "rcbu.session"
	ctxUser    = "rcbu.user"
	ctxScope   = "rcbu.scope"
)

// contentSecurityPolicy allows our own files only: no inline script and no
// inline style (htmx is configured not to inject its indicator styles).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

// securityHeaders sets the CSP and the other protective headers on every
// response; with secure cookies (served over HTTPS) also HSTS, so a browser
// never again tries the console over plain HTTP.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			return next(c)
		}
	}
}

// forbiddenCrossOriginPage is what a form posted from another site gets.
const forbiddenCrossOriginPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Forbidden · RCBU Console</title></head>
<body><main><h1>Forbidden</h1><p>This request came from another site. <a href="/">Go back to the console</a> and try again.</p></main></body>
</html>
`

// crossOriginProtection refuses state-changing requests from other origins
// (CSRF) with Go's http.CrossOriginProtection, which checks Sec-Fetch-Site
// and Origin; safe methods pass.
func crossOriginProtection() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A small page of its own (no session is read for a refused
		// request), with a language, a title and a main landmark, so that
		// a screen reader can say where the user landed.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(forbiddenCrossOriginPage))
	}))
	return echo.WrapMiddleware(cop.Handler)
}

// requestLogger logs one line per request: method, path (never the query,
// which may carry secrets), status, duration and request id.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod:    true,
		LogURIPath:   true,
		LogStatus:    true,
		LogLatency:   true,
		LogRequestID: true,
		LogRemoteIP:  true,
		HandleError:  true, // let the error handler set the status before the line is logged
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "http_request",
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("duration", v.Latency),
				slog.String("request_id", v.RequestID),
				slog.String("remote_ip", v.RemoteIP),
			)
			return nil
		},
	})
}

// errPanic marks an error recovered from a panic; it was logged with its stack.
var errPanic = errors.New("panic")

// recoverer turns a panic into a logged error and a 500 page.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		StackSize: 8 << 10,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.ErrorContext(c.Request().Context(), "panic_recovered",
				slog.String("method", c.Request().Method),
				slog.String("path", c.Request().URL.Path),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.Any("err", err),
				slog.String("stack", string(stack)),
			)
			return fmt.Errorf("%w: %w", errPanic, err)
		},
	})
}

// requestContext hands the client address to app, for the audit log and
// the login throttle, and gives the request its note of a store found
// away (app.StoreAway: the page's banner, the refusal of changes).
func requestContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(app.WithStoreWatch(app.WithClientIP(r.Context(), c.RealIP()))))
		return next(c)
	}
}

// skipNoSession lists paths that need neither a session nor a user. The
// JSON API and /metrics authenticate with tokens of their own and never
// with the session cookie.
func skipNoSession(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/static/") || p == "/healthz" || p == "/readyz" ||
		strings.HasPrefix(p, "/api/") || p == "/metrics"
}

// loadSession loads the session, the signed-in user (a disabled or deleted
// user counts as nobody) and the account scope into the echo context.
//
// While the database is away these come from the replica's last good reads
// (app.LastGoodFor), so the pages that need only Cloud Backup still work;
// anything but a read is then refused before it starts (errStoreAway),
// since it could be neither audited nor held by a lease.
func (s *server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if skipNoSession(c) {
			return next(c)
		}
		sess, err := s.sessions.New(c.Request(), sessionCookie)
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		if uid, ok := sess.Values[valUserID].(app.UserID); ok {
			u, err := s.Users.Get(c.Request().Context(), uid)
			switch {
			case errors.Is(err, app.ErrNotFound):
			case err != nil:
				return err
			case !u.Disabled:
				c.Set(ctxUser, u)
				// Signed-in pages hold account data: keep them out of every
				// cache, so Back after Sign out shows nothing.
				c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
				scope, err := s.resolveScope(c, u, sess.Values[valAccount])
				if err != nil {
					return err
				}
				c.Set(ctxScope, scope)
			}
		}
		if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead && app.StoreAway(c.Request().Context()) {
			return errStoreAway
		}
		return next(c)
	}
}

// errStoreAway refuses a change while the database is away.
var errStoreAway = fmt.Errorf("refused while the database is away: %w", app.ErrUnavailable)

// requireRole lets the request through only for a signed-in user with at
// least role min. Nobody signed in: a redirect to /login (htmx: 401 with
// HX-Redirect). Too low a role: 403. A user who must change their password
// goes to /password/change first.
func requireRole(min app.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := currentUser(c)
			if !ok {
				to := loginURL(c)
				if isHTMX(c) {
					c.Response().Header().Set("HX-Redirect", to)
					return echo.NewHTTPError(http.StatusUnauthorized, "Please sign in.")
				}
				return seeOther(c, to)
			}
			if !u.Role.Allows(min) {
				return fmt.Errorf("%s needs the %s role: %w", c.Request().URL.Path, min.Label(), app.ErrForbidden)
			}
			if u.MustChangePassword && c.Path() != "/password/change" && c.Path() != "/logout" {
				// A password somebody else chose (printed at the first
				// start, or set by an admin) opens nothing but its change.
				if isHTMX(c) {
					c.Response().Header().Set("HX-Redirect", "/password/change")
					return c.NoContent(http.StatusNoContent)
				}
				return seeOther(c, "/password/change")
			}
			return next(c)
		}
	}
}

// loginURL is /login, remembering a GET page to come back to.
func loginURL(c echo.Context) string {
	r := c.Request()
	if r.Method != http.MethodGet || r.URL.Path == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(r.URL.RequestURI())
}

// localPath returns p if it is a path on this site, else "/": an open
// redirect must not send a user elsewhere after signing in.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() || u.Host != "" {
		return "/"
	}
	return p
}

// currentUser returns the signed-in user, if anyone is signed in. Pages that
// anyone may see (the sign-in page, the layout's header) use it.
func currentUser(c echo.Context) (app.User, bool) {
	u, ok := c.Get(ctxUser).(app.User)
	return u, ok
}

// mustUser returns the signed-in user of a route registered with a minimum
// role. requireRole runs before every such handler and answers for a visitor
// who is not signed in, so there is always a user here. If a route ever
// skipped requireRole it panics (the recover middleware makes that a logged
// 500) rather than act, and write audit rows, as the zero user.
func mustUser(c echo.Context) app.User {
	u, ok := currentUser(c)
	if !ok {
		panic("handlers: " + c.Request().Method + " " + c.Path() + " has no signed-in user: is it registered without a minimum role?")
	}
	return u
}

// accountScope is the account(s) the pages show: the header switcher's choice.
type accountScope struct {
	All      bool          // "All accounts" chosen (only offered with several)
	Current  app.Account   // the chosen account, when !All and there is one
	Accounts []app.Account // every account in use
}

// InScope returns the accounts a page should show.
func (a accountScope) InScope() []app.Account {
	if a.All {
		return a.Accounts
	}
	if a.Current.ID != 0 {
		return []app.Account{a.Current}
	}
	return nil
}

// currentAccount returns the selected account when exactly one is selected.
func currentAccount(c echo.Context) (app.Account, bool) {
	sc, _ := c.Get(ctxScope).(accountScope)
	return sc.Current, !sc.All && sc.Current.ID != 0
}

// scopeAccounts returns the accounts in scope: the selected one, or all.
func scopeAccounts(c echo.Context) []app.Account {
	sc, _ := c.Get(ctxScope).(accountScope)
	return sc.InScope()
}

// resolveScope turns the session's stored choice into the account scope,
// falling back to the first account when the choice is gone. Only the
// accounts the user has a grant on exist here: every page, list, count and
// lookup by id works within them, and the switcher offers nothing else.
func (s *server) resolveScope(c echo.Context, u app.User, stored any) (accountScope, error) {
	all, err := s.Accounts.List(c.Request().Context())
	if err != nil {
		return accountScope{}, err
	}
	list := u.VisibleAccounts(all)
	sc := accountScope{Accounts: list}
	choice, _ := stored.(string)
	if choice == "all" && len(list) > 1 {
		sc.All = true
		return sc, nil
	}
	for _, a := range list {
		if a.ID.String() == choice {
			sc.Current = a
			return sc, nil
		}
	}
	if len(list) > 0 {
		sc.Current = list[0]
	}
	return sc, nil
}

// scopeRole is the user's role over the accounts a page shows: their role
// on the chosen account, or with "All accounts" their highest. It decides
// which buttons a list shows; each action still checks the role on its
// object's own account.
func scopeRole(c echo.Context, u app.User) app.Role {
	if a, ok := currentAccount(c); ok {
		return u.RoleOn(a.ID)
	}
	return u.Role
}

// creatorScope is the part of the scope where the user may create and run:
// the accounts they are Creator or Admin on. Forms that pick an agent to
// act on offer only these.
func creatorScope(c echo.Context) app.Scope {
	u := mustUser(c)
	var out []app.Account
	for _, a := range scopeAccounts(c) {
		if u.RoleOn(a.ID).Allows(app.RoleCreator) {
			out = append(out, a)
		}
	}
	return app.NewScope(out...)
}
