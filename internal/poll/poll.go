// Package poll is the tests' one way to wait for what a background
// goroutine makes true: check, sleep a little, check again, and fail the
// test after a bound generous enough for a loaded CI machine.
package poll

import (
	"testing"
	"time"
)

// Bound is how long Until waits before it fails the test.
const Bound = 30 * time.Second

// Until checks cond every 5 ms until it holds; after Bound it fails the
// test, naming what it waited for.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	UntilWithin(t, Bound, 5*time.Millisecond, what, cond)
}

// UntilWithin is Until with its own bound and interval: for what takes
// longer than Bound (another process syncing a long history) or costs a
// query or a request to check.
func UntilWithin(t testing.TB, bound, every time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", bound, what)
		}
		time.Sleep(every)
	}
}
