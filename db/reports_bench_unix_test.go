//go:build unix

package db_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) the test process has used. The
// benchmarks report it per operation next to wall time, because the shared
// machines they run on are often oversubscribed.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
