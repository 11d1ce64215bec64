package rcbusim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"math/big"
	"slices"
	"strconv"
	"testing"
	"time"
)

// agentKeys are the keys [py-new] requires on agent details (§3).
var agentKeys = []string{"MachineAgentId", "AgentVersion", "Architecture", "Flavor", "BackupVaultSize",
	"CleanupAllowed", "Datacenter", "IPAddress", "IsDisabled", "IsEncrypted", "MachineName",
	"OperatingSystem", "OperatingSystemVersion", "PublicKey", "Status", "TimeOfLastSuccessfulBackup",
	"UseServiceNet", "HostServerId", "BackupContainer", "BackupDatacenter", "UseFailoverUri"}

func TestGetAndListAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var a obj
	f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &a)
	for _, k := range agentKeys {
		if _, ok := a[k]; !ok {
			t.Errorf("agent details lack %s", k)
		}
	}
	if a["Status"] != "Online" || a["BackupVaultSize"] != nil || a["TimeOfLastSuccessfulBackup"] != nil {
		t.Errorf("fresh online agent: %v", a)
	}
	f.ts.SetAgentOnline(f.agent, false)
	f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &a)
	if a["Status"] != "Offline" {
		t.Errorf("status %v, want Offline", a["Status"])
	}
	var list []obj
	f.c.call("GET", "/user/agents", nil, 200, &list)
	if len(list) != 2 {
		t.Fatalf("%d agents", len(list))
	}
	for _, x := range list {
		if x["Status"] != "Unknown" {
			t.Errorf("list status %v, want Unknown", x["Status"])
		}
	}
	status, raw := f.c.do("GET", "/agent/999999", nil)
	expectError(t, status, raw, 404, "not found")
	status, raw = f.c.do("GET", "/agent/server/00000000-0000-0000-0000-000000000000", nil)
	expectError(t, status, raw, 404, "host server")
}

func TestEnableDisableAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := "/agent/" + itoa(f.agent)
	for _, body := range []obj{{"MachineAgentId": f.agent, "Enable": false}, {"MachineAgentId": itoa(f.agent), "Enable": "false"}} {
		raw := f.c.call("POST", "/agent/enable", body, 204, nil)
		if len(raw) != 0 {
			t.Fatalf("204 with body %q", raw)
		}
		var a obj
		f.c.call("GET", path, nil, 200, &a)
		if a["IsDisabled"] != true {
			t.Fatalf("IsDisabled %v after disable", a["IsDisabled"])
		}
	}
	f.c.call("POST", "/agent/enable", obj{"MachineAgentId": f.agent, "Enable": true}, 204, nil)
	var a obj
	f.c.call("GET", path, nil, 200, &a)
	if a["IsDisabled"] != false {
		t.Fatalf("IsDisabled %v after enable", a["IsDisabled"])
	}
	for _, tt := range []struct {
		name string
		body any
		msg  string
	}{
		{"missing Enable", obj{"MachineAgentId": f.agent}, "Enable is required"},
		{"Enable not bool", obj{"MachineAgentId": f.agent, "Enable": "maybe"}, "Enable must be a boolean"},
		{"missing id", obj{"Enable": true}, "MachineAgentId is required"},
		{"id not int", obj{"MachineAgentId": "x1", "Enable": true}, "MachineAgentId must be an integer"},
		{"unknown id in body is 400", obj{"MachineAgentId": 1, "Enable": true}, "not found"},
	} {
		status, raw := f.c.do("POST", "/agent/enable", tt.body)
		expectError(t, status, raw, 400, tt.msg)
	}
}

func TestEncryptAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	status, raw := f.c.do("POST", "/agent/changeencryption", obj{"MachineAgentId": f.agent, "OldEncryptedPasswordHex": "ab", "NewEncryptedPasswordHex": "cd"})
	expectError(t, status, raw, 400, "not encrypted")
	status, raw = f.c.do("POST", "/agent/encrypt", obj{"MachineAgentId": f.agent, "EncryptedPasswordHex": "zz"})
	expectError(t, status, raw, 400, "hex")
	var guid string
	f.c.call("POST", "/agent/encrypt", obj{"MachineAgentId": f.agent, "EncryptedPasswordHex": "0a1b2c"}, 200, &guid)
	if len(guid) != 36 {
		t.Fatalf("guid %q", guid)
	}
	var a obj
	f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &a)
	if a["IsEncrypted"] != true {
		t.Fatal("agent not encrypted")
	}
	var cfg obj
	f.c.call("GET", "/backup-configuration/"+itoa(f.config), nil, 200, &cfg)
	if cfg["IsEncrypted"] != true {
		t.Fatal("configuration does not mirror vault encryption")
	}
	status, raw = f.c.do("POST", "/agent/encrypt", obj{"MachineAgentId": f.agent, "EncryptedPasswordHex": "0a1b2c"})
	expectError(t, status, raw, 400, "already")
	f.c.call("POST", "/agent/changeencryption", obj{"MachineAgentId": f.agent, "OldEncryptedPasswordHex": "ab", "NewEncryptedPasswordHex": "cd"}, 200, &guid)
}

func TestDeleteAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.c.call("POST", "/agent/delete", obj{"MachineAgentId": f.agent}, 204, nil)
	status, raw := f.c.do("GET", "/agent/"+itoa(f.agent), nil)
	expectError(t, status, raw, 404, "not found")
	var list []obj
	f.c.call("GET", "/user/agents", nil, 200, &list)
	if len(list) != 1 {
		t.Fatalf("%d agents after delete", len(list))
	}
	f.c.call("GET", "/backup-configuration", nil, 200, &list)
	if len(list) != 0 {
		t.Fatalf("deleted agent's configurations still listed: %d", len(list))
	}
	status, raw = f.c.do("POST", "/agent/delete", obj{"MachineAgentId": f.agent})
	expectError(t, status, raw, 400, "not found")
	// The 2013 spelling MachineId works too.
	f.c.call("POST", "/agent/delete", obj{"MachineId": f.winAgent}, 204, nil)
}

func TestMigrateVault(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dst := f.ts.AddAgent(DemoTenant, AgentSeed{Name: "web-02", Datacenter: "DFW", Online: true})
	tests := []struct {
		name string
		body obj
		msg  string
	}{
		{"same agent", obj{"SourceMachineAgentId": f.agent, "DestinationMachineAgentId": f.agent}, "must differ"},
		{"destination has configurations", obj{"SourceMachineAgentId": dst, "DestinationMachineAgentId": f.agent}, "already has backup configurations"},
		{"missing destination", obj{"SourceMachineAgentId": f.agent}, "DestinationMachineAgentId is required"},
	}
	for _, tt := range tests {
		status, raw := f.c.do("PUT", "/agent/migratevault", tt.body)
		expectError(t, status, raw, 400, tt.msg)
	}
	raw := f.c.call("PUT", "/agent/migratevault", obj{"SourceMachineAgentId": f.agent, "DestinationMachineAgentId": dst}, 200, nil)
	if len(raw) != 0 {
		t.Fatalf("body %q", raw)
	}
	var cfg obj
	f.c.call("GET", "/backup-configuration/"+itoa(f.config), nil, 200, &cfg)
	if num(cfg["MachineAgentId"]) != dst {
		t.Fatalf("configuration still on %v", cfg["MachineAgentId"])
	}
}

func TestUpdateAgentBehavior(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var a obj
	f.c.call("POST", "/agent/"+itoa(f.agent), obj{"UseServiceNet": false, "BackupDataCenter": "ORD"}, 200, &a)
	if a["UseServiceNet"] != false || a["BackupDatacenter"] != "ORD" {
		t.Fatalf("agent %v", a)
	}
	f.c.call("POST", "/agent/"+itoa(f.agent), obj{"UseServiceNet": "true", "BackupDatacenter": "DFW"}, 200, &a)
	if a["UseServiceNet"] != true || a["BackupDatacenter"] != "DFW" {
		t.Fatalf("agent %v", a)
	}
	status, raw := f.c.do("POST", "/agent/"+itoa(f.agent), obj{"UseServiceNet": true, "BackupDataCenter": "SYD"})
	expectError(t, status, raw, 400, "BackupDataCenter")
	status, raw = f.c.do("POST", "/agent/"+itoa(f.agent), obj{})
	expectError(t, status, raw, 400, "UseServiceNet is required")
	status, raw = f.c.do("POST", "/agent/424242", obj{"UseServiceNet": true})
	expectError(t, status, raw, 404, "not found")
}

func TestLogLevelAndAgentExtras(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := itoa(f.agent)
	f.c.call("PUT", "/agent/logging", obj{"MachineAgentId": f.agent, "LoggingLevelid": 5}, 204, nil)
	var level string
	f.c.call("GET", "/agent/logging/"+id, nil, 200, &level)
	if level != "Debug" {
		t.Fatalf("level %q", level)
	}
	// The docs' form-encoded body.
	status, raw := send(t, "PUT", f.c.base+"/agent/logging", f.c.token, "MachineAgentId="+id+"&LoggingLevelId=6")
	if status != 204 {
		t.Fatalf("form body: %d %s", status, raw)
	}
	f.c.call("PUT", "/agent/logging", obj{"MachineAgentId": f.agent, "LoggingLevelId": "Info"}, 204, nil)
	f.c.call("GET", "/agent/logging/"+id, nil, 200, &level)
	if level != "Info" {
		t.Fatalf("level %q", level)
	}
	status, raw = f.c.do("PUT", "/agent/logging", obj{"MachineAgentId": f.agent, "LoggingLevelId": 9})
	expectError(t, status, raw, 400, "LoggingLevelId")

	var guid string
	f.c.call("POST", "/agent/requestlog/"+id, nil, 200, &guid)
	var files []obj
	f.c.call("GET", "/agent/logfiles/"+id, nil, 200, &files)
	if len(files) == 0 || files[0]["DisplayName"] == "" {
		t.Fatalf("log files %v", files)
	}
	var events []obj
	f.c.call("GET", "/agent/events/"+id, nil, 200, &events)
	if len(events) != 1 || events[0]["data"].(obj)["Event"] != "Heartbeat" {
		t.Fatalf("events %v", events)
	}
	var doc obj
	f.c.call("GET", "/agent/configuration/"+id, nil, 200, &doc)
	if cfgs := doc["BackupConfigurations"].([]any); len(cfgs) != 1 {
		t.Fatalf("agent document configurations %v", cfgs)
	}
}

func TestWakeAgents(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithWakeDelay(15*time.Second))
	off := ts.AddAgent(DemoTenant, AgentSeed{Name: "sleepy", Datacenter: "IAD"})
	dis := ts.AddAgent(DemoTenant, AgentSeed{Name: "disabled", Datacenter: "IAD", Disabled: true})
	c := demo(t, ts)
	status := func(id int64) string {
		var a obj
		c.call("GET", "/agent/"+itoa(id), nil, 200, &a)
		return a["Status"].(string)
	}
	raw := c.call("POST", "/user/wakeupagents", nil, 200, nil)
	if len(raw) != 0 {
		t.Fatalf("wake body %q", raw)
	}
	if got := status(off); got != "Offline" {
		t.Fatalf("right after wake-up: %s", got)
	}
	ts.Advance(15 * time.Second)
	if got := status(off); got != "Online" {
		t.Fatalf("after the wake delay: %s", got)
	}
	if got := status(dis); got != "Offline" {
		t.Fatalf("disabled agent woke up: %s", got)
	}
	got := slices.Collect(func(yield func(string) bool) {
		for _, id := range ts.AgentIDs(DemoTenant) {
			if !yield(itoa(id)) {
				return
			}
		}
	})
	if len(got) != 2 {
		t.Fatalf("AgentIDs %v", got)
	}
}

// TestPublicKeyEncrypts checks that agent keys work with crypto/rsa (which
// refuses keys under 1024 bits), as clients encrypt passphrases with them.
func TestPublicKeyEncrypts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var a struct {
		PublicKey struct {
			ModulusHex  string
			ExponentHex int
		}
	}
	f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &a)
	if len(a.PublicKey.ModulusHex) != 512 {
		t.Fatalf("modulus has %d hex digits, want 512", len(a.PublicKey.ModulusHex))
	}
	n, ok := new(big.Int).SetString(a.PublicKey.ModulusHex, 16)
	e, err := strconv.ParseInt(strconv.Itoa(a.PublicKey.ExponentHex), 16, 32)
	if !ok || err != nil || e != 65537 {
		t.Fatalf("key %v %v %d", ok, err, e)
	}
	//lint:ignore SA1019 clients encrypt passphrases with PKCS#1 v1.5 (contract §3.3)
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &rsa.PublicKey{N: n, E: int(e)}, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	f.c.call("POST", "/agent/encrypt", obj{"MachineAgentId": f.agent, "EncryptedPasswordHex": hex.EncodeToString(ct)}, 200, nil)
}
