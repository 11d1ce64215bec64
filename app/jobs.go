package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Audit actions of the operations pages.
const (
	ActionBackupStart       AuditAction = "backup.start"
	ActionBackupStop        AuditAction = "backup.stop"
	ActionAgentWake         AuditAction = "agent.wake"
	ActionAgentEnable       AuditAction = "agent.enable"
	ActionAgentDisable      AuditAction = "agent.disable"
	ActionAgentEncrypt      AuditAction = "agent.encrypt"
	ActionAgentPassword     AuditAction = "agent.encryption_password"
	ActionAgentDelete       AuditAction = "agent.delete"
	ActionAgentMigrateVault AuditAction = "agent.migrate_vault"
)

// Snapshotter stores the report of a job run through the console once it
// has finished (the report history implements it). Calls are idempotent:
// storing a report twice keeps one copy.
type Snapshotter interface {
	SnapshotBackup(ctx context.Context, account AccountID, id rcbu.BackupID) error
	SnapshotRestore(ctx context.Context, account AccountID, id rcbu.RestoreID) error
}

// OpsOptions tune Ops. Zero fields take the defaults.
type OpsOptions struct {
	Now func() time.Time
	Log *slog.Logger
	// Snapshotter, when set, is told about every job started through the
	// console once the console sees it finished.
	Snapshotter Snapshotter
	// TokenTTL is how long a Start form's token is remembered (default
	// 15 min): posting the same form again within it starts nothing new.
	TokenTTL time.Duration
	// Overdue decides which configurations are overdue.
	Overdue OverduePolicy
	// SnapshotTimeout bounds one Snapshotter call (default 10 s).
	SnapshotTimeout time.Duration
	// ActionBudget bounds every Cloud Backup call of one start or stop
	// (default 40 s), so a hanging API gets the person an answer in words
	// rather than a page that never loads.
	ActionBudget time.Duration
	// ReadBudget bounds each read a start makes before it asks Cloud Backup
	// to start (default 10 s), leaving the rest of ActionBudget to the start.
	ReadBudget time.Duration
	// Leases, when set, makes a configuration's start a step of one replica
	// at a time (lease "start:<account>:<configuration>"), as the start lock
	// makes it within one: two Starts posted to two replicas start one job.
	Leases *Leases
}

// Ops carries the rules of the operations pages: starting and stopping
// backups (with the double-start guards), reading a job's live status, and
// the agent actions (agentops.go). Every action checks the actor's role,
// checks that its object belongs to the scope, invalidates the Fleet cache
// of the account it changed and writes an audit entry, also on failure.
type Ops struct {
	fleet *Fleet
	audit *Audit
	opts  OpsOptions

	mu      sync.Mutex
	locks   map[jobLockKey]chan struct{} // one start at a time per configuration
	tokens  map[tokenKey]tokenEntry      // Start form tokens already used
	started map[jobKey]time.Time         // jobs started here, not yet seen finished
	trails  *jobTrails                   // states seen, for the live panel's timeline
}

type jobLockKey struct {
	account AccountID
	config  rcbu.ConfigurationID
}

type tokenKey struct {
	token  string
	config rcbu.ConfigurationID
}

type tokenEntry struct {
	account AccountID
	backup  rcbu.BackupID
	at      time.Time
}

type jobKind uint8

const (
	jobBackup jobKind = iota + 1
	jobRestore
)

type jobKey struct {
	account AccountID
	kind    jobKind
	id      int64
}

// maxStarted bounds the memory of started jobs: if nobody watches jobs to
// their end, the oldest are forgotten (the history's sync still stores them).
const maxStarted = 10000

// NewOps returns the operations service.
func NewOps(fleet *Fleet, audit *Audit, opts OpsOptions) *Ops {
	clockAndLog(&opts.Now, &opts.Log)
	orDefault(&opts.TokenTTL, 15*time.Minute)
	if opts.Overdue == (OverduePolicy{}) {
		opts.Overdue = DefaultOverduePolicy()
	}
	orDefault(&opts.SnapshotTimeout, 10*time.Second)
	orDefault(&opts.ActionBudget, 40*time.Second)
	orDefault(&opts.ReadBudget, 10*time.Second)
	return &Ops{
		fleet:   fleet,
		audit:   audit,
		opts:    opts,
		locks:   map[jobLockKey]chan struct{}{},
		tokens:  map[tokenKey]tokenEntry{},
		started: map[jobKey]time.Time{},
		trails:  newJobTrails(),
	}
}

// Fleet returns the Fleet the service reads through.
func (o *Ops) Fleet() *Fleet { return o.fleet }

// Snapshotter returns the hook that stores finished jobs' reports (nil when
// none is wired), for other services that start jobs (restores).
func (o *Ops) Snapshotter() Snapshotter { return o.opts.Snapshotter }

// OverduePolicy returns the policy that decides overdue configurations.
func (o *Ops) OverduePolicy() OverduePolicy { return o.opts.Overdue }

// NewStartToken returns a random token for a page's Start forms. Posting
// the same form twice (a double click without JavaScript, a reload of the
// POST) then starts one backup.
func NewStartToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// validToken accepts what NewStartToken makes; anything else is ignored
// rather than trusted as a map key.
func validToken(t string) bool {
	if len(t) != 32 {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

// lock takes the per-configuration start lock, waiting at most as long as
// ctx allows; the returned func releases it.
func (o *Ops) lock(ctx context.Context, k jobLockKey) (func(), error) {
	for {
		o.mu.Lock()
		ch, busy := o.locks[k]
		if !busy {
			ch = make(chan struct{})
			o.locks[k] = ch
			o.mu.Unlock()
			return func() {
				o.mu.Lock()
				delete(o.locks, k)
				o.mu.Unlock()
				close(ch)
			}, nil
		}
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for another start: %w", ctx.Err())
		}
	}
}

// usedToken returns the backup an earlier post of the same form started.
func (o *Ops) usedToken(k tokenKey) (tokenEntry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.tokens[k]
	if ok && o.opts.Now().Sub(e.at) > o.opts.TokenTTL {
		delete(o.tokens, k)
		return tokenEntry{}, false
	}
	return e, ok
}

// rememberToken records the backup that answered a Start form.
func (o *Ops) rememberToken(k tokenKey, e tokenEntry) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.putToken(k, e)
}

func (o *Ops) putToken(k tokenKey, e tokenEntry) {
	if k.token == "" {
		return
	}
	now := o.opts.Now()
	for tk, te := range o.tokens {
		if now.Sub(te.at) > o.opts.TokenTTL {
			delete(o.tokens, tk)
		}
	}
	o.tokens[k] = e
}

// remember records a started job (and the form token that started it).
func (o *Ops) remember(k tokenKey, e tokenEntry) {
	now := o.opts.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.putToken(k, e)
	if len(o.started) >= maxStarted {
		var oldest jobKey
		var at time.Time
		for jk, t := range o.started {
			if at.IsZero() || t.Before(at) {
				oldest, at = jk, t
			}
		}
		delete(o.started, oldest)
	}
	o.started[jobKey{account: e.account, kind: jobBackup, id: int64(e.backup)}] = now
}

// startedAt returns when a job was started through the console.
func (o *Ops) startedAt(k jobKey) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.started[k]
	return t, ok
}

// StartedBackup is the outcome of StartBackup.
type StartedBackup struct {
	Backup        FleetBackup
	Configuration FleetConfiguration
	// AlreadyRunning is set when the configuration had a backup running:
	// no new one was started, Backup is the running one.
	AlreadyRunning bool
	// Repeated is set when the same form was posted again: Backup is the
	// one the first post started.
	Repeated bool
}

// StartBackup starts a backup of configuration id for actor (Creator and
// up). A configuration starts one backup at a time: while one of its
// backups is busy, the running one is returned instead (AlreadyRunning),
// and a second post of the same form (same token) returns the backup the
// first started (Repeated). The agent's live status is checked first, so an
// offline or disabled agent gets words, not the API's 403.
func (o *Ops) StartBackup(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, token string) (StartedBackup, error) {
	return o.StartAgentBackup(ctx, actor, scope, 0, id, token)
}

// StartAgentBackup is StartBackup from an agent's quick Start form: the
// configuration must belong to agent (when agent is not zero), else it is
// not found.
func (o *Ops) StartAgentBackup(ctx context.Context, actor User, scope Scope, agent rcbu.AgentID, id rcbu.ConfigurationID, token string) (StartedBackup, error) {
	target := "configuration " + strconv.FormatInt(int64(id), 10)
	if err := o.permit(ctx, actor, RoleCreator, ActionBackupStart, target, "start backup"); err != nil {
		return StartedBackup{}, err
	}
	actx, cancel := context.WithTimeout(ctx, o.opts.ActionBudget)
	defer cancel()
	rctx, rcancel := context.WithTimeout(actx, o.opts.ReadBudget)
	fc, c, err := o.fleet.Configuration(rctx, scope, id)
	rcancel()
	if err == nil && agent != 0 && fc.Configuration.AgentID != agent {
		err = fmt.Errorf("configuration %d is not on agent %d: %w", id, agent, ErrNotFound)
	}
	if err == nil {
		err = permitOn(actor, fc.AccountID, RoleCreator)
	}
	if err != nil {
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStart, target, err))
		return StartedBackup{}, fmt.Errorf("start backup: %w", err)
	}
	target = configurationTarget(fc)
	res, err := o.startBackup(actx, scope, fc, c, token)
	if err != nil {
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStart, target, err))
		return StartedBackup{}, fmt.Errorf("start backup: %w", err)
	}
	switch {
	case res.Repeated:
		// The first post was audited; a repeat changes nothing.
	case res.AlreadyRunning:
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStart, target, nil,
			fmt.Sprintf("not started: backup %d was already running", res.Backup.Backup.ID)))
	default:
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStart, target, nil, fmt.Sprintf("backup %d", res.Backup.Backup.ID)))
	}
	return res, nil
}

func (o *Ops) startBackup(ctx context.Context, scope Scope, fc FleetConfiguration, c *rcbu.Client, token string) (StartedBackup, error) {
	id := fc.Configuration.ID
	unlock, err := o.lock(ctx, jobLockKey{account: fc.AccountID, config: id})
	if err != nil {
		return StartedBackup{}, err
	}
	defer unlock()
	release, err := o.opts.Leases.Hold(ctx, fmt.Sprintf("start:%d:%d", fc.AccountID, id))
	if err != nil {
		return StartedBackup{}, fmt.Errorf("wait for another start: %w", err)
	}
	defer release()
	res := StartedBackup{Configuration: fc}
	tk := tokenKey{config: id}
	// Each read before the start gets ReadBudget of its own.
	rctx, rcancel := context.WithTimeout(ctx, o.opts.ReadBudget)
	defer rcancel()
	if validToken(token) {
		tk.token = token
		if e, ok := o.usedToken(tk); ok && e.account == fc.AccountID {
			st, err := c.Backups.Get(rctx, e.backup)
			if err != nil {
				return StartedBackup{}, upstream("get backup", "backup", err)
			}
			res.Backup, res.Repeated = FleetBackup{AccountID: fc.AccountID, AccountName: fc.AccountName, Backup: *st}, true
			return res, nil
		}
	}
	// The agent's live status says "offline" in words, where the API would
	// answer a bare 403.
	if fa, _, err := o.fleet.Agent(rctx, scope, fc.Configuration.AgentID); err == nil && fa.Live {
		switch {
		case fa.Agent.IsDisabled:
			return StartedBackup{}, upstream("start backup", "configuration", ErrAgentDisabled)
		case fa.Agent.Status == rcbu.AgentStatusOffline:
			return StartedBackup{}, upstream("start backup", "configuration", ErrAgentOffline)
		}
	}
	// A second start while a backup runs would be recorded as Skipped:
	// show the running one instead. Read fresh, not from the cache.
	rcancel()
	rctx, rcancel = context.WithTimeout(ctx, o.opts.ReadBudget)
	defer rcancel()
	acts, err := c.Activity.ListForAgent(rctx, fc.Configuration.AgentID)
	if err != nil {
		return StartedBackup{}, upstream("list agent activity", "configuration", err)
	}
	for _, a := range acts {
		if a.Type == rcbu.ActivityBackup && a.ConfigurationID == id && a.Busy() {
			st, err := c.Backups.Get(rctx, rcbu.BackupID(a.ID))
			if err != nil {
				return StartedBackup{}, upstream("get backup", "backup", err)
			}
			res.Backup, res.AlreadyRunning = FleetBackup{AccountID: fc.AccountID, AccountName: fc.AccountName, Backup: *st}, true
			// The form is answered by the running backup: posting it again
			// shows that one too, even after it has finished.
			o.rememberToken(tk, tokenEntry{account: fc.AccountID, backup: st.ID, at: o.opts.Now()})
			return res, nil
		}
	}
	b, err := c.Backups.Start(ctx, id)
	// Whatever happened, the account's lists may have changed.
	o.fleet.Invalidate(fc.AccountID)
	if err != nil {
		return StartedBackup{}, upstream("start backup", "configuration", err)
	}
	o.remember(tk, tokenEntry{account: fc.AccountID, backup: b.ID, at: o.opts.Now()})
	o.trails.started(trailKey{fc.AccountID, KindBackup, int64(b.ID)}, string(rcbu.BackupStartRequested), o.opts.Now())
	st := b.Status()
	if st == nil {
		st, err = b.Refresh(ctx)
		if err != nil {
			// Started, but its status is not readable yet: say so by id.
			st = &rcbu.BackupStatus{ID: b.ID, ConfigurationID: id, ConfigurationName: fc.Configuration.Name,
				State: rcbu.BackupStartRequested, AgentID: fc.Configuration.AgentID, MachineName: fc.Configuration.MachineName}
		}
	}
	res.Backup = FleetBackup{AccountID: fc.AccountID, AccountName: fc.AccountName, Backup: *st}
	return res, nil
}

// StopBackup asks a running backup to stop, for actor (Creator and up). A
// backup that has already finished is a conflict; one already stopping is
// left as it is.
func (o *Ops) StopBackup(ctx context.Context, actor User, scope Scope, id rcbu.BackupID) (FleetBackup, error) {
	target := "backup " + strconv.FormatInt(int64(id), 10)
	if err := o.permit(ctx, actor, RoleCreator, ActionBackupStop, target, "stop backup"); err != nil {
		return FleetBackup{}, err
	}
	actx, cancel := context.WithTimeout(ctx, o.opts.ActionBudget)
	defer cancel()
	rctx, rcancel := context.WithTimeout(actx, o.opts.ReadBudget)
	fb, c, err := o.fleet.Backup(rctx, scope, id)
	rcancel()
	if err == nil {
		err = permitOn(actor, fb.AccountID, RoleCreator)
	}
	if err != nil {
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStop, target, err))
		return FleetBackup{}, fmt.Errorf("stop backup: %w", err)
	}
	target = backupTarget(fb)
	switch st := fb.Backup.State; {
	case st == rcbu.BackupStopRequested:
		return fb, nil
	case !st.Busy():
		err := fmt.Errorf("stop backup %d: %w", id, Conflict("the backup has already finished (%s)", st))
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStop, target, err))
		return fb, err
	}
	err = c.Backups.Stop(actx, id)
	o.fleet.Invalidate(fb.AccountID)
	if err != nil {
		err = upstream("stop backup", "backup", err)
		o.audit.Record(ctx, actorEntry(actor, ActionBackupStop, target, err))
		return fb, fmt.Errorf("stop backup: %w", err)
	}
	o.audit.Record(ctx, actorEntry(actor, ActionBackupStop, target, nil))
	if st, err := c.Backups.Get(actx, id); err == nil {
		fb.Backup = *st
	} else {
		fb.Backup.State = rcbu.BackupStopRequested
	}
	return fb, nil
}

// BackupJob is a backup run as its live status panel shows it.
type BackupJob struct {
	FleetBackup
	// Started is when the run started: known for runs started through the
	// console and, once done, from the report. Zero otherwise.
	Started time.Time
	// Report is the run's report once it is done and available.
	Report *rcbu.BackupReport
	// ReportProblem says why a done run has no report ("" otherwise).
	ReportProblem string
	// Trail is the states the console has seen the run in, oldest first.
	Trail []StateSeen
}

// Done reports whether the run has reached a final state.
func (j BackupJob) Done() bool { return j.Backup.State.Done() }

// Elapsed is how long the run has taken so far (or took), or zero when the
// start is unknown.
func (j BackupJob) Elapsed(now time.Time) time.Duration {
	switch {
	case j.Report != nil && j.Report.Duration > 0:
		return j.Report.Duration
	case j.Started.IsZero():
		return 0
	case j.Done() && j.Backup.StateChangeTime.Valid():
		return j.Backup.StateChangeTime.Sub(j.Started)
	default:
		return now.Sub(j.Started)
	}
}

// BackupJob returns a backup run's live status, with its report once done.
// When a run started through the console is first seen finished, the
// Snapshotter stores its report.
func (o *Ops) BackupJob(ctx context.Context, scope Scope, id rcbu.BackupID) (BackupJob, error) {
	fb, c, err := o.fleet.Backup(ctx, scope, id)
	if err != nil {
		return BackupJob{}, fmt.Errorf("backup job: %w", err)
	}
	j := BackupJob{FleetBackup: fb}
	key := jobKey{account: fb.AccountID, kind: jobBackup, id: int64(id)}
	started, mine := o.startedAt(key)
	j.Started = started
	at := o.opts.Now()
	if st := fb.Backup.StateChangeTime; st.Valid() && !st.After(at) {
		at = st.Time
	}
	j.Trail = o.trails.observe(trailKey{fb.AccountID, KindBackup, int64(id)}, string(fb.Backup.State), at)
	if !j.Done() {
		return j, nil
	}
	rep, err := c.Backups.Report(ctx, id)
	switch {
	case err == nil:
		j.Report = rep
		if rep.StartTime.Valid() {
			j.Started = rep.StartTime.Time
		}
	case errors.Is(err, rcbu.ErrNotFound):
		j.ReportProblem = "The report is not ready yet."
	default:
		j.ReportProblem = Problem(err, "report")
	}
	if mine {
		o.finished(ctx, key)
	}
	return j, nil
}

// finished forgets a job started here, drops its account's cached lists
// and details (the agent's last success, its vault size and the
// configuration's last run have changed with it), and hands it to the
// Snapshotter.
func (o *Ops) finished(ctx context.Context, key jobKey) {
	o.mu.Lock()
	_, ok := o.started[key]
	delete(o.started, key)
	o.mu.Unlock()
	if !ok {
		return
	}
	o.fleet.Invalidate(key.account)
	if o.opts.Snapshotter == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.opts.SnapshotTimeout)
	defer cancel()
	var err error
	switch key.kind {
	case jobBackup:
		err = o.opts.Snapshotter.SnapshotBackup(sctx, key.account, rcbu.BackupID(key.id))
	case jobRestore:
		err = o.opts.Snapshotter.SnapshotRestore(sctx, key.account, rcbu.RestoreID(key.id))
	}
	if err != nil {
		// The history's periodic sync stores it later; nothing is lost.
		o.opts.Log.WarnContext(ctx, "snapshot_failed", slog.Int64("job_id", key.id), slog.Any("err", err))
	}
}

// ActiveJobs returns the busy backups and restores of the scope, and the
// recently finished ones (at most recent, newest first).
type ActiveJobs struct {
	Running  []FleetActivity
	Finished []FleetActivity
	Problems []AccountProblem
}

// Jobs lists the scope's running jobs and its most recent finished ones
// (backups and restores; cleanups are not jobs a person runs).
func (o *Ops) Jobs(ctx context.Context, scope Scope, recent int) (ActiveJobs, error) {
	acts, problems, err := o.fleet.Activity(ctx, scope)
	if err != nil {
		return ActiveJobs{}, fmt.Errorf("jobs: %w", err)
	}
	out := ActiveJobs{Problems: problems}
	sortActivity(acts)
	out.Running, out.Finished = splitJobs(acts, recent)
	return out, nil
}

// splitJobs splits the backups and restores in acts (sorted newest first)
// into the queued or running ones and at most recent finished ones.
func splitJobs(acts []FleetActivity, recent int) (busy, finished []FleetActivity) {
	for _, a := range acts {
		if a.Activity.Type != rcbu.ActivityBackup && a.Activity.Type != rcbu.ActivityRestore {
			continue
		}
		switch {
		case jobBusy(a.Activity):
			busy = append(busy, a)
		case len(finished) < recent:
			finished = append(finished, a)
		}
	}
	return busy, finished
}

// jobBusy reports whether an activity item is a queued or running job:
// backups by their state names, restores by theirs.
func jobBusy(a rcbu.Activity) bool {
	if a.Type == rcbu.ActivityRestore {
		st, err := rcbu.ParseRestoreState(a.CurrentState)
		return err == nil && st.Busy()
	}
	return a.Busy()
}

// JobBusy reports whether an activity item is a queued or running job.
func JobBusy(a rcbu.Activity) bool { return jobBusy(a) }

func configurationTarget(fc FleetConfiguration) string {
	return fmt.Sprintf("configuration %d (%s)", fc.Configuration.ID, fc.Configuration.Name)
}

func backupTarget(fb FleetBackup) string {
	return fmt.Sprintf("backup %d of configuration %d (%s)", fb.Backup.ID, fb.Backup.ConfigurationID, fb.Backup.ConfigurationName)
}
