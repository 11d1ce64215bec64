package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// histEnv is a simulator behind a wrapping handler (for fault injection),
// a real SQLite file, one account and the history services over them.
type histEnv struct {
	sim     *rcbusim.Server
	clock   *rcbusim.FakeClock
	url     string
	dbPath  string
	store   *db.Store
	acct    app.Account
	clients *histClients
	history *app.History
	syncer  *app.Syncer
	audit   *app.Audit
	// wrap, when set, handles the request instead of the simulator.
	mu   sync.Mutex
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

type histClients struct {
	mu sync.Mutex
	m  map[app.AccountID]*rcbu.Client
}

func (c *histClients) Client(_ context.Context, id app.AccountID) (*rcbu.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.m[id]
	if !ok {
		return nil, app.ErrNotFound
	}
	return cl, nil
}

type histAccounts struct{ list []app.Account }

func (a histAccounts) List(context.Context) ([]app.Account, error) { return a.list, nil }

func newHistEnv(t *testing.T, opts app.SyncOptions, simOpts ...rcbusim.Option) *histEnv {
	t.Helper()
	fc := rcbusim.NewFakeClock(time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC))
	sim := rcbusim.New(append([]rcbusim.Option{rcbusim.WithClock(fc), rcbusim.WithWakeDelay(0), rcbusim.WithRandSeed(7)}, simOpts...)...)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	e := &histEnv{sim: sim, clock: fc, dbPath: filepath.Join(t.TempDir(), "history.db")}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		wrap := e.wrap
		e.mu.Unlock()
		if wrap != nil {
			wrap(w, r, sim)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	e.open(t, opts)
	return e
}

// open (re)opens the database and builds the services on it, as a restart does.
func (e *histEnv) open(t *testing.T, opts app.SyncOptions) {
	t.Helper()
	// Bounded, but generous: on a machine busy with other test binaries
	// opening and migrating a database has taken more than 10 s.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := db.Open(ctx, e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	accts, err := store.ListAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) == 0 {
		a, err := store.CreateAccount(ctx, app.Account{Name: "Demo", Username: rcbusim.DemoUser, Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
			IdentityURL: e.url + "/v2.0/tokens", Source: app.SourceAdmin, Created: e.clock.Now(), Updated: e.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		accts = []app.Account{a}
	}
	e.acct = accts[0]
	cl, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: rcbusim.DemoUser, APIKey: rcbusim.DemoAPIKey},
		rcbu.WithIdentityURL(e.url+"/v2.0/tokens"), rcbu.WithAllRegions(), rcbu.WithRetry(1, 0, 0), rcbu.WithStartRetry(1, 0), rcbu.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.clients = &histClients{m: map[app.AccountID]*rcbu.Client{e.acct.ID: cl}}
	log := slog.New(slog.DiscardHandler)
	e.audit = app.NewAudit(store, e.clock.Now, log)
	e.history = app.NewHistory(store, e.clients, e.audit, e.clock.Now, log)
	e.syncer = app.NewSyncer(e.history, histAccounts{accts}, opts)
}

func (e *histEnv) setWrap(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	e.mu.Lock()
	e.wrap = f
	e.mu.Unlock()
}

// want returns the finished jobs the simulator has reports for.
func (e *histEnv) want() (backups, restores []int64) {
	for _, b := range e.sim.Backups() {
		if b.Tenant == rcbusim.DemoTenant && rcbu.BackupState(b.State).Done() {
			backups = append(backups, b.ID)
		}
	}
	for _, r := range e.sim.Restores() {
		if r.Tenant == rcbusim.DemoTenant && rcbu.RestoreState(r.StateID).Done() {
			restores = append(restores, r.ID)
		}
	}
	return backups, restores
}

// stored returns the stored job ids of a kind, ascending.
func (e *histEnv) stored(t *testing.T, kind app.ReportKind) []int64 {
	t.Helper()
	var out []int64
	err := e.history.Export(context.Background(), app.ReportFilter{Accounts: []app.AccountID{e.acct.ID}, Kind: kind, Sort: app.SortFinished, Asc: true},
		func(r app.Report) error { out = append(out, r.JobID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func (e *histEnv) assertComplete(t *testing.T) {
	t.Helper()
	wb, wr := e.want()
	if len(wb) == 0 {
		t.Fatal("the simulator has no finished backups; the test proves nothing")
	}
	if diff := cmp.Diff(wb, e.stored(t, app.KindBackup)); diff != "" {
		t.Errorf("stored backups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wr, e.stored(t, app.KindRestore)); diff != "" {
		t.Errorf("stored restores (-want +got):\n%s", diff)
	}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	// The test's own bound; generous because parallel tests share a busy
	// machine (the binary's -timeout still ends a hung run).
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestSyncStoresEveryFinishedReportOnce(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{BatchSize: 40}, rcbusim.WithScale(4, 2, 6))
	n, err := e.syncer.SyncAccount(ctx, e.acct.ID)
	if err != nil {
		t.Fatalf("SyncAccount: %v", err)
	}
	e.assertComplete(t)
	wb, wr := e.want()
	if n != len(wb)+len(wr) {
		t.Errorf("SyncAccount stored %d; want %d", n, len(wb)+len(wr))
	}
	// A second sync stores nothing new and changes nothing.
	n, err = e.syncer.SyncAccount(ctx, e.acct.ID)
	if err != nil || n != 0 {
		t.Errorf("second SyncAccount = %d, %v; want 0, nil", n, err)
	}
	e.assertComplete(t)

	// The raw body is the API's, byte for byte, and the columns match it.
	cl, _ := e.clients.Client(ctx, e.acct.ID)
	id := wb[len(wb)/2]
	raw, err := cl.Backups.ReportRaw(ctx, rcbu.BackupID(id))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.history.Get(ctx, []app.AccountID{e.acct.ID}, app.KindBackup, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, got.Raw) {
		t.Errorf("stored raw differs from the API body:\n%s\n%s", got.Raw, raw)
	}
	rep, err := cl.Backups.Report(ctx, rcbu.BackupID(id))
	if err != nil {
		t.Fatal(err)
	}
	if got.State != string(rep.State) || got.BytesBackedUp != rep.BytesBackedUp.Bytes || got.FilesSearched != rep.FilesSearched ||
		got.ErrorCount != rep.NumErrors || got.AgentID != rep.AgentID || got.ConfigName != rep.ConfigurationName ||
		!got.Finished.Equal(rep.CompletedTime.Time.Truncate(time.Second)) || got.Duration != rep.Duration || got.ParseError != "" || len(got.Errors) != len(rep.Errors) {
		got.Raw = nil
		t.Errorf("stored columns %+v do not match the report %+v", got, rep)
	}
	st, err := e.store.SyncState(ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cursor.IsZero() || !st.Backfilled || st.LastError != "" || st.LastOK.IsZero() {
		t.Errorf("sync state after success = %+v", st)
	}

	// New jobs finish: the next sync picks up just those.
	started := 0
	for _, cfg := range e.sim.ConfigurationIDs(rcbusim.DemoTenant) {
		if _, err := cl.Backups.Start(ctx, rcbu.ConfigurationID(cfg)); err == nil {
			started++ // agents that are offline refuse; that is fine
		}
	}
	if started == 0 {
		t.Fatal("no backup could be started")
	}
	e.sim.Advance(6 * time.Hour)
	n, err = e.syncer.SyncAccount(ctx, e.acct.ID)
	if err != nil || n < started {
		t.Errorf("sync after new jobs = %d, %v; want at least the %d started", n, err, started)
	}
	e.assertComplete(t)
}

func TestSyncRidesOutUnavailabilityAndTokenExpiry(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{BatchSize: 25, Concurrency: 4}, rcbusim.WithScale(3, 2, 5))
	var reports atomic.Int64
	e.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.Contains(r.URL.Path, "/report/") && reports.Add(1)%11 == 0 {
			http.Error(w, `{"Message":"try later"}`, http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
	// The activity list fails first: nothing is stored, the state says why.
	e.sim.FailNext(rcbusim.OpListActivity, http.StatusServiceUnavailable)
	if _, err := e.syncer.SyncAccount(ctx, e.acct.ID); !errors.Is(err, rcbu.ErrUnavailable) {
		t.Fatalf("sync with the activity list down: err = %v; want ErrUnavailable", err)
	}
	st, err := e.store.SyncState(ctx, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.LastError, "unavailable") || !st.LastOK.IsZero() {
		t.Errorf("state after a failed sync = %+v; want the problem in words", st)
	}
	// Reports fail now and then (no client retries here) and tokens expire
	// between attempts: each sync keeps what it got, and they converge.
	var failures int
	for i := 0; ; i++ {
		if i == 60 {
			t.Fatal("the sync never completed")
		}
		if i%3 == 1 {
			e.sim.ExpireTokens()
		}
		_, err := e.syncer.SyncAccount(ctx, e.acct.ID)
		if err == nil {
			break
		}
		if !errors.Is(err, rcbu.ErrUnavailable) {
			t.Fatalf("sync %d: %v", i, err)
		}
		failures++
	}
	if failures == 0 {
		t.Error("no sync failed; the convergence path was not exercised")
	}
	e.assertComplete(t)
}

func TestSyncResumesAfterACrashWithoutLossOrDuplicates(t *testing.T) {
	t.Parallel()
	e := newHistEnv(t, app.SyncOptions{BatchSize: 20, Concurrency: 4}, rcbusim.WithScale(5, 2, 10))
	wb, wr := e.want()
	total := len(wb) + len(wr)
	if total < 80 {
		t.Fatalf("only %d jobs; the test needs several batches", total)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	var reports atomic.Int64
	e.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.Contains(r.URL.Path, "/report/") && reports.Add(1) == int64(total/2+7) {
			cancel() // the process dies in the middle of a batch
		}
		next.ServeHTTP(w, r)
	})
	n, err := e.syncer.SyncAccount(ctx, e.acct.ID)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sync: %d, %v; want context.Canceled", n, err)
	}
	if n < 20 || n >= total {
		t.Fatalf("interrupted sync committed %d of %d reports; want the batches before the crash", n, total)
	}
	before := len(e.stored(t, app.KindBackup)) + len(e.stored(t, app.KindRestore))
	if before != n {
		t.Errorf("%d reports in the database; the sync said it committed %d", before, n)
	}
	st, err := e.store.SyncState(context.Background(), e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Cursor.IsZero() {
		t.Error("the cursor was not saved with the committed batches")
	}

	// Restart: reopen the file, build everything anew, sync again.
	e.setWrap(nil)
	e.store.Close()
	e.open(t, app.SyncOptions{BatchSize: 20})
	ctx2 := testCtx(t)
	n2, err := e.syncer.SyncAccount(ctx2, e.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n+n2 != total {
		t.Errorf("stored %d before and %d after the crash; want %d in all (nothing twice, nothing lost)", n, n2, total)
	}
	e.assertComplete(t)
}

func TestSyncKeepsAReportThatDoesNotParse(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{}, rcbusim.WithScale(2, 1, 3))
	wb, _ := e.want()
	bad := wb[0]
	garbage := []byte(`{"BackupId": ` + "\x01" + `, "State": "Completed"`)
	e.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/backup/report/"+strconv.FormatInt(bad, 10)) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(garbage)
			return
		}
		next.ServeHTTP(w, r)
	})
	if _, err := e.syncer.SyncAccount(ctx, e.acct.ID); err != nil {
		t.Fatal(err)
	}
	e.assertComplete(t)
	got, err := e.history.Get(ctx, []app.AccountID{e.acct.ID}, app.KindBackup, bad)
	if err != nil {
		t.Fatal(err)
	}
	if got.ParseError == "" || !bytes.Equal(got.Raw, garbage) {
		t.Errorf("unparseable report: parse error %q raw %q; want flagged and kept as sent", got.ParseError, got.Raw)
	}
	if got.AgentName == "" || got.State == "" || got.Finished.IsZero() {
		t.Errorf("unparseable report columns = %+v; want them from the activity item", got)
	}
}

func TestSyncBackfillsHistoryTheActivityListNoLongerHas(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{}, rcbusim.WithScale(3, 2, 6))
	// The activity list keeps only its 10 newest items, as the real service
	// keeps activity for a limited time.
	e.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if !strings.HasSuffix(r.URL.Path, "/activity") {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var items []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		items = items[:min(10, len(items))]
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(items)
	})
	if _, err := e.syncer.SyncAccount(ctx, e.acct.ID); err != nil {
		t.Fatal(err)
	}
	// Every restorable backup is there, though activity named only 10 jobs.
	var restorable []int64
	for _, b := range e.sim.Backups() {
		if s := rcbu.BackupState(b.State); b.Tenant == rcbusim.DemoTenant && (s == rcbu.BackupCompleted || s == rcbu.BackupCompletedWithErrors) {
			restorable = append(restorable, b.ID)
		}
	}
	stored := e.stored(t, app.KindBackup)
	for _, id := range restorable {
		if _, ok := slices.BinarySearch(stored, id); !ok {
			t.Fatalf("restorable backup %d was not backfilled (stored %d of %d)", id, len(stored), len(restorable))
		}
	}
}

func TestGetSnapshotsAReportOnView(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{}, rcbusim.WithScale(1, 1, 2))
	wb, _ := e.want()
	scope := []app.AccountID{e.acct.ID}
	got, err := e.history.Get(ctx, scope, app.KindBackup, wb[0])
	if err != nil {
		t.Fatalf("Get of an unsynced finished backup: %v", err)
	}
	if got.JobID != wb[0] || len(got.Raw) == 0 {
		t.Errorf("Get = %+v; want the fetched report", got)
	}
	if stored := e.stored(t, app.KindBackup); !slices.Equal(stored, []int64{wb[0]}) {
		t.Errorf("stored after viewing = %v; want just the viewed one", stored)
	}
	if _, err := e.history.Get(ctx, scope, app.KindBackup, 987654); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Get of an unknown job: %v; want ErrNotFound", err)
	}
	if _, err := e.history.Get(ctx, nil, app.KindBackup, wb[0]); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Get outside every scope: %v; want ErrNotFound", err)
	}
	// A running job has no report yet: not found, nothing stored.
	cl, _ := e.clients.Client(ctx, e.acct.ID)
	var b *rcbu.Backup
	for _, cfg := range e.sim.ConfigurationIDs(rcbusim.DemoTenant) {
		if b, err = cl.Backups.Start(ctx, rcbu.ConfigurationID(cfg)); err == nil {
			break
		}
	}
	if b == nil {
		t.Fatalf("no backup could be started: %v", err)
	}
	if err := e.history.SnapshotBackup(ctx, e.acct.ID, b.ID); !errors.Is(err, rcbu.ErrNotFound) {
		t.Errorf("SnapshotBackup of a running backup: %v; want rcbu.ErrNotFound", err)
	}
	e.sim.Advance(12 * time.Hour)
	if err := e.history.SnapshotBackup(ctx, e.acct.ID, b.ID); err != nil {
		t.Errorf("SnapshotBackup once finished: %v", err)
	}
	if err := e.history.SnapshotBackup(ctx, e.acct.ID, b.ID); err != nil {
		t.Errorf("SnapshotBackup again: %v; want a no-op", err)
	}
}

func TestWorkerSyncsOnStartBacksOffAndSyncsNowOnDemand(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	type call struct {
		stored int
		failed bool
	}
	calls := make(chan call, 10)
	e := newHistEnv(t, app.SyncOptions{Interval: time.Hour, BackoffBase: time.Hour, BackoffMax: 4 * time.Hour,
		AfterSync: func(_ context.Context, _ app.AccountID, stored int, err error) { calls <- call{stored, err != nil} }},
		rcbusim.WithScale(2, 1, 2))
	e.sim.FailNext(rcbusim.OpListActivity, http.StatusServiceUnavailable)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.syncer.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })

	status := func() app.SyncStatus {
		st, err := e.syncer.Status(ctx, []app.Account{e.acct})
		if err != nil {
			t.Fatal(err)
		}
		return st[0]
	}
	poll.Until(t, "the first (failing) sync", func() bool { s := status(); return s.Failures == 1 && !s.Running })
	s := status()
	if !s.NextAttempt.Equal(e.clock.Now().Add(time.Hour)) || s.LastError == "" {
		t.Errorf("after a failure: next %v (now %v), error %q; want a backoff and the reason", s.NextAttempt, e.clock.Now(), s.LastError)
	}
	if got := e.stored(t, app.KindBackup); len(got) != 0 {
		t.Errorf("stored %d after a failed sync", len(got))
	}
	// On demand: the backoff is cleared and the sync runs at once.
	creator := app.User{ID: 1, Email: "c@example.com", Role: app.RoleCreator}
	if err := e.syncer.SyncNow(ctx, app.User{Role: app.RoleObserver}, []app.AccountID{e.acct.ID}); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("SyncNow by an observer: %v; want ErrForbidden", err)
	}
	if err := e.syncer.SyncNow(ctx, creator, []app.AccountID{e.acct.ID}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the on-demand sync", func() bool { s := status(); return s.Failures == 0 && !s.Running && !s.LastOK.IsZero() })
	e.assertComplete(t)
	// The AfterSync hook saw both passes: the failure, then the stored reports.
	wb, wr := e.want()
	if first, second := <-calls, <-calls; !first.failed || second.failed || second.stored != len(wb)+len(wr) {
		t.Errorf("AfterSync calls = %+v, %+v; want a failure, then %d stored", first, second, len(wb)+len(wr))
	}
	entries, err := e.store.ListAudit(ctx, app.AuditFilter{Action: app.ActionReportsSync, Limit: 5})
	if err != nil || len(entries) != 1 || entries[0].Actor != creator.Email {
		t.Errorf("audit of SyncNow = %+v, %v", entries, err)
	}
}

func TestWorkerPrunesSnapshotsOlderThanKeepDays(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	e := newHistEnv(t, app.SyncOptions{}, rcbusim.WithScale(2, 1, 8))
	if _, err := e.syncer.SyncAccount(ctx, e.acct.ID); err != nil {
		t.Fatal(err)
	}
	cut := e.clock.Now().Add(-3 * 24 * time.Hour)
	count := func(f app.ReportFilter) int {
		f.Accounts = []app.AccountID{e.acct.ID}
		n := 0
		if err := e.history.Export(ctx, f, func(app.Report) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	old, recent := count(app.ReportFilter{To: cut}), count(app.ReportFilter{From: cut})
	if old == 0 || recent == 0 {
		t.Fatalf("old %d, recent %d: the test needs both", old, recent)
	}
	s := app.NewSyncer(e.history, histAccounts{[]app.Account{e.acct}}, app.SyncOptions{Interval: time.Hour, KeepDays: 3})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	poll.Until(t, "the automatic prune", func() bool { return count(app.ReportFilter{To: cut}) == 0 })
	if got := count(app.ReportFilter{From: cut}); got < recent {
		t.Errorf("%d recent snapshots after the prune; want all %d kept", got, recent)
	}
}
