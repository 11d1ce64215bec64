package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// IncidentID identifies an incident.
type IncidentID int64

// String returns the id in decimal.
func (id IncidentID) String() string { return strconv.FormatInt(int64(id), 10) }

// DeliveryID identifies one notice to one channel (an outbox row).
type DeliveryID int64

// String returns the id in decimal.
func (id DeliveryID) String() string { return strconv.FormatInt(int64(id), 10) }

// IncidentState says whether an incident is still going on.
type IncidentState string

// The incident states.
const (
	IncidentOpen     IncidentState = "open"
	IncidentResolved IncidentState = "resolved"
)

// Incident is one problem a rule found, from the evaluation that first saw
// it until one that no longer does. There is at most one open incident per
// account, rule and object: that is the deduplication.
type Incident struct {
	ID        IncidentID
	AccountID AccountID
	Rule      RuleKind
	Object    string
	Group     string
	State     IncidentState
	Title     string
	Detail    string
	Happened  time.Time
	Opened    time.Time
	Resolved  time.Time
}

// NoticeEvent says what a notice is about.
type NoticeEvent string

// The notice events. The values appear in webhook payloads and headers.
const (
	EventOpened   NoticeEvent = "alert.opened"
	EventResolved NoticeEvent = "alert.resolved"
	EventTest     NoticeEvent = "test"
	EventDigest   NoticeEvent = "digest"
)

// Notice is what a channel sends: a webhook gets it as JSON, Slack and
// email get Subject and Body.
type Notice struct {
	Event      NoticeEvent `json:"event"`
	AccountID  AccountID   `json:"account_id"`
	Account    string      `json:"account"`
	IncidentID IncidentID  `json:"incident_id,omitempty"`
	Rule       RuleKind    `json:"rule,omitempty"`
	Object     string      `json:"object,omitempty"`
	Title      string      `json:"title"`
	Text       string      `json:"text"`
	HappenedAt time.Time   `json:"happened_at,omitzero"`
	OpenedAt   time.Time   `json:"opened_at,omitzero"`
	ResolvedAt time.Time   `json:"resolved_at,omitzero"`
	Digest     *Digest     `json:"digest,omitempty"`
}

// Subject is the notice in one line: an email subject, a Slack header.
func (n Notice) Subject() string {
	switch n.Event {
	case EventResolved:
		return "Resolved: " + n.Title
	case EventTest:
		return "Test notice from RCBU Console"
	}
	return n.Title
}

// Body is the notice as plain text.
func (n Notice) Body() string {
	var b strings.Builder
	switch n.Event {
	case EventDigest:
		if n.Digest != nil {
			return n.Digest.Text()
		}
	case EventResolved:
		b.WriteString("This problem has ended:\n\n")
	}
	b.WriteString(n.Title)
	b.WriteString("\n")
	if n.Text != "" {
		b.WriteString("\n")
		b.WriteString(n.Text)
		b.WriteString("\n")
	}
	b.WriteString("\nAccount: ")
	b.WriteString(n.Account)
	if n.Rule != "" {
		b.WriteString("\nRule: ")
		b.WriteString(n.Rule.Label())
	}
	if !n.OpenedAt.IsZero() {
		b.WriteString("\nOpened: ")
		b.WriteString(n.OpenedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	if !n.ResolvedAt.IsZero() {
		b.WriteString("\nResolved: ")
		b.WriteString(n.ResolvedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	b.WriteString("\n")
	return b.String()
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery states.
const (
	DeliveryPending DeliveryStatus = "pending" // waiting for its (next) attempt
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed" // gave up after the last attempt
)

// Delivery is one notice to one channel: an outbox row the dispatcher
// works through, and a line of the channel's delivery log.
type Delivery struct {
	ID          DeliveryID
	ChannelID   ChannelID
	IncidentID  IncidentID // 0 for tests and digests
	Event       NoticeEvent
	Title       string
	Payload     []byte // the Notice as JSON
	Status      DeliveryStatus
	Attempts    int
	NextAttempt time.Time
	LastError   string
	LastStatus  int // HTTP status or SMTP reply code of the last attempt
	Created     time.Time
	Sent        time.Time
}

// NewIncident is an incident to open, with the notice to queue for each
// channel its rule is routed to, in the same transaction.
type NewIncident struct {
	AccountID AccountID
	Finding   Finding
	Opened    time.Time
	Payload   []byte
	Channels  []ChannelID
}

// IncidentResolution resolves an open incident and queues the resolution
// notice for every channel that was sent its alert; alerts still waiting
// to be sent are dropped instead (there is nothing left to tell).
type IncidentResolution struct {
	ID       IncidentID
	Resolved time.Time
	Title    string
	Payload  []byte
}

// DigestFrequency is how often an account's digest goes out.
type DigestFrequency string

// The digest frequencies.
const (
	DigestOff    DigestFrequency = "off"
	DigestDaily  DigestFrequency = "daily"
	DigestWeekly DigestFrequency = "weekly"
)

// AlertSettings are an account's rule thresholds and digest schedule.
type AlertSettings struct {
	AccountID AccountID
	// WatchSince is the first evaluation: backups that ended before it are
	// history, not news, and raise no alert.
	WatchSince      time.Time
	OfflineHours    int
	GrowthFactor    float64
	DigestFrequency DigestFrequency
	DigestHour      int // UTC
	DigestWeekday   time.Weekday
	DigestChannel   ChannelID // 0: none
	DigestLast      time.Time
	Updated         time.Time
}

// AlertStore is the persistence Alerts needs.
type AlertStore interface {
	// EnsureAlertSettings returns an account's settings, creating the
	// defaults (WatchSince = now) on first use.
	EnsureAlertSettings(ctx context.Context, account AccountID, now time.Time) (AlertSettings, error)
	// SaveAlertSettings writes them.
	SaveAlertSettings(ctx context.Context, s AlertSettings) error
	// OverdueGraces returns the per-configuration grace overrides.
	OverdueGraces(ctx context.Context, account AccountID) (map[rcbu.ConfigurationID]time.Duration, error)
	// SetOverdueGrace stores one override.
	SetOverdueGrace(ctx context.Context, account AccountID, cfg rcbu.ConfigurationID, grace time.Duration, now time.Time) error
	// DeleteOverdueGrace removes one override (none is fine).
	DeleteOverdueGrace(ctx context.Context, account AccountID, cfg rcbu.ConfigurationID) error
	// TrackOffline records the agents seen offline (keeping an earlier
	// first-seen time) and forgets those seen online; it returns since when
	// each agent recorded as offline has been.
	TrackOffline(ctx context.Context, account AccountID, offline, online []rcbu.AgentID, now time.Time) (map[rcbu.AgentID]time.Time, error)
	// AlertRuns returns the newest perConfig backup snapshots of every
	// configuration of the account.
	AlertRuns(ctx context.Context, account AccountID, perConfig int) ([]Report, error)
	// LastSuccesses returns the end of each configuration's newest
	// Completed backup snapshot.
	LastSuccesses(ctx context.Context, account AccountID) (map[rcbu.ConfigurationID]time.Time, error)
	// OpenIncidents returns the account's open incidents.
	OpenIncidents(ctx context.Context, account AccountID) ([]Incident, error)
	// OpenIncident opens an incident unless one is open for the same rule
	// and object (or, for Once findings, has ever existed), and queues its
	// deliveries; it reports whether it opened one.
	OpenIncident(ctx context.Context, n NewIncident) (Incident, bool, error)
	// ResolveIncident resolves an open incident (see IncidentResolution);
	// it reports false when the incident was not open.
	ResolveIncident(ctx context.Context, r IncidentResolution) (bool, error)
	// ListIncidents returns the newest incidents of the accounts, open ones first.
	ListIncidents(ctx context.Context, accounts []AccountID, limit int) ([]Incident, error)

	// CreateChannel inserts a channel; a taken name wraps ErrConflict.
	CreateChannel(ctx context.Context, c Channel) (Channel, error)
	// UpdateChannel writes a channel; a taken name wraps ErrConflict.
	UpdateChannel(ctx context.Context, c Channel) error
	// DeleteChannel deletes a channel with its delivery log.
	DeleteChannel(ctx context.Context, id ChannelID) error
	// Channel returns one channel; a missing one wraps ErrNotFound.
	Channel(ctx context.Context, id ChannelID) (Channel, error)
	// ListChannels returns an account's channels by name.
	ListChannels(ctx context.Context, account AccountID) ([]Channel, error)

	// EnqueueDelivery inserts a pending delivery.
	EnqueueDelivery(ctx context.Context, d Delivery) (Delivery, error)
	// DueDeliveries returns up to limit pending deliveries due at now, oldest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// NextDeliveryAt returns when the earliest pending delivery is due.
	NextDeliveryAt(ctx context.Context) (time.Time, bool, error)
	// SaveAttempt writes a delivery's status after an attempt.
	SaveAttempt(ctx context.Context, d Delivery) error
	// ListDeliveries returns up to limit deliveries of a channel, newest
	// first, older than before when it is set.
	ListDeliveries(ctx context.Context, channel ChannelID, before DeliveryID, limit int) ([]Delivery, error)

	// DigestStats summarises an account's backup snapshots that ended in [from, to).
	DigestStats(ctx context.Context, account AccountID, from, to time.Time) (DigestStats, error)
}

// alertAccounts lists and finds the accounts; *Accounts is one.
type alertAccounts interface {
	List(ctx context.Context) ([]Account, error)
	Get(ctx context.Context, id AccountID) (Account, error)
}

// AlertsOptions tune Alerts. Zero fields take the defaults.
type AlertsOptions struct {
	Now func() time.Time
	Log *slog.Logger
	// EvalInterval is how often every account's rules run without a
	// trigger (default 5 min): overdue and offline need time, not events.
	EvalInterval time.Duration
	// MaxAttempts bounds the attempts per delivery (default 8).
	MaxAttempts int
	// RetryBase is the delay after the first failed attempt, doubled after
	// each further one (default 30 s), up to RetryMax (default 1 h).
	RetryBase time.Duration
	RetryMax  time.Duration
	// Overdue is the default overdue policy (app/overdue.go).
	Overdue OverduePolicy
}

func (o AlertsOptions) withDefaults() AlertsOptions {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.EvalInterval <= 0 {
		o.EvalInterval = 5 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	if o.Overdue == (OverduePolicy{}) {
		o.Overdue = DefaultOverduePolicy()
	}
	return o
}

// Audit actions of the alerts feature.
const (
	ActionChannelCreate   AuditAction = "alert_channel.create"
	ActionChannelUpdate   AuditAction = "alert_channel.update"
	ActionChannelDelete   AuditAction = "alert_channel.delete"
	ActionChannelTest     AuditAction = "alert_channel.test"
	ActionAlertSettings   AuditAction = "alert_settings.update"
	ActionOverdueGrace    AuditAction = "alert_settings.overdue_grace"
	ActionDigestSend      AuditAction = "alert_digest.send"
	dispatchBatch                     = 50
	defaultDeliveryPage               = 50
	maxDeliveryPage                   = 200
	evaluationFleetBudget             = 30 * time.Second
)

// Alerts evaluates the alert rules of every account, keeps incidents (one
// per problem until it resolves), queues notices to the channels each rule
// is routed to, and delivers them with retries from a persistent outbox.
// It also sends the digests. Changes to channels and settings are
// Admin-only and audit-logged.
type Alerts struct {
	store    AlertStore
	sealer   *Sealer
	fleet    *Fleet
	accounts alertAccounts
	audit    *Audit
	senders  SenderFactory
	opts     AlertsOptions

	evalMu  sync.Mutex
	evaling map[AccountID]*sync.Mutex // one evaluation at a time per account

	mu       sync.Mutex
	pending  map[AccountID]bool // accounts to evaluate soon
	evalKick chan struct{}
	sendKick chan struct{}
}

// NewAlerts returns the alerts service; senders delivers to the channels.
func NewAlerts(store AlertStore, sealer *Sealer, fleet *Fleet, accounts alertAccounts, audit *Audit, senders SenderFactory, opts AlertsOptions) *Alerts {
	return &Alerts{
		store: store, sealer: sealer, fleet: fleet, accounts: accounts, audit: audit, senders: senders, opts: opts.withDefaults(),
		evaling:  map[AccountID]*sync.Mutex{},
		pending:  map[AccountID]bool{},
		evalKick: make(chan struct{}, 1),
		sendKick: make(chan struct{}, 1),
	}
}

// Sender delivers notices to one channel. status is the receiver's answer
// (an HTTP status or an SMTP reply code), 0 when none came; the error says
// in words why the notice was not delivered.
type Sender interface {
	Send(ctx context.Context, id DeliveryID, n Notice) (status int, err error)
}

// SenderFactory makes the Sender of a channel from its settings and its
// opened secret; *notify.Senders is one.
type SenderFactory interface {
	Sender(c Channel, secret string) (Sender, error)
}

// Evaluator is what the report sync and the operations service call when an
// account has new data; *Alerts is one.
type Evaluator interface {
	Evaluate(ctx context.Context, account AccountID) (EvalResult, error)
}

// EvalResult says what one evaluation changed.
type EvalResult struct {
	Opened   int
	Resolved int
	// Skipped lists the rules that could not run because the API did not
	// answer; their incidents are left as they were.
	Skipped []RuleKind
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Trigger asks the alerts loop to evaluate an account soon, without
// waiting.
func (a *Alerts) Trigger(account AccountID) {
	a.mu.Lock()
	a.pending[account] = true
	a.mu.Unlock()
	kick(a.evalKick)
}

// AfterSync is the report sync's hook (SyncOptions.AfterSync): a sync pass
// that stored reports, or any successful pass, triggers an evaluation.
func (a *Alerts) AfterSync(_ context.Context, account AccountID, _ int, err error) {
	if err == nil {
		a.Trigger(account)
	}
}

// SnapshotHook wraps the Snapshotter that Ops calls when a job run through
// the dashboard ends: once the report is stored, the account's rules run.
func (a *Alerts) SnapshotHook(inner Snapshotter) Snapshotter {
	return snapshotHook{inner: inner, alerts: a}
}

type snapshotHook struct {
	inner  Snapshotter
	alerts *Alerts
}

func (h snapshotHook) SnapshotBackup(ctx context.Context, account AccountID, id rcbu.BackupID) error {
	err := h.inner.SnapshotBackup(ctx, account, id)
	if err == nil {
		h.alerts.Trigger(account)
	}
	return err
}

func (h snapshotHook) SnapshotRestore(ctx context.Context, account AccountID, id rcbu.RestoreID) error {
	return h.inner.SnapshotRestore(ctx, account, id)
}

// accountLock returns the lock that serialises one account's evaluations.
func (a *Alerts) accountLock(id AccountID) *sync.Mutex {
	a.evalMu.Lock()
	defer a.evalMu.Unlock()
	m := a.evaling[id]
	if m == nil {
		m = &sync.Mutex{}
		a.evaling[id] = m
	}
	return m
}

// Evaluate runs every rule of one account now: it opens an incident (and
// queues its alert to each channel routed to the rule) for each new
// problem, and resolves the incidents whose problem has ended (queueing
// one resolution notice to each channel that was told). A rule whose API
// data cannot be read is skipped, leaving its incidents as they are.
func (a *Alerts) Evaluate(ctx context.Context, account AccountID) (EvalResult, error) {
	lock := a.accountLock(account)
	lock.Lock()
	defer lock.Unlock()
	var res EvalResult
	acct, err := a.accounts.Get(ctx, account)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts of account %d: %w", account, err)
	}
	now := a.opts.Now()
	st, err := a.store.EnsureAlertSettings(ctx, account, now)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts: %w", err)
	}
	runs, err := a.store.AlertRuns(ctx, account, GrowthWindow+1)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts: %w", err)
	}
	lastOK, err := a.store.LastSuccesses(ctx, account)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts: %w", err)
	}
	openList, err := a.store.OpenIncidents(ctx, account)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts: %w", err)
	}
	open := map[RuleKind]map[string]Incident{}
	openOf := func(r RuleKind) []OpenIncident {
		var out []OpenIncident
		for _, inc := range open[r] {
			out = append(out, OpenIncident{Object: inc.Object, Group: inc.Group, At: inc.Happened})
		}
		return out
	}
	for _, inc := range openList {
		if open[inc.Rule] == nil {
			open[inc.Rule] = map[string]Incident{}
		}
		open[inc.Rule][inc.Object] = inc
	}
	results := map[RuleKind]RuleResult{
		RuleBackupFailed: FailedBackups(runs, lastOK, st.WatchSince, openOf(RuleBackupFailed)),
		RuleGrowth:       GrowthJumps(runs, st.GrowthFactor, st.WatchSince, openOf(RuleGrowth)),
	}

	fctx, cancel := context.WithTimeout(ctx, evaluationFleetBudget)
	defer cancel()
	scope := NewScope(acct)
	if r, ok, err := a.overdue(fctx, scope, account, lastOK, now, openOf(RuleOverdue)); err != nil {
		return res, err
	} else if ok {
		results[RuleOverdue] = r
	} else {
		res.Skipped = append(res.Skipped, RuleOverdue)
	}
	if r, ok, err := a.offline(fctx, scope, account, st, now, openOf(RuleAgentOffline)); err != nil {
		return res, err
	} else if ok {
		results[RuleAgentOffline] = r
	} else {
		res.Skipped = append(res.Skipped, RuleAgentOffline)
	}

	channels, err := a.store.ListChannels(ctx, account)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts: %w", err)
	}
	for _, rule := range RuleKinds() {
		r, ok := results[rule]
		if !ok {
			continue
		}
		var routed []ChannelID
		for _, c := range channels {
			if c.Routes(rule) {
				routed = append(routed, c.ID)
			}
		}
		for _, f := range r.Firing {
			if _, isOpen := open[rule][f.Object]; isOpen {
				continue
			}
			n := Notice{Event: EventOpened, AccountID: account, Account: acct.Name, Rule: rule, Object: f.Object,
				Title: f.Title, Text: f.Detail, HappenedAt: f.At.UTC(), OpenedAt: now.UTC()}
			payload, err := json.Marshal(n)
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			_, opened, err := a.store.OpenIncident(ctx, NewIncident{AccountID: account, Finding: f, Opened: now, Payload: payload, Channels: routed})
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			if opened {
				res.Opened++
			}
		}
		for _, obj := range r.Resolved {
			inc, ok := open[rule][obj]
			if !ok {
				continue
			}
			n := Notice{Event: EventResolved, AccountID: account, Account: acct.Name, IncidentID: inc.ID, Rule: rule, Object: obj,
				Title: inc.Title, Text: inc.Detail, HappenedAt: inc.Happened.UTC(), OpenedAt: inc.Opened.UTC(), ResolvedAt: now.UTC()}
			payload, err := json.Marshal(n)
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			done, err := a.store.ResolveIncident(ctx, IncidentResolution{ID: inc.ID, Resolved: now, Title: "Resolved: " + inc.Title, Payload: payload})
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			if done {
				res.Resolved++
			}
		}
	}
	if res.Opened > 0 || res.Resolved > 0 {
		kick(a.sendKick)
	}
	return res, nil
}

// overdue runs the overdue rule; ok is false when the API could not be read.
func (a *Alerts) overdue(ctx context.Context, scope Scope, account AccountID, lastOK map[rcbu.ConfigurationID]time.Time, now time.Time, open []OpenIncident) (RuleResult, bool, error) {
	cfgs, probs, err := a.fleet.Configurations(ctx, scope)
	if err != nil || len(probs) > 0 {
		a.logSkip(ctx, account, RuleOverdue, err, probs)
		return RuleResult{}, false, nil
	}
	acts, probs, err := a.fleet.Activity(ctx, scope)
	if err != nil || len(probs) > 0 {
		a.logSkip(ctx, account, RuleOverdue, err, probs)
		return RuleResult{}, false, nil
	}
	agents, _, _ := a.fleet.Agents(ctx, scope) // names only; the rule works without them
	names := map[rcbu.AgentID]string{}
	for _, ag := range agents {
		names[ag.Agent.ID] = ag.Agent.MachineName
	}
	graces, err := a.store.OverdueGraces(ctx, account)
	if err != nil {
		return RuleResult{}, false, fmt.Errorf("evaluate alerts: %w", err)
	}
	activity := make([]rcbu.Activity, 0, len(acts))
	for _, fa := range acts {
		activity = append(activity, fa.Activity)
	}
	in := make([]OverdueInput, 0, len(cfgs))
	for _, fc := range cfgs {
		c := fc.Configuration
		last := LastSuccess(c, activity)
		if t := lastOK[c.ID]; t.After(last) {
			last = t
		}
		g, has := graces[c.ID]
		in = append(in, OverdueInput{Configuration: c, AgentName: cmp.Or(c.MachineName, names[c.AgentID]), LastSuccess: last, Grace: g, HasGrace: has})
	}
	return OverdueConfigurations(in, a.opts.Overdue, now, open), true, nil
}

// offline runs the agent_offline rule; ok is false when the API could not
// be read.
func (a *Alerts) offline(ctx context.Context, scope Scope, account AccountID, st AlertSettings, now time.Time, open []OpenIncident) (RuleResult, bool, error) {
	agents, probs, err := a.fleet.AgentsLive(ctx, scope)
	if err != nil || len(probs) > 0 {
		a.logSkip(ctx, account, RuleAgentOffline, err, probs)
		return RuleResult{}, false, nil
	}
	var off, on []rcbu.AgentID
	for _, fa := range agents {
		switch {
		case !fa.Live:
		case fa.Agent.Status == rcbu.AgentStatusOffline:
			off = append(off, fa.Agent.ID)
		default:
			on = append(on, fa.Agent.ID)
		}
	}
	since, err := a.store.TrackOffline(ctx, account, off, on, now)
	if err != nil {
		return RuleResult{}, false, fmt.Errorf("evaluate alerts: %w", err)
	}
	in := make([]AgentPresence, 0, len(agents))
	for _, fa := range agents {
		p := AgentPresence{ID: fa.Agent.ID, Name: fa.Agent.MachineName, Disabled: fa.Agent.IsDisabled, Known: fa.Live}
		if fa.Live && fa.Agent.Status == rcbu.AgentStatusOffline {
			p.OfflineSince = since[fa.Agent.ID]
		}
		in = append(in, p)
	}
	return OfflineAgents(in, time.Duration(st.OfflineHours)*time.Hour, now, open), true, nil
}

func (a *Alerts) logSkip(ctx context.Context, account AccountID, rule RuleKind, err error, probs []AccountProblem) {
	msg := ""
	if len(probs) > 0 {
		msg = probs[0].Message
	} else if err != nil {
		msg = err.Error()
	}
	a.opts.Log.WarnContext(ctx, "alert_rule_skipped", slog.Int64("account_id", int64(account)), slog.String("rule", string(rule)), slog.String("problem", msg))
}

// Run evaluates and delivers until ctx ends: every account every
// EvalInterval and whenever Trigger asks, digests when they are due, and
// the outbox whenever something is queued or a retry falls due. It returns
// when both loops have stopped.
func (a *Alerts) Run(ctx context.Context) {
	ctx = Background(ctx) // its Cloud Backup calls wait behind the pages'
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.evalLoop(ctx) }()
	go func() { defer wg.Done(); a.sendLoop(ctx) }()
	wg.Wait()
}

// evalLoop runs due evaluations and digests.
func (a *Alerts) evalLoop(ctx context.Context) {
	nextAll := time.Time{} // evaluate everything at start
	for {
		now := a.opts.Now()
		var todo []AccountID
		if !now.Before(nextAll) {
			accts, err := a.accounts.List(ctx)
			if err != nil && ctx.Err() == nil {
				a.opts.Log.WarnContext(ctx, "alert_accounts_failed", slog.Any("err", err))
			}
			for _, ac := range accts {
				todo = append(todo, ac.ID)
			}
			nextAll = now.Add(a.opts.EvalInterval)
		}
		a.mu.Lock()
		for id := range a.pending {
			if !slices.Contains(todo, id) {
				todo = append(todo, id)
			}
		}
		clear(a.pending)
		a.mu.Unlock()
		for _, id := range todo {
			if ctx.Err() != nil {
				return
			}
			if _, err := a.Evaluate(ctx, id); err != nil && ctx.Err() == nil && !errors.Is(err, ErrNotFound) {
				a.opts.Log.WarnContext(ctx, "alert_evaluation_failed", slog.Int64("account_id", int64(id)), slog.Any("err", err))
			}
		}
		if n, err := a.SendDueDigests(ctx); err != nil && ctx.Err() == nil {
			a.opts.Log.WarnContext(ctx, "digest_failed", slog.Any("err", err))
		} else if n > 0 {
			kick(a.sendKick)
		}
		// Wake at least every minute: digests are due on the hour.
		t := time.NewTimer(min(time.Minute, max(time.Second, nextAll.Sub(a.opts.Now()))))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.evalKick:
			t.Stop()
		case <-t.C:
		}
	}
}

// sendLoop delivers due notices, then sleeps until the next is due (at
// most a minute) or something new is queued.
func (a *Alerts) sendLoop(ctx context.Context) {
	for {
		for {
			n, err := a.DispatchDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					a.opts.Log.WarnContext(ctx, "alert_dispatch_failed", slog.Any("err", err))
				}
				break
			}
			if n < dispatchBatch {
				break
			}
		}
		wait := time.Minute
		if next, ok, err := a.store.NextDeliveryAt(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(a.opts.Now()), 100*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.sendKick:
			t.Stop()
		case <-t.C:
		}
	}
}

// DispatchDue attempts every delivery that is due, oldest first (up to one
// batch), and returns how many it attempted. A failed attempt is retried
// after RetryBase·2^(attempts−1), capped at RetryMax, until MaxAttempts.
func (a *Alerts) DispatchDue(ctx context.Context) (int, error) {
	due, err := a.store.DueDeliveries(ctx, a.opts.Now(), dispatchBatch)
	if err != nil {
		return 0, fmt.Errorf("dispatch: %w", err)
	}
	channels := map[ChannelID]*Channel{}
	for _, d := range due {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		c, ok := channels[d.ChannelID]
		if !ok {
			ch, err := a.store.Channel(ctx, d.ChannelID)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return 0, fmt.Errorf("dispatch: %w", err)
			}
			if err == nil {
				c = &ch
			}
			channels[d.ChannelID] = c
		}
		if c == nil {
			continue // deleted meanwhile: its deliveries went with it
		}
		if _, err := a.attempt(ctx, *c, d, a.opts.MaxAttempts); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// attempt sends one delivery once and saves the outcome: sent, pending
// with the next attempt scheduled, or failed after maxAttempts (or at once
// when retrying cannot help). The returned error is a store failure; a
// failed send is in the delivery.
func (a *Alerts) attempt(ctx context.Context, c Channel, d Delivery, maxAttempts int) (Delivery, error) {
	now := a.opts.Now()
	d.Attempts++
	status, final, sendErr := a.send(ctx, c, d)
	d.LastStatus = status
	switch {
	case sendErr == nil:
		d.Status, d.Sent, d.LastError = DeliverySent, a.opts.Now(), ""
	case final || d.Attempts >= maxAttempts:
		d.Status, d.LastError = DeliveryFailed, truncate(sendErr.Error(), 500)
	default:
		d.Status, d.LastError = DeliveryPending, truncate(sendErr.Error(), 500)
		d.NextAttempt = now.Add(backoff(a.opts.RetryBase, a.opts.RetryMax, d.Attempts))
	}
	// Record the attempt even when ctx ended while sending.
	if err := a.store.SaveAttempt(context.WithoutCancel(ctx), d); err != nil {
		return d, fmt.Errorf("dispatch: %w", err)
	}
	if sendErr != nil {
		a.opts.Log.WarnContext(ctx, "alert_delivery_failed", slog.Int64("delivery_id", int64(d.ID)), slog.Int64("channel_id", int64(c.ID)),
			slog.Int("attempts", d.Attempts), slog.String("status", string(d.Status)), slog.String("err", d.LastError))
	}
	return d, nil
}

// truncate cuts s to at most n runes, marking the cut: a delivery keeps
// only the start of a long error.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// send makes one attempt. final reports an error that retrying cannot fix.
func (a *Alerts) send(ctx context.Context, c Channel, d Delivery) (status int, final bool, err error) {
	if !c.Enabled && d.Event != EventTest {
		return 0, true, errors.New("the channel is disabled")
	}
	var n Notice
	if err := json.Unmarshal(d.Payload, &n); err != nil {
		return 0, true, fmt.Errorf("the stored notice is unreadable: %w", err)
	}
	n.IncidentID = d.IncidentID
	s, err := a.sender(c)
	if err != nil {
		return 0, true, err
	}
	status, err = s.Send(ctx, d.ID, n)
	return status, false, err
}

// sender builds the channel's sender with its secret opened.
func (a *Alerts) sender(c Channel) (Sender, error) {
	secret := ""
	if c.HasSecret() {
		p, err := a.sealer.Open(c.SecretSealed, []byte(channelSecretAAD))
		if err != nil {
			return nil, errors.New("the channel's secret cannot be read (was the app secret changed?); enter it again")
		}
		secret = string(p)
	}
	return a.senders.Sender(c, secret)
}

// requireAdmin checks the role for changes.
func requireAdmin(actor User, op string) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("%s: %w", op, ErrForbidden)
	}
	return nil
}

// channelOf returns channel id if it belongs to account, else ErrNotFound.
func (a *Alerts) channelOf(ctx context.Context, account AccountID, id ChannelID) (Channel, error) {
	if id <= 0 {
		return Channel{}, fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	c, err := a.store.Channel(ctx, id)
	if err != nil {
		return Channel{}, err
	}
	if c.AccountID != account {
		return Channel{}, fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return c, nil
}

func channelTarget(c Channel) string { return fmt.Sprintf("alert channel %d (%s)", c.ID, c.Name) }

// Channels lists an account's channels (Creators and Admins: the list
// carries no secret, and Creators reach the delivery logs from it).
func (a *Alerts) Channels(ctx context.Context, actor User, account AccountID) ([]Channel, error) {
	if !actor.Role.Allows(RoleCreator) {
		return nil, fmt.Errorf("list channels: %w", ErrForbidden)
	}
	list, err := a.store.ListChannels(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return list, nil
}

// Channel returns one channel of the account (Admins only).
func (a *Alerts) Channel(ctx context.Context, actor User, account AccountID, id ChannelID) (Channel, error) {
	if err := requireAdmin(actor, "get channel"); err != nil {
		return Channel{}, err
	}
	c, err := a.channelOf(ctx, account, id)
	if err != nil {
		return Channel{}, fmt.Errorf("get channel: %w", err)
	}
	return c, nil
}

// seal encrypts a channel secret.
func (a *Alerts) seal(secret string) ([]byte, error) {
	return a.sealer.Seal([]byte(secret), []byte(channelSecretAAD))
}

// CreateChannel validates and adds a channel to the account (Admins only,
// audit-logged).
func (a *Alerts) CreateChannel(ctx context.Context, actor User, account AccountID, req ChannelRequest) (Channel, error) {
	if err := requireAdmin(actor, "create channel"); err != nil {
		return Channel{}, err
	}
	now := a.opts.Now().UTC()
	c, secret, err := buildChannel(Channel{AccountID: account}, req)
	target := fmt.Sprintf("alert channel %q of account %d", strings.TrimSpace(req.Name), account)
	if err == nil && secret != "" {
		c.SecretSealed, err = a.seal(secret)
	}
	if err == nil {
		c.Created, c.Updated = now, now
		c, err = a.store.CreateChannel(ctx, c)
		err = nameTaken(err)
	}
	if err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionChannelCreate, target, err))
		return Channel{}, fmt.Errorf("create channel: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelCreate, channelTarget(c), nil, channelDetail(c)))
	return c, nil
}

// nameTaken turns the store's conflict into a message under the name.
func nameTaken(err error) error {
	if errors.Is(err, ErrConflict) {
		return Invalid("name", "This account already has a channel with that name.")
	}
	return err
}

func channelDetail(c Channel) string {
	rules := make([]string, 0, len(c.Rules))
	for _, r := range c.Rules {
		rules = append(rules, string(r))
	}
	state := "enabled"
	if !c.Enabled {
		state = "disabled"
	}
	return fmt.Sprintf("%s to %s; %s; rules: %s", c.Kind, c.Target(), state, cmp.Or(strings.Join(rules, ", "), "none"))
}

// UpdateChannel validates and saves an edited channel (Admins only,
// audit-logged). An empty secret keeps the stored one.
func (a *Alerts) UpdateChannel(ctx context.Context, actor User, account AccountID, id ChannelID, req ChannelRequest) (Channel, error) {
	if err := requireAdmin(actor, "update channel"); err != nil {
		return Channel{}, err
	}
	old, err := a.channelOf(ctx, account, id)
	if err != nil {
		return Channel{}, fmt.Errorf("update channel: %w", err)
	}
	c, secret, err := buildChannel(old, req)
	if err == nil && secret != "" {
		c.SecretSealed, err = a.seal(secret)
	}
	if err == nil {
		c.Updated = a.opts.Now().UTC()
		err = nameTaken(a.store.UpdateChannel(ctx, c))
	}
	if err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionChannelUpdate, channelTarget(old), err))
		return Channel{}, fmt.Errorf("update channel: %w", err)
	}
	detail := channelDetail(c)
	if secret != "" {
		detail += "; secret replaced"
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelUpdate, channelTarget(c), nil, detail))
	return c, nil
}

// DeleteChannel removes a channel and its delivery log (Admins only,
// audit-logged).
func (a *Alerts) DeleteChannel(ctx context.Context, actor User, account AccountID, id ChannelID) error {
	if err := requireAdmin(actor, "delete channel"); err != nil {
		return err
	}
	c, err := a.channelOf(ctx, account, id)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	if err := a.store.DeleteChannel(ctx, c.ID); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionChannelDelete, channelTarget(c), err))
		return fmt.Errorf("delete channel: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelDelete, channelTarget(c), nil))
	return nil
}

// SendTest sends a test notice to a channel at once, one attempt, and
// returns the delivery as logged (Admins only, audit-logged). A failed
// send is not an error: the delivery says what went wrong.
func (a *Alerts) SendTest(ctx context.Context, actor User, account Account, id ChannelID) (Delivery, error) {
	if err := requireAdmin(actor, "send test"); err != nil {
		return Delivery{}, err
	}
	c, err := a.channelOf(ctx, account.ID, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	now := a.opts.Now().UTC()
	n := Notice{Event: EventTest, AccountID: account.ID, Account: account.Name, Title: "Test notice from RCBU Console",
		Text: fmt.Sprintf("%s sent this test to the channel %q. If you can read it, alerts will reach you here.", actor.Email, c.Name), OpenedAt: now}
	d, err := a.enqueue(ctx, c, n, now, now.Add(24*time.Hour*365)) // not picked up by the dispatcher: sent right here
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	d, err = a.attempt(ctx, c, d, 1)
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	var sendErr error
	if d.Status != DeliverySent {
		sendErr = errors.New(d.LastError)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelTest, channelTarget(c), sendErr, "test notice delivered"))
	return d, nil
}

// enqueue stores a notice for a channel as a pending delivery due at due.
func (a *Alerts) enqueue(ctx context.Context, c Channel, n Notice, now, due time.Time) (Delivery, error) {
	payload, err := json.Marshal(n)
	if err != nil {
		return Delivery{}, err
	}
	return a.store.EnqueueDelivery(ctx, Delivery{ChannelID: c.ID, Event: n.Event, Title: n.Subject(), Payload: payload,
		Status: DeliveryPending, NextAttempt: due, Created: now})
}

// DeliveryPage is one page of a channel's delivery log, newest first.
type DeliveryPage struct {
	Channel    Channel
	Deliveries []Delivery
	HasOlder   bool
}

// Deliveries returns a page of a channel's delivery log (Creators and
// Admins: they run the jobs the alerts are about; Observers see incidents
// only). before pages to older entries.
func (a *Alerts) Deliveries(ctx context.Context, actor User, account AccountID, id ChannelID, before DeliveryID, limit int) (DeliveryPage, error) {
	if !actor.Role.Allows(RoleCreator) {
		return DeliveryPage{}, fmt.Errorf("delivery log: %w", ErrForbidden)
	}
	c, err := a.channelOf(ctx, account, id)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("delivery log: %w", err)
	}
	if limit <= 0 || limit > maxDeliveryPage {
		limit = defaultDeliveryPage
	}
	list, err := a.store.ListDeliveries(ctx, c.ID, before, limit+1)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("delivery log: %w", err)
	}
	p := DeliveryPage{Channel: c, Deliveries: list}
	if len(list) > limit {
		p.Deliveries, p.HasOlder = list[:limit], true
	}
	return p, nil
}

// Incidents returns the newest incidents of the accounts, open first.
func (a *Alerts) Incidents(ctx context.Context, accounts []AccountID, limit int) ([]Incident, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	list, err := a.store.ListIncidents(ctx, accounts, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return list, nil
}

// AlertSettingsRequest is the form input of an account's alert settings.
type AlertSettingsRequest struct {
	OfflineHours    string
	GrowthFactor    string
	DigestFrequency string
	DigestHour      string
	DigestWeekday   string
	DigestChannel   string
}

// Settings returns an account's alert settings and its channels (Admins only).
func (a *Alerts) Settings(ctx context.Context, actor User, account AccountID) (AlertSettings, []Channel, error) {
	if err := requireAdmin(actor, "alert settings"); err != nil {
		return AlertSettings{}, nil, err
	}
	st, err := a.store.EnsureAlertSettings(ctx, account, a.opts.Now())
	if err != nil {
		return AlertSettings{}, nil, fmt.Errorf("alert settings: %w", err)
	}
	chans, err := a.store.ListChannels(ctx, account)
	if err != nil {
		return AlertSettings{}, nil, fmt.Errorf("alert settings: %w", err)
	}
	return st, chans, nil
}

// UpdateSettings validates and saves an account's thresholds and digest
// schedule (Admins only, audit-logged). Turning the digest on or changing
// its schedule starts counting from now: the first one goes out at the
// next scheduled hour.
func (a *Alerts) UpdateSettings(ctx context.Context, actor User, account AccountID, req AlertSettingsRequest) (AlertSettings, error) {
	if err := requireAdmin(actor, "update alert settings"); err != nil {
		return AlertSettings{}, err
	}
	now := a.opts.Now().UTC()
	old, err := a.store.EnsureAlertSettings(ctx, account, now)
	if err != nil {
		return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
	}
	st := old
	v := validation{}
	if n, err := strconv.Atoi(strings.TrimSpace(req.OfflineHours)); err != nil || n < 1 || n > 8760 {
		v.add("offline_hours", "Enter a number of hours from 1 to 8760.")
	} else {
		st.OfflineHours = n
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(req.GrowthFactor), 64); err != nil || f < 1.5 || f > 1000 {
		v.add("growth_factor", "Enter a factor from 1.5 to 1000, e.g. 5.")
	} else {
		st.GrowthFactor = f
	}
	switch f := DigestFrequency(req.DigestFrequency); f {
	case DigestOff, DigestDaily, DigestWeekly:
		st.DigestFrequency = f
	default:
		v.add("digest_frequency", "Choose off, daily or weekly.")
	}
	if h, err := strconv.Atoi(req.DigestHour); err != nil || h < 0 || h > 23 {
		v.add("digest_hour", "Choose an hour from 0 to 23 (UTC).")
	} else {
		st.DigestHour = h
	}
	if d, err := strconv.Atoi(req.DigestWeekday); err != nil || d < 0 || d > 6 {
		v.add("digest_weekday", "Choose a day of the week.")
	} else {
		st.DigestWeekday = time.Weekday(d)
	}
	st.DigestChannel = 0
	if s := strings.TrimSpace(req.DigestChannel); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			v.add("digest_channel", "Choose a channel.")
		} else if _, err := a.channelOf(ctx, account, ChannelID(id)); errors.Is(err, ErrNotFound) {
			v.add("digest_channel", "Choose a channel of this account.")
		} else if err != nil {
			return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
		} else {
			st.DigestChannel = ChannelID(id)
		}
	}
	if st.DigestFrequency != DigestOff && st.DigestChannel == 0 {
		v.add("digest_channel", "Choose the channel the digest goes to.")
	}
	target := fmt.Sprintf("alert settings of account %d", account)
	if err := v.err(); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, err))
		return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
	}
	if st.DigestFrequency != old.DigestFrequency || st.DigestHour != old.DigestHour || st.DigestWeekday != old.DigestWeekday {
		st.DigestLast = now
	}
	st.Updated = now
	if err := a.store.SaveAlertSettings(ctx, st); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, err))
		return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, nil,
		fmt.Sprintf("offline after %d h; growth factor %g; digest %s at %02d:00 UTC", st.OfflineHours, st.GrowthFactor, st.DigestFrequency, st.DigestHour)))
	a.Trigger(account)
	return st, nil
}

// GraceRow is one configuration on the overdue settings: its schedule, the
// default grace and its own, if set.
type GraceRow struct {
	Configuration FleetConfiguration
	Interval      time.Duration // 0: manual schedule, never overdue
	DefaultGrace  time.Duration
	Grace         time.Duration
	HasGrace      bool
}

// Graces lists the account's configurations with their overdue grace
// (Admins only). The API's trouble is a problem, not an error.
func (a *Alerts) Graces(ctx context.Context, actor User, account Account) ([]GraceRow, []AccountProblem, error) {
	if err := requireAdmin(actor, "overdue grace"); err != nil {
		return nil, nil, err
	}
	graces, err := a.store.OverdueGraces(ctx, account.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("overdue grace: %w", err)
	}
	cfgs, probs, err := a.fleet.Configurations(ctx, NewScope(account))
	if err != nil {
		return nil, nil, fmt.Errorf("overdue grace: %w", err)
	}
	rows := make([]GraceRow, 0, len(cfgs))
	for _, fc := range cfgs {
		iv, _ := ConfigurationInterval(fc.Configuration)
		g, has := graces[fc.Configuration.ID]
		rows = append(rows, GraceRow{Configuration: fc, Interval: iv, DefaultGrace: a.opts.Overdue.Grace(iv), Grace: g, HasGrace: has})
	}
	slices.SortFunc(rows, func(x, y GraceRow) int {
		return strings.Compare(strings.ToLower(x.Configuration.Configuration.Name), strings.ToLower(y.Configuration.Configuration.Name))
	})
	return rows, probs, nil
}

// maxGraceMinutes is a year.
const maxGraceMinutes = 525600

// SetGrace sets (minutes) or clears (empty) a configuration's own overdue
// grace (Admins only, audit-logged). The configuration must belong to the
// account.
func (a *Alerts) SetGrace(ctx context.Context, actor User, account Account, cfg rcbu.ConfigurationID, minutes string) error {
	if err := requireAdmin(actor, "set overdue grace"); err != nil {
		return err
	}
	fc, _, err := a.fleet.Configuration(ctx, NewScope(account), cfg)
	if err != nil {
		return fmt.Errorf("set overdue grace: %w", err)
	}
	target := fmt.Sprintf("overdue grace of configuration %d (%s)", cfg, fc.Configuration.Name)
	minutes = strings.TrimSpace(minutes)
	if minutes == "" {
		err := a.store.DeleteOverdueGrace(ctx, account.ID, cfg)
		a.audit.Record(ctx, actorEntry(actor, ActionOverdueGrace, target, err, "back to the default"))
		if err != nil {
			return fmt.Errorf("set overdue grace: %w", err)
		}
		a.Trigger(account.ID)
		return nil
	}
	n, perr := strconv.Atoi(minutes)
	if perr != nil || n < 0 || n > maxGraceMinutes {
		err := Invalid("grace", "Enter minutes from 0 to 525600, or leave empty for the default.")
		a.audit.Record(ctx, actorEntry(actor, ActionOverdueGrace, target, err))
		return fmt.Errorf("set overdue grace: %w", err)
	}
	err = a.store.SetOverdueGrace(ctx, account.ID, cfg, time.Duration(n)*time.Minute, a.opts.Now().UTC())
	a.audit.Record(ctx, actorEntry(actor, ActionOverdueGrace, target, err, fmt.Sprintf("%d min", n)))
	if err != nil {
		return fmt.Errorf("set overdue grace: %w", err)
	}
	a.Trigger(account.ID)
	return nil
}
