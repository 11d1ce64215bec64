package templates

import (
	"strings"
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1, "1 byte"},
		{318, "318 bytes"},
		{1023, "1023 bytes"},
		{1024, "1 KB"},
		{60 * 1024, "60 KB"},
		{35<<20 + 300<<10, "35.3 MB"},
		{2 << 30, "2 GB"},
		{1288490189, "1.2 GB"},
		{1<<40 - 1, "1 TB"},
		{-5, "—"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{12 * time.Second, "12 s"},
		{4*time.Minute + 33*time.Second, "4 min 33 s"},
		{5 * time.Minute, "5 min"},
		{2*time.Hour + 5*time.Minute + 10*time.Second, "2 h 5 min"},
		{3*24*time.Hour + 4*time.Hour, "3 d 4 h"},
		{1500 * time.Millisecond, "2 s"},
		{-90 * time.Second, "1 min 30 s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"}, {7, "7"}, {999, "999"}, {1000, "1,000"}, {12345, "12,345"},
		{1234567, "1,234,567"}, {-1234, "-1,234"}, {-123, "-123"}, {-123456, "-123,456"},
	}
	for _, tt := range tests {
		if got := Count(tt.n); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Plural(12345, "file", "files"); got != "12,345 files" {
		t.Errorf("Plural = %q", got)
	}
	if got := Plural(1, "file", "files"); got != "1 file" {
		t.Errorf("Plural = %q", got)
	}
}

func TestRelTime(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		t    time.Time
		want string
	}{
		{now, "just now"},
		{now.Add(-45 * time.Second), "45 s ago"},
		{now.Add(-3 * time.Minute), "3 min ago"},
		{now.Add(-5 * time.Hour), "5 h ago"},
		{now.Add(-47 * time.Hour), "47 h ago"},
		{now.Add(-50 * time.Hour), "2 d ago"},
		{now.Add(20 * time.Minute), "in 20 min"},
	}
	for _, tt := range tests {
		if got := RelTime(tt.t, now); got != tt.want {
			t.Errorf("RelTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestNewTimeView(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	v := NewTimeView(now.Add(-3*time.Hour), now, ny)
	if v.Rel != "3 h ago" || v.Abs != "2026-03-02 04:00 EST" || v.ISO != "2026-03-02T09:00:00Z" {
		t.Errorf("TimeView = %+v", v)
	}
	if z := NewTimeView(time.Time{}, now, ny); !z.IsZero() || z.Rel != "Never" {
		t.Errorf("zero TimeView = %+v", z)
	}
}

func TestBadges(t *testing.T) {
	tests := []struct {
		state string
		want  Badge
	}{
		{"Completed", Badge{Word: "Completed", Tone: ToneSuccess, Raw: "Completed"}},
		{"CompletedWithErrors", Badge{Word: "Completed with errors", Tone: ToneWarning, Raw: "CompletedWithErrors"}},
		{"Failed", Badge{Word: "Failed", Tone: ToneDanger, Raw: "Failed"}},
		{"Missed", Badge{Word: "Missed", Tone: ToneDanger, Raw: "Missed"}},
		{"Skipped", Badge{Word: "Skipped", Tone: ToneNeutral, Raw: "Skipped"}},
		{"Stopped", Badge{Word: "Stopped", Tone: ToneNeutral, Raw: "Stopped"}},
		{"InProgress", Badge{Word: "In progress", Tone: ToneInfo, Raw: "InProgress"}},
		{"queued", Badge{Word: "Queued", Tone: ToneInfo, Raw: "queued"}},
		{"StopRequested", Badge{Word: "Stopping", Tone: ToneInfo, Raw: "StopRequested"}},
		{"Completed WithErrors", Badge{Word: "Completed with errors", Tone: ToneWarning, Raw: "Completed WithErrors"}},
		{"SomethingNew", Badge{Word: "Something new", Tone: ToneNeutral, Raw: "SomethingNew"}},
		{"", Badge{Word: "Unknown", Tone: ToneNeutral}},
	}
	for _, tt := range tests {
		if got := BackupBadge(tt.state); got != tt.want {
			t.Errorf("BackupBadge(%q) = %+v, want %+v", tt.state, got, tt.want)
		}
	}
	if got := AgentBadge("Online", true); got.Tone != ToneMuted || got.Word != "Disabled" {
		t.Errorf("disabled agent = %+v", got)
	}
	if got := AgentBadge("Unknown", false); got.Word != "Unknown" {
		t.Errorf("unknown agent = %+v", got)
	}
	if got := AgentBadge("Offline", false); got.Tone != ToneOffline {
		t.Errorf("offline agent = %+v", got)
	}
}

func TestErrorSummaryOrder(t *testing.T) {
	errs := FormErrors{"password": "Too short.", "": "Could not sign in.", "email": "Enter an email."}
	got := errs.Summary(FieldOrder{{"email", "Email"}, {"password", "Password"}})
	want := []SummaryItem{{"", "Could not sign in."}, {"#field-email", "Email: Enter an email."}, {"#field-password", "Password: Too short."}}
	if len(got) != len(want) {
		t.Fatalf("Summary = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if d := (Field{Name: "x", Hint: "h", Error: "e"}).DescribedBy(); d != "hint-x error-x" {
		t.Errorf("DescribedBy = %q", d)
	}
}

func TestActionName(t *testing.T) {
	tests := []struct {
		name, visible, object, want string
	}{
		{"the object follows the visible text", "Run again", "www nightly", "Run again: www nightly"},
		{"a button showing the object's name is named by it", "www nightly", "www nightly", "www nightly"},
		{"no object", "Start backup", "", "Start backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ActionName(tt.visible, tt.object)
			if got != tt.want {
				t.Errorf("ActionName(%q, %q) = %q, want %q", tt.visible, tt.object, got, tt.want)
			}
			if !strings.Contains(got, tt.visible) {
				t.Errorf("%q does not contain the visible text %q", got, tt.visible)
			}
		})
	}
}
