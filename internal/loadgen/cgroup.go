package loadgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPUControllerRoot is where cgroup v1 mounts its cpu controller.
const CPUControllerRoot = "/sys/fs/cgroup/cpu"

// cfsPeriod is the scheduler period a CPUCap's quota is a share of.
const cfsPeriod = 100 * time.Millisecond

// capShares is a CPUCap's cpu.shares, 64 times a lone process's 1024. In
// cgroup v1 a group competes with each process of its parent as one
// entity of its weight, so at the default a capped replica on a machine
// running 20 busy processes would get a twenty-first of the cores, far
// below its budget. With this weight it gets its budget whenever it has
// work, and the quota keeps it from taking more: a budget is both a
// ceiling and a reservation.
const capShares = 64 * 1024

// CPUCap is a cgroup of cgroup v1's cpu controller that holds the processes
// put in it to a fixed number of cores (a CFS quota), whatever else the
// machine runs: a replica with a budget of 0.4 cores is CPU-bound at 0.4,
// and gets those 0.4 on a busy machine too (see capShares).
type CPUCap struct {
	dir string
}

// NewCPUCap creates the cgroup root/name holding its processes to cpus
// cores. The error says so in words when the controller is absent or not
// writable (cgroup v2 only, no root, a read-only /sys).
func NewCPUCap(root, name string, cpus float64) (*CPUCap, error) {
	if cpus <= 0 || cpus > 1024 {
		return nil, fmt.Errorf("loadgen: cpu budget %g: want a number of cores above 0, such as 0.4", cpus)
	}
	if name == "" || strings.ContainsAny(name, "/.") {
		return nil, fmt.Errorf("loadgen: cgroup name %q: want one plain path element", name)
	}
	if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err != nil {
		return nil, fmt.Errorf("loadgen: no cgroup v1 cpu controller at %s (a CPU budget per replica needs one): %w", root, err)
	}
	dir := filepath.Join(root, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("loadgen: cannot create a cgroup under %s (a CPU budget per replica needs root and a writable cgroup v1 cpu controller): %w", root, err)
	}
	c := &CPUCap{dir: dir}
	quota := int64(cpus * float64(cfsPeriod/time.Microsecond))
	for _, w := range []struct{ file, value string }{
		{"cpu.cfs_period_us", strconv.FormatInt(int64(cfsPeriod/time.Microsecond), 10)},
		{"cpu.cfs_quota_us", strconv.FormatInt(quota, 10)},
		{"cpu.shares", strconv.Itoa(capShares)},
	} {
		if err := os.WriteFile(filepath.Join(dir, w.file), []byte(w.value), 0o644); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("loadgen: cgroup %s: set %s: %w", dir, w.file, err)
		}
	}
	return c, nil
}

// Dir is the cgroup's directory.
func (c *CPUCap) Dir() string { return c.dir }

// Add moves process pid, all its threads, into the cgroup. Never add the
// shell or the load generator itself: a quota on them slows everything.
func (c *CPUCap) Add(pid int) error {
	if err := os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("loadgen: cgroup %s: add pid %d: %w", c.dir, pid, err)
	}
	return nil
}

// PIDs lists the processes in the cgroup.
func (c *CPUCap) PIDs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: cgroup %s: %w", c.dir, err)
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("loadgen: cgroup %s: pid %q", c.dir, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// Throttled is how long the quota has held the cgroup's processes back
// so far (throttled_time in cpu.stat), and in how many periods.
func (c *CPUCap) Throttled() (time.Duration, int64, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "cpu.stat"))
	if err != nil {
		return 0, 0, fmt.Errorf("loadgen: cgroup %s: %w", c.dir, err)
	}
	return parseCPUStat(string(b))
}

func parseCPUStat(s string) (time.Duration, int64, error) {
	var d time.Duration
	var periods int64
	seen := 0
	for line := range strings.Lines(s) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || (k != "throttled_time" && k != "nr_throttled") {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("loadgen: cpu.stat: %s: %w", k, err)
		}
		if k == "throttled_time" {
			d = time.Duration(n) // nanoseconds
		} else {
			periods = n
		}
		seen++
	}
	if seen != 2 {
		return 0, 0, errors.New("loadgen: cpu.stat: no nr_throttled and throttled_time lines")
	}
	return d, periods, nil
}

// Close moves any process still in the cgroup back to the parent cgroup,
// then removes the cgroup.
func (c *CPUCap) Close() error {
	pids, err := c.PIDs()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	parent := filepath.Join(filepath.Dir(c.dir), "cgroup.procs")
	var errs []error
	for _, pid := range pids {
		if err := os.WriteFile(parent, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("loadgen: cgroup %s: move pid %d back: %w", c.dir, pid, err))
		}
	}
	if err := os.Remove(c.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("loadgen: remove cgroup %s: %w", c.dir, err))
	}
	return errors.Join(errs...)
}
