package rcbusim

import (
	"encoding/json"
	"sync"
	"testing"
	"time"
)

func TestHumanSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0:          "0 bytes",
		318:        "318 bytes",
		1023:       "1023 bytes",
		60 * 1024:  "60 KB",
		18 << 20:   "18 MB",
		37014732:   "35.3 MB",
		2 << 30:    "2 GB",
		3972844748: "3.7 GB",
		5 << 40:    "5 TB",
	} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHMSAndDates(t *testing.T) {
	t.Parallel()
	if got := hms(26*time.Hour + 4*time.Minute + 33*time.Second); got != "26:04:33" {
		t.Errorf("hms %q", got)
	}
	if got := hms(-time.Second); got != "00:00:00" {
		t.Errorf("negative hms %q", got)
	}
	raw, err := json.Marshal(struct {
		A msDate
		B *msDate
		C *msDate
	}{msDate(time.UnixMilli(1357817400000)), dateOrNil(time.Time{}), dateOrNil(time.UnixMilli(-5))})
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != `{"A":"/Date(1357817400000)/","B":null,"C":"/Date(-5)/"}` {
		t.Errorf("dates %s", raw)
	}
}

func TestDecodeFields(t *testing.T) {
	t.Parallel()
	f, err := decodeFields([]byte(`{"MachineAgentID": "42", "enable": "TRUE", "n": null, "x": 1.5}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, err := f.int64Field("MachineAgentId"); v != 42 || !ok || err != nil {
		t.Errorf("int %d %v %v", v, ok, err)
	}
	if v, ok, err := f.boolField("Enable"); !v || !ok || err != nil {
		t.Errorf("bool %v %v %v", v, ok, err)
	}
	if _, ok, err := f.int64Field("N"); ok || err != nil {
		t.Errorf("null int: %v %v", ok, err)
	}
	if _, _, err := f.int64Field("x"); err == nil {
		t.Error("1.5 accepted as an integer")
	}
	form, err := decodeFields([]byte("MachineAgentId=7&LoggingLevelId=6"), true)
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := form.int64Field("LoggingLevelId"); v != 6 {
		t.Errorf("form value %d", v)
	}
	for _, bad := range []string{`{`, `[]`, `null`, `"x"`, `7`} {
		if _, err := decodeFields([]byte(bad), false); err == nil {
			t.Errorf("decodeFields(%s) succeeded", bad)
		}
	}
}

// TestConcurrentClients drives many clients at once (run with -race).
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := addConfig(t, f.ts, ConfigurationSeed{AgentID: f.winAgent, Name: "o", Frequency: "Hourly", HourInterval: 1})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				switch (i + j) % 5 {
				case 0:
					f.c.do("POST", "/backup/action-requested", obj{"Action": "StartManual", "Id": []int64{f.config, other}[j%2]})
				case 1:
					f.c.do("GET", "/activity", nil)
				case 2:
					f.ts.Advance(7 * time.Second)
				case 3:
					f.c.do("GET", "/backup-configuration", nil)
				case 4:
					_ = f.ts.Backups()
				}
			}
		}()
	}
	wg.Wait()
	f.ts.Advance(10 * time.Minute)
	for _, b := range f.ts.Backups() {
		if mustState(b.State).busy() {
			t.Errorf("backup %d still %s after 10 minutes", b.ID, b.State)
		}
	}
}

func TestInactiveConfigurationCanStartManually(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.c.call("POST", "/backup-configuration/enable/"+itoa(f.config), obj{"Enable": false}, 200, nil)
	id := f.c.startBackup(f.config)
	if st := runToEnd(t, f, id); mustState(st).busy() {
		t.Fatalf("state %s", st)
	}
}

func TestDeletedAgentJobFinishesQuietly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.c.startBackup(f.config)
	f.c.call("POST", "/agent/delete", obj{"MachineAgentId": f.agent}, 204, nil)
	f.ts.Advance(5 * time.Minute)
	bs := f.ts.Backups()
	if len(bs) != 1 || mustState(bs[0].State).busy() {
		t.Fatalf("backups %+v", bs)
	}
	status, raw := f.c.do("GET", "/backup/"+itoa(bs[0].ID), nil)
	expectError(t, status, raw, 404, "not found")
}
