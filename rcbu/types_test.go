package rcbu_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

func TestMSDate(t *testing.T) {
	ref := time.UnixMilli(1357817400000).UTC()
	tests := []struct {
		name    string
		json    string
		want    time.Time
		valid   bool
		wantErr bool
	}{
		{"plain", `"/Date(1357817400000)/"`, ref, true, false},
		{"escaped slashes", `"\/Date(1357817400000)\/"`, ref, true, false},
		{"offset is ignored", `"/Date(1357817400000-0500)/"`, ref, true, false},
		{"positive offset", `"/Date(1357817400000+0100)/"`, ref, true, false},
		{"negative is MinValue-like", `"/Date(-62135578800000)/"`, time.Date(1, 1, 1, 5, 0, 0, 0, time.UTC), false, false},
		{"before 1970", `"/Date(-1000)/"`, time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), true, false},
		{"null", `null`, time.Time{}, false, false},
		{"empty string", `""`, time.Time{}, false, false},
		{"iso is rejected", `"2014-11-24T22:05:39.115Z"`, time.Time{}, false, true},
		{"number is rejected", `1357817400000`, time.Time{}, false, true},
		{"missing slash", `"/Date(1357817400000)"`, time.Time{}, false, true},
		{"too many digits", `"/Date(12345678901234567890)/"`, time.Time{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d rcbu.MSDate
			err := json.Unmarshal([]byte(tt.json), &d)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !d.Time.Equal(tt.want) || d.Valid() != tt.valid {
				t.Errorf("got %v valid %v, want %v valid %v", d.Time, d.Valid(), tt.want, tt.valid)
			}
		})
	}
	t.Run("escaped text", func(t *testing.T) {
		if got, err := rcbu.ParseMSDate(`\/Date(1357817400000+0100)\/`); err != nil || !got.Equal(ref) {
			t.Errorf("ParseMSDate = %v, %v", got, err)
		}
		for _, bad := range []string{"/Date(12)", "/Date(12)\\", "/Date(1-05)/", "/Date(1+05000)/", "/Date(--1)/", "Date(1)/"} {
			if _, err := rcbu.ParseMSDate(bad); err == nil {
				t.Errorf("ParseMSDate(%q) succeeded", bad)
			}
		}
	})
	t.Run("marshal", func(t *testing.T) {
		b, _ := json.Marshal(struct{ A, B rcbu.MSDate }{A: rcbu.MSDate{Time: ref}})
		if string(b) != `{"A":"/Date(1357817400000)/","B":null}` {
			t.Errorf("marshal = %s", b)
		}
	})
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0 bytes", 0, false},
		{"318 bytes", 318, false},
		{"60 KB", 60 << 10, false},
		{"18 MB", 18 << 20, false},
		{"35.3 MB", 37014733, false},
		{"2 GB", 2 << 30, false},
		{"3.7 GB", 3972844749, false},
		{"1 TB", 1 << 40, false},
		{" 2 gb ", 2 << 30, false},
		{"42", 42, false},
		{"", 0, true},
		{"MB", 0, true},
		{"12 parsecs", 0, true},
		{"-5 MB", 0, true},
		{"1.2.3 MB", 0, true},
		{"99999999999 PB", 0, true},
		{"9223372036854775807 KB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := rcbu.ParseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 318: "318 bytes", 1024: "1 KB", 37014733: "35.3 MB", 2 << 30: "2 GB"} {
		if got := rcbu.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseHMS(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"00:04:33", 4*time.Minute + 33*time.Second, false},
		{"26:00:01", 26*time.Hour + time.Second, false},
		{"00:00:01.500", time.Second, false},
		{"4:33", 0, true},
		{"00:61:00", 0, true},
		{"aa:bb:cc", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := rcbu.ParseHMS(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseHMS(%q) = %v, %v", tt.in, got, err)
		}
	}
	if got := rcbu.FormatHMS(26*time.Hour + 4*time.Minute + 5*time.Second); got != "26:04:05" {
		t.Errorf("FormatHMS = %q", got)
	}
}

func TestAgentDecodingTolerance(t *testing.T) {
	in := `{"MachineAgentId": "401122", "BackupVaultSize": null, "UseServiceNet": "true", "IsDisabled": false,
		"BackupDataCenter": "IAD", "Status": "Unknown", "TimeOfLastSuccessfulBackup": null,
		"PublicKey": {"ModulusHex": "B1C2", "ExponentHex": 10001}, "HostServerId": "abc"}`
	var a rcbu.Agent
	if err := json.Unmarshal([]byte(in), &a); err != nil {
		t.Fatal(err)
	}
	want := rcbu.Agent{ID: 401122, UseServiceNet: true, BackupDatacenter: "IAD", Status: rcbu.AgentStatusUnknown,
		PublicKey: &rcbu.PublicKey{ModulusHex: "B1C2", ExponentHex: "10001"}, HostServerID: "abc"}
	if d := cmp.Diff(want, a); d != "" {
		t.Errorf("agent (-want +got):\n%s", d)
	}
	if a.Online() || a.StatusKnown() {
		t.Error("Unknown placeholder treated as a live status")
	}
	var k rcbu.PublicKey
	if err := json.Unmarshal([]byte(`{"ModulusHex":"AB","ExponentHex":"09528"}`), &k); err != nil || k.ExponentHex != "09528" {
		t.Errorf("string exponent = %+v, %v", k, err)
	}
	b, _ := json.Marshal(rcbu.PublicKey{ModulusHex: "AB", ExponentHex: "10001"})
	if string(b) != `{"ModulusHex":"AB","ExponentHex":10001}` {
		t.Errorf("marshal key = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"UseServiceNet": "maybe"}`), &a); err == nil {
		t.Error("bad boolean accepted")
	}
	if err := json.Unmarshal([]byte(`{"MachineAgentId": "12x"}`), &a); err == nil {
		t.Error("bad id accepted")
	}
}

func TestReportDecoding(t *testing.T) {
	in := `{"BackupId": 736251, "BackupConfigurationId": 550301, "State": "CompletedWithErrors", "CanRestore": true,
		"StartTime": "/Date(1709301200000)/", "CompletedTime": "/Date(1709301500000)/", "Duration": "00:05:00",
		"FilesSearched": "5120", "BytesSearched": "812.4 MB", "FilesBackedUp": "37", "BytesBackedUp": "0 bytes",
		"NumErrors": 1, "Reason": "Success", "ErrorList": [{"BackupReportID": 77001, "ListIndex": "12", "ErrorType": 101,
		"ErrorDesc": "x", "ExceptionCode": 13, "Path": "/var/www/k"}]}`
	var r rcbu.BackupReport
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Err() != nil || r.Duration != 5*time.Minute || r.FilesSearched != 5120 || r.FilesBackedUp != 37 ||
		r.BytesSearched.Bytes != 851863142 || r.BytesSearched.Raw != "812.4 MB" || r.BytesBackedUp.Bytes != 0 || r.NumErrors != 1 ||
		len(r.Errors) != 1 || r.Errors[0].ListIndex != 12 || r.Errors[0].ReportID != 77001 {
		t.Errorf("report = %+v", r)
	}
	for _, bad := range []string{`{"Duration": "five minutes"}`, `{"BytesSearched": "lots"}`, `{"FilesSearched": "1e"}`} {
		if err := json.Unmarshal([]byte(bad), new(rcbu.BackupReport)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}

	rin := `{"BackupReportId": 736251, "State": "Completed WithErrors", "NumFilesRestored": "17", "NumErrors": "2",
		"NumBytesRestored": "3.5 KB", "Duration": "00:00:09", "RestoreDestinationMachineId": "401987", "Reason": "UnableToProcessSomeFiles"}`
	var rr rcbu.RestoreReport
	if err := json.Unmarshal([]byte(rin), &rr); err != nil {
		t.Fatal(err)
	}
	if rr.State != rcbu.RestoreCompletedWithErrors || !rr.OK() || rr.NumFilesRestored != 17 || rr.NumErrors != 2 ||
		rr.NumBytesRestored.Bytes != 3584 || rr.RestoreDestinationMachineID != 401987 || rr.Duration != 9*time.Second {
		t.Errorf("restore report = %+v", rr)
	}
	if err := json.Unmarshal([]byte(`{"State": "Exploded"}`), new(rcbu.RestoreReport)); err == nil {
		t.Error("unknown restore state accepted")
	}
	var fail rcbu.RestoreReport
	_ = json.Unmarshal([]byte(`{"BackupReportId": 5, "State": "Failed", "Reason": "Oops"}`), &fail)
	if fail.OK() || fail.Err() == nil || !strings.Contains(fail.Err().Error(), "Failed: Oops") {
		t.Errorf("failed restore Err = %v", fail.Err())
	}
}

func TestCompletedBackupNumericBytes(t *testing.T) {
	var c []rcbu.CompletedBackup
	if err := json.Unmarshal([]byte(`[{"BackupId": 1, "BytesSearched": 10245674584, "NumErrors": "3", "CompletedTime": "/Date(0)/"}]`), &c); err != nil {
		t.Fatal(err)
	}
	if c[0].BytesSearched.Bytes != 10245674584 || c[0].NumErrors != 3 || !c[0].CompletedTime.Equal(time.Unix(0, 0)) {
		t.Errorf("completed = %+v", c[0])
	}
}

func TestRestoreEnums(t *testing.T) {
	var f []rcbu.RestoreFile
	in := `[{"FileId": 1, "Filter": "1", "FileItemType": "0"}, {"FileId": 2, "Filter": "Exclude", "FileItemType": "Folder"}, {"FileId": 3, "Filter": 2, "FileItemType": 2}]`
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	got := []string{f[0].Filter.String() + "/" + f[0].FileItemType.String(), f[1].Filter.String() + "/" + f[1].FileItemType.String(), f[2].Filter.String() + "/" + f[2].FileItemType.String()}
	if d := cmp.Diff([]string{"Include/File", "Exclude/Folder", "Exclude/Database"}, got); d != "" {
		t.Error(d)
	}
	for name, want := range map[string]rcbu.RestoreState{"Finished": rcbu.RestoreCompleted, "startRequested": rcbu.RestoreStartRequested, "Stoprequested": rcbu.RestoreStopRequested} {
		if got, err := rcbu.ParseRestoreState(name); err != nil || got != want {
			t.Errorf("ParseRestoreState(%q) = %v, %v", name, got, err)
		}
	}
	if !rcbu.RestoreStopRequested.Busy() || rcbu.RestoreStopRequested.Done() || !rcbu.RestoreCompletedWithErrors.Done() || rcbu.RestoreCreating.Busy() {
		t.Error("restore state classes wrong")
	}
	if !rcbu.BackupState("Completed WithErrors").Done() || !rcbu.BackupStartScheduled.Busy() || rcbu.BackupMissed.Succeeded() {
		t.Error("backup state classes wrong")
	}
	for _, s := range []string{"warn", "Warning", "5", "ALL"} {
		if _, err := rcbu.ParseLogLevel(s); err != nil {
			t.Errorf("ParseLogLevel(%q): %v", s, err)
		}
	}
	if _, err := rcbu.ParseLogLevel("loud"); err == nil {
		t.Error("unknown level accepted")
	}
}

// TestVaultID decodes BackupVaultId as the simulator and the service send
// it (a GUID-like string) and as older answers did (a number), and reads
// an agent's vault id from its container name.
func TestVaultID(t *testing.T) {
	const guid = "6f1e2d3c-1111-2222-3333-444455556666"
	for in, want := range map[string]rcbu.VaultID{
		`{"BackupVaultId": "` + guid + `"}`: guid,
		`{"BackupVaultId": 401122}`:         "401122",
		`{"BackupVaultId": null}`:           "",
		`{}`:                                "",
	} {
		var v rcbu.AgentVolume
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.BackupVaultID != want {
			t.Errorf("%s: vault %q, %v; want %q", in, v.BackupVaultID, err, want)
		}
	}
	for _, in := range []string{`{"BackupVaultId": true}`, `{"BackupVaultId": {}}`} {
		var v rcbu.AgentVolume
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	a := rcbu.Agent{BackupContainer: "https://storage101.iad3.clouddrive.com/v1/MossoCloudFS_x/z_DO_NOT_DELETE_CloudBackup_v2_0_" + guid}
	if got := a.VaultID(); got != guid {
		t.Errorf("VaultID() = %q, want %q", got, guid)
	}
	for _, c := range []string{"", "https://storage101.iad3.clouddrive.com/v1/MossoCloudFS_x/other"} {
		if got := (&rcbu.Agent{BackupContainer: c}).VaultID(); got != "" {
			t.Errorf("container %q: VaultID() = %q, want \"\"", c, got)
		}
	}
}
