package handlers

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// grantEnv is the console with two Rackspace accounts, A (the demo tenant)
// and B (the simulator's other tenant), and users limited to A: one per
// role a grant can carry.
type grantEnv struct {
	*testEnv
	a, b   app.Account
	onA    map[app.Role]app.User // Observer on A, Creator on A
	ids    map[string][2]string  // per object kind: an id of A's, an id of B's
	tokens *app.Tokens
}

// objectIDs returns an agent, a configuration and a backup of the account
// whose client is c, the backup started and run to its end.
func (te *testEnv) objectIDs(t *testing.T, c *rcbu.Client) (agent, config, backup string) {
	t.Helper()
	ctx := t.Context()
	cfgs, err := c.Configurations.List(ctx)
	if err != nil || len(cfgs) == 0 {
		t.Fatalf("configurations: %v, %d", err, len(cfgs))
	}
	cfg := cfgs[0]
	for _, cf := range cfgs {
		if !cf.IsDeleted && cf.IsActive {
			cfg = cf
			break
		}
	}
	b, err := c.Backups.Start(ctx, cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(int64(cfg.AgentID), 10), strconv.FormatInt(int64(cfg.ID), 10), strconv.FormatInt(int64(b.ID), 10)
}

func newGrantEnv(t *testing.T) *grantEnv {
	t.Helper()
	return newGrantEnvWith(t, envOptions{})
}

func newGrantEnvWith(t *testing.T, opts envOptions) *grantEnv {
	t.Helper()
	te, deps := buildTestEnv(t, opts)
	ctx := context.Background()
	admin := te.byRole[app.RoleAdmin]
	b, err := te.accounts.Create(ctx, admin, app.AccountRequest{Name: "Globex", Username: rcbusim.OtherUser, Kind: string(app.CredentialAPIKey),
		Secret: rcbusim.OtherAPIKey, IdentityURL: te.sim.IdentityURL})
	if err != nil {
		t.Fatal(err)
	}
	ge := &grantEnv{testEnv: te, a: te.demo, b: b, onA: map[app.Role]app.User{}, ids: map[string][2]string{}, tokens: deps.Tokens}
	for _, r := range []app.Role{app.RoleObserver, app.RoleCreator} {
		u, err := te.users.Create(ctx, admin, app.NewUserRequest{Email: r.String() + "-on-a@example.com", Role: "observer", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		if err := te.users.SetAccess(ctx, admin, u.ID, app.OnlyAccounts(app.Grant{Account: te.demo.ID, Role: r})); err != nil {
			t.Fatal(err)
		}
		ge.onA[r], _ = te.users.Get(ctx, u.ID)
	}
	cb, err := te.accounts.Client(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	seedAgent(t, te, "web-a", "nightly-a")
	agA, cfgA, bkA := te.objectIDs(t, te.fleetClient(t))
	agB, cfgB, bkB := te.objectIDs(t, cb)
	te.advance(10 * time.Minute)
	for _, acct := range []app.AccountID{te.demo.ID, b.ID} {
		if _, err := app.NewSyncer(te.history, te.accounts, app.SyncOptions{}).SyncAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	}
	ge.ids["agent"] = [2]string{agA, agB}
	ge.ids["configuration"] = [2]string{cfgA, cfgB}
	ge.ids["backup"] = [2]string{bkA, bkB}
	clients := [2]*rcbu.Client{te.fleetClient(t), cb}
	accts := [2]app.AccountID{te.demo.ID, b.ID}
	var restores, incidents, channels [2]string
	for i, acct := range accts {
		restores[i] = ge.restoreOf(t, clients[i], ge.ids["agent"][i], ge.ids["backup"][i])
		incidents[i] = ge.incidentOf(t, deps.Alerts, acct, int64(9100+i))
		ch, err := deps.Alerts.CreateChannel(ctx, admin, acct, app.ChannelRequest{Name: "ops hook", Kind: "webhook", Enabled: true, URL: "https://hooks.example.com/rcbu", Secret: "a signing secret of the hook"})
		if err != nil {
			t.Fatal(err)
		}
		channels[i] = strconv.FormatInt(int64(ch.ID), 10)
	}
	ge.ids["restore"], ge.ids["incident"], ge.ids["channel"] = restores, incidents, channels
	return ge
}

// restoreOf creates (does not start) a restore of the account's backup to
// its own agent and returns its id.
func (ge *grantEnv) restoreOf(t *testing.T, c *rcbu.Client, agent, backup string) string {
	t.Helper()
	ag, _ := strconv.ParseInt(agent, 10, 64)
	bk, _ := strconv.ParseInt(backup, 10, 64)
	r, err := c.Restores.Create(t.Context(), &rcbu.RestoreRequest{BackupID: rcbu.BackupID(bk), BackupAgentID: rcbu.AgentID(ag),
		DestinationAgentID: rcbu.AgentID(ag), DestinationPath: "/srv/restored"})
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatInt(int64(r.ID), 10)
}

// incidentOf stores a failed backup report in the account, lets the alert
// rules open its incident and returns the incident's id.
func (ge *grantEnv) incidentOf(t *testing.T, al *app.Alerts, acct app.AccountID, job int64) string {
	t.Helper()
	now := ge.clock.Now()
	rep := app.Report{AccountID: acct, Kind: app.KindBackup, JobID: job, AgentID: 77, AgentName: "db-01", ConfigID: 977, ConfigName: "mysql dumps",
		BackupID: rcbu.BackupID(job), State: "Failed", Started: now.Add(-2 * time.Hour), Finished: now.Add(-time.Hour), ErrorCount: 1, Raw: []byte(`{}`), Fetched: now,
		Errors: []app.ReportErrorEntry{{Path: "/var/lib/mysql/ibdata1", Description: "Access denied"}}}
	if _, err := ge.store.InsertReports(t.Context(), []app.Report{rep}); err != nil {
		t.Fatal(err)
	}
	if _, err := al.Evaluate(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	p, err := al.ListIncidents(t.Context(), app.IncidentQuery{Accounts: []app.AccountID{acct}, Rule: app.RuleBackupFailed})
	if err != nil {
		t.Fatal(err)
	}
	for _, inc := range p.Incidents {
		if inc.JobID == job {
			return strconv.FormatInt(int64(inc.ID), 10)
		}
	}
	t.Fatalf("no incident about backup %d of account %d", job, acct)
	return ""
}

// grantCase says how a route's objects belong to accounts.
type grantCase struct {
	// kind is the object the route's :id names ("agent", "configuration",
	// "backup", "restore", "incident", "channel"), whose id of account A and
	// of account B the walk uses; "" for a route whose objects belong to no
	// account (the user's own profile and tokens, the admins' pages) or that
	// takes no id.
	kind string
}

// routeKind returns the grant case of a route path. A route whose path
// fits none fails TestEveryRouteFollowsGrants: decide which account its
// objects belong to and add it here.
func routeKind(path string) (grantCase, bool) {
	switch {
	case strings.HasPrefix(path, "/agents/:id"):
		return grantCase{kind: "agent"}, true
	case strings.HasPrefix(path, "/configurations/:id"):
		return grantCase{kind: "configuration"}, true
	case strings.HasPrefix(path, "/backups/:id"):
		return grantCase{kind: "backup"}, true
	case path == "/reports/:kind/:id":
		return grantCase{kind: "backup"}, true
	case strings.HasPrefix(path, "/restores/:id"):
		return grantCase{kind: "restore"}, true
	case strings.HasPrefix(path, "/alerts/incidents/:id"):
		return grantCase{kind: "incident"}, true
	case strings.HasPrefix(path, "/alerts/channels/:id"):
		return grantCase{kind: "channel"}, true
	case strings.HasPrefix(path, "/admin/users/:id"),
		strings.HasPrefix(path, "/admin/accounts/:id"), strings.HasPrefix(path, "/profile/tokens/:id"),
		strings.HasPrefix(path, app.LinkPath):
		return grantCase{}, true
	case !strings.Contains(path, ":"):
		return grantCase{}, true
	}
	return grantCase{}, false
}

// grantPath fills a route's parameters with the object of account acct (0
// A, 1 B) of the route's kind.
func (ge *grantEnv) grantPath(p string, gc grantCase, acct int) string {
	if gc.kind == "" {
		return concretePath(p)
	}
	p = strings.Replace(p, ":kind", "backup", 1)
	return strings.Replace(p, ":id", ge.ids[gc.kind][acct], 1)
}

// TestEveryRouteFollowsGrants walks every route × role × grant: users with
// Observer or Creator on account A only, against objects of A (allowed as
// their role allows) and of B (404: B does not exist for them).
func TestEveryRouteFollowsGrants(t *testing.T) {
	ge := newGrantEnv(t)
	for _, rt := range ge.e.Routes() {
		if strings.HasSuffix(rt.Name, "echo_route_not_found") || rt.Method == "echo_route_not_found" {
			continue
		}
		pol, ok := ge.routes.policy(rt.Method, rt.Path)
		if !ok || pol.Auth != authSession || pol.Min == public {
			continue // token routes: TestAPIFollowsGrants; public ones need no grant
		}
		gc, ok := routeKind(rt.Path)
		if !ok {
			t.Errorf("%s %s: no grant case; add it to routeKind", rt.Method, rt.Path)
			continue
		}
		for _, role := range []app.Role{app.RoleObserver, app.RoleCreator} {
			u := ge.onA[role]
			for acct, name := range []string{"A", "B"} {
				if gc.kind == "" && acct == 1 {
					continue
				}
				t.Run(rt.Method+" "+rt.Path+" as "+role.String()+" on A, object of "+name, func(t *testing.T) {
					r := req{method: rt.Method, path: ge.grantPath(rt.Path, gc, acct), cookie: ge.login(u.Email)}
					if rt.Method == http.MethodPost {
						// The quick Start names the agent's configuration.
						r.form = map[string][]string{"configuration": {ge.ids["configuration"][acct]}}
					}
					if strings.HasSuffix(rt.Path, "/status") {
						r.headers = map[string]string{"HX-Request": "true"} // a live panel's poll
					}
					rec := ge.do(r)
					switch {
					case rec.Code >= 500:
						t.Errorf("status %d\n%s", rec.Code, rec.Body.String())
					case !role.Allows(pol.Min):
						if rec.Code != http.StatusForbidden {
							t.Errorf("%s below %s: status %d, want 403", role, pol.Min, rec.Code)
						}
					case acct == 1:
						if rec.Code != http.StatusNotFound {
							t.Errorf("an object of B: status %d, want 404", rec.Code)
						}
					default:
						if rec.Code == http.StatusForbidden || rec.Code == http.StatusUnauthorized ||
							rec.Code == http.StatusNotFound && gc.kind != "" ||
							redirectsToLogin(rec) && !strings.Contains(rt.Path, "logout") && !strings.Contains(rt.Path, "sign-out") {
							t.Errorf("an object of A with enough role: status %d, Location %q", rec.Code, rec.Header().Get("Location"))
						}
					}
				})
			}
		}
	}
}

// TestGrantsHideTheOtherAccount: for a user with a grant on A only, B and
// its objects are absent from pages, lists, exports, the switcher and the
// API, and cannot be chosen; an admin sees both.
func TestGrantsHideTheOtherAccount(t *testing.T) {
	ge := newGrantEnv(t)
	obs := ge.login(ge.onA[app.RoleObserver].Email)
	admin := ge.loginRole(app.RoleAdmin)
	for _, p := range []string{"/", "/agents", "/configurations", "/activity", "/reports", "/reports/export.csv", "/alerts", "/profile"} {
		rec := ge.get(p, obs)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", p, rec.Code)
			continue
		}
		for _, hidden := range []string{"Globex", "other-web-01", "other-nightly"} {
			if strings.Contains(rec.Body.String(), hidden) {
				t.Errorf("%s shows %q to a user without a grant on its account", p, hidden)
			}
		}
	}
	if body := ge.get("/agents", obs).Body.String(); !strings.Contains(body, "web-a") {
		t.Error("/agents hides the agent of the granted account")
	}
	if rec := ge.post("/accounts/select", url.Values{"account": {ge.b.ID.String()}}, obs); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("choosing B in the switcher: status %d, want 422", rec.Code)
	}
	if rec := ge.post("/accounts/select", url.Values{"account": {"all"}}, obs); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("choosing all accounts with one granted: status %d, want 422", rec.Code)
	}
	if rec := ge.post("/accounts/select", url.Values{"account": {"all"}}, admin); rec.Code != http.StatusSeeOther {
		t.Fatalf("admin choosing all accounts: status %d", rec.Code)
	}
	if body := ge.get("/agents", admin).Body.String(); !strings.Contains(body, "Globex") || !strings.Contains(body, "other-web-01") {
		t.Error("an admin does not see account B")
	}

	// The API: a token acts with its owner's grants.
	_, secret, err := ge.tokens.Create(t.Context(), ge.onA[app.RoleObserver], app.TokenRequest{Name: "script", ExpiresInDays: "30"})
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + secret}
	for _, p := range []string{"/api/v1/agents", "/api/v1/configurations", "/api/v1/overdue", "/api/v1/reports", "/api/v1/incidents"} {
		rec := ge.do(req{path: p, headers: bearer})
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d %s", p, rec.Code, rec.Body.String())
		}
		if strings.Contains(rec.Body.String(), "other-web-01") || strings.Contains(rec.Body.String(), "other-nightly") {
			t.Errorf("%s shows account B's objects", p)
		}
		if rec := ge.do(req{path: p + "?account=" + ge.b.ID.String(), headers: bearer}); rec.Code != http.StatusBadRequest {
			t.Errorf("%s?account=B: status %d, want 400", p, rec.Code)
		}
	}
	if body := ge.do(req{path: "/api/v1/agents", headers: bearer}).Body.String(); !strings.Contains(body, "web-a") {
		t.Errorf("the API hides A's agent: %s", body)
	}
}

// TestActionsCheckTheRoleOnTheObjectsAccount: a user who is Creator on A
// and Observer on B starts a backup on A and is refused on B, audited.
func TestActionsCheckTheRoleOnTheObjectsAccount(t *testing.T) {
	ge := newGrantEnv(t)
	admin := ge.byRole[app.RoleAdmin]
	u := ge.onA[app.RoleCreator]
	if err := ge.users.SetAccess(t.Context(), admin, u.ID, app.OnlyAccounts(
		app.Grant{Account: ge.a.ID, Role: app.RoleCreator}, app.Grant{Account: ge.b.ID, Role: app.RoleObserver})); err != nil {
		t.Fatal(err)
	}
	ck := ge.login(u.Email)
	if rec := ge.post("/accounts/select", url.Values{"account": {"all"}}, ck); rec.Code != http.StatusSeeOther {
		t.Fatalf("choosing both accounts: status %d", rec.Code)
	}
	ge.advance(time.Hour) // the backups the setup started are over
	// With both accounts shown, Start and Stop follow the row's account:
	// the overview offers Start on A's agent and not on B's.
	d := doc(t, ge.get("/", ck))
	for i, want := range []bool{true, false} {
		row := d.Find(`[data-testid="agent-row"][data-agent-id="` + ge.ids["agent"][i] + `"]`)
		if row.Length() != 1 {
			t.Fatalf("the overview has %d rows of agent %s", row.Length(), ge.ids["agent"][i])
		}
		if got := row.Find(`[data-testid="start-backup"]`).Length() > 0; got != want {
			t.Errorf("the overview offers Start on account %c's agent: %v, want %v", 'A'+i, got, want)
		}
	}
	if rec := ge.post("/configurations/"+ge.ids["configuration"][1]+"/backups", nil, ck); rec.Code != http.StatusForbidden {
		t.Errorf("a backup on B as its Observer: status %d, want 403", rec.Code)
	}
	if e := ge.auditActions(app.ActionBackupStart); len(e) == 0 || e[0].Outcome != app.OutcomeFailed {
		t.Errorf("the refusal was not audited: %+v", e)
	}
	if rec := ge.get("/configurations/"+ge.ids["configuration"][1], ck); rec.Code != http.StatusOK {
		t.Errorf("B's configuration for its Observer: status %d", rec.Code)
	}
	if rec := ge.post("/configurations/"+ge.ids["configuration"][0]+"/backups", nil, ck); rec.Code != http.StatusSeeOther {
		t.Errorf("a backup on A as its Creator: status %d, want 303\n%s", rec.Code, rec.Body.String())
	}
	if e := ge.auditActions(app.ActionBackupStart); len(e) == 0 || e[0].Outcome != app.OutcomeOK {
		t.Errorf("the start on A: %+v", e)
	}
}

// TestRestoreWizardOffersCreatorAccountsOnly: a Creator on A and Observer
// on B restores within A: B's configurations are no source and B's agents
// no destination.
func TestRestoreWizardOffersCreatorAccountsOnly(t *testing.T) {
	ge := newGrantEnv(t)
	u := ge.onA[app.RoleCreator]
	if err := ge.users.SetAccess(t.Context(), ge.byRole[app.RoleAdmin], u.ID, app.OnlyAccounts(
		app.Grant{Account: ge.a.ID, Role: app.RoleCreator}, app.Grant{Account: ge.b.ID, Role: app.RoleObserver})); err != nil {
		t.Fatal(err)
	}
	ck := ge.login(u.Email)
	if rec := ge.post("/accounts/select", url.Values{"account": {"all"}}, ck); rec.Code != http.StatusSeeOther {
		t.Fatalf("choosing both accounts: status %d", rec.Code)
	}
	rec := ge.get("/restores/new", ck)
	if rec.Code != http.StatusOK {
		t.Fatalf("wizard: %d", rec.Code)
	}
	if body := rec.Body.String(); strings.Contains(body, "other-nightly") || !strings.Contains(body, "nightly-a") {
		t.Error("the wizard's sources are not A's alone")
	}
	if rec := ge.get("/restores/new/destination?configuration="+ge.ids["configuration"][1], ck); rec.Code != http.StatusNotFound && rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("B's configuration as the source: status %d", rec.Code)
	}
}

// TestMetricsWithAPersonalTokenFollowGrants: /metrics read with a user's
// personal token shows the series of the accounts the user sees and
// nothing of the console itself; the operator's token shows everything.
func TestMetricsWithAPersonalTokenFollowGrants(t *testing.T) {
	ge := newGrantEnvWith(t, envOptions{metrics: metrics.Options{Token: scrapeToken}})
	accountsIn := func(token string) (map[string]bool, int) {
		t.Helper()
		rec := ge.do(req{path: "/metrics", headers: map[string]string{"Authorization": "Bearer " + token}})
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape: status %d\n%s", rec.Code, rec.Body.String())
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
		if err != nil {
			t.Fatal(err)
		}
		seen, unscoped := map[string]bool{}, 0
		for _, f := range fams {
			for _, m := range f.GetMetric() {
				if a, ok := labelsOf(m)["account"]; ok {
					seen[a] = true
				} else {
					unscoped++
				}
			}
		}
		return seen, unscoped
	}
	a, b := ge.a.ID.String(), ge.b.ID.String()
	if seen, unscoped := accountsIn(scrapeToken); !seen[a] || !seen[b] || unscoped == 0 {
		t.Errorf("the operator's scrape: accounts %v, %d series without an account; want both and the console's own", seen, unscoped)
	}
	for _, tc := range []struct {
		user app.User
		want map[string]bool
	}{
		{ge.onA[app.RoleObserver], map[string]bool{a: true}},
		{ge.byRole[app.RoleAdmin], map[string]bool{a: true, b: true}},
	} {
		_, secret, err := ge.tokens.Create(t.Context(), tc.user, app.TokenRequest{Name: "metrics", ExpiresInDays: "30"})
		if err != nil {
			t.Fatal(err)
		}
		seen, unscoped := accountsIn(secret)
		if !maps.Equal(seen, tc.want) || unscoped != 0 {
			t.Errorf("%s's token: accounts %v and %d series without an account; want %v and none", tc.user.Email, seen, unscoped, tc.want)
		}
	}
	if rec := ge.do(req{path: "/metrics", headers: map[string]string{"Authorization": "Bearer not-a-token"}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("an unknown token: status %d, want 401", rec.Code)
	}
}
