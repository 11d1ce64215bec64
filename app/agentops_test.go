package app

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func TestAgentEnableDisableWake(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	sc := env.scope(1)
	if _, err := env.ops.SetAgentEnabled(ctx, observer, sc, env.agent, false); !errors.Is(err, ErrForbidden) {
		t.Fatalf("observer disable: %v", err)
	}
	if _, err := env.ops.SetAgentEnabled(ctx, creator, sc, env.agent, false); err != nil {
		t.Fatal(err)
	}
	// The cache was dropped: the next read shows the change.
	fa, _, err := env.ops.Fleet().Agent(ctx, sc, env.agent)
	if err != nil || !fa.Agent.IsDisabled {
		t.Fatalf("after disable: %+v, %v", fa.Agent, err)
	}
	if _, err := env.ops.SetAgentEnabled(ctx, creator, sc, env.agent, true); err != nil {
		t.Fatal(err)
	}
	env.sim.SetAgentOnline(int64(env.agent), false)
	if _, err := env.ops.WakeAgent(ctx, creator, sc, env.agent); err != nil {
		t.Fatal(err)
	}
	fa, _, _ = env.ops.Fleet().Agent(ctx, sc, env.agent)
	if fa.Agent.IsDisabled || fa.Agent.Status != rcbu.AgentStatusOnline {
		t.Errorf("after enable and wake: %+v", fa.Agent)
	}
	for _, a := range []AuditAction{ActionAgentDisable, ActionAgentEnable, ActionAgentWake} {
		if e := env.audit.find(a); len(e) == 0 || e[len(e)-1].Outcome != OutcomeOK || e[len(e)-1].Target == "" {
			t.Errorf("audit %s = %+v", a, e)
		}
	}
	env.sim.FailNext(rcbusim.OpEnableAgent, http.StatusServiceUnavailable)
	_, err = env.ops.SetAgentEnabled(ctx, creator, sc, env.agent, false)
	var ue *UpstreamError
	if !errors.As(err, &ue) || ue.Message() != "Cloud Backup is not answering right now; try again." {
		t.Errorf("503: %v", err)
	}
	if e := env.audit.find(ActionAgentDisable); e[len(e)-1].Outcome != OutcomeFailed {
		t.Errorf("failed disable not audited as failed: %+v", e)
	}
}

func TestEnableEncryption(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	sc := env.scope(1)
	good := EncryptionRequest{ConfirmName: "web-01", Passphrase: "correct horse battery", Confirm: "correct horse battery"}
	if _, err := env.ops.EnableEncryption(ctx, creator, sc, env.agent, good); !errors.Is(err, ErrForbidden) {
		t.Fatalf("creator: %v", err)
	}
	bad := []struct {
		name  string
		req   EncryptionRequest
		field string
	}{
		{"wrong name", EncryptionRequest{ConfirmName: "web-1", Passphrase: good.Passphrase, Confirm: good.Passphrase}, "confirm_name"},
		{"short passphrase", EncryptionRequest{ConfirmName: "web-01", Passphrase: "short", Confirm: "short"}, "passphrase"},
		{"mismatch", EncryptionRequest{ConfirmName: "web-01", Passphrase: good.Passphrase, Confirm: "other passphrase"}, "confirm"},
	}
	for _, b := range bad {
		_, err := env.ops.EnableEncryption(ctx, admin, sc, env.agent, b.req)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields[b.field] == "" {
			t.Errorf("%s: err = %v", b.name, err)
		}
	}
	fa, _, _ := env.ops.Fleet().Agent(ctx, sc, env.agent)
	if fa.Agent.IsEncrypted {
		t.Fatal("encrypted by an invalid request")
	}
	// The simulator's agents carry 2048-bit keys that crypto/rsa accepts.
	if _, err := rcbu.EncryptPassphrase(fa.Agent.PublicKey, "probe"); err != nil {
		t.Fatalf("agent key unusable for encryption: %v", err)
	}
	if _, err := env.ops.EnableEncryption(ctx, admin, sc, env.agent, good); err != nil {
		t.Fatal(err)
	}
	fa, _, _ = env.ops.Fleet().Agent(ctx, sc, env.agent)
	if !fa.Agent.IsEncrypted {
		t.Error("not encrypted")
	}
	for _, e := range env.audit.find(ActionAgentEncrypt) {
		if e.Message != "" && (strings.Contains(e.Message, good.Passphrase) || strings.Contains(e.Target, good.Passphrase)) {
			t.Errorf("passphrase in the audit log: %+v", e)
		}
	}
	// Changing the passphrase needs an encrypted vault, which it now is.
	_, err := env.ops.ChangeEncryptionPassword(ctx, admin, sc, env.agent, PasswordChangeRequest{Current: good.Passphrase, New: "a new long passphrase", Confirm: "a new long passphrase"})
	if err != nil {
		t.Errorf("change passphrase: %v", err)
	}
	var ve *ValidationError
	_, err = env.ops.EnableEncryption(ctx, admin, sc, env.agent, good)
	if !errors.As(err, &ve) || ve.Fields[""] == "" {
		t.Errorf("second encryption: %v", err)
	}
}

func TestDeleteAgentNeedsTypedName(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	sc := env.scope(1)
	_, err := env.ops.DeleteAgent(ctx, admin, sc, env.agent, "WEB-01")
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Fields["confirm_name"] == "" {
		t.Fatalf("wrong name: %v", err)
	}
	if _, err := env.ops.DeleteAgent(ctx, creator, sc, env.agent, "web-01"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("creator: %v", err)
	}
	if _, err := env.ops.DeleteAgent(ctx, admin, sc, env.agent, "web-01"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.ops.Fleet().Agent(ctx, sc, env.agent); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted agent lookup: %v", err)
	}
	if e := env.audit.find(ActionAgentDelete); len(e) != 3 || e[2].Outcome != OutcomeOK {
		t.Errorf("audit = %+v", e)
	}
}

func TestMigrateVault(t *testing.T) {
	t.Parallel()
	env := newOpsEnv(t)
	ctx := ctxT(t)
	sc := env.scope(1)
	empty := rcbu.AgentID(env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "new-01", Online: true}))
	enc := rcbu.AgentID(env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "enc-01", Online: true, Encrypted: true}))
	busy := rcbu.AgentID(env.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "busy-01", Online: true}))
	if _, err := env.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: int64(busy), Name: "x", Inclusions: []string{"/x"}}); err != nil {
		t.Fatal(err)
	}
	theirs := rcbu.AgentID(env.sim.AddAgent(rcbusim.OtherTenant, rcbusim.AgentSeed{Name: "theirs", Online: true}))

	_, targets, err := env.ops.MigrationTargets(ctx, sc, env.agent)
	if err != nil || len(targets) != 1 || targets[0].Agent.ID != empty {
		t.Fatalf("targets = %+v, %v", targets, err)
	}
	for _, dst := range []rcbu.AgentID{enc, busy, theirs, env.agent} {
		_, err := env.ops.MigrateVault(ctx, admin, sc, env.agent, dst)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields["destination"] == "" {
			t.Errorf("migrate to %d: %v", dst, err)
		}
	}
	if _, err := env.ops.MigrateVault(ctx, admin, sc, env.agent, empty); err != nil {
		t.Fatal(err)
	}
	cfgs, err := env.clients[1].Configurations.ListForAgent(ctx, empty)
	if err != nil || len(cfgs) != 1 {
		t.Errorf("destination configurations = %v, %v", cfgs, err)
	}
}
