package app

import (
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestOverdueCheck(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ptr := func(n int) *int { return &n }
	ran := rcbu.MSDate{Time: now.Add(-time.Hour)}
	daily := rcbu.Configuration{ID: 1, IsActive: true, Frequency: rcbu.FrequencyDaily}
	weekly := rcbu.Configuration{ID: 2, IsActive: true, Frequency: rcbu.FrequencyWeekly}
	hourly4 := rcbu.Configuration{ID: 3, IsActive: true, Frequency: rcbu.FrequencyHourly, HourInterval: ptr(4)}
	hourly1 := rcbu.Configuration{ID: 4, IsActive: true, Frequency: rcbu.FrequencyHourly, HourInterval: ptr(1)}
	manual := rcbu.Configuration{ID: 5, IsActive: true, Frequency: rcbu.FrequencyManually}
	disabled := daily
	disabled.IsActive = false
	ranDaily := daily
	ranDaily.LastRunTime = ran
	badHourly := rcbu.Configuration{ID: 6, IsActive: true, Frequency: rcbu.FrequencyHourly}

	tests := []struct {
		name  string
		cfg   rcbu.Configuration
		last  time.Duration // age of the last success; <0 means none
		want  bool
		words string
	}{
		{"daily within the interval is fine", daily, 20 * time.Hour, false, ""},
		{"daily within the 6 h grace is fine", daily, 29 * time.Hour, false, ""},
		{"daily past interval plus grace is overdue", daily, 31 * time.Hour, true, "overdue by 7 h"},
		{"daily three days late reads in days", daily, 96 * time.Hour, true, "overdue by 3 d"},
		{"weekly within 7 d + 42 h grace is fine", weekly, 8 * 24 * time.Hour, false, ""},
		{"weekly past its grace is overdue", weekly, 9 * 24 * time.Hour, true, "overdue by 2 d"},
		{"every 4 h gets the 1 h minimum grace", hourly4, 5*time.Hour + 30*time.Minute, true, "overdue by 1 h"},
		{"every 4 h within the grace is fine", hourly4, 4*time.Hour + 50*time.Minute, false, ""},
		{"hourly within the minimum grace is fine", hourly1, 110 * time.Minute, false, ""},
		{"hourly past the minimum grace is overdue", hourly1, 150 * time.Minute, true, "overdue by 1 h"},
		{"manual is never overdue", manual, 100 * 24 * time.Hour, false, ""},
		{"disabled is never overdue", disabled, 100 * 24 * time.Hour, false, ""},
		{"hourly without an interval is not judged", badHourly, 100 * time.Hour, false, ""},
		{"never run is not overdue yet", daily, -1, false, ""},
		{"run but never succeeded is overdue", ranDaily, -1, true, "never succeeded"},
	}
	p := DefaultOverduePolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last time.Time
			if tt.last >= 0 {
				last = now.Add(-tt.last)
			}
			got := p.Check(tt.cfg, last, now)
			if got.Overdue != tt.want || got.Words() != tt.words {
				t.Errorf("Check = %+v (%q), want overdue=%v %q", got, got.Words(), tt.want, tt.words)
			}
		})
	}
}

func TestOverduePolicyConfigurable(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	daily := rcbu.Configuration{IsActive: true, Frequency: rcbu.FrequencyDaily}
	strict := OverduePolicy{GraceFraction: 0, MinGrace: 0}
	if got := strict.Check(daily, now.Add(-25*time.Hour), now); !got.Overdue || got.Words() != "overdue by 1 h" {
		t.Errorf("strict policy: %+v", got)
	}
	lax := OverduePolicy{GraceFraction: 1}
	if got := lax.Check(daily, now.Add(-47*time.Hour), now); got.Overdue {
		t.Errorf("lax policy: %+v", got)
	}
}

func TestLastSuccess(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h int) rcbu.MSDate { return rcbu.MSDate{Time: t0.Add(time.Duration(h) * time.Hour)} }
	cfg := rcbu.Configuration{ID: 7, LastRunTime: at(10), BackupState: "Failed"}
	acts := []rcbu.Activity{
		{Type: rcbu.ActivityBackup, ConfigurationID: 7, CurrentState: "Failed", TimeOfActivity: at(10)},
		{Type: rcbu.ActivityBackup, ConfigurationID: 7, CurrentState: "CompletedWithErrors", TimeOfActivity: at(6)},
		{Type: rcbu.ActivityBackup, ConfigurationID: 7, CurrentState: "Completed", TimeOfActivity: at(3)},
		{Type: rcbu.ActivityBackup, ConfigurationID: 8, CurrentState: "Completed", TimeOfActivity: at(9)},
		{Type: rcbu.ActivityRestore, ConfigurationID: 7, CurrentState: "Completed", TimeOfActivity: at(9)},
	}
	if got := LastSuccess(cfg, acts); !got.Equal(at(6).Time) {
		t.Errorf("LastSuccess = %v, want %v", got, at(6).Time)
	}
	cfg.BackupState = "Completed"
	if got := LastSuccess(cfg, acts); !got.Equal(at(10).Time) {
		t.Errorf("LastSuccess with a successful last run = %v", got)
	}
	if got := LastSuccess(rcbu.Configuration{ID: 9}, acts); !got.IsZero() {
		t.Errorf("LastSuccess with no runs = %v", got)
	}
}

func TestBackupAge(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		age      time.Duration
		interval time.Duration
		want     AgeLevel
	}{
		{"under 1.5 intervals is fresh", 35 * time.Hour, day, AgeFresh},
		{"1.5 intervals is stale", 36 * time.Hour, day, AgeStale},
		{"under 3 intervals is stale", 71 * time.Hour, day, AgeStale},
		{"3 intervals is old", 72 * time.Hour, day, AgeOld},
		{"manual-only agents count in days", 2 * day, 0, AgeStale},
		{"hourly", 2 * time.Hour, time.Hour, AgeStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BackupAge(now.Add(-tt.age), now, tt.interval); got != tt.want {
				t.Errorf("BackupAge = %v, want %v", got, tt.want)
			}
		})
	}
	if got := BackupAge(time.Time{}, now, day); got != AgeNever {
		t.Errorf("never = %v", got)
	}
}

// TestOverdueCheckSeen: a scheduled configuration that has never run is
// overdue ("never ran") once its first run is past by more than the grace,
// counted from when the console first saw it, or from the service's own
// next run time when that is earlier and already past; one that has run,
// is manual or disabled, or was never seen, is judged as Check does.
func TestOverdueCheckSeen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	p := DefaultOverduePolicy()
	daily := rcbu.Configuration{ID: 1, IsActive: true, Frequency: rcbu.FrequencyDaily}
	withNext := func(c rcbu.Configuration, at time.Time) rcbu.Configuration {
		c.NextScheduledRunTime = rcbu.MSDate{Time: at}
		return c
	}
	ran := daily
	ran.LastRunTime = rcbu.MSDate{Time: now.Add(-3 * 24 * time.Hour)}
	manual := rcbu.Configuration{ID: 2, IsActive: true, Frequency: rcbu.FrequencyManually}
	disabled := daily
	disabled.IsActive = false
	tests := []struct {
		name      string
		cfg       rcbu.Configuration
		firstSeen time.Time
		want      Overdue
	}{
		{"seen two days ago, never ran: overdue since its first run a day ago", daily, now.Add(-48 * time.Hour), Overdue{Overdue: true, NeverRan: true, By: 24 * time.Hour}},
		{"seen 28 h ago: its first run is 4 h past, within the 6 h grace", daily, now.Add(-28 * time.Hour), Overdue{}},
		{"seen an hour ago: no run due yet", daily, now.Add(-time.Hour), Overdue{}},
		{"the service's next run, past by 10 h, counts when earlier", withNext(daily, now.Add(-10*time.Hour)), now.Add(-20 * time.Hour), Overdue{Overdue: true, NeverRan: true, By: 10 * time.Hour}},
		{"a next run in the future leaves the first-seen due time", withNext(daily, now.Add(time.Hour)), now.Add(-20 * time.Hour), Overdue{}},
		{"never seen: as Check", daily, time.Time{}, Overdue{}},
		{"it ran: as Check (never succeeded)", ran, now.Add(-48 * time.Hour), Overdue{Overdue: true, Never: true}},
		{"manual: never overdue", manual, now.Add(-30 * 24 * time.Hour), Overdue{}},
		{"disabled: never overdue", disabled, now.Add(-30 * 24 * time.Hour), Overdue{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.CheckSeen(tt.cfg, time.Time{}, tt.firstSeen, now)
			if got != tt.want {
				t.Errorf("CheckSeen = %+v, want %+v", got, tt.want)
			}
			if tt.want.NeverRan && got.Words() != "never ran" {
				t.Errorf("words %q", got.Words())
			}
		})
	}
}
