package rcbu

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is when a backup configuration runs, on a 24-hour clock in a
// Windows time zone (the API's TimeZoneId). Build one with Manual, Hourly,
// Daily or Weekly and set TimeZone.
type Schedule struct {
	Frequency    Frequency
	HourInterval int          // Hourly: 1–23 hours between runs
	Hour, Minute int          // Daily/Weekly: 0–23, 0–59
	Weekday      time.Weekday // Weekly
	TimeZone     string       // Windows zone id, e.g. "Eastern Standard Time"; see TimeZones
}

// Manual returns a schedule that only runs when started by hand.
func Manual() Schedule { return Schedule{Frequency: FrequencyManually} }

// Hourly returns a schedule that runs every n hours (1–23).
func Hourly(n int) Schedule { return Schedule{Frequency: FrequencyHourly, HourInterval: n} }

// Daily returns a schedule that runs every day at h:m (24-hour clock).
func Daily(h, m int) Schedule { return Schedule{Frequency: FrequencyDaily, Hour: h, Minute: m} }

// Weekly returns a schedule that runs every week on day at h:m.
func Weekly(day time.Weekday, h, m int) Schedule {
	return Schedule{Frequency: FrequencyWeekly, Weekday: day, Hour: h, Minute: m}
}

// In returns a copy of s in the Windows time zone tz.
func (s Schedule) In(tz string) Schedule { s.TimeZone = tz; return s }

// Validate applies the API's schedule matrix (§5.2). It returns a
// *ValidationError keyed by API field names.
func (s Schedule) Validate() error {
	v := &ValidationError{Op: "invalid schedule"}
	s.validate(v)
	return v.orNil()
}

func (s Schedule) validate(v *ValidationError) {
	switch s.Frequency {
	case FrequencyManually:
	case FrequencyHourly:
		if s.HourInterval < 1 || s.HourInterval > 23 {
			v.add("HourInterval", "must be between 1 and 23 hours")
		}
	case FrequencyDaily, FrequencyWeekly:
		if s.Hour < 0 || s.Hour > 23 {
			v.add("StartTimeHour", "must be between 0 and 23 (24-hour clock)")
		}
		if s.Minute < 0 || s.Minute > 59 {
			v.add("StartTimeMinute", "must be between 0 and 59")
		}
		if s.Frequency == FrequencyWeekly && (s.Weekday < time.Sunday || s.Weekday > time.Saturday) {
			v.add("DayOfWeekId", "must be a day from Sunday (0) to Saturday (6)")
		}
	case "":
		v.add("Frequency", "is required")
	default:
		v.add("Frequency", fmt.Sprintf("must be Manually, Hourly, Daily or Weekly, not %.20q", string(s.Frequency)))
	}
	if s.TimeZone == "" {
		if s.Frequency != FrequencyManually {
			v.add("TimeZoneId", "is required")
		}
	} else if _, ok := ianaZone(s.TimeZone); !ok {
		v.add("TimeZoneId", fmt.Sprintf("unknown time zone %.60q", s.TimeZone))
	}
}

// apiSchedule holds the API's six schedule fields plus the zone.
type apiSchedule struct {
	Frequency       Frequency `json:"Frequency"`
	StartTimeHour   *int      `json:"StartTimeHour"`
	StartTimeMinute *int      `json:"StartTimeMinute"`
	StartTimeAmPm   *string   `json:"StartTimeAmPm"`
	DayOfWeekID     *int      `json:"DayOfWeekId"`
	HourInterval    *int      `json:"HourInterval"`
	TimeZoneID      string    `json:"TimeZoneId"`
}

// toAPI converts to the API's 12-hour fields (midnight = 12 AM), with nil
// for every field the frequency does not use.
func (s Schedule) toAPI() apiSchedule {
	a := apiSchedule{Frequency: s.Frequency, TimeZoneID: s.TimeZone}
	if a.TimeZoneID == "" {
		a.TimeZoneID = "UTC"
	}
	ptr := func(n int) *int { return &n }
	switch s.Frequency {
	case FrequencyHourly:
		a.HourInterval = ptr(s.HourInterval)
	case FrequencyDaily, FrequencyWeekly:
		h12, ampm := to12(s.Hour)
		a.StartTimeHour, a.StartTimeMinute, a.StartTimeAmPm = ptr(h12), ptr(s.Minute), &ampm
		if s.Frequency == FrequencyWeekly {
			a.DayOfWeekID = ptr(int(s.Weekday))
		}
	}
	return a
}

func to12(h int) (int, string) {
	ampm := "AM"
	if h >= 12 {
		ampm = "PM"
	}
	h %= 12
	if h == 0 {
		h = 12
	}
	return h, ampm
}

// from12 converts 12-hour API fields to a 24-hour hour. Hour 0 AM (written
// by an old client) is accepted as midnight.
func from12(h int, ampm string) (int, error) {
	if h < 0 || h > 12 {
		return 0, fmt.Errorf("rcbu: schedule: StartTimeHour %d out of range 1-12", h)
	}
	switch strings.ToUpper(strings.TrimSpace(ampm)) {
	case "AM":
		return h % 12, nil
	case "PM":
		return h%12 + 12, nil
	}
	return 0, fmt.Errorf("rcbu: schedule: StartTimeAmPm %.10q is not AM or PM", ampm)
}

func scheduleFromAPI(f Frequency, hour, minute *int, ampm *string, dow, interval *int, tz string) (Schedule, error) {
	s := Schedule{TimeZone: tz}
	switch strings.ToLower(string(f)) {
	case "manually", "manual":
		s.Frequency = FrequencyManually
	case "hourly":
		s.Frequency = FrequencyHourly
		if interval == nil {
			return s, fmt.Errorf("rcbu: schedule: Hourly without HourInterval")
		}
		s.HourInterval = *interval
	case "daily", "weekly":
		s.Frequency = Frequency(strings.ToUpper(string(f[:1])) + strings.ToLower(string(f[1:])))
		if hour == nil || minute == nil || ampm == nil {
			return s, fmt.Errorf("rcbu: schedule: %s without a start time", f)
		}
		h, err := from12(*hour, *ampm)
		if err != nil {
			return s, err
		}
		s.Hour, s.Minute = h, *minute
		if s.Frequency == FrequencyWeekly {
			if dow == nil || *dow < 0 || *dow > 6 {
				return s, fmt.Errorf("rcbu: schedule: Weekly without a valid DayOfWeekId")
			}
			s.Weekday = time.Weekday(*dow)
		}
	default:
		return s, fmt.Errorf("rcbu: schedule: unknown frequency %.20q", string(f))
	}
	return s, nil
}

// Location returns the IANA location of the schedule's Windows zone. It
// needs the system's zone database, or a main that imports time/tzdata.
func (s Schedule) Location() (*time.Location, error) {
	name, ok := ianaZone(s.TimeZone)
	if !ok {
		return nil, fmt.Errorf("rcbu: unknown time zone %.60q", s.TimeZone)
	}
	return time.LoadLocation(name)
}

// Next returns the first run strictly after after, or the zero time for a
// manual schedule, an invalid schedule or an unknown zone. Hourly runs
// start at local midnight and repeat every HourInterval hours within each
// day (at minute 0).
func (s Schedule) Next(after time.Time) time.Time {
	if s.Validate() != nil || s.Frequency == FrequencyManually {
		return time.Time{}
	}
	loc, err := s.Location()
	if err != nil {
		return time.Time{}
	}
	local := after.In(loc)
	y, mo, d := local.Date()
	switch s.Frequency {
	case FrequencyHourly:
		// Walk at most two days of slots; enough for any interval ≤ 23.
		for day := 0; day <= 2; day++ {
			for h := 0; h < 24; h += s.HourInterval {
				t := time.Date(y, mo, d+day, h, 0, 0, 0, loc)
				if t.After(after) {
					return t.UTC()
				}
			}
		}
	case FrequencyDaily:
		for day := 0; day <= 2; day++ {
			if t := time.Date(y, mo, d+day, s.Hour, s.Minute, 0, 0, loc); t.After(after) {
				return t.UTC()
			}
		}
	case FrequencyWeekly:
		for day := 0; day <= 8; day++ {
			t := time.Date(y, mo, d+day, s.Hour, s.Minute, 0, 0, loc)
			if t.Weekday() == s.Weekday && t.After(after) {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

// String describes the schedule in words: "Manually", "Every 4 hours",
// "Every day at 02:30 UTC", "Every Tuesday at 02:30 Eastern Standard Time".
func (s Schedule) String() string {
	at := fmt.Sprintf("%02d:%02d", s.Hour, s.Minute)
	if s.TimeZone != "" {
		at += " " + s.TimeZone
	}
	switch s.Frequency {
	case FrequencyManually:
		return "Manually"
	case FrequencyHourly:
		if s.HourInterval == 1 {
			return "Every hour"
		}
		return "Every " + strconv.Itoa(s.HourInterval) + " hours"
	case FrequencyDaily:
		return "Every day at " + at
	case FrequencyWeekly:
		return "Every " + s.Weekday.String() + " at " + at
	}
	return "Unknown schedule " + strconv.Quote(string(s.Frequency))
}

// TimeZone pairs a Windows time-zone id (the API's TimeZoneId) with its
// IANA name.
type TimeZone struct {
	ID   string // Windows id, e.g. "Eastern Standard Time"
	IANA string // e.g. "America/New_York"
}

// windowsZones maps Windows zone ids to IANA names (CLDR windowsZones, the
// "001" territory of each zone).
var windowsZones = [...]TimeZone{
	{"Dateline Standard Time", "Etc/GMT+12"},
	{"UTC-11", "Etc/GMT+11"},
	{"Hawaiian Standard Time", "Pacific/Honolulu"},
	{"Alaskan Standard Time", "America/Anchorage"},
	{"Pacific Standard Time", "America/Los_Angeles"},
	{"US Mountain Standard Time", "America/Phoenix"},
	{"Mountain Standard Time", "America/Denver"},
	{"Central America Standard Time", "America/Guatemala"},
	{"Central Standard Time", "America/Chicago"},
	{"Central Standard Time (Mexico)", "America/Mexico_City"},
	{"Canada Central Standard Time", "America/Regina"},
	{"SA Pacific Standard Time", "America/Bogota"},
	{"Eastern Standard Time", "America/New_York"},
	{"US Eastern Standard Time", "America/Indiana/Indianapolis"},
	{"Venezuela Standard Time", "America/Caracas"},
	{"Atlantic Standard Time", "America/Halifax"},
	{"SA Western Standard Time", "America/La_Paz"},
	{"Pacific SA Standard Time", "America/Santiago"},
	{"Newfoundland Standard Time", "America/St_Johns"},
	{"E. South America Standard Time", "America/Sao_Paulo"},
	{"Argentina Standard Time", "America/Buenos_Aires"},
	{"Greenland Standard Time", "America/Godthab"},
	{"UTC-02", "Etc/GMT+2"},
	{"Azores Standard Time", "Atlantic/Azores"},
	{"Cape Verde Standard Time", "Atlantic/Cape_Verde"},
	{"UTC", "Etc/UTC"},
	{"GMT Standard Time", "Europe/London"},
	{"Greenwich Standard Time", "Atlantic/Reykjavik"},
	{"W. Europe Standard Time", "Europe/Berlin"},
	{"Central Europe Standard Time", "Europe/Budapest"},
	{"Romance Standard Time", "Europe/Paris"},
	{"Central European Standard Time", "Europe/Warsaw"},
	{"W. Central Africa Standard Time", "Africa/Lagos"},
	{"GTB Standard Time", "Europe/Bucharest"},
	{"Middle East Standard Time", "Asia/Beirut"},
	{"Egypt Standard Time", "Africa/Cairo"},
	{"South Africa Standard Time", "Africa/Johannesburg"},
	{"FLE Standard Time", "Europe/Kiev"},
	{"Israel Standard Time", "Asia/Jerusalem"},
	{"Turkey Standard Time", "Europe/Istanbul"},
	{"Arabic Standard Time", "Asia/Baghdad"},
	{"Arab Standard Time", "Asia/Riyadh"},
	{"Russian Standard Time", "Europe/Moscow"},
	{"E. Africa Standard Time", "Africa/Nairobi"},
	{"Iran Standard Time", "Asia/Tehran"},
	{"Arabian Standard Time", "Asia/Dubai"},
	{"Afghanistan Standard Time", "Asia/Kabul"},
	{"Pakistan Standard Time", "Asia/Karachi"},
	{"India Standard Time", "Asia/Calcutta"},
	{"Nepal Standard Time", "Asia/Katmandu"},
	{"Bangladesh Standard Time", "Asia/Dhaka"},
	{"Myanmar Standard Time", "Asia/Rangoon"},
	{"SE Asia Standard Time", "Asia/Bangkok"},
	{"China Standard Time", "Asia/Shanghai"},
	{"Singapore Standard Time", "Asia/Singapore"},
	{"W. Australia Standard Time", "Australia/Perth"},
	{"Taipei Standard Time", "Asia/Taipei"},
	{"Tokyo Standard Time", "Asia/Tokyo"},
	{"Korea Standard Time", "Asia/Seoul"},
	{"Cen. Australia Standard Time", "Australia/Adelaide"},
	{"AUS Central Standard Time", "Australia/Darwin"},
	{"E. Australia Standard Time", "Australia/Brisbane"},
	{"AUS Eastern Standard Time", "Australia/Sydney"},
	{"Tasmania Standard Time", "Australia/Hobart"},
	{"Vladivostok Standard Time", "Asia/Vladivostok"},
	{"Central Pacific Standard Time", "Pacific/Guadalcanal"},
	{"New Zealand Standard Time", "Pacific/Auckland"},
	{"UTC+12", "Etc/GMT-12"},
	{"Fiji Standard Time", "Pacific/Fiji"},
	{"Tonga Standard Time", "Pacific/Tongatapu"},
}

// TimeZones lists the supported Windows time-zone ids with their IANA names,
// west to east; a web form can offer these as TimeZoneId choices.
func TimeZones() []TimeZone {
	out := make([]TimeZone, len(windowsZones))
	copy(out, windowsZones[:])
	return out
}

// ianaZone maps a Windows id (case-insensitive) to an IANA name.
func ianaZone(windowsID string) (string, bool) {
	for _, z := range windowsZones {
		if strings.EqualFold(z.ID, windowsID) {
			return z.IANA, true
		}
	}
	return "", false
}

// WindowsZone returns the Windows id for an IANA zone name, for callers that
// start from a *time.Location (e.g. time.Local.String()).
func WindowsZone(iana string) (string, bool) {
	if iana == "UTC" || iana == "Etc/UTC" || iana == "GMT" {
		return "UTC", true
	}
	for _, z := range windowsZones {
		if z.IANA == iana {
			return z.ID, true
		}
	}
	return "", false
}
