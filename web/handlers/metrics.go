package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

// metricsEndpoint serves GET /metrics in the Prometheus text format to a
// scraper that presents RCBU_WEB_METRICS_TOKEN as a bearer token or comes
// from an address in RCBU_WEB_METRICS_ALLOW: every series. A console user's
// personal access token also reads it, limited to the series of the
// accounts the user sees (metrics.Scoped; an admin sees every account's).
// With neither a token nor an allow list configured the endpoint does not
// exist: 404, as for any unknown path. Refusals are plain text: a scraper
// is not a browser to send to the sign-in page.
func metricsEndpoint(m *metrics.Metrics, tokens tokenAuthenticator, accounts accountLister, log *slog.Logger) echo.HandlerFunc {
	if !m.Enabled() {
		return func(echo.Context) error { return echo.ErrNotFound }
	}
	opts := promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// One broken collector must not hide the others' metrics.
		ErrorHandling: promhttp.ContinueOnError,
		// The gzip middleware compresses already.
		DisableCompression: true,
		// Scrapes queue rather than pile up on the state collector.
		MaxRequestsInFlight: 4,
	}
	h := promhttp.HandlerFor(m.Registry(), opts)
	return func(c echo.Context) error {
		addr, _ := netip.ParseAddr(c.RealIP())
		bearer, _ := bearerToken(c.Request())
		err := m.Authorize(bearer, addr)
		if err != nil && bearer != "" {
			if u, _, terr := tokens.Authenticate(c.Request().Context(), bearer); terr == nil {
				list, lerr := accounts.List(c.Request().Context())
				if lerr != nil {
					return lerr
				}
				var ids []string
				for _, a := range u.VisibleAccounts(list) {
					ids = append(ids, a.ID.String())
				}
				// The state collector refreshes once for concurrent scrapes,
				// so a user's scrapes add no upstream load of their own.
				promhttp.HandlerFor(m.Scoped(ids), opts).ServeHTTP(c.Response(), c.Request())
				return nil
			}
		}
		if err != nil {
			c.Response().Header().Set("Cache-Control", "no-store")
			switch {
			case errors.Is(err, app.ErrUnauthorized):
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="rcbu-console metrics"`)
				return c.String(http.StatusUnauthorized, "401 unauthorized: send Authorization: Bearer <RCBU_WEB_METRICS_TOKEN or a personal access token>\n")
			case errors.Is(err, app.ErrForbidden):
				return c.String(http.StatusForbidden, "403 forbidden: this address is not in RCBU_WEB_METRICS_ALLOW\n")
			default:
				return echo.ErrNotFound
			}
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// observeLatency times every request into the HTTP latency histogram, by
// route template (never the raw path: ids would make series without end),
// method and status class. It sits outside the request logger, whose
// error handling has written the final status by the time it returns.
func observeLatency(m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil && !c.Response().Committed {
				status, _, _ = classify(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			m.ObserveHTTP(route, c.Request().Method, status, time.Since(start))
			return err
		}
	}
}
