package poll_test

import (
	"fmt"
	"runtime"
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

func TestUntilWithinChecksUntilTheConditionHolds(t *testing.T) {
	calls := 0
	poll.UntilWithin(t, time.Minute, time.Millisecond, "the third check", func() bool {
		calls++
		return calls == 3
	})
	if calls != 3 {
		t.Errorf("checked %d times; want 3", calls)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUntilWithinFailsAfterItsBound(t *testing.T) {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		poll.UntilWithin(r, 20*time.Millisecond, time.Millisecond, "what never happens", func() bool { return false })
	}()
	<-done
	if want := "gave up after 20ms waiting for what never happens"; r.msg != want {
		t.Errorf("failure message %q; want %q", r.msg, want)
	}
}
