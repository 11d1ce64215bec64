package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/internal/logbuf"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// syncBuffer takes the output of the program under test while the test
// reads it.
type syncBuffer = logbuf.Buffer

var identityLine = regexp.MustCompile(`identity URL: (http://\S+)`)

// startRun runs the program on an ephemeral port and returns its identity
// URL, and a stop function that returns run's error.
func startRun(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), &stdout, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := identityLine.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], func() error {
				cancel()
				select {
				case err := <-done:
					return err
				case <-time.After(10 * time.Second):
					t.Fatal("run did not stop")
					return nil
				}
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("run ended early: %v\n%s%s", err, stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("no identity URL in output:\n%s", stdout.String())
	return "", nil
}

func post(t *testing.T, url, token string, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	return do(t, req)
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("X-Auth-Token", token)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// catalogLogin authenticates and returns the token and the DFW endpoint.
func catalogLogin(t *testing.T, identity string) (token, dfw string) {
	t.Helper()
	status, raw := post(t, identity, "", `{"auth":{"passwordCredentials":{"username":"demo","password":"demo-password"}}}`)
	if status != 200 {
		t.Fatalf("auth %d %s", status, raw)
	}
	var resp struct {
		Access struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
			ServiceCatalog []struct {
				Type      string `json:"type"`
				Endpoints []struct {
					Region    string `json:"region"`
					PublicURL string `json:"publicURL"`
				} `json:"endpoints"`
			} `json:"serviceCatalog"`
		} `json:"access"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	for _, s := range resp.Access.ServiceCatalog {
		for _, ep := range s.Endpoints {
			if s.Type == "rax:backup" && ep.Region == "DFW" {
				dfw = ep.PublicURL
			}
		}
	}
	return resp.Access.Token.ID, dfw
}

func TestRunServesDemo(t *testing.T) {
	identity, stop := startRun(t, "-speed", "1000", "-latency", "1ms+1ms")
	token, dfw := catalogLogin(t, identity)
	status, raw := get(t, dfw+"/user/agents", token)
	var agents []map[string]any
	if status != 200 || json.Unmarshal(raw, &agents) != nil || len(agents) != 3 {
		t.Fatalf("DFW agents: %d %s", status, raw)
	}
	status, raw = get(t, dfw+"/backup-configuration/system/"+jsonNum(agents[0]["MachineAgentId"]), token)
	var cfgs []map[string]any
	if status != 200 || json.Unmarshal(raw, &cfgs) != nil || len(cfgs) == 0 {
		t.Fatalf("configurations: %d %s", status, raw)
	}
	// Start a backup of the manual configuration and watch it finish: at
	// speed 1000 a 20-90 s run takes well under a second of wall time.
	var manual string
	for _, c := range cfgs {
		if c["Frequency"] == "Manually" {
			manual = jsonNum(c["BackupConfigurationId"])
		}
	}
	status, raw = post(t, dfw+"/backup/action-requested", token, `{"Action":"StartManual","Id":`+manual+`}`)
	if status != 200 {
		t.Fatalf("start: %d %s", status, raw)
	}
	id := strings.TrimSpace(string(raw))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		status, raw = get(t, dfw+"/backup/report/"+id, token)
		if status == 200 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("backup %s did not finish: %d %s", id, status, raw)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestRunRegionPorts serves each region on its own port: the catalog lists
// http://127.0.0.1:PORT/v1.0/123456 and that endpoint answers for its region.
func TestRunRegionPorts(t *testing.T) {
	port := freePortRun(t, len(rcbusim.Regions()))
	identity, stop := startRun(t, "-region-ports", strconv.Itoa(port))
	token, dfw := catalogLogin(t, identity)
	if want := "http://127.0.0.1:" + strconv.Itoa(port) + "/v1.0/123456"; dfw != want {
		t.Fatalf("DFW endpoint %q, want %q", dfw, want)
	}
	status, raw := get(t, dfw+"/user/agents", token)
	var agents []map[string]any
	if status != 200 || json.Unmarshal(raw, &agents) != nil || len(agents) != 3 {
		t.Fatalf("DFW agents: %d %s", status, raw)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(dfw); err == nil {
		t.Error("the DFW port still answers after shutdown")
	}
}

// freePortRun finds n consecutive free loopback ports and returns the
// first (they are free when checked; the test uses them right away).
func freePortRun(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		first := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if first+n > 65535 {
			continue
		}
		lns, err := rcbusim.ListenRegions("127.0.0.1", first)
		if err != nil {
			continue
		}
		for _, l := range lns {
			l.Close()
		}
		return first
	}
	t.Fatal("no run of free ports")
	return 0
}

func TestRunSeedFileAndErrors(t *testing.T) {
	identity, stop := startRun(t, "-seed-file", filepath.Join("..", "..", "rcbu", "rcbusim", "testdata", "seed-example.json"), "-agents", "3", "-configs-per-agent", "1")
	token, dfw := catalogLogin(t, identity)
	status, raw := get(t, strings.Replace(dfw, "/dfw/", "/", 1)+"/user/agents", token)
	var agents []map[string]any
	if status != 200 || json.Unmarshal(raw, &agents) != nil || len(agents) != 5 {
		t.Fatalf("agents: %d %s", status, raw)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().(*net.TCPAddr).Port
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"agents":[{"configurations":[{"name":"x","frequency":"Monthly"}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-seed", "big"},
		{"-speed", "0"},
		{"-latency", "fast"},
		{"-latency", "10ms+x"},
		{"-error-rate", "2"},
		{"-hang-rate", "-1"},
		{"-agents", "-1"},
		{"-token-ttl", "0s"},
		{"-seed-file", bad},
		{"-seed-file", filepath.Join(t.TempDir(), "missing.json")},
		{"-addr", "256.0.0.1:1"},
		{"-region-ports", "-1"},
		{"-region-ports", "65533"},
		{"-addr", "127.0.0.1:0", "-region-ports", strconv.Itoa(taken)},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}

func TestParseLatency(t *testing.T) {
	for in, want := range map[string][2]time.Duration{
		"0":         {0, 0},
		"50ms":      {50 * time.Millisecond, 0},
		"50ms+20ms": {50 * time.Millisecond, 20 * time.Millisecond},
		" 1s + 5ms": {time.Second, 5 * time.Millisecond},
	} {
		f, j, err := parseLatency(in)
		if err != nil || f != want[0] || j != want[1] {
			t.Errorf("parseLatency(%q) = %v, %v, %v", in, f, j, err)
		}
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
