package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rcbu-console/rcbu-console/app"
	"golang.org/x/sync/singleflight"
)

// Store is what the state collector reads from the database; *db.Store is
// one.
type Store interface {
	app.RunStore
	// ReportCounts returns the number of stored snapshots of each account.
	ReportCounts(ctx context.Context) (map[app.AccountID]int64, error)
	// SyncState returns an account's report sync state (zero when none).
	SyncState(ctx context.Context, account app.AccountID) (app.SyncState, error)
	// IncidentCounts counts the open incidents by account, rule and status.
	IncidentCounts(ctx context.Context, now time.Time) ([]app.IncidentCount, error)
}

// accountLister lists the accounts in use; *app.Accounts is one.
type accountLister interface {
	List(ctx context.Context) ([]app.Account, error)
}

// StateCollectorOptions tune a StateCollector. Zero fields take the defaults.
type StateCollectorOptions struct {
	// Budget bounds one refresh (default 5 s); what is not read by then is
	// left out of that scrape.
	Budget time.Duration
	// MaxAge is how long one refresh serves scrapes (default 30 s), so that
	// frequent or many scrapers never multiply the calls to the API.
	MaxAge time.Duration
	Now    func() time.Time
	Log    *slog.Logger
}

// StateCollector is a prometheus.Collector computing, at scrape time, the
// state of every configuration (last success, last run state and bytes,
// overdue; from app.Health, so as the JSON API says) and the report sync's
// health per account. It reuses one refresh for MaxAge.
type StateCollector struct {
	accounts accountLister
	health   *app.Health
	store    Store
	opts     StateCollectorOptions
	sf       singleflight.Group

	mu     sync.Mutex
	cached *stateSnapshot

	accountInfo, accountUp                              *prometheus.Desc
	cfgInfo, lastSuccess, lastRun, lastState, lastBytes *prometheus.Desc
	overdue, overdueBy                                  *prometheus.Desc
	syncLastOK, syncLastRun, syncError, snapshots       *prometheus.Desc
	collectOK, collectDuration                          *prometheus.Desc
	incidentsOpen                                       *prometheus.Desc
}

// NewStateCollector returns the collector over the accounts in use, the
// configurations' app.Health and the store (sync state, snapshot counts).
func NewStateCollector(accounts accountLister, health *app.Health, store Store, opts StateCollectorOptions) *StateCollector {
	if opts.Budget <= 0 {
		opts.Budget = 5 * time.Second
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	cfg := []string{"account", "agent", "configuration"}
	acct := []string{"account"}
	return &StateCollector{
		accounts: accounts, health: health, store: store, opts: opts,
		accountInfo: prometheus.NewDesc("rcbu_account_info", "A Rackspace account in use; the account label is its console id.", []string{"account", "account_name", "demo"}, nil),
		accountUp:   prometheus.NewDesc("rcbu_account_up", "1 when the account's configurations and activity could be read at the last refresh.", acct, nil),
		cfgInfo: prometheus.NewDesc("rcbu_configuration_info", "A backup configuration with its names and schedule; the identifying labels are ids.",
			append(cfg, "account_name", "agent_name", "configuration_name", "enabled", "frequency"), nil),
		lastSuccess: prometheus.NewDesc("rcbu_configuration_last_success_timestamp_seconds", "Unix time of the configuration's last successful backup (absent when none is known).", cfg, nil),
		lastRun:     prometheus.NewDesc("rcbu_configuration_last_run_timestamp_seconds", "Unix time of the configuration's last finished backup (absent when none is known).", cfg, nil),
		lastState:   prometheus.NewDesc("rcbu_configuration_last_run_state", "1 for the state of the configuration's last finished backup, 0 for the other states.", append(cfg, "state"), nil),
		lastBytes:   prometheus.NewDesc("rcbu_configuration_last_run_backed_up_bytes", "Bytes backed up by the configuration's newest stored backup report.", cfg, nil),
		overdue:     prometheus.NewDesc("rcbu_configuration_overdue", "1 when the configuration is enabled and scheduled and has had no success within its interval plus the grace period.", cfg, nil),
		overdueBy:   prometheus.NewDesc("rcbu_configuration_overdue_seconds", "How long past its due time an overdue configuration is (0 when not overdue or never succeeded).", cfg, nil),
		syncLastOK:  prometheus.NewDesc("rcbu_sync_last_success_timestamp_seconds", "Unix time the account's report sync last succeeded (absent before the first).", acct, nil),
		syncLastRun: prometheus.NewDesc("rcbu_sync_last_run_timestamp_seconds", "Unix time the account's report sync last ended (absent before the first).", acct, nil),
		syncError:   prometheus.NewDesc("rcbu_sync_last_error", "1 when the account's last report sync failed.", acct, nil),
		snapshots:   prometheus.NewDesc("rcbu_report_snapshots", "Backup and restore report snapshots stored for the account.", acct, nil),
		incidentsOpen: prometheus.NewDesc("rcbu_incidents_open",
			"Open alert incidents by account, rule and status (open: nobody is on it; acknowledged; snoozed: quiet until its snooze ends).",
			[]string{"account", "rule", "status"}, nil),
		collectOK:       prometheus.NewDesc("rcbu_state_refresh_success", "1 when the last refresh of the configuration and sync state read the accounts and the database.", nil, nil),
		collectDuration: prometheus.NewDesc("rcbu_state_refresh_duration_seconds", "How long the last refresh of the configuration and sync state took.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.accountInfo, c.accountUp, c.cfgInfo, c.lastSuccess, c.lastRun, c.lastState, c.lastBytes,
		c.overdue, c.overdueBy, c.syncLastOK, c.syncLastRun, c.syncError, c.snapshots, c.collectOK, c.collectDuration, c.incidentsOpen} {
		ch <- d
	}
}

// accountState is one account's sync health.
type accountState struct {
	account   app.Account
	up        bool
	sync      app.SyncState
	snapshots int64
}

// stateSnapshot is one refresh's result.
type stateSnapshot struct {
	at        time.Time
	ok        bool
	took      time.Duration
	accounts  []accountState
	configs   []app.ConfigurationHealth
	incidents []app.IncidentCount
}

// Collect implements prometheus.Collector: it reuses a refresh younger than
// MaxAge, or refreshes (once for concurrent scrapes) within Budget.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.snapshot()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.collectOK, b2f(s.ok))
	gauge(c.collectDuration, s.took.Seconds())
	for _, a := range s.accounts {
		id := a.account.ID.String()
		gauge(c.accountInfo, 1, id, a.account.Name, strconv.FormatBool(a.account.Demo()))
		gauge(c.accountUp, b2f(a.up), id)
		gauge(c.snapshots, float64(a.snapshots), id)
		gauge(c.syncError, b2f(a.sync.LastError != ""), id)
		if !a.sync.LastOK.IsZero() {
			gauge(c.syncLastOK, unixSeconds(a.sync.LastOK), id)
		}
		if !a.sync.LastEnd.IsZero() {
			gauge(c.syncLastRun, unixSeconds(a.sync.LastEnd), id)
		}
	}
	// Every rule and status of every account has a series, 0 when nothing
	// is open, so that an alert on the series sees it go back to 0.
	open := map[string]int{}
	for _, n := range s.incidents {
		open[n.AccountID.String()+"/"+string(n.Rule)+"/"+string(n.Status)] += n.N
	}
	for _, a := range s.accounts {
		id := a.account.ID.String()
		for _, r := range app.RuleKinds() {
			for _, st := range []app.IncidentStatus{app.StatusOpen, app.StatusAcknowledged, app.StatusSnoozed} {
				gauge(c.incidentsOpen, float64(open[id+"/"+string(r)+"/"+string(st)]), id, string(r), string(st))
			}
		}
	}
	states := app.ReportStates()
	for _, cs := range s.configs {
		cf := cs.Configuration
		l := []string{cs.AccountID.String(), strconv.FormatInt(int64(cf.AgentID), 10), strconv.FormatInt(int64(cf.ID), 10)}
		gauge(c.cfgInfo, 1, append(l, cs.AccountName, cf.MachineName, cf.Name, strconv.FormatBool(cf.IsActive), string(cf.Frequency))...)
		if !cs.LastSuccess.IsZero() {
			gauge(c.lastSuccess, unixSeconds(cs.LastSuccess), l...)
		}
		if cs.LastState != "" {
			if !cs.LastRun.IsZero() {
				gauge(c.lastRun, unixSeconds(cs.LastRun), l...)
			}
			known := false
			for _, st := range states {
				is := strings.EqualFold(st, cs.LastState)
				known = known || is
				gauge(c.lastState, b2f(is), append(l, st)...)
			}
			if !known {
				gauge(c.lastState, 1, append(l, cs.LastState)...)
			}
		}
		if cs.HasBytes {
			gauge(c.lastBytes, float64(cs.LastBytes), l...)
		}
		gauge(c.overdue, b2f(cs.Overdue.Overdue), l...)
		gauge(c.overdueBy, cs.Overdue.By.Seconds(), l...)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// snapshot returns the cached refresh while it is fresh, else a new one.
// Concurrent scrapes share one refresh; a failed one is not cached.
func (c *StateCollector) snapshot() *stateSnapshot {
	now := c.opts.Now()
	c.mu.Lock()
	if s := c.cached; s != nil && now.Sub(s.at) < c.opts.MaxAge && !now.Before(s.at) {
		c.mu.Unlock()
		return s
	}
	c.mu.Unlock()
	v, _, _ := c.sf.Do("refresh", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Budget)
		defer cancel()
		s := c.refresh(ctx)
		if s.ok {
			c.mu.Lock()
			c.cached = s
			c.mu.Unlock()
		}
		return s, nil
	})
	return v.(*stateSnapshot)
}

// refresh reads the accounts, the fleet's cached lists and the snapshots.
func (c *StateCollector) refresh(ctx context.Context) *stateSnapshot {
	start := time.Now()
	s := &stateSnapshot{at: c.opts.Now()}
	err := c.read(ctx, s)
	s.took = time.Since(start)
	if err != nil {
		c.opts.Log.WarnContext(ctx, "metrics_refresh_failed", slog.Any("err", err))
		return s
	}
	s.ok = true
	return s
}

func (c *StateCollector) read(ctx context.Context, s *stateSnapshot) error {
	accts, err := c.accounts.List(ctx)
	if err != nil {
		return fmt.Errorf("metrics refresh: %w", err)
	}
	configs, problems, err := c.health.Configurations(ctx, app.NewScope(accts...))
	if err != nil {
		return fmt.Errorf("metrics refresh: %w", err)
	}
	s.configs = configs
	down := map[app.AccountID]bool{}
	for _, p := range problems {
		down[p.AccountID] = true
	}
	if s.incidents, err = c.store.IncidentCounts(ctx, c.opts.Now()); err != nil {
		return fmt.Errorf("metrics refresh: %w", err)
	}
	counts, err := c.store.ReportCounts(ctx)
	if err != nil {
		return fmt.Errorf("metrics refresh: %w", err)
	}
	s.accounts = make([]accountState, len(accts))
	for i, a := range accts {
		st, err := c.store.SyncState(ctx, a.ID)
		if err != nil {
			return fmt.Errorf("metrics refresh: %w", err)
		}
		s.accounts[i] = accountState{account: a, up: !down[a.ID], sync: st, snapshots: counts[a.ID]}
	}
	return nil
}
