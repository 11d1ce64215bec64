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

// leaseHolder is the background work this replica holds (*app.Leases).
type leaseHolder interface {
	Held(ctx context.Context) ([]string, error)
}

// readyStatus is the /readyz body.
type readyStatus struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Database is "ok", "unreachable" or "damaged".
	Database string `json:"database"`
	// Leases names the background work this replica holds ("sync:3",
	// "alerts:3"): with several replicas on one database, each account's
	// work is on exactly one of them.
	Leases []string `json:"leases"`
}

// readyz answers 200 when the database is reachable and every account can
// sign in upstream, else 503 with the reason as JSON; either way it says
// how the database is and which leases this replica holds.
func readyz(db Pinger, accounts accountChecker, leases leaseHolder) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Second)
		defer cancel()
		st := readyStatus{Status: "ok", Database: "ok", Leases: []string{}}
		if err := db.Ping(ctx); errors.Is(err, app.ErrCorrupt) {
			st.Status, st.Database, st.Reason = "unavailable", "damaged", "database: damaged (PRAGMA quick_check failed at start); restore a backup"
			return c.JSON(http.StatusServiceUnavailable, st)
		} else if err != nil {
			st.Status, st.Database, st.Reason = "unavailable", "unreachable", "database: not reachable"
			return c.JSON(http.StatusServiceUnavailable, st)
		}
		if held, err := leases.Held(ctx); err == nil {
			st.Leases = held
		}
		if err := accounts.CheckAll(ctx); err != nil {
			st.Status, st.Reason = "unavailable", "upstream: "+err.Error()
			return c.JSON(http.StatusServiceUnavailable, st)
		}
		return c.JSON(http.StatusOK, st)
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
