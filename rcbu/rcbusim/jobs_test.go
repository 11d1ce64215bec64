package rcbusim

import (
	"strings"
	"testing"
	"time"
)

// runToEnd advances the clock in steps until backup id is done.
func runToEnd(t *testing.T, f *fixture, id int64) string {
	t.Helper()
	for range 200 {
		st := f.c.backupState(id)
		if _, ok := parseBackupState(st); ok && !mustState(st).busy() {
			return st
		}
		f.ts.Advance(time.Second)
	}
	t.Fatalf("backup %d did not finish", id)
	return ""
}

// statesUntilDone advances the clock by step (at most 200 times) until
// backup id is done, and returns each state it saw, once.
func statesUntilDone(f *fixture, id int64, step time.Duration) []string {
	var seen []string
	for range 200 {
		st := f.c.backupState(id)
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if !mustState(st).busy() {
			break
		}
		f.ts.Advance(step)
	}
	return seen
}

func mustState(s string) backupState {
	st, _ := parseBackupState(s)
	return st
}

func TestBackupStateMachine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.c.startBackup(f.config)
	if id < 1_000_000 {
		t.Fatalf("backup id %d, want 7 digits", id)
	}
	status, raw := f.c.do("GET", "/backup/report/"+itoa(id), nil)
	expectError(t, status, raw, 404, "no report yet")
	got := strings.Join(statesUntilDone(f, id, time.Second), ">")
	if !strings.HasPrefix(got, "StartRequested>Queued>Preparing>InProgress>") {
		t.Fatalf("states %s", got)
	}
	var b obj
	f.c.call("GET", "/backup/"+itoa(id), nil, 200, &b)
	for _, k := range []string{"BackupId", "BackupConfigurationId", "BackupConfigurationName", "CurrentState", "MachineAgentId", "MachineName", "StateChangeTime", "IsEncrypted", "EncryptionKey", "Datacenter", "BackupDatacenter"} {
		if _, ok := b[k]; !ok {
			t.Errorf("backup lacks %s", k)
		}
	}
	var rep obj
	f.c.call("GET", "/backup/report/"+itoa(id), nil, 200, &rep)
	if rep["State"] != b["CurrentState"] || rep["ComputerName"] != "web-01" {
		t.Fatalf("report %v", rep)
	}
	d, err := time.Parse("15:04:05", rep["Duration"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if secs := d.Hour()*3600 + d.Minute()*60 + d.Second(); secs < 20 || secs > 90 {
		t.Errorf("duration %s, want 20-90 s", rep["Duration"])
	}
	for _, k := range []string{"FilesSearched", "FilesBackedUp"} {
		if s, ok := rep[k].(string); !ok || !isDigits(s) {
			t.Errorf("%s = %v, want a digit string", k, rep[k])
		}
	}
	if s := rep["BytesSearched"].(string); !strings.HasSuffix(s, " GB") {
		t.Errorf("BytesSearched %q", s)
	}
	// Configuration and agent bookkeeping.
	var cfg obj
	f.c.call("GET", "/backup-configuration/"+itoa(f.config), nil, 200, &cfg)
	if num(cfg["LastRunBackupReportId"]) != id || cfg["LastRunTime"] == nil {
		t.Errorf("config after run %v %v", cfg["LastRunBackupReportId"], cfg["LastRunTime"])
	}
	if rep["CanRestore"] == true {
		var a obj
		f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &a)
		if a["TimeOfLastSuccessfulBackup"] == nil || a["BackupVaultSize"] == nil {
			t.Errorf("agent after success %v", a)
		}
		var done []obj
		f.c.call("GET", "/backup/completed/"+itoa(f.config), nil, 200, &done)
		if len(done) != 1 || num(done[0]["BackupId"]) != id {
			t.Fatalf("completed %v", done)
		}
		if _, isNum := done[0]["BytesSearched"].(float64); !isNum {
			t.Errorf("completed BytesSearched %v is not a number", done[0]["BytesSearched"])
		}
		var avail []obj
		f.c.call("GET", "/backup/availableforrestore", nil, 200, &avail)
		if len(avail) != 1 || num(avail[0]["BackupConfigurationId"]) != f.config {
			t.Fatalf("available %v", avail)
		}
	}
	var act []obj
	f.c.call("GET", "/system/activity/"+itoa(f.agent), nil, 200, &act)
	if len(act) != 1 || num(act[0]["ID"]) != id || act[0]["Type"] != "Backup" || act[0]["CurrentState"] != b["CurrentState"] {
		t.Fatalf("activity %v", act)
	}
}

func TestBackupOutcomes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ts.SetNextOutcome(f.config, "CompletedWithErrors")
	id := f.c.startBackup(f.config)
	if st := runToEnd(t, f, id); st != "CompletedWithErrors" {
		t.Fatalf("state %s", st)
	}
	var rep struct {
		NumErrors   int
		CanRestore  bool
		Diagnostics string
		ErrorList   []struct {
			BackupReportID int64
			ErrorType      int
			Path           string
			ExceptionDesc  string
		}
	}
	f.c.call("GET", "/backup/report/"+itoa(id), nil, 200, &rep)
	if rep.NumErrors < 1 || rep.NumErrors > 5 || len(rep.ErrorList) != rep.NumErrors || !rep.CanRestore {
		t.Fatalf("report %+v", rep)
	}
	for _, e := range rep.ErrorList {
		if e.BackupReportID != id || !strings.HasPrefix(e.Path, "/var/www/") || e.ExceptionDesc == "" {
			t.Errorf("error item %+v", e)
		}
	}
	// The error list is stable across reads.
	var again struct{ ErrorList []struct{ Path string } }
	f.c.call("GET", "/backup/report/"+itoa(id), nil, 200, &again)
	if again.ErrorList[0].Path != rep.ErrorList[0].Path {
		t.Fatal("error list changed between reads")
	}

	f.ts.SetNextOutcome(f.config, "Failed")
	id = f.c.startBackup(f.config)
	if st := runToEnd(t, f, id); st != "Failed" {
		t.Fatalf("state %s", st)
	}
	var failed obj
	f.c.call("GET", "/backup/report/"+itoa(id), nil, 200, &failed)
	if failed["CanRestore"] != false || num(failed["NumErrors"]) != 1 {
		t.Fatalf("failed report %v", failed)
	}
	var done []obj
	f.c.call("GET", "/backup/completed/"+itoa(f.config), nil, 200, &done)
	if len(done) != 1 {
		t.Fatalf("completed list has %d entries, want only the restorable one", len(done))
	}
}

func TestStopBackup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.c.startBackup(f.config)
	f.ts.Advance(10 * time.Second)
	raw := f.c.call("POST", "/backup/action-requested", obj{"Action": "StopManual", "Id": id}, 204, nil)
	if len(raw) != 0 {
		t.Fatalf("stop body %q", raw)
	}
	if st := f.c.backupState(id); st != "StopRequested" {
		t.Fatalf("state %s", st)
	}
	f.ts.Advance(2 * time.Second)
	if st := f.c.backupState(id); st != "Stopped" {
		t.Fatalf("state %s", st)
	}
	var rep obj
	f.c.call("GET", "/backup/report/"+itoa(id), nil, 200, &rep)
	if rep["State"] != "Stopped" || rep["CanRestore"] != false {
		t.Fatalf("report %v", rep)
	}
	status, body := f.c.do("POST", "/backup/action-requested", obj{"Action": "StopManual", "Id": id})
	expectError(t, status, body, 400, "not running")
	status, body = f.c.do("POST", "/backup/action-requested", obj{"Action": "StopManual", "Id": 1})
	expectError(t, status, body, 404, "not found")
	status, body = f.c.do("POST", "/backup/action-requested", obj{"Action": "Pause", "Id": id})
	expectError(t, status, body, 400, "Action must be")
}

func TestSecondStartIsSkipped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.c.startBackup(f.config)
	second := f.c.startBackup(f.config)
	if second <= first {
		t.Fatalf("ids %d then %d", first, second)
	}
	if st := f.c.backupState(second); st != "Skipped" {
		t.Fatalf("second start: %s", st)
	}
	if st := f.c.backupState(first); st != "StartRequested" {
		t.Fatalf("first start: %s", st)
	}
	var rep obj
	f.c.call("GET", "/backup/report/"+itoa(second), nil, 200, &rep)
	if rep["State"] != "Skipped" {
		t.Fatalf("report %v", rep)
	}
}

func TestStartNeedsAnAwakeEnabledAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ts.SetAgentOnline(f.agent, false)
	status, raw := f.c.do("POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": f.config})
	expectError(t, status, raw, 403, "offline")
	f.c.call("POST", "/user/wakeupagents", nil, 200, nil)
	f.c.startBackup(f.config)

	f.ts.SetAgentDisabled(f.agent, true)
	status, raw = f.c.do("POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": f.config})
	expectError(t, status, raw, 403, "disabled")
	status, raw = f.c.do("POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": 1})
	expectError(t, status, raw, 404, "not found")
	if n := len(f.ts.Backups()); n != 1 {
		t.Fatalf("%d backups, want 1", n)
	}
}

// completedBackup runs a backup of the fixture config to Completed.
func completedBackup(t *testing.T, f *fixture) int64 {
	t.Helper()
	f.ts.SetNextOutcome(f.config, "Completed")
	id := f.c.startBackup(f.config)
	if st := runToEnd(t, f, id); st != "Completed" {
		t.Fatalf("backup ended %s", st)
	}
	return id
}

func TestRestoreFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bid := completedBackup(t, f)
	ord := f.c.in(f.ts.EndpointURL("ORD"))
	// Cross-region: the backup is in DFW, the destination in ORD.
	req := obj{"BackupId": bid, "BackupMachineId": f.agent, "DestinationMachineId": f.winAgent,
		"DestinationPath": `C:\restore`, "OverwriteFiles": false, "BackupDataCenter": "DFW"}
	var r obj
	ord.call("PUT", "/restore", req, 200, &r)
	rid := num(r["RestoreId"])
	if num(r["RestoreStateId"]) != 0 || r["DestinationMachineName"] != "files-01" || r["BackupMachineName"] != "web-01" || r["EncryptedPassword"] != nil {
		t.Fatalf("restore %v", r)
	}
	path := "/restore/" + itoa(rid)
	// Update while Creating.
	ord.call("POST", "/restore", obj{"RestoreId": rid, "BackupId": bid, "BackupMachineId": f.agent, "DestinationMachineId": f.winAgent,
		"OverwriteFiles": true, "BackupConfigurationId": f.config, "DestinationPath": `D:\restore`, "RestoreStateId": 1}, 204, nil)
	ord.call("GET", path, nil, 200, &r)
	if r["DestinationPath"] != `D:\restore` || r["OverwriteFiles"] != true || num(r["RestoreStateId"]) != 0 {
		t.Fatalf("after update %v", r)
	}
	// Files: ints, digit strings and names.
	var files []obj
	ord.call("PUT", "/restore/files", obj{"ParentId": rid, "FilePath": "/var/www/index.html", "Filter": "1", "FileItemType": "0"}, 200, &files)
	ord.call("PUT", "/restore/files", obj{"ParentId": rid, "FilePath": "/var/www/img", "Filter": 2, "FileItemType": "Folder"}, 200, &files)
	ord.call("PUT", "/restore/files", obj{"ParentId": rid, "FilePath": "/var/www/tmp", "Filter": "Exclude", "FileItemType": 1}, 200, &files)
	if len(files) != 3 || num(files[1]["Filter"]) != 2 || num(files[1]["FileItemType"]) != 1 || num(files[0]["RestoreId"]) != rid {
		t.Fatalf("files %v", files)
	}
	ord.call("DELETE", "/restore/files/"+itoa(num(files[2]["FileId"])), nil, 204, nil)
	ord.call("GET", "/restore/files/"+itoa(rid), nil, 200, &files)
	if len(files) != 2 {
		t.Fatalf("files after delete %v", files)
	}
	status, raw := ord.do("PUT", "/restore/files", obj{"ParentId": rid, "FilePath": "/x", "Filter": 3, "FileItemType": 0})
	expectError(t, status, raw, 400, "Filter")

	status, raw = ord.do("GET", "/restore/report/"+itoa(rid), nil)
	expectError(t, status, raw, 404, "no report yet")
	ord.call("POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": rid, "EncryptedPassword": nil}, 204, nil)
	var states []int64
	for range 200 {
		ord.call("GET", path, nil, 200, &r)
		st := num(r["RestoreStateId"])
		if len(states) == 0 || states[len(states)-1] != st {
			states = append(states, st)
		}
		if restoreDone(int(st)) {
			break
		}
		f.ts.Advance(time.Second)
	}
	if len(states) != 5 || states[0] != 6 || states[1] != 1 || states[2] != 9 || states[3] != 2 {
		t.Fatalf("restore states %v, want 6 1 9 2 then done", states)
	}
	// Changes after start are refused.
	status, raw = ord.do("PUT", "/restore/files", obj{"ParentId": rid, "FilePath": "/y", "Filter": 1, "FileItemType": 0})
	expectError(t, status, raw, 400, "Creating")
	var rep obj
	ord.call("GET", "/restore/report/"+itoa(rid), nil, 200, &rep)
	if rep["RestoreDestination"] != "files-01" || num(rep["BackupReportId"]) != bid || !isDigits(rep["NumFilesRestored"].(string)) || !isDigits(rep["NumErrors"].(string)) {
		t.Fatalf("restore report %v", rep)
	}
	// One file was included (and a folder excluded): one file comes back.
	if n := rep["NumFilesRestored"]; n != "1" {
		t.Errorf("a one-file restore restored %v files", n)
	}
	var act []obj
	ord.call("GET", "/system/activity/"+itoa(f.winAgent), nil, 200, &act)
	if len(act) != 1 || act[0]["Type"] != "Restore" || num(act[0]["BackupId"]) != bid || act[0]["DestinationMachineName"] != "files-01" {
		t.Fatalf("activity %v", act)
	}
	if rs := f.ts.Restores(); len(rs) != 1 || rs[0].ID != rid || rs[0].End.IsZero() {
		t.Fatalf("Restores() %+v", rs)
	}
}

func TestRestoreStopAndValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bid := completedBackup(t, f)
	base := obj{"BackupId": bid, "BackupMachineId": f.agent, "DestinationMachineId": f.agent, "DestinationPath": "/r", "OverwriteFiles": false}
	with := func(k string, v any) obj {
		b := obj{}
		for kk, vv := range base {
			b[kk] = vv
		}
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	for _, tt := range []struct {
		name   string
		body   obj
		status int
		msg    string
	}{
		{"missing backup", with("BackupId", nil), 400, "BackupId is required"},
		{"unknown backup", with("BackupId", 1), 404, "not found"},
		{"wrong machine", with("BackupMachineId", f.winAgent), 400, "does not belong"},
		{"unknown destination", with("DestinationMachineId", 5), 404, "not found"},
		{"empty path", with("DestinationPath", ""), 400, "DestinationPath"},
		{"missing overwrite", with("OverwriteFiles", nil), 400, "OverwriteFiles is required"},
		{"bad datacenter", with("BackupDataCenter", "MARS"), 400, "BackupDataCenter"},
	} {
		status, raw := f.c.do("PUT", "/restore", tt.body)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, status, tt.status, raw)
			continue
		}
		expectError(t, status, raw, tt.status, tt.msg)
	}
	if len(f.ts.Restores()) != 0 {
		t.Fatal("rejected requests created restores")
	}
	var r obj
	f.c.call("PUT", "/restore", base, 200, &r)
	rid := num(r["RestoreId"])
	status, raw := f.c.do("POST", "/restore/action-requested", obj{"Action": "StopManual", "Id": rid})
	expectError(t, status, raw, 400, "not running")
	f.c.call("POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": rid}, 204, nil)
	f.ts.Advance(6 * time.Second)
	f.c.call("POST", "/restore/action-requested", obj{"Action": "StopManual", "Id": rid}, 204, nil)
	f.c.call("GET", "/restore/"+itoa(rid), nil, 200, &r)
	if num(r["RestoreStateId"]) != 7 {
		t.Fatalf("state %v, want 7 StopRequested", r["RestoreStateId"])
	}
	f.ts.Advance(2 * time.Second)
	f.c.call("GET", "/restore/"+itoa(rid), nil, 200, &r)
	if num(r["RestoreStateId"]) != 4 {
		t.Fatalf("state %v, want 4 Stopped", r["RestoreStateId"])
	}
	status, raw = f.c.do("POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": rid})
	expectError(t, status, raw, 400, "already started")
	status, raw = f.c.do("POST", "/restore", obj{"RestoreId": rid, "DestinationPath": "/z"})
	expectError(t, status, raw, 400, "Creating")
}

func TestEncryptedRestoreNeedsPassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	bid := completedBackup(t, f)
	f.c.call("POST", "/agent/encrypt", obj{"MachineAgentId": f.agent, "EncryptedPasswordHex": "00ff"}, 200, nil)
	var r obj
	f.c.call("PUT", "/restore", obj{"BackupId": bid, "BackupMachineId": f.agent, "DestinationMachineId": f.agent, "DestinationPath": "/r", "OverwriteFiles": true}, 200, &r)
	if r["IsEncrypted"] != true {
		t.Fatalf("restore %v", r)
	}
	rid := num(r["RestoreId"])
	status, raw := f.c.do("POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": rid})
	expectError(t, status, raw, 400, "EncryptedPassword")
	f.ts.SetAgentOnline(f.agent, false)
	status, raw = f.c.do("POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": rid, "EncryptedPassword": "abcd"})
	expectError(t, status, raw, 403, "offline")
	f.ts.SetAgentOnline(f.agent, true)
	f.c.call("POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": rid, "EncryptedPassword": "abcd"}, 204, nil)
}

// At job pace 10 a backup goes through the same states in a tenth of the
// clock's time and its report says so, while the simulator's clock is the
// one it was given.
func TestJobPaceShortensJobsNotTheClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithJobPace(10))
	start := f.ts.Now()
	id := f.c.startBackup(f.config)
	seen := statesUntilDone(f, id, 100*time.Millisecond)
	if got := strings.Join(seen, ">"); !strings.HasPrefix(got, "StartRequested>Queued>Preparing>InProgress>") || mustState(seen[len(seen)-1]).busy() {
		t.Fatalf("states %s", got)
	}
	// At pace 1 a run takes 20-90 s; at 10, 2-9 s of the clock.
	if took := f.ts.Now().Sub(start); took < 2*time.Second || took > 9*time.Second+200*time.Millisecond {
		t.Errorf("the backup took %s of the clock; want 2-9 s", took)
	}
	var rep obj
	f.c.call("GET", "/backup/report/"+itoa(id), nil, 200, &rep)
	d, err := time.Parse("15:04:05", rep["Duration"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if secs := d.Minute()*60 + d.Second(); secs > 9 {
		t.Errorf("report duration %s; want at most 9 s", rep["Duration"])
	}
}
