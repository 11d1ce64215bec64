package app

import (
	"context"
	"log/slog"
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
	// AgentID, ConfigID and JobID say what the incident is about (zero
	// when the rule has no such object): a snooze of the agent or the
	// configuration covers it, and a backup incident links to its report.
	AgentID  rcbu.AgentID
	ConfigID rcbu.ConfigurationID
	JobID    int64
	// Acked is when someone said "I am on it" (zero: not acknowledged),
	// AckBy who (their email) and AckNote what they wrote.
	Acked   time.Time
	AckBy   string
	AckNote string
	// Silenced is set while an incident opened under a snooze has sent
	// nothing; its alert goes out if it is still open when the snooze ends.
	Silenced bool
	// SnoozedUntil is the end of the latest snooze covering it now (zero:
	// none), as the store saw it when it was read.
	SnoozedUntil time.Time
}

// NoticeEvent says what a notice is about.
type NoticeEvent string

// The notice events. The values appear in webhook payloads and headers.
const (
	EventOpened   NoticeEvent = "alert.opened"
	EventResolved NoticeEvent = "alert.resolved"
	EventTest     NoticeEvent = "test"
	EventDigest   NoticeEvent = "digest"
	// EventSummary is a channel's first notice: one list of what is open,
	// instead of one message per incident (app/incidents.go).
	EventSummary NoticeEvent = "alert.summary"
)

// Notice is what a channel sends: a webhook gets it as JSON, Slack and
// email get Subject and Body.
type Notice struct {
	Event      NoticeEvent `json:"event"`
	AccountID  AccountID   `json:"account_id"`
	Account    string      `json:"account"`
	IncidentID IncidentID  `json:"incident_id,omitempty"`
	// IncidentIDs are the incidents a summary lists, so that each of them
	// tells the channel when it resolves.
	IncidentIDs []IncidentID `json:"incident_ids,omitempty"`
	Rule        RuleKind     `json:"rule,omitempty"`
	Object      string       `json:"object,omitempty"`
	Title       string       `json:"title"`
	Text        string       `json:"text"`
	HappenedAt  time.Time    `json:"happened_at,omitzero"`
	OpenedAt    time.Time    `json:"opened_at,omitzero"`
	ResolvedAt  time.Time    `json:"resolved_at,omitzero"`
	Digest      *Digest      `json:"digest,omitempty"`
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
	if n.Account != "" {
		b.WriteString("\nAccount: ")
		b.WriteString(n.Account)
	}
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
	// Silenced: a snooze covers it, so no channel is told now.
	Silenced bool
}

// IncidentResolution resolves an open incident and queues the resolution
// notice for every channel that was sent its alert; alerts still waiting
// to be sent are dropped instead (there is nothing left to tell).
type IncidentResolution struct {
	ID       IncidentID
	Resolved time.Time
	Title    string
	Payload  []byte
	// Told are the channels whose first summary listed the incident: they
	// get the resolution notice too, though no alert of its own was sent.
	Told []ChannelID
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
	// DefaultGrace is the account's overdue grace for configurations
	// without their own, when HasDefaultGrace is set; otherwise the
	// built-in policy grades it by the schedule's interval.
	DefaultGrace    time.Duration
	HasDefaultGrace bool
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
	// ClaimDueDeliveries returns up to limit pending deliveries due at now,
	// oldest first, and moves their next attempt to until, so that another
	// replica does not send them too while this one does.
	ClaimDueDeliveries(ctx context.Context, now, until time.Time, limit int) ([]Delivery, error)
	// GiveBackDeliveries ends the claim that ClaimDueDeliveries made up to
	// until on the deliveries listed, making each due again at its
	// NextAttempt as claimed; one whose claim is no longer that one (its
	// outcome saved, or claimed again after it ran out) is left alone. It
	// returns how many it gave back.
	GiveBackDeliveries(ctx context.Context, until time.Time, list []Delivery) (int, error)
	// NextDeliveryAt returns when the earliest pending delivery is due.
	NextDeliveryAt(ctx context.Context) (time.Time, bool, error)
	// SaveAttempt writes a delivery's status after an attempt.
	SaveAttempt(ctx context.Context, d Delivery) error
	// ListDeliveries returns up to limit deliveries of a channel, newest
	// first, older than before when it is set.
	ListDeliveries(ctx context.Context, channel ChannelID, before DeliveryID, limit int) ([]Delivery, error)

	// Incident returns one incident; a missing one wraps ErrNotFound.
	Incident(ctx context.Context, id IncidentID, now time.Time) (Incident, error)
	// QueryIncidents returns a page of incidents as q selects them.
	QueryIncidents(ctx context.Context, q IncidentQuery) ([]Incident, error)
	// IncidentCounts counts the open incidents of every account by rule
	// and status at now.
	IncidentCounts(ctx context.Context, now time.Time) ([]IncidentCount, error)
	// AcknowledgeIncident records an acknowledgement of an open incident;
	// it reports false when the incident is not open.
	AcknowledgeIncident(ctx context.Context, id IncidentID, by, note string, at time.Time) (bool, error)
	// IncidentDeliveries returns the notices of one incident, oldest first.
	IncidentDeliveries(ctx context.Context, id IncidentID) ([]Delivery, error)
	// ReleaseIncident queues the alert of a silenced open incident to the
	// channels and clears Silenced; it reports false when it was not
	// silenced and open.
	ReleaseIncident(ctx context.Context, id IncidentID, channels []ChannelID, title string, payload []byte, at time.Time) (bool, error)
	// SaveSnooze creates or replaces the snooze of one agent or configuration.
	SaveSnooze(ctx context.Context, s Snooze) error
	// DeleteSnooze ends a snooze now; a missing one wraps ErrNotFound.
	DeleteSnooze(ctx context.Context, account AccountID, kind SnoozeKind, id int64) error
	// ActiveSnoozes returns the snoozes of the account still running at now.
	ActiveSnoozes(ctx context.Context, account AccountID, now time.Time) ([]Snooze, error)
	// Summaries returns the summaries queued to the account's channels that
	// were sent or are still to be sent (not those given up).
	Summaries(ctx context.Context, account AccountID) ([]Delivery, error)
	// MarkChannelPrimed records that a channel was sent its summary.
	MarkChannelPrimed(ctx context.Context, id ChannelID, at time.Time) error
	// HistorySynced reports whether the account's report history has
	// finished a sync once.
	HistorySynced(ctx context.Context, account AccountID) (bool, error)

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
	// AwaitFirstSync holds back every channel's notices until the
	// account's report history has synced once, so that what the first
	// sync finds goes out as one summary instead of a message each.
	AwaitFirstSync bool
	// SendTimeout bounds one attempt to deliver a notice (default 30 s,
	// as long as notify's longest, the SMTP timeout): the send is cut
	// there, and a claimed delivery is attempted only while that much of
	// its claim is left.
	SendTimeout time.Duration
	// ClaimWindow is how long a claimed delivery is this replica's to send
	// (default 2 min; at least SendTimeout plus saveMargin and a second, so
	// that one attempt fits).
	ClaimWindow time.Duration
	// Leases, when set, makes each account's evaluations run on one replica
	// at a time (lease "alerts:<account>"); the replica that does not hold
	// it skips the account until its next turn.
	Leases *Leases
}

func (o AlertsOptions) withDefaults() AlertsOptions {
	clockAndLog(&o.Now, &o.Log)
	orDefault(&o.EvalInterval, 5*time.Minute)
	orDefault(&o.MaxAttempts, 8)
	orDefault(&o.RetryBase, 30*time.Second)
	orDefault(&o.RetryMax, time.Hour)
	orDefault(&o.SendTimeout, 30*time.Second)
	orDefault(&o.ClaimWindow, 2*time.Minute)
	// The claim's end is stored in whole seconds, hence the extra second.
	o.ClaimWindow = max(o.ClaimWindow, o.SendTimeout+saveMargin+time.Second)
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
	ActionIncidentAck     AuditAction = "alert_incident.acknowledge"
	ActionSnooze          AuditAction = "alert_snooze.create"
	ActionSnoozeEnd       AuditAction = "alert_snooze.end"
	ActionGraceBulk       AuditAction = "alert_settings.overdue_grace_bulk"
	dispatchBatch                     = 50
	channelsAtOnce                    = 4
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
