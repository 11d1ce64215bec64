package rcbusim

import (
	"bytes"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDemoDataset(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithDataset("demo"))
	c := demo(t, ts)
	var agents []obj
	c.call("GET", "/user/agents", nil, 200, &agents)
	if len(agents) < 10 || len(agents) > 14 {
		t.Fatalf("%d demo agents", len(agents))
	}
	dcs := map[string]int{}
	var windows, disabled, encrypted int
	for _, a := range agents {
		dcs[a["Datacenter"].(string)]++
		if strings.HasPrefix(a["OperatingSystem"].(string), "Windows") {
			windows++
		}
		if a["IsDisabled"] == true {
			disabled++
		}
		if a["IsEncrypted"] == true {
			encrypted++
		}
	}
	if len(dcs) != 4 || windows == 0 || disabled != 1 || encrypted != 1 {
		t.Errorf("datacenters %v, windows %d, disabled %d, encrypted %d", dcs, windows, disabled, encrypted)
	}
	offline := 0
	for _, a := range agents {
		var d obj
		c.call("GET", "/agent/"+itoa(num(a["MachineAgentId"])), nil, 200, &d)
		if d["Status"] == "Offline" {
			offline++
		}
	}
	if offline != 1 {
		t.Errorf("%d offline agents", offline)
	}
	var cfgs []obj
	c.call("GET", "/backup-configuration", nil, 200, &cfgs)
	if len(cfgs) < 20 || len(cfgs) > 30 {
		t.Errorf("%d demo configurations", len(cfgs))
	}
	freq := map[string]int{}
	for _, cfg := range cfgs {
		freq[cfg["Frequency"].(string)]++
	}
	if len(freq) != 4 {
		t.Errorf("frequencies %v", freq)
	}
	states := map[string]int{}
	var oldest time.Time
	for _, b := range ts.Backups() {
		if b.Tenant == DemoTenant {
			states[b.State]++
			if oldest.IsZero() || b.Start.Before(oldest) {
				oldest = b.Start
			}
		}
	}
	if states["Completed"] < 300 || states["Failed"] == 0 || states["CompletedWithErrors"] == 0 || states["Missed"] == 0 {
		t.Errorf("history states %v", states)
	}
	if age := ts.Now().Sub(oldest); age < 55*24*time.Hour || age > 61*24*time.Hour {
		t.Errorf("history reaches back %v", age)
	}
	busy := 0
	for st, n := range states {
		if mustState(st).busy() {
			busy += n
		}
	}
	if busy != 1 {
		t.Errorf("%d running backups at start, want the one to watch", busy)
	}
	var act []obj
	c.call("GET", "/activity", nil, 200, &act)
	kinds := map[string]int{}
	for _, x := range act {
		kinds[x["Type"].(string)]++
	}
	if kinds["Restore"] == 0 || kinds["Cleanup"] == 0 || kinds["Backup"] < 300 {
		t.Errorf("activity kinds %v", kinds)
	}
	// A cleanup report and a historical backup report.
	for _, x := range act {
		if x["Type"] == "Cleanup" {
			var rep obj
			c.call("GET", "/cleanup/report/"+itoa(num(x["ID"])), nil, 200, &rep)
			break
		}
	}
	other := login(t, ts, OtherUser, OtherAPIKey)
	other.call("GET", "/user/agents", nil, 200, &agents)
	if len(agents) != 2 {
		t.Errorf("other tenant has %d agents", len(agents))
	}
}

func TestDatasetIsDeterministic(t *testing.T) {
	t.Parallel()
	dump := func() string {
		ts := newTestServer(t, WithDataset("demo"), WithRandSeed(42))
		c := demo(t, ts)
		var b bytes.Buffer
		for _, p := range []string{"/user/agents", "/backup-configuration", "/activity"} {
			b.Write(c.call("GET", p, nil, 200, nil))
		}
		return b.String()
	}
	if first, second := dump(), dump(); first != second {
		t.Fatal("same seed, different data")
	}
	a := New(WithDataset("demo"), WithRandSeed(1), WithClock(NewFakeClock(time.Unix(1.7e9, 0))))
	b := New(WithDataset("demo"), WithRandSeed(2), WithClock(NewFakeClock(time.Unix(1.7e9, 0))))
	if len(a.Backups()) == len(b.Backups()) && a.Backups()[0] == b.Backups()[0] {
		t.Fatal("different seeds gave identical history")
	}
}

func TestSeedFile(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithSeedFile("testdata/seed-example.json"))
	c := demo(t, ts)
	var agents []obj
	c.call("GET", "/user/agents", nil, 200, &agents)
	if len(agents) != 2 || agents[0]["MachineName"] != "shop-web-01" || agents[1]["IsEncrypted"] != true {
		t.Fatalf("agents %v", agents)
	}
	var byHost obj
	c.call("GET", "/agent/server/3F2B8C1E-6D4A-4B7E-9C10-2A3B4C5D6E7F", nil, 200, &byHost)
	var cfgs []obj
	c.call("GET", "/backup-configuration", nil, 200, &cfgs)
	if len(cfgs) != 4 {
		t.Fatalf("%d configurations", len(cfgs))
	}
	if len(ts.Backups()) == 0 {
		t.Fatal("historyDays gave no history")
	}
	other := login(t, ts, OtherUser, OtherAPIKey)
	other.call("GET", "/user/agents", nil, 200, &agents)
	if len(agents) != 2 { // the built-in one plus partner-app-01
		t.Fatalf("other's agents %d", len(agents))
	}
}

func TestSeedErrors(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"not JSON":           `{`,
		"bad schedule":       `{"agents":[{"name":"a","configurations":[{"name":"c","frequency":"Daily","hour":13}]}]}`,
		"duplicate names":    `{"agents":[{"name":"a","configurations":[{"name":"c"},{"name":"c"}]}]}`,
		"non-numeric tenant": `{"agents":[{"tenant":"acme","name":"a"}]}`,
	} {
		if err := New(WithSeedJSON([]byte(data))).Err(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := New(WithSeedFile("testdata/missing.json")).Err(); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
	if err := New(WithDataset("huge")).Err(); err == nil {
		t.Error("unknown dataset: no error")
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	s := New(WithDataset("demo"), WithScale(200, 3, 10), WithClock(NewFakeClock(time.Unix(1.7e9, 0))))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if n := len(s.AgentIDs(DemoTenant)); n != 212 {
		t.Fatalf("%d agents, want 12 + 200", n)
	}
	if n := len(s.ConfigurationIDs(DemoTenant)); n < 620 {
		t.Fatalf("%d configurations", n)
	}
	bs := s.Backups()
	if len(bs) < 200*3*9 {
		t.Fatalf("%d backups for 10 days of 600 daily/weekly configurations", len(bs))
	}
	// History ids grow with time (the last backup is the live demo run).
	for i := 1; i < len(bs)-1; i++ {
		if bs[i].Start.Before(bs[i-1].Start) {
			t.Fatalf("history ids do not grow with time: %v then %v", bs[i-1], bs[i])
		}
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1.0/user/agents", nil))
	if rec.Code != 401 {
		t.Fatalf("unauthenticated list %d", rec.Code)
	}
}
