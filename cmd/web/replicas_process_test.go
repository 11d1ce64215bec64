package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// Two console processes, built from this package, on one PostgreSQL
// schema and one simulator: what the README's "Running several replicas"
// promises, shown on real processes. The first scenario is a team on two
// healthy replicas (a session that works on both, a history synced once, a
// Start posted to both that starts one backup, whose failure is told once);
// the second kills the replica that is syncing and watches the other finish.
func TestReplicaProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the console and runs four console processes (about 45 s)")
	}
	if os.Getenv("RCBU_TEST_POSTGRES") == "" {
		postgresForTest(t) // skips, or fails under CI
	}
	bin := buildConsole(t)
	t.Run("one team on two replicas", func(t *testing.T) { replicasServeOneTeam(t, bin) })
	t.Run("a replica killed mid-sync", func(t *testing.T) { replicaKilledMidSync(t, bin) })
}

// The generated history both scenarios sync is of 20 agents with two daily
// configurations each, over 14 days (some 560 reports); the admin is the
// one both replicas are given.
const (
	replicaAgents      = 20
	replicaHistoryDays = 14
	replicaAdminEmail  = "admin@example.com"
	replicaAdminPass   = "the operator's own password"
)

func replicasServeOneTeam(t *testing.T, bin string) {
	sim, fetches, simURL := replicaSimulator(t, 300*time.Millisecond)
	// A configuration of its own for the Starts: manual, so nothing the
	// clock does starts it, and without history.
	agent := sim.AgentIDs(rcbusim.DemoTenant)[0]
	cfg, err := sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "replicas-start", Inclusions: []string{"/srv/replicas"}})
	if err != nil {
		t.Fatal(err)
	}
	want := simulatorReports(sim)
	hook := newWebhookReceiver(t)
	store, a, b, account := startReplicas(t, bin, simURL)
	admin := signInAdmin(t, a.base)

	if !t.Run("a session from one replica works on the other", func(t *testing.T) {
		if got := getStatus(t, admin, b.base+"/agents"); got != http.StatusOK {
			t.Fatalf("replica B answers the page of a session signed in on A with %d; want 200", got)
		}
		resp := postFrom(t, admin, b.base, "/alerts/channels", url.Values{
			"name": {"replicas webhook"}, "kind": {"webhook"}, "enabled": {"true"}, "url": {hook.url},
			"secret": {"the receiver's own key"}, "rules": {string(app.RuleBackupFailed)},
		}, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/alerts/channels" {
			t.Fatalf("adding a channel through replica B (same origin): %d to %q; want 303 to /alerts/channels", resp.StatusCode, resp.Header.Get("Location"))
		}
		if page := getBody(t, admin, a.base+"/alerts/channels"); !strings.Contains(page, "replicas webhook") {
			t.Fatalf("replica A does not list the channel added through B:\n%s", page)
		}
		cross := postFrom(t, admin, b.base, "/alerts/channels", url.Values{"name": {"from elsewhere"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if cross.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site POST to replica B: %d; want 403", cross.StatusCode)
		}
		onB := b.leases(t)
		for _, l := range a.leases(t) {
			if slices.Contains(onB, l) {
				t.Errorf("both replicas hold the lease %s", l)
			}
		}
	}) {
		return
	}
	channel := store.int(t, `SELECT id FROM alert_channels WHERE name = 'replicas webhook'`)

	if !t.Run("the history is synced once", func(t *testing.T) {
		store.waitForSync(t, account, time.Time{})
		if got, distinct := store.reportCount(t); got != want || distinct != want {
			t.Fatalf("PostgreSQL holds %d reports (%d distinct jobs); the simulator has %d finished jobs", got, distinct, want)
		}
		fetched := fetches.counts()
		if len(fetched) != want {
			t.Errorf("the replicas fetched %d different reports; want %d", len(fetched), want)
		}
		var again []string
		for path, n := range fetched {
			if n != 1 {
				again = append(again, fmt.Sprintf("%s %d times", path, n))
			}
		}
		if len(again) > 0 {
			slices.Sort(again)
			t.Errorf("%d reports were fetched more than once (each should be fetched by one replica, once), such as %v", len(again), again[:min(len(again), 5)])
		}
	}) {
		return
	}

	// Its first notice to a channel is a summary of what is open; the
	// failure below should be a notice of its own.
	poll.UntilWithin(t, time.Minute, 100*time.Millisecond, "the new channel to have had its first summary", func() bool {
		return store.int(t, `SELECT count(*) FROM alert_channel_primed WHERE channel_id = $1`, channel) == 1
	})

	sim.SetNextOutcome(cfg, "Failed")
	var backup int64
	if !t.Run("two Starts through the two replicas start one backup", func(t *testing.T) {
		second := signInAdmin(t, b.base) // another session, as a second person would have
		type answer struct {
			status   int
			location string
			err      error
		}
		answers := make([]answer, 2)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i, side := range []struct {
			hc   *http.Client
			base string
		}{{admin, a.base}, {second, b.base}} {
			req := startRequest(t, side.base, cfg)
			wg.Go(func() {
				<-gate
				resp, err := side.hc.Do(req)
				if err != nil {
					answers[i].err = err
					return
				}
				resp.Body.Close()
				answers[i] = answer{resp.StatusCode, resp.Header.Get("Location"), nil}
			})
		}
		close(gate)
		wg.Wait()
		var started []rcbusim.BackupInfo
		for _, bk := range sim.Backups() {
			if bk.ConfigurationID == cfg {
				started = append(started, bk)
			}
		}
		if len(started) != 1 {
			t.Fatalf("the simulator ran %d backups of the configuration; want 1 (answers %+v)", len(started), answers)
		}
		backup = started[0].ID
		wantLoc := fmt.Sprintf("/backups/%d", backup)
		var flashes []string
		for i, ans := range answers {
			if ans.err != nil || ans.status != http.StatusSeeOther || ans.location != wantLoc {
				t.Fatalf("Start through replica %c: %d to %q (%v); want 303 to %s", 'A'+i, ans.status, ans.location, ans.err, wantLoc)
			}
			hc, base := admin, a.base
			if i == 1 {
				hc, base = second, b.base
			}
			doc := getDoc(t, hc, base+ans.location)
			flashes = append(flashes, strings.TrimSpace(doc.Find(`[data-testid="flash"]`).Text()))
		}
		slices.Sort(flashes)
		if len(flashes) != 2 || !strings.HasPrefix(flashes[0], "A backup of this configuration was already running") || !strings.HasPrefix(flashes[1], "Backup started.") {
			t.Errorf("the two people were told %q; want one \"Backup started.\" and one \"already running\"", flashes)
		}
	}) {
		return
	}

	if !t.Run("a failure is told once", func(t *testing.T) {
		// The digest goes to the same channel: "Send digest now" on a
		// replica makes that replica run its outbox at once.
		if resp := postFrom(t, admin, a.base, "/alerts/settings", url.Values{
			"offline_hours": {"24"}, "growth_factor": {"5"}, "digest_frequency": {"off"}, "digest_hour": {"8"},
			"digest_weekday": {"1"}, "digest_channel": {strconv.FormatInt(channel, 10)}, "default_grace": {""},
		}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("choose the digest channel: %d; want 303", resp.StatusCode)
		}
		object := fmt.Sprintf("backup:%d", backup)
		release := hook.holdFirst(object)
		defer release()
		poll.UntilWithin(t, time.Minute, 10*time.Millisecond, "the started backup to fail in the simulator", func() bool {
			sim.Advance(time.Minute)
			for _, bk := range sim.Backups() {
				if bk.ID == backup {
					return bk.State == "Failed"
				}
			}
			return false
		})
		poll.UntilWithin(t, 2*time.Minute, 100*time.Millisecond, "the webhook's notice of the failed backup", func() bool {
			return hook.count(string(app.EventOpened), object) > 0
		})
		// While one replica is still sending that notice (the receiver has
		// not answered), both are asked for a digest now. The sending
		// replica's outbox waits for its answer; the other's runs at once,
		// claims what is due and sends its digest, and must leave the
		// notice that the first has claimed alone.
		for _, r := range []*replica{a, b} {
			if resp := postFrom(t, admin, r.base, "/alerts/digest/send", nil, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("send the digest now through replica %s: %d; want 303", r.name, resp.StatusCode)
			}
		}
		poll.UntilWithin(t, holdLimit-time.Second, 20*time.Millisecond, "a digest from the replica not sending the notice of the failure", func() bool {
			return hook.count(string(app.EventDigest), "") > 0
		})
		release()
		// Both replicas evaluate the account again after the notice went
		// out (each a turn of the lease), and the outbox has nothing left
		// to send: no replica can tell it again after this.
		for _, r := range []*replica{a, b} {
			r.evaluateNow(t, admin, cfg)
		}
		poll.UntilWithin(t, time.Minute, 100*time.Millisecond, "the outbox to have sent everything", func() bool {
			return store.int(t, `SELECT count(*) FROM alert_deliveries WHERE channel_id = $1 AND status = 'pending'`, channel) == 0
		})
		if n := hook.count(string(app.EventOpened), object); n != 1 {
			t.Errorf("the receiver got %d notices of the failed backup; want 1", n)
		}
		if again := hook.repeated(); len(again) > 0 {
			t.Errorf("deliveries received more than once: %v", again)
		}
	}) {
		return
	}

	t.Run("signing out on one replica ends the session on both", func(t *testing.T) {
		if resp := postFrom(t, admin, b.base, "/logout", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign out on replica B: %d; want 303", resp.StatusCode)
		}
		if got := getStatus(t, admin, a.base+"/agents"); got != http.StatusSeeOther {
			t.Errorf("after signing out on B, replica A answers %d; want a redirect to sign in", got)
		}
	})
	a.stop(t, store)
	b.stop(t, store)
}

func replicaKilledMidSync(t *testing.T, bin string) {
	// Each call of the simulator takes 80 ms, so the sync of the history
	// (two calls at a time in the background) lasts long enough to be
	// interrupted.
	sim, fetches, simURL := replicaSimulator(t, 0, rcbusim.WithLatency(80*time.Millisecond, 0))
	want := simulatorReports(sim)
	store, a, b, account := startReplicas(t, bin, simURL)
	lease := fmt.Sprintf("sync:%d", account)

	var syncing, survivor *replica
	poll.UntilWithin(t, 2*time.Minute, 50*time.Millisecond, "a replica part-way through the sync, holding "+lease, func() bool {
		if n, _ := store.reportCount(t); n == 0 {
			return false
		}
		for _, r := range []*replica{a, b} {
			if slices.Contains(r.leases(t), lease) {
				syncing = r
				return true
			}
		}
		return false
	})
	survivor = a
	if syncing == a {
		survivor = b
	}
	syncing.kill(t)
	killed := time.Now()
	stored, _ := store.reportCount(t)
	if stored >= want {
		t.Fatalf("replica %s had stored all %d reports before it was killed; the sync should be slower", syncing.name, want)
	}
	t.Logf("killed replica %s with %d of %d reports stored", syncing.name, stored, want)

	store.waitForSync(t, account, killed)
	if got, distinct := store.reportCount(t); got != want || distinct != want {
		t.Errorf("after the takeover PostgreSQL holds %d reports (%d distinct jobs); the simulator has %d finished jobs", got, distinct, want)
	}
	if fetched := len(fetches.counts()); fetched != want {
		t.Errorf("the replicas fetched %d different reports; want all %d", fetched, want)
	}
	survivor.stop(t, store)
}

// buildConsole builds this package's binary once for the test. The go
// command's test runner puts its own toolchain first on PATH.
func buildConsole(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rcbu-web")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// replicaSimulator serves a simulator of the generated history on a
// frozen clock (nothing runs or finishes unless the test advances it),
// behind a simFront.
func replicaSimulator(t *testing.T, activityDelay time.Duration, opts ...rcbusim.Option) (*rcbusim.Server, *simFront, string) {
	t.Helper()
	opts = append([]rcbusim.Option{
		rcbusim.WithDataset("empty"), rcbusim.WithScale(replicaAgents, 2, replicaHistoryDays),
		rcbusim.WithClock(rcbusim.NewFakeClock(time.Now())),
	}, opts...)
	sim := rcbusim.New(opts...)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	fetches := &simFront{next: sim, activityDelay: activityDelay, n: map[string]int{}}
	srv := httptest.NewServer(fetches)
	t.Cleanup(srv.Close)
	return sim, fetches, srv.URL
}

// simulatorReports counts the finished jobs of the demo tenant: the
// reports a complete sync stores.
func simulatorReports(sim *rcbusim.Server) int {
	n := 0
	for _, b := range sim.Backups() {
		if b.Tenant == rcbusim.DemoTenant && rcbu.BackupState(b.State).Done() {
			n++
		}
	}
	for _, r := range sim.Restores() {
		if r.Tenant == rcbusim.DemoTenant && !r.End.IsZero() {
			n++
		}
	}
	return n
}

// startReplicas starts replicas A and B, one after the other, on a fresh
// schema and the simulator at simURL, and returns the test's connection to
// the schema and the account both use.
func startReplicas(t *testing.T, bin, simURL string) (store *sharedStore, a, b *replica, account int64) {
	t.Helper()
	dsn := postgresForTest(t)
	store = openShared(t, dsn)
	vars := replicaEnv(dsn, simURL)
	a = startReplica(t, bin, "A", vars)
	b = startReplica(t, bin, "B", vars)
	return store, a, b, store.accountID(t)
}

// replicaEnv is the environment both replicas share: one database, one
// secret, one Rackspace account, and leases short enough for a test.
func replicaEnv(dsn, simURL string) map[string]string {
	return map[string]string{
		"RCBU_WEB_ADDR":                  "127.0.0.1:0",
		"RCBU_WEB_DB":                    dsn,
		"RCBU_WEB_SECRET":                strings.Repeat("shared secret ", 4),
		"RCBU_WEB_ADMIN_EMAIL":           replicaAdminEmail,
		"RCBU_WEB_ADMIN_PASSWORD":        replicaAdminPass,
		"RCBU_USERNAME":                  rcbusim.DemoUser,
		"RCBU_API_KEY":                   rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL":              simURL + "/v2.0/tokens",
		"RCBU_WEB_LEASE_TTL":             "5s",
		"RCBU_WEB_SYNC_INTERVAL":         "10s",
		"RCBU_WEB_ALLOW_PRIVATE_TARGETS": "true", // the webhook receiver is on loopback
		"RCBU_WEB_LOG_LEVEL":             "debug",
	}
}

// simFront is in front of the simulator: it counts the GETs of each backup
// and restore report by kind and id (whatever the region prefix), and can
// hold back the answer to an agent's activity list.
type simFront struct {
	next http.Handler
	// activityDelay holds back each answer to an agent's activity list,
	// which a Start reads to find a backup already running: two Starts
	// that did not wait for each other would both find none.
	activityDelay time.Duration
	mu            sync.Mutex
	n             map[string]int
}

func (f *simFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		for _, kind := range []string{"/backup/report/", "/restore/report/"} {
			if _, id, ok := strings.Cut(r.URL.Path, kind); ok {
				f.mu.Lock()
				f.n[kind+id]++
				f.mu.Unlock()
			}
		}
		if f.activityDelay > 0 && strings.Contains(r.URL.Path, "/system/activity/") {
			rec := httptest.NewRecorder()
			f.next.ServeHTTP(rec, r) // the list as it is now, answered later
			time.Sleep(f.activityDelay)
			maps.Copy(w.Header(), rec.Header())
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

func (f *simFront) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.n)
}

// webhookReceiver records the notices the consoles send it. It can hold
// back its answer to one notice, so that its sender is still sending it.
type webhookReceiver struct {
	url string
	mu  sync.Mutex
	got []receivedNotice
	// hold is the object whose first alert.opened notice is answered only
	// once held is closed (or after holdLimit).
	hold string
	held chan struct{}
}

// holdLimit bounds how long the receiver holds back an answer, well within
// the consoles' 10 s webhook timeout: a notice that timed out would rightly
// be sent again.
const holdLimit = 7 * time.Second

type receivedNotice struct {
	event, delivery, object string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	h := &webhookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Object string `json:"object"`
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body)
		n := receivedNotice{r.Header.Get("X-RCBU-Event"), r.Header.Get("X-RCBU-Delivery"), body.Object}
		h.mu.Lock()
		h.got = append(h.got, n)
		var wait chan struct{}
		if h.hold != "" && n.event == string(app.EventOpened) && n.object == h.hold {
			wait, h.hold = h.held, ""
		}
		h.mu.Unlock()
		if wait != nil {
			select {
			case <-wait:
			case <-r.Context().Done():
			case <-time.After(holdLimit):
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

// holdFirst holds back the answer to the next alert.opened notice about
// object until the returned func is called (once or more).
func (h *webhookReceiver) holdFirst(object string) (release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	held := make(chan struct{})
	h.hold, h.held = object, held
	return sync.OnceFunc(func() { close(held) })
}

// count returns how many notices of event about object arrived.
func (h *webhookReceiver) count(event, object string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, g := range h.got {
		if g.event == event && g.object == object {
			n++
		}
	}
	return n
}

// repeated returns the delivery ids that arrived more than once.
func (h *webhookReceiver) repeated() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]int{}
	var out []string
	for _, g := range h.got {
		if seen[g.delivery]++; seen[g.delivery] == 2 {
			out = append(out, g.delivery)
		}
	}
	return out
}

// replica is one console process.
type replica struct {
	name   string
	base   string
	holder string // its name in the leases table
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed once the process has exited
	err    error         // how it exited, once done
}

var startedRE = regexp.MustCompile(`msg=server_started .*replica=(\S+)`)

// startReplica starts the console binary with vars (and nothing else of
// the test's environment) and waits until it listens. Its stderr goes to
// the test log if the test fails; a replica still running at the end is
// stopped.
func startReplica(t *testing.T, bin, name string, vars map[string]string) *replica {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout := &syncBuffer{}
	r := &replica{name: name, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = stdout, r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start replica %s: %v", name, err)
	}
	go func() { r.err = cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-r.done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-r.done
			}
		}
		if t.Failed() {
			t.Logf("replica %s (%s) stderr:\n%s", name, r.holder, r.stderr.String())
		}
	})
	poll.UntilWithin(t, 2*time.Minute, 20*time.Millisecond, "replica "+name+" to listen", func() bool {
		select {
		case <-r.done:
			t.Fatalf("replica %s exited before it listened: %v\nstderr:\n%s", name, r.err, r.stderr.String())
		default:
		}
		m := listenRE.FindStringSubmatch(stdout.String())
		h := startedRE.FindStringSubmatch(r.stderr.String())
		if m == nil || h == nil {
			return false
		}
		r.base, r.holder = m[1], h[1]
		return true
	})
	return r
}

// leases returns the leases the replica says it holds (/readyz).
func (r *replica) leases(t *testing.T) []string {
	t.Helper()
	resp, err := http.Get(r.base + "/readyz")
	if err != nil {
		t.Fatalf("/readyz of replica %s: %v", r.name, err)
	}
	defer resp.Body.Close()
	var st struct {
		Database string   `json:"database"`
		Leases   []string `json:"leases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Database != "ok" {
		t.Fatalf("/readyz of replica %s: %d %+v, %v", r.name, resp.StatusCode, st, err)
	}
	return st.Leases
}

// evaluateNow has the replica evaluate the account's alert rules and waits
// until it has: saving a configuration's overdue grace asks for an
// evaluation, which the replica logs (at debug level) once it ran. A
// request that finds the other replica evaluating is skipped there, so it
// is asked again until one runs.
func (r *replica) evaluateNow(t *testing.T, hc *http.Client, cfg int64) {
	t.Helper()
	var from int
	var asked time.Time
	poll.UntilWithin(t, time.Minute, 50*time.Millisecond, "replica "+r.name+" to evaluate the alert rules", func() bool {
		if !asked.IsZero() && strings.Contains(r.stderr.String()[from:], "msg=alerts_evaluated") {
			return true
		}
		if time.Since(asked) > 2*time.Second {
			from, asked = len(r.stderr.String()), time.Now()
			if resp := postFrom(t, hc, r.base, "/alerts/settings/grace", url.Values{"config": {strconv.FormatInt(cfg, 10)}, "grace": {""}}, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("reset the overdue grace through replica %s: %d", r.name, resp.StatusCode)
			}
		}
		return false
	})
}

// stop ends the replica as an orchestrator would (SIGTERM) and checks that
// it exits cleanly and hands every lease back.
func (r *replica) stop(t *testing.T, store *sharedStore) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to replica %s: %v", r.name, err)
	}
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s did not exit within 30 s of SIGTERM", r.name)
	}
	if r.err != nil {
		t.Errorf("replica %s exited with %v after SIGTERM; want status 0", r.name, r.err)
	}
	if n := store.int(t, `SELECT count(*) FROM leases WHERE holder = $1`, r.holder); n != 0 {
		t.Errorf("replica %s left %d leases behind after a graceful stop", r.name, n)
	}
}

// kill ends the replica without warning (SIGKILL): nothing is released.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL to replica %s: %v", r.name, err)
	}
	<-r.done
	var exit *exec.ExitError
	if !errors.As(r.err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("replica %s ended with %v; want killed by SIGKILL", r.name, r.err)
	}
}

// sharedStore is the test's own connection to the replicas' schema.
type sharedStore struct{ db *sql.DB }

func openShared(t *testing.T, dsn string) *sharedStore {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &sharedStore{db}
}

func (s *sharedStore) int(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// accountID is the one account both replicas upserted from the environment.
func (s *sharedStore) accountID(t *testing.T) int64 {
	t.Helper()
	if n := s.int(t, `SELECT count(*) FROM accounts`); n != 1 {
		t.Fatalf("%d accounts after two replicas started with one; want 1", n)
	}
	return s.int(t, `SELECT id FROM accounts`)
}

// reportCount returns the stored reports and how many distinct jobs they are.
func (s *sharedStore) reportCount(t *testing.T) (total, distinct int) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT count(*), count(DISTINCT (kind, job_id)) FROM reports`).Scan(&total, &distinct); err != nil {
		t.Fatalf("count reports: %v", err)
	}
	return total, distinct
}

// waitForSync waits until the account's sync has walked the whole history
// (activity and backfill) and ended without error, at or after since: the
// sync state row every replica reads and the Reports page shows.
func (s *sharedStore) waitForSync(t *testing.T, account int64, since time.Time) {
	t.Helper()
	poll.UntilWithin(t, 3*time.Minute, 250*time.Millisecond, "the account's report sync to finish", func() bool {
		var backfilled, lastOK int64
		var lastError string
		err := s.db.QueryRow(`SELECT backfilled, last_ok_unix, last_error FROM report_sync WHERE account_id = $1`, account).Scan(&backfilled, &lastOK, &lastError)
		if errors.Is(err, sql.ErrNoRows) {
			return false
		}
		if err != nil {
			t.Fatalf("read the sync state: %v", err)
		}
		return backfilled == 1 && lastOK > 0 && lastOK >= since.Unix() && lastError == ""
	})
}

// signInAdmin returns a client with a session of the admin, signed in on base.
// Its cookies go to every port of 127.0.0.1: to both replicas.
func signInAdmin(t *testing.T, base string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := postFrom(t, hc, base, "/login", url.Values{"email": {replicaAdminEmail}, "password": {replicaAdminPass}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign in on %s: %d to %q; want 303 to /", base, resp.StatusCode, resp.Header.Get("Location"))
	}
	return hc
}

// startRequest is the Start form of configuration cfg as posted from a
// page of base, with its own form token.
func startRequest(t *testing.T, base string, cfg int64) *http.Request {
	t.Helper()
	form := url.Values{"token": {app.NewStartToken()}}
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/configurations/%d/backups", base, cfg), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	return req
}

// postFrom posts form to base+path as the browser would from a page of
// base (its Origin), with any extra headers; the body is read and closed.
func postFrom(t *testing.T, hc *http.Client, base, path string, form url.Values, extra http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("POST %s%s: %v", base, path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func getStatus(t *testing.T, hc *http.Client, u string) int {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func getBody(t *testing.T, hc *http.Client, u string) string {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", u, resp.StatusCode, err)
	}
	return string(body)
}

func getDoc(t *testing.T, hc *http.Client, u string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(getBody(t, hc, u)))
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	return doc
}
