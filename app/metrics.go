package app

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/singleflight"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// MetricsOptions say who may read /metrics. With neither a token nor an
// allow list, the endpoint is off.
type MetricsOptions struct {
	// Token, when set, lets a scraper in with "Authorization: Bearer <Token>".
	Token string
	// Allow lets scrapers from these networks in without the token.
	Allow []netip.Prefix
}

// MinMetricsTokenLen is the shortest scrape token accepted.
const MinMetricsTokenLen = 16

// Metrics is the console's Prometheus instrumentation: a registry of its
// own (never the global default one), the HTTP and upstream latency
// histograms, and the access policy of /metrics.
type Metrics struct {
	reg       *prometheus.Registry
	tokenHash [sha256.Size]byte
	hasToken  bool
	allow     []netip.Prefix
	http      *prometheus.HistogramVec
	upstream  *prometheus.HistogramVec
}

// NewMetrics returns the registry with the Go runtime, process and latency
// collectors registered.
func NewMetrics(opts MetricsOptions) (*Metrics, error) {
	m := &Metrics{
		reg:   prometheus.NewRegistry(),
		allow: opts.Allow,
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rcbu_http_request_duration_seconds",
			Help:    "Time to answer a request to the console, by route template, method and status class.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rcbu_upstream_request_duration_seconds",
			Help:    "Time until the response headers of a call to the Cloud Backup or Identity API, by operation, method and status (\"error\" when no response came).",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "method", "status"}),
	}
	if opts.Token != "" {
		if len(opts.Token) < MinMetricsTokenLen {
			return nil, fmt.Errorf("metrics: token shorter than %d characters", MinMetricsTokenLen)
		}
		m.tokenHash, m.hasToken = sha256.Sum256([]byte(opts.Token)), true
	}
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.http,
		m.upstream,
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Registry returns the registry that /metrics serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Register adds a collector, such as a StateCollector, to the registry.
func (m *Metrics) Register(c prometheus.Collector) error {
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("metrics: register: %w", err)
	}
	return nil
}

// Enabled reports whether /metrics is served at all: a token or an allow
// list is configured.
func (m *Metrics) Enabled() bool { return m != nil && (m.hasToken || len(m.allow) > 0) }

// Authorize decides whether a scrape may read the metrics: bearer is the
// token it presented ("" for none), addr its address. Either a matching
// token or an allowed address is enough. The error wraps ErrNotFound when
// /metrics is off, ErrUnauthorized when a token is configured but was
// missing or wrong, and ErrForbidden when only the allow list could have
// let the client in.
func (m *Metrics) Authorize(bearer string, addr netip.Addr) error {
	if !m.Enabled() {
		return fmt.Errorf("metrics: off: %w", ErrNotFound)
	}
	if m.hasToken && bearer != "" {
		// Comparing digests keeps the time independent of where, and of how
		// long, the presented token differs.
		got := sha256.Sum256([]byte(bearer))
		if subtle.ConstantTimeCompare(got[:], m.tokenHash[:]) == 1 {
			return nil
		}
	}
	addr = addr.Unmap()
	for _, p := range m.allow {
		if addr.IsValid() && p.Contains(addr) {
			return nil
		}
	}
	if m.hasToken {
		return fmt.Errorf("metrics: missing or wrong token: %w", ErrUnauthorized)
	}
	return fmt.Errorf("metrics: address %s not allowed: %w", addr, ErrForbidden)
}

// ParseAllowList parses a comma- or space-separated list of IP addresses
// and CIDR networks ("127.0.0.1, 10.0.0.0/8, ::1") into prefixes; a bare
// address is a network of one.
func ParseAllowList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("allow list: %q is not a network such as 10.0.0.0/8", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("allow list: %q is not an IP address or a network such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ObserveHTTP records the latency of one request to the console. route is
// the route template ("/configurations/:id"), never the raw path, so the
// number of series stays bounded.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	m.http.WithLabelValues(route, method, statusClass(status)).Observe(d.Seconds())
}

// statusClass is "2xx" for 200–299 and so on.
func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

// Transport returns base (http.DefaultTransport when nil) wrapped so that
// every upstream call is timed into rcbu_upstream_request_duration_seconds.
// Pass it as the Transport of the *http.Client given to RCBUConnector.
func (m *Metrics) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &observingTransport{base: base, hist: m.upstream}
}

type observingTransport struct {
	base http.RoundTripper
	hist *prometheus.HistogramVec
}

// RoundTrip times the call until the response headers arrive.
func (t *observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	t.hist.WithLabelValues(UpstreamOperation(req.URL.Path), req.Method, status).Observe(time.Since(start).Seconds())
	return resp, err
}

// UpstreamOperation reduces an API path to its template, so that ids never
// become label values: "/v1.0/123456/agent/42" is
// "/v1.0/{tenant}/agent/{id}" (a region prefix before the version is
// dropped); paths of no known API are "other".
func UpstreamOperation(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		switch s {
		case "v2.0":
			return "/v2.0" + templateSegments(segs[i+1:])
		case "v1.0":
			if i+1 >= len(segs) {
				return "/v1.0"
			}
			return "/v1.0/{tenant}" + templateSegments(segs[i+2:])
		}
	}
	return "other"
}

// templateSegments keeps words and replaces ids (and anything odd) by
// placeholders, at most 4 segments deep.
func templateSegments(segs []string) string {
	var b strings.Builder
	for i, s := range segs {
		if i == 4 {
			b.WriteString("/…")
			break
		}
		b.WriteByte('/')
		switch {
		case s == "":
		case isDigits(s):
			b.WriteString("{id}")
		case isWord(s):
			b.WriteString(s)
		default:
			b.WriteString("{x}")
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func isWord(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ConfigurationKey names a configuration of an account.
type ConfigurationKey struct {
	AccountID AccountID
	ConfigID  rcbu.ConfigurationID
}

// ConfigurationRun is what the stored report snapshots say about a
// configuration: its newest backup and its newest successful one.
type ConfigurationRun struct {
	ConfigurationKey
	LastState    string // the newest stored backup's state
	LastFinished time.Time
	LastBytes    int64 // bytes that backup backed up
	LastSuccess  time.Time
}

// RunStore reads the stored report snapshots per configuration.
type RunStore interface {
	// LatestBackups returns, for each key that has stored backup reports,
	// its newest backup and newest successful backup.
	LatestBackups(ctx context.Context, keys []ConfigurationKey) ([]ConfigurationRun, error)
}

// MetricsStore is what the state collector reads from the database.
type MetricsStore interface {
	RunStore
	// ReportCounts returns the number of stored snapshots of each account.
	ReportCounts(ctx context.Context) (map[AccountID]int64, error)
	// SyncState returns an account's report sync state (zero when none).
	SyncState(ctx context.Context, account AccountID) (SyncState, error)
}

// fleetReader is the part of *Fleet that Health reads (cached lists).
type fleetReader interface {
	Configurations(ctx context.Context, scope Scope) ([]FleetConfiguration, []AccountProblem, error)
	Activity(ctx context.Context, scope Scope) ([]FleetActivity, []AccountProblem, error)
}

// ConfigurationHealth is a configuration's state as the console knows it
// from both the API and the report history: ConfigurationState with the
// last success, last run and overdue verdict taking the stored snapshots
// into account (they reach further back than the activity list), and the
// bytes of the newest stored backup.
type ConfigurationHealth struct {
	ConfigurationState
	LastBytes int64
	HasBytes  bool // a backup report of it is stored
}

// Health derives the state of configurations for /metrics and the JSON
// API, so both say the same about a configuration.
type Health struct {
	fleet  fleetReader
	runs   RunStore // nil: the API's view only
	policy OverduePolicy
	now    func() time.Time
}

// NewHealth returns the configuration state service over the Fleet's
// cached lists and, when runs is not nil, the stored snapshots.
func NewHealth(fleet fleetReader, runs RunStore, policy OverduePolicy, now func() time.Time) *Health {
	if policy == (OverduePolicy{}) {
		policy = DefaultOverduePolicy()
	}
	if now == nil {
		now = time.Now
	}
	return &Health{fleet: fleet, runs: runs, policy: policy, now: now}
}

// Configurations returns the state of every configuration (deleted ones
// left out) of the scope's accounts that could be read; those that could
// not are problems. The error is the request's own context error, or the
// database's.
func (h *Health) Configurations(ctx context.Context, scope Scope) ([]ConfigurationHealth, []AccountProblem, error) {
	var (
		configs      []FleetConfiguration
		acts         []FleetActivity
		probC, probA []AccountProblem
		errC, errA   error
		wg           sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); configs, probC, errC = h.fleet.Configurations(ctx, scope) }()
	go func() { defer wg.Done(); acts, probA, errA = h.fleet.Activity(ctx, scope) }()
	wg.Wait()
	if err := errors.Join(errC, errA); err != nil {
		return nil, nil, fmt.Errorf("configuration health: %w", err)
	}
	problems := uniqueProblems(probC, probA)
	down := map[AccountID]bool{}
	for _, p := range problems {
		down[p.AccountID] = true
	}
	live := configs[:0:0]
	for _, fc := range configs {
		if !fc.Configuration.IsDeleted && !down[fc.AccountID] {
			live = append(live, fc)
		}
	}
	now := h.now()
	states := ConfigurationStates(live, acts, now, h.policy)
	out := make([]ConfigurationHealth, len(states))
	for i, st := range states {
		out[i] = ConfigurationHealth{ConfigurationState: st}
	}
	if h.runs == nil || len(states) == 0 {
		return out, problems, nil
	}
	keys := make([]ConfigurationKey, len(states))
	for i, st := range states {
		keys[i] = ConfigurationKey{AccountID: st.AccountID, ConfigID: st.Configuration.ID}
	}
	runs, err := h.runs.LatestBackups(ctx, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration health: %w", err)
	}
	byKey := make(map[ConfigurationKey]ConfigurationRun, len(runs))
	for _, r := range runs {
		byKey[r.ConfigurationKey] = r
	}
	for i := range out {
		ch := &out[i]
		r, ok := byKey[keys[i]]
		if !ok {
			continue
		}
		if r.LastSuccess.After(ch.LastSuccess) {
			ch.LastSuccess = r.LastSuccess
		}
		if r.LastState != "" && (ch.LastState == "" || r.LastFinished.After(ch.LastRun)) {
			ch.LastState, ch.LastRun = r.LastState, r.LastFinished
		}
		ch.LastBytes, ch.HasBytes = r.LastBytes, true
		ch.Overdue = h.policy.Check(ch.Configuration, ch.LastSuccess, now)
	}
	return out, problems, nil
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
// overdue; from Health, so as the JSON API says) and the report sync's
// health per account. It reuses one refresh for MaxAge.
type StateCollector struct {
	accounts accountLister
	health   *Health
	store    MetricsStore
	opts     StateCollectorOptions
	sf       singleflight.Group

	mu     sync.Mutex
	cached *stateSnapshot

	accountInfo, accountUp                              *prometheus.Desc
	cfgInfo, lastSuccess, lastRun, lastState, lastBytes *prometheus.Desc
	overdue, overdueBy                                  *prometheus.Desc
	syncLastOK, syncLastRun, syncError, snapshots       *prometheus.Desc
	collectOK, collectDuration                          *prometheus.Desc
}

// NewStateCollector returns the collector over the accounts in use, the
// configurations' Health and the store (sync state, snapshot counts).
func NewStateCollector(accounts accountLister, health *Health, store MetricsStore, opts StateCollectorOptions) *StateCollector {
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
		lastSuccess:     prometheus.NewDesc("rcbu_configuration_last_success_timestamp_seconds", "Unix time of the configuration's last successful backup (absent when none is known).", cfg, nil),
		lastRun:         prometheus.NewDesc("rcbu_configuration_last_run_timestamp_seconds", "Unix time of the configuration's last finished backup (absent when none is known).", cfg, nil),
		lastState:       prometheus.NewDesc("rcbu_configuration_last_run_state", "1 for the state of the configuration's last finished backup, 0 for the other states.", append(cfg, "state"), nil),
		lastBytes:       prometheus.NewDesc("rcbu_configuration_last_run_backed_up_bytes", "Bytes backed up by the configuration's newest stored backup report.", cfg, nil),
		overdue:         prometheus.NewDesc("rcbu_configuration_overdue", "1 when the configuration is enabled and scheduled and has had no success within its interval plus the grace period.", cfg, nil),
		overdueBy:       prometheus.NewDesc("rcbu_configuration_overdue_seconds", "How long past its due time an overdue configuration is (0 when not overdue or never succeeded).", cfg, nil),
		syncLastOK:      prometheus.NewDesc("rcbu_sync_last_success_timestamp_seconds", "Unix time the account's report sync last succeeded (absent before the first).", acct, nil),
		syncLastRun:     prometheus.NewDesc("rcbu_sync_last_run_timestamp_seconds", "Unix time the account's report sync last ended (absent before the first).", acct, nil),
		syncError:       prometheus.NewDesc("rcbu_sync_last_error", "1 when the account's last report sync failed.", acct, nil),
		snapshots:       prometheus.NewDesc("rcbu_report_snapshots", "Backup and restore report snapshots stored for the account.", acct, nil),
		collectOK:       prometheus.NewDesc("rcbu_state_refresh_success", "1 when the last refresh of the configuration and sync state read the accounts and the database.", nil, nil),
		collectDuration: prometheus.NewDesc("rcbu_state_refresh_duration_seconds", "How long the last refresh of the configuration and sync state took.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.accountInfo, c.accountUp, c.cfgInfo, c.lastSuccess, c.lastRun, c.lastState, c.lastBytes,
		c.overdue, c.overdueBy, c.syncLastOK, c.syncLastRun, c.syncError, c.snapshots, c.collectOK, c.collectDuration} {
		ch <- d
	}
}

// accountState is one account's sync health.
type accountState struct {
	account   Account
	up        bool
	sync      SyncState
	snapshots int64
}

// stateSnapshot is one refresh's result.
type stateSnapshot struct {
	at       time.Time
	ok       bool
	took     time.Duration
	accounts []accountState
	configs  []ConfigurationHealth
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
	states := ReportStates()
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
	configs, problems, err := c.health.Configurations(ctx, NewScope(accts...))
	if err != nil {
		return fmt.Errorf("metrics refresh: %w", err)
	}
	s.configs = configs
	down := map[AccountID]bool{}
	for _, p := range problems {
		down[p.AccountID] = true
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
