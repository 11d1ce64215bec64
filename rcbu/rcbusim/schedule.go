package rcbusim

import (
	"fmt"
	"strings"
	"time"
)

// windowsZone maps Windows time-zone ids (what RCBU's TimeZoneId carries) to
// IANA names. Lookup is case-insensitive; IANA names are accepted as well.
func windowsZone(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "utc", "coordinated universal time", "gmt", "etc/utc":
		return "UTC", true
	case "dateline standard time":
		return "Etc/GMT+12", true
	case "hawaiian standard time":
		return "Pacific/Honolulu", true
	case "alaskan standard time":
		return "America/Anchorage", true
	case "pacific standard time":
		return "America/Los_Angeles", true
	case "us mountain standard time":
		return "America/Phoenix", true
	case "mountain standard time":
		return "America/Denver", true
	case "central standard time":
		return "America/Chicago", true
	case "central america standard time":
		return "America/Guatemala", true
	case "mexico standard time", "central standard time (mexico)":
		return "America/Mexico_City", true
	case "canada central standard time":
		return "America/Regina", true
	case "eastern standard time":
		return "America/New_York", true
	case "us eastern standard time":
		return "America/Indiana/Indianapolis", true
	case "atlantic standard time":
		return "America/Halifax", true
	case "newfoundland standard time":
		return "America/St_Johns", true
	case "e. south america standard time":
		return "America/Sao_Paulo", true
	case "argentina standard time":
		return "America/Argentina/Buenos_Aires", true
	case "gmt standard time":
		return "Europe/London", true
	case "greenwich standard time":
		return "Atlantic/Reykjavik", true
	case "w. europe standard time":
		return "Europe/Berlin", true
	case "central europe standard time":
		return "Europe/Budapest", true
	case "central european standard time":
		return "Europe/Warsaw", true
	case "romance standard time":
		return "Europe/Paris", true
	case "e. europe standard time":
		return "Europe/Chisinau", true
	case "gtb standard time":
		return "Europe/Bucharest", true
	case "fle standard time":
		return "Europe/Kiev", true
	case "south africa standard time":
		return "Africa/Johannesburg", true
	case "israel standard time":
		return "Asia/Jerusalem", true
	case "russian standard time":
		return "Europe/Moscow", true
	case "arabian standard time":
		return "Asia/Dubai", true
	case "india standard time":
		return "Asia/Kolkata", true
	case "se asia standard time":
		return "Asia/Bangkok", true
	case "china standard time":
		return "Asia/Shanghai", true
	case "singapore standard time":
		return "Asia/Singapore", true
	case "taipei standard time":
		return "Asia/Taipei", true
	case "tokyo standard time":
		return "Asia/Tokyo", true
	case "korea standard time":
		return "Asia/Seoul", true
	case "aus eastern standard time":
		return "Australia/Sydney", true
	case "e. australia standard time":
		return "Australia/Brisbane", true
	case "w. australia standard time":
		return "Australia/Perth", true
	case "new zealand standard time":
		return "Pacific/Auckland", true
	}
	return "", false
}

// loadZone resolves a TimeZoneId: a Windows id or an IANA name.
func loadZone(name string) (*time.Location, error) {
	if iana, ok := windowsZone(name); ok {
		return time.LoadLocation(iana)
	}
	if name == "" || strings.EqualFold(name, "local") {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return loc, nil
}

// hour24 converts the 12-hour StartTimeHour/AmPm pair: 12 AM is midnight.
func hour24(h int, ampm string) int {
	h %= 12
	if strings.EqualFold(ampm, "PM") {
		h += 12
	}
	return h
}

// nextAfter returns the first scheduled run strictly after t (zero for
// Manually). Daily and weekly times are wall-clock times in the config's
// zone, so they follow daylight-saving changes.
func (cfg *configuration) nextAfter(t time.Time) time.Time {
	switch cfg.frequency {
	case "Hourly":
		iv := time.Duration(*cfg.interval) * time.Hour
		if t.Before(cfg.anchor) {
			return cfg.anchor
		}
		k := t.Sub(cfg.anchor)/iv + 1
		return cfg.anchor.Add(k * iv)
	case "Daily", "Weekly":
		h := hour24(*cfg.hour, *cfg.ampm)
		lt := t.In(cfg.loc)
		for i := 0; i <= 8; i++ {
			day := lt.AddDate(0, 0, i)
			cand := time.Date(day.Year(), day.Month(), day.Day(), h, *cfg.minute, 0, 0, cfg.loc)
			if cfg.frequency == "Weekly" && int(cand.Weekday()) != *cfg.dayOfWeek {
				continue
			}
			if cand.Hour() != h {
				// The wall time falls in a daylight-saving gap; like the
				// Windows scheduler, run when the clock resumes (an hour on).
				cand = cand.Add(time.Hour)
			}
			if cand.After(t) {
				return cand.UTC()
			}
		}
	}
	return time.Time{}
}

// timeOfDay is the agent-document "HH:MM" of a daily/weekly schedule.
func (cfg *configuration) timeOfDay() any {
	if cfg.hour == nil || cfg.minute == nil || cfg.ampm == nil {
		return nil
	}
	return fmt.Sprintf("%02d:%02d", hour24(*cfg.hour, *cfg.ampm), *cfg.minute)
}

// rearm recomputes the next run after a schedule, activation or deletion
// change; events of the old schedule become stale through schedGen.
func (s *Server) rearm(cfg *configuration, now time.Time) {
	cfg.schedGen++
	cfg.nextRun = time.Time{}
	if cfg.deleted || !cfg.active || cfg.frequency == "Manually" {
		return
	}
	cfg.nextRun = cfg.nextAfter(now)
	if !cfg.nextRun.IsZero() {
		s.push(cfg.nextRun, evScheduleFire, cfg.id, cfg.schedGen)
	}
}

// fireSchedule runs a schedule that fell due: Missed when the agent is
// offline, Skipped when a run of the same configuration is still busy,
// otherwise a backup in StartScheduled. Disabled agents do not run.
func (s *Server) fireSchedule(ev event) {
	cfg := s.configs[ev.id]
	if cfg == nil || ev.gen != cfg.schedGen || cfg.deleted || !cfg.active {
		return
	}
	a := cfg.agent
	switch {
	case a.deleted || a.disabled:
	case !a.online:
		s.finishImmediately(cfg, ev.at, bsMissed)
	case cfg.running != nil:
		s.finishImmediately(cfg, ev.at, bsSkipped)
	default:
		s.startBackup(cfg, ev.at, bsStartScheduled)
	}
	cfg.nextRun = cfg.nextAfter(ev.at)
	if !cfg.nextRun.IsZero() {
		s.push(cfg.nextRun, evScheduleFire, cfg.id, cfg.schedGen)
	}
}
