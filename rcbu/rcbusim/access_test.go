package rcbusim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// mutation is one state-changing request against the fixture.
type mutation struct {
	name, method, path string
	body               obj
	creatorDenied      bool
}

func mutations(f *fixture, backupID, restoreID int64) []mutation {
	a, cfg := itoa(f.agent), itoa(f.config)
	return []mutation{
		{"A2 enable agent", "POST", "/agent/enable", obj{"MachineAgentId": f.agent, "Enable": false}, false},
		{"A3 encrypt", "POST", "/agent/encrypt", obj{"MachineAgentId": f.agent, "EncryptedPasswordHex": "00"}, false},
		{"A4 change encryption", "POST", "/agent/changeencryption", obj{"MachineAgentId": f.agent, "OldEncryptedPasswordHex": "00", "NewEncryptedPasswordHex": "11"}, true},
		{"A5 delete agent", "POST", "/agent/delete", obj{"MachineAgentId": f.agent}, true},
		{"A6 migrate vault", "PUT", "/agent/migratevault", obj{"SourceMachineAgentId": f.agent, "DestinationMachineAgentId": f.winAgent}, true},
		{"A7 update behavior", "POST", "/agent/" + a, obj{"UseServiceNet": false}, false},
		{"A9 log level", "PUT", "/agent/logging", obj{"MachineAgentId": f.agent, "LoggingLevelId": 2}, false},
		{"U2 wake", "POST", "/user/wakeupagents", nil, false},
		{"C1 create config", "POST", "/backup-configuration", configBody(f.agent, "x"), false},
		{"C2 update config", "PUT", "/backup-configuration/" + cfg, configBody(f.agent, "y"), false},
		{"C6 enable config", "POST", "/backup-configuration/enable/" + cfg, obj{"Enable": false}, false},
		{"C7 delete config", "DELETE", "/backup-configuration/" + cfg, nil, true},
		{"B1 start", "POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": f.config}, false},
		{"B1 stop", "POST", "/backup/action-requested", obj{"Action": "StopManual", "Id": backupID}, false},
		{"R1 create restore", "PUT", "/restore", obj{"BackupId": backupID, "BackupMachineId": f.agent, "DestinationMachineId": f.agent, "DestinationPath": "/r", "OverwriteFiles": true}, false},
		{"R2 update restore", "POST", "/restore", obj{"RestoreId": restoreID, "DestinationPath": "/q"}, false},
		{"R3 add file", "PUT", "/restore/files", obj{"ParentId": restoreID, "FilePath": "/a", "Filter": 1, "FileItemType": 0}, false},
		{"R5 delete file", "DELETE", "/restore/files/" + itoa(restoreID), nil, false},
		{"R7 start restore", "POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": restoreID}, false},
	}
}

// snapshot captures everything a client can see of the demo tenant.
func snapshot(t *testing.T, c *apiClient, f *fixture) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{"/user/agents", "/backup-configuration", "/activity", "/backup/availableforrestore",
		"/agent/" + itoa(f.agent), "/agent/" + itoa(f.winAgent), "/backup-configuration/" + itoa(f.config), "/agent/logging/" + itoa(f.agent)} {
		b.Write(c.call("GET", p, nil, 200, nil))
	}
	for _, r := range f.ts.Restores() {
		b.Write(c.call("GET", "/restore/"+itoa(r.ID), nil, 200, nil))
		b.Write(c.call("GET", "/restore/files/"+itoa(r.ID), nil, 200, nil))
	}
	return b.String()
}

func setupJobs(t *testing.T, f *fixture) (backupID, restoreID int64) {
	t.Helper()
	done := completedBackup(t, f)
	var r obj
	f.c.call("PUT", "/restore", obj{"BackupId": done, "BackupMachineId": f.agent, "DestinationMachineId": f.agent, "DestinationPath": "/r", "OverwriteFiles": true}, 200, &r)
	return f.c.startBackup(f.config), num(r["RestoreId"])
}

func TestRBAC(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	backupID, restoreID := setupJobs(t, f)
	observer := login(t, f.ts, ObserverUser, ObserverAPIKey)
	before := snapshot(t, f.c, f)
	for _, m := range mutations(f, backupID, restoreID) {
		status, raw := observer.do(m.method, m.path, m.body)
		if status != http.StatusForbidden {
			t.Errorf("observer %s: status %d, want 403: %s", m.name, status, raw)
		}
	}
	if after := snapshot(t, f.c, f); after != before {
		t.Fatal("observer requests changed state")
	}
	// Observers read everything.
	observer.call("GET", "/user/agents", nil, 200, nil)
	observer.call("GET", "/backup/report/"+itoa(backupID-1), nil, 200, nil)

	// Each creator request runs on a fresh estate so earlier ones (disable,
	// delete) cannot mask the role check of later ones.
	for i := range mutations(f, backupID, restoreID) {
		g := newFixture(t)
		b, r := setupJobs(t, g)
		m := mutations(g, b, r)[i]
		creator := login(t, g.ts, CreatorUser, CreatorAPIKey)
		status, raw := creator.do(m.method, m.path, m.body)
		if m.creatorDenied != (status == http.StatusForbidden) || status >= 500 {
			t.Errorf("creator %s: status %d (admin-only %v): %s", m.name, status, m.creatorDenied, raw)
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	backupID, restoreID := setupJobs(t, f)
	other := login(t, f.ts, OtherUser, OtherAPIKey)
	before := snapshot(t, f.c, f)
	for _, m := range mutations(f, backupID, restoreID) {
		if m.name == "U2 wake" {
			continue // account-wide, no ids
		}
		status, raw := other.do(m.method, m.path, m.body)
		if status != http.StatusForbidden {
			t.Errorf("other tenant %s: status %d, want 403: %s", m.name, status, raw)
		}
	}
	for _, p := range []string{"/agent/" + itoa(f.agent), "/backup-configuration/" + itoa(f.config),
		"/backup-configuration/system/" + itoa(f.agent), "/backup/" + itoa(backupID), "/backup/report/" + itoa(backupID-1),
		"/backup/completed/" + itoa(f.config), "/restore/" + itoa(restoreID), "/restore/files/" + itoa(restoreID),
		"/system/activity/" + itoa(f.agent), "/agent/logging/" + itoa(f.agent), "/agent/configuration/" + itoa(f.agent)} {
		status, raw := other.do("GET", p, nil)
		expectError(t, status, raw, http.StatusForbidden, "access denied")
	}
	if after := snapshot(t, f.c, f); after != before {
		t.Fatal("another tenant's requests changed state")
	}
	// Lists never leak the other tenant's objects.
	for _, p := range []string{"/user/agents", "/backup-configuration", "/activity", "/backup/availableforrestore"} {
		raw := other.call("GET", p, nil, 200, nil)
		if strings.Contains(string(raw), `"web-01"`) || strings.Contains(string(raw), itoa(f.agent)) {
			t.Errorf("%s leaks tenant 123456: %s", p, raw)
		}
	}
	var list []obj
	other.call("GET", "/user/agents", nil, 200, &list)
	if len(list) != 1 || list[0]["MachineName"] != "other-web-01" {
		t.Fatalf("other's agents %v", list)
	}
	// Host-server lookups do not cross tenants either.
	var a obj
	f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &a)
	status, raw := other.do("GET", "/agent/server/"+a["HostServerId"].(string), nil)
	expectError(t, status, raw, http.StatusForbidden, "access denied")
	// Another tenant's id in the path is refused even with a valid token.
	status, raw = send(t, "GET", f.ts.URL+"/v1.0/"+OtherTenant+"/user/agents", f.c.token, nil)
	expectError(t, status, raw, 403, "access denied")
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	backupID, restoreID := setupJobs(t, f)
	before := snapshot(t, f.c, f)
	huge := `{"MachineAgentId": 1, "x": "` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name, method, path string
		body               any
		status             int
		msg                string
	}{
		{"malformed JSON", "POST", "/agent/enable", `{"MachineAgentId": `, 400, "malformed JSON"},
		{"array body", "POST", "/backup-configuration", `[1,2]`, 400, "malformed JSON"},
		{"null body", "POST", "/agent/enable", `null`, 400, "expected an object"},
		{"wrong id type", "POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": true}, 400, "Id must be an integer"},
		{"wrong action type", "POST", "/backup/action-requested", obj{"Action": 5, "Id": f.config}, 400, "Action must be a string"},
		{"id too large", "POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": "99999999999999999999"}, 400, "Id must be an integer"},
		{"body over 1 MiB", "POST", "/backup-configuration", huge, 413, "larger than"},
		{"unknown config", "GET", "/backup-configuration/999", nil, 404, "not found"},
		{"unknown backup", "GET", "/backup/999", nil, 404, "not found"},
		{"unknown backup report", "GET", "/backup/report/999", nil, 404, "not found"},
		{"unknown restore", "GET", "/restore/999", nil, 404, "not found"},
		{"unknown restore file", "DELETE", "/restore/files/999", nil, 404, "not found"},
		{"unknown cleanup", "GET", "/cleanup/report/999", nil, 404, "not found"},
		{"unknown agent activity", "GET", "/system/activity/999", nil, 404, "not found"},
		{"completed of unknown config", "GET", "/backup/completed/999", nil, 404, "not found"},
		{"unknown restore start", "POST", "/restore/action-requested", obj{"Action": "StartManual", "Id": 999}, 404, "not found"},
		{"restore file of unknown restore", "PUT", "/restore/files", obj{"ParentId": 999, "FilePath": "/a", "Filter": 1, "FileItemType": 0}, 404, "not found"},
		{"restore file missing path", "PUT", "/restore/files", obj{"ParentId": restoreID, "Filter": 1, "FileItemType": 0}, 400, "FilePath is required"},
		{"update unknown restore", "POST", "/restore", obj{"RestoreId": 999}, 404, "not found"},
		{"update restore with bad backup", "POST", "/restore", obj{"RestoreId": restoreID, "BackupId": backupID}, 400, "cannot be restored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := f.c.do(tt.method, tt.path, tt.body)
			expectError(t, status, raw, tt.status, tt.msg)
		})
	}
	if after := snapshot(t, f.c, f); after != before {
		t.Fatal("rejected requests changed state")
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.ts.FailNext(OpListAgents, 503)
	f.ts.FailNext(OpListAgents, 500)
	status, raw := f.c.do("GET", "/user/agents", nil)
	expectError(t, status, raw, 503, "injected fault")
	status, _ = f.c.do("GET", "/user/agents", nil)
	if status != 500 {
		t.Fatalf("second call %d, want 500", status)
	}
	f.c.call("GET", "/user/agents", nil, 200, nil)

	// Start and stop are separate operations on the same endpoint.
	f.ts.FailNext(OpStopBackup, 503)
	id := f.c.startBackup(f.config)
	status, _ = f.c.do("POST", "/backup/action-requested", obj{"Action": "StopManual", "Id": id})
	if status != 503 {
		t.Fatalf("stop %d, want the injected 503", status)
	}
	f.ts.FailNext(OpAuth, 500)
	status, _ = send(t, "POST", f.ts.IdentityURL, "", obj{"auth": obj{"RAX-KSKEY:apiKeyCredentials": obj{"username": DemoUser, "apiKey": DemoAPIKey}}})
	if status != 500 {
		t.Fatalf("auth %d, want 500", status)
	}
}

func TestErrorRates(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithErrorRate(1), WithOpErrorRate(OpAuth, 0), WithOpErrorRate(OpGetAgent, 1, 502))
	c := demo(t, ts)
	for range 10 {
		status, _ := c.do("GET", "/user/agents", nil)
		if status != 500 && status != 503 {
			t.Fatalf("status %d, want 500 or 503", status)
		}
	}
	status, _ := c.do("GET", "/agent/1", nil)
	if status != 502 {
		t.Fatalf("per-op status %d, want 502", status)
	}
}

func TestHangUntilClientGivesUp(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithHangRate(1), WithOpErrorRate(OpAuth, 0))
	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequest("GET", ts.URL+"/v1.0/user/agents", nil)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("hung request answered %d", resp.StatusCode)
	}
}

func TestLatencyDoesNotChangeAnswers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithLatency(time.Millisecond, time.Millisecond))
	c := demo(t, ts)
	var list []json.RawMessage
	c.call("GET", "/user/agents", nil, 200, &list)
}
