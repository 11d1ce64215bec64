package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// Evaluator is what the report sync and the operations service call when an
// account has new data; *Alerts is one.
type Evaluator interface {
	Evaluate(ctx context.Context, account AccountID) (EvalResult, error)
}

// EvalResult says what one evaluation changed.
type EvalResult struct {
	Opened   int
	Resolved int
	// Released counts silenced incidents told now that their snooze ended;
	// Summaries the channels sent their first summary.
	Released  int
	Summaries int
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
	since := st.WatchSince
	if w := now.Add(-AlertWindow); w.Before(since) {
		since = w // what a first sync brings in from the last day is news
	}
	results := map[RuleKind]RuleResult{
		RuleBackupFailed: FailedBackups(runs, lastOK, since, openOf(RuleBackupFailed)),
		RuleGrowth:       GrowthJumps(runs, st.GrowthFactor, since, openOf(RuleGrowth)),
	}

	fctx, cancel := context.WithTimeout(ctx, evaluationFleetBudget)
	defer cancel()
	scope := NewScope(acct)
	if r, ok, err := a.overdue(fctx, scope, account, st, lastOK, now, openOf(RuleOverdue)); err != nil {
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
	snoozes, err := a.store.ActiveSnoozes(ctx, account, now)
	if err != nil {
		return res, fmt.Errorf("evaluate alerts: %w", err)
	}
	// Until the history has synced once, nothing is sent: what the first
	// sync finds goes out as each channel's summary.
	ready := true
	if a.opts.AwaitFirstSync {
		if ready, err = a.store.HistorySynced(ctx, account); err != nil {
			return res, fmt.Errorf("evaluate alerts: %w", err)
		}
	}
	// A channel that has not had its summary yet is told nothing one by
	// one: the summary below covers what opens now.
	routedTo := func(rule RuleKind) []ChannelID {
		var out []ChannelID
		for _, c := range channels {
			if ready && !c.Primed.IsZero() && c.Routes(rule) {
				out = append(out, c.ID)
			}
		}
		return out
	}
	var told map[IncidentID][]ChannelID // read at the first resolution
	for _, rule := range RuleKinds() {
		r, ok := results[rule]
		if !ok {
			continue
		}
		routed := routedTo(rule)
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
			ni := NewIncident{AccountID: account, Finding: f, Opened: now, Payload: payload, Channels: routed}
			if covered(snoozes, f.AgentID, f.ConfigID) {
				ni.Channels, ni.Silenced = nil, true // snoozed: it shows, marked, and sends nothing
			}
			_, opened, err := a.store.OpenIncident(ctx, ni)
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			if opened {
				res.Opened++
			}
		}
		resolved := map[string]bool{}
		for _, obj := range r.Resolved {
			inc, ok := open[rule][obj]
			if !ok {
				continue
			}
			resolved[obj] = true
			text := inc.Detail
			if l := ackLine(inc); l != "" {
				text += "\n\n" + l
			}
			n := Notice{Event: EventResolved, AccountID: account, Account: acct.Name, IncidentID: inc.ID, Rule: rule, Object: obj,
				Title: inc.Title, Text: text, HappenedAt: inc.Happened.UTC(), OpenedAt: inc.Opened.UTC(), ResolvedAt: now.UTC()}
			payload, err := json.Marshal(n)
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			if told == nil {
				if told, err = a.toldInSummaries(ctx, account); err != nil {
					return res, err
				}
			}
			done, err := a.store.ResolveIncident(ctx, IncidentResolution{ID: inc.ID, Resolved: now, Title: "Resolved: " + inc.Title, Payload: payload,
				Told: told[inc.ID]})
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			if done {
				res.Resolved++
			}
		}
		// A snooze that ended leaves its silenced incidents to be told now.
		for obj, inc := range open[rule] {
			if !inc.Silenced || resolved[obj] || covered(snoozes, inc.AgentID, inc.ConfigID) || len(routed) == 0 {
				continue
			}
			n := Notice{Event: EventOpened, AccountID: account, Account: acct.Name, IncidentID: inc.ID, Rule: rule, Object: obj,
				Title: inc.Title, Text: inc.Detail, HappenedAt: inc.Happened.UTC(), OpenedAt: inc.Opened.UTC()}
			payload, err := json.Marshal(n)
			if err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			if _, err := a.store.ReleaseIncident(ctx, inc.ID, routed, inc.Title, payload, now); err != nil {
				return res, fmt.Errorf("evaluate alerts: %w", err)
			}
			res.Released++
		}
	}
	if ready {
		n, err := a.sendSummaries(ctx, acct, channels, snoozes, now)
		if err != nil {
			return res, err
		}
		res.Summaries = n
	}
	if res.Opened > 0 || res.Resolved > 0 || res.Released > 0 || res.Summaries > 0 {
		kick(a.sendKick)
	}
	return res, nil
}

// toldInSummaries maps each incident that a channel's summary listed to
// those channels: they were told it is open, so they are told when it
// resolves, like the channels that were sent its own alert.
func (a *Alerts) toldInSummaries(ctx context.Context, account AccountID) (map[IncidentID][]ChannelID, error) {
	sums, err := a.store.Summaries(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("evaluate alerts: %w", err)
	}
	told := map[IncidentID][]ChannelID{}
	for _, d := range sums {
		var n Notice
		if err := json.Unmarshal(d.Payload, &n); err != nil {
			// Resolving still goes on: only this channel misses the notice.
			a.opts.Log.WarnContext(ctx, "alert_summary_unreadable", slog.Int64("delivery_id", int64(d.ID)), slog.String("problem", err.Error()))
			continue
		}
		for _, id := range n.IncidentIDs {
			told[id] = append(told[id], d.ChannelID)
		}
	}
	return told, nil
}

// sendSummaries gives each channel that has not been told anything yet one
// summary of the open incidents of its rules that no snooze covers (none
// when nothing is open), and marks it told: from then on it gets a message
// per new incident.
func (a *Alerts) sendSummaries(ctx context.Context, acct Account, channels []Channel, snoozes []Snooze, now time.Time) (int, error) {
	var openList []Incident
	read := false
	sent := 0
	for _, c := range channels {
		if !c.Primed.IsZero() || !c.Enabled {
			continue
		}
		if !read {
			var err error
			if openList, err = a.store.OpenIncidents(ctx, acct.ID); err != nil {
				return sent, fmt.Errorf("evaluate alerts: %w", err)
			}
			read = true
		}
		var mine []Incident
		for _, inc := range openList {
			if c.Routes(inc.Rule) && !covered(snoozes, inc.AgentID, inc.ConfigID) {
				mine = append(mine, inc)
			}
		}
		if len(mine) > 0 {
			n := summaryNotice(acct, mine, now)
			payload, err := json.Marshal(n)
			if err != nil {
				return sent, fmt.Errorf("evaluate alerts: %w", err)
			}
			if _, err := a.store.EnqueueDelivery(ctx, Delivery{ChannelID: c.ID, Event: EventSummary, Title: n.Title, Payload: payload,
				NextAttempt: now, Created: now}); err != nil {
				return sent, fmt.Errorf("evaluate alerts: %w", err)
			}
			sent++
		}
		if err := a.store.MarkChannelPrimed(ctx, c.ID, now); err != nil {
			return sent, fmt.Errorf("evaluate alerts: %w", err)
		}
	}
	return sent, nil
}

// overdue runs the overdue rule; ok is false when the API could not be read.
func (a *Alerts) overdue(ctx context.Context, scope Scope, account AccountID, st AlertSettings, lastOK map[rcbu.ConfigurationID]time.Time, now time.Time, open []OpenIncident) (RuleResult, bool, error) {
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
		if !has && st.HasDefaultGrace {
			g, has = st.DefaultGrace, true
		}
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
			var res EvalResult
			err := a.opts.Leases.Run(ctx, fmt.Sprintf("alerts:%d", id), func(ctx context.Context) error {
				var err error
				res, err = a.Evaluate(ctx, id)
				return err
			})
			switch {
			case err == nil:
				// Which replica evaluated an account, at debug level: with
				// several replicas each evaluation runs on one of them.
				a.opts.Log.DebugContext(ctx, "alerts_evaluated", slog.Int64("account_id", int64(id)),
					slog.Int("opened", res.Opened), slog.Int("resolved", res.Resolved))
			case ctx.Err() == nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrLeaseHeld):
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
