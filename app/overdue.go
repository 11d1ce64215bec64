package app

import (
	"fmt"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// OverduePolicy decides when a scheduled configuration is overdue: it is
// enabled and scheduled, and its last successful run is older than its
// schedule's interval plus a grace period. The grace absorbs a run that
// starts a little late or takes a while.
type OverduePolicy struct {
	// GraceFraction is the grace as a fraction of the interval (0.25: a
	// daily backup may be 6 h late before it counts as overdue).
	GraceFraction float64
	// MinGrace is the smallest grace, so hourly schedules get some slack.
	MinGrace time.Duration
}

// DefaultOverduePolicy is 25% of the interval, at least one hour.
func DefaultOverduePolicy() OverduePolicy {
	return OverduePolicy{GraceFraction: 0.25, MinGrace: time.Hour}
}

// ScheduleInterval returns how often a schedule runs: every N hours for
// Hourly, 24 h for Daily, 7 d for Weekly. Manual and malformed schedules
// have none.
func ScheduleInterval(s rcbu.Schedule) (time.Duration, bool) {
	switch s.Frequency {
	case rcbu.FrequencyHourly:
		if s.HourInterval < 1 {
			return 0, false
		}
		return time.Duration(s.HourInterval) * time.Hour, true
	case rcbu.FrequencyDaily:
		return 24 * time.Hour, true
	case rcbu.FrequencyWeekly:
		return 7 * 24 * time.Hour, true
	default:
		return 0, false
	}
}

// ConfigurationInterval is ScheduleInterval of a configuration's schedule.
// It reads only the frequency and hour interval, so a schedule with an odd
// start time still has its interval.
func ConfigurationInterval(c rcbu.Configuration) (time.Duration, bool) {
	s := rcbu.Schedule{Frequency: c.Frequency}
	if c.HourInterval != nil {
		s.HourInterval = *c.HourInterval
	}
	return ScheduleInterval(s)
}

// Grace returns the grace period for a schedule interval.
func (p OverduePolicy) Grace(interval time.Duration) time.Duration {
	g := time.Duration(float64(interval) * p.GraceFraction)
	return max(g, p.MinGrace)
}

// Overdue is the verdict on one configuration.
type Overdue struct {
	Overdue bool
	// By is how long past its due time (last success + interval) the
	// configuration is; zero when it has run but never succeeded.
	By time.Duration
	// Never is set when the configuration has run but never succeeded.
	Never bool
	// NeverRan is set when it has never run although its schedule says it
	// should have by now; By is then how long past that first run it is.
	NeverRan bool
}

// Words says it for a badge: "overdue by 2 d", "never succeeded", "never
// ran", or "".
func (o Overdue) Words() string {
	switch {
	case !o.Overdue:
		return ""
	case o.Never:
		return "never succeeded"
	case o.NeverRan:
		return "never ran"
	default:
		return "overdue by " + ShortDuration(o.By)
	}
}

// Check judges configuration c at now, given the time of its last
// successful run (zero if none is known). A manual or disabled
// configuration is never overdue, nor is one that has never run (it has had
// no chance yet); one that has run but never succeeded is.
func (p OverduePolicy) Check(c rcbu.Configuration, lastSuccess, now time.Time) Overdue {
	if !c.IsActive || c.IsDeleted {
		return Overdue{}
	}
	interval, ok := ConfigurationInterval(c)
	if !ok {
		return Overdue{}
	}
	if lastSuccess.IsZero() {
		if c.LastRunTime.Valid() {
			return Overdue{Overdue: true, Never: true}
		}
		return Overdue{}
	}
	due := lastSuccess.Add(interval)
	if now.Sub(due) <= p.Grace(interval) {
		return Overdue{}
	}
	return Overdue{Overdue: true, By: now.Sub(due)}
}

// CheckSeen is Check for a configuration the console first saw at
// firstSeen (zero if unknown). One that has never run, which Check leaves
// alone, is overdue ("never ran") once its first scheduled run is past by
// more than the grace: that run is due one interval after it was first
// seen at the latest, or at the service's own NextScheduledRunTime when
// that is earlier and already past (the service then did not start it).
func (p OverduePolicy) CheckSeen(c rcbu.Configuration, lastSuccess, firstSeen, now time.Time) Overdue {
	o := p.Check(c, lastSuccess, now)
	if o.Overdue || !lastSuccess.IsZero() || c.LastRunTime.Valid() || !c.IsActive || c.IsDeleted || firstSeen.IsZero() {
		return o
	}
	interval, ok := ConfigurationInterval(c)
	if !ok {
		return o
	}
	due := firstSeen.Add(interval)
	if next, ok := c.NextRun(); ok && next.Before(due) && next.Before(now) && !next.Before(firstSeen) {
		due = next
	}
	if now.Sub(due) <= p.Grace(interval) {
		return o
	}
	return Overdue{Overdue: true, NeverRan: true, By: now.Sub(due)}
}

// LastSuccess returns the time of a configuration's last successful run as
// far as the console can tell: the configuration's own last run when it
// succeeded, or the newest successful backup of it in the activity list.
func LastSuccess(c rcbu.Configuration, activity []rcbu.Activity) time.Time {
	var last time.Time
	if c.LastRunTime.Valid() && rcbu.BackupState(c.BackupState).Succeeded() {
		last = c.LastRunTime.Time
	}
	for _, a := range activity {
		if a.Type != rcbu.ActivityBackup || a.ConfigurationID != c.ID || !a.TimeOfActivity.Valid() {
			continue
		}
		if rcbu.BackupState(a.CurrentState).Succeeded() && a.TimeOfActivity.After(last) {
			last = a.TimeOfActivity.Time
		}
	}
	return last
}

// AgeLevel grades how old a last successful backup is against the schedule
// interval: Fresh under 1.5 intervals, Stale under 3, Old beyond (and Never
// when there is none).
type AgeLevel int

// The age levels.
const (
	AgeFresh AgeLevel = iota
	AgeStale
	AgeOld
	AgeNever
)

// BackupAge grades the age of last at now for a schedule interval; an
// interval of zero (manual schedules only) is taken as one day.
func BackupAge(last, now time.Time, interval time.Duration) AgeLevel {
	if last.IsZero() {
		return AgeNever
	}
	if interval <= 0 {
		interval = 24 * time.Hour
	}
	age := now.Sub(last)
	switch {
	case age < interval*3/2:
		return AgeFresh
	case age < interval*3:
		return AgeStale
	default:
		return AgeOld
	}
}

// ShortDuration says d in its largest whole unit: "45 s", "3 min", "5 h",
// "2 d".
func ShortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
	}
}
