package rcbu_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestScheduleValidate(t *testing.T) {
	tests := []struct {
		name  string
		s     rcbu.Schedule
		field string // "" = valid
	}{
		{"manual", rcbu.Manual(), ""},
		{"hourly", rcbu.Hourly(4).In("UTC"), ""},
		{"hourly 0", rcbu.Hourly(0).In("UTC"), "HourInterval"},
		{"hourly 24", rcbu.Hourly(24).In("UTC"), "HourInterval"},
		{"daily midnight", rcbu.Daily(0, 0).In("UTC"), ""},
		{"daily 24h", rcbu.Daily(24, 0).In("UTC"), "StartTimeHour"},
		{"daily minute 60", rcbu.Daily(3, 60).In("UTC"), "StartTimeMinute"},
		{"weekly", rcbu.Weekly(time.Saturday, 23, 59).In("GMT Standard Time"), ""},
		{"weekly bad day", rcbu.Weekly(7, 1, 0).In("UTC"), "DayOfWeekId"},
		{"no zone", rcbu.Daily(1, 0), "TimeZoneId"},
		{"unknown zone", rcbu.Daily(1, 0).In("Mars Standard Time"), "TimeZoneId"},
		{"monthly", rcbu.Schedule{Frequency: "Monthly", TimeZone: "UTC"}, "Frequency"},
		{"empty", rcbu.Schedule{}, "Frequency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var v *rcbu.ValidationError
			if !errors.As(err, &v) || v.Fields[tt.field] == "" || !errors.Is(err, rcbu.ErrBadRequest) {
				t.Fatalf("Validate = %v, want a message for %s", err, tt.field)
			}
		})
	}
}

func TestScheduleAPIRoundTrip(t *testing.T) {
	cases := []struct {
		s          rcbu.Schedule
		hour, ampm any
	}{
		{rcbu.Daily(0, 15), 12.0, "AM"},
		{rcbu.Daily(12, 0), 12.0, "PM"},
		{rcbu.Daily(13, 30), 1.0, "PM"},
		{rcbu.Weekly(time.Tuesday, 11, 59), 11.0, "AM"},
		{rcbu.Hourly(6), nil, nil},
		{rcbu.Manual(), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.s.String(), func(t *testing.T) {
			c.s.TimeZone = "Eastern Standard Time"
			b, err := json.Marshal(rcbu.ConfigurationRequest{Schedule: c.s})
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if m["StartTimeHour"] != c.hour || m["StartTimeAmPm"] != c.ampm {
				t.Errorf("hour %v %v, want %v %v", m["StartTimeHour"], m["StartTimeAmPm"], c.hour, c.ampm)
			}
			var cfg rcbu.Configuration
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatal(err)
			}
			back, err := cfg.Schedule()
			if err != nil || back != c.s {
				t.Errorf("round trip = %+v, %v; want %+v", back, err, c.s)
			}
		})
	}
	var cfg rcbu.Configuration
	_ = json.Unmarshal([]byte(`{"Frequency": "Daily", "StartTimeHour": 3, "StartTimeMinute": 0, "StartTimeAmPm": "XM"}`), &cfg)
	if _, err := cfg.Schedule(); err == nil {
		t.Error("AmPm XM accepted")
	}
	_ = json.Unmarshal([]byte(`{"Frequency": "Hourly", "HourInterval": null}`), &cfg)
	if _, err := cfg.Schedule(); err == nil {
		t.Error("Hourly without interval accepted")
	}
}

func TestScheduleNext(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name  string
		s     rcbu.Schedule
		after time.Time
		want  time.Time
	}{
		{"daily later today", rcbu.Daily(19, 30).In("Eastern Standard Time"),
			time.Date(2026, 3, 2, 12, 0, 0, 0, ny), time.Date(2026, 3, 2, 19, 30, 0, 0, ny)},
		{"daily tomorrow", rcbu.Daily(2, 0).In("UTC"),
			time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)},
		{"across the DST change", rcbu.Daily(19, 30).In("Eastern Standard Time"),
			time.Date(2026, 3, 7, 20, 0, 0, 0, ny), time.Date(2026, 3, 8, 23, 30, 0, 0, time.UTC)},
		{"weekly friday", rcbu.Weekly(time.Friday, 6, 30).In("Eastern Standard Time"),
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 6, 11, 30, 0, 0, time.UTC)},
		{"weekly same day passed", rcbu.Weekly(time.Monday, 1, 0).In("UTC"),
			time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 1, 0, 0, 0, time.UTC)},
		{"hourly", rcbu.Hourly(6).In("UTC"),
			time.Date(2026, 3, 2, 13, 10, 0, 0, time.UTC), time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)},
		{"hourly wraps to midnight", rcbu.Hourly(5).In("UTC"),
			time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"manual", rcbu.Manual(), time.Now(), time.Time{}},
		{"invalid", rcbu.Hourly(0).In("UTC"), time.Now(), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Next(tt.after); !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.after, got, tt.want)
			}
		})
	}
}

func TestScheduleString(t *testing.T) {
	for want, s := range map[string]rcbu.Schedule{
		"Manually":               rcbu.Manual(),
		"Every hour":             rcbu.Hourly(1),
		"Every 4 hours":          rcbu.Hourly(4),
		"Every day at 02:30 UTC": rcbu.Daily(2, 30).In("UTC"),
		"Every Tuesday at 02:30 Eastern Standard Time": rcbu.Weekly(time.Tuesday, 2, 30).In("Eastern Standard Time"),
	} {
		if got := s.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

func TestTimeZones(t *testing.T) {
	zones := rcbu.TimeZones()
	if len(zones) < 40 {
		t.Fatalf("only %d zones", len(zones))
	}
	seen := map[string]bool{}
	for _, z := range zones {
		if seen[z.ID] {
			t.Errorf("duplicate %q", z.ID)
		}
		seen[z.ID] = true
		if _, err := time.LoadLocation(z.IANA); err != nil {
			t.Errorf("%s: %v", z.ID, err)
		}
		if err := rcbu.Daily(1, 0).In(z.ID).Validate(); err != nil {
			t.Errorf("%s: %v", z.ID, err)
		}
	}
	zones[0].ID = "changed"
	if rcbu.TimeZones()[0].ID == "changed" {
		t.Error("TimeZones returns shared state")
	}
	if id, ok := rcbu.WindowsZone("America/New_York"); !ok || id != "Eastern Standard Time" {
		t.Errorf("WindowsZone = %q %v", id, ok)
	}
}
