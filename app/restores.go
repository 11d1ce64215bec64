package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Audit actions of restores.
const (
	ActionRestoreStart AuditAction = "restore.start"
	ActionRestoreStop  AuditAction = "restore.stop"
)

// Restores carries the rules of the restore wizard and of running restores:
// which backups can be restored where, the checks before a restore starts
// (destination in the same account, an explicit confirmation to overwrite,
// the vault passphrase when the vault is encrypted), starting and stopping,
// and a restore's live state with its report.
type Restores struct {
	fleet *Fleet
	audit *Audit
	now   func() time.Time
	snap  Snapshotter // optional: told about restores started here once they end
	log   *slog.Logger
	// requests keeps what each restore started here was asked to do.
	requests RestoreRequestStore
	trails   *jobTrails

	mu      sync.Mutex
	started map[restoreKey]bool     // restores started here and not yet seen finished
	posts   map[string]*restorePost // review forms posted, by their token
}

// restorePost is one posting of a review form: a repeated post (a double
// click, a reload) waits for the first and gets its restore.
type restorePost struct {
	done chan struct{}
	at   time.Time
	fr   FleetRestore
	err  error
}

// restorePostTTL is how long a review form's token is remembered.
const restorePostTTL = 15 * time.Minute

type restoreKey struct {
	account AccountID
	id      rcbu.RestoreID
}

// NewRestores returns the restores service. snap may be nil; requests keeps
// what each restore was asked to do (the store).
func NewRestores(fleet *Fleet, audit *Audit, snap Snapshotter, requests RestoreRequestStore, now func() time.Time, log *slog.Logger) *Restores {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Restores{fleet: fleet, audit: audit, snap: snap, requests: requests, trails: newJobTrails(), now: now, log: log,
		started: map[restoreKey]bool{}, posts: map[string]*restorePost{}}
}

// RestoreSource is a configuration with restorable backups.
type RestoreSource struct {
	AccountID   AccountID
	AccountName string
	Available   rcbu.AvailableBackup
}

// Sources lists the configurations of the scope that have restorable
// backups, by agent and name. An account that fails becomes a problem.
func (s *Restores) Sources(ctx context.Context, scope Scope) ([]RestoreSource, []AccountProblem, error) {
	out, problems, err := perAccount(ctx, s.fleet, scope, "backup", func(ctx context.Context, a Account, c *rcbu.Client) ([]RestoreSource, error) {
		list, err := c.Restores.AvailableBackups(ctx)
		if err != nil {
			return nil, upstream("list restorable backups", "backup", err)
		}
		out := make([]RestoreSource, len(list))
		for i, ab := range list {
			out[i] = RestoreSource{AccountID: a.ID, AccountName: a.Name, Available: ab}
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("restore sources: %w", err)
	}
	slices.SortStableFunc(out, func(a, b RestoreSource) int {
		if c := strings.Compare(strings.ToLower(a.Available.MachineName), strings.ToLower(b.Available.MachineName)); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Available.ConfigurationName), strings.ToLower(b.Available.ConfigurationName))
	})
	return out, problems, nil
}

// RestorePlan is the restore wizard's state: everything chosen so far. The
// wizard carries it in the URL (each step is a GET form), never in the
// session; the vault passphrase is not part of it.
type RestorePlan struct {
	ConfigurationID rcbu.ConfigurationID
	BackupID        rcbu.BackupID
	DestinationID   rcbu.AgentID
	PathMode        string // PathOriginal or PathOther
	Path            string // PathOther: the folder to restore into
	Overwrite       bool
	Include         []string // paths of the backup to restore; none means all
	Exclude         []string // paths of the backup to leave out
}

// Destination path modes.
const (
	PathOriginal = "original"
	PathOther    = "other"
)

// maxRestorePaths bounds the include and exclude lists.
const maxRestorePaths = 100

// ParseRestorePlan reads the wizard's state from a query or form: the
// paths to restore are the picker's ticked "pick" values and the typed
// "include" lines together. It only parses; Check decides whether a step's choices are complete and valid.
// Garbage ids read as zero (not chosen).
func ParseRestorePlan(q url.Values) RestorePlan {
	id := func(k string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(q.Get(k)), 10, 64)
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	p := RestorePlan{
		ConfigurationID: rcbu.ConfigurationID(id("configuration")),
		BackupID:        rcbu.BackupID(id("backup")),
		DestinationID:   rcbu.AgentID(id("destination")),
		PathMode:        q.Get("path_mode"),
		Path:            strings.TrimSpace(q.Get("path")),
		Overwrite:       q.Get("overwrite") == "true",
		Include:         picked(q["pick"], lines(q.Get("include"))),
		Exclude:         lines(q.Get("exclude")),
	}
	if p.PathMode != PathOther {
		p.PathMode = PathOriginal
	}
	return p
}

// Values writes the plan back as query values, the inverse of
// ParseRestorePlan, for links and hidden fields.
func (p RestorePlan) Values() url.Values {
	v := url.Values{}
	set := func(k string, n int64) {
		if n > 0 {
			v.Set(k, strconv.FormatInt(n, 10))
		}
	}
	set("configuration", int64(p.ConfigurationID))
	set("backup", int64(p.BackupID))
	set("destination", int64(p.DestinationID))
	if p.PathMode == PathOther { // the original location is the default
		v.Set("path_mode", p.PathMode)
	}
	if p.Path != "" {
		v.Set("path", p.Path)
	}
	if p.Overwrite {
		v.Set("overwrite", "true")
	}
	if len(p.Include) > 0 {
		v.Set("include", strings.Join(p.Include, "\n"))
	}
	if len(p.Exclude) > 0 {
		v.Set("exclude", strings.Join(p.Exclude, "\n"))
	}
	return v
}

// picked merges the paths ticked in the picker with those typed, in that
// order, each once.
func picked(ticked, typed []string) []string {
	var out []string
	for _, p := range append(ticked, typed...) {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Wizard steps, in order.
const (
	StepBackup      = 1 // configuration and backup
	StepDestination = 2 // agent, path, overwrite
	StepFiles       = 3 // include / exclude
	StepReview      = 4
)

// RestoreContext is what the wizard knows about a plan's choices: the
// source configuration, its restorable backups (newest first), the source
// agent, the chosen backup, and the agents it can go to.
type RestoreContext struct {
	Source       FleetConfiguration
	SourceAgent  FleetAgent
	Backups      []rcbu.CompletedBackup
	Backup       *rcbu.CompletedBackup // the chosen one, when valid
	Destinations []FleetAgent          // the source account's agents, live
	Destination  *FleetAgent           // the chosen one, when valid
	Encrypted    bool                  // the source vault is encrypted: a passphrase is needed
}

// Load reads what the plan refers to, up to the given step, and checks the
// choices of the steps before it. The error is a *WizardError for a missing
// or invalid choice, ErrNotFound for a configuration outside the scope, or
// an *UpstreamError.
func (s *Restores) Load(ctx context.Context, scope Scope, p RestorePlan, upTo int) (RestoreContext, error) {
	var rc RestoreContext
	if p.ConfigurationID == 0 {
		return rc, stepInvalid(StepBackup, "configuration", "Choose the configuration to restore from.")
	}
	fc, c, err := s.fleet.Configuration(ctx, scope, p.ConfigurationID)
	if err != nil {
		return rc, fmt.Errorf("restore: %w", err)
	}
	rc.Source = fc
	acct := NewScope(mustAccount(scope, fc.AccountID))
	var (
		agents        []FleetAgent
		errB, errA    error
		wg            sync.WaitGroup
		needAgentList = upTo >= StepDestination
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		rc.Backups, errB = c.Backups.ListCompleted(ctx, p.ConfigurationID)
	}()
	if needAgentList {
		wg.Add(1)
		go func() {
			defer wg.Done()
			agents, _, errA = s.fleet.AgentsLive(ctx, acct)
		}()
	}
	wg.Wait()
	if errB != nil {
		return rc, fmt.Errorf("restore: %w", upstream("list restorable backups", "configuration", errB))
	}
	if errA != nil {
		return rc, fmt.Errorf("restore: %w", errA)
	}
	slices.SortFunc(rc.Backups, func(a, b rcbu.CompletedBackup) int { return b.CompletedTime.Compare(a.CompletedTime.Time) })
	slices.SortStableFunc(agents, func(a, b FleetAgent) int {
		return strings.Compare(strings.ToLower(a.Agent.MachineName), strings.ToLower(b.Agent.MachineName))
	})
	rc.Destinations = agents
	for i := range agents {
		if agents[i].Agent.ID == fc.Configuration.AgentID {
			rc.SourceAgent = agents[i]
		}
	}
	if rc.SourceAgent.Agent.ID == 0 {
		rc.SourceAgent = FleetAgent{AccountID: fc.AccountID, AccountName: fc.AccountName, Agent: rcbu.Agent{ID: fc.Configuration.AgentID, MachineName: fc.Configuration.MachineName, IsEncrypted: fc.Configuration.IsEncrypted}}
	}
	rc.Encrypted = fc.Configuration.IsEncrypted || rc.SourceAgent.Agent.IsEncrypted
	if upTo <= StepBackup {
		return rc, nil
	}
	i := slices.IndexFunc(rc.Backups, func(b rcbu.CompletedBackup) bool { return b.ID == p.BackupID })
	if i < 0 {
		return rc, stepInvalid(StepBackup, "backup", "Choose one of the restorable backups.")
	}
	rc.Backup = &rc.Backups[i]
	if upTo <= StepDestination {
		return rc, nil
	}
	v := validation{}
	j := slices.IndexFunc(rc.Destinations, func(a FleetAgent) bool { return a.Agent.ID == p.DestinationID })
	if j < 0 {
		v.add("destination", "Choose the agent to restore to.")
	} else {
		rc.Destination = &rc.Destinations[j]
	}
	if p.PathMode == PathOther && !absPath(p.Path) {
		v.add("path", "Enter an absolute folder path such as /srv/restore or C:\\Restore.")
	}
	if err := v.err(); err != nil {
		return rc, withStep(StepDestination, err)
	}
	if upTo <= StepFiles {
		return rc, nil
	}
	for _, list := range []struct {
		field string
		paths []string
	}{{"include", p.Include}, {"exclude", p.Exclude}} {
		if len(list.paths) > maxRestorePaths {
			v.add(list.field, fmt.Sprintf("Use at most %d paths.", maxRestorePaths))
		}
		for _, path := range list.paths {
			if !absPath(path) {
				v.add(list.field, fmt.Sprintf("%.100q is not an absolute path of the backup.", path))
				break
			}
		}
	}
	for _, ex := range p.Exclude {
		if slices.Contains(p.Include, ex) {
			v.add("exclude", fmt.Sprintf("%.100q is both included and excluded.", ex))
			break
		}
	}
	if err := v.err(); err != nil {
		return rc, withStep(StepFiles, err)
	}
	return rc, nil
}

// WizardError is a wizard choice that is missing or wrong: the step where
// it is made, and the messages by form field. It unwraps to the
// *ValidationError, so errors.Is(err, ErrInvalid) holds.
type WizardError struct {
	Step    int
	Invalid *ValidationError
}

// Error implements error.
func (e *WizardError) Error() string { return fmt.Sprintf("restore step %d: %v", e.Step, e.Invalid) }

// Unwrap returns the field messages.
func (e *WizardError) Unwrap() error { return e.Invalid }

// stepInvalid is a WizardError for one field of step.
func stepInvalid(step int, field, msg string) error {
	return &WizardError{Step: step, Invalid: Invalid(field, msg)}
}

// withStep ties a validation error to the step whose fields it is about.
func withStep(step int, err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return &WizardError{Step: step, Invalid: ve}
	}
	return err
}

// absPath accepts Linux and Windows absolute paths.
func absPath(p string) bool {
	if p == "" || strings.ContainsRune(p, 0) || len(p) > 4096 {
		return false
	}
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) {
		return true
	}
	return len(p) >= 3 && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z' && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// windowsAgent reports whether an agent runs Windows.
func windowsAgent(a rcbu.Agent) bool {
	return strings.Contains(strings.ToLower(a.OperatingSystem), "windows")
}

// DestinationPath is where a plan restores to on agent a: the chosen folder,
// or for the original location the file system's root, so that every file
// goes back to the path it was backed up from.
func (p RestorePlan) DestinationPath(a rcbu.Agent) string {
	if p.PathMode == PathOther {
		return p.Path
	}
	if windowsAgent(a) {
		return `C:\`
	}
	return "/"
}

// itemType reads a path's trailing separator as "folder". A root ("/",
// "C:\") keeps its separator.
func itemType(p string) (string, rcbu.RestoreItemType) {
	if !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, `\`) {
		return p, rcbu.RestoreItemFile
	}
	dir := strings.TrimRight(p, `/\`)
	if dir == "" || strings.HasSuffix(dir, ":") {
		dir = p[:len(dir)+1]
	}
	return dir, rcbu.RestoreItemFolder
}

// StartInput is the review step's POST: the confirmation of an overwrite
// and the vault passphrase. The passphrase is used once, to encrypt it for
// the restore's public key, and never stored or logged.
type StartInput struct {
	ConfirmOverwrite bool
	Passphrase       string
	// Token identifies the review form (NewStartToken): posting the same
	// form again starts nothing new and returns the first restore.
	Token string
}

// Start checks the whole plan and starts the restore: create it (state
// Creating), add the include/exclude paths, then start it with the
// passphrase encrypted for the restore's key. It returns the restore. A
// second post of the same form (same token) waits for the first and
// returns its restore instead of starting another; after a failure the
// form may be posted again.
func (s *Restores) Start(ctx context.Context, actor User, scope Scope, p RestorePlan, in StartInput) (FleetRestore, error) {
	if !validToken(in.Token) {
		return s.start(ctx, actor, scope, p, in)
	}
	s.mu.Lock()
	now := s.now()
	for t, e := range s.posts {
		if now.Sub(e.at) > restorePostTTL {
			delete(s.posts, t)
		}
	}
	if e, ok := s.posts[in.Token]; ok {
		s.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return FleetRestore{}, fmt.Errorf("start restore: %w", ctx.Err())
		}
		if e.err == nil {
			return e.fr, nil
		}
		return s.Start(ctx, actor, scope, p, in) // the first post failed and was forgotten
	}
	e := &restorePost{done: make(chan struct{}), at: now}
	s.posts[in.Token] = e
	s.mu.Unlock()
	e.fr, e.err = s.start(ctx, actor, scope, p, in)
	if e.err != nil {
		s.mu.Lock()
		delete(s.posts, in.Token)
		s.mu.Unlock()
	}
	close(e.done)
	return e.fr, e.err
}

func (s *Restores) start(ctx context.Context, actor User, scope Scope, p RestorePlan, in StartInput) (FleetRestore, error) {
	target := fmt.Sprintf("backup %d of configuration %d", p.BackupID, p.ConfigurationID)
	fail := auditedFail[FleetRestore](ctx, s.audit, actor, ActionRestoreStart, &target, "start restore")
	if !actor.Role.Allows(RoleCreator) {
		return fail(ErrForbidden)
	}
	rc, err := s.Load(ctx, scope, p, StepReview)
	if err == nil {
		err = permitOn(actor, rc.Source.AccountID, RoleCreator)
	}
	if err == nil {
		err = permitOn(actor, rc.Destination.AccountID, RoleCreator)
	}
	if err != nil {
		return fail(err)
	}
	dest := *rc.Destination
	target = fmt.Sprintf("backup %d of %s to %s", p.BackupID, configTarget(p.ConfigurationID, rc.Source.Configuration.Name, rc.Source.Configuration.MachineName), dest.Agent.MachineName)
	v := validation{}
	if p.Overwrite && !in.ConfirmOverwrite {
		v.add("confirm_overwrite", "Confirm that files at the destination may be replaced, or go back and turn overwriting off.")
	}
	if rc.Encrypted && in.Passphrase == "" {
		v.add("passphrase", "Enter the passphrase of the encrypted vault.")
	}
	if len(in.Passphrase) > 1024 {
		v.add("passphrase", "The passphrase is too long.")
	}
	if err := v.err(); err != nil {
		return fail(withStep(StepReview, err))
	}
	switch {
	case dest.Agent.IsDisabled:
		return fail(upstream("start restore", "agent", ErrAgentDisabled))
	case dest.Live && dest.Agent.Status == rcbu.AgentStatusOffline:
		return fail(upstream("start restore", "agent", ErrAgentOffline))
	}
	c, err := s.fleet.Client(ctx, scope, rc.Source.AccountID)
	if err != nil {
		return fail(err)
	}
	req := &rcbu.RestoreRequest{
		BackupID:           p.BackupID,
		BackupAgentID:      rc.Source.Configuration.AgentID,
		DestinationAgentID: dest.Agent.ID,
		DestinationPath:    p.DestinationPath(dest.Agent),
		OverwriteFiles:     p.Overwrite,
		BackupDatacenter:   rc.SourceAgent.Agent.Datacenter,
	}
	r, err := c.Restores.Create(ctx, req)
	if err != nil {
		return fail(upstream("create restore", "backup", err))
	}
	s.fleet.Invalidate(rc.Source.AccountID)
	target = fmt.Sprintf("restore %d: %s", r.ID, target)
	for _, path := range p.Include {
		path, t := itemType(path)
		if err := c.Restores.Include(ctx, r.ID, path, t); err != nil {
			return fail(upstream("include a path", "restore", err))
		}
	}
	for _, path := range p.Exclude {
		path, t := itemType(path)
		if err := c.Restores.Exclude(ctx, r.ID, path, t); err != nil {
			return fail(upstream("exclude a path", "restore", err))
		}
	}
	var opts *rcbu.RestoreStartOptions
	if rc.Encrypted {
		if r.PublicKey == nil {
			return fail(upstream("start restore", "restore", errors.New("the restore has no public key to encrypt the passphrase with")))
		}
		enc, err := rcbu.EncryptPassphrase(r.PublicKey, in.Passphrase)
		if err != nil {
			return fail(upstream("start restore", "restore", fmt.Errorf("encrypt passphrase: %w", err)))
		}
		opts = &rcbu.RestoreStartOptions{EncryptedPassword: enc}
	}
	if _, err := c.Restores.Start(ctx, r.ID, opts); err != nil {
		return fail(upstream("start restore", "restore", err))
	}
	s.fleet.Invalidate(rc.Source.AccountID)
	s.mu.Lock()
	s.started[restoreKey{rc.Source.AccountID, r.ID}] = true
	s.mu.Unlock()
	s.trails.started(trailKey{rc.Source.AccountID, KindRestore, int64(r.ID)}, rcbu.RestoreStartRequested.String(), s.now())
	rq := RestoreRequest{AccountID: rc.Source.AccountID, RestoreID: r.ID, ConfigID: p.ConfigurationID, BackupID: p.BackupID,
		DestAgentID: dest.Agent.ID, DestName: dest.Agent.MachineName, DestPath: req.DestinationPath, Original: p.PathMode != PathOther,
		Overwrite: p.Overwrite, Include: p.Include, Exclude: p.Exclude, Created: s.now()}
	if err := s.requests.SaveRestoreRequest(context.WithoutCancel(ctx), rq); err != nil {
		// The restore runs; only its page cannot repeat the request.
		s.log.WarnContext(ctx, "restore_request_not_saved", slog.Int64("restore_id", int64(r.ID)), slog.Any("err", err))
	}
	detail := "to " + req.DestinationPath
	if p.Overwrite {
		detail += ", overwriting"
	}
	s.audit.Record(ctx, actorEntry(actor, ActionRestoreStart, target, nil, detail))
	return FleetRestore{AccountID: rc.Source.AccountID, AccountName: rc.Source.AccountName, Restore: *r}, nil
}

// RestoreJob is a restore as its live panel shows it: its state and, once
// it has finished, its report.
type RestoreJob struct {
	FleetRestore
	Report        *rcbu.RestoreReport
	ReportProblem string
	// Trail is the states the console has seen the restore in, oldest first.
	Trail []StateSeen
	// Request is what the restore was asked to do, when the console
	// started it (nil otherwise).
	Request *RestoreRequest
}

// Done reports whether the restore has finished.
func (j RestoreJob) Done() bool { return j.Restore.State.Done() }

// Job returns a restore's live state, with its report once done. A restore
// started here is handed to the Snapshotter when first seen finished.
func (s *Restores) Job(ctx context.Context, scope Scope, id rcbu.RestoreID) (RestoreJob, error) {
	fr, c, err := s.fleet.Restore(ctx, scope, id)
	if err != nil {
		return RestoreJob{}, fmt.Errorf("restore %d: %w", id, err)
	}
	j := RestoreJob{FleetRestore: fr}
	at := s.now()
	if fr.Restore.State.Done() {
		at = time.Time{} // known from the report, below
	}
	j.Trail = s.trails.observe(trailKey{fr.AccountID, KindRestore, int64(id)}, fr.Restore.State.String(), at)
	if rq, err := s.requests.RestoreRequest(ctx, fr.AccountID, id); err == nil {
		j.Request = &rq
	}
	if !j.Done() {
		return j, nil
	}
	rep, err := c.Restores.Report(ctx, id)
	switch {
	case err == nil:
		j.Report = rep
	case errors.Is(err, rcbu.ErrNotFound):
		j.ReportProblem = "The report is not ready yet."
	default:
		j.ReportProblem = Problem(err, "report")
	}
	s.finished(ctx, restoreKey{fr.AccountID, id})
	return j, nil
}

// finished hands a restore started here to the Snapshotter, once.
func (s *Restores) finished(ctx context.Context, k restoreKey) {
	s.mu.Lock()
	mine := s.started[k]
	delete(s.started, k)
	s.mu.Unlock()
	if !mine || s.snap == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.snap.SnapshotRestore(sctx, k.account, k.id); err != nil {
		// The history's periodic sync stores it later; nothing is lost.
		s.log.WarnContext(ctx, "restore_snapshot_failed", slog.Int64("restore_id", int64(k.id)), slog.Any("err", err))
	}
}

// Stop asks a running restore to stop.
func (s *Restores) Stop(ctx context.Context, actor User, scope Scope, id rcbu.RestoreID) (FleetRestore, error) {
	target := fmt.Sprintf("restore %d", id)
	fail := auditedFail[FleetRestore](ctx, s.audit, actor, ActionRestoreStop, &target, fmt.Sprintf("stop restore %d", id))
	if !actor.Role.Allows(RoleCreator) {
		return fail(ErrForbidden)
	}
	fr, c, err := s.fleet.Restore(ctx, scope, id)
	if err == nil {
		err = permitOn(actor, fr.AccountID, RoleCreator)
	}
	if err != nil {
		return fail(err)
	}
	target = fmt.Sprintf("restore %d (%s to %s)", id, fr.Restore.ConfigurationName, fr.Restore.DestinationMachineName)
	if !fr.Restore.State.Busy() {
		return fail(Conflict("the restore is not running (%s)", fr.Restore.State))
	}
	if err := c.Restores.Stop(ctx, id); err != nil {
		return fail(upstream("stop restore", "restore", err))
	}
	s.fleet.Invalidate(fr.AccountID)
	s.audit.Record(ctx, actorEntry(actor, ActionRestoreStop, target, nil))
	return fr, nil
}
