package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// ReportKind says whether a report snapshot describes a backup or a restore.
type ReportKind string

// The report kinds. The values are stored and appear in URLs.
const (
	KindBackup  ReportKind = "backup"
	KindRestore ReportKind = "restore"
)

// ParseReportKind parses "backup" or "restore".
func ParseReportKind(s string) (ReportKind, error) {
	switch ReportKind(s) {
	case KindBackup, KindRestore:
		return ReportKind(s), nil
	}
	return "", fmt.Errorf("report kind %q: %w", s, ErrInvalid)
}

// SnapshotID identifies a stored report snapshot (a row, not a job).
type SnapshotID int64

// String returns the id in decimal.
func (id SnapshotID) String() string { return strconv.FormatInt(int64(id), 10) }

// Report is a snapshot of one finished backup or restore report: the
// extracted columns, the error list and the body exactly as the API sent it.
type Report struct {
	ID          SnapshotID
	AccountID   AccountID
	Kind        ReportKind
	JobID       int64 // the BackupId or RestoreId
	AgentID     rcbu.AgentID
	AgentName   string
	ConfigID    rcbu.ConfigurationID
	ConfigName  string
	BackupID    rcbu.BackupID // a restore's source backup; a backup's own id
	DestAgentID rcbu.AgentID  // restores: where the files went
	DestName    string
	State       string // as the API spells it: Completed, CompletedWithErrors, Failed, ...
	CanRestore  bool
	Started     time.Time
	Finished    time.Time
	Duration    time.Duration

	FilesSearched int64
	BytesSearched int64
	FilesBackedUp int64
	BytesBackedUp int64
	FilesRestored int64
	BytesRestored int64
	ErrorCount    int64

	Reason      string
	Diagnostics string
	// ParseError is non-empty when Raw did not decode; the columns then come
	// from the activity item that announced the job.
	ParseError string
	Raw        []byte // filled by Get, not by lists
	Fetched    time.Time
	Errors     []ReportErrorEntry // filled by Get and by parsing, not by lists
}

// Files returns the files the job moved: backed up or restored.
func (r Report) Files() int64 { return r.FilesBackedUp + r.FilesRestored }

// Bytes returns the bytes the job moved: backed up or restored.
func (r Report) Bytes() int64 { return r.BytesBackedUp + r.BytesRestored }

// Outcome classifies the final state for charts: success, warning, failure
// or neutral (stopped, skipped, unknown).
func (r Report) Outcome() RunOutcome { return OutcomeOf(r.State) }

// RunOutcome is a report state reduced to what a heatmap shows.
type RunOutcome int

// The outcomes, from best to worst-but-neutral.
const (
	RunNeutral RunOutcome = iota // Stopped, Skipped, unknown
	RunSuccess                   // Completed
	RunWarning                   // CompletedWithErrors
	RunFailure                   // Failed, Missed
)

// OutcomeOf maps a state name to its outcome, case-insensitively.
func OutcomeOf(state string) RunOutcome {
	switch strings.ToLower(strings.ReplaceAll(state, " ", "")) {
	case "completed":
		return RunSuccess
	case "completedwitherrors":
		return RunWarning
	case "failed", "missed":
		return RunFailure
	}
	return RunNeutral
}

// ReportStates lists the final states a report can have, for filters.
func ReportStates() []string {
	return []string{"Completed", "CompletedWithErrors", "Failed", "Missed", "Stopped", "Skipped"}
}

// ReportErrorEntry is one entry of a report's error list.
type ReportErrorEntry struct {
	ListIndex   int64
	ErrorType   int64
	Code        int64 // ExceptionCode
	Path        string
	Description string // ErrorDesc
	Exception   string // ExceptionDesc
	Details     string // ExceptionDetails
}

// unixOrZero is t as stored: unix seconds, 0 for the zero time.
func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// ReportPage is one page of the history in sort order, with whether there
// are rows before (Prev) and after (Next) it.
type ReportPage struct {
	Reports []Report
	HasPrev bool
	HasNext bool
}

// AgentDay counts one agent's backup outcomes on one day.
type AgentDay struct {
	AccountID AccountID
	AgentID   rcbu.AgentID
	AgentName string
	Day       int // days since the start of the range
	Success   int
	Warning   int
	Failure   int
	Neutral   int
}

// RunPoint is one finished backup run, for the per-run charts.
type RunPoint struct {
	JobID      int64
	ConfigName string
	AgentName  string
	State      string
	Started    time.Time
	Finished   time.Time
	Duration   time.Duration
	Files      int64
	Bytes      int64
}

// SyncState is where an account's report sync got to.
type SyncState struct {
	AccountID  AccountID
	Cursor     time.Time // every finished job up to this activity time is stored
	Backfilled bool      // the first full walk of completed backups is done
	LastStart  time.Time
	LastEnd    time.Time
	LastOK     time.Time
	LastError  string
	LastStored int
}

// HistoryStats summarises the stored snapshots.
type HistoryStats struct {
	Reports  int64
	Errors   int64
	Oldest   time.Time
	Newest   time.Time
	DBBytes  int64 // the database file, without the WAL (PostgreSQL: the schema's tables and indexes)
	WALBytes int64
	// ServerManaged is set when a database server keeps the data, its
	// write-ahead log and its backups (PostgreSQL): there is no file of
	// the console's to checkpoint or copy.
	ServerManaged bool
}

// CheckpointResult is the outcome of a WAL checkpoint.
type CheckpointResult struct {
	// ServerManaged is set when the database server checkpoints its own
	// log (PostgreSQL): nothing was done, and the counts are zero.
	ServerManaged bool
	Busy          bool // a reader kept the checkpoint from completing
	LogFrames     int
	Checkpointed  int
}

// HistoryStore is the persistence History needs.
type HistoryStore interface {
	// InsertReports stores snapshots in one transaction, skipping those whose
	// (account, kind, job) is already stored; it returns how many were new.
	InsertReports(ctx context.Context, rs []Report) (int, error)
	// StoredJobs returns which of ids are stored for the account and kind.
	StoredJobs(ctx context.Context, account AccountID, kind ReportKind, ids []int64) (map[int64]bool, error)
	// Report returns one snapshot with its errors and raw body, looked up in
	// accounts; a missing one wraps ErrNotFound.
	Report(ctx context.Context, accounts []AccountID, kind ReportKind, jobID int64) (Report, error)
	// ListReports returns up to f.Limit snapshots matching f in the order
	// f asks for (reversed when paging Before).
	ListReports(ctx context.Context, f ReportFilter) ([]Report, error)
	// EachReport calls fn for every snapshot matching f in sort order,
	// streaming from the database; f.Limit and cursors are ignored.
	EachReport(ctx context.Context, f ReportFilter, fn func(Report) error) error
	// AgentDays counts backup outcomes per agent and day from from (days are
	// 24 h buckets from from).
	AgentDays(ctx context.Context, accounts []AccountID, from time.Time, days int) ([]AgentDay, error)
	// RunPoints returns the finished backups of an agent or a configuration
	// since from, oldest first.
	RunPoints(ctx context.Context, accounts []AccountID, agent rcbu.AgentID, config rcbu.ConfigurationID, from time.Time) ([]RunPoint, error)
	// RecentRuns is the history an estimate is made from.
	EstimateStore
	// SyncState returns an account's sync state (the zero state when none).
	SyncState(ctx context.Context, account AccountID) (SyncState, error)
	// SaveSyncState writes an account's sync state.
	SaveSyncState(ctx context.Context, s SyncState) error
	// PruneReports deletes the snapshots finished before before and returns
	// how many went.
	PruneReports(ctx context.Context, before time.Time) (int64, error)
	// HistoryStats summarises the stored snapshots and the file sizes.
	HistoryStats(ctx context.Context) (HistoryStats, error)
	// Checkpoint runs a TRUNCATE WAL checkpoint.
	Checkpoint(ctx context.Context) (CheckpointResult, error)
	// VacuumInto writes a consistent copy of the database to path.
	VacuumInto(ctx context.Context, path string) error
	// ReportNames returns up to limit agents or configurations of the
	// accounts whose name matches text as m says, by name.
	ReportNames(ctx context.Context, accounts []AccountID, kind NameKind, text string, m NameMatch, limit int) ([]NamedObject, error)
	// ReportSnippets returns, for each snapshot of ids with an error that the
	// search q matches, that error's text around the matches, each match
	// between SnippetOpen and SnippetClose.
	ReportSnippets(ctx context.Context, ids []SnapshotID, q string) (map[SnapshotID]string, error)
	// EachOutcome calls fn with the end and state of every snapshot
	// matching f (in no particular order).
	EachOutcome(ctx context.Context, f ReportFilter, fn func(finished time.Time, state string)) error
}

// clientSource gives the signed-in API client of an account; *Accounts is one.
type clientSource interface {
	Client(ctx context.Context, id AccountID) (*rcbu.Client, error)
}

// Audit actions of the history and maintenance features.
const (
	ActionReportsSync     AuditAction = "reports.sync"
	ActionReportsPrune    AuditAction = "reports.prune"
	ActionDBCheckpoint    AuditAction = "db.checkpoint"
	ActionDBBackup        AuditAction = "db.backup"
	DefaultReportPageSize             = 50
	maxReportPageSize                 = 500
	maxQueryLen                       = 200
)

// History keeps report snapshots and answers the history pages: lists,
// single reports (snapshotting on view), charts and exports. Pages read
// SQLite only, except when a report is viewed that is not stored yet.
type History struct {
	store   HistoryStore
	clients clientSource
	audit   *Audit
	now     func() time.Time
	log     *slog.Logger

	// The heatmap is the overview's costliest read (tens of thousands of
	// runs aggregated on every load) and changes only when snapshots are
	// stored or pruned, which all go through History: each write bumps gen,
	// and a heatmap is reused while gen and its key are unchanged.
	mu       sync.Mutex
	gen      uint64
	heatmaps map[heatmapKey]heatmapEntry
	// shared, when set, is how long what was read under a generation may be
	// reused at most: with several replicas on one database, the others'
	// writes do not bump this one's gen (SetSharedStore). It applies only
	// while their notices are not heard (Caches).
	shared  time.Duration
	heard   bool
	notices changeNotices // the other replicas
}

// heatmapKey identifies one heatmap: the accounts, the first day and the
// zone, and the number of days.
type heatmapKey struct {
	accounts string
	from     int64
	loc      string
	days     int
}

type heatmapEntry struct {
	gen uint64
	hm  Heatmap
}

// maxCachedHeatmaps bounds the heatmap cache (one per scope, zone and day
// in use; a day's worth of users rarely needs more).
const maxCachedHeatmaps = 64

// NewHistory returns the history service.
func NewHistory(store HistoryStore, clients clientSource, audit *Audit, now func() time.Time, log *slog.Logger) *History {
	return &History{store: store, clients: clients, audit: audit, now: now, log: log, heatmaps: map[heatmapKey]heatmapEntry{}}
}

// List returns one page of snapshots matching f. An empty Accounts scope
// yields an empty page.
func (h *History) List(ctx context.Context, f ReportFilter) (ReportPage, error) {
	if len(f.Accounts) == 0 || f.Nothing {
		return ReportPage{}, nil
	}
	if f.Limit <= 0 || f.Limit > maxReportPageSize {
		f.Limit = DefaultReportPageSize
	}
	if f.Sort == "" {
		f.Sort = SortFinished
	}
	rows, more, err := fetchPage(f.Limit, func(n int) ([]Report, error) {
		f.Limit = n
		return h.store.ListReports(ctx, f)
	})
	if err != nil {
		return ReportPage{}, fmt.Errorf("list reports: %w", err)
	}
	var p ReportPage
	if f.Before != nil {
		// Fetched walking backwards from the cursor: put them in sort order.
		slices.Reverse(rows)
		p.HasPrev, p.HasNext = more, true
	} else {
		p.HasNext, p.HasPrev = more, f.After != nil
	}
	p.Reports = rows
	return p, nil
}

// Export calls fn for every snapshot matching f, in sort order, streaming.
func (h *History) Export(ctx context.Context, f ReportFilter, fn func(Report) error) error {
	if len(f.Accounts) == 0 || f.Nothing {
		return nil
	}
	if f.Sort == "" {
		f.Sort = SortFinished
	}
	f.After, f.Before = nil, nil
	if err := h.store.EachReport(ctx, f, fn); err != nil {
		return fmt.Errorf("export reports: %w", err)
	}
	return nil
}

// Get returns a stored report of one of accounts; when none is stored it
// asks the API of each account (the hint first, when set) and snapshots
// what it finds. A job that is unknown everywhere, or still running, is
// ErrNotFound.
func (h *History) Get(ctx context.Context, accounts []AccountID, kind ReportKind, jobID int64) (Report, error) {
	if len(accounts) == 0 || jobID <= 0 {
		return Report{}, fmt.Errorf("get report: %w", ErrNotFound)
	}
	r, err := h.store.Report(ctx, accounts, kind, jobID)
	if err == nil || !errors.Is(err, ErrNotFound) {
		if err != nil {
			return Report{}, fmt.Errorf("get report: %w", err)
		}
		return r, nil
	}
	var lastErr error
	for _, a := range accounts {
		err := h.snapshot(ctx, a, kind, jobID, nil)
		if err == nil {
			r, err := h.store.Report(ctx, []AccountID{a}, kind, jobID)
			if err != nil {
				return Report{}, fmt.Errorf("get report: %w", err)
			}
			return r, nil
		}
		if !errors.Is(err, rcbu.ErrNotFound) && !errors.Is(err, rcbu.ErrForbidden) {
			lastErr = err
		}
	}
	if lastErr != nil {
		return Report{}, fmt.Errorf("get report: %w", lastErr)
	}
	return Report{}, fmt.Errorf("get %s report %d: %w", kind, jobID, ErrNotFound)
}

// SnapshotBackup stores the report of a finished backup (a stored one is
// kept); while the backup runs the error wraps rcbu.ErrNotFound. History
// implements the Snapshotter that Ops calls when a job ends.
func (h *History) SnapshotBackup(ctx context.Context, account AccountID, id rcbu.BackupID) error {
	return h.snapshot(ctx, account, KindBackup, int64(id), nil)
}

// SnapshotRestore stores the report of a finished restore, as SnapshotBackup.
func (h *History) SnapshotRestore(ctx context.Context, account AccountID, id rcbu.RestoreID) error {
	return h.snapshot(ctx, account, KindRestore, int64(id), nil)
}

// snapshot fetches one report and stores it (a stored one is kept).
func (h *History) snapshot(ctx context.Context, account AccountID, kind ReportKind, jobID int64, hint *rcbu.Activity) error {
	stored, err := h.store.StoredJobs(ctx, account, kind, []int64{jobID})
	if err != nil {
		return fmt.Errorf("snapshot %s %d: %w", kind, jobID, err)
	}
	if stored[jobID] {
		return nil
	}
	cl, err := h.clients.Client(ctx, account)
	if err != nil {
		return fmt.Errorf("snapshot %s %d: %w", kind, jobID, err)
	}
	r, err := fetchReport(ctx, cl, account, kind, jobID, hint, h.now())
	if err != nil {
		return fmt.Errorf("snapshot %s %d: %w", kind, jobID, err)
	}
	if _, err := h.insertReports(ctx, []Report{r}); err != nil {
		return fmt.Errorf("snapshot %s %d: %w", kind, jobID, err)
	}
	return nil
}

// insertReports stores snapshots (every writer goes through here or
// pruneOlder) and marks what was read from the old ones as stale.
func (h *History) insertReports(ctx context.Context, rs []Report) (int, error) {
	n, err := h.store.InsertReports(ctx, rs)
	if n > 0 || err != nil {
		h.changed()
	}
	return n, err
}

// Generation is the generation of the stored snapshots: it changes with
// every write (a snapshot stored, a sync, a prune), so what was read from
// them under one generation stays true while it is current.
func (h *History) Generation() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.generation()
}

// generation is Generation with h.mu held: the count of this process's
// writes, and with a shared store also the current period of h.shared, so
// that it changes at least that often.
func (h *History) generation() uint64 {
	if h.shared <= 0 || h.heard {
		return h.gen
	}
	return h.gen + uint64(h.now().UnixNano()/int64(h.shared))<<32
}

// SetSharedStore says that other console replicas write to the same store,
// so that the caches keyed by Generation (the heatmap, the overview's latest
// runs) are reread at least every period rather than only after this
// replica's own writes, while the other replicas' notices are not heard
// (Caches). Call it before the history is used.
func (h *History) SetSharedStore(period time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shared = period
}

// changed bumps the generation of the stored snapshots, here and (through
// Caches) on the other replicas.
func (h *History) changed() {
	h.bump()
	h.notices.publish(Change{Kind: ChangeHistory})
}

// bump is changed on this replica only: another replica wrote.
func (h *History) bump() {
	h.mu.Lock()
	h.gen++
	h.mu.Unlock()
}

// setHeard says whether the other replicas' writes are heard (their
// notices arrive), so the periodic reread of SetSharedStore can rest.
func (h *History) setHeard(ok bool) {
	h.mu.Lock()
	h.heard = ok
	h.mu.Unlock()
}

// Heatmap is the agents × days grid of backup outcomes.
type Heatmap struct {
	From time.Time // local midnight of the first day
	Days int
	Rows []HeatmapRow
}

// HeatmapRow is one agent's days, index 0 = From.
type HeatmapRow struct {
	AccountID AccountID
	AgentID   rcbu.AgentID
	AgentName string
	Cells     []AgentDay
}

// Heatmap returns the outcomes of the last days (1–366) of backups per agent
// and day, the days being calendar days in loc ending today. The result is
// shared with later callers until a snapshot is stored or pruned: read it,
// never modify it.
func (h *History) Heatmap(ctx context.Context, accounts []AccountID, days int, loc *time.Location) (Heatmap, error) {
	days = min(max(days, 1), 366)
	if loc == nil {
		loc = time.UTC
	}
	now := h.now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -(days - 1))
	hm := Heatmap{From: from, Days: days}
	if len(accounts) == 0 {
		return hm, nil
	}
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.String()
	}
	key := heatmapKey{accounts: strings.Join(ids, ","), from: from.Unix(), loc: loc.String(), days: days}
	h.mu.Lock()
	gen := h.generation()
	e, ok := h.heatmaps[key]
	h.mu.Unlock()
	if ok && e.gen == gen {
		return e.hm, nil
	}
	cells, err := h.store.AgentDays(ctx, accounts, from, days)
	if err != nil {
		return Heatmap{}, fmt.Errorf("heatmap: %w", err)
	}
	type rowKey struct {
		a  AccountID
		id rcbu.AgentID
	}
	idx := map[rowKey]int{}
	for _, c := range cells {
		k := rowKey{c.AccountID, c.AgentID}
		i, ok := idx[k]
		if !ok {
			i = len(hm.Rows)
			idx[k] = i
			row := HeatmapRow{AccountID: c.AccountID, AgentID: c.AgentID, AgentName: c.AgentName, Cells: make([]AgentDay, days)}
			for d := range row.Cells {
				row.Cells[d] = AgentDay{AccountID: c.AccountID, AgentID: c.AgentID, AgentName: c.AgentName, Day: d}
			}
			hm.Rows = append(hm.Rows, row)
		}
		if c.Day >= 0 && c.Day < days {
			hm.Rows[i].Cells[c.Day] = c
			if c.AgentName != "" {
				hm.Rows[i].AgentName = c.AgentName
			}
		}
	}
	slices.SortFunc(hm.Rows, func(a, b HeatmapRow) int {
		if c := strings.Compare(strings.ToLower(a.AgentName), strings.ToLower(b.AgentName)); c != 0 {
			return c
		}
		return int(a.AgentID - b.AgentID)
	})
	h.mu.Lock()
	if len(h.heatmaps) >= maxCachedHeatmaps {
		clear(h.heatmaps)
	}
	h.heatmaps[key] = heatmapEntry{gen: gen, hm: hm}
	h.mu.Unlock()
	return hm, nil
}

// DayRate is one day's backup outcomes across an account.
type DayRate struct {
	Day     time.Time // local midnight
	Total   int
	Success int // Completed or CompletedWithErrors
	Failure int
}

// Rate returns the share of successful runs (0–1); 0 when there were none.
func (d DayRate) Rate() float64 {
	if d.Total == 0 {
		return 0
	}
	return float64(d.Success) / float64(d.Total)
}

// SuccessRate returns the daily success rate of backups over the last days.
func (h *History) SuccessRate(ctx context.Context, accounts []AccountID, days int, loc *time.Location) ([]DayRate, error) {
	hm, err := h.Heatmap(ctx, accounts, days, loc)
	if err != nil {
		return nil, fmt.Errorf("success rate: %w", err)
	}
	out := make([]DayRate, hm.Days)
	for d := range out {
		out[d].Day = hm.From.AddDate(0, 0, d)
	}
	for _, row := range hm.Rows {
		for d, c := range row.Cells {
			out[d].Total += c.Success + c.Warning + c.Failure + c.Neutral
			out[d].Success += c.Success + c.Warning
			out[d].Failure += c.Failure
		}
	}
	return out, nil
}

// Runs returns the finished backups of one agent or one configuration over
// the last days, oldest first, for the per-run charts. Exactly one of agent
// and config should be set.
func (h *History) Runs(ctx context.Context, accounts []AccountID, agent rcbu.AgentID, config rcbu.ConfigurationID, days int) ([]RunPoint, error) {
	if len(accounts) == 0 || (agent == 0 && config == 0) {
		return nil, nil
	}
	days = min(max(days, 1), 366)
	pts, err := h.store.RunPoints(ctx, accounts, agent, config, h.now().Add(-time.Duration(days)*24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	return pts, nil
}

// Stats summarises the stored snapshots.
func (h *History) Stats(ctx context.Context) (HistoryStats, error) {
	st, err := h.store.HistoryStats(ctx)
	if err != nil {
		return HistoryStats{}, fmt.Errorf("history stats: %w", err)
	}
	return st, nil
}

// Prune deletes the snapshots that finished more than days days ago. Only
// admins may prune; the action is audit-logged.
func (h *History) Prune(ctx context.Context, actor User, days int) (int64, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return 0, fmt.Errorf("prune reports: %w", ErrForbidden)
	}
	if days < 1 || days > 100000 {
		err := Invalid("days", "Enter a number of days from 1 to 100000.")
		h.audit.Record(ctx, actorEntry(actor, ActionReportsPrune, "report history", err))
		return 0, fmt.Errorf("prune reports: %w", err)
	}
	n, err := h.pruneOlder(ctx, days)
	target := fmt.Sprintf("report history (older than %d days)", days)
	if err != nil {
		h.audit.Record(ctx, actorEntry(actor, ActionReportsPrune, target, err))
		return 0, fmt.Errorf("prune reports: %w", err)
	}
	h.audit.Record(ctx, actorEntry(actor, ActionReportsPrune, target, nil, fmt.Sprintf("%d snapshots deleted", n)))
	return n, nil
}

// pruneOlder deletes snapshots finished more than days days ago.
func (h *History) pruneOlder(ctx context.Context, days int) (int64, error) {
	n, err := h.store.PruneReports(ctx, h.now().Add(-time.Duration(days)*24*time.Hour))
	if n > 0 || err != nil {
		h.changed()
	}
	return n, err
}

// Checkpoint runs a TRUNCATE WAL checkpoint for an admin, audit-logged.
func (h *History) Checkpoint(ctx context.Context, actor User) (CheckpointResult, error) {
	if !actor.Role.Allows(RoleAdmin) {
		return CheckpointResult{}, fmt.Errorf("checkpoint: %w", ErrForbidden)
	}
	res, err := h.store.Checkpoint(ctx)
	if err != nil {
		h.audit.Record(ctx, actorEntry(actor, ActionDBCheckpoint, "database", err))
		return CheckpointResult{}, fmt.Errorf("checkpoint: %w", err)
	}
	detail := fmt.Sprintf("%d of %d WAL frames checkpointed", res.Checkpointed, res.LogFrames)
	switch {
	case res.ServerManaged:
		detail = "nothing to do: the database server checkpoints its own log"
	case res.Busy:
		detail += "; readers were busy, run it again later to truncate the WAL"
	}
	h.audit.Record(ctx, actorEntry(actor, ActionDBCheckpoint, "database", nil, detail))
	return res, nil
}

// Backup writes a consistent copy of the database (VACUUM INTO) to path,
// which must not exist, for an admin; audit-logged.
func (h *History) Backup(ctx context.Context, actor User, path string) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("database backup: %w", ErrForbidden)
	}
	if err := h.store.VacuumInto(ctx, path); err != nil {
		h.audit.Record(ctx, actorEntry(actor, ActionDBBackup, "database", err))
		return fmt.Errorf("database backup: %w", err)
	}
	h.audit.Record(ctx, actorEntry(actor, ActionDBBackup, "database", nil, "backup file made for download"))
	return nil
}
