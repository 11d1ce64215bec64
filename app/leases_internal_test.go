package app

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// memLeases is an in-memory LeaseStore shared by the "replicas" of a test;
// db's tests check the real one on SQLite and PostgreSQL.
type memLeases struct {
	mu sync.Mutex
	m  map[string]struct {
		holder string
		until  time.Time
	}
}

func (m *memLeases) AcquireLease(_ context.Context, name, holder string, now, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]struct {
			holder string
			until  time.Time
		}{}
	}
	if l, ok := m.m[name]; ok && l.holder != holder && l.until.After(now) {
		return false, nil
	}
	m.m[name] = struct {
		holder string
		until  time.Time
	}{holder, until}
	return true, nil
}

func (m *memLeases) ReleaseLease(_ context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m[name].holder == holder {
		delete(m.m, name)
	}
	return nil
}

func (m *memLeases) ReleaseLeases(context.Context, string) error { return nil }

func (m *memLeases) HeldLeases(context.Context, string, time.Time) ([]string, error) {
	return nil, nil
}

// Two replicas, each with its own start lock and Start-form memory, get
// the same Start at once (a double submit that a load balancer spread over
// both): one backup starts, the other replica answers with it.
func TestTwoReplicasStartOneBackup(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	leases := &memLeases{}
	log := slog.New(slog.DiscardHandler)
	replicas := []*Ops{env.ops, nil}
	for i := range replicas {
		replicas[i] = NewOps(NewFleet(env, FleetOptions{}), NewAudit(env.audit, env.sim.Now, log),
			OpsOptions{Now: env.sim.Now, Snapshotter: env.snap, TokenTTL: 24 * time.Hour, Leases: NewLeases(leases, time.Minute, env.sim.Now)})
	}
	ctx := ctxT(t)
	token := NewStartToken()
	results := make([]StartedBackup, len(replicas))
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for i, ops := range replicas {
		wg.Go(func() { results[i], errs[i] = ops.StartBackup(ctx, creator, env.scope(1), env.cfg, token) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	if n := len(env.sim.Backups()); n != 1 {
		t.Fatalf("two replicas started %d backups; want 1", n)
	}
	if results[0].Backup.Backup.ID != results[1].Backup.Backup.ID || !(results[0].AlreadyRunning || results[1].AlreadyRunning) {
		t.Errorf("results = %+v / %+v; want one started and the other pointing at it", results[0], results[1])
	}
}
