package rcbu_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

func validRequest() rcbu.ConfigurationRequest {
	return rcbu.ConfigurationRequest{
		AgentID: 1, Name: "www", IsActive: true, VersionRetention: 60, MissedBackupActionID: 2,
		Schedule:         rcbu.Daily(2, 0).In("UTC"),
		NotifyRecipients: "ops@example.org, dev@example.org", NotifyFailure: true,
		Inclusions: []rcbu.PathItem{{FilePath: "/var/www", FileItemType: rcbu.ItemFolder}, {FilePath: `D:\Data`, FileItemType: rcbu.ItemFolder}},
		Exclusions: []rcbu.PathItem{{FilePath: "/var/www/tmp", FileItemType: rcbu.ItemFolder}},
	}
}

func TestConfigurationRequestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*rcbu.ConfigurationRequest)
		fields []string
	}{
		{"valid", func(*rcbu.ConfigurationRequest) {}, nil},
		{"no agent", func(r *rcbu.ConfigurationRequest) { r.AgentID = 0 }, []string{"MachineAgentId"}},
		{"blank name", func(r *rcbu.ConfigurationRequest) { r.Name = "  " }, []string{"BackupConfigurationName"}},
		{"long name", func(r *rcbu.ConfigurationRequest) { r.Name = strings.Repeat("é", 256) }, []string{"BackupConfigurationName"}},
		{"retention", func(r *rcbu.ConfigurationRequest) { r.VersionRetention = 90 }, []string{"VersionRetention"}},
		{"missed action", func(r *rcbu.ConfigurationRequest) { r.MissedBackupActionID = 3 }, []string{"MissedBackupActionId"}},
		{"schedule", func(r *rcbu.ConfigurationRequest) { r.Schedule = rcbu.Hourly(0).In("UTC") }, []string{"HourInterval"}},
		{"relative path", func(r *rcbu.ConfigurationRequest) { r.Inclusions[0].FilePath = "var/www" }, []string{"Inclusions[0]"}},
		{"bad item type", func(r *rcbu.ConfigurationRequest) { r.Exclusions[0].FileItemType = "Database" }, []string{"Exclusions[0]"}},
		{"both included and excluded", func(r *rcbu.ConfigurationRequest) { r.Exclusions[0].FilePath = "/var/www/" }, []string{"Exclusions[0]"}},
		{"windows case-insensitive", func(r *rcbu.ConfigurationRequest) {
			r.Exclusions[0] = rcbu.PathItem{FilePath: `d:\data`, FileItemType: rcbu.ItemFolder}
		}, []string{"Exclusions[0]"}},
		{"bad email", func(r *rcbu.ConfigurationRequest) { r.NotifyRecipients = "ops@example.org, not-an-address" }, []string{"NotifyRecipients"}},
		{"no email with notifications", func(r *rcbu.ConfigurationRequest) { r.NotifyRecipients = "" }, []string{"NotifyRecipients"}},
		{"no email without notifications", func(r *rcbu.ConfigurationRequest) { r.NotifyRecipients, r.NotifyFailure = "", false }, nil},
		{"several problems", func(r *rcbu.ConfigurationRequest) { r.Name, r.VersionRetention = "", 1 }, []string{"BackupConfigurationName", "VersionRetention"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(&r)
			err := r.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var v *rcbu.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("Validate = %v", err)
			}
			var got []string
			for k := range v.Fields {
				got = append(got, k)
			}
			if d := cmp.Diff(tt.fields, got, cmpopts.SortSlices(strings.Compare)); d != "" {
				t.Errorf("fields (-want +got):\n%s\n%v", d, err)
			}
		})
	}
}

func TestLoadConfigurationRequest(t *testing.T) {
	api := `{"MachineAgentId": "42", "BackupConfigurationName": "nightly", "IsActive": "true", "VersionRetention": 30,
		"MissedBackupActionId": 2, "Frequency": "weekly", "StartTimeHour": 7, "StartTimeMinute": 30, "StartTimeAmPm": "PM",
		"DayOfWeekId": 5, "HourInterval": null, "TimeZoneId": "Eastern Standard Time", "NotifyRecipients": "a@b.org",
		"NotifySuccess": false, "NotifyFailure": true, "BackupConfigurationId": null, "Extra": [1, 2],
		"Inclusions": [{"FilePath": "/etc", "FileItemType": "Folder"}], "Exclusions": [{"FilePath": "/etc/ssl", "FileItemType": "folder"}]}`
	goNames := `{"AgentID": 42, "Name": "nightly", "Active": true, "VersionRetention": 30, "MissedBackupActionID": 2,
		"Frequency": "Weekly", "Hour": 19, "Minute": 30, "DayOfWeek": "Friday", "TimeZone": "Eastern Standard Time",
		"NotifyRecipients": "a@b.org", "NotifyFailure": true, "Inclusions": ["/etc/"], "Exclusions": [{"path": "/etc/ssl", "type": "Folder"}]}`
	want := &rcbu.ConfigurationRequest{
		AgentID: 42, Name: "nightly", IsActive: true, VersionRetention: 30, MissedBackupActionID: 2,
		Schedule:         rcbu.Weekly(time.Friday, 19, 30).In("Eastern Standard Time"),
		NotifyRecipients: "a@b.org", NotifyFailure: true,
		Inclusions: []rcbu.PathItem{{FilePath: "/etc", FileItemType: rcbu.ItemFolder}},
		Exclusions: []rcbu.PathItem{{FilePath: "/etc/ssl", FileItemType: rcbu.ItemFolder}},
	}
	for name, in := range map[string]string{"api names": api, "go names": goNames} {
		t.Run(name, func(t *testing.T) {
			got, err := rcbu.LoadConfigurationRequest(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			want := *want
			want.Inclusions = []rcbu.PathItem{{FilePath: "/etc", FileItemType: rcbu.ItemFolder}}
			if name == "go names" {
				want.Inclusions[0].FilePath = "/etc/"
			}
			if d := cmp.Diff(&want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate = %v", err)
			}
		})
	}
	for name, in := range map[string]string{
		"not json":     `{"Name": `,
		"bad number":   `{"VersionRetention": "thirty"}`,
		"bad bool":     `{"NotifySuccess": "yes"}`,
		"bad ampm":     `{"Frequency": "Daily", "StartTimeHour": 3, "StartTimeAmPm": "XM"}`,
		"bad day":      `{"DayOfWeek": "Caturday"}`,
		"bad paths":    `{"Inclusions": "/etc"}`,
		"bad fraction": `{"VersionRetention": 30.5}`,
		"too large":    `{"Name": "` + strings.Repeat("x", 1<<20) + `"}`,
	} {
		if _, err := rcbu.LoadConfigurationRequest(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	r, err := rcbu.ConfigurationRequestFromMap(map[string]any{"name": "x", "agentid": 7, "frequency": "manually"})
	if err != nil || r.Name != "x" || r.AgentID != 7 || r.Schedule.Frequency != rcbu.FrequencyManually || !r.IsActive || r.MissedBackupActionID != 1 {
		t.Errorf("FromMap = %+v, %v", r, err)
	}
}
