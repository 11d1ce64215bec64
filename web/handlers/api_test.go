package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// apiEnv is testEnv with the API's dependencies: tokens, history, health
// over the snapshots, and metrics with the given access options.
type apiEnv struct {
	*testEnv
	tokens  *app.Tokens
	history *app.History
	metrics *metrics.Metrics
	made    int // tokens made, for unique names
}

func newAPIEnv(t *testing.T, mo metrics.Options) *apiEnv {
	t.Helper()
	te, deps := buildTestEnv(t, envOptions{metrics: mo})
	return &apiEnv{testEnv: te, tokens: deps.Tokens, history: deps.History, metrics: deps.Metrics}
}

// token creates a personal access token for the user of role.
func (ae *apiEnv) token(t *testing.T, role app.Role) string {
	t.Helper()
	ae.made++
	_, secret, err := ae.tokens.Create(context.Background(), ae.byRole[role], app.TokenRequest{Name: "test " + strconv.Itoa(ae.made), ExpiresInDays: "30"})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// apiGet GETs path with the bearer token (none when empty).
func (ae *apiEnv) apiGet(path, token string) *httptest.ResponseRecorder {
	ae.t.Helper()
	r := req{path: path, headers: map[string]string{}}
	if token != "" {
		r.headers["Authorization"] = "Bearer " + token
	}
	return ae.do(r)
}

// decode parses a JSON body into v, failing on anything but JSON.
func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, rec.Body.String())
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
}

// jsonError returns the error message of a JSON error body.
func jsonError(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Error string }
	decode(t, rec, &e)
	if e.Error == "" {
		t.Fatalf("no error message in %s", rec.Body.String())
	}
	return e.Error
}

// TestAPIRoutesAuthenticateWithTokens walks every bearer route: no token,
// a cookie only, a garbled token → 401 JSON with a challenge; each role's
// token → the answer, in JSON.
func TestAPIRoutesAuthenticateWithTokens(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	var bearer []routePolicy
	for _, p := range ae.routes.list() {
		if p.Auth == authBearer {
			bearer = append(bearer, p)
		}
	}
	if len(bearer) < 5 {
		t.Fatalf("only %d bearer routes", len(bearer))
	}
	cookie := ae.loginRole(app.RoleAdmin)
	tokens := map[app.Role]string{}
	for _, r := range app.Roles() {
		tokens[r] = ae.token(t, r)
	}
	for _, p := range bearer {
		path := concretePath(p.Path)
		t.Run(path, func(t *testing.T) {
			for name, r := range map[string]req{
				"no token":      {path: path},
				"cookie only":   {path: path, cookie: cookie},
				"garbled token": {path: path, headers: map[string]string{"Authorization": "Bearer " + tokens[app.RoleAdmin] + "x"}},
				"basic auth":    {path: path, headers: map[string]string{"Authorization": "Basic YWRtaW46cGFzc3dvcmQ="}},
			} {
				rec := ae.do(r)
				if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("%s: status %d, WWW-Authenticate %q; want 401 with a challenge", name, rec.Code, rec.Header().Get("WWW-Authenticate"))
					continue
				}
				if msg := jsonError(t, rec); !strings.Contains(msg, "token") {
					t.Errorf("%s: message %q", name, msg)
				}
				if sessionCookieOf(rec) != nil {
					t.Errorf("%s: the API set a session cookie", name)
				}
			}
			for _, role := range app.Roles() {
				rec := ae.apiGet(path, tokens[role])
				switch {
				case !role.Allows(p.Min):
					if rec.Code != http.StatusForbidden {
						t.Errorf("%s: status %d, want 403", role, rec.Code)
					}
				case strings.HasSuffix(p.Path, "*"):
					if rec.Code != http.StatusNotFound {
						t.Errorf("%s: unknown endpoint status %d, want 404", role, rec.Code)
					}
					jsonError(t, rec)
				default:
					if rec.Code != http.StatusOK {
						t.Errorf("%s: status %d\n%s", role, rec.Code, rec.Body.String())
					}
					var v map[string]any
					decode(t, rec, &v)
				}
			}
		})
	}
}

// TestAPIRoleBelowMinimumIs403 checks the role gate of bearerAuth itself,
// which the real routes (all Observer) cannot reach.
func TestAPIRoleBelowMinimumIs403(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	s := &server{Deps: Deps{Log: quietLog(), Tokens: ae.tokens}}
	e := echo.New()
	e.GET("/admin-only", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]bool{"ok": true}) }, s.apiErrors, s.bearerAuth(app.RoleAdmin))
	for role, want := range map[app.Role]int{app.RoleObserver: 403, app.RoleCreator: 403, app.RoleAdmin: 200} {
		r := httptest.NewRequest(http.MethodGet, "/admin-only", nil)
		r.Header.Set("Authorization", "bearer "+ae.token(t, role)) // the scheme is case-insensitive
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d (%s)", role, rec.Code, want, rec.Body.String())
		}
		if want == 403 && !strings.Contains(jsonError(t, rec), "role") {
			t.Errorf("%s: message %q", role, rec.Body.String())
		}
	}
}

// TestAPITokenFollowsItsUser: a token acts as its user, stops when the
// user is disabled (and stays revoked), and expires.
func TestAPITokenFollowsItsUser(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ctx := context.Background()
	obs := ae.byRole[app.RoleObserver]
	tok := ae.token(t, app.RoleObserver)
	if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusOK {
		t.Fatalf("enabled user: %d", rec.Code)
	}
	if err := ae.users.SetDisabled(ctx, ae.byRole[app.RoleAdmin], obs.ID, true); err != nil {
		t.Fatal(err)
	}
	if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusUnauthorized {
		t.Fatalf("disabled user: %d, want 401", rec.Code)
	}
	if err := ae.users.SetDisabled(ctx, ae.byRole[app.RoleAdmin], obs.ID, false); err != nil {
		t.Fatal(err)
	}
	// Disabling revoked the token for good: enabling the user again does
	// not bring it back.
	if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusUnauthorized {
		t.Fatalf("enabled again: %d, want 401 (the token was revoked)", rec.Code)
	}
	tok = ae.token(t, app.RoleObserver)
	if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusOK {
		t.Fatalf("a new token: %d", rec.Code)
	}
	ae.clock.Advance(31 * 24 * time.Hour)
	if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", rec.Code)
	}
}

// seedFleet adds to the simulator an agent with four configurations, and
// stores report snapshots: "stale" last succeeded 3 days ago (overdue),
// "fresh" 2 h ago, "failing" failed after a success 30 min ago; "manual"
// never ran. It returns the configuration ids by name.
func (ae *apiEnv) seedFleet(t *testing.T) (rcbu.AgentID, map[string]rcbu.ConfigurationID) {
	t.Helper()
	agent := ae.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", OS: "Ubuntu", Datacenter: "DFW", Online: true, IP: "10.0.0.5"})
	ids := map[string]rcbu.ConfigurationID{}
	for _, c := range []struct{ name, freq string }{{"stale", "Daily"}, {"fresh", "Daily"}, {"failing", "Hourly"}, {"manual", "Manually"}} {
		id, err := ae.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: c.name, Frequency: c.freq, Hour: 2, HourInterval: 1, Inclusions: []string{"/etc"}})
		if err != nil {
			t.Fatal(err)
		}
		ids[c.name] = rcbu.ConfigurationID(id)
	}
	now := ae.clock.Now()
	var job int64
	snap := func(cfg, state string, ago time.Duration, bytes int64) app.Report {
		job++
		return app.Report{AccountID: ae.demo.ID, Kind: app.KindBackup, JobID: job, AgentID: rcbu.AgentID(agent), AgentName: "web-01",
			ConfigID: ids[cfg], ConfigName: cfg, State: state, Started: now.Add(-ago - time.Minute), Finished: now.Add(-ago), BytesBackedUp: bytes, Fetched: now}
	}
	if _, err := ae.store.InsertReports(context.Background(), []app.Report{
		snap("stale", "Completed", 72*time.Hour, 10),
		snap("fresh", "Completed", 2*time.Hour, 3000),
		snap("failing", "Completed", 30*time.Minute, 5),
		snap("failing", "Failed", 10*time.Minute, 0),
	}); err != nil {
		t.Fatal(err)
	}
	return rcbu.AgentID(agent), ids
}

func TestAPIAgentsConfigurationsOverdue(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	agent, ids := ae.seedFleet(t)
	tok := ae.token(t, app.RoleObserver)

	var agents struct {
		Agents []struct {
			AccountID app.AccountID `json:"account_id"`
			ID        rcbu.AgentID  `json:"id"`
			Name      string        `json:"name"`
			Status    string        `json:"status"`
			IPAddress string        `json:"ip_address"`
		}
		Problems []apiProblem
	}
	rec := ae.apiGet("/api/v1/agents", tok)
	decode(t, rec, &agents)
	if rec.Code != http.StatusOK || len(agents.Agents) != 1 || agents.Agents[0].ID != agent || agents.Agents[0].Name != "web-01" ||
		agents.Agents[0].Status != "Online" || agents.Agents[0].AccountID != ae.demo.ID || len(agents.Problems) != 0 {
		t.Fatalf("agents: %d %+v", rec.Code, agents)
	}

	type cfgJSON struct {
		ID             rcbu.ConfigurationID `json:"id"`
		Name           string               `json:"name"`
		AgentID        rcbu.AgentID         `json:"agent_id"`
		LastState      string               `json:"last_state"`
		LastSuccess    *string              `json:"last_success"`
		LastBytes      *int64               `json:"last_backed_up_bytes"`
		Overdue        bool                 `json:"overdue"`
		OverdueSeconds int64                `json:"overdue_seconds"`
	}
	var cfgs struct{ Configurations []cfgJSON }
	rec = ae.apiGet("/api/v1/configurations", tok)
	decode(t, rec, &cfgs)
	got := map[string]cfgJSON{}
	for _, c := range cfgs.Configurations {
		got[c.Name] = c
	}
	if len(got) != 4 {
		t.Fatalf("configurations: %s", rec.Body.String())
	}
	if c := got["stale"]; !c.Overdue || c.OverdueSeconds != int64((72*time.Hour-24*time.Hour)/time.Second) || c.LastState != "Completed" || c.LastBytes == nil || *c.LastBytes != 10 {
		t.Errorf("stale = %+v", c)
	}
	if c := got["failing"]; c.Overdue || c.LastState != "Failed" || c.LastSuccess == nil || *c.LastSuccess != ae.clock.Now().Add(-30*time.Minute).UTC().Format(time.RFC3339) {
		t.Errorf("failing = %+v", c)
	}
	if c := got["manual"]; c.Overdue || c.LastState != "" || c.LastSuccess != nil || c.LastBytes != nil {
		t.Errorf("manual = %+v", c)
	}

	var overdue struct{ Configurations []cfgJSON }
	decode(t, ae.apiGet("/api/v1/overdue", tok), &overdue)
	if len(overdue.Configurations) != 1 || overdue.Configurations[0].ID != ids["stale"] {
		t.Fatalf("overdue = %+v", overdue)
	}
	// The agent filter, and the account filter with an unknown id.
	decode(t, ae.apiGet("/api/v1/configurations?agent=1", tok), &cfgs)
	if len(cfgs.Configurations) != 0 {
		t.Errorf("agent=1: %+v", cfgs)
	}
	decode(t, ae.apiGet("/api/v1/configurations?agent="+strconv.FormatInt(int64(agent), 10)+"&account="+ae.demo.ID.String(), tok), &cfgs)
	if len(cfgs.Configurations) != 4 {
		t.Errorf("agent and account filters: %+v", cfgs)
	}
	for _, path := range []string{"/api/v1/configurations?account=999", "/api/v1/agents?account=x", "/api/v1/overdue?agent=-1", "/api/v1/configurations?agent=abc"} {
		rec := ae.apiGet(path, tok)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", path, rec.Code)
			continue
		}
		jsonError(t, rec)
	}
}

func TestAPIAccountProblemsAreReported(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ae.seedFleet(t)
	for range 20 { // every regional endpoint; 500 is not retried
		ae.sim.FailNext(rcbusim.OpListConfigurations, http.StatusInternalServerError)
	}
	var v struct {
		Configurations []map[string]any
		Problems       []apiProblem
	}
	rec := ae.apiGet("/api/v1/configurations", ae.token(t, app.RoleObserver))
	decode(t, rec, &v)
	if rec.Code != http.StatusOK || len(v.Configurations) != 0 || len(v.Problems) != 1 || v.Problems[0].AccountID != ae.demo.ID || v.Problems[0].Message == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

// seedReports stores n backup reports, one a minute, alternating states.
func (ae *apiEnv) seedReports(t *testing.T, n int) {
	t.Helper()
	now := ae.clock.Now()
	rs := make([]app.Report, n)
	for i := range rs {
		state := "Completed"
		if i%3 == 0 {
			state = "Failed"
		}
		rs[i] = app.Report{AccountID: ae.demo.ID, Kind: app.KindBackup, JobID: int64(i + 1), AgentID: 7, AgentName: "web-" + strconv.Itoa(i%2),
			ConfigID: rcbu.ConfigurationID(100 + i%4), ConfigName: "cfg", State: state, Started: now.Add(-time.Duration(i+2) * time.Minute),
			Finished: now.Add(-time.Duration(i+1) * time.Minute), BytesBackedUp: int64(i % 5), Fetched: now}
	}
	if _, err := ae.store.InsertReports(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

type reportsJSON struct {
	Reports []struct {
		ID       int64   `json:"id"`
		JobID    int64   `json:"job_id"`
		State    string  `json:"state"`
		Finished *string `json:"finished"`
		Bytes    int64   `json:"bytes_backed_up"`
		Config   int64   `json:"configuration_id"`
	}
	Next       *string `json:"next"`
	NextCursor *string `json:"next_cursor"`
}

func TestAPIReportsPagesWithCursors(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ae.seedReports(t, 23)
	tok := ae.token(t, app.RoleObserver)

	for _, tc := range []struct {
		name  string
		query string
		want  []int64 // job ids in order
	}{
		{"newest first", "limit=5", seq(1, 23)},
		{"oldest first", "limit=7&dir=asc", rev(seq(1, 23))},
		{"failed only, by bytes", "state=failed&sort=bytes&limit=3", []int64{10, 19, 4, 13, 22, 7, 16, 1}},
		{"one configuration", "config=101&limit=2", []int64{2, 6, 10, 14, 18, 22}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var jobs []int64
			path := "/api/v1/reports?" + tc.query
			for pages := 0; path != ""; pages++ {
				if pages > 30 {
					t.Fatal("too many pages")
				}
				var v reportsJSON
				rec := ae.apiGet(path, tok)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
				}
				decode(t, rec, &v)
				for _, r := range v.Reports {
					jobs = append(jobs, r.JobID)
				}
				path = ""
				if v.Next != nil {
					path = *v.Next
					if v.NextCursor == nil || !strings.Contains(path, "cursor="+url.QueryEscape(*v.NextCursor)) {
						t.Fatalf("next %q does not carry next_cursor %v", path, v.NextCursor)
					}
				}
			}
			if diff := cmp.Diff(tc.want, jobs); diff != "" {
				t.Fatalf("job ids over all pages (-want +got):\n%s", diff)
			}
		})
	}
}

// seq returns from..to.
func seq(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func rev(s []int64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestAPIReportsBadFiltersAre400(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	ae.seedReports(t, 3)
	tok := ae.token(t, app.RoleObserver)
	var first reportsJSON
	decode(t, ae.apiGet("/api/v1/reports?limit=1", tok), &first)
	if first.NextCursor == nil {
		t.Fatal("no cursor")
	}
	for _, q := range []string{
		"agent=abc", "config=-3", "kind=cleanup", "state=Exploded", "from=yesterday", "to=2026-13-01",
		"from=2026-03-02&to=2026-03-01", "errors=maybe", "q=" + strings.Repeat("x", 201), "sort=color", "dir=up",
		"limit=0", "limit=501", "limit=ten", "cursor=!!!", "cursor=" + *first.NextCursor + "&sort=bytes",
		"cursor=" + *first.NextCursor + "&dir=asc", "account=77",
	} {
		t.Run(q, func(t *testing.T) {
			rec := ae.apiGet("/api/v1/reports?"+q, tok)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body.String())
			}
			name, _, _ := strings.Cut(q, "=")
			if msg := jsonError(t, rec); !strings.Contains(msg, name) && !strings.Contains(msg, "to") {
				t.Fatalf("message %q does not name %s", msg, name)
			}
		})
	}
	// Good values of the same filters pass.
	for _, q := range []string{"kind=backup&state=Completed&errors=false&from=2026-03-01&to=2026-03-03T00:00:00Z&q=disk&sort=agent&dir=asc&limit=500"} {
		if rec := ae.apiGet("/api/v1/reports?"+q, tok); rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", q, rec.Code, rec.Body.String())
		}
	}
}
