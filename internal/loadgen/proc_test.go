package loadgen

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and parentheses of its own; utime 250,
	// stime 50, cutime 1000, cstime 200 ticks of 10 ms.
	line := "4242 (postgres: a (b)) S 17 4242 4242 0 -1 4194560 2593 0 0 0 250 50 1000 200 20 0 1 0 16082 231698432 5510 18446744073709551615\n"
	got, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 4242, PPID: 17, Name: "postgres: a (b)", CPU: CPU{Self: 3 * time.Second, Children: 12 * time.Second}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for name, bad := range map[string]string{
		"empty":        "",
		"no name":      "4242 S 17 0",
		"short":        "4242 (x) S 17 4242",
		"not a number": "4242 (x) S 17 4242 4242 0 -1 4194560 2593 0 0 0 lots 50 1000 200 20",
	} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	self, err := ProcStat(0)
	if err != nil || self.PID != os.Getpid() || self.PPID != os.Getppid() {
		t.Errorf("this process: %+v, %v; want pid %d, parent %d", self, err, os.Getpid(), os.Getppid())
	}
}

// ServerCPU sums the user's processes, each with its waited-for children.
func TestServerCPU(t *testing.T) {
	root := t.TempDir()
	stat := func(pid, ppid string, self, children int) {
		t.Helper()
		dir := filepath.Join(root, pid)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		line := pid + " (postgres) S " + ppid + " 1 1 0 -1 0 0 0 0 0 " +
			strconv.Itoa(self) + " 0 " + strconv.Itoa(children) + " 0 20 0 1 0 1 1 1\n"
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stat("100", "1", 100, 500)  // postmaster: 1 s, and 5 s of ended backends
	stat("101", "100", 300, 70) // a backend: 3 s, and 0.7 s of a helper it waited for
	stat("102", "100", 200, 0)  // another: 2 s
	if err := os.Mkdir(filepath.Join(root, "self"), 0o755); err != nil {
		t.Fatal(err) // not a pid: ignored
	}
	got, n, err := ServerCPU(root, uint32(os.Getuid()))
	if err != nil {
		t.Fatal(err)
	}
	if want := 11700 * time.Millisecond; got != want || n != 3 {
		t.Errorf("got %s over %d processes, want %s over 3", got, n, want)
	}
	if got, n, err := ServerCPU(root, uint32(os.Getuid())+1); err != nil || got != 0 || n != 0 {
		t.Errorf("another user: %s over %d processes, %v; want nothing", got, n, err)
	}
	if _, _, err := ServerCPU(filepath.Join(root, "absent"), 0); err == nil || !strings.Contains(err.Error(), "cpu") {
		t.Errorf("absent /proc: %v", err)
	}
	// This process's own user runs at least this process.
	if got, n, err := ServerCPU("/proc", uint32(os.Getuid())); err != nil || n == 0 || got < 0 {
		t.Errorf("this user's processes: %s over %d, %v", got, n, err)
	}
}

func TestParseMachine(t *testing.T) {
	got, err := parseMachine("cpu  100 5 45 800 50 0 0 0 30 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
	if err != nil {
		t.Fatal(err)
	}
	// busy: user 100 + nice 5 + system 45 ticks; the guest 30 is in user.
	if want := (Machine{Busy: 1500 * time.Millisecond, Total: 10 * time.Second}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseMachine("intr 1 2 3\n"); err == nil {
		t.Error("no cpu line: no error")
	}
	if m, err := MachineCPU(); err != nil || m.Total <= 0 || m.Busy > m.Total {
		t.Errorf("this machine: %+v, %v", m, err)
	}
}
