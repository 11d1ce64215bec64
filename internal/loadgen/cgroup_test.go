package loadgen

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCPUStat(t *testing.T) {
	d, n, err := parseCPUStat("nr_periods 120\nnr_throttled 37\nthrottled_time 1500000000\nnr_bursts 0\n")
	if err != nil || d != 1500*time.Millisecond || n != 37 {
		t.Errorf("got %s in %d periods, %v; want 1.5s in 37", d, n, err)
	}
	if _, _, err := parseCPUStat("nr_periods 1\n"); err == nil {
		t.Error("no throttling lines: no error")
	}
	if _, _, err := parseCPUStat("nr_throttled x\nthrottled_time 1\n"); err == nil {
		t.Error("not a number: no error")
	}
}

func TestNewCPUCapRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		root, name string
		cpus       float64
		want       string
	}{
		"no budget":     {CPUControllerRoot, "x", 0, "want a number of cores"},
		"a path":        {CPUControllerRoot, "../x", 0.5, "one plain path element"},
		"no controller": {t.TempDir(), "x", 0.5, "no cgroup v1 cpu controller"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewCPUCap(c.root, c.name, c.cpus); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// On a machine whose cgroup v1 cpu controller this test may write (root),
// a child process is held in a cgroup with the quota asked for and is moved
// back out when the cgroup closes; elsewhere the refusal says why in words.
func TestCPUCap(t *testing.T) {
	name := "loadgen-test-" + strconv.Itoa(os.Getpid())
	c, err := NewCPUCap(CPUControllerRoot, name, 0.25)
	if err != nil {
		if !strings.Contains(err.Error(), "cgroup") {
			t.Errorf("refusal %q does not say what is missing", err)
		}
		return
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = c.Close()
		}
	})
	quota, err := os.ReadFile(filepath.Join(c.Dir(), "cpu.cfs_quota_us"))
	if err != nil || strings.TrimSpace(string(quota)) != "25000" {
		t.Errorf("quota %q, %v; want 25000 µs a 100 ms period", quota, err)
	}
	shares, err := os.ReadFile(filepath.Join(c.Dir(), "cpu.shares"))
	if err != nil || strings.TrimSpace(string(shares)) != "65536" {
		t.Errorf("shares %q, %v; want 65536, 64 lone processes' weight", shares, err)
	}
	child := exec.Command("sleep", "300")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	if err := c.Add(child.Process.Pid); err != nil {
		t.Fatal(err)
	}
	cgroupOf := func() string {
		t.Helper()
		b, err := os.ReadFile("/proc/" + strconv.Itoa(child.Process.Pid) + "/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if f := strings.SplitN(strings.TrimSpace(line), ":", 3); len(f) == 3 && f[1] == "cpu" {
				return f[2]
			}
		}
		t.Fatalf("no cpu line in %s", b)
		return ""
	}
	if got := cgroupOf(); got != "/"+name {
		t.Errorf("the child is in cpu cgroup %q, want /%s", got, name)
	}
	if pids, err := c.PIDs(); err != nil || len(pids) != 1 || pids[0] != child.Process.Pid {
		t.Errorf("PIDs %v, %v; want the child's", pids, err)
	}
	if _, _, err := c.Throttled(); err != nil {
		t.Error(err)
	}
	closed = true
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := cgroupOf(); got == "/"+name {
		t.Errorf("the child is still in %s after Close", got)
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("the cgroup directory is still there: %v", err)
	}
}
