package logbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rcbu-console/rcbu-console/internal/logbuf"
)

func TestConcurrentWritesAndReads(t *testing.T) {
	var b logbuf.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				fmt.Fprintf(&b, "%d-%d\n", i, j)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}
