package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// memAudit is an in-memory AuditStore.
type memAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
}

func (m *memAudit) InsertAudit(_ context.Context, e AuditEntry) (AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = AuditID(len(m.entries) + 1)
	m.entries = append(m.entries, e)
	return e, nil
}

func (m *memAudit) PruneAudit(context.Context, time.Time) (int64, error) { return 0, nil }

func (m *memAudit) ListAudit(context.Context, AuditFilter) ([]AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.entries), nil
}

func (m *memAudit) find(action AuditAction) []AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []AuditEntry
	for _, e := range m.entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// fakeSnap records snapshot calls.
type fakeSnap struct {
	mu      sync.Mutex
	backups []rcbu.BackupID
}

func (s *fakeSnap) SnapshotBackup(_ context.Context, _ AccountID, id rcbu.BackupID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backups = append(s.backups, id)
	return nil
}

func (s *fakeSnap) SnapshotRestore(context.Context, AccountID, rcbu.RestoreID) error { return nil }

type opsEnv struct {
	*simEnv
	ops   *Ops
	audit *memAudit
	snap  *fakeSnap
	agent rcbu.AgentID
	cfg   rcbu.ConfigurationID
}

var (
	admin    = User{ID: 1, Email: "admin@example.com", Role: RoleAdmin}
	creator  = User{ID: 2, Email: "creator@example.com", Role: RoleCreator}
	observer = User{ID: 3, Email: "observer@example.com", Role: RoleObserver}
)

func newOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	env := &opsEnv{simEnv: newSimEnv(t), audit: &memAudit{}, snap: &fakeSnap{}}
	env.agent = rcbu.AgentID(env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true}))
	id, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: int64(env.agent), Name: "nightly", Frequency: "Daily", Hour: 2, Inclusions: []string{"/var/www"}})
	if err != nil {
		t.Fatal(err)
	}
	env.cfg = rcbu.ConfigurationID(id)
	log := slog.New(slog.DiscardHandler)
	audit := NewAudit(env.audit, env.sim.Now, log)
	env.ops = NewOps(NewFleet(env, FleetOptions{}), audit, OpsOptions{Now: env.sim.Now, Snapshotter: env.snap, TokenTTL: 24 * time.Hour})
	return env
}

// startBackup starts a backup of env.cfg as a creator and returns its id.
func (env *opsEnv) startBackup(t *testing.T) rcbu.BackupID {
	t.Helper()
	res, err := env.ops.StartBackup(ctxT(t), creator, env.scope(1), env.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return res.Backup.Backup.ID
}

func TestStartBackupRolesAndAudit(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	if _, err := env.ops.StartBackup(ctx, observer, env.scope(1), env.cfg, ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("observer start: %v", err)
	}
	if n := len(env.sim.Backups()); n != 0 {
		t.Fatalf("observer started %d backups", n)
	}
	res, err := env.ops.StartBackup(ctx, creator, env.scope(1), env.cfg, NewStartToken())
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyRunning || res.Repeated || res.Backup.Backup.ID == 0 || !res.Backup.Backup.State.Busy() {
		t.Errorf("start result = %+v", res)
	}
	entries := env.audit.find(ActionBackupStart)
	if len(entries) != 2 || entries[0].Outcome != OutcomeFailed || entries[1].Outcome != OutcomeOK ||
		entries[1].Target != "configuration "+strconv.FormatInt(int64(env.cfg), 10)+" (nightly)" || entries[1].Actor != creator.Email {
		t.Errorf("audit = %+v", entries)
	}
	if _, err := env.ops.StartBackup(ctx, creator, env.scope(2), env.cfg, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("start in another account's scope: %v", err)
	}
}

func TestStartBackupStartsOneAtATime(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	token := NewStartToken()

	// A double click: the same form posted concurrently, twice, plus a
	// second page's form: one backup.
	var wg sync.WaitGroup
	results := make([]StartedBackup, 6)
	errs := make([]error, 6)
	for i := range results {
		tok := token
		if i%2 == 1 {
			tok = NewStartToken()
		}
		wg.Go(func() { results[i], errs[i] = env.ops.StartBackup(ctx, creator, env.scope(1), env.cfg, tok) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
	}
	if n := len(env.sim.Backups()); n != 1 {
		t.Fatalf("sim has %d backups, want 1", n)
	}
	first := env.sim.Backups()[0].ID
	for i, r := range results {
		if int64(r.Backup.Backup.ID) != first {
			t.Errorf("start %d returned backup %d, want %d", i, r.Backup.Backup.ID, first)
		}
	}

	// Once it has finished, the same form posted again still starts nothing.
	env.sim.Advance(6 * time.Hour)
	res, err := env.ops.StartBackup(ctx, creator, env.scope(1), env.cfg, token)
	if err != nil || !res.Repeated || int64(res.Backup.Backup.ID) != first {
		t.Errorf("repeat after finish = %+v, %v", res, err)
	}
	// A fresh form starts a new one.
	res, err = env.ops.StartBackup(ctx, creator, env.scope(1), env.cfg, NewStartToken())
	if err != nil || res.AlreadyRunning || res.Repeated || int64(res.Backup.Backup.ID) == first {
		t.Errorf("new start = %+v, %v", res, err)
	}
	if n := len(env.sim.Backups()); n != 2 {
		t.Errorf("sim has %d backups, want 2", n)
	}
}

func TestStartBackupOfflineAgentInWords(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	env.sim.SetAgentOnline(int64(env.agent), false)
	_, err := env.ops.StartBackup(ctxT(t), creator, env.scope(1), env.cfg, "")
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Message() != "The agent is offline; wake it and try again." {
		t.Fatalf("err = %v", err)
	}
	if n := len(env.sim.Backups()); n != 0 {
		t.Errorf("started %d backups", n)
	}
	if e := env.audit.find(ActionBackupStart); len(e) != 1 || e[0].Outcome != OutcomeFailed {
		t.Errorf("audit = %+v", e)
	}

	env.sim.SetAgentOnline(int64(env.agent), true)
	env.ops.Fleet().Invalidate(1)
	env.sim.FailNext(rcbusim.OpStartBackup, http.StatusForbidden)
	_, err = env.ops.StartBackup(ctxT(t), creator, env.scope(1), env.cfg, "")
	if !errors.As(err, &ue) || ue.Message() != "Your Rackspace account role does not allow this." {
		t.Errorf("403: err = %v", err)
	}
}

func TestStopBackupAndJobStatus(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	id := env.startBackup(t)
	j, err := env.ops.BackupJob(ctx, env.scope(1), id)
	if err != nil || j.Done() || j.Started.IsZero() || j.Report != nil {
		t.Fatalf("busy job = %+v, %v", j, err)
	}
	if _, err := env.ops.StopBackup(ctx, observer, env.scope(1), id); !errors.Is(err, ErrForbidden) {
		t.Errorf("observer stop: %v", err)
	}
	fb, err := env.ops.StopBackup(ctx, creator, env.scope(1), id)
	if err != nil || fb.Backup.State != rcbu.BackupStopRequested {
		t.Fatalf("stop = %+v, %v", fb, err)
	}
	env.sim.Advance(time.Hour)
	j, err = env.ops.BackupJob(ctx, env.scope(1), id)
	if err != nil || !j.Done() || j.Backup.State != rcbu.BackupStopped {
		t.Fatalf("stopped job = %+v, %v", j, err)
	}
	if _, err := env.ops.StopBackup(ctx, creator, env.scope(1), id); !errors.Is(err, ErrConflict) {
		t.Errorf("stop of a finished backup: %v", err)
	}
	if len(env.snap.backups) != 1 || env.snap.backups[0] != id {
		t.Errorf("snapshots = %v, want [%d]", env.snap.backups, id)
	}
	// Seeing it again does not snapshot it twice.
	if _, err := env.ops.BackupJob(ctx, env.scope(1), id); err != nil {
		t.Fatal(err)
	}
	if len(env.snap.backups) != 1 {
		t.Errorf("snapshots after a second look = %v", env.snap.backups)
	}
	if e := env.audit.find(ActionBackupStop); len(e) != 3 || e[1].Outcome != OutcomeOK || e[2].Outcome != OutcomeFailed {
		t.Errorf("stop audit = %+v", e)
	}
}

func TestBackupJobReportOnceDone(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	id := env.startBackup(t)
	env.sim.SetNextOutcome(int64(env.cfg), rcbusim.StateCompleted)
	env.sim.Advance(6 * time.Hour)
	j, err := env.ops.BackupJob(ctx, env.scope(1), id)
	if err != nil {
		t.Fatal(err)
	}
	if !j.Done() || j.Report == nil || !j.Report.OK() || j.Elapsed(env.sim.Now()) <= 0 {
		t.Errorf("done job = %+v (report %+v)", j, j.Report)
	}
}

func TestAJobEndingHereRefreshesTheFleet(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	id := env.startBackup(t)
	env.sim.SetNextOutcome(int64(env.cfg), rcbusim.StateCompleted)
	// The agent's details are read (and cached) while the backup runs.
	fa, _, err := env.ops.fleet.Agent(ctx, env.scope(1), env.agent)
	if err != nil || fa.Agent.TimeOfLastSuccessfulBackup.Valid() {
		t.Fatalf("agent while running = %+v, %v; want no success yet", fa.Agent, err)
	}
	env.sim.Advance(6 * time.Hour)
	if j, err := env.ops.BackupJob(ctx, env.scope(1), id); err != nil || !j.Done() {
		t.Fatalf("job = %+v, %v; want done", j, err)
	}
	// Its end, seen here, drops the cache: the agent's last success shows at once.
	fa, _, err = env.ops.fleet.Agent(ctx, env.scope(1), env.agent)
	if err != nil || !fa.Agent.TimeOfLastSuccessfulBackup.Valid() {
		t.Errorf("agent after the backup = %+v, %v; want its last success", fa.Agent, err)
	}
}
