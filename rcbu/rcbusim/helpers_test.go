package rcbusim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// apiClient is a minimal RCBU client for the tests: it authenticates over
// HTTP and calls one endpoint.
type apiClient struct {
	t     testing.TB
	ts    *testServer
	token string
	base  string // endpoint URL, e.g. ts.URL + "/v1.0/123456"
}

func login(t testing.TB, ts *testServer, user, apiKey string) *apiClient {
	t.Helper()
	status, body := send(t, http.MethodPost, ts.IdentityURL, "", map[string]any{
		"auth": map[string]any{"RAX-KSKEY:apiKeyCredentials": map[string]string{"username": user, "apiKey": apiKey}},
	})
	if status != http.StatusOK {
		t.Fatalf("login %s: status %d: %s", user, status, body)
	}
	var resp struct {
		Access struct {
			Token struct {
				ID     string `json:"id"`
				Tenant struct {
					ID string `json:"id"`
				} `json:"tenant"`
			} `json:"token"`
		} `json:"access"`
	}
	mustUnmarshal(t, body, &resp)
	return &apiClient{t: t, ts: ts, token: resp.Access.Token.ID, base: ts.URL + "/v1.0/" + resp.Access.Token.Tenant.ID}
}

func demo(t testing.TB, ts *testServer) *apiClient { return login(t, ts, DemoUser, DemoAPIKey) }

// in returns a copy of the client that talks to another endpoint base.
func (c *apiClient) in(base string) *apiClient {
	cp := *c
	cp.base = base
	return &cp
}

func send(t testing.TB, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// do calls path (relative to the endpoint) and returns status and body.
func (c *apiClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	return send(c.t, method, c.base+path, c.token, body)
}

// call expects status want and decodes the body into out (when non-nil).
func (c *apiClient) call(method, path string, body any, want int, out any) []byte {
	c.t.Helper()
	status, raw := c.do(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	if out != nil {
		mustUnmarshal(c.t, raw, out)
	}
	return raw
}

func mustUnmarshal(t testing.TB, raw []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

// obj is a decoded JSON object.
type obj = map[string]any

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// expectError checks status and a {"Message": ...} body containing want.
func expectError(t testing.TB, status int, raw []byte, wantStatus int, want string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, raw)
	}
	var e struct{ Message string }
	if err := json.Unmarshal(raw, &e); err != nil || e.Message == "" {
		t.Fatalf("error body %q is not {\"Message\": ...}", raw)
	}
	if !strings.Contains(e.Message, want) {
		t.Fatalf("message %q does not mention %q", e.Message, want)
	}
}

// fixture is a tenant-123456 estate most tests start from.
type fixture struct {
	ts       *testServer
	c        *apiClient
	agent    int64 // online Linux agent in DFW
	winAgent int64 // online Windows agent in ORD
	config   int64 // Daily config on agent
}

func newFixture(t testing.TB, opts ...Option) *fixture {
	t.Helper()
	ts := newTestServer(t, opts...)
	f := &fixture{ts: ts}
	f.agent = ts.AddAgent(DemoTenant, AgentSeed{Name: "web-01", Datacenter: "DFW", Online: true})
	f.winAgent = ts.AddAgent(DemoTenant, AgentSeed{Name: "files-01", OS: "Windows Server 2019", Datacenter: "ORD", Online: true})
	var err error
	f.config, err = ts.AddConfiguration(DemoTenant, ConfigurationSeed{
		AgentID: f.agent, Name: "nightly", Frequency: "Daily", Hour: 2, Minute: 15, AmPm: "AM",
		TimeZone: "UTC", Inclusions: []string{"/var/www"}, VersionRetention: 30, DataBytes: 3 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.c = demo(t, ts)
	return f
}

func configBody(agent int64, name string) obj {
	return obj{
		"MachineAgentId": agent, "BackupConfigurationName": name, "IsActive": true,
		"VersionRetention": 30, "MissedBackupActionId": 2, "Frequency": "Daily",
		"StartTimeHour": 7, "StartTimeMinute": 30, "StartTimeAmPm": "PM",
		"DayOfWeekId": nil, "HourInterval": nil, "TimeZoneId": "Eastern Standard Time",
		"NotifyRecipients": "ops@example.org", "NotifySuccess": false, "NotifyFailure": true,
		"Inclusions": []obj{{"FilePath": "/var/www", "FileItemType": "Folder"}},
		"Exclusions": []obj{{"FilePath": "/var/www/cache", "FileItemType": "Folder"}},
	}
}

// startBackup starts a manual backup of config and returns its id.
func (c *apiClient) startBackup(config int64) int64 {
	c.t.Helper()
	raw := c.call(http.MethodPost, "/backup/action-requested", obj{"Action": "StartManual", "Id": config}, http.StatusOK, nil)
	var id int64
	mustUnmarshal(c.t, raw, &id)
	return id
}

func (c *apiClient) backupState(id int64) string {
	c.t.Helper()
	var b obj
	c.call(http.MethodGet, "/backup/"+itoa(id), nil, http.StatusOK, &b)
	return b["CurrentState"].(string)
}

func itoa(n int64) string { return strings.TrimSpace(string(jsonInt(n))) }

// testEpoch is the fixed instant unit tests start from.
var testEpoch = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

// loginDirect authenticates without a listener (benchmarks, fuzzing).
func loginDirect(t testing.TB, srv *Server) string {
	t.Helper()
	req := httptest.NewRequest("POST", "/v2.0/tokens", strings.NewReader(`{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":"demo","apiKey":"demo-api-key"}}}`))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var resp struct {
		Access struct {
			Token struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"access"`
	}
	mustUnmarshal(t, rec.Body.Bytes(), &resp)
	return resp.Access.Token.ID
}
