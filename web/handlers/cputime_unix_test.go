//go:build unix

package handlers

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the test process has used. The
// fleet benchmarks report it per page next to wall time, because the
// shared machines they run on are often oversubscribed: CPU time is what a
// page costs, wall time also counts the wait for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
