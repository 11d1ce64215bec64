package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Passphrase bounds for vault encryption. The API takes any passphrase; a
// short one protects little and it cannot be recovered, so ask for a real one.
const (
	minPassphrase = 8
	maxPassphrase = 1024
)

func agentTarget(fa FleetAgent) string {
	return fmt.Sprintf("agent %d (%s)", fa.Agent.ID, fa.Agent.MachineName)
}

func agentIDTarget(id rcbu.AgentID) string {
	return "agent " + strconv.FormatInt(int64(id), 10)
}

// permit checks that actor has role min for op; a refusal wraps
// ErrForbidden and is recorded in the audit log against target.
func (o *Ops) permit(ctx context.Context, actor User, min Role, action AuditAction, target, op string) error {
	if actor.Role.Allows(min) {
		return nil
	}
	err := fmt.Errorf("%s: %w", op, ErrForbidden)
	o.audit.Record(ctx, actorEntry(actor, action, target, err))
	return err
}

// agentAction runs the shared steps of an agent action: the role check, the
// ownership lookup, the call, the cache invalidation and the audit entry
// (also on failure). The call's error is returned as an *UpstreamError.
func (o *Ops) agentAction(ctx context.Context, actor User, scope Scope, id rcbu.AgentID, min Role, action AuditAction, op string,
	call func(context.Context, FleetAgent, *rcbu.Client) (detail string, err error),
) (FleetAgent, error) {
	if err := o.permit(ctx, actor, min, action, agentIDTarget(id), op); err != nil {
		return FleetAgent{}, err
	}
	fa, c, err := o.fleet.Agent(ctx, scope, id)
	if err == nil {
		err = permitOn(actor, fa.AccountID, min)
	}
	if err != nil {
		o.audit.Record(ctx, actorEntry(actor, action, agentIDTarget(id), err))
		return FleetAgent{}, fmt.Errorf("%s: %w", op, err)
	}
	detail, err := call(ctx, fa, c)
	if err != nil {
		o.audit.Record(ctx, actorEntry(actor, action, agentTarget(fa), err))
		return fa, fmt.Errorf("%s: %w", op, err)
	}
	o.audit.Record(ctx, actorEntry(actor, action, agentTarget(fa), nil, detail))
	return fa, nil
}

// WakeAgent asks the agents of agent id's account to connect (the API wakes
// every agent of an account at once). Creator and up.
func (o *Ops) WakeAgent(ctx context.Context, actor User, scope Scope, id rcbu.AgentID) (FleetAgent, error) {
	return o.agentAction(ctx, actor, scope, id, RoleCreator, ActionAgentWake, "wake agent",
		func(ctx context.Context, fa FleetAgent, c *rcbu.Client) (string, error) {
			err := c.Agents.Wake(ctx)
			o.fleet.Invalidate(fa.AccountID)
			return "woke the account's agents", upstream("wake agents", "agent", err)
		})
}

// SetAgentEnabled enables or disables agent id. Creator and up.
func (o *Ops) SetAgentEnabled(ctx context.Context, actor User, scope Scope, id rcbu.AgentID, enabled bool) (FleetAgent, error) {
	action, op := ActionAgentEnable, "enable agent"
	if !enabled {
		action, op = ActionAgentDisable, "disable agent"
	}
	return o.agentAction(ctx, actor, scope, id, RoleCreator, action, op,
		func(ctx context.Context, fa FleetAgent, c *rcbu.Client) (string, error) {
			var err error
			if enabled {
				err = c.Agents.Enable(ctx, id)
			} else {
				err = c.Agents.Disable(ctx, id)
			}
			o.fleet.Invalidate(fa.AccountID)
			return "", upstream(op, "agent", err)
		})
}

// EncryptionRequest is the form that turns on vault encryption.
type EncryptionRequest struct {
	ConfirmName string // the agent's name, typed to confirm
	Passphrase  string
	Confirm     string // the passphrase again
}

// EnableEncryption turns on vault encryption for agent id, which cannot be
// undone. Admin only. The agent's name must be typed to confirm; the
// passphrase is encrypted for the agent's public key and never stored or
// logged.
func (o *Ops) EnableEncryption(ctx context.Context, actor User, scope Scope, id rcbu.AgentID, req EncryptionRequest) (FleetAgent, error) {
	return o.agentAction(ctx, actor, scope, id, RoleAdmin, ActionAgentEncrypt, "enable encryption",
		func(ctx context.Context, fa FleetAgent, c *rcbu.Client) (string, error) {
			v := validation{}
			if req.ConfirmName != fa.Agent.MachineName {
				v.add("confirm_name", "Type the agent's name exactly as shown to confirm.")
			}
			checkPassphrase(v, "passphrase", req.Passphrase)
			if req.Confirm != req.Passphrase {
				v.add("confirm", "The two passphrases do not match.")
			}
			if fa.Agent.IsEncrypted {
				v.add("", "This agent's vault is already encrypted.")
			}
			if fa.Agent.PublicKey == nil {
				v.add("", "The agent has not sent its public key yet; wake it and try again.")
			}
			if err := v.err(); err != nil {
				return "", err
			}
			hexPw, err := rcbu.EncryptPassphrase(fa.Agent.PublicKey, req.Passphrase)
			if err != nil {
				return "", unusableKey(err)
			}
			_, err = c.Agents.Encrypt(ctx, id, hexPw)
			o.fleet.Invalidate(fa.AccountID)
			return "", upstream("enable encryption", "agent", err)
		})
}

// PasswordChangeRequest is the form that changes a vault passphrase.
type PasswordChangeRequest struct {
	Current string
	New     string
	Confirm string
}

// ChangeEncryptionPassword replaces the passphrase of agent id's encrypted
// vault. Admin only. Neither passphrase is stored or logged.
func (o *Ops) ChangeEncryptionPassword(ctx context.Context, actor User, scope Scope, id rcbu.AgentID, req PasswordChangeRequest) (FleetAgent, error) {
	return o.agentAction(ctx, actor, scope, id, RoleAdmin, ActionAgentPassword, "change encryption password",
		func(ctx context.Context, fa FleetAgent, c *rcbu.Client) (string, error) {
			v := validation{}
			if req.Current == "" {
				v.add("current", "Enter the current passphrase.")
			}
			checkPassphrase(v, "new", req.New)
			if req.Confirm != req.New {
				v.add("confirm", "The two new passphrases do not match.")
			}
			if req.New != "" && req.New == req.Current {
				v.add("new", "Choose a passphrase different from the current one.")
			}
			if !fa.Agent.IsEncrypted {
				v.add("", "This agent's vault is not encrypted.")
			}
			if fa.Agent.PublicKey == nil {
				v.add("", "The agent has not sent its public key yet; wake it and try again.")
			}
			if err := v.err(); err != nil {
				return "", err
			}
			oldHex, err := rcbu.EncryptPassphrase(fa.Agent.PublicKey, req.Current)
			if err != nil {
				return "", unusableKey(err)
			}
			newHex, err := rcbu.EncryptPassphrase(fa.Agent.PublicKey, req.New)
			if err != nil {
				return "", unusableKey(err)
			}
			_, err = c.Agents.ChangeEncryptionPassword(ctx, id, oldHex, newHex)
			o.fleet.Invalidate(fa.AccountID)
			return "", upstream("change encryption password", "agent", err)
		})
}

// unusableKey explains an agent public key the passphrase cannot be
// encrypted with (malformed or too short): nothing was sent.
// The cause (err) is a key problem, not the user's: the message says what
// to do instead of echoing crypto details.
func unusableKey(err error) error {
	return fmt.Errorf("%w", &ValidationError{Fields: map[string]string{"": "The agent's public key cannot be used to encrypt the passphrase, so nothing was changed. Wake the agent so that it sends its key again, then retry. (" + keyReason(err) + ")"}})
}

func keyReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if i := strings.Index(msg, " (see"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func checkPassphrase(v validation, field, p string) {
	switch n := utf8.RuneCountInString(p); {
	case n == 0:
		v.add(field, "Enter a passphrase.")
	case n < minPassphrase:
		v.add(field, fmt.Sprintf("Use at least %d characters.", minPassphrase))
	case n > maxPassphrase:
		v.add(field, fmt.Sprintf("Use at most %d characters.", maxPassphrase))
	}
}

// DeleteAgent removes agent id and all its backup data, permanently. Admin
// only; the agent's name must be typed to confirm.
func (o *Ops) DeleteAgent(ctx context.Context, actor User, scope Scope, id rcbu.AgentID, confirmName string) (FleetAgent, error) {
	return o.agentAction(ctx, actor, scope, id, RoleAdmin, ActionAgentDelete, "delete agent",
		func(ctx context.Context, fa FleetAgent, c *rcbu.Client) (string, error) {
			if confirmName != fa.Agent.MachineName {
				return "", Invalid("confirm_name", "Type the agent's name exactly as shown to confirm.")
			}
			err := c.Agents.Delete(ctx, id)
			o.fleet.Invalidate(fa.AccountID)
			return "", upstream("delete agent", "agent", err)
		})
}

// MigrationTargets returns the agents agent id's vault may move to: in the
// same account, not id itself, unencrypted and without configurations.
func (o *Ops) MigrationTargets(ctx context.Context, scope Scope, id rcbu.AgentID) (FleetAgent, []FleetAgent, error) {
	src, _, err := o.fleet.Agent(ctx, scope, id)
	if err != nil {
		return FleetAgent{}, nil, fmt.Errorf("migration targets: %w", err)
	}
	acct, _ := scope.Account(src.AccountID)
	one := NewScope(acct)
	agents, problems, err := o.fleet.Agents(ctx, one)
	if err == nil && len(problems) > 0 {
		err = problems[0].Err
	}
	if err != nil {
		return src, nil, fmt.Errorf("migration targets: %w", err)
	}
	configs, problems, err := o.fleet.Configurations(ctx, one)
	if err == nil && len(problems) > 0 {
		err = problems[0].Err
	}
	if err != nil {
		return src, nil, fmt.Errorf("migration targets: %w", err)
	}
	hasConfig := map[rcbu.AgentID]bool{}
	for _, fc := range configs {
		hasConfig[fc.Configuration.AgentID] = true
	}
	var out []FleetAgent
	for _, fa := range agents {
		if fa.Agent.ID != id && !fa.Agent.IsEncrypted && !hasConfig[fa.Agent.ID] {
			out = append(out, fa)
		}
	}
	return src, out, nil
}

// MigrateVault moves agent id's vault to agent dst. Admin only. dst must be
// in the same account, unencrypted and without configurations, and neither
// vault may be encrypted; the rules are checked before the call, so the
// form can say what is wrong.
func (o *Ops) MigrateVault(ctx context.Context, actor User, scope Scope, id, dst rcbu.AgentID) (FleetAgent, error) {
	return o.agentAction(ctx, actor, scope, id, RoleAdmin, ActionAgentMigrateVault, "migrate vault",
		func(ctx context.Context, fa FleetAgent, c *rcbu.Client) (string, error) {
			if fa.Agent.IsEncrypted {
				return "", Invalid("", "An encrypted vault cannot be migrated.")
			}
			_, targets, err := o.MigrationTargets(ctx, scope, id)
			if err != nil {
				return "", err
			}
			var to *FleetAgent
			for i := range targets {
				if targets[i].Agent.ID == dst {
					to = &targets[i]
				}
			}
			if to == nil {
				return "", Invalid("destination", "Choose an agent of the same account that is not encrypted and has no configurations.")
			}
			err = c.Agents.MigrateVault(ctx, id, dst)
			o.fleet.Invalidate(fa.AccountID)
			return fmt.Sprintf("to agent %d (%s)", to.Agent.ID, to.Agent.MachineName), upstream("migrate vault", "agent", err)
		})
}

// AgentFilter selects agents on the agents page. Zero fields do not filter.
type AgentFilter struct {
	Query      string // a substring of the name, IP address or host server id (any case)
	State      string // "online", "offline", "disabled" or "unknown" (see AgentState)
	Datacenter string // e.g. "DFW"
}

// AgentStates lists the values AgentState returns, for filters.
func AgentStates() []string { return []string{"online", "offline", "disabled", "unknown"} }

// AgentState names an agent's state for filtering: disabled first, then
// the live status; an agent without live details is "unknown".
func AgentState(fa FleetAgent) string {
	switch {
	case fa.Agent.IsDisabled:
		return "disabled"
	case fa.Live && fa.Agent.Status == rcbu.AgentStatusOnline:
		return "online"
	case fa.Live && fa.Agent.Status == rcbu.AgentStatusOffline:
		return "offline"
	default:
		return "unknown"
	}
}

// FilterAgents returns the agents matching f, in their order.
func FilterAgents(list []FleetAgent, f AgentFilter) []FleetAgent {
	q := strings.ToLower(strings.TrimSpace(f.Query))
	var out []FleetAgent
	for _, fa := range list {
		a := fa.Agent
		if q != "" && !strings.Contains(strings.ToLower(a.MachineName), q) && !strings.Contains(strings.ToLower(a.IPAddress), q) &&
			!strings.Contains(strings.ToLower(a.HostServerID), q) && strconv.FormatInt(int64(a.ID), 10) != q {
			continue
		}
		if f.State != "" && AgentState(fa) != f.State {
			continue
		}
		if f.Datacenter != "" && !strings.EqualFold(a.Datacenter, f.Datacenter) {
			continue
		}
		out = append(out, fa)
	}
	return out
}

// AgentDetail is everything the agent page shows.
type AgentDetail struct {
	FleetAgent
	Configurations []ConfigurationState
	Jobs           []FleetActivity // queued or running, on this agent
	Recent         []FleetActivity // finished, newest first
	// ConfigurationsProblem and ActivityProblem say in words why a part is
	// missing; the page still shows the rest.
	ConfigurationsProblem string
	ActivityProblem       string
}

// recentOnAgent bounds the agent page's recent activity.
const recentOnAgent = 20

// AgentDetail reads agent id of the scope (live details) with its
// configurations and its activity, fresh from the API and concurrently.
func (o *Ops) AgentDetail(ctx context.Context, scope Scope, id rcbu.AgentID) (AgentDetail, error) {
	fa, c, err := o.fleet.Agent(ctx, scope, id)
	if err != nil {
		return AgentDetail{}, fmt.Errorf("agent detail: %w", err)
	}
	d := AgentDetail{FleetAgent: fa}
	var (
		cfgs    []rcbu.Configuration
		acts    []rcbu.Activity
		errC    error
		errA    error
		wg      sync.WaitGroup
		timeout = o.fleet.opts.Budget
	)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wg.Go(func() { cfgs, errC = c.Configurations.ListForAgent(ctx, id) })
	wg.Go(func() { acts, errA = c.Activity.ListForAgent(ctx, id) })
	wg.Wait()
	var fcs []FleetConfiguration
	if errC != nil {
		d.ConfigurationsProblem = Problem(errC, "agent")
	}
	for _, cf := range cfgs {
		if !cf.IsDeleted {
			fcs = append(fcs, FleetConfiguration{AccountID: fa.AccountID, AccountName: fa.AccountName, Configuration: cf})
		}
	}
	var facts []FleetActivity
	if errA != nil {
		d.ActivityProblem = Problem(errA, "agent")
	}
	for _, a := range acts {
		facts = append(facts, FleetActivity{AccountID: fa.AccountID, AccountName: fa.AccountName, Activity: a})
	}
	sortActivity(facts)
	d.Configurations = ConfigurationStates(fcs, facts, o.opts.Now(), o.opts.Overdue)
	d.Jobs, d.Recent = splitJobs(facts, recentOnAgent)
	return d, nil
}
