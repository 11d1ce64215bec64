package rcbusim

import (
	"slices"
	"testing"
	"time"
)

// scheduledStarts returns the start times of config's backups, in UTC.
func scheduledStarts(ts *testServer, config int64) ([]time.Time, []string) {
	var at []time.Time
	var states []string
	for _, b := range ts.Backups() {
		if b.ConfigurationID == config {
			at = append(at, b.Start.UTC())
			states = append(states, b.State)
		}
	}
	return at, states
}

func addConfig(t *testing.T, ts *testServer, c ConfigurationSeed) int64 {
	t.Helper()
	id, err := ts.AddConfiguration(DemoTenant, c)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDailyScheduleFollowsTimeZoneAndDST(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t) // 2026-03-02 15:04:05 UTC; US DST starts 2026-03-08
	a := ts.AddAgent(DemoTenant, AgentSeed{Online: true})
	cfg := addConfig(t, ts, ConfigurationSeed{AgentID: a, Name: "d", Frequency: "Daily", Hour: 2, Minute: 15, AmPm: "AM", TimeZone: "Eastern Standard Time", Inclusions: []string{"/srv"}})
	ts.Advance(8 * 24 * time.Hour)
	at, states := scheduledStarts(ts, cfg)
	want := []time.Time{
		time.Date(2026, 3, 3, 7, 15, 0, 0, time.UTC),
		time.Date(2026, 3, 4, 7, 15, 0, 0, time.UTC),
		time.Date(2026, 3, 5, 7, 15, 0, 0, time.UTC),
		time.Date(2026, 3, 6, 7, 15, 0, 0, time.UTC),
		time.Date(2026, 3, 7, 7, 15, 0, 0, time.UTC),
		time.Date(2026, 3, 8, 7, 15, 0, 0, time.UTC), // 02:15 does not exist that night: 03:15 EDT
		time.Date(2026, 3, 9, 6, 15, 0, 0, time.UTC), // 02:15 EDT
		time.Date(2026, 3, 10, 6, 15, 0, 0, time.UTC),
	}
	if !slices.EqualFunc(at, want, time.Time.Equal) {
		t.Fatalf("runs at %v\nwant %v", at, want)
	}
	for _, st := range states {
		if mustState(st).busy() || st == "Missed" || st == "Skipped" {
			t.Errorf("scheduled run ended %s", st)
		}
	}
}

func TestWeeklyAndHourlySchedules(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	a := ts.AddAgent(DemoTenant, AgentSeed{Online: true})
	// Friday 7:30 PM in London (GMT in March before the 29th).
	weekly := addConfig(t, ts, ConfigurationSeed{AgentID: a, Name: "w", Frequency: "Weekly", DayOfWeek: 5, Hour: 7, Minute: 30, AmPm: "PM", TimeZone: "GMT Standard Time"})
	hourly := addConfig(t, ts, ConfigurationSeed{AgentID: a, Name: "h", Frequency: "Hourly", HourInterval: 4, TimeZone: "UTC"})
	c := demo(t, ts)
	var cfg obj
	c.call("GET", "/backup-configuration/"+itoa(weekly), nil, 200, &cfg)
	wantNext := time.Date(2026, 3, 6, 19, 30, 0, 0, time.UTC)
	if cfg["NextScheduledRunTime"] != "/Date("+itoa(wantNext.UnixMilli())+")/" {
		t.Fatalf("weekly next %v, want %v", cfg["NextScheduledRunTime"], wantNext)
	}
	ts.Advance(14 * 24 * time.Hour)
	at, _ := scheduledStarts(ts, weekly)
	if !slices.EqualFunc(at, []time.Time{wantNext, wantNext.AddDate(0, 0, 7)}, time.Time.Equal) {
		t.Fatalf("weekly runs %v", at)
	}
	at, _ = scheduledStarts(ts, hourly)
	if len(at) != 14*6 {
		t.Fatalf("hourly runs: %d, want %d", len(at), 14*6)
	}
	first := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	for i, x := range at {
		if !x.Equal(first.Add(time.Duration(4*i) * time.Hour)) {
			t.Fatalf("hourly run %d at %v", i, x)
		}
	}
	// Activity is newest first.
	c = demo(t, ts)
	var act []obj
	c.call("GET", "/activity", nil, 200, &act)
	if len(act) != 14*6+2 || num(act[0]["ID"]) < num(act[1]["ID"]) {
		t.Fatalf("activity: %d items, first %v", len(act), act[0]["ID"])
	}
}

func TestScheduleMissedSkippedAndInactive(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithTokenTTL(365*24*time.Hour))
	a := ts.AddAgent(DemoTenant, AgentSeed{Online: true})
	// Daily 4:00 PM UTC: first run 2026-03-02 16:00, 56 minutes after the start.
	cfg := addConfig(t, ts, ConfigurationSeed{AgentID: a, Name: "d", Frequency: "Daily", Hour: 4, AmPm: "PM", TimeZone: "UTC"})
	c := demo(t, ts)

	// Busy at the scheduled time: Skipped.
	ts.Advance(55*time.Minute + 50*time.Second)
	manual := c.startBackup(cfg)
	ts.Advance(20 * time.Second)
	_, states := scheduledStarts(ts, cfg)
	if len(states) != 2 || !mustState(states[0]).busy() || states[1] != "Skipped" {
		t.Fatalf("states %v, want the manual run busy and the scheduled one Skipped", states)
	}
	ts.Advance(5 * time.Minute)
	if st := c.backupState(manual); mustState(st).busy() {
		t.Fatalf("manual run still %s", st)
	}
	var cfgJSON obj
	c.call("GET", "/backup-configuration/"+itoa(cfg), nil, 200, &cfgJSON)

	// Offline at the scheduled time: Missed.
	ts.SetAgentOnline(a, false)
	ts.Advance(24 * time.Hour)
	_, states = scheduledStarts(ts, cfg)
	if states[len(states)-1] != "Missed" {
		t.Fatalf("states %v, want the last one Missed", states)
	}
	var rep obj
	bs := ts.Backups()
	c.call("GET", "/backup/report/"+itoa(bs[len(bs)-1].ID), nil, 200, &rep)
	if rep["State"] != "Missed" || rep["CanRestore"] != false {
		t.Fatalf("missed report %v", rep)
	}

	// Inactive configurations and disabled agents do not run.
	ts.SetAgentOnline(a, true)
	c.call("POST", "/backup-configuration/enable/"+itoa(cfg), obj{"Enable": false}, 200, nil)
	count := func() int {
		at, _ := scheduledStarts(ts, cfg)
		return len(at)
	}
	n := count()
	ts.Advance(48 * time.Hour)
	if count() != n {
		t.Fatal("inactive configuration ran")
	}
	c.call("POST", "/backup-configuration/enable/"+itoa(cfg), obj{"Enable": true}, 200, nil)
	ts.SetAgentDisabled(a, true)
	ts.Advance(48 * time.Hour)
	if count() != n {
		t.Fatal("disabled agent ran")
	}
	ts.SetAgentDisabled(a, false)
	ts.Advance(24 * time.Hour)
	if count() != n+1 {
		t.Fatalf("re-enabled agent: %d backups, want %d", count(), n+1)
	}
}

func TestWindowsZones(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Eastern Standard Time", "pacific standard time", "GMT Standard Time", "UTC", "AUS Eastern Standard Time", "America/Chicago"} {
		if _, err := loadZone(name); err != nil {
			t.Errorf("loadZone(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "Local", "Nowhere Standard Time"} {
		if _, err := loadZone(name); err == nil {
			t.Errorf("loadZone(%q) succeeded", name)
		}
	}
}
