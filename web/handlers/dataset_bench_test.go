package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
	"github.com/rcbu-console/rcbu-console/upstream"
)

// The fleet benchmarks run on data shaped like a real team's: the
// simulator as `rcbusim -agents N -latency 20ms` starts it (the demo estate
// plus N generated agents with 2 configurations each and 60 days of
// history: about 26,000 reports at 200 agents) with that whole history
// synced into the store by the console's own report sync. Syncing takes a
// while, so the synced database is built once and cached under
// os.TempDir(), keyed by fleetDatasetVersion, the agent count and a
// fingerprint of the simulator's generated backups, so it is rebuilt when
// the generator changes. Each benchmark works on its own copy.
//
//	go test -run '^$' -bench Fleet -benchtime 20x ./web/handlers/
const fleetDatasetVersion = "v1"

// fleetLatency is the simulator's latency per API call in the benchmarks.
const fleetLatency = 20 * time.Millisecond

// fleetSimOptions are the simulator options of the dataset with agents
// generated agents (the flags `-agents N` of cmd/rcbusim, whose defaults
// are the demo dataset and 2 configurations per agent).
func fleetSimOptions(agents int) []rcbusim.Option {
	return []rcbusim.Option{rcbusim.WithDataset("demo"), rcbusim.WithScale(agents, 2, 0)}
}

// fleetDataset is one cached, fully synced database.
type fleetDataset struct {
	path    string
	reports int64
	err     error
}

var (
	fleetDatasetsMu sync.Mutex
	fleetDatasets   = map[int]*fleetDataset{}
)

// fleetDB returns the path of the cached synced database for agents
// generated agents, building it on first use (minutes for 1,000 agents).
func fleetDB(b *testing.B, agents int) fleetDataset {
	b.Helper()
	fleetDatasetsMu.Lock()
	defer fleetDatasetsMu.Unlock()
	ds := fleetDatasets[agents]
	if ds == nil {
		ds = buildFleetDataset(agents)
		fleetDatasets[agents] = ds
	}
	if ds.err != nil {
		b.Fatal(ds.err)
	}
	return *ds
}

// simFingerprint hashes every generated backup (id, configuration, state,
// times) and restore of the simulator, so that a change of the generator
// gives a new cache key.
func simFingerprint(sim *rcbusim.Server) string {
	h := sha256.New()
	var buf [8]byte
	put := func(v int64) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	for _, bk := range sim.Backups() {
		put(bk.ID)
		put(bk.ConfigurationID)
		put(bk.Start.Unix())
		put(bk.End.Unix())
		io.WriteString(h, bk.State)
	}
	for _, r := range sim.Restores() {
		put(r.ID)
		put(r.End.Unix())
		io.WriteString(h, r.State)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// newFleetSim is the dataset's simulator at the tests' fixed instant.
func newFleetSim(agents int, extra ...rcbusim.Option) *rcbusim.Server {
	opts := append([]rcbusim.Option{rcbusim.WithClock(rcbusim.NewFakeClock(testStart)), rcbusim.WithWakeDelay(0)}, fleetSimOptions(agents)...)
	return rcbusim.New(append(opts, extra...)...)
}

func buildFleetDataset(agents int) *fleetDataset {
	sim := newFleetSim(agents)
	if err := sim.Err(); err != nil {
		return &fleetDataset{err: err}
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("rcbu-fleet-bench-%s-%d-%s.db", fleetDatasetVersion, agents, simFingerprint(sim)))
	ctx := context.Background()
	if _, err := os.Stat(path); err == nil {
		n, err := countReports(ctx, path)
		if err == nil && n > 0 {
			return &fleetDataset{path: path, reports: n}
		}
	}
	tmp := path + ".tmp"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	start := time.Now()
	hs := httptest.NewServer(sim)
	defer hs.Close()
	n, err := syncFleetDataset(ctx, tmp, hs.URL+"/v2.0/tokens")
	if err != nil {
		return &fleetDataset{err: fmt.Errorf("fleet dataset (%d agents): %w", agents, err)}
	}
	if err := os.Rename(tmp, path); err != nil {
		return &fleetDataset{err: err}
	}
	fmt.Fprintf(os.Stderr, "fleet dataset: %d agents, %d reports synced in %s into %s\n", agents, n, time.Since(start).Round(time.Second), path)
	return &fleetDataset{path: path, reports: n}
}

// syncFleetDataset creates the demo account in a new store at path and runs
// the console's report sync over the simulator's whole history.
func syncFleetDataset(ctx context.Context, path, identityURL string) (int64, error) {
	store, err := db.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	log := quietLog()
	sealer, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		return 0, err
	}
	now := func() time.Time { return testStart }
	audit := app.NewAudit(store, now, log)
	accounts := app.NewAccounts(store, sealer, upstream.NewConnector(nil, app.NewUpstreamBudget(app.DefaultBackgroundCalls), log, "bench"), audit, now, log)
	demo, err := accounts.EnsureDemo(ctx, identityURL, rcbusim.DemoUser, rcbusim.DemoAPIKey)
	if err != nil {
		return 0, err
	}
	history := app.NewHistory(store, accounts, audit, now, log)
	syncer := app.NewSyncer(history, accounts, app.SyncOptions{Concurrency: 8, BatchSize: 500})
	if _, err := syncer.SyncAccount(ctx, demo.ID); err != nil {
		return 0, err
	}
	if _, err := store.DB().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, err
	}
	var n int64
	if err := store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM reports`).Scan(&n); err != nil {
		return 0, err
	}
	return n, nil
}

func countReports(ctx context.Context, path string) (int64, error) {
	store, err := db.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	var n int64
	err = store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM reports`).Scan(&n)
	return n, err
}

// copyFile copies src to dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fleetEnv is the console's whole HTTP stack on a copy of the synced
// dataset, against the dataset's simulator at 20 ms a call, with every
// upstream round trip counted.
type fleetEnv struct {
	*testEnv
	deps  Deps
	calls atomic.Int64 // requests the simulator served
	// paused, when set, holds report requests at the simulator until
	// it is closed (pauseReports, resumeReports).
	pauseMu sync.Mutex
	paused  chan struct{}
	reports int64        // snapshots in the store
	ck      *http.Cookie // a signed-in observer
}

// newFleetEnv builds the stack for the dataset with agents generated agents.
// The observer's first overview signs in to the API and fills the caches.
func newFleetEnv(b *testing.B, agents int) *fleetEnv {
	b.Helper()
	ds := fleetDB(b, agents)
	path := filepath.Join(b.TempDir(), "web.db")
	if err := copyFile(path, ds.path); err != nil {
		b.Fatal(err)
	}
	fe := &fleetEnv{reports: ds.reports}
	te, deps := buildTestEnv(b, envOptions{
		dbPath: path,
		// As in production (cmd/web): lists are served up to a minute
		// stale while one background refresh replaces them.
		fleetMaxStale: time.Minute,
		sim:           append(fleetSimOptions(agents), rcbusim.WithLatency(fleetLatency, 0)),
		wrapSim: func(sim http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fe.calls.Add(1)
				if strings.Contains(r.URL.Path, "/report/") {
					fe.pauseMu.Lock()
					gate := fe.paused
					fe.pauseMu.Unlock()
					if gate != nil {
						select {
						case <-gate:
						case <-r.Context().Done():
						}
					}
				}
				sim.ServeHTTP(w, r)
			})
		},
	})
	if fp, want := simFingerprint(te.sim.Server), filepath.Base(ds.path); !strings.Contains(want, "-"+fp+".db") {
		b.Fatalf("the benchmark's simulator (%s) is not the dataset's (%s)", fp, want)
	}
	fe.testEnv, fe.deps = te, deps
	fe.ck = te.loginRole(app.RoleObserver)
	fe.mustGet(b, "/")
	return fe
}

// mustGet GETs path as the observer and fails on any status but 200.
func (fe *fleetEnv) mustGet(b *testing.B, path string) *httptest.ResponseRecorder {
	b.Helper()
	rec := fe.get(path, fe.ck)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d", path, rec.Code)
	}
	return rec
}

// pauseReports holds every report request at the simulator until
// resumeReports: a report sync stops fetching (and storing).
func (fe *fleetEnv) pauseReports() {
	fe.pauseMu.Lock()
	defer fe.pauseMu.Unlock()
	if fe.paused == nil {
		fe.paused = make(chan struct{})
	}
}

// resumeReports lets report requests through again.
func (fe *fleetEnv) resumeReports() {
	fe.pauseMu.Lock()
	defer fe.pauseMu.Unlock()
	if fe.paused != nil {
		close(fe.paused)
		fe.paused = nil
	}
}
