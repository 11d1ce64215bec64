//go:build unix

package cputime_test

import (
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/internal/cputime"
)

func TestProcessCountsWork(t *testing.T) {
	start := cputime.Process()
	deadline := time.Now().Add(50 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	if used := cputime.Process() - start; used <= 0 {
		t.Errorf("50 ms of busy work used %v of CPU (%d loops)", used, n)
	}
}
