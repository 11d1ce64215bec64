package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// SyncOptions tune the report sync. Zero fields take the defaults.
type SyncOptions struct {
	Interval    time.Duration // between syncs of an account; default 5 min
	Concurrency int           // report fetches in flight per account; default 4
	BatchSize   int           // reports per transaction; default 50
	BackoffBase time.Duration // first delay after a failed sync; default 30 s
	BackoffMax  time.Duration // longest delay after failures; default 30 min
	KeepDays    int           // prune snapshots older than this many days; 0 keeps them forever
	// Slack is how far before the cursor activity is checked again, in case
	// a job's final time moved; default 1 h.
	Slack time.Duration
	// AfterSync, when set, is called after every sync of an account by the
	// worker (on its interval or after SyncNow), unless the worker is
	// stopping, with the number of reports stored and the sync's error. It
	// runs on the account's sync goroutine and should return quickly.
	AfterSync func(ctx context.Context, account AccountID, stored int, err error)
	// Leases, when set, makes each account's worker sync run on one replica
	// at a time (lease "sync:<account>"); an account whose lease another
	// replica holds is tried again after a lease's lifetime, so the work
	// moves here when that replica dies.
	Leases *Leases
}

func (o SyncOptions) withDefaults() SyncOptions {
	orDefault(&o.Interval, 5*time.Minute)
	orDefault(&o.Concurrency, 4)
	orDefault(&o.BatchSize, 50)
	orDefault(&o.BackoffBase, 30*time.Second)
	orDefault(&o.BackoffMax, 30*time.Minute)
	orDefault(&o.Slack, time.Hour)
	return o
}

// accountLister lists the accounts in use; *Accounts is one.
type accountLister interface {
	List(ctx context.Context) ([]Account, error)
}

// SyncStatus is an account's sync as the Reports page shows it.
type SyncStatus struct {
	SyncState
	AccountName string
	Running     bool
	Failures    int       // consecutive failed syncs
	NextAttempt time.Time // zero until the worker has scheduled one
}

// accountSync is the worker's in-memory view of one account.
type accountSync struct {
	running  bool
	failures int
	next     time.Time
}

// Syncer is the background worker that snapshots every finished backup and
// restore report of every account: on an interval, and at once when asked.
// Each account syncs on its own goroutine (one at a time per account), with
// bounded concurrent fetches, a transaction per batch and a cursor saved
// with each batch, so a killed sync loses nothing committed and resumes.
// A failing account backs off exponentially without holding up the others.
type Syncer struct {
	h        *History
	accounts accountLister
	opts     SyncOptions

	mu     sync.Mutex
	state  map[AccountID]*accountSync
	kick   chan struct{}
	pruned time.Time
}

// NewSyncer returns the sync worker for h over the accounts in use.
func NewSyncer(h *History, accounts accountLister, opts SyncOptions) *Syncer {
	return &Syncer{h: h, accounts: accounts, opts: opts.withDefaults(), state: map[AccountID]*accountSync{}, kick: make(chan struct{}, 1)}
}

// Run syncs until ctx ends: every account when it is due (at start, then
// every Interval, later after failures), and whenever SyncNow kicks it. It
// waits for the account syncs it started before returning. Its work,
// AfterSync included, is Background: its API calls share the small
// background budget and never hold up a page.
func (s *Syncer) Run(ctx context.Context) {
	ctx = Background(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		wait := s.startDue(ctx, &wg)
		s.maybePrune(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// startDue starts a sync of every due account that is not already syncing,
// and returns how long to wait before the next one is due.
func (s *Syncer) startDue(ctx context.Context, wg *sync.WaitGroup) time.Duration {
	wait := s.opts.Interval
	accts, err := s.accounts.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.h.log.WarnContext(ctx, "report_sync_accounts_failed", slog.Any("err", err))
		}
		return min(wait, s.opts.BackoffBase)
	}
	now := s.h.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range accts {
		st := s.state[a.ID]
		if st == nil {
			st = &accountSync{}
			s.state[a.ID] = st
		}
		if st.running {
			continue
		}
		if st.next.After(now) {
			wait = min(wait, st.next.Sub(now))
			continue
		}
		st.running = true
		wg.Add(1)
		go func(id AccountID) {
			defer wg.Done()
			var n int
			err := s.opts.Leases.Run(ctx, fmt.Sprintf("sync:%d", id), func(ctx context.Context) error {
				var err error
				n, err = s.SyncAccount(ctx, id)
				return err
			})
			if errors.Is(err, ErrLeaseHeld) {
				s.elsewhere(id)
				return
			}
			s.finish(ctx, id, n, err)
		}(a.ID)
	}
	return max(wait, time.Second)
}

// finish records the end of a worker sync and schedules the next one.
func (s *Syncer) finish(ctx context.Context, id AccountID, stored int, err error) {
	now := s.h.now()
	s.mu.Lock()
	st := s.state[id]
	st.running = false
	if err == nil || ctx.Err() != nil {
		st.failures = 0
		st.next = now.Add(s.opts.Interval)
	} else {
		st.failures++
		st.next = now.Add(backoff(s.opts.BackoffBase, s.opts.BackoffMax, st.failures))
	}
	s.mu.Unlock()
	if err != nil && ctx.Err() == nil {
		s.h.log.WarnContext(ctx, "report_sync_failed", slog.Int64("account_id", int64(id)), slog.Any("err", err))
	}
	if s.opts.AfterSync != nil && ctx.Err() == nil {
		s.opts.AfterSync(ctx, id, stored, err)
	}
	// Wake the loop so the new due time counts.
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// elsewhere records that another replica holds an account's sync: this one
// tries again after a lease's lifetime (or its interval, if shorter), which
// is when a dead holder's lease has run out.
func (s *Syncer) elsewhere(id AccountID) {
	s.mu.Lock()
	st := s.state[id]
	st.running = false
	st.next = s.h.now().Add(min(s.opts.Interval, s.opts.Leases.ttl+time.Second))
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// backoff is base·2^(failures−1), capped.
func backoff(base, ceiling time.Duration, failures int) time.Duration {
	d := base
	for i := 1; i < failures && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// maybePrune deletes snapshots older than KeepDays, at most once an hour.
func (s *Syncer) maybePrune(ctx context.Context) {
	if s.opts.KeepDays <= 0 {
		return
	}
	now := s.h.now()
	s.mu.Lock()
	due := now.Sub(s.pruned) >= time.Hour
	if due {
		s.pruned = now
	}
	s.mu.Unlock()
	if !due {
		return
	}
	n, err := s.h.pruneOlder(ctx, s.opts.KeepDays)
	switch {
	case err != nil && ctx.Err() == nil:
		s.h.log.WarnContext(ctx, "report_prune_failed", slog.Any("err", err))
	case n > 0:
		s.h.log.InfoContext(ctx, "reports_pruned", slog.Int64("count", n), slog.Int("keep_days", s.opts.KeepDays))
	}
}

// SyncNow asks the worker to sync the accounts at once (clearing any
// backoff) and returns without waiting; the action is audit-logged.
func (s *Syncer) SyncNow(ctx context.Context, actor User, accounts []AccountID) error {
	if !actor.Role.Allows(RoleCreator) {
		return fmt.Errorf("sync reports: %w", ErrForbidden)
	}
	// Only the accounts the actor may act on: a Creator on one account
	// and an Observer on another syncs the first.
	accounts = slices.DeleteFunc(slices.Clone(accounts), func(id AccountID) bool { return permitOn(actor, id, RoleCreator) != nil })
	if len(accounts) == 0 {
		return fmt.Errorf("sync reports: %w", ErrForbidden)
	}
	s.mu.Lock()
	for _, id := range accounts {
		st := s.state[id]
		if st == nil {
			st = &accountSync{}
			s.state[id] = st
		}
		st.next = time.Time{}
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	target := "report history"
	if len(accounts) == 1 {
		target = fmt.Sprintf("report history of account %d", accounts[0])
	}
	s.h.audit.Record(ctx, actorEntry(actor, ActionReportsSync, target, nil))
	return nil
}

// Status returns the sync status of the given accounts, in their order.
func (s *Syncer) Status(ctx context.Context, accounts []Account) ([]SyncStatus, error) {
	out := make([]SyncStatus, 0, len(accounts))
	for _, a := range accounts {
		st, err := s.h.store.SyncState(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("sync status: %w", err)
		}
		ss := SyncStatus{SyncState: st, AccountName: a.Name}
		s.mu.Lock()
		if m := s.state[a.ID]; m != nil {
			ss.Running, ss.Failures, ss.NextAttempt = m.running, m.failures, m.next
		}
		s.mu.Unlock()
		out = append(out, ss)
	}
	return out, nil
}

// job is one finished job to snapshot, with the activity item that
// announced it (its data stands in for a report that does not parse).
type job struct {
	kind ReportKind
	id   int64
	at   time.Time
	act  rcbu.Activity
}

// SyncAccount snapshots every finished job of one account that is not
// stored yet and returns how many reports it stored. It first walks the
// activity list from the saved cursor; on an account's first sync it also
// walks each configuration's completed backups, for history older than
// the activity list keeps. Its API calls are Background work.
func (s *Syncer) SyncAccount(ctx context.Context, id AccountID) (int, error) {
	ctx = Background(ctx)
	st, err := s.h.store.SyncState(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("sync account %d: %w", id, err)
	}
	st.AccountID = id
	st.LastStart = s.h.now()
	stored, err := s.syncAccount(ctx, id, &st)
	st.LastEnd, st.LastStored = s.h.now(), stored
	if err != nil {
		st.LastError = syncProblem(err)
	} else {
		st.LastError, st.LastOK = "", st.LastEnd
	}
	// Record the outcome even when ctx was cancelled mid-way.
	if serr := s.h.store.SaveSyncState(context.WithoutCancel(ctx), st); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return stored, fmt.Errorf("sync account %d: %w", id, err)
	}
	return stored, nil
}

func (s *Syncer) syncAccount(ctx context.Context, id AccountID, st *SyncState) (int, error) {
	cl, err := s.h.clients.Client(ctx, id)
	if err != nil {
		return 0, err
	}
	acts, err := cl.Activity.List(ctx)
	if err != nil {
		return 0, err
	}
	since := st.Cursor.Add(-s.opts.Slack)
	var jobs []job
	for _, a := range acts {
		if !a.Done() || (a.Type != rcbu.ActivityBackup && a.Type != rcbu.ActivityRestore) {
			continue
		}
		at := a.TimeOfActivity.Time
		if !st.Cursor.IsZero() && a.TimeOfActivity.Valid() && at.Before(since) {
			continue
		}
		k := KindBackup
		if a.Type == rcbu.ActivityRestore {
			k = KindRestore
		}
		jobs = append(jobs, job{kind: k, id: a.ID, at: at, act: a})
	}
	// Oldest first, so the cursor only moves forward over a stored prefix.
	slices.SortStableFunc(jobs, func(x, y job) int { return x.at.Compare(y.at) })
	total, err := s.process(ctx, cl, id, jobs, st, true)
	if err != nil {
		return total, err
	}
	if !st.Backfilled {
		n, err := s.backfill(ctx, cl, id, st)
		total += n
		if err != nil {
			return total, err
		}
		st.Backfilled = true
	}
	return total, nil
}

// backfill walks the completed backups of every configuration.
func (s *Syncer) backfill(ctx context.Context, cl *rcbu.Client, id AccountID, st *SyncState) (int, error) {
	cfgs, err := cl.Configurations.List(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range cfgs {
		done, err := cl.Backups.ListCompleted(ctx, c.ID)
		if errors.Is(err, rcbu.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return total, err
		}
		jobs := make([]job, 0, len(done))
		for _, b := range done {
			jobs = append(jobs, job{kind: KindBackup, id: int64(b.ID), at: b.CompletedTime.Time, act: rcbu.Activity{
				ID: int64(b.ID), Type: rcbu.ActivityBackup, ConfigurationID: b.ConfigurationID, DisplayName: b.ConfigurationName,
				SourceAgentID: b.AgentID, SourceMachineName: b.MachineName, TimeOfActivity: b.CompletedTime, BackupID: b.ID,
			}})
		}
		n, err := s.process(ctx, cl, id, jobs, st, false)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// process snapshots the jobs not stored yet, batch by batch: fetch with
// bounded concurrency, insert in one transaction, then save the cursor (when
// advance is set) past the prefix that is done. A report the API no longer
// has (404) counts as done; any other error stops the sync after the
// batch's successes are stored.
func (s *Syncer) process(ctx context.Context, cl *rcbu.Client, id AccountID, jobs []job, st *SyncState, advance bool) (int, error) {
	total := 0
	for start := 0; start < len(jobs); start += s.opts.BatchSize {
		batch := jobs[start:min(start+s.opts.BatchSize, len(jobs))]
		have, err := s.storedIn(ctx, id, batch)
		if err != nil {
			return total, err
		}
		results := make([]Report, len(batch))
		errs := make([]error, len(batch))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.opts.Concurrency)
		now := s.h.now()
		for i, j := range batch {
			if have[j.kind][j.id] {
				continue
			}
			g.Go(func() error {
				act := j.act
				r, err := fetchReport(gctx, cl, id, j.kind, j.id, &act, now)
				results[i], errs[i] = r, err
				if err != nil && !errors.Is(err, rcbu.ErrNotFound) {
					return err // stop fetching the rest of the batch
				}
				return nil
			})
		}
		firstErr := g.Wait()
		var keep []Report
		cursor := st.Cursor
		blocked := false
		for i, j := range batch {
			switch {
			case have[j.kind][j.id]:
			case errs[i] == nil && results[i].JobID != 0:
				keep = append(keep, results[i])
			case errs[i] != nil && errors.Is(errs[i], rcbu.ErrNotFound):
				// No report (any more): nothing to store, not worth retrying.
			default:
				blocked = true // failed, or not fetched because another failed
			}
			if !blocked && j.at.After(cursor) {
				cursor = j.at
			}
		}
		n, err := s.h.insertReports(context.WithoutCancel(ctx), keep)
		total += n
		if err != nil {
			return total, err
		}
		if advance && cursor.After(st.Cursor) {
			st.Cursor = cursor
			if err := s.h.store.SaveSyncState(context.WithoutCancel(ctx), *st); err != nil {
				return total, err
			}
		}
		if firstErr != nil {
			return total, firstErr
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
	return total, nil
}

// storedIn returns, per kind, which jobs of the batch are stored already.
func (s *Syncer) storedIn(ctx context.Context, id AccountID, batch []job) (map[ReportKind]map[int64]bool, error) {
	ids := map[ReportKind][]int64{}
	for _, j := range batch {
		ids[j.kind] = append(ids[j.kind], j.id)
	}
	out := map[ReportKind]map[int64]bool{}
	for k, list := range ids {
		m, err := s.h.store.StoredJobs(ctx, id, k, list)
		if err != nil {
			return nil, err
		}
		out[k] = m
	}
	return out, nil
}

// fetchReport gets a report's body as the API sends it and builds the
// snapshot. A body that does not decode is kept, flagged, with the columns
// taken from hint (the activity item) when there is one.
func fetchReport(ctx context.Context, cl *rcbu.Client, account AccountID, kind ReportKind, jobID int64, hint *rcbu.Activity, now time.Time) (Report, error) {
	var raw []byte
	var err error
	if kind == KindRestore {
		raw, err = cl.Restores.ReportRaw(ctx, rcbu.RestoreID(jobID))
	} else {
		raw, err = cl.Backups.ReportRaw(ctx, rcbu.BackupID(jobID))
	}
	if err != nil {
		return Report{}, err
	}
	r := ParseReport(account, kind, jobID, raw, hint)
	r.Fetched = now.UTC()
	if kind == KindRestore && hint == nil && r.AgentID == 0 {
		// The restore report names the source machine but not its agent id;
		// the restore itself does. Best effort: the report stands without it.
		if rc, err := cl.Restores.Get(ctx, rcbu.RestoreID(jobID)); err == nil {
			r.AgentID, r.DestAgentID = rc.BackupAgentID, rc.DestinationAgentID
			if r.AgentName == "" {
				r.AgentName = rc.BackupMachineName
			}
			if r.DestName == "" {
				r.DestName = rc.DestinationMachineName
			}
		}
	}
	return r, nil
}

// ParseReport builds a snapshot from a report body. When the body does not
// decode, ParseError says why and the columns come from hint, if any.
func ParseReport(account AccountID, kind ReportKind, jobID int64, raw []byte, hint *rcbu.Activity) Report {
	r := Report{AccountID: account, Kind: kind, JobID: jobID, Raw: raw}
	if hint != nil {
		r.AgentID, r.AgentName = hint.SourceAgentID, hint.SourceMachineName
		r.ConfigID, r.ConfigName = hint.ConfigurationID, hint.DisplayName
		r.DestAgentID, r.DestName = hint.DestinationAgentID, hint.DestinationMachineName
		r.BackupID = hint.BackupID
		r.State = hint.CurrentState
		if hint.TimeOfActivity.Valid() {
			r.Finished = hint.TimeOfActivity.Time.UTC()
		}
	}
	if kind == KindBackup {
		r.BackupID = rcbu.BackupID(jobID)
		var b rcbu.BackupReport
		if err := json.Unmarshal(raw, &b); err != nil {
			r.ParseError = err.Error()
			return r
		}
		r.AgentID, r.AgentName = b.AgentID, b.ComputerName
		r.ConfigID, r.ConfigName = b.ConfigurationID, b.ConfigurationName
		r.State, r.CanRestore = string(b.State), b.CanRestore
		r.setTimes(b.StartTime, b.CompletedTime, b.Duration)
		r.FilesSearched, r.BytesSearched = b.FilesSearched, b.BytesSearched.Bytes
		r.FilesBackedUp, r.BytesBackedUp = b.FilesBackedUp, b.BytesBackedUp.Bytes
		r.ErrorCount, r.Reason, r.Diagnostics = b.NumErrors, b.Reason, b.Diagnostics
		r.Errors = errorEntries(b.Errors)
	} else {
		var b rcbu.RestoreReport
		if err := json.Unmarshal(raw, &b); err != nil {
			r.ParseError = err.Error()
			return r
		}
		r.ConfigID, r.ConfigName = b.ConfigurationID, b.ConfigurationName
		r.BackupID = b.BackupID
		if b.OriginatingComputerName != "" {
			r.AgentName = b.OriginatingComputerName
		}
		r.DestAgentID, r.DestName = b.RestoreDestinationMachineID, b.RestoreDestination
		r.State = b.State.String()
		r.setTimes(b.StartTime, b.CompletedTime, b.Duration)
		r.FilesRestored, r.BytesRestored = b.NumFilesRestored, b.NumBytesRestored.Bytes
		r.ErrorCount, r.Reason, r.Diagnostics = b.NumErrors, b.Reason, b.Diagnostics
		r.Errors = errorEntries(b.Errors)
	}
	if r.ErrorCount < int64(len(r.Errors)) {
		r.ErrorCount = int64(len(r.Errors))
	}
	return r
}

func (r *Report) setTimes(start, end rcbu.MSDate, d time.Duration) {
	if start.Valid() {
		r.Started = start.Time.UTC()
	}
	if end.Valid() {
		r.Finished = end.Time.UTC()
	}
	r.Duration = d
	if d == 0 && !r.Started.IsZero() && r.Finished.After(r.Started) {
		r.Duration = r.Finished.Sub(r.Started)
	}
}

func errorEntries(list []rcbu.ReportError) []ReportErrorEntry {
	out := make([]ReportErrorEntry, 0, len(list))
	for _, e := range list {
		out = append(out, ReportErrorEntry{
			ListIndex: e.ListIndex, ErrorType: e.ErrorType, Code: e.ExceptionCode, Path: e.Path,
			Description: e.ErrorDesc, Exception: e.ExceptionDesc, Details: e.ExceptionDetails,
		})
	}
	return out
}

// syncProblem says in words why a sync failed, without secrets: Problem's
// words, except where a background sync differs from a request (it resumes
// after an interruption and retries by itself).
func syncProblem(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "The sync was interrupted; it resumes where it stopped."
	case errors.Is(err, rcbu.ErrUnavailable):
		return "Cloud Backup was unavailable; the sync retries with backoff."
	}
	return Problem(err, "")
}
