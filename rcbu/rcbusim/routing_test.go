package rcbusim

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestRoutingPathForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := itoa(f.agent)
	for _, path := range []string{
		"/v1.0/123456/agent/" + id,
		"/v1.0/agent/" + id,
		"/v1.0/123456/agent/" + id + "/",
		"/v1.0/123456/agent/" + id + ".json",
		"/V1.0/123456/AGENT/" + id,
		"/dfw/v1.0/123456/agent/" + id,
		"/DFW/v1.0/agent/" + id + "/",
		"//v1.0//123456/agent/" + id,
	} {
		t.Run(path, func(t *testing.T) {
			status, raw := send(t, http.MethodGet, f.ts.URL+path, f.c.token, nil)
			if status != 200 {
				t.Fatalf("status %d: %s", status, raw)
			}
			var a obj
			mustUnmarshal(t, raw, &a)
			if num(a["MachineAgentId"]) != f.agent {
				t.Fatalf("got agent %v", a["MachineAgentId"])
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, method, path string
		status             int
		msg                string
		allow              string
	}{
		{"unknown resource", "GET", "/v1.0/123456/nothing", 404, "no such resource", ""},
		{"not under v1.0", "GET", "/v2/123456/agents", 404, "no such resource", ""},
		{"unknown region prefix", "GET", "/xyz/v1.0/123456/user/agents", 404, "no such resource", ""},
		{"non-numeric id", "GET", "/v1.0/123456/agent/abc", 404, "no such resource", ""},
		{"wrong method on list", "DELETE", "/v1.0/123456/user/agents", 405, "not allowed", "GET"},
		{"wrong method on config", "PATCH", "/v1.0/123456/backup-configuration/1", 405, "not allowed", "GET, PUT, DELETE"},
		{"wrong method on restore", "DELETE", "/v1.0/123456/restore", 405, "not allowed", "PUT, POST"},
		{"another tenant in the path", "GET", "/v1.0/654321/user/agents", 403, "access denied", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(tt.method, f.ts.URL+tt.path, nil)
			req.Header.Set("X-Auth-Token", f.c.token)
			rec := httptest.NewRecorder()
			f.ts.ServeHTTP(rec, req)
			expectError(t, rec.Code, rec.Body.Bytes(), tt.status, tt.msg)
			if got := rec.Header().Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestRoutingLiteralsBeforeIDs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var host obj
	f.c.call("GET", "/agent/"+itoa(f.agent), nil, 200, &host)
	var byHost obj
	f.c.call("GET", "/agent/server/"+host["HostServerId"].(string), nil, 200, &byHost)
	if num(byHost["MachineAgentId"]) != f.agent {
		t.Fatalf("agent/server resolved %v", byHost["MachineAgentId"])
	}
	var level string
	f.c.call("GET", "/agent/logging/"+itoa(f.agent), nil, 200, &level)
	if level != "Warn" {
		t.Fatalf("log level %q", level)
	}
	var avail []obj
	f.c.call("GET", "/backup/availableforrestore", nil, 200, &avail)
	var cfgs []obj
	f.c.call("GET", "/backup-configuration/system/"+itoa(f.agent), nil, 200, &cfgs)
	if len(cfgs) != 1 {
		t.Fatalf("configs of agent: %d", len(cfgs))
	}
}

func TestRegionalEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if got := agentNames(f.c.in(f.ts.EndpointURL("DFW"))); !slices.Equal(got, []string{"web-01"}) {
		t.Errorf("DFW agents %v", got)
	}
	if got := agentNames(f.c.in(f.ts.EndpointURL("ORD"))); !slices.Equal(got, []string{"files-01"}) {
		t.Errorf("ORD agents %v", got)
	}
	if got := agentNames(f.c.in(f.ts.EndpointURL("LON"))); len(got) != 0 {
		t.Errorf("LON agents %v", got)
	}
	if got := agentNames(f.c); !slices.Equal(got, []string{"files-01", "web-01"}) {
		t.Errorf("region-less agents %v", got)
	}
	// An agent of another region is not found on a regional endpoint.
	status, raw := f.c.in(f.ts.EndpointURL("ORD")).do("GET", "/agent/"+itoa(f.agent), nil)
	expectError(t, status, raw, 404, "not found")
	status, raw = f.c.in(f.ts.EndpointURL("ORD")).do("GET", "/backup-configuration/"+itoa(f.config), nil)
	expectError(t, status, raw, 404, "not found")
}

// TestRegionListeners serves each region on its own loopback listener: the
// catalog lists http://127.0.0.1:PORT/v1.0/{tenant}, each listener is its
// region without a path prefix, and it serves neither Identity nor
// prefixes; the main listener keeps both.
func TestRegionListeners(t *testing.T) {
	t.Parallel()
	lns, err := ListenRegions("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, WithRegionListeners(lns))
	base := map[string]string{}
	for r, ln := range lns {
		base[r] = "http://" + ln.Addr().String()
	}

	status, raw := send(t, "POST", f.ts.IdentityURL, "", map[string]any{
		"auth": map[string]any{"RAX-KSKEY:apiKeyCredentials": map[string]string{"username": DemoUser, "apiKey": DemoAPIKey}},
	})
	if status != 200 {
		t.Fatalf("login: %d %s", status, raw)
	}
	var access struct {
		Access struct {
			ServiceCatalog []struct {
				Type      string
				Endpoints []struct{ Region, PublicURL string }
			}
		}
	}
	mustUnmarshal(t, raw, &access)
	got := map[string]string{}
	for _, svc := range access.Access.ServiceCatalog {
		if svc.Type == "rax:backup" {
			for _, ep := range svc.Endpoints {
				got[ep.Region] = ep.PublicURL
			}
		}
	}
	for _, r := range Regions() {
		if want := base[r] + "/v1.0/" + DemoTenant; got[r] != want {
			t.Errorf("catalog %s = %q, want %q", r, got[r], want)
		}
	}
	if want := f.ts.URL + "/v1.0/" + DemoTenant; got[""] != want {
		t.Errorf("region-less catalog entry = %q, want %q", got[""], want)
	}

	dfw, ord := f.c.in(got["DFW"]), f.c.in(got["ORD"])
	if n := agentNames(dfw); !slices.Equal(n, []string{"web-01"}) {
		t.Errorf("DFW listener agents %v", n)
	}
	if n := agentNames(ord); !slices.Equal(n, []string{"files-01"}) {
		t.Errorf("ORD listener agents %v", n)
	}
	// Another region's ids are not found, as with prefixes.
	status, raw = ord.do("GET", "/agent/"+itoa(f.agent), nil)
	expectError(t, status, raw, 404, "not found")
	status, raw = ord.do("GET", "/backup-configuration/"+itoa(f.config), nil)
	expectError(t, status, raw, 404, "not found")
	// A regional listener has no Identity and no prefixes.
	if status, raw = send(t, "POST", base["DFW"]+"/v2.0/tokens", "", `{}`); status != 404 {
		t.Errorf("identity on the DFW listener: %d %s", status, raw)
	}
	if status, raw = send(t, "GET", base["DFW"]+"/dfw/v1.0/"+DemoTenant+"/user/agents", f.c.token, nil); status != 404 {
		t.Errorf("prefix on the DFW listener: %d %s", status, raw)
	}
	status, raw = send(t, "GET", base["DFW"]+"/", "", nil)
	if status != 200 || !strings.Contains(string(raw), `"href":"`+base["DFW"]+`/v1.0/"`) {
		t.Errorf("versions on the DFW listener: %d %s", status, raw)
	}
	// The main listener keeps its prefixes.
	if n := agentNames(f.c.in(f.ts.URL + "/ord/v1.0/" + DemoTenant)); !slices.Equal(n, []string{"files-01"}) {
		t.Errorf("ORD prefix agents %v", n)
	}

	if err := f.ts.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(base["DFW"] + "/"); err == nil {
		t.Error("the DFW listener still answers after Close")
	}
}

func TestRegionListenersBadInput(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := New(WithRegionListeners(map[string]net.Listener{"XYZ": ln}))
	defer srv.Close()
	if err := srv.Err(); err == nil || !strings.Contains(err.Error(), `"XYZ"`) {
		t.Errorf("Err() = %v, want one naming the unknown region", err)
	}
	// A taken port makes ListenRegions fail.
	if _, err := ListenRegions("127.0.0.1", ln.Addr().(*net.TCPAddr).Port); err == nil {
		t.Error("ListenRegions on a taken port succeeded")
	}
}

func TestVersions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	status, raw := send(t, "GET", ts.URL+"/dfw/", "", nil)
	if status != 200 || !strings.Contains(string(raw), `"v1.0"`) {
		t.Fatalf("versions: %d %s", status, raw)
	}
}

func TestSplitPath(t *testing.T) {
	t.Parallel()
	tests := map[string][]string{
		"/":                                {},
		"/v1.0/123/agent/5.json":           {"v1.0", "123", "agent", "5"},
		"/V1.0//User/Agents/":              {"v1.0", "user", "agents"},
		"/v1.0/backup/.json":               {"v1.0", "backup"},
		"/dfw/v1.0/x/backup-configuration": {"dfw", "v1.0", "x", "backup-configuration"},
	}
	for in, want := range tests {
		if got := splitPath(nil, in); !slices.Equal(got, want) {
			t.Errorf("splitPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// agentNames lists the agents a client sees, by name, sorted.
func agentNames(c *apiClient) []string {
	var list []obj
	c.call("GET", "/user/agents", nil, 200, &list)
	var out []string
	for _, a := range list {
		out = append(out, a["MachineName"].(string))
	}
	slices.Sort(out)
	return out
}
