package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rcbu-console/rcbu-console/rcbu"
	"github.com/rcbu-console/rcbu-console/words"
)

// AlertWindow is how far back a failed, partly failed, missed or skipped
// backup still opens an incident when the console first sees it: the
// reports of a first sync (or of a sync after a pause) are news if they
// ended within it. It matches the overview's "last 24 h".
const AlertWindow = 24 * time.Hour

// IncidentStatus is where an incident stands for the people triaging it.
type IncidentStatus string

// The incident statuses, in the order the incidents page shows its tabs.
const (
	StatusOpen         IncidentStatus = "open"
	StatusAcknowledged IncidentStatus = "acknowledged"
	StatusSnoozed      IncidentStatus = "snoozed"
	StatusResolved     IncidentStatus = "resolved"
)

// IncidentStatuses lists the statuses.
func IncidentStatuses() []IncidentStatus {
	return []IncidentStatus{StatusOpen, StatusAcknowledged, StatusSnoozed, StatusResolved}
}

// Label names the status for people.
func (s IncidentStatus) Label() string { return words.IncidentStatuses.Say(string(s)) }

// Status is the incident's status: resolved, else snoozed while a snooze
// covers it, else acknowledged once someone did, else open.
func (i Incident) Status() IncidentStatus {
	switch {
	case i.State == IncidentResolved:
		return StatusResolved
	case !i.SnoozedUntil.IsZero():
		return StatusSnoozed
	case !i.Acked.IsZero():
		return StatusAcknowledged
	}
	return StatusOpen
}

// SnoozeKind says what a snooze quiets.
type SnoozeKind string

// The snooze kinds.
const (
	SnoozeAgent         SnoozeKind = "agent"
	SnoozeConfiguration SnoozeKind = "configuration"
)

// ParseSnoozeKind reads a snooze kind as its string value.
func ParseSnoozeKind(s string) (SnoozeKind, error) {
	switch k := SnoozeKind(s); k {
	case SnoozeAgent, SnoozeConfiguration:
		return k, nil
	}
	return "", fmt.Errorf("snooze kind %q: %w", s, ErrInvalid)
}

// Snooze quiets one agent or configuration of an account until a time:
// its incidents still open and show, marked, but send nothing. It ends by
// itself at Until.
type Snooze struct {
	AccountID AccountID
	Kind      SnoozeKind
	TargetID  int64
	Name      string // the agent's or configuration's name when it was snoozed
	Until     time.Time
	Reason    string
	By        string
	Created   time.Time
}

// Covers reports whether the snooze quiets incidents about agent or cfg.
func (s Snooze) Covers(agent rcbu.AgentID, cfg rcbu.ConfigurationID) bool {
	switch s.Kind {
	case SnoozeAgent:
		return agent != 0 && s.TargetID == int64(agent)
	case SnoozeConfiguration:
		return cfg != 0 && s.TargetID == int64(cfg)
	}
	return false
}

func covered(snoozes []Snooze, agent rcbu.AgentID, cfg rcbu.ConfigurationID) bool {
	return slices.ContainsFunc(snoozes, func(s Snooze) bool { return s.Covers(agent, cfg) })
}

// IncidentQuery selects a page of incidents. Accounts is the caller's
// scope and is required; zero fields of the rest do not filter.
type IncidentQuery struct {
	Accounts []AccountID
	Account  AccountID // one account of Accounts
	Status   IncidentStatus
	Rule     RuleKind
	AgentID  rcbu.AgentID
	ConfigID rcbu.ConfigurationID
	// Before pages to older incidents (ids below it), After to newer ones
	// (ids above it, nearest first); at most one is set.
	Before IncidentID
	After  IncidentID
	Limit  int
	Now    time.Time // what "snoozed" is measured against
}

// IncidentPage is one page of incidents, newest first.
type IncidentPage struct {
	Incidents []Incident
	HasOlder  bool
	HasNewer  bool
}

// IncidentCount is the number of open incidents of one account, rule and
// status, for /metrics.
type IncidentCount struct {
	AccountID AccountID
	Rule      RuleKind
	Status    IncidentStatus
	N         int
}

// IncidentPageSize is the incidents page's and the API's page size.
const IncidentPageSize = 50

// ListIncidents returns a page of the incidents q selects, newest first.
func (a *Alerts) ListIncidents(ctx context.Context, q IncidentQuery) (IncidentPage, error) {
	if len(q.Accounts) == 0 {
		return IncidentPage{}, nil
	}
	if q.Account != 0 && !slices.Contains(q.Accounts, q.Account) {
		return IncidentPage{}, nil
	}
	if q.Limit <= 0 || q.Limit > IncidentPageSize {
		q.Limit = IncidentPageSize
	}
	if q.Now.IsZero() {
		q.Now = a.opts.Now()
	}
	if q.After != 0 {
		q.Before = 0
	}
	limit := q.Limit
	q.Limit++ // one more says whether there is a further page
	list, err := a.store.QueryIncidents(ctx, q)
	if err != nil {
		return IncidentPage{}, fmt.Errorf("list incidents: %w", err)
	}
	var p IncidentPage
	more := len(list) > limit
	list = list[:min(len(list), limit)]
	if q.After != 0 {
		slices.Reverse(list) // read nearest first, shown newest first
		p.HasNewer, p.HasOlder = more, true
	} else {
		p.HasOlder, p.HasNewer = more, q.Before != 0
	}
	p.Incidents = list
	return p, nil
}

// IncidentDetail is one incident with its notices.
type IncidentDetail struct {
	Incident   Incident
	Deliveries []Delivery
	Channels   map[ChannelID]string // the names of the channels in Deliveries
}

// Incident returns one incident of the accounts in scope with its
// deliveries; one outside them is not found.
func (a *Alerts) Incident(ctx context.Context, accounts []AccountID, id IncidentID) (IncidentDetail, error) {
	inc, err := a.store.Incident(ctx, id, a.opts.Now())
	if err != nil {
		return IncidentDetail{}, fmt.Errorf("incident %d: %w", id, err)
	}
	if !slices.Contains(accounts, inc.AccountID) {
		return IncidentDetail{}, fmt.Errorf("incident %d: %w", id, ErrNotFound)
	}
	ds, err := a.store.IncidentDeliveries(ctx, id)
	if err != nil {
		return IncidentDetail{}, fmt.Errorf("incident %d: %w", id, err)
	}
	chans, err := a.store.ListChannels(ctx, inc.AccountID)
	if err != nil {
		return IncidentDetail{}, fmt.Errorf("incident %d: %w", id, err)
	}
	names := map[ChannelID]string{}
	for _, c := range chans {
		names[c.ID] = c.Name
	}
	return IncidentDetail{Incident: inc, Deliveries: ds, Channels: names}, nil
}

// maxNoteLen bounds an acknowledgement's note and a snooze's reason, in
// characters.
const maxNoteLen = 500

func cleanNote(field, s string, v validation) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxNoteLen {
		v.add(field, fmt.Sprintf("Keep it under %d characters.", maxNoteLen))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }) {
		v.add(field, "Use plain text without control characters.")
	}
	return s
}

// Acknowledge records that actor is on an open incident, with an optional
// note (Creators and Admins: they run the jobs that fix it; audit-logged).
// A resolved incident cannot be acknowledged: there is nothing left to do.
func (a *Alerts) Acknowledge(ctx context.Context, actor User, accounts []AccountID, id IncidentID, note string) (Incident, error) {
	if !actor.Role.Allows(RoleCreator) {
		return Incident{}, fmt.Errorf("acknowledge incident %d: %w", id, ErrForbidden)
	}
	d, err := a.Incident(ctx, accounts, id)
	if err != nil {
		return Incident{}, err
	}
	if err := permitOn(actor, d.Incident.AccountID, RoleCreator); err != nil {
		return Incident{}, fmt.Errorf("acknowledge incident %d: %w", id, err)
	}
	inc := d.Incident
	target := fmt.Sprintf("incident %d (%s)", id, inc.Title)
	v := validation{}
	note = cleanNote("note", note, v)
	switch {
	case inc.State == IncidentResolved:
		v.add("note", "This incident is resolved already; there is nothing to acknowledge.")
	case !inc.Acked.IsZero():
		v.add("note", fmt.Sprintf("%s acknowledged it already.", inc.AckBy))
	}
	if err := v.err(); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionIncidentAck, target, err))
		return Incident{}, fmt.Errorf("acknowledge incident %d: %w", id, err)
	}
	now := a.opts.Now().UTC()
	ok, err := a.store.AcknowledgeIncident(ctx, id, actor.Email, note, now)
	if err == nil && !ok {
		err = Invalid("note", "This incident is resolved already; there is nothing to acknowledge.")
	}
	a.audit.Record(ctx, actorEntry(actor, ActionIncidentAck, target, err, note))
	if err != nil {
		return Incident{}, fmt.Errorf("acknowledge incident %d: %w", id, err)
	}
	inc.Acked, inc.AckBy, inc.AckNote = now, actor.Email, note
	return inc, nil
}

// SnoozeRequest is the form input of a snooze.
type SnoozeRequest struct {
	Kind   string
	ID     string
	Name   string // shown in lists; the form carries it along with the id
	Until  string // "2006-01-02T15:04" in loc, as a datetime-local input sends it
	Reason string
}

// maxSnooze bounds a snooze: quiet for a rebuild, not forever.
const maxSnooze = 90 * 24 * time.Hour

// SnoozeUntil quiets an agent or configuration of account until a time in
// loc, with a reason (Creators and Admins, audit-logged). A time that has
// passed, or more than 90 days ahead, is refused in words.
func (a *Alerts) SnoozeUntil(ctx context.Context, actor User, account AccountID, loc *time.Location, req SnoozeRequest) (Snooze, error) {
	if err := permitOn(actor, account, RoleCreator); err != nil {
		return Snooze{}, fmt.Errorf("snooze: %w", err)
	}
	if loc == nil {
		loc = time.UTC
	}
	now := a.opts.Now().UTC()
	v := validation{}
	kind, err := ParseSnoozeKind(req.Kind)
	if err != nil {
		v.add("kind", "Choose an agent or a configuration to snooze.")
	}
	id, err := strconv.ParseInt(strings.TrimSpace(req.ID), 10, 64)
	if err != nil || id <= 0 {
		v.add("kind", "Choose an agent or a configuration to snooze.")
	}
	var until time.Time
	raw := strings.TrimSpace(req.Until)
	if t, err := time.ParseInLocation("2006-01-02T15:04", raw, loc); err == nil {
		until = t
	} else if t, err := time.Parse(time.RFC3339, raw); err == nil {
		until = t
	}
	switch {
	case raw == "":
		v.add("until", "Say until when, e.g. Friday 09:00.")
	case until.IsZero():
		v.add("until", "Enter a date and time like 2026-12-11T09:00.")
	case !until.After(now):
		v.add("until", "That time has passed; choose a time in the future.")
	case until.Sub(now) > maxSnooze:
		v.add("until", "A snooze lasts at most 90 days.")
	}
	reason := cleanNote("reason", req.Reason, v)
	if reason == "" {
		v.add("reason", "Say why, so the team knows (e.g. the agent is being rebuilt).")
	}
	name := strings.TrimSpace(req.Name)
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	target := fmt.Sprintf("snooze of %s %s (%s)", req.Kind, clip(strings.TrimSpace(req.ID)), clip(name))
	if err := v.err(); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionSnooze, target, err))
		return Snooze{}, fmt.Errorf("snooze: %w", err)
	}
	s := Snooze{AccountID: account, Kind: kind, TargetID: id, Name: name, Until: until.UTC(), Reason: reason, By: actor.Email, Created: now}
	err = a.store.SaveSnooze(ctx, s)
	a.audit.Record(ctx, actorEntry(actor, ActionSnooze, target, err, "until "+s.Until.Format("2006-01-02 15:04 MST")+": "+reason))
	if err != nil {
		return Snooze{}, fmt.Errorf("snooze: %w", err)
	}
	a.Trigger(account)
	return s, nil
}

// EndSnooze ends a snooze now (Creators and Admins, audit-logged).
func (a *Alerts) EndSnooze(ctx context.Context, actor User, account AccountID, kind SnoozeKind, id int64) error {
	if err := permitOn(actor, account, RoleCreator); err != nil {
		return fmt.Errorf("end snooze: %w", err)
	}
	err := a.store.DeleteSnooze(ctx, account, kind, id)
	a.audit.Record(ctx, actorEntry(actor, ActionSnoozeEnd, fmt.Sprintf("snooze of %s %d", kind, id), err))
	if err != nil {
		return fmt.Errorf("end snooze: %w", err)
	}
	a.Trigger(account)
	return nil
}

// Snoozes returns the snoozes of the account still running.
func (a *Alerts) Snoozes(ctx context.Context, account AccountID) ([]Snooze, error) {
	list, err := a.store.ActiveSnoozes(ctx, account, a.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("snoozes: %w", err)
	}
	return list, nil
}

// IncidentCounts counts the open incidents of every account by rule and
// status, for /metrics.
func (a *Alerts) IncidentCounts(ctx context.Context) ([]IncidentCount, error) {
	list, err := a.store.IncidentCounts(ctx, a.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("incident counts: %w", err)
	}
	return list, nil
}

// summaryNotice is a channel's first notice: the open incidents of the
// rules routed to it, one line each.
func summaryNotice(acct Account, open []Incident, now time.Time) Notice {
	var b strings.Builder
	ids := make([]IncidentID, 0, len(open))
	for _, inc := range open {
		ids = append(ids, inc.ID)
	}
	for i, inc := range open {
		if i == 50 {
			fmt.Fprintf(&b, "… and %d more; see Alerts in the console.\n", len(open)-50)
			break
		}
		b.WriteString("• ")
		b.WriteString(inc.Title)
		if !inc.Acked.IsZero() {
			b.WriteString(" (acknowledged by " + inc.AckBy + ")")
		}
		b.WriteString("\n")
	}
	title := fmt.Sprintf("%d %s open in %s", len(open), plural(int64(len(open)), "problem is", "problems are"), acct.Name)
	return Notice{Event: EventSummary, AccountID: acct.ID, Account: acct.Name, Title: title, IncidentIDs: ids,
		Text: "What is open now; from here on each new problem is its own message.\n\n" + strings.TrimSuffix(b.String(), "\n"), OpenedAt: now.UTC()}
}

// ackLine is the acknowledgement as a resolution notice tells it.
func ackLine(inc Incident) string {
	if inc.Acked.IsZero() {
		return ""
	}
	s := "Acknowledged by " + inc.AckBy + " at " + inc.Acked.UTC().Format("2006-01-02 15:04 MST")
	if inc.AckNote != "" {
		s += ": " + inc.AckNote
	}
	return s
}
