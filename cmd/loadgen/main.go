// Command loadgen measures the console under load: it starts the simulator
// in-process with a fixed API latency and the fleet of `rcbusim -agents 200`
// (the demo estate plus 200 generated agents, 2 configurations each, 60 days
// of history: about 26,000 reports), starts the console binary as a child
// process against it, waits until its first report sync has stored that
// whole history, then signs N workers in and GETs the overview and the
// history page for D seconds, and prints req/s, p50, p99, errors, the
// server's RSS (from /proc/PID/status) and where the processor time of the
// measured window went (from /proc/PID/stat).
//
//	go build -o bin/rcbu-web ./cmd/web
//	go run ./cmd/loadgen -server bin/rcbu-web -workers 8 -duration 20s
//
// With -db postgres://… the store is a fresh schema of that PostgreSQL
// database (created for the run and dropped after it), and -replicas runs
// several consoles on it: "-replicas 1,2" measures one replica, then two,
// on the same synced store with the same workers and duration, and prints
// the ratio of their throughputs; "1,2,1,2,1,2" interleaves three of each
// and compares medians. Workers spread round-robin over the replicas, and
// each signs in on one replica and carries on on another. The PostgreSQL
// figure counts every process of the machine's postgres user, and, apart,
// the server processes of the consoles' own connections.
//
// -cpus-per-replica 0.4 holds each console to 0.4 cores (a cgroup v1 cpu
// quota, so it needs root), which shows whether replicas scale when the
// machine is not the limit: one replica is then CPU-bound at its budget and
// two have twice the budget.
//
// With -url it loads a console that is already running instead (then -pid
// names its process for the RSS and CPU figures, if known).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the in-process simulator maps Windows zones to IANA ones

	_ "github.com/jackc/pgx/v5/stdlib" // the connection that creates and drops the run's schema

	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/loadgen"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

const adminEmail, adminPassword = "load@example.com", "load test password 2026"

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		server   = fs.String("server", "bin/rcbu-web", "console binary to start against an in-process simulator")
		target   = fs.String("url", "", "load a running console at this URL instead of starting one")
		pid      = fs.Int("pid", 0, "with -url: the console's process id, for the RSS and CPU figures")
		email    = fs.String("email", adminEmail, "with -url: user to sign in as")
		password = fs.String("password", "", "with -url: that user's password (default: the one loadgen sets when it starts the console)")
		workers  = fs.Int("workers", 8, "concurrent signed-in clients")
		duration = fs.Duration("duration", 20*time.Second, "how long to send requests")
		latency  = fs.Duration("latency", 20*time.Millisecond, "fixed simulator latency per API call")
		agents   = fs.Int("agents", 200, "generated agents in the simulator (each with 2 configurations; 60 days of history)")
		syncWait = fs.Duration("sync-wait", 30*time.Minute, "longest wait for the console's first report sync to finish before measuring")
		paths    = fs.String("paths", "/,/reports", "comma-separated paths to GET in turn")
		dbURL    = fs.String("db", "", "a postgres:// URL: run the consoles on a fresh schema of that database (default: an SQLite file in a temp dir)")
		replicas = fs.String("replicas", "1", "consoles to measure with, in turn on the same store: 2, or 1,2 (one then two, and their ratio), or 1,2,1,2,1,2")
		cpus     = fs.Float64("cpus-per-replica", 0, "hold each console to this many cores (cgroup v1 cpu quota; needs root); 0: no limit")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		*password = adminPassword
	}
	counts, err := parseCounts(*replicas)
	if err != nil {
		return err
	}
	if *dbURL != "" && !db.IsPostgresDSN(*dbURL) {
		return fmt.Errorf("-db %s: want a postgres:// URL (without -db the console uses an SQLite file)", db.RedactDSN(*dbURL))
	}
	if *dbURL == "" && slices.Max(counts) > 1 {
		return errors.New("-replicas above 1 needs -db postgres://…: several consoles share one PostgreSQL store, an SQLite file serves one process")
	}
	if *cpus < 0 {
		return fmt.Errorf("-cpus-per-replica %g: want a number of cores, such as 0.4, or 0 for no limit", *cpus)
	}
	list := strings.Split(*paths, ",")
	m := &measure{workers: *workers, duration: *duration, email: *email, password: *password, paths: list, stdout: stdout}

	fmt.Fprintf(stdout, "machine: %d CPUs (%s), %s, %s; load average %s\n",
		runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version(), loadgen.LoadAverage())
	if *target != "" {
		if len(counts) != 1 || counts[0] != 1 || *dbURL != "" || *cpus != 0 {
			return errors.New("-url loads one running console: -replicas, -db and -cpus-per-replica start consoles of their own")
		}
		m.consoles = []*console{{base: *target, pid: *pid}}
		fmt.Fprintf(stdout, "loadgen: %d workers for %s against %s\n", *workers, *duration, *target)
		ph, err := m.phase(ctx, 1)
		if err != nil {
			return err
		}
		return ph.failed()
	}

	st := &stack{}
	defer st.unwind()
	base, err := startSimulator(*latency, *agents, st)
	if err != nil {
		return err
	}
	env, err := storeEnv(ctx, *dbURL, st, m)
	if err != nil {
		return err
	}
	f := &fleet{bin: *server, identity: base + "/v2.0/tokens", env: env, cpus: *cpus, stderr: stderr, st: st}
	if err := f.start(ctx, 1); err != nil {
		return err
	}
	took, err := waitForSync(ctx, f.consoles[0].base, *email, *password, *syncWait)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loadgen: the first report sync stored the whole history in %s\n", took.Round(time.Second))
	fmt.Fprintf(stdout, "loadgen: %d workers for %s a phase, simulator latency %s, store %s, replicas %s",
		*workers, *duration, *latency, m.storeName(), *replicas)
	if *cpus > 0 {
		fmt.Fprintf(stdout, ", each held to %g cores", *cpus)
	}
	fmt.Fprintln(stdout)

	var phases []phaseResult
	for i, n := range counts {
		if err := f.start(ctx, n); err != nil {
			return err
		}
		m.consoles = f.consoles
		fmt.Fprintf(stdout, "\nphase %d of %d: %d replica(s)\n", i+1, len(counts), n)
		ph, err := m.phase(ctx, n)
		if err != nil {
			return err
		}
		phases = append(phases, ph)
	}
	fmt.Fprint(stdout, compare(phases))
	for _, ph := range phases {
		if err := ph.failed(); err != nil {
			return err
		}
	}
	return nil
}

// parseCounts reads -replicas: a comma-separated list of replica counts.
func parseCounts(s string) ([]int, error) {
	var counts []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 16 {
			return nil, fmt.Errorf("-replicas %q: want replica counts from 1 to 16 separated by commas, such as 1,2", s)
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// stack is the cleanup of a run, undone last first.
type stack struct{ fns []func() }

func (s *stack) push(fn func()) { s.fns = append(s.fns, fn) }

func (s *stack) unwind() {
	for i := len(s.fns) - 1; i >= 0; i-- {
		s.fns[i]()
	}
	s.fns = nil
}

// startSimulator serves the simulator on loopback until the run ends.
func startSimulator(latency time.Duration, agents int, st *stack) (string, error) {
	opts := []rcbusim.Option{rcbusim.WithDataset("demo"), rcbusim.WithLatency(latency, 0)}
	if agents > 0 {
		opts = append(opts, rcbusim.WithScale(agents, 2, 0))
	}
	sim := rcbusim.New(opts...)
	if err := sim.Err(); err != nil {
		return "", err
	}
	srv := httptest.NewServer(sim)
	st.push(srv.Close)
	return srv.URL, nil
}

// storeEnv prepares the consoles' store and returns the environment that
// points them at it: an SQLite file in a temp dir, or a fresh schema of the
// PostgreSQL database dsn names with a secret the replicas share. Each
// replica's connections carry an application_name of the run, so that
// pg_stat_activity tells their server processes apart.
func storeEnv(ctx context.Context, dsn string, st *stack, m *measure) (func(replica int) []string, error) {
	if dsn == "" {
		dir, err := os.MkdirTemp("", "loadgen-")
		if err != nil {
			return nil, err
		}
		st.push(func() { _ = os.RemoveAll(dir) })
		path := filepath.Join(dir, "web.db")
		m.store = "SQLite"
		return func(int) []string { return []string{"RCBU_WEB_DB=" + path} }, nil
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("-db %s: %w", db.RedactDSN(dsn), err)
	}
	st.push(func() { admin.Close() })
	tag := strings.ToLower(rand.Text()[:10])
	schema := "loadgen_" + tag
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(pingCtx, `CREATE SCHEMA `+schema); err != nil {
		return nil, fmt.Errorf("-db %s: create schema %s: %w", db.RedactDSN(dsn), schema, err)
	}
	st.push(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: drop schema %s: %v\n", schema, err)
		}
	})
	m.admin, m.appName, m.store = admin, "loadgen-"+tag, "PostgreSQL schema "+schema
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	secret := rand.Text() + rand.Text()
	return func(replica int) []string {
		return []string{
			"RCBU_WEB_DB=" + dsn + sep + "search_path=" + schema + "&application_name=" + m.appName + "-r" + strconv.Itoa(replica),
			"RCBU_WEB_SECRET=" + secret,
		}
	}, nil
}

// console is one running console process.
type console struct {
	base string
	pid  int
	cap  *loadgen.CPUCap // nil: no CPU budget
}

// fleet starts the console replicas, all on the same store and simulator.
type fleet struct {
	bin, identity string
	env           func(replica int) []string
	cpus          float64
	stderr        io.Writer
	st            *stack
	consoles      []*console
}

// start makes sure at least n consoles run. Consoles started earlier keep
// running (the later ones idle while fewer are measured), so each is
// started once.
func (f *fleet) start(ctx context.Context, n int) error {
	for len(f.consoles) < n {
		c, err := f.startOne(ctx, len(f.consoles)+1)
		if err != nil {
			return err
		}
		f.consoles = append(f.consoles, c)
	}
	return nil
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// startOne starts console number replica and waits for it to listen. With
// a CPU budget it is put in a cgroup of its own at once (the cgroup, never
// this process: a quota on the load generator would slow the measurement).
func (f *fleet) startOne(ctx context.Context, replica int) (*console, error) {
	if _, err := os.Stat(f.bin); err != nil {
		return nil, fmt.Errorf("-server %s: %w (build it: go build -o %s ./cmd/web)", f.bin, err, f.bin)
	}
	c := &console{}
	if f.cpus > 0 {
		cc, err := loadgen.NewCPUCap(loadgen.CPUControllerRoot, fmt.Sprintf("loadgen-%d-%d", os.Getpid(), replica), f.cpus)
		if err != nil {
			return nil, fmt.Errorf("-cpus-per-replica: %w", err)
		}
		f.st.push(func() {
			if err := cc.Close(); err != nil {
				fmt.Fprintf(f.stderr, "loadgen: %v\n", err)
			}
		})
		c.cap = cc
	}
	cmd := exec.CommandContext(ctx, f.bin)
	cmd.Env = append(os.Environ(),
		"RCBU_WEB_ADDR=127.0.0.1:0",
		"RCBU_WEB_ADMIN_EMAIL="+adminEmail,
		"RCBU_WEB_ADMIN_PASSWORD="+adminPassword,
		"RCBU_WEB_LOG_LEVEL=warn",
		"RCBU_USERNAME="+rcbusim.DemoUser,
		"RCBU_API_KEY="+rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL="+f.identity,
	)
	cmd.Env = append(cmd.Env, f.env(replica)...)
	cmd.Stderr = f.stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", f.bin, err)
	}
	f.st.push(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	c.pid = cmd.Process.Pid
	if c.cap != nil {
		if err := c.cap.Add(c.pid); err != nil {
			return nil, err
		}
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case c.base = <-found:
		return c, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("console %d printed no listening line within 60 s", replica)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// waitForSync waits (at most limit) until the console's first report sync
// has finished, backfill included, so that every page is measured on the
// whole history and no backfill runs meanwhile. The Reports page's sync
// panel says "last synced" once an account's sync has succeeded.
func waitForSync(ctx context.Context, base, email, password string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	c, err := loadgen.SignIn(ctx, http.DefaultTransport, base, email, password, 10*time.Second)
	if err != nil {
		return 0, err
	}
	for time.Since(start) < limit {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/reports", nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if syncDone(string(body)) {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	return 0, fmt.Errorf("the console's first report sync did not finish within %s (-sync-wait)", limit)
}

// syncDone reports whether the Reports page says the sync has succeeded
// and is not running.
func syncDone(page string) bool {
	_, row, ok := strings.Cut(page, `data-testid="sync-row"`)
	if !ok {
		return false
	}
	row, _, _ = strings.Cut(row, "</li>")
	return strings.Contains(row, "last synced") && !strings.Contains(row, "Syncing")
}

// memTotal is the machine's memory from /proc/meminfo ("24.0 GiB").
func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown memory"
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
