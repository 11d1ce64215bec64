package rcbu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbuhttp"
)

// target is what the contract suite runs against: the simulator (default)
// or the real service (-tags integration). Hooks that only a simulator can
// offer are nil on the real service and the cases using them are skipped.
type target struct {
	sim          bool // destructive, fault-injection and [inferred] cases allowed
	jobs         bool // backups and restores may really run
	opts         []rcbu.Option
	identityURL  string
	region       string
	regionHosts  bool // each region on its own host, endpoints http(s)://HOST/v1.0/{tenant} (§1.1)
	admin        rcbu.Credentials
	adminPass    rcbu.Credentials
	observer     rcbu.Credentials
	creator      rcbu.Credentials
	other        rcbu.Credentials
	tenant       string
	agent        rcbu.AgentID // online, DFW, has hostServerID
	hostServerID string
	dest         rcbu.AgentID // online, same region: restore destination
	ordAgent     rcbu.AgentID // online, another region
	offline      rcbu.AgentID // asleep
	spare        rcbu.AgentID // online, no configurations: encrypt/migrate
	victim       rcbu.AgentID // online: deleted by a test
	otherAgent   rcbu.AgentID // belongs to another tenant
	poll         time.Duration
	now          func() time.Time // the target's clock (the simulator's is fake)
	advance      func(time.Duration)
	expireTokens func()
	failNext     func(op string, status int)
	setOnline    func(rcbu.AgentID, bool)
	setOutcome   func(rcbu.ConfigurationID, string)
}

func (tg *target) needSim(t *testing.T) {
	t.Helper()
	if !tg.sim {
		t.Skip("needs the simulator (destructive or fault injection)")
	}
}

func (tg *target) needJobs(t *testing.T) {
	t.Helper()
	if !tg.jobs {
		t.Skip("runs backups and restores (set RCBU_INTEGRATION_JOBS=1 to allow on the real service)")
	}
}

// connect authenticates cr with fast start retries for tests.
func (tg *target) connect(t *testing.T, cr rcbu.Credentials, opts ...rcbu.Option) *rcbu.Client {
	t.Helper()
	all := []rcbu.Option{rcbu.WithIdentityURL(tg.identityURL), rcbu.WithStartRetry(2, time.Millisecond),
		rcbu.WithRetry(4, time.Millisecond, 5*time.Millisecond)}
	if tg.region != "" {
		all = append(all, rcbu.WithRegion(tg.region))
	}
	all = append(all, tg.opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rcbuhttp.Connect(ctx, cr, append(all, opts...)...)
	if err != nil {
		t.Fatalf("connect %s: %v", cr.Username, err)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// newConfig creates a manual configuration on agent.
func newConfig(t *testing.T, ctx context.Context, c *rcbu.Client, agent rcbu.AgentID, name string) *rcbu.Configuration {
	t.Helper()
	cfg, err := c.Configurations.Create(ctx, &rcbu.ConfigurationRequest{
		AgentID: agent, Name: name, IsActive: true, VersionRetention: 30, MissedBackupActionID: 1,
		Schedule:   rcbu.Manual(),
		Inclusions: []rcbu.PathItem{{FilePath: "/var/www", FileItemType: rcbu.ItemFolder}},
		Exclusions: []rcbu.PathItem{{FilePath: "/var/www/cache", FileItemType: rcbu.ItemFolder}},
	})
	if err != nil {
		t.Fatalf("create configuration: %v", err)
	}
	t.Cleanup(func() { deleteConfig(t, c, cfg.ID) })
	return cfg
}

// deleteConfig removes a configuration a test created (a no-op for one
// already deleted), so runs against the real service leave nothing behind.
func deleteConfig(t *testing.T, c *rcbu.Client, id rcbu.ConfigurationID) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cfg, err := c.Configurations.Get(ctx, id); err != nil || cfg.IsDeleted {
		return
	}
	if err := c.Configurations.Delete(ctx, id); err != nil {
		t.Logf("cleanup: delete configuration %d: %v", id, err)
	}
}

// finish drives the target's time until the backup is done.
func (tg *target) finishBackup(t *testing.T, ctx context.Context, b *rcbu.Backup) *rcbu.BackupStatus {
	t.Helper()
	for range 500 {
		st, err := b.Refresh(ctx)
		if err != nil {
			t.Fatalf("refresh backup %d: %v", b.ID, err)
		}
		if st.State.Done() {
			return st
		}
		tg.advance(tg.poll)
	}
	t.Fatalf("backup %d not done after 500 polls (state %s)", b.ID, b.State())
	return nil
}

func (tg *target) finishRestore(t *testing.T, ctx context.Context, r *rcbu.Restore) *rcbu.RestoreConfiguration {
	t.Helper()
	for range 500 {
		st, err := r.Refresh(ctx)
		if err != nil {
			t.Fatalf("refresh restore %d: %v", r.ID, err)
		}
		if st.State.Done() {
			return st
		}
		tg.advance(tg.poll)
	}
	t.Fatalf("restore %d not done after 500 polls (state %s)", r.ID, r.State())
	return nil
}

func TestContractConnect(t *testing.T) { forEachTarget(t, contractConnect) }

func contractConnect(t *testing.T, tg *target) {
	ctx := testCtx(t)

	t.Run("api key", func(t *testing.T) {
		c := tg.connect(t, tg.admin)
		if c.Tenant() != tg.tenant {
			t.Errorf("Tenant() = %q, want %q", c.Tenant(), tg.tenant)
		}
		if c.APIVersion() != "v1.0" {
			t.Errorf("APIVersion() = %q", c.APIVersion())
		}
		if !strings.HasSuffix(c.Endpoint(), "/v1.0/"+tg.tenant) {
			t.Errorf("Endpoint() = %q", c.Endpoint())
		}
	})
	t.Run("password", func(t *testing.T) {
		if tg.adminPass.Username == "" {
			t.Skip("no password credentials")
		}
		tg.connect(t, tg.adminPass)
	})
	t.Run("wrong key is ErrUnauthorized", func(t *testing.T) {
		_, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: tg.admin.Username, APIKey: "wrong"}, rcbu.WithIdentityURL(tg.identityURL))
		wantErr(t, err, rcbu.ErrUnauthorized)
		var e *rcbu.Error
		if !errors.As(err, &e) || e.Op != "authenticate" || e.Message == "" {
			t.Errorf("error = %#v, want an *Error with op and message", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Errorf("error leaks the key: %v", err)
		}
	})
	t.Run("missing secret is rejected before any call", func(t *testing.T) {
		_, err := rcbuhttp.Connect(ctx, rcbu.Credentials{Username: "x"}, rcbu.WithIdentityURL("http://127.0.0.1:1/none"))
		if err == nil || !strings.Contains(err.Error(), "API key or a password") {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("default region is the user's", func(t *testing.T) {
		tg.needSim(t)
		c := tg.connect(t, tg.admin)
		if got := c.Regions(); !slices.Equal(got, []string{"DFW"}) {
			t.Errorf("Regions() = %v, want [DFW]", got)
		}
	})
	t.Run("unknown region", func(t *testing.T) {
		_, err := rcbuhttp.Connect(ctx, tg.admin, rcbu.WithIdentityURL(tg.identityURL), rcbu.WithRegion("XYZ"))
		if err == nil || !strings.Contains(err.Error(), "XYZ") {
			t.Fatalf("error = %v, want a message naming XYZ", err)
		}
	})
	t.Run("regional endpoints have the service's shape", func(t *testing.T) {
		if !tg.regionHosts {
			t.Skip("regions are path prefixes on this target")
		}
		c := tg.connect(t, tg.admin, rcbu.WithAllRegions())
		hosts := map[string]string{}
		for _, ep := range c.Endpoints() {
			if ep.URL.Path != "/v1.0/"+tg.tenant {
				t.Errorf("region %s: endpoint path %q, want /v1.0/%s", ep.Region, ep.URL.Path, tg.tenant)
			}
			if other, dup := hosts[ep.URL.Host]; dup {
				t.Errorf("regions %s and %s share host %s", other, ep.Region, ep.URL.Host)
			}
			hosts[ep.URL.Host] = ep.Region
		}
		if len(hosts) < 2 {
			t.Errorf("endpoints = %v, want one host per region", c.Endpoints())
		}
	})
	t.Run("another region's agent is not found on a regional endpoint", func(t *testing.T) {
		tg.needSim(t)
		c := tg.connect(t, tg.admin, rcbu.WithRegion("DFW"))
		_, err := c.Agents.Get(ctx, tg.ordAgent)
		wantErr(t, err, rcbu.ErrNotFound)
		must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent))
	})
	t.Run("region option picks the endpoint", func(t *testing.T) {
		tg.needSim(t)
		c := tg.connect(t, tg.admin, rcbu.WithRegion("ord"))
		agents := must[[]rcbu.Agent](t)(c.Agents.List(ctx))
		if len(agents) != 1 || agents[0].ID != tg.ordAgent || agents[0].Region != "ORD" {
			t.Fatalf("ORD agents = %+v, want only %d", agents, tg.ordAgent)
		}
	})
	t.Run("all regions merge lists and route single calls", func(t *testing.T) {
		tg.needSim(t)
		c := tg.connect(t, tg.admin, rcbu.WithAllRegions())
		if len(c.Regions()) < 2 {
			t.Fatalf("Regions() = %v", c.Regions())
		}
		agents := must[[]rcbu.Agent](t)(c.Agents.List(ctx))
		ids := make([]rcbu.AgentID, len(agents))
		for i, a := range agents {
			ids[i] = a.ID
		}
		if !slices.IsSorted(ids) || !slices.Contains(ids, tg.ordAgent) || !slices.Contains(ids, tg.agent) {
			t.Fatalf("merged ids = %v", ids)
		}
		// A fresh client knows no routes: Get must find the ORD agent itself.
		fresh := tg.connect(t, tg.admin, rcbu.WithAllRegions())
		a := must[*rcbu.Agent](t)(fresh.Agents.Get(ctx, tg.ordAgent))
		if a.Region != "ORD" || a.Datacenter != "ORD" {
			t.Errorf("agent region = %q datacenter %q", a.Region, a.Datacenter)
		}
		cfg := newConfig(t, ctx, fresh, tg.ordAgent, "ord-files")
		if cfg.Region != "ORD" {
			t.Errorf("configuration region = %q", cfg.Region)
		}
		_, err := fresh.Agents.Get(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})
}

func TestContractAgents(t *testing.T) { forEachTarget(t, contractAgents) }

func contractAgents(t *testing.T, tg *target) {
	ctx := testCtx(t)
	c := tg.connect(t, tg.admin)

	t.Run("list reports the placeholder status", func(t *testing.T) {
		agents := must[[]rcbu.Agent](t)(c.Agents.List(ctx))
		i := slices.IndexFunc(agents, func(a rcbu.Agent) bool { return a.ID == tg.agent })
		if i < 0 {
			t.Fatalf("agent %d not listed", tg.agent)
		}
		if a := agents[i]; tg.sim && a.StatusKnown() {
			t.Errorf("listed status = %q, want the Unknown placeholder", a.Status)
		}
	})
	t.Run("get reports live status and fields", func(t *testing.T) {
		a := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent))
		if !a.Online() || !a.Enabled() || a.MachineName == "" || a.PublicKey == nil || a.PublicKey.ModulusHex == "" {
			t.Errorf("agent = %+v", a)
		}
		if a.BackupVaultSize == nil || a.BackupVaultSize.Bytes <= 0 {
			t.Errorf("vault size = %+v", a.BackupVaultSize)
		}
		if tg.sim {
			off := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.offline))
			if off.Online() || off.Status != rcbu.AgentStatusOffline {
				t.Errorf("offline agent status = %q", off.Status)
			}
		}
	})
	t.Run("unknown agent is ErrNotFound", func(t *testing.T) {
		_, err := c.Agents.Get(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
		var e *rcbu.Error
		if !errors.As(err, &e) || e.StatusCode != 404 || !strings.Contains(e.Error(), "get agent 999999999") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("get many keeps order", func(t *testing.T) {
		got := must[[]rcbu.Agent](t)(c.Agents.GetMany(ctx, []rcbu.AgentID{tg.dest, tg.agent}))
		if len(got) != 2 || got[0].ID != tg.dest || got[1].ID != tg.agent {
			t.Fatalf("GetMany = %v", got)
		}
		_, err := c.Agents.GetMany(ctx, []rcbu.AgentID{tg.agent, 999999999})
		wantErr(t, err, rcbu.ErrNotFound)
	})
	t.Run("by host server", func(t *testing.T) {
		a := must[*rcbu.Agent](t)(c.Agents.GetByHostServer(ctx, tg.hostServerID))
		if a.ID != tg.agent || !strings.EqualFold(a.HostServerID, tg.hostServerID) {
			t.Errorf("agent = %d host %q", a.ID, a.HostServerID)
		}
		_, err := c.Agents.GetByHostServer(ctx, "11111111-2222-3333-4444-555555555555")
		wantErr(t, err, rcbu.ErrNotFound)
		_, err = c.Agents.GetByHostServer(ctx, " ")
		wantErr(t, err, rcbu.ErrBadRequest)
	})
	t.Run("disable and enable", func(t *testing.T) {
		tg.needSim(t)
		if err := c.Agents.Disable(ctx, tg.spare); err != nil {
			t.Fatal(err)
		}
		if a := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.spare)); a.Enabled() {
			t.Error("agent still enabled after Disable")
		}
		if err := c.Agents.Enable(ctx, tg.spare); err != nil {
			t.Fatal(err)
		}
		if a := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.spare)); !a.Enabled() {
			t.Error("agent still disabled after Enable")
		}
		err := c.Agents.Enable(ctx, 999999999)
		if err == nil {
			t.Fatal("enabling an unknown agent succeeded")
		}
	})
	t.Run("update behavior", func(t *testing.T) {
		tg.needSim(t)
		a := must[*rcbu.Agent](t)(c.Agents.UpdateBehavior(ctx, tg.spare, rcbu.BehaviorRequest{UseServiceNet: true}))
		if a.ID != tg.spare || !a.UseServiceNet {
			t.Errorf("agent = %d servicenet %v", a.ID, a.UseServiceNet)
		}
		_, err := c.Agents.UpdateBehavior(ctx, tg.spare, rcbu.BehaviorRequest{BackupDatacenter: "NOWHERE", UseServiceNet: true})
		wantErr(t, err, rcbu.ErrBadRequest)
	})
	t.Run("log level", func(t *testing.T) {
		tg.needSim(t)
		if err := c.Agents.SetLogLevel(ctx, tg.agent, rcbu.LogDebug); err != nil {
			t.Fatal(err)
		}
		if l := must[rcbu.LogLevel](t)(c.Agents.GetLogLevel(ctx, tg.agent)); l != rcbu.LogDebug {
			t.Errorf("LogLevel = %v, want Debug", l)
		}
		wantErr(t, c.Agents.SetLogLevel(ctx, tg.agent, 9), rcbu.ErrBadRequest)
		_, err := c.Agents.GetLogLevel(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})
	t.Run("wake, logs, events, document", func(t *testing.T) {
		if err := c.Agents.Wake(ctx); err != nil {
			t.Fatal(err)
		}
		if tg.sim {
			tg.advance(time.Second)
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if a := must[*rcbu.Agent](t)(c.Agents.WaitOnline(wctx, tg.offline, time.Millisecond)); !a.Online() || a.ID != tg.offline {
				t.Errorf("agent after Wake: %d %s", a.ID, a.Status)
			}
		}
		if id := must[string](t)(c.Agents.RequestLog(ctx, tg.agent)); id == "" || strings.Contains(id, `"`) {
			t.Errorf("RequestLog id = %q", id)
		}
		files := must[[]rcbu.LogFile](t)(c.Agents.ListLogFiles(ctx, tg.agent))
		for _, f := range files {
			if f.DisplayName == "" || f.FilePath == "" {
				t.Errorf("log file = %+v", f)
			}
		}
		ev := must[[]rcbu.AgentEvent](t)(c.Agents.ListEvents(ctx, tg.agent))
		if tg.sim && (len(ev) == 0 || ev[0].Event != "Heartbeat" || ev[0].AgentID != tg.agent) {
			t.Errorf("events = %+v", ev)
		}
		cfg := newConfig(t, ctx, c, tg.agent, "doc-check")
		doc := must[*rcbu.AgentDocument](t)(c.Agents.GetDocument(ctx, tg.agent))
		// The vault id is a string (a GUID-like container suffix), never a number.
		var raw struct{ Volumes []map[string]json.RawMessage }
		if err := json.Unmarshal(doc.Raw, &raw); err != nil || len(raw.Volumes) == 0 || len(doc.Volumes) == 0 {
			t.Fatalf("document volumes: %v %s", err, doc.Raw)
		}
		if v := raw.Volumes[0]["BackupVaultId"]; len(v) < 3 || v[0] != '"' {
			t.Errorf("BackupVaultId = %s, want a JSON string", v)
		}
		if agent := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent)); tg.sim && doc.Volumes[0].BackupVaultID != agent.VaultID() {
			t.Errorf("document vault %q, agent's container %q", doc.Volumes[0].BackupVaultID, agent.BackupContainer)
		}
		if len(doc.Raw) == 0 || !slices.ContainsFunc(doc.BackupConfigurations, func(b struct {
			ID        rcbu.ConfigurationID `json:"Id"`
			Name      string               `json:"Name"`
			IsEnabled bool                 `json:"IsEnabled"`
		}) bool {
			return b.ID == cfg.ID
		}) {
			t.Errorf("document lacks configuration %d: %+v", cfg.ID, doc.BackupConfigurations)
		}
	})
	t.Run("busy", func(t *testing.T) {
		if busy := must[bool](t)(c.Agents.Busy(ctx, tg.dest)); busy {
			t.Error("idle agent reported busy")
		}
	})
	t.Run("encrypt and change password", func(t *testing.T) {
		tg.needSim(t)
		a := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.spare))
		hexPass := strings.Repeat("ab", 256)
		id := must[string](t)(c.Agents.Encrypt(ctx, a.ID, hexPass))
		if len(id) < 32 || strings.ContainsAny(id, `" `) {
			t.Errorf("request id = %q", id)
		}
		tg.advance(time.Minute)
		if a := must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.spare)); !a.Encrypted() {
			t.Error("agent not encrypted")
		}
		_, err := c.Agents.Encrypt(ctx, a.ID, hexPass)
		wantErr(t, err, rcbu.ErrBadRequest)
		_, err = c.Agents.Encrypt(ctx, a.ID, "not hex")
		wantErr(t, err, rcbu.ErrBadRequest)
		if id := must[string](t)(c.Agents.ChangeEncryptionPassword(ctx, a.ID, hexPass, strings.Repeat("cd", 256))); id == "" {
			t.Error("empty request id")
		}
		_, err = c.Agents.ChangeEncryptionPassword(ctx, tg.dest, hexPass, hexPass)
		wantErr(t, err, rcbu.ErrBadRequest)
		_, err = c.Agents.ChangeEncryptionPassword(ctx, a.ID, "", hexPass)
		wantErr(t, err, rcbu.ErrBadRequest)
	})
	t.Run("migrate vault", func(t *testing.T) {
		tg.needSim(t)
		newConfig(t, ctx, c, tg.victim, "to-migrate")
		fresh := tg.connect(t, tg.admin)
		empty := rcbu.AgentID(0)
		for _, a := range must[[]rcbu.Agent](t)(fresh.Agents.List(ctx)) {
			if a.ID != tg.victim && a.ID != tg.spare && a.ID != tg.agent && a.ID != tg.dest && a.Datacenter == "DFW" {
				if cfgs := must[[]rcbu.Configuration](t)(fresh.Configurations.ListForAgent(ctx, a.ID)); len(cfgs) == 0 {
					empty = a.ID
				}
			}
		}
		if empty == 0 {
			t.Fatal("no agent without configurations")
		}
		vault := func(id rcbu.AgentID) rcbu.VaultID {
			t.Helper()
			doc := must[*rcbu.AgentDocument](t)(c.Agents.GetDocument(ctx, id))
			if len(doc.Volumes) == 0 {
				t.Fatalf("agent %d: no volume", id)
			}
			if a := must[*rcbu.Agent](t)(c.Agents.Get(ctx, id)); a.VaultID() != doc.Volumes[0].BackupVaultID {
				t.Errorf("agent %d: container %q, document vault %q", id, a.BackupContainer, doc.Volumes[0].BackupVaultID)
			}
			return doc.Volumes[0].BackupVaultID
		}
		moved := vault(tg.victim)
		if err := c.Agents.MigrateVault(ctx, tg.victim, empty); err != nil {
			t.Fatal(err)
		}
		// The destination writes to the source's vault now; the source to a new one.
		if got := vault(empty); got != moved {
			t.Errorf("destination vault %q, want the migrated %q", got, moved)
		}
		if got := vault(tg.victim); got == moved || got == "" {
			t.Errorf("source vault after migration %q", got)
		}
		wantErr(t, c.Agents.MigrateVault(ctx, tg.victim, tg.victim), rcbu.ErrBadRequest)
		// The destination now has configurations: migrating into it fails.
		err := c.Agents.MigrateVault(ctx, tg.dest, empty)
		if err == nil {
			t.Fatal("migrating into an agent with configurations succeeded")
		}
	})
	t.Run("delete", func(t *testing.T) {
		tg.needSim(t)
		if err := c.Agents.Delete(ctx, tg.victim); err != nil {
			t.Fatal(err)
		}
		_, err := c.Agents.Get(ctx, tg.victim)
		wantErr(t, err, rcbu.ErrNotFound)
		for _, a := range must[[]rcbu.Agent](t)(c.Agents.List(ctx)) {
			if a.ID == tg.victim {
				t.Error("deleted agent still listed")
			}
		}
	})
}

func TestContractConfigurations(t *testing.T) { forEachTarget(t, contractConfigurations) }

func contractConfigurations(t *testing.T, tg *target) {
	ctx := testCtx(t)
	c := tg.connect(t, tg.admin)

	req := &rcbu.ConfigurationRequest{
		AgentID: tg.agent, Name: "nightly-www", IsActive: true, VersionRetention: 30, MissedBackupActionID: 2,
		Schedule:         rcbu.Weekly(time.Friday, 19, 30).In("Eastern Standard Time"),
		NotifyRecipients: "ops@example.org", NotifyFailure: true,
		Inclusions: []rcbu.PathItem{{FilePath: "/var/www", FileItemType: rcbu.ItemFolder}},
		Exclusions: []rcbu.PathItem{{FilePath: "/var/www/cache", FileItemType: rcbu.ItemFolder}},
	}
	cfg := must[*rcbu.Configuration](t)(c.Configurations.Create(ctx, req))
	t.Cleanup(func() { deleteConfig(t, c, cfg.ID) })

	t.Run("create returns the full object", func(t *testing.T) {
		if cfg.ID == 0 || cfg.AgentID != tg.agent || cfg.Name != req.Name || !cfg.Enabled() || cfg.IsDeleted {
			t.Fatalf("configuration = %+v", cfg)
		}
		s := must[rcbu.Schedule](t)(cfg.Schedule())
		if s.Frequency != rcbu.FrequencyWeekly || s.Weekday != time.Friday || s.TimeZone != "Eastern Standard Time" {
			t.Errorf("schedule = %+v", s)
		}
		if tg.sim && (s.Hour != 19 || s.Minute != 30) {
			t.Errorf("schedule time = %02d:%02d, want 19:30 echoed", s.Hour, s.Minute)
		}
		next, ok := cfg.NextRun()
		if !ok || next.Weekday() != time.Friday && next.UTC().Weekday() != time.Saturday {
			t.Errorf("next run = %v %v", next, ok)
		}
		if got := cfg.NotifyEmails(); !slices.Equal(got, []string{"ops@example.org"}) || !cfg.NotifyFailure || cfg.NotifySuccess {
			t.Errorf("notify = %v %v %v", got, cfg.NotifyFailure, cfg.NotifySuccess)
		}
		if len(cfg.Inclusions) != 1 || cfg.Inclusions[0].FilePath != "/var/www" || len(cfg.Exclusions) != 1 {
			t.Errorf("paths = %+v %+v", cfg.Inclusions, cfg.Exclusions)
		}
	})
	t.Run("invalid request makes no call", func(t *testing.T) {
		bad := *req
		bad.Name, bad.VersionRetention = "", 7
		_, err := c.Configurations.Create(ctx, &bad)
		wantErr(t, err, rcbu.ErrBadRequest)
		var v *rcbu.ValidationError
		if !errors.As(err, &v) || v.Fields["BackupConfigurationName"] == "" || v.Fields["VersionRetention"] == "" {
			t.Fatalf("error = %v", err)
		}
	})
	t.Run("duplicate name is ErrConflict", func(t *testing.T) {
		tg.needSim(t) // 409's cause is undocumented; the simulator's choice
		_, err := c.Configurations.Create(ctx, req)
		wantErr(t, err, rcbu.ErrConflict)
	})
	t.Run("unknown agent is ErrNotFound", func(t *testing.T) {
		bad := *req
		bad.AgentID = 999999999
		_, err := c.Configurations.Create(ctx, &bad)
		wantErr(t, err, rcbu.ErrNotFound)
	})
	t.Run("get and list", func(t *testing.T) {
		got := must[*rcbu.Configuration](t)(c.Configurations.Get(ctx, cfg.ID))
		if got.ID != cfg.ID || got.Name != cfg.Name {
			t.Errorf("get = %+v", got)
		}
		all := must[[]rcbu.Configuration](t)(c.Configurations.List(ctx))
		if !slices.ContainsFunc(all, func(x rcbu.Configuration) bool { return x.ID == cfg.ID }) {
			t.Error("List lacks the configuration")
		}
		mine := must[[]rcbu.Configuration](t)(c.Configurations.ListForAgent(ctx, tg.agent))
		if len(mine) != 1 || mine[0].ID != cfg.ID {
			t.Errorf("ListForAgent = %v", mine)
		}
		if none := must[[]rcbu.Configuration](t)(c.Configurations.ListForAgent(ctx, tg.dest)); none == nil || len(none) != 0 {
			t.Errorf("ListForAgent of an agent without configurations = %#v, want []", none)
		}
		_, err := c.Configurations.Get(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})
	t.Run("update replaces settings", func(t *testing.T) {
		up := must[*rcbu.ConfigurationRequest](t)(cfg.Request())
		up.Name = "hourly-www"
		up.Schedule = rcbu.Hourly(4).In("UTC")
		up.Exclusions = nil
		if err := c.Configurations.Update(ctx, cfg.ID, up); err != nil {
			t.Fatal(err)
		}
		got := must[*rcbu.Configuration](t)(c.Configurations.Get(ctx, cfg.ID))
		s := must[rcbu.Schedule](t)(got.Schedule())
		if got.Name != "hourly-www" || s.Frequency != rcbu.FrequencyHourly || s.HourInterval != 4 || len(got.Exclusions) != 0 {
			t.Errorf("after update: %+v schedule %+v", got, s)
		}
		wantErr(t, c.Configurations.Update(ctx, 999999999, up), rcbu.ErrNotFound)
		up.Schedule = rcbu.Hourly(30)
		wantErr(t, c.Configurations.Update(ctx, cfg.ID, up), rcbu.ErrBadRequest)
	})
	t.Run("disable and enable", func(t *testing.T) {
		off := must[*rcbu.Configuration](t)(c.Configurations.Disable(ctx, cfg.ID))
		if off.IsActive {
			t.Error("still active after Disable")
		}
		on := must[*rcbu.Configuration](t)(c.Configurations.Enable(ctx, cfg.ID))
		if !on.IsActive {
			t.Error("inactive after Enable")
		}
		_, err := c.Configurations.Enable(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})
	t.Run("delete is soft", func(t *testing.T) {
		extra := newConfig(t, ctx, c, tg.agent, "to-delete")
		if err := c.Configurations.Delete(ctx, extra.ID); err != nil {
			t.Fatal(err)
		}
		got := must[*rcbu.Configuration](t)(c.Configurations.Get(ctx, extra.ID))
		if !got.IsDeleted || got.Enabled() {
			t.Errorf("deleted configuration = %+v", got)
		}
		for _, x := range must[[]rcbu.Configuration](t)(c.Configurations.List(ctx)) {
			if x.ID == extra.ID {
				t.Error("deleted configuration listed")
			}
		}
		wantErr(t, c.Configurations.Delete(ctx, 999999999), rcbu.ErrNotFound)
	})
}

func TestContractBackupAndRestore(t *testing.T) { forEachTarget(t, contractBackupAndRestore) }

func contractBackupAndRestore(t *testing.T, tg *target) {
	tg.needJobs(t)
	ctx := testCtx(t)
	c := tg.connect(t, tg.admin)
	cfg := newConfig(t, ctx, c, tg.agent, "files")

	b, err := c.Backups.Start(ctx, cfg.ID)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Run("start returns a running handle", func(t *testing.T) {
		if b.ID == 0 || b.ConfigurationID != cfg.ID || !b.Running() || b.Done() {
			t.Fatalf("handle = id %d cfg %d state %q", b.ID, b.ConfigurationID, b.State())
		}
		rep, err := b.Report(ctx)
		if !errors.Is(err, rcbu.ErrNotDone) || rep != nil {
			t.Fatalf("Report while running = %v, %v; want nil, ErrNotDone", rep, err)
		}
		_, err = c.Backups.Report(ctx, b.ID)
		wantErr(t, err, rcbu.ErrNotFound)
		st := must[*rcbu.BackupStatus](t)(c.Backups.Get(ctx, b.ID))
		if st.ID != b.ID || st.ConfigurationID != cfg.ID || !st.State.Busy() || st.AgentID != tg.agent {
			t.Errorf("status = %+v", st)
		}
		acts := must[[]rcbu.Activity](t)(c.ActiveBackups(ctx))
		if !slices.ContainsFunc(acts, func(a rcbu.Activity) bool { return a.ID == int64(b.ID) }) {
			t.Errorf("ActiveBackups lacks %d: %+v", b.ID, acts)
		}
		if busy := must[bool](t)(c.Agents.Busy(ctx, tg.agent)); !busy {
			t.Error("agent with a running backup not busy")
		}
	})
	st := tg.finishBackup(t, ctx, b)
	t.Run("report once done", func(t *testing.T) {
		if st.State != rcbu.BackupCompleted {
			t.Fatalf("final state = %s", st.State)
		}
		rep := must[*rcbu.BackupReport](t)(b.Report(ctx))
		if !rep.OK() || rep.Err() != nil || rep.BackupID != b.ID || rep.Duration <= 0 || rep.FilesSearched <= 0 || rep.BytesSearched.Bytes <= 0 {
			t.Fatalf("report = %+v", rep)
		}
		if d := rep.CompletedTime.Sub(rep.StartTime.Time) - rep.Duration; d < 0 || d >= time.Second {
			t.Errorf("duration %v != completed-start %v", rep.Duration, rep.CompletedTime.Sub(rep.StartTime.Time))
		}
		raw := must[[]byte](t)(c.Backups.ReportRaw(ctx, b.ID))
		var fromRaw rcbu.BackupReport
		if err := json.Unmarshal(raw, &fromRaw); err != nil || fromRaw.BackupID != b.ID || fromRaw.BytesSearched != rep.BytesSearched {
			t.Errorf("raw report %s decodes to %+v, %v", raw, fromRaw, err)
		}
		done := must[[]rcbu.CompletedBackup](t)(c.Backups.ListCompleted(ctx, cfg.ID))
		if !slices.ContainsFunc(done, func(x rcbu.CompletedBackup) bool { return x.ID == b.ID }) {
			t.Errorf("ListCompleted lacks %d", b.ID)
		}
		_, err := c.Backups.ListCompleted(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
		if tg.sim { // stopping a finished backup: 400 is the simulator's [inferred] choice
			wantErr(t, b.Stop(ctx), rcbu.ErrBadRequest)
		}
		avail := must[[]rcbu.AvailableBackup](t)(c.Restores.AvailableBackups(ctx))
		if !slices.ContainsFunc(avail, func(a rcbu.AvailableBackup) bool { return a.ConfigurationID == cfg.ID }) {
			t.Errorf("AvailableBackups lacks configuration %d", cfg.ID)
		}
		if cfgNow := must[*rcbu.Configuration](t)(c.Configurations.Get(ctx, cfg.ID)); cfgNow.LastRunBackupID == nil || *cfgNow.LastRunBackupID != b.ID {
			t.Errorf("LastRunBackupReportId = %v", cfgNow.LastRunBackupID)
		}
	})
	t.Run("failed run", func(t *testing.T) {
		if tg.setOutcome == nil {
			t.Skip("needs the simulator")
		}
		tg.setOutcome(cfg.ID, "Failed")
		fb := must[*rcbu.Backup](t)(c.Backups.Start(ctx, cfg.ID))
		if st := tg.finishBackup(t, ctx, fb); st.State != rcbu.BackupFailed {
			t.Fatalf("state = %s", st.State)
		}
		rep := must[*rcbu.BackupReport](t)(fb.Report(ctx))
		if rep.OK() || rep.Err() == nil || !strings.Contains(rep.Err().Error(), "Failed") {
			t.Errorf("failed report OK=%v Err=%v", rep.OK(), rep.Err())
		}
	})
	t.Run("stop", func(t *testing.T) {
		sb := must[*rcbu.Backup](t)(c.Backups.Start(ctx, cfg.ID))
		if err := sb.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if st := tg.finishBackup(t, ctx, sb); st.State != rcbu.BackupStopped {
			t.Errorf("state after stop = %s", st.State)
		}
		wantErr(t, c.Backups.Stop(ctx, 999999999), rcbu.ErrNotFound)
	})
	t.Run("start on a sleeping agent gives up with ErrForbidden", func(t *testing.T) {
		tg.needSim(t)
		sleepy := newConfig(t, ctx, c, tg.offline, "sleepy-files")
		tg.setOnline(tg.offline, false)
		_, err := c.Backups.Start(ctx, sleepy.ID)
		wantErr(t, err, rcbu.ErrForbidden)
		_, err = c.Backups.Start(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})

	var restoreID rcbu.RestoreID
	t.Run("restore", func(t *testing.T) {
		tg.needSim(t) // restores write files on the destination server
		r := must[*rcbu.RestoreConfiguration](t)(c.Restores.Create(ctx, &rcbu.RestoreRequest{
			BackupID: b.ID, BackupAgentID: tg.agent, DestinationAgentID: tg.dest, DestinationPath: "/srv/restore",
		}))
		restoreID = r.ID
		if r.ID == 0 || r.State != rcbu.RestoreCreating || r.BackupID != b.ID || r.DestinationAgentID != tg.dest || r.DestinationPath != "/srv/restore" {
			t.Fatalf("restore = %+v", r)
		}
		if err := c.Restores.Include(ctx, r.ID, "/var/www/index.html", rcbu.RestoreItemFile); err != nil {
			t.Fatal(err)
		}
		if err := c.Restores.Exclude(ctx, r.ID, "/var/www/tmp", rcbu.RestoreItemFolder); err != nil {
			t.Fatal(err)
		}
		files := must[[]rcbu.RestoreFile](t)(c.Restores.Files(ctx, r.ID))
		if len(files) != 2 || files[0].Filter != rcbu.FilterInclude || files[1].Filter != rcbu.FilterExclude || files[1].FileItemType != rcbu.RestoreItemFolder {
			t.Fatalf("files = %+v", files)
		}
		if err := c.Restores.DeleteFile(ctx, r.ID, files[1].ID); err != nil {
			t.Fatal(err)
		}
		if files = must[[]rcbu.RestoreFile](t)(c.Restores.Files(ctx, r.ID)); len(files) != 1 {
			t.Fatalf("files after remove = %+v", files)
		}
		wantErr(t, c.Restores.Include(ctx, r.ID, "relative/path", rcbu.RestoreItemFile), rcbu.ErrBadRequest)

		r.DestinationPath = "/srv/restore-2"
		r.OverwriteFiles = true
		if err := c.Restores.Update(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got := must[*rcbu.RestoreConfiguration](t)(c.Restores.Get(ctx, r.ID)); got.DestinationPath != "/srv/restore-2" || !got.OverwriteFiles {
			t.Errorf("after update: %+v", got)
		}

		h := must[*rcbu.Restore](t)(c.Restores.Start(ctx, r.ID, nil))
		if !h.Running() {
			t.Errorf("restore state after start = %v", h.State())
		}
		if rep, err := h.Report(ctx); rep != nil || !errors.Is(err, rcbu.ErrNotDone) {
			t.Errorf("report while running = %v, %v; want nil, ErrNotDone", rep, err)
		}
		if err := c.Restores.Update(ctx, r); err == nil {
			t.Error("updating a started restore succeeded")
		}
		if acts := must[[]rcbu.Activity](t)(c.ActiveRestores(ctx)); !slices.ContainsFunc(acts, func(a rcbu.Activity) bool { return a.ID == int64(r.ID) }) {
			t.Errorf("ActiveRestores lacks %d", r.ID)
		}
		fin := tg.finishRestore(t, ctx, h)
		if fin.State != rcbu.RestoreCompleted && fin.State != rcbu.RestoreCompletedWithErrors {
			t.Fatalf("final restore state = %v", fin.State)
		}
		if raw := must[[]byte](t)(c.Restores.ReportRaw(ctx, r.ID)); !json.Valid(raw) {
			t.Errorf("raw restore report = %q", raw)
		}
		rep := must[*rcbu.RestoreReport](t)(h.Report(ctx))
		if !rep.OK() || rep.BackupID != b.ID || rep.RestoreDestinationMachineID != tg.dest || rep.RestoreDestination == "" || rep.Duration <= 0 {
			t.Errorf("restore report = %+v", rep)
		}
	})
	t.Run("restore errors", func(t *testing.T) {
		_, err := c.Restores.Create(ctx, &rcbu.RestoreRequest{BackupID: b.ID, BackupAgentID: tg.agent, DestinationAgentID: tg.dest})
		wantErr(t, err, rcbu.ErrBadRequest)
		_, err = c.Restores.Get(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
		_, err = c.Restores.Report(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
		_, err = c.Restores.Start(ctx, 999999999, nil)
		wantErr(t, err, rcbu.ErrNotFound)
		_, err = c.Restores.Files(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
		wantErr(t, c.Restores.Update(ctx, &rcbu.RestoreConfiguration{ID: 999999999, BackupID: b.ID, BackupAgentID: tg.agent,
			DestinationAgentID: tg.dest, DestinationPath: "/x"}), rcbu.ErrNotFound)
		wantErr(t, c.Restores.Include(ctx, 999999999, "/etc", rcbu.RestoreItemFolder), rcbu.ErrNotFound)
		_, err = c.Backups.Get(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
		_, err = c.Restores.Create(ctx, &rcbu.RestoreRequest{BackupID: 999999999, BackupAgentID: tg.agent, DestinationAgentID: tg.dest, DestinationPath: "/x"})
		if err == nil {
			t.Error("restore of an unknown backup created")
		}
	})
	t.Run("stop a restore", func(t *testing.T) {
		tg.needSim(t)
		r := must[*rcbu.RestoreConfiguration](t)(c.Restores.Create(ctx, &rcbu.RestoreRequest{
			BackupID: b.ID, BackupAgentID: tg.agent, DestinationAgentID: tg.agent, DestinationPath: "/srv/again",
		}))
		h := must[*rcbu.Restore](t)(c.Restores.Start(ctx, r.ID, &rcbu.RestoreStartOptions{}))
		if err := h.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if fin := tg.finishRestore(t, ctx, h); fin.State != rcbu.RestoreStopped {
			t.Errorf("state after stop = %v", fin.State)
		}
	})
	t.Run("activity", func(t *testing.T) {
		all := must[[]rcbu.Activity](t)(c.Activity.List(ctx))
		mine := must[[]rcbu.Activity](t)(c.Activity.ListForAgent(ctx, tg.agent))
		for _, list := range [][]rcbu.Activity{all, mine} {
			if !slices.ContainsFunc(list, func(a rcbu.Activity) bool { return a.Type == rcbu.ActivityBackup && a.ID == int64(b.ID) && a.Done() }) {
				t.Errorf("activity lacks finished backup %d", b.ID)
			}
		}
		if restoreID != 0 && !slices.ContainsFunc(all, func(a rcbu.Activity) bool { return a.Type == rcbu.ActivityRestore && a.ID == int64(restoreID) }) {
			t.Errorf("activity lacks restore %d", restoreID)
		}
		if !slices.IsSortedFunc(all, func(a, b rcbu.Activity) int { return b.TimeOfActivity.Compare(a.TimeOfActivity.Time) }) {
			t.Error("activity not newest first")
		}
		_, err := c.Activity.ListForAgent(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})
	t.Run("cleanup report", func(t *testing.T) {
		_, err := c.Activity.CleanupReport(ctx, 999999999)
		wantErr(t, err, rcbu.ErrNotFound)
	})
}

func TestContractEncryptedRestore(t *testing.T) { forEachTarget(t, contractEncryptedRestore) }

func contractEncryptedRestore(t *testing.T, tg *target) {
	tg.needSim(t)
	ctx := testCtx(t)
	c := tg.connect(t, tg.admin)
	pass := strings.Repeat("ab", 256)
	must[string](t)(c.Agents.Encrypt(ctx, tg.spare, pass))
	tg.advance(time.Minute)
	cfg := newConfig(t, ctx, c, tg.spare, "secret-files")
	if !cfg.IsEncrypted {
		t.Error("configuration of an encrypted agent not marked encrypted")
	}
	b := must[*rcbu.Backup](t)(c.Backups.Start(ctx, cfg.ID))
	tg.finishBackup(t, ctx, b)
	r := must[*rcbu.RestoreConfiguration](t)(c.Restores.Create(ctx, &rcbu.RestoreRequest{
		BackupID: b.ID, BackupAgentID: tg.spare, DestinationAgentID: tg.spare, DestinationPath: "/srv/secret",
	}))
	if !r.IsEncrypted || r.PublicKey == nil {
		t.Fatalf("restore = %+v", r)
	}
	_, err := c.Restores.Start(ctx, r.ID, nil)
	wantErr(t, err, rcbu.ErrBadRequest)
	h := must[*rcbu.Restore](t)(c.Restores.Start(ctx, r.ID, &rcbu.RestoreStartOptions{EncryptedPassword: pass}))
	if fin := tg.finishRestore(t, ctx, h); !fin.State.Done() {
		t.Errorf("state = %v", fin.State)
	}
}

// countingTransport counts identity calls.
type countingTransport struct {
	auths atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/tokens") {
		c.auths.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestContractResilience(t *testing.T) { forEachTarget(t, contractResilience) }

func contractResilience(t *testing.T, tg *target) {
	ctx := testCtx(t)

	t.Run("expired token is refreshed once", func(t *testing.T) {
		tg.needSim(t)
		ct := &countingTransport{}
		c := tg.connect(t, tg.admin, rcbuhttp.WithHTTPClient(&http.Client{Transport: ct, Timeout: 10 * time.Second}))
		must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent))
		tg.expireTokens()
		// A POST too: the 401 never reached the service logic, so it is replayed.
		if err := c.Agents.Enable(ctx, tg.agent); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
		must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent))
		if n := ct.auths.Load(); n != 2 {
			t.Errorf("identity calls = %d, want 2 (connect + one refresh)", n)
		}
	})
	t.Run("token refreshed before it expires", func(t *testing.T) {
		tg.needSim(t)
		ct := &countingTransport{}
		var skew atomic.Int64
		c := tg.connect(t, tg.admin, rcbuhttp.WithHTTPClient(&http.Client{Transport: ct}),
			rcbu.WithClock(func() time.Time { return tg.now().Add(time.Duration(skew.Load())) }))
		must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent))
		skew.Store(int64(24 * time.Hour))
		must[*rcbu.Agent](t)(c.Agents.Get(ctx, tg.agent))
		if n := ct.auths.Load(); n != 2 {
			t.Errorf("identity calls = %d, want 2", n)
		}
	})
	t.Run("GET retried after 503", func(t *testing.T) {
		tg.needSim(t)
		c := tg.connect(t, tg.admin)
		tg.failNext("GetAgent", http.StatusServiceUnavailable)
		tg.failNext("GetAgent", http.StatusBadGateway)
		if _, err := c.Agents.Get(ctx, tg.agent); err != nil {
			t.Fatalf("get after two transient errors: %v", err)
		}
		for range 4 {
			tg.failNext("ListAgents", http.StatusServiceUnavailable)
		}
		_, err := c.Agents.List(ctx)
		wantErr(t, err, rcbu.ErrUnavailable)
	})
	t.Run("POST not retried", func(t *testing.T) {
		tg.needSim(t)
		c := tg.connect(t, tg.admin)
		tg.failNext("EnableAgent", http.StatusServiceUnavailable)
		wantErr(t, c.Agents.Enable(ctx, tg.agent), rcbu.ErrUnavailable)
		if err := c.Agents.Enable(ctx, tg.agent); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("tenant isolation", func(t *testing.T) {
		if tg.otherAgent == 0 || tg.other.Username == "" {
			t.Skip("no second tenant")
		}
		admin := tg.connect(t, tg.admin)
		_, err := admin.Agents.Get(ctx, tg.otherAgent)
		wantErr(t, err, rcbu.ErrForbidden)
		other := tg.connect(t, tg.other)
		_, err = other.Agents.Get(ctx, tg.agent)
		wantErr(t, err, rcbu.ErrForbidden)
		_, err = other.Configurations.ListForAgent(ctx, tg.agent)
		wantErr(t, err, rcbu.ErrForbidden)
		for _, a := range must[[]rcbu.Agent](t)(other.Agents.List(ctx)) {
			if a.ID == tg.agent {
				t.Error("other tenant lists our agent")
			}
		}
	})
	t.Run("observer cannot start or create", func(t *testing.T) {
		if tg.observer.Username == "" {
			t.Skip("no observer user")
		}
		admin := tg.connect(t, tg.admin)
		cfg := newConfig(t, ctx, admin, tg.agent, "rbac")
		obs := tg.connect(t, tg.observer)
		must[[]rcbu.Agent](t)(obs.Agents.List(ctx))
		_, err := obs.Backups.Start(ctx, cfg.ID)
		wantErr(t, err, rcbu.ErrForbidden)
		_, err = obs.Configurations.Disable(ctx, cfg.ID)
		wantErr(t, err, rcbu.ErrForbidden)
		cr := tg.connect(t, tg.creator)
		wantErr(t, cr.Configurations.Delete(ctx, cfg.ID), rcbu.ErrForbidden)
	})
}
