package poll_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/internal/poll"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var done atomic.Bool
	time.AfterFunc(20*time.Millisecond, func() { done.Store(true) })
	start := time.Now()
	poll.Until(t, "the timer", done.Load)
	if !done.Load() {
		t.Fatal("returned before the condition held")
	}
	if d := time.Since(start); d >= poll.Bound {
		t.Errorf("took %s", d)
	}
}
