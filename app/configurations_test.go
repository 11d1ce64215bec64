package app

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

func validInput() ConfigurationInput {
	in := DefaultConfigurationInput()
	in.Name = "www nightly"
	in.AgentID = "42"
	in.NotifyEmails = "ops@example.com"
	in.Inclusions = []PathInput{{Path: "/var/www", Type: "Folder"}, {Path: "", Type: "Folder"}}
	in.Exclusions = []PathInput{{Path: "/var/www/cache", Type: "Folder"}}
	return in
}

func TestConfigurationInputRequest(t *testing.T) {
	t.Parallel()
	r, err := validInput().Request()
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	want := &rcbu.ConfigurationRequest{
		AgentID: 42, Name: "www nightly", IsActive: true, VersionRetention: 30, MissedBackupActionID: 1,
		Schedule:         rcbu.Daily(2, 0).In("UTC"),
		NotifyRecipients: "ops@example.com", NotifyFailure: true,
		Inclusions: []rcbu.PathItem{{FilePath: "/var/www", FileItemType: rcbu.ItemFolder}},
		Exclusions: []rcbu.PathItem{{FilePath: "/var/www/cache", FileItemType: rcbu.ItemFolder}},
	}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
}

func TestConfigurationInputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*ConfigurationInput)
		field string
	}{
		{"empty name", func(in *ConfigurationInput) { in.Name = "  " }, FieldName},
		{"long name is the client's rule", func(in *ConfigurationInput) { in.Name = string(make([]rune, 300)) + "x" }, FieldName},
		{"no agent", func(in *ConfigurationInput) { in.AgentID = "" }, FieldAgent},
		{"garbage agent", func(in *ConfigurationInput) { in.AgentID = "web-01" }, FieldAgent},
		{"retention 45", func(in *ConfigurationInput) { in.Retention = "45" }, FieldRetention},
		{"missed action 3", func(in *ConfigurationInput) { in.MissedAction = "3" }, FieldMissedAction},
		{"unknown frequency", func(in *ConfigurationInput) { in.Frequency = "Monthly" }, FieldFrequency},
		{"hourly 0", func(in *ConfigurationInput) { in.Frequency = "Hourly"; in.HourInterval = "0" }, FieldHourInterval},
		{"hourly 24", func(in *ConfigurationInput) { in.Frequency = "Hourly"; in.HourInterval = "24" }, FieldHourInterval},
		{"daily 25:00", func(in *ConfigurationInput) { in.StartTime = "25:00" }, FieldStartTime},
		{"daily no time", func(in *ConfigurationInput) { in.StartTime = "" }, FieldStartTime},
		{"weekly day 7", func(in *ConfigurationInput) { in.Frequency = "Weekly"; in.Weekday = "7" }, FieldWeekday},
		{"unknown zone", func(in *ConfigurationInput) { in.TimeZone = "Mars/Olympus" }, FieldTimeZone},
		{"no zone on a schedule", func(in *ConfigurationInput) { in.TimeZone = "" }, FieldTimeZone},
		{"notify without address", func(in *ConfigurationInput) { in.NotifyEmails = "" }, FieldNotifyEmails},
		{"bad address", func(in *ConfigurationInput) { in.NotifyEmails = "not an address" }, FieldNotifyEmails},
		{"relative path", func(in *ConfigurationInput) { in.Inclusions[0].Path = "var/www" }, PathField(FieldInclusions, 0)},
		{"bad type", func(in *ConfigurationInput) { in.Inclusions[0].Type = "Database" }, PathField(FieldInclusions, 0)},
		{"nothing to back up", func(in *ConfigurationInput) { in.Inclusions = nil; in.Exclusions = nil }, FieldInclusions},
		{"exclusion outside", func(in *ConfigurationInput) { in.Exclusions[0].Path = "/srv/cache" }, PathField(FieldExclusions, 0)},
		{"included and excluded", func(in *ConfigurationInput) { in.Exclusions[0].Path = "/var/www" }, PathField(FieldExclusions, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := validInput()
			in.Inclusions = append([]PathInput(nil), in.Inclusions...)
			in.Exclusions = append([]PathInput(nil), in.Exclusions...)
			tt.edit(&in)
			_, err := in.Request()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Request error = %v, want a *ValidationError", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
			if ve.Fields[tt.field] == "" {
				t.Errorf("no message for %q; got %v", tt.field, ve.Fields)
			}
		})
	}
}

func TestInputFromRequestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []rcbu.Schedule{
		rcbu.Manual(), rcbu.Hourly(4).In("UTC"), rcbu.Daily(0, 5).In("Eastern Standard Time"),
		rcbu.Weekly(time.Tuesday, 23, 59).In("GMT Standard Time"),
	} {
		r := &rcbu.ConfigurationRequest{
			AgentID: 7, Name: `quote " and <script>`, IsActive: false, VersionRetention: 0, MissedBackupActionID: 2, Schedule: s,
			Inclusions: []rcbu.PathItem{{FilePath: `C:\Users`, FileItemType: rcbu.ItemFolder}, {FilePath: `C:\boot.ini`, FileItemType: rcbu.ItemFile}},
			Exclusions: []rcbu.PathItem{{FilePath: `c:\users\temp`, FileItemType: rcbu.ItemFolder}},
		}
		got, err := InputFromRequest(r).Request()
		if err != nil {
			t.Fatalf("%v: Request: %v", s, err)
		}
		if s.Frequency == rcbu.FrequencyManually {
			r.Schedule.TimeZone = "UTC" // the form always carries a zone
		}
		if d := cmp.Diff(r, got); d != "" {
			t.Errorf("%v: round trip (-want +got):\n%s", s, d)
		}
	}
}

func TestSchedulePreview(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC) // a Monday
	in := ConfigurationInput{Frequency: "Weekly", Weekday: "2", StartTime: "02:30", TimeZone: "Eastern Standard Time"}
	words, next, err := SchedulePreview(in, now)
	if err != nil {
		t.Fatal(err)
	}
	if words != "Every Tuesday at 02:30 Eastern Standard Time" {
		t.Errorf("words = %q", words)
	}
	if want := time.Date(2026, 3, 3, 7, 30, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next, want)
	}
	_, _, err = SchedulePreview(ConfigurationInput{Frequency: "Hourly", HourInterval: "x", TimeZone: "UTC"}, now)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields[FieldHourInterval] == "" {
		t.Errorf("incomplete schedule: err = %v", err)
	}
}

func TestPathWithin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p, dir string
		want   bool
	}{
		{"/var/www/cache", "/var/www", true},
		{"/var/www/cache", "/var/www/", true},
		{"/var/wwwx", "/var/www", false},
		{"/var/www", "/var/www", false},
		{"/anything", "/", true},
		{`C:\Users\Temp`, `c:\users`, true},
		{`D:\Users\Temp`, `C:\Users`, false},
	}
	for _, tt := range tests {
		if got := pathWithin(tt.p, tt.dir); got != tt.want {
			t.Errorf("pathWithin(%q, %q) = %v, want %v", tt.p, tt.dir, got, tt.want)
		}
	}
}
