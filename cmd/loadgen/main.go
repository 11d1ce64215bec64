// Command loadgen measures the console under load: it starts the simulator
// in-process with a fixed API latency and the fleet of `rcbusim -agents 200`
// (the demo estate plus 200 generated agents, 2 configurations each, 60 days
// of history: about 26,000 reports), starts the console binary as a child
// process against it, waits until its first report sync has stored that
// whole history, then signs N workers in and GETs the overview and the
// history page for D seconds, and prints req/s, p50, p99, errors and the
// server's RSS (from /proc/PID/status).
//
//	go build -o bin/rcbu-web ./cmd/web
//	go run ./cmd/loadgen -server bin/rcbu-web -workers 8 -duration 20s
//
// With -url it loads a console that is already running instead (then -pid
// names its process for the RSS figure, if known).
package main

import (
	"bufio"
	"context"
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
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the in-process simulator maps Windows zones to IANA ones

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
		pid      = fs.Int("pid", 0, "with -url: the console's process id, for the RSS figure")
		email    = fs.String("email", adminEmail, "with -url: user to sign in as")
		password = fs.String("password", "", "with -url: that user's password (default: the one loadgen sets when it starts the console)")
		workers  = fs.Int("workers", 8, "concurrent signed-in clients")
		duration = fs.Duration("duration", 20*time.Second, "how long to send requests")
		latency  = fs.Duration("latency", 20*time.Millisecond, "fixed simulator latency per API call")
		agents   = fs.Int("agents", 200, "generated agents in the simulator (each with 2 configurations; 60 days of history)")
		syncWait = fs.Duration("sync-wait", 30*time.Minute, "longest wait for the console's first report sync to finish before measuring")
		paths    = fs.String("paths", "/,/reports", "comma-separated paths to GET in turn")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		*password = adminPassword
	}
	list := strings.Split(*paths, ",")
	base, serverPID := *target, *pid
	if base == "" {
		var stopServer func()
		var err error
		base, serverPID, stopServer, err = startConsole(ctx, *server, *latency, *agents, stderr)
		if err != nil {
			return err
		}
		defer stopServer()
		took, err := waitForSync(ctx, base, *email, *password, *syncWait)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "loadgen: the first report sync stored the whole history in %s\n", took.Round(time.Second))
	}

	cpu := cpuModel()
	fmt.Fprintf(stdout, "loadgen: %d workers for %s against %s (simulator latency %s)\nmachine: %d CPUs (%s), %s, %s\n",
		*workers, *duration, base, *latency, runtime.NumCPU(), cpu, memTotal(), runtime.Version())
	res, err := loadgen.Run(ctx, loadgen.Config{
		BaseURL: base, Email: *email, Password: *password, Paths: list,
		Workers: *workers, Duration: *duration,
	})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, loadgen.Format(res, list))
	if serverPID > 0 {
		rss, peak, err := loadgen.RSS(serverPID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "server RSS %.1f MiB (peak %.1f MiB)\n", float64(rss)/(1<<20), float64(peak)/(1<<20))
	}
	if res.Errors > 0 {
		return fmt.Errorf("%d of %d requests failed", res.Errors, res.Requests)
	}
	return nil
}

var listenRE = regexp.MustCompile(`listening on (http://\S+)`)

// startConsole serves the simulator on loopback and starts the console
// binary against it with a fresh database. stop ends both.
func startConsole(ctx context.Context, bin string, latency time.Duration, agents int, stderr io.Writer) (base string, pid int, stop func(), err error) {
	if _, err := os.Stat(bin); err != nil {
		return "", 0, nil, fmt.Errorf("-server %s: %w (build it: go build -o %s ./cmd/web)", bin, err, bin)
	}
	opts := []rcbusim.Option{rcbusim.WithDataset("demo"), rcbusim.WithLatency(latency, 0)}
	if agents > 0 {
		opts = append(opts, rcbusim.WithScale(agents, 2, 0))
	}
	sim := rcbusim.New(opts...)
	if err := sim.Err(); err != nil {
		return "", 0, nil, err
	}
	simSrv := httptest.NewServer(sim)
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		simSrv.Close()
		return "", 0, nil, err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"RCBU_WEB_ADDR=127.0.0.1:0",
		"RCBU_WEB_DB="+filepath.Join(dir, "web.db"),
		"RCBU_WEB_ADMIN_EMAIL="+adminEmail,
		"RCBU_WEB_ADMIN_PASSWORD="+adminPassword,
		"RCBU_WEB_LOG_LEVEL=warn",
		"RCBU_USERNAME="+rcbusim.DemoUser,
		"RCBU_API_KEY="+rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL="+simSrv.URL+"/v2.0/tokens",
	)
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		simSrv.Close()
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		simSrv.Close()
		return "", 0, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		simSrv.Close()
		_ = os.RemoveAll(dir)
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
	case base = <-found:
		return base, cmd.Process.Pid, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", 0, nil, errors.New("the console printed no listening line within 60 s")
	case <-ctx.Done():
		stop()
		return "", 0, nil, ctx.Err()
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
