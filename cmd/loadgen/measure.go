package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os/user"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/internal/loadgen"
)

// measure runs the measured phases and reports where the processor time
// of each went.
type measure struct {
	workers         int
	duration        time.Duration
	email, password string
	paths           []string
	stdout          io.Writer
	consoles        []*console // every console started; a phase loads the first n
	store           string     // in words, for the report
	// admin and appName find the server processes of the consoles'
	// PostgreSQL connections (nil and "" on SQLite).
	admin   *sql.DB
	appName string
}

func (m *measure) storeName() string {
	if m.store == "" {
		return "SQLite"
	}
	return m.store
}

// snapshot is the processor time used so far by each part of the run.
type snapshot struct {
	consoles  []loadgen.CPU
	throttled []time.Duration
	self      loadgen.CPU
	postgres  time.Duration // every process of the postgres user
	pgProcs   int
	pgOK      bool
	backends  map[int]time.Duration // the consoles' connections: pid → CPU
	machine   loadgen.Machine
	at        time.Time
}

func (m *measure) snapshot(ctx context.Context) snapshot {
	var s snapshot
	for _, c := range m.consoles {
		var cpu loadgen.CPU
		if c.pid > 0 {
			if st, err := loadgen.ProcStat(c.pid); err == nil {
				cpu = st.CPU
			}
		}
		s.consoles = append(s.consoles, cpu)
		var thr time.Duration
		if c.cap != nil {
			thr, _, _ = c.cap.Throttled()
		}
		s.throttled = append(s.throttled, thr)
	}
	if st, err := loadgen.ProcStat(0); err == nil {
		s.self = st.CPU
	}
	if u, err := user.Lookup("postgres"); err == nil {
		if uid, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			if d, n, err := loadgen.ServerCPU("/proc", uint32(uid)); err == nil {
				s.postgres, s.pgProcs, s.pgOK = d, n, n > 0
			}
		}
	}
	if m.admin != nil {
		s.backends = map[int]time.Duration{}
		rows, err := m.admin.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1`, m.appName+"-%")
		if err == nil {
			for rows.Next() {
				var pid int
				if rows.Scan(&pid) != nil {
					continue
				}
				// The pid is the server's: it names a process here only if
				// PostgreSQL runs on this machine.
				if st, err := loadgen.ProcStat(pid); err == nil && st.Name == "postgres" {
					s.backends[pid] = st.CPU.Self
				}
			}
			err = errors.Join(rows.Err(), rows.Close())
		}
		if err != nil || len(s.backends) == 0 {
			s.backends = nil // not known: the report leaves the line out
		}
	}
	s.machine, _ = loadgen.MachineCPU()
	s.at = time.Now()
	return s
}

// phaseResult is what one phase measured, for the comparison at the end.
type phaseResult struct {
	replicas int
	res      loadgen.Result
}

func (p phaseResult) failed() error {
	if p.res.Errors > 0 {
		return fmt.Errorf("%d of %d requests failed with %d replica(s): %s", p.res.Errors, p.res.Requests, p.replicas, p.res.FirstError)
	}
	return nil
}

// phase loads the first n consoles for the run's duration and prints the
// throughput, latencies and the processor time of each part.
func (m *measure) phase(ctx context.Context, n int) (phaseResult, error) {
	bases := make([]string, n)
	for i, c := range m.consoles[:n] {
		bases[i] = c.base
	}
	var load string
	var before snapshot
	res, err := loadgen.Run(ctx, loadgen.Config{
		Replicas: bases, Email: m.email, Password: m.password, Paths: m.paths,
		Workers: m.workers, Duration: m.duration,
		Started: func() { load, before = loadgen.LoadAverage(), m.snapshot(ctx) },
	})
	if err != nil {
		return phaseResult{}, err
	}
	after := m.snapshot(ctx)
	fmt.Fprint(m.stdout, loadgen.Format(res, m.paths))
	fmt.Fprint(m.stdout, m.cpuReport(res, n, before, after, load))
	return phaseResult{replicas: n, res: res}, nil
}

// cpuReport says where the processor time of the measured window went:
// each console, the load generator (the simulator runs in it), the
// PostgreSQL server processes, and the machine as a whole. The window
// starts after the workers' sign-in. Consoles started for an earlier phase
// and not loaded in this one (loaded is how many are) are listed as idle:
// their background work is part of the machine's load too.
func (m *measure) cpuReport(res loadgen.Result, loaded int, before, after snapshot, load string) string {
	var b strings.Builder
	wall := after.at.Sub(before.at)
	cores := func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(wall), 'f', 2, 64)
	}
	line := func(what string, d time.Duration, extra string) {
		fmt.Fprintf(&b, "  %-46s %7.1f CPU-s  %5s cores%s\n", what, d.Seconds(), cores(d), extra)
	}
	fmt.Fprintf(&b, "CPU of the measured window, %.1f s (load average %s at its start):\n", wall.Seconds(), load)
	var consoles time.Duration
	for i, c := range m.consoles {
		if c.pid <= 0 {
			continue
		}
		d := after.consoles[i].Self - before.consoles[i].Self
		if i < loaded {
			consoles += d
		}
		extra := ""
		if rss, peak, err := loadgen.RSS(c.pid); err == nil {
			extra = fmt.Sprintf("  RSS %.1f MiB (peak %.1f MiB)", float64(rss)/(1<<20), float64(peak)/(1<<20))
		}
		if c.cap != nil {
			extra += fmt.Sprintf("  throttled %.1f s", (after.throttled[i] - before.throttled[i]).Seconds())
		}
		what := fmt.Sprintf("replica %d (pid %d)", i+1, c.pid)
		if i >= loaded {
			what += ", idle: not loaded"
		}
		line(what, d, extra)
	}
	self := after.self.Self - before.self.Self
	line("loadgen with its in-process simulator", self, "")
	var backends time.Duration
	if after.backends != nil {
		opened, ended := 0, 0
		for pid, d := range after.backends {
			backends += d - before.backends[pid] // a connection opened meanwhile started at 0
			if _, ok := before.backends[pid]; !ok {
				opened++
			}
		}
		for pid := range before.backends {
			if _, ok := after.backends[pid]; !ok {
				ended++
			}
		}
		extra := ""
		if opened+ended > 0 {
			// An ended connection's time is lost to this line (its
			// process is gone); the postgres user's line still counts it.
			extra = fmt.Sprintf("  %d opened, %d ended in the window (the ended ones' time is not in this line)", opened, ended)
		}
		line(fmt.Sprintf("PostgreSQL: the consoles' %d connections", len(after.backends)), backends, extra)
	}
	if after.pgOK {
		line(fmt.Sprintf("PostgreSQL: all %d processes of user postgres", after.pgProcs), after.postgres-before.postgres, "")
	}
	busy := after.machine.Busy - before.machine.Busy
	line("the whole machine (other users included)", busy, fmt.Sprintf(" of %d", runtime.NumCPU()))
	if res.Requests > 0 {
		per := func(d time.Duration) string {
			return strconv.FormatFloat(d.Seconds()*1000/float64(res.Requests), 'f', 2, 64) + " ms"
		}
		fmt.Fprintf(&b, "  CPU per request: loaded consoles %s, + loadgen and simulator %s, + the consoles' PostgreSQL connections %s\n",
			per(consoles), per(consoles+self), per(consoles+self+backends))
	}
	return b.String()
}

// compare prints the throughput of each replica count (the median of its
// phases) and the ratio of the largest count's to the smallest's.
func compare(phases []phaseResult) string {
	by := map[int][]float64{}
	var counts []int
	for _, p := range phases {
		if _, ok := by[p.replicas]; !ok {
			counts = append(counts, p.replicas)
		}
		by[p.replicas] = append(by[p.replicas], p.res.RequestsPerSecond())
	}
	if len(counts) < 2 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintln(&b, "\nthroughput by replica count (median of the phases):")
	for _, n := range counts {
		fmt.Fprintf(&b, "  %d replica(s): %.1f req/s (%s)\n", n, median(by[n]), joinFloats(by[n]))
	}
	lo, hi := slices.Min(counts), slices.Max(counts)
	if base := median(by[lo]); base > 0 {
		fmt.Fprintf(&b, "ratio %d replicas ÷ %d: %.2f×\n", hi, lo, median(by[hi])/base)
	}
	return b.String()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func joinFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(parts, ", ")
}
