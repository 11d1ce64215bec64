package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Audit actions of configurations.
const (
	ActionConfigurationCreate  AuditAction = "configuration.create"
	ActionConfigurationUpdate  AuditAction = "configuration.update"
	ActionConfigurationEnable  AuditAction = "configuration.enable"
	ActionConfigurationDisable AuditAction = "configuration.disable"
	ActionConfigurationDelete  AuditAction = "configuration.delete"
	ActionConfigurationClone   AuditAction = "configuration.clone"
	ActionConfigurationImport  AuditAction = "configuration.import"
)

// Configurations carries the rules of backup configurations: listing and
// filtering, the detail page's data, and every change (create, edit,
// enable/disable, delete, clone, import), each checked against the actor's
// role, recorded in the audit log, and followed by Fleet.Invalidate.
type Configurations struct {
	fleet   *Fleet
	audit   *Audit
	overdue OverduePolicy
	now     func() time.Time
}

// NewConfigurations returns the configurations service; overdue decides
// which configurations the list flags as overdue.
func NewConfigurations(fleet *Fleet, audit *Audit, overdue OverduePolicy, now func() time.Time) *Configurations {
	return &Configurations{fleet: fleet, audit: audit, overdue: overdue, now: now}
}

// List returns the configurations of the scope that pass f, ordered by
// agent and name, with their last run and overdue verdict.
func (s *Configurations) List(ctx context.Context, scope Scope, f ConfigFilter) (ConfigList, error) {
	var (
		cfgs             []FleetConfiguration
		agents           []FleetAgent
		acts             []FleetActivity
		p1, p2, p3       []AccountProblem
		err1, err2, err3 error
		wg               sync.WaitGroup
	)
	wg.Add(3)
	go func() { defer wg.Done(); cfgs, p1, err1 = s.fleet.Configurations(ctx, scope) }()
	go func() { defer wg.Done(); agents, p2, err2 = s.fleet.Agents(ctx, scope) }()
	go func() { defer wg.Done(); acts, p3, err3 = s.fleet.Activity(ctx, scope) }()
	wg.Wait()
	if err := errors.Join(err1, err2, err3); err != nil {
		return ConfigList{}, fmt.Errorf("list configurations: %w", err)
	}
	// Without the activity the configurations still show, but their last
	// runs are unknown: that is said in the account's banner too.
	for i := range p3 {
		p3[i].Message = "Their last runs are unknown: " + p3[i].Message
	}
	out := ConfigList{Total: len(cfgs), Agents: agents, Problems: mergeProblems(p1, p2, p3)}
	byConfig := map[rcbu.ConfigurationID][]rcbu.Activity{}
	for _, a := range acts {
		if a.Activity.Type == rcbu.ActivityBackup {
			byConfig[a.Activity.ConfigurationID] = append(byConfig[a.Activity.ConfigurationID], a.Activity)
		}
	}
	now := s.now()
	for _, fc := range cfgs {
		c := fc.Configuration
		if c.IsDeleted || !f.matches(c) {
			continue
		}
		it := ConfigItem{FleetConfiguration: fc, Schedule: scheduleWords(c)}
		runs := byConfig[c.ID]
		for i := range runs {
			if it.Last == nil || runs[i].TimeOfActivity.After(it.Last.TimeOfActivity.Time) {
				it.Last = &runs[i]
			}
		}
		it.Overdue = s.overdue.Check(c, LastSuccess(c, runs), now)
		out.Items = append(out.Items, it)
	}
	sortItems(out.Items, f.Sort)
	return out, nil
}

// mergeProblems keeps one problem per account (the first seen).
func mergeProblems(lists ...[]AccountProblem) []AccountProblem {
	var out []AccountProblem
	seen := map[AccountID]bool{}
	for _, l := range lists {
		for _, p := range l {
			if !seen[p.AccountID] {
				seen[p.AccountID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// scheduleWords describes a configuration's schedule in words.
func scheduleWords(c rcbu.Configuration) string {
	s, err := c.Schedule()
	if err != nil {
		return "Unreadable schedule (" + string(c.Frequency) + ")"
	}
	return s.String()
}

// ConfigRun is one recent run of a configuration.
type ConfigRun struct {
	BackupID   rcbu.BackupID
	State      string
	When       time.Time
	Bytes      int64 // -1 when unknown
	Errors     int64 // -1 when unknown
	Restorable bool
}

// ConfigDetail is what the configuration page shows.
type ConfigDetail struct {
	FleetConfiguration
	Agent       FleetAgent
	Schedule    string
	Overdue     Overdue
	Runs        []ConfigRun // newest first
	RunsProblem string      // why the runs could not be read, in words
}

// maxRuns bounds the runs the detail page lists.
const maxRuns = 15

// Get returns one configuration of the scope with its agent and its last
// runs (restorable backups merged with the agent's activity). A failure to
// read the runs leaves RunsProblem set; the page still shows.
func (s *Configurations) Get(ctx context.Context, scope Scope, id rcbu.ConfigurationID) (ConfigDetail, error) {
	fc, cl, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return ConfigDetail{}, fmt.Errorf("get configuration %d: %w", id, err)
	}
	c := fc.Configuration
	d := ConfigDetail{FleetConfiguration: fc, Schedule: scheduleWords(c)}
	var (
		completed  []rcbu.CompletedBackup
		acts       []rcbu.Activity
		errC, errA error
		wg         sync.WaitGroup
	)
	wg.Add(3)
	go func() { defer wg.Done(); completed, errC = cl.Backups.ListCompleted(ctx, id) }()
	go func() { defer wg.Done(); acts, errA = cl.Activity.ListForAgent(ctx, c.AgentID) }()
	go func() {
		defer wg.Done()
		ag, _, err := s.fleet.Agent(ctx, NewScope(mustAccount(scope, fc.AccountID)), c.AgentID)
		if err != nil {
			ag = FleetAgent{AccountID: fc.AccountID, AccountName: fc.AccountName, Agent: rcbu.Agent{ID: c.AgentID, MachineName: c.MachineName, IsEncrypted: c.IsEncrypted}}
		}
		d.Agent = ag
	}()
	wg.Wait()
	if err := cmpErr(errC, errA); err != nil {
		d.RunsProblem = Problem(err, "configuration")
	}
	byID := map[rcbu.BackupID]*ConfigRun{}
	for _, a := range acts {
		if a.Type != rcbu.ActivityBackup || a.ConfigurationID != id {
			continue
		}
		bid := a.BackupID
		if bid == 0 {
			bid = rcbu.BackupID(a.ID)
		}
		d.Runs = append(d.Runs, ConfigRun{BackupID: bid, State: a.CurrentState, When: a.TimeOfActivity.Time, Bytes: -1, Errors: -1})
	}
	for i := range d.Runs {
		byID[d.Runs[i].BackupID] = &d.Runs[i]
	}
	for _, b := range completed {
		if r, ok := byID[b.ID]; ok {
			r.Bytes, r.Errors, r.Restorable = b.BytesSearched.Bytes, b.NumErrors, true
			continue
		}
		d.Runs = append(d.Runs, ConfigRun{BackupID: b.ID, State: string(rcbu.BackupCompleted), When: b.CompletedTime.Time, Bytes: b.BytesSearched.Bytes, Errors: b.NumErrors, Restorable: true})
	}
	slices.SortFunc(d.Runs, func(a, b ConfigRun) int { return b.When.Compare(a.When) })
	if len(d.Runs) > maxRuns {
		d.Runs = d.Runs[:maxRuns]
	}
	d.Overdue = s.overdue.Check(c, LastSuccess(c, acts), s.now())
	return d, nil
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// mustAccount returns the scope's account with that id; Fleet only returns
// objects of the scope's accounts, so it is there.
func mustAccount(scope Scope, id AccountID) Account {
	a, _ := scope.Account(id)
	return a
}

// configTarget names a configuration in the audit log.
func configTarget(id rcbu.ConfigurationID, name, agent string) string {
	if agent == "" {
		return fmt.Sprintf("configuration %d (%s)", id, name)
	}
	return fmt.Sprintf("configuration %d (%s) on %s", id, name, agent)
}

// EditableAgents returns the agents of the scope that configurations can be
// created on, for the form's select, ordered by name.
func (s *Configurations) EditableAgents(ctx context.Context, scope Scope) ([]FleetAgent, []AccountProblem, error) {
	agents, problems, err := s.fleet.Agents(ctx, scope)
	if err != nil {
		return nil, nil, fmt.Errorf("list agents: %w", err)
	}
	slices.SortStableFunc(agents, func(a, b FleetAgent) int {
		return strings.Compare(strings.ToLower(a.Agent.MachineName), strings.ToLower(b.Agent.MachineName))
	})
	return agents, problems, nil
}

// Create validates the form and creates the configuration on the chosen
// agent, which must belong to the scope. A duplicate name (409) is a
// message on the name field. Nothing is created when anything is wrong.
func (s *Configurations) Create(ctx context.Context, actor User, scope Scope, in ConfigurationInput) (FleetConfiguration, error) {
	return s.create(ctx, actor, scope, in, ActionConfigurationCreate, "")
}

func (s *Configurations) create(ctx context.Context, actor User, scope Scope, in ConfigurationInput, action AuditAction, detail string) (FleetConfiguration, error) {
	target := strings.TrimSpace(in.Name)
	fail := func(err error) (FleetConfiguration, error) {
		s.audit.Record(ctx, actorEntry(actor, action, "configuration "+strconv.Quote(target), err))
		return FleetConfiguration{}, fmt.Errorf("create configuration: %w", err)
	}
	if !actor.Role.Allows(RoleCreator) {
		return fail(ErrForbidden)
	}
	req, err := in.Request()
	if err != nil {
		return fail(err)
	}
	fa, cl, err := s.fleet.Agent(ctx, scope, req.AgentID)
	if errors.Is(err, ErrNotFound) {
		return fail(Invalid(FieldAgent, "Choose an agent from the list."))
	}
	if err != nil {
		return fail(err)
	}
	if err := permitOn(actor, fa.AccountID, RoleCreator); err != nil {
		return fail(Invalid(FieldAgent, "You may only read "+fa.AccountName+": choose an agent of an account where you are a Creator."))
	}
	target += " on " + fa.Agent.MachineName
	c, err := cl.Configurations.Create(ctx, req)
	if err != nil {
		return fail(configUpstream("create configuration", err))
	}
	s.fleet.Invalidate(fa.AccountID)
	s.audit.Record(ctx, actorEntry(actor, action, configTarget(c.ID, c.Name, fa.Agent.MachineName), nil, detailOr(detail, scheduleWords(*c))))
	return FleetConfiguration{AccountID: fa.AccountID, AccountName: fa.AccountName, Configuration: *c}, nil
}

func detailOr(detail, fallback string) string {
	if detail != "" {
		return detail
	}
	return fallback
}

// configUpstream turns an API failure of a create or update into what the
// form shows: a duplicate name (409) and the API's own validation become
// field messages; anything else stays an *UpstreamError.
func configUpstream(op string, err error) error {
	var rv *rcbu.ValidationError
	switch {
	case errors.Is(err, rcbu.ErrConflict):
		return Invalid(FieldName, "A configuration with this name already exists on this agent. Choose another name.")
	case errors.As(err, &rv):
		v := validation{}
		for k, msg := range rv.Fields {
			v.add(formField(k), sentence(msg))
		}
		return v.err()
	}
	return upstream(op, "configuration", err)
}

// permitted fetches configuration id of the scope, with its account's client,
// for an actor who needs min: as a role at all (checked before anything is
// fetched) and on the configuration's account.
func (s *Configurations) permitted(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, min Role) (FleetConfiguration, *rcbu.Client, error) {
	if !actor.Role.Allows(min) {
		return FleetConfiguration{}, nil, ErrForbidden
	}
	fc, cl, err := s.fleet.Configuration(ctx, scope, id)
	if err == nil {
		err = permitOn(actor, fc.AccountID, min)
	}
	return fc, cl, err
}

// Update validates the form and replaces the configuration's settings. The
// agent cannot change: the form's agent is ignored.
func (s *Configurations) Update(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, in ConfigurationInput) (FleetConfiguration, error) {
	target := fmt.Sprintf("configuration %d", id)
	fail := auditedFail[FleetConfiguration](ctx, s.audit, actor, ActionConfigurationUpdate, &target, fmt.Sprintf("update configuration %d", id))
	fc, cl, err := s.permitted(ctx, actor, scope, id, RoleCreator)
	if err != nil {
		return fail(err)
	}
	old := fc.Configuration
	target = configTarget(id, old.Name, old.MachineName)
	in.AgentID = strconv.FormatInt(int64(old.AgentID), 10)
	req, err := in.Request()
	if err != nil {
		return fail(err)
	}
	req.ScheduleID = old.ScheduleID
	if err := cl.Configurations.Update(ctx, id, req); err != nil {
		return fail(configUpstream("update configuration", err))
	}
	s.fleet.Invalidate(fc.AccountID)
	s.audit.Record(ctx, actorEntry(actor, ActionConfigurationUpdate, configTarget(id, req.Name, old.MachineName), nil, req.Schedule.String()))
	fc.Configuration.Name = req.Name
	return fc, nil
}

// SetEnabled enables or disables a configuration's schedule.
func (s *Configurations) SetEnabled(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, enable bool) (FleetConfiguration, error) {
	action := ActionConfigurationDisable
	if enable {
		action = ActionConfigurationEnable
	}
	target := fmt.Sprintf("configuration %d", id)
	verb := "disable"
	if enable {
		verb = "enable"
	}
	fail := auditedFail[FleetConfiguration](ctx, s.audit, actor, action, &target, fmt.Sprintf("%s configuration %d", verb, id))
	fc, cl, err := s.permitted(ctx, actor, scope, id, RoleCreator)
	if err != nil {
		return fail(err)
	}
	target = configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName)
	var c *rcbu.Configuration
	if enable {
		c, err = cl.Configurations.Enable(ctx, id)
	} else {
		c, err = cl.Configurations.Disable(ctx, id)
	}
	if err != nil {
		return fail(upstream("set configuration state", "configuration", err))
	}
	s.fleet.Invalidate(fc.AccountID)
	s.audit.Record(ctx, actorEntry(actor, action, target, nil))
	fc.Configuration = *c
	return fc, nil
}

// Delete deletes a configuration (Admin only). Its backups stay
// restorable until they expire.
func (s *Configurations) Delete(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID) (FleetConfiguration, error) {
	target := fmt.Sprintf("configuration %d", id)
	fail := auditedFail[FleetConfiguration](ctx, s.audit, actor, ActionConfigurationDelete, &target, fmt.Sprintf("delete configuration %d", id))
	fc, cl, err := s.permitted(ctx, actor, scope, id, RoleAdmin)
	if err != nil {
		return fail(err)
	}
	target = configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName)
	if err := cl.Configurations.Delete(ctx, id); err != nil {
		return fail(upstream("delete configuration", "configuration", err))
	}
	s.fleet.Invalidate(fc.AccountID)
	s.audit.Record(ctx, actorEntry(actor, ActionConfigurationDelete, target, nil))
	return fc, nil
}

// CloneInput is the clone form: the agent to copy to and the new name.
type CloneInput struct {
	AgentID string
	Name    string
}

// Clone copies a configuration (schedule, retention, notifications, paths)
// to an agent of the scope under a new name.
func (s *Configurations) Clone(ctx context.Context, actor User, scope Scope, id rcbu.ConfigurationID, ci CloneInput) (FleetConfiguration, error) {
	if !actor.Role.Allows(RoleCreator) {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationClone, fmt.Sprintf("configuration %d", id), ErrForbidden))
		return FleetConfiguration{}, fmt.Errorf("clone configuration %d: %w", id, ErrForbidden)
	}
	fc, _, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationClone, fmt.Sprintf("configuration %d", id), err))
		return FleetConfiguration{}, fmt.Errorf("clone configuration %d: %w", id, err)
	}
	req, err := fc.Configuration.Request()
	if err != nil {
		err = Invalid("", "The configuration's schedule cannot be read, so it cannot be cloned: "+err.Error())
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationClone, configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName), err))
		return FleetConfiguration{}, fmt.Errorf("clone configuration %d: %w", id, err)
	}
	in := InputFromRequest(req)
	in.AgentID, in.Name = ci.AgentID, ci.Name
	return s.create(ctx, actor, scope, in, ActionConfigurationClone, "from "+configTarget(id, fc.Configuration.Name, fc.Configuration.MachineName))
}

// Export returns a configuration as JSON in the request shape that Import
// (and rcbu.LoadConfigurationRequest) accepts, and a file name for it.
func (s *Configurations) Export(ctx context.Context, scope Scope, id rcbu.ConfigurationID) ([]byte, string, error) {
	fc, _, err := s.fleet.Configuration(ctx, scope, id)
	if err != nil {
		return nil, "", fmt.Errorf("export configuration %d: %w", id, err)
	}
	req, err := fc.Configuration.Request()
	if err != nil {
		return nil, "", fmt.Errorf("export configuration %d: %w", id, err)
	}
	b, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("export configuration %d: %w", id, err)
	}
	return append(b, '\n'), fmt.Sprintf("configuration-%d.json", id), nil
}

// MaxImportBytes bounds an imported configuration (the API's own bound on
// an agent's configuration document).
const MaxImportBytes = 1 << 20

// Import reads a configuration from JSON and creates it on the chosen agent
// of the scope. Unreadable JSON is a message on the "json" field. When the
// JSON reads but its content breaks a rule, the error is a validation error
// and in is the content as a form, for the user to fix and save.
func (s *Configurations) Import(ctx context.Context, actor User, scope Scope, agentID string, data []byte) (fc FleetConfiguration, in ConfigurationInput, err error) {
	if !actor.Role.Allows(RoleCreator) {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationImport, "configuration", ErrForbidden))
		return FleetConfiguration{}, in, fmt.Errorf("import configuration: %w", ErrForbidden)
	}
	v := validation{}
	if id, perr := strconv.ParseInt(strings.TrimSpace(agentID), 10, 64); perr != nil || id <= 0 {
		v.add(FieldAgent, "Choose the agent to create the configuration on.")
	}
	var req *rcbu.ConfigurationRequest
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		v.add("json", "Choose a JSON file or paste the JSON.")
	case len(data) > MaxImportBytes:
		v.add("json", "The JSON is larger than 1 MiB.")
	default:
		r, lerr := rcbu.LoadConfigurationRequest(bytes.NewReader(data))
		if lerr != nil {
			v.add("json", "This is not a configuration in JSON: "+importProblem(lerr))
		} else {
			req = r
		}
	}
	if verr := v.err(); verr != nil {
		s.audit.Record(ctx, actorEntry(actor, ActionConfigurationImport, "configuration", verr))
		return FleetConfiguration{}, in, fmt.Errorf("import configuration: %w", verr)
	}
	in = InputFromRequest(req)
	in.AgentID = strings.TrimSpace(agentID)
	fc, err = s.create(ctx, actor, scope, in, ActionConfigurationImport, "imported from JSON")
	return fc, in, err
}

// importProblem shortens a JSON decoding error for people.
func importProblem(err error) string {
	msg := err.Error()
	for _, p := range []string{"rcbu: load configuration: ", "rcbu: configuration: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	if r := []rune(msg); len(r) > 200 {
		msg = string(r[:200]) + "…"
	}
	return msg + "."
}
