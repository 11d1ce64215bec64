package rcbusim

import (
	"encoding/json"
	"testing"
	"time"
)

// configKeys are every field of the §5.1 object.
var configKeys = []string{"BackupConfigurationId", "BackupConfigurationName", "BackupConfigurationScheduleId",
	"BackupPostscript", "BackupPrescript", "Datacenter", "DayOfWeekId", "EncryptionKey", "Exclusions", "Flavor",
	"Frequency", "HourInterval", "Inclusions", "IsActive", "IsDeleted", "IsEncrypted", "LastRunBackupReportId",
	"LastRunTime", "MachineAgentId", "MachineName", "MissedBackupActionId", "NextScheduledRunTime", "NotifyFailure",
	"NotifyRecipients", "NotifySuccess", "StartTimeAmPm", "StartTimeHour", "StartTimeMinute", "TimeZoneId",
	"VersionRetention", "BackupState"}

func TestCreateConfiguration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var cfg obj
	f.c.call("POST", "/backup-configuration", configBody(f.agent, "www"), 200, &cfg)
	for _, k := range configKeys {
		if _, ok := cfg[k]; !ok {
			t.Errorf("configuration lacks %s", k)
		}
	}
	if cfg["IsDeleted"] != false || cfg["LastRunTime"] != nil || cfg["LastRunBackupReportId"] != nil {
		t.Errorf("new configuration %v", cfg)
	}
	// The submitted 7:30 PM Eastern is echoed; the next run is its UTC instant.
	if num(cfg["StartTimeHour"]) != 7 || cfg["StartTimeAmPm"] != "PM" || cfg["TimeZoneId"] != "Eastern Standard Time" {
		t.Errorf("schedule echo %v %v %v", cfg["StartTimeHour"], cfg["StartTimeAmPm"], cfg["TimeZoneId"])
	}
	// The fixture clock is 2026-03-02 15:04:05 UTC = 10:04 EST; next 19:30 EST = 00:30 UTC next day.
	want := time.Date(2026, 3, 3, 0, 30, 0, 0, time.UTC)
	if got := cfg["NextScheduledRunTime"]; got != "/Date("+itoa(want.UnixMilli())+")/" {
		t.Errorf("NextScheduledRunTime %v, want %v", got, want)
	}
	inc := cfg["Inclusions"].([]any)[0].(obj)
	if inc["Filter"] != "Include" || inc["FilePathEncoded"] != nil || num(inc["ParentId"]) != num(cfg["BackupConfigurationId"]) || num(inc["FileId"]) == 0 {
		t.Errorf("inclusion %v", inc)
	}
	if exc := cfg["Exclusions"].([]any)[0].(obj); exc["Filter"] != "Exclude" {
		t.Errorf("exclusion %v", exc)
	}
	// Duplicate name on the same agent: 409. Another agent may reuse it.
	status, raw := f.c.do("POST", "/backup-configuration", configBody(f.agent, "WWW"))
	expectError(t, status, raw, 409, "already exists")
	f.c.call("POST", "/backup-configuration", configBody(f.winAgent, "www"), 200, nil)

	// Lists show it; details by id.
	var list []obj
	f.c.call("GET", "/backup-configuration", nil, 200, &list)
	if len(list) != 3 {
		t.Fatalf("%d configurations", len(list))
	}
	f.c.call("GET", "/backup-configuration/system/"+itoa(f.agent), nil, 200, &list)
	if len(list) != 2 {
		t.Fatalf("%d configurations of agent", len(list))
	}
}

func TestCreateConfigurationValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	with := func(changes obj) obj {
		b := configBody(f.agent, "v")
		for k, v := range changes {
			if v == "<delete>" {
				delete(b, k)
				continue
			}
			b[k] = v
		}
		return b
	}
	hourly := obj{"Frequency": "Hourly", "HourInterval": 4, "StartTimeHour": nil, "StartTimeMinute": nil, "StartTimeAmPm": nil}
	manual := obj{"Frequency": "Manually", "StartTimeHour": nil, "StartTimeMinute": nil, "StartTimeAmPm": nil}
	merge := func(a, b obj) obj {
		out := obj{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name   string
		body   obj
		status int
		msg    string
	}{
		{"missing name", with(obj{"BackupConfigurationName": "<delete>"}), 400, "BackupConfigurationName is required"},
		{"blank name", with(obj{"BackupConfigurationName": "  "}), 400, "BackupConfigurationName must not be empty"},
		{"name not a string", with(obj{"BackupConfigurationName": 5}), 400, "BackupConfigurationName must be a string"},
		{"missing agent", with(obj{"MachineAgentId": "<delete>"}), 400, "MachineAgentId is required"},
		{"unknown agent", with(obj{"MachineAgentId": 1}), 404, "not found"},
		{"bad retention", with(obj{"VersionRetention": 7}), 400, "VersionRetention"},
		{"bad missed action", with(obj{"MissedBackupActionId": 3}), 400, "MissedBackupActionId"},
		{"monthly", with(obj{"Frequency": "Monthly"}), 400, "Frequency"},
		{"daily without hour", with(obj{"StartTimeHour": nil}), 400, "StartTimeHour is required"},
		{"hour 13", with(obj{"StartTimeHour": 13}), 400, "StartTimeHour must be 1-12"},
		{"hour 0", with(obj{"StartTimeHour": 0}), 400, "StartTimeHour must be 1-12"},
		{"minute 60", with(obj{"StartTimeMinute": 60}), 400, "StartTimeMinute must be 0-59"},
		{"bad am/pm", with(obj{"StartTimeAmPm": "XM"}), 400, "StartTimeAmPm"},
		{"daily with day of week", with(obj{"DayOfWeekId": 3}), 400, "DayOfWeekId must be null"},
		{"daily with interval", with(obj{"HourInterval": 3}), 400, "HourInterval must be null"},
		{"weekly without day", with(obj{"Frequency": "Weekly"}), 400, "DayOfWeekId is required"},
		{"weekly day 7", with(obj{"Frequency": "Weekly", "DayOfWeekId": 7}), 400, "DayOfWeekId must be 0"},
		{"hourly interval 24", with(merge(hourly, obj{"HourInterval": 24})), 400, "HourInterval must be 1-23"},
		{"hourly without interval", with(merge(hourly, obj{"HourInterval": nil})), 400, "HourInterval is required"},
		{"hourly with hour", with(merge(hourly, obj{"StartTimeHour": 3})), 400, "StartTimeHour must be null"},
		{"manual with minute", with(merge(manual, obj{"StartTimeMinute": 3})), 400, "StartTimeMinute must be null"},
		{"unknown zone", with(obj{"TimeZoneId": "Mars Standard Time"}), 400, "TimeZoneId"},
		{"inclusion without path", with(obj{"Inclusions": []obj{{"FileItemType": "Folder"}}}), 400, "Inclusions[0].FilePath is required"},
		{"inclusion bad type", with(obj{"Inclusions": []obj{{"FilePath": "/x", "FileItemType": "Disk"}}}), 400, "FileItemType"},
		{"inclusions not an array", with(obj{"Inclusions": "x"}), 400, "Inclusions must be an array"},
		{"path both included and excluded", with(obj{"Exclusions": []obj{{"FilePath": "/var/www", "FileItemType": "Folder"}}}), 400, "also in Inclusions"},
		{"IsActive not bool", with(obj{"IsActive": "yes"}), 400, "IsActive must be a boolean"},
		{"hour as float", with(obj{"StartTimeHour": 2.5}), 400, "StartTimeHour must be an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := f.c.do("POST", "/backup-configuration", tt.body)
			expectError(t, status, raw, tt.status, tt.msg)
		})
	}
	// Nothing was created.
	var list []obj
	f.c.call("GET", "/backup-configuration", nil, 200, &list)
	if len(list) != 1 {
		t.Fatalf("rejected requests created configurations: %d", len(list))
	}
	// Accepted variants: digit strings, string booleans, extra keys, "" AM/PM for Manually.
	ok := []obj{
		with(obj{"StartTimeHour": "7", "IsActive": "true", "BackupConfigurationId": nil, "Unknown": 1, "BackupConfigurationName": "ok1"}),
		with(merge(manual, obj{"StartTimeAmPm": "", "BackupConfigurationName": "ok2"})),
		with(merge(hourly, obj{"BackupConfigurationName": "ok3"})),
		with(obj{"Frequency": "weekly", "DayOfWeekId": 0, "StartTimeAmPm": "am", "BackupConfigurationName": "ok4", "TimeZoneId": "Europe/London"}),
	}
	for i, b := range ok {
		var cfg obj
		f.c.call("POST", "/backup-configuration", b, 200, &cfg)
		if i == 1 && (cfg["StartTimeAmPm"] != "" || cfg["NextScheduledRunTime"] != nil) {
			t.Errorf("manual config %v", cfg)
		}
		// A schedule without a time of day answers "" for StartTimeAmPm,
		// not null, here and when read back (§5.1, §5.2).
		if i == 1 || i == 2 {
			var back obj
			f.c.call("GET", "/backup-configuration/"+itoa(num(cfg["BackupConfigurationId"])), nil, 200, &back)
			for _, c := range []obj{cfg, back} {
				if c["StartTimeAmPm"] != "" || c["StartTimeHour"] != nil || c["StartTimeMinute"] != nil {
					t.Errorf("%s config: StartTimeAmPm %#v, hour %v, minute %v", c["Frequency"], c["StartTimeAmPm"], c["StartTimeHour"], c["StartTimeMinute"])
				}
			}
		}
	}
}

func TestUpdateEnableDeleteConfiguration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := "/backup-configuration/" + itoa(f.config)
	body := configBody(f.agent, "renamed")
	delete(body, "MachineAgentId")
	body["Frequency"], body["DayOfWeekId"] = "Weekly", 4
	raw := f.c.call("PUT", path, body, 200, nil)
	if len(raw) != 0 {
		t.Fatalf("update body %q", raw)
	}
	var cfg obj
	f.c.call("GET", path, nil, 200, &cfg)
	if cfg["BackupConfigurationName"] != "renamed" || cfg["Frequency"] != "Weekly" || num(cfg["DayOfWeekId"]) != 4 {
		t.Fatalf("after update %v", cfg)
	}
	if n := len(cfg["Exclusions"].([]any)); n != 1 {
		t.Fatalf("exclusions replaced: %d", n)
	}
	body["StartTimeHour"] = 99
	status, raw := f.c.do("PUT", path, body)
	expectError(t, status, raw, 400, "StartTimeHour")
	f.c.call("GET", path, nil, 200, &cfg)
	if num(cfg["StartTimeHour"]) != 7 {
		t.Fatal("rejected update changed the configuration")
	}
	status, raw = f.c.do("PUT", "/backup-configuration/1", body)
	expectError(t, status, raw, 404, "not found")

	f.c.call("POST", "/backup-configuration/enable/"+itoa(f.config), obj{"Enable": false}, 200, &cfg)
	if cfg["IsActive"] != false || cfg["NextScheduledRunTime"] != nil {
		t.Fatalf("disabled config %v", cfg)
	}
	f.c.call("POST", "/backup-configuration/enable/"+itoa(f.config), obj{"Enable": "true"}, 200, &cfg)
	if cfg["IsActive"] != true || cfg["NextScheduledRunTime"] == nil {
		t.Fatalf("enabled config %v", cfg)
	}
	status, raw = f.c.do("POST", "/backup-configuration/enable/"+itoa(f.config), obj{"Enabled": true})
	expectError(t, status, raw, 400, "Enable is required")

	raw = f.c.call("DELETE", path, nil, 200, nil)
	if len(raw) != 0 {
		t.Fatalf("delete body %q", raw)
	}
	f.c.call("GET", path, nil, 200, &cfg)
	if cfg["IsDeleted"] != true {
		t.Fatalf("deleted config %v", cfg)
	}
	var list []json.RawMessage
	f.c.call("GET", "/backup-configuration", nil, 200, &list)
	if len(list) != 0 {
		t.Fatalf("deleted configuration listed")
	}
	status, raw = f.c.do("POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": f.config})
	expectError(t, status, raw, 404, "deleted")
}
