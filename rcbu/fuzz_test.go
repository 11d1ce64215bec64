package rcbu_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// FuzzParseMSDate checks that any input parses or fails cleanly and that a
// parsed date formats back to the same instant.
func FuzzParseMSDate(f *testing.F) {
	for _, s := range []string{"/Date(1357817400000)/", "/Date(-62135578800000)/", "/Date(1357817400000-0500)/", `\/Date(0)\/`, "", "/Date()/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := rcbu.ParseMSDate(s)
		if err != nil {
			return
		}
		back, err := rcbu.ParseMSDate(rcbu.FormatMSDate(tm))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q: round trip %v -> %v, %v", s, tm, back, err)
		}
		var d rcbu.MSDate
		b, _ := json.Marshal(s)
		if err := json.Unmarshal(b, &d); err != nil || !d.Time.Equal(tm) {
			t.Fatalf("%q: JSON decode %v, %v", s, d.Time, err)
		}
		// The same string with its slashes JSON-escaped, as .NET writes it.
		if strings.IndexFunc(s, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 }) < 0 {
			var e rcbu.MSDate
			raw := `"` + strings.ReplaceAll(s, "/", `\/`) + `"`
			if err := json.Unmarshal([]byte(raw), &e); err != nil || !e.Time.Equal(tm) {
				t.Fatalf("%s: JSON decode %v, %v", raw, e.Time, err)
			}
		}
	})
}

// FuzzParseSize checks that sizes never panic, never go negative and
// agree between ParseSize and the JSON decoder.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0 bytes", "318 bytes", "35.3 MB", "2 GB", "60 KB", "1.5 TB", "garbage", "9223372036854775807 KB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := rcbu.ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("%q: negative size %d", s, n)
		}
		var z rcbu.Size
		b, _ := json.Marshal(s)
		if err := json.Unmarshal(b, &z); err != nil || z.Bytes != n || z.Raw != s {
			t.Fatalf("%q: JSON decode %+v, %v; ParseSize %d", s, z, err, n)
		}
	})
}

// FuzzReports decodes arbitrary bodies as backup and restore reports and
// agents: no panics, and successfully decoded durations are never negative.
func FuzzReports(f *testing.F) {
	f.Add([]byte(`{"BackupId": 736251, "State": "Completed", "CanRestore": true, "Duration": "00:05:00", "FilesSearched": "5120", "BytesSearched": "812.4 MB", "NumErrors": 1, "ErrorList": [{"BackupReportID": 1, "ListIndex": "2"}]}`))
	f.Add([]byte(`{"BackupReportId": 5, "State": "Completed WithErrors", "NumFilesRestored": "17", "NumBytesRestored": "3.5 KB", "Duration": "26:00:00", "NumErrors": "2"}`))
	f.Add([]byte(`{"MachineAgentId": "401122", "UseServiceNet": "true", "PublicKey": {"ExponentHex": "09528"}, "BackupVaultSize": null}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var br rcbu.BackupReport
		if json.Unmarshal(b, &br) == nil && br.Duration < 0 {
			t.Fatalf("negative duration %v", br.Duration)
		}
		var rr rcbu.RestoreReport
		if json.Unmarshal(b, &rr) == nil && rr.Duration < 0 {
			t.Fatalf("negative duration %v", rr.Duration)
		}
		var a rcbu.Agent
		if json.Unmarshal(b, &a) == nil && a.BackupVaultSize != nil && a.BackupVaultSize.Bytes < 0 {
			t.Fatalf("negative vault size %+v", a.BackupVaultSize)
		}
	})
}
