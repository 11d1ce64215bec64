package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/web/templates"
)

// maintainer is what the maintenance page needs from app.History.
type maintainer interface {
	Stats(ctx context.Context) (app.HistoryStats, error)
	Prune(ctx context.Context, actor app.User, days int) (int64, error)
	Checkpoint(ctx context.Context, actor app.User) (app.CheckpointResult, error)
	Backup(ctx context.Context, actor app.User, path string) error
}

// maintenancePage shows the history and database figures and the actions.
func (s *server) maintenancePage(m maintainer) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := s.maintenanceView(c, m, "", nil)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, templates.MaintenancePage(v))
	}
}

func (s *server) maintenanceView(c echo.Context, m maintainer, days string, errs templates.FormErrors) (templates.MaintenanceView, error) {
	st, err := m.Stats(c.Request().Context())
	if err != nil {
		return templates.MaintenanceView{}, err
	}
	u := mustUser(c)
	now, loc := s.Now(), u.Location()
	tv := func(t time.Time) *templates.TimeView { x := templates.NewTimeView(t, now, loc); return &x }
	v := templates.MaintenanceView{
		Meta: s.meta(c, "Maintenance", templates.NavAdmin),
		Stats: []templates.ReportField{
			{Label: "Report snapshots", Value: templates.Count(st.Reports)},
			{Label: "Errors in them", Value: templates.Count(st.Errors)},
			{Label: "Oldest finished", Time: tv(st.Oldest)},
			{Label: "Newest finished", Time: tv(st.Newest)},
		},
		ServerManaged: st.ServerManaged,
		KeepDays:      "Snapshots are kept forever (RCBU_WEB_HISTORY_KEEP_DAYS is not set).",
		Days:          templates.Field{Name: "days", Label: "Delete snapshots older than (days)", Type: "number", Value: days, Hint: "Whole days, from 1", Error: errs["days"]},
		Errors:        errs,
	}
	if st.ServerManaged {
		// PostgreSQL: the schema's size; the server's log is not the console's.
		v.Stats = append(v.Stats, templates.ReportField{Label: "Tables and indexes", Value: templates.Bytes(st.DBBytes)})
	} else {
		v.Stats = append(v.Stats,
			templates.ReportField{Label: "Database file", Value: templates.Bytes(st.DBBytes)},
			templates.ReportField{Label: "Write-ahead log", Value: templates.Bytes(st.WALBytes)})
	}
	if s.HistoryKeepDays > 0 {
		v.KeepDays = fmt.Sprintf("Snapshots older than %d days are deleted automatically (RCBU_WEB_HISTORY_KEEP_DAYS).", s.HistoryKeepDays)
	}
	return v, nil
}

// pruneReports asks for confirmation, then prunes; both steps are POSTs
// from real forms, so it works without JavaScript.
func (s *server) pruneReports(m maintainer) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		raw := strings.TrimSpace(c.FormValue("days"))
		days, err := strconv.Atoi(raw)
		if err != nil || days < 1 || days > 100000 {
			v, verr := s.maintenanceView(c, m, raw, templates.FormErrors{"days": "Enter a whole number of days from 1 to 100000."})
			if verr != nil {
				return verr
			}
			return render(c, http.StatusUnprocessableEntity, templates.MaintenancePage(v))
		}
		if c.FormValue("confirm") != "yes" {
			v, err := s.maintenanceView(c, m, raw, nil)
			if err != nil {
				return err
			}
			before := s.Now().Add(-time.Duration(days) * 24 * time.Hour)
			v.Confirm = &templates.PruneConfirmView{Days: strconv.Itoa(days), Before: templates.AbsTime(before, u.Location())}
			return render(c, http.StatusOK, templates.MaintenancePage(v))
		}
		n, err := m.Prune(c.Request().Context(), u, days)
		if err != nil {
			return err
		}
		if err := addFlash(c, templates.FlashSuccess, fmt.Sprintf("Deleted %s older than %d days.", templates.Plural(n, "report snapshot", "report snapshots"), days)); err != nil {
			return err
		}
		return seeOther(c, "/admin/maintenance")
	}
}

// checkpointDB runs a WAL checkpoint.
func (s *server) checkpointDB(m maintainer) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		res, err := m.Checkpoint(c.Request().Context(), u)
		if err != nil {
			return err
		}
		kind, msg := templates.FlashSuccess, fmt.Sprintf("Checkpoint done: %d WAL frames copied into the database; the WAL is truncated.", res.Checkpointed)
		switch {
		case res.ServerManaged:
			kind, msg = templates.FlashInfo, "Nothing to do: PostgreSQL checkpoints its own write-ahead log."
		case res.Busy:
			kind, msg = templates.FlashInfo, fmt.Sprintf("Checkpoint partly done (%d of %d frames): readers were busy. Nothing is lost; try again later to truncate the WAL.", res.Checkpointed, res.LogFrames)
		}
		if err := addFlash(c, kind, msg); err != nil {
			return err
		}
		return seeOther(c, "/admin/maintenance")
	}
}

// backupDB makes a VACUUM INTO copy in a temporary directory, streams it,
// and removes it.
func (s *server) backupDB(m maintainer) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := mustUser(c)
		ctx := c.Request().Context()
		dir, err := os.MkdirTemp("", "rcbu-backup-")
		if err != nil {
			return fmt.Errorf("database backup: %w", err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "rcbu-console.db")
		if err := m.Backup(ctx, u, path); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("database backup: %w", err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("database backup: %w", err)
		}
		resp := c.Response()
		name := "rcbu-console-" + s.Now().UTC().Format("20060102-150405") + ".db"
		resp.Header().Set(echo.HeaderContentType, "application/vnd.sqlite3")
		resp.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		resp.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		resp.Header().Set("Cache-Control", "no-store")
		resp.WriteHeader(http.StatusOK)
		if _, err := io.Copy(resp, f); err != nil && ctx.Err() == nil {
			s.Log.ErrorContext(ctx, "database_backup_send_failed", slog.Any("err", err))
		}
		return nil
	}
}
