package handlers

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/words"
)

// reportCounts are a report's file, byte and error counts, under the same
// JSON names in the export and in /api/v1/reports.
type reportCounts struct {
	FilesSearched int64 `json:"files_searched"`
	BytesSearched int64 `json:"bytes_searched"`
	FilesBackedUp int64 `json:"files_backed_up"`
	BytesBackedUp int64 `json:"bytes_backed_up"`
	FilesRestored int64 `json:"files_restored"`
	BytesRestored int64 `json:"bytes_restored"`
	ErrorCount    int64 `json:"error_count"`
}

func countsOf(r app.Report) reportCounts {
	return reportCounts{
		FilesSearched: r.FilesSearched, BytesSearched: r.BytesSearched, FilesBackedUp: r.FilesBackedUp, BytesBackedUp: r.BytesBackedUp,
		FilesRestored: r.FilesRestored, BytesRestored: r.BytesRestored, ErrorCount: r.ErrorCount,
	}
}

// exportRow is one report in the JSON export; CSV has the same columns.
type exportRow struct {
	AccountID  int64  `json:"account_id"`
	Account    string `json:"account"`
	Kind       string `json:"kind"`
	JobID      int64  `json:"job_id"`
	AgentID    int64  `json:"agent_id"`
	AgentName  string `json:"agent_name"`
	ConfigID   int64  `json:"configuration_id"`
	ConfigName string `json:"configuration_name"`
	BackupID   int64  `json:"backup_id"`
	State      string `json:"state"`
	CanRestore bool   `json:"can_restore"`
	Started    string `json:"started"`
	Finished   string `json:"finished"`
	DurationS  int64  `json:"duration_seconds"`
	reportCounts
	Reason         string `json:"reason"`
	Diagnostics    string `json:"diagnostics"`
	ParseError     string `json:"parse_error"`
	DestinationID  int64  `json:"destination_agent_id"`
	DestinationNam string `json:"destination_name"`
	// StateWords and ReasonWords say state and reason as the pages do.
	StateWords  string `json:"state_words"`
	ReasonWords string `json:"reason_words"`
}

var exportHeader = []string{"account_id", "account", "kind", "job_id", "agent_id", "agent_name", "configuration_id", "configuration_name",
	"backup_id", "state", "can_restore", "started", "finished", "duration_seconds", "files_searched", "bytes_searched", "files_backed_up",
	"bytes_backed_up", "files_restored", "bytes_restored", "error_count", "reason", "diagnostics", "parse_error", "destination_agent_id", "destination_name",
	"state_words", "reason_words"}

func exportRowOf(r app.Report, account string) exportRow {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return exportRow{
		AccountID: int64(r.AccountID), Account: account, Kind: string(r.Kind), JobID: r.JobID, AgentID: int64(r.AgentID), AgentName: r.AgentName,
		ConfigID: int64(r.ConfigID), ConfigName: r.ConfigName, BackupID: int64(r.BackupID), State: r.State, CanRestore: r.CanRestore,
		Started: ts(r.Started), Finished: ts(r.Finished), DurationS: int64(r.Duration / time.Second),
		reportCounts: countsOf(r), Reason: r.Reason, Diagnostics: r.Diagnostics, ParseError: r.ParseError, DestinationID: int64(r.DestAgentID), DestinationNam: r.DestName,
		StateWords: words.State(r.State), ReasonWords: words.Reason(r.Reason),
	}
}

func (e exportRow) record() []string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	return []string{i(e.AccountID), csvSafe(e.Account), e.Kind, i(e.JobID), i(e.AgentID), csvSafe(e.AgentName), i(e.ConfigID), csvSafe(e.ConfigName),
		i(e.BackupID), csvSafe(e.State), strconv.FormatBool(e.CanRestore), e.Started, e.Finished, i(e.DurationS), i(e.FilesSearched), i(e.BytesSearched),
		i(e.FilesBackedUp), i(e.BytesBackedUp), i(e.FilesRestored), i(e.BytesRestored), i(e.ErrorCount), csvSafe(e.Reason), csvSafe(e.Diagnostics),
		csvSafe(e.ParseError), i(e.DestinationID), csvSafe(e.DestinationNam), csvSafe(e.StateWords), csvSafe(e.ReasonWords)}
}

// exportFlushEvery is how many rows go out between flushes: the export
// streams, so memory stays flat however many rows match.
const exportFlushEvery = 500

// exportFormat is a file format of the report export. Only its constants
// exist: a misspelt one does not compile, and a value outside them stops
// the console at start (routes builds every export handler).
type exportFormat int

const (
	exportCSV exportFormat = iota + 1
	exportJSON
)

// rowEncoder writes an export: open before the first row, row for each,
// close after the last; flush pushes buffered rows to the response.
type rowEncoder interface {
	open() error
	row(exportRow) error
	close() error
	flush()
}

// spec is the format's file extension, content type and encoder.
func (f exportFormat) spec() (ext, contentType string, newEncoder func(*echo.Response) rowEncoder) {
	switch f {
	case exportCSV:
		return "csv", "text/csv; charset=utf-8", func(r *echo.Response) rowEncoder { return &csvRows{resp: r, w: newCSVWriter(r)} }
	case exportJSON:
		return "json", "application/json", func(r *echo.Response) rowEncoder { return &jsonRows{resp: r, enc: json.NewEncoder(r)} }
	default:
		panic(fmt.Sprintf("handlers: export format %d does not exist", int(f)))
	}
}

// csvRows writes the export as CSV with a header line.
type csvRows struct {
	resp *echo.Response
	w    *csvWriter
}

func (e *csvRows) open() error { return e.w.Write(exportHeader) }
func (e *csvRows) row(r exportRow) error {
	if err := e.w.Write(r.record()); err != nil {
		return err
	}
	return e.w.Error()
}
func (e *csvRows) close() error { e.w.Flush(); return e.w.Error() }
func (e *csvRows) flush()       { e.w.Flush(); e.resp.Flush() }

// jsonRows writes the export as one JSON array, a row a line.
type jsonRows struct {
	resp *echo.Response
	enc  *json.Encoder
	n    int
}

func (e *jsonRows) open() error { _, err := e.resp.Write([]byte("[\n")); return err }
func (e *jsonRows) row(r exportRow) error {
	if e.n++; e.n > 1 {
		if _, err := e.resp.Write([]byte(",")); err != nil {
			return err
		}
	}
	return e.enc.Encode(r)
}
func (e *jsonRows) close() error { _, err := e.resp.Write([]byte("]\n")); return err }
func (e *jsonRows) flush()       { e.resp.Flush() }

// exportReports streams every report matching the filters in the given
// format, row by row from the database. Filter values that make no sense
// are ignored, as on the page.
func (s *server) exportReports(hist historyReader, format exportFormat) echo.HandlerFunc {
	ext, contentType, newEncoder := format.spec()
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		u := mustUser(c)
		accts := scopeAccounts(c)
		rq := parseReportQuery(c, accts, u.Location())
		if err := resolveNames(ctx, hist, &rq); err != nil {
			return err
		}
		names := map[app.AccountID]string{}
		for _, a := range accts {
			names[a.ID] = a.Name
		}
		resp := c.Response()
		name := "reports-" + s.Now().In(u.Location()).Format("20060102-1504") + "." + ext
		resp.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		resp.Header().Set("Cache-Control", "no-store")
		resp.Header().Set(echo.HeaderContentType, contentType)
		resp.WriteHeader(http.StatusOK)
		enc := newEncoder(resp)
		n := 0
		err := enc.open()
		if err == nil {
			err = hist.Export(ctx, rq.f, func(r app.Report) error {
				if err := enc.row(exportRowOf(r, names[r.AccountID])); err != nil {
					return err
				}
				if n++; n%exportFlushEvery == 0 {
					enc.flush()
				}
				return nil
			})
		}
		if err == nil {
			err = enc.close()
		}
		if err != nil && ctx.Err() == nil {
			// The status is out already: log, and leave the file cut short
			// (a JSON export is then visibly invalid).
			s.Log.ErrorContext(ctx, "report_export_failed", slog.String("format", ext), slog.Int("rows", n), slog.Any("err", err))
		}
		return nil
	}
}
