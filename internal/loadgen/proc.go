package loadgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat. Linux
// fixes it at 100 on every architecture Go builds for (sysconf(_SC_CLK_TCK)
// would need cgo to ask).
const clockTicks = 100

// CPU is the processor time a process has used, user and system together,
// as /proc/PID/stat counts it.
type CPU struct {
	Self time.Duration // utime + stime of the process itself
	// Children is cutime + cstime: the time of the children it has waited
	// for. A server that forks a process per connection (PostgreSQL's
	// postmaster) keeps there the time of the connections that have ended.
	Children time.Duration
}

// Stat is the part of /proc/PID/stat the load run reads.
type Stat struct {
	PID, PPID int
	Name      string // the command name, at most 15 bytes ("postgres")
	CPU       CPU
}

// ProcStat reads /proc/PID/stat (Linux only; pid 0 means this process).
func ProcStat(pid int) (Stat, error) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, fmt.Errorf("loadgen: cpu: %w", err)
	}
	return parseStat(string(b))
}

// parseStat reads the pid, the parent's pid and the four CPU times from
// one /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses itself, so the fields are counted from
// the last ")".
func parseStat(s string) (Stat, error) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 1 || end < open {
		return Stat{}, fmt.Errorf("loadgen: cpu: unexpected stat line %q", truncate(s, 80))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil {
		return Stat{}, fmt.Errorf("loadgen: cpu: pid in %q", truncate(s, 80))
	}
	// After the name: state (field 3), ppid (4), …, utime (14), stime (15),
	// cutime (16), cstime (17).
	f := strings.Fields(s[end+1:])
	if len(f) < 15 {
		return Stat{}, fmt.Errorf("loadgen: cpu: stat of pid %d has %d fields after the name, want at least 15", pid, len(f))
	}
	var n [5]int64
	for i, field := range []string{f[1], f[11], f[12], f[13], f[14]} {
		if n[i], err = strconv.ParseInt(field, 10, 64); err != nil {
			return Stat{}, fmt.Errorf("loadgen: cpu: stat of pid %d: %w", pid, err)
		}
	}
	tick := time.Second / clockTicks
	return Stat{PID: pid, PPID: int(n[0]), Name: s[open+1 : end], CPU: CPU{
		Self:     time.Duration(n[1]+n[2]) * tick,
		Children: time.Duration(n[3]+n[4]) * tick,
	}}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// ServerCPU is the processor time used so far by every process that user
// uid runs (say, every PostgreSQL process on the machine), each one's
// waited-for children included: so a connection's server process that
// ended during a measurement still counts, in its postmaster's children
// time (a live process is in no one's children time, so nothing counts
// twice). Processes that exit while they are read are skipped. It returns
// the time and how many processes it read.
func ServerCPU(procRoot string, uid uint32) (time.Duration, int, error) {
	dirs, err := os.ReadDir(procRoot)
	if err != nil {
		return 0, 0, fmt.Errorf("loadgen: cpu: %w", err)
	}
	var total time.Duration
	n := 0
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil || !d.IsDir() {
			continue
		}
		dir := filepath.Join(procRoot, d.Name())
		fi, err := os.Stat(dir)
		if err != nil {
			continue // ended meanwhile
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != uid {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
				continue
			}
			return 0, 0, fmt.Errorf("loadgen: cpu: %w", err)
		}
		st, err := parseStat(string(b))
		if err != nil {
			return 0, 0, err
		}
		total += st.CPU.Self + st.CPU.Children
		n++
	}
	return total, n, nil
}

// Machine is the processor time of the whole machine so far, all cores
// together, from the first line of /proc/stat.
type Machine struct {
	Busy, Total time.Duration // Busy excludes idle and iowait
}

// MachineCPU reads /proc/stat.
func MachineCPU() (Machine, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Machine{}, fmt.Errorf("loadgen: cpu: %w", err)
	}
	return parseMachine(string(b))
}

func parseMachine(s string) (Machine, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return Machine{}, fmt.Errorf("loadgen: cpu: /proc/stat starts %q, want the cpu line", truncate(line, 40))
	}
	var m Machine
	tick := time.Second / clockTicks
	// user nice system idle iowait irq softirq steal (guest time is already
	// in user and nice, so the fields after steal are not added).
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Machine{}, fmt.Errorf("loadgen: cpu: /proc/stat: %w", err)
		}
		m.Total += time.Duration(n) * tick
		if i != 3 && i != 4 {
			m.Busy += time.Duration(n) * tick
		}
	}
	return m, nil
}

// LoadAverage is the one-minute load average from /proc/loadavg ("?" if
// it cannot be read).
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
