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
	deadline := time.Now().Add(Bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", Bound, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
