package rcbusim

import (
	"sync"
	"time"
)

// Clock tells the simulator what time it is. All simulated state (job
// progress, schedules, token expiry) is derived from it.
type Clock interface {
	Now() time.Time
}

// FakeClock is a manually advanced Clock for tests. It is safe for
// concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock that reads t until advanced.
func NewFakeClock(t time.Time) *FakeClock {
	return &FakeClock{now: t}
}

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (negative values are ignored).
// Prefer Server.Advance, which also processes the events that fell due.
func (c *FakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// scaledClock runs speed times faster than the wall clock, starting at the
// wall time it was created.
type scaledClock struct {
	start time.Time
	speed float64
}

// NewScaledClock returns a Clock whose time starts at the current wall time
// and then runs speed times as fast as real time (speed 1 is real time;
// speed values <= 0 are treated as 1).
func NewScaledClock(speed float64) Clock {
	if speed <= 0 {
		speed = 1
	}
	return &scaledClock{start: time.Now(), speed: speed}
}

func (c *scaledClock) Now() time.Time {
	elapsed := time.Since(c.start)
	return c.start.Add(time.Duration(float64(elapsed) * c.speed))
}
