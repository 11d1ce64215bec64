package handlers

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
)

// healthz answers 200 "ok" while the process serves requests.
func healthz(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.String(http.StatusOK, "ok")
}

type accountChecker interface {
	CheckAll(ctx context.Context) error
}

// readyStatus is the /readyz body.
type readyStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// readyz answers 200 when the database is reachable and every account can
// sign in upstream, else 503 with the reason as JSON.
func readyz(db Pinger, accounts accountChecker) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
		defer cancel()
		if err := db.Ping(ctx); errors.Is(err, app.ErrCorrupt) {
			return c.JSON(http.StatusServiceUnavailable, readyStatus{Status: "unavailable", Reason: "database: damaged (PRAGMA quick_check failed at start); restore a backup"})
		} else if err != nil {
			return c.JSON(http.StatusServiceUnavailable, readyStatus{Status: "unavailable", Reason: "database: not reachable"})
		}
		if err := accounts.CheckAll(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, readyStatus{Status: "unavailable", Reason: "upstream: " + err.Error()})
		}
		return c.JSON(http.StatusOK, readyStatus{Status: "ok"})
	}
}

// staticFiles serves the embedded files. A URL carrying the current asset
// tag may be cached for a year: the tag changes when the files do.
func staticFiles(fsys fs.FS, tag string) echo.HandlerFunc {
	h := http.StripPrefix("/static/", http.FileServerFS(fsys))
	return func(c echo.Context) error {
		name := c.Param("*")
		if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() {
			return echo.ErrNotFound // no directory listings
		}
		if c.QueryParam("v") == tag {
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
