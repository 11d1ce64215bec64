// Command rcbusim serves the Rackspace Cloud Backup v1.0 and Identity v2.0
// simulator (package rcbu/rcbusim) on a local address, so any RCBU client
// can be pointed at it by changing only its identity URL.
//
// Usage:
//
//	rcbusim [-addr 127.0.0.1:8900] [-seed demo|empty] [-seed-file data.json]
//	        [-speed 1] [-latency 50ms+20ms] [-error-rate 0.05] [-hang-rate 0.01]
//	        [-token-ttl 24h] [-agents N] [-configs-per-agent M] [-history-days D]
//	        [-wake-delay 15s] [-rand-seed 1] [-region-ports 8901] [-v]
//
// With -region-ports N each region also gets its own port on the -addr
// host (N, N+1, … for DFW, ORD, IAD, LON, HKG, SYD), and the catalog lists
// it as http://HOST:PORT/v1.0/{tenant}, the real service's path shape;
// without it regions are path prefixes on one port (/dfw/v1.0/{tenant}).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the simulator maps Windows zones to IANA ones; images may lack zoneinfo

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "rcbusim:", err)
		os.Exit(1)
	}
}

// options are the parsed command-line flags.
type options struct {
	addr        string
	seed        string
	seedFile    string
	speed       float64
	latency     time.Duration
	jitter      time.Duration
	errorRate   float64
	hangRate    float64
	tokenTTL    time.Duration
	agents      int
	configs     int
	historyDays int
	wakeDelay   time.Duration
	randSeed    uint64
	regionPorts int
	verbose     bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("rcbusim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8900", "listen address")
	fs.StringVar(&o.seed, "seed", "", "dataset: demo or empty (default demo, or empty with -seed-file)")
	fs.StringVar(&o.seedFile, "seed-file", "", "JSON seed file with agents and configurations")
	fs.Float64Var(&o.speed, "speed", 1, "simulated-time multiplier (1 = real time)")
	latency := fs.String("latency", "0", "added latency per request, e.g. 50ms or 50ms+20ms (fixed+jitter)")
	fs.Float64Var(&o.errorRate, "error-rate", 0, "probability (0-1) that a request fails with 500 or 503")
	fs.Float64Var(&o.hangRate, "hang-rate", 0, "probability (0-1) that a request hangs until the client gives up")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of issued tokens (simulated time)")
	fs.IntVar(&o.agents, "agents", 0, "extra generated agents for the demo tenant")
	fs.IntVar(&o.configs, "configs-per-agent", 2, "configurations per generated agent")
	fs.IntVar(&o.historyDays, "history-days", 0, "days of generated backup history (0 = the dataset's default)")
	fs.DurationVar(&o.wakeDelay, "wake-delay", 15*time.Second, "simulated time an agent takes to come online after a wake-up")
	fs.Uint64Var(&o.randSeed, "rand-seed", 1, "seed of the random source (same seed, same data)")
	fs.IntVar(&o.regionPorts, "region-ports", 0, "serve each region on its own port from this one up (DFW, ORD, IAD, LON, HKG, SYD); 0 = path prefixes on -addr")
	fs.BoolVar(&o.verbose, "v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if o.seed == "" {
		o.seed = "demo"
		if o.seedFile != "" {
			o.seed = "empty"
		}
	}
	if o.seed != "demo" && o.seed != "empty" {
		return o, fmt.Errorf("-seed must be demo or empty, got %q", o.seed)
	}
	var err error
	if o.latency, o.jitter, err = parseLatency(*latency); err != nil {
		return o, err
	}
	switch {
	case o.speed <= 0:
		return o, errors.New("-speed must be > 0")
	case o.errorRate < 0 || o.errorRate > 1:
		return o, errors.New("-error-rate must be between 0 and 1")
	case o.hangRate < 0 || o.hangRate > 1:
		return o, errors.New("-hang-rate must be between 0 and 1")
	case o.tokenTTL <= 0:
		return o, errors.New("-token-ttl must be > 0")
	case o.agents < 0 || o.configs < 0 || o.historyDays < 0:
		return o, errors.New("-agents, -configs-per-agent and -history-days must be >= 0")
	case o.regionPorts < 0 || o.regionPorts+len(rcbusim.Regions())-1 > 65535:
		return o, fmt.Errorf("-region-ports must be a port from 1 to %d (0 = off), got %d", 65536-len(rcbusim.Regions()), o.regionPorts)
	}
	return o, nil
}

// parseLatency reads "50ms" or "50ms+20ms".
func parseLatency(s string) (fixed, jitter time.Duration, err error) {
	f, j, hasJitter := strings.Cut(s, "+")
	if fixed, err = time.ParseDuration(strings.TrimSpace(f)); err != nil || fixed < 0 {
		return 0, 0, fmt.Errorf("-latency: want e.g. 50ms or 50ms+20ms, got %q", s)
	}
	if hasJitter {
		if jitter, err = time.ParseDuration(strings.TrimSpace(j)); err != nil || jitter < 0 {
			return 0, 0, fmt.Errorf("-latency: want e.g. 50ms or 50ms+20ms, got %q", s)
		}
	}
	return fixed, jitter, nil
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts := []rcbusim.Option{
		rcbusim.WithDataset(o.seed),
		rcbusim.WithClock(rcbusim.NewScaledClock(o.speed)),
		rcbusim.WithTokenTTL(o.tokenTTL),
		rcbusim.WithLatency(o.latency, o.jitter),
		rcbusim.WithErrorRate(o.errorRate),
		rcbusim.WithHangRate(o.hangRate),
		rcbusim.WithWakeDelay(o.wakeDelay),
		rcbusim.WithRandSeed(o.randSeed),
		rcbusim.WithLogger(logger),
		rcbusim.WithScale(o.agents, o.configs, o.historyDays),
	}
	if o.seedFile != "" {
		opts = append(opts, rcbusim.WithSeedFile(o.seedFile))
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	var regionLns map[string]net.Listener
	if o.regionPorts > 0 {
		host, _, _ := net.SplitHostPort(ln.Addr().String())
		if regionLns, err = rcbusim.ListenRegions(host, o.regionPorts); err != nil {
			return fmt.Errorf("-region-ports: %w", err)
		}
		defer func() { // already closed by sim.Close once served
			for _, l := range regionLns {
				_ = l.Close()
			}
		}()
		opts = append(opts, rcbusim.WithRegionListeners(regionLns))
	}
	sim := rcbusim.New(opts...)
	defer sim.Close()
	if err := sim.Err(); err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "rcbusim: Rackspace Cloud Backup v1.0 simulator (dataset %s, speed %gx)\n", o.seed, o.speed)
	fmt.Fprintf(stdout, "  identity URL: %s/v2.0/tokens\n", base)
	if regionLns == nil {
		fmt.Fprintf(stdout, "  endpoints:    %s/{dfw,ord,iad,lon,hkg,syd}/v1.0/%s (and %s/v1.0/%s)\n", base, rcbusim.DemoTenant, base, rcbusim.DemoTenant)
	} else {
		for _, r := range rcbusim.Regions() {
			fmt.Fprintf(stdout, "  endpoint %s: http://%s/v1.0/%s\n", r, regionLns[r].Addr(), rcbusim.DemoTenant)
		}
		fmt.Fprintf(stdout, "  region-less:  %s/v1.0/%s (path prefixes /dfw/… work here too)\n", base, rcbusim.DemoTenant)
	}
	fmt.Fprintf(stdout, "  credentials:  user %s, API key %s, password %s (tenant %s, admin)\n", rcbusim.DemoUser, rcbusim.DemoAPIKey, rcbusim.DemoPassword, rcbusim.DemoTenant)
	fmt.Fprintf(stdout, "                user %s, API key %s, password %s (tenant %s, observer)\n", rcbusim.ObserverUser, rcbusim.ObserverAPIKey, rcbusim.ObserverPassword, rcbusim.DemoTenant)
	fmt.Fprintf(stdout, "                user %s, API key %s, password %s (tenant %s, creator)\n", rcbusim.CreatorUser, rcbusim.CreatorAPIKey, rcbusim.CreatorPassword, rcbusim.DemoTenant)
	fmt.Fprintf(stdout, "                user %s, API key %s, password %s (tenant %s, admin)\n", rcbusim.OtherUser, rcbusim.OtherAPIKey, rcbusim.OtherPassword, rcbusim.OtherTenant)

	hs := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		// Hung requests (-hang-rate) only end when their clients give up.
		_ = hs.Close()
	}
	fmt.Fprintln(stdout, "rcbusim: stopped")
	return nil
}
