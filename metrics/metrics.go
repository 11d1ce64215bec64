// Package metrics is the console's Prometheus instrumentation: a registry of
// its own with the HTTP and upstream latency histograms, the access policy of
// /metrics, and a collector of the configurations' and report syncs' state.
// It is an adapter: app knows nothing of Prometheus.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/rcbu-console/rcbu-console/app"
)

// Options say who may read /metrics. With neither a token nor an
// allow list, the endpoint is off.
type Options struct {
	// Token, when set, lets a scraper in with "Authorization: Bearer <Token>".
	Token string
	// Allow lets scrapers from these networks in without the token.
	Allow []netip.Prefix
}

// MinTokenLen is the shortest scrape token accepted.
const MinTokenLen = 16

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

// New returns the registry with the Go runtime, process and latency
// collectors registered.
func New(opts Options) (*Metrics, error) {
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
		if len(opts.Token) < MinTokenLen {
			return nil, fmt.Errorf("metrics: token shorter than %d characters", MinTokenLen)
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
// token or an allowed address is enough. The error wraps app.ErrNotFound when
// /metrics is off, app.ErrUnauthorized when a token is configured but was
// missing or wrong, and app.ErrForbidden when only the allow list could have
// let the client in.
func (m *Metrics) Authorize(bearer string, addr netip.Addr) error {
	if !m.Enabled() {
		return fmt.Errorf("metrics: off: %w", app.ErrNotFound)
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
		return fmt.Errorf("metrics: missing or wrong token: %w", app.ErrUnauthorized)
	}
	return fmt.Errorf("metrics: address %s not allowed: %w", addr, app.ErrForbidden)
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
// Pass it as the Transport of the *http.Client given to upstream.NewConnector.
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

// Scoped returns the registry as seen by one console user: only the series
// whose account label names one of accounts (their console ids). Series
// without an account label — the process, the HTTP server, the upstream
// calls — describe the console itself and are the operator's alone.
func (m *Metrics) Scoped(accounts []string) prometheus.Gatherer {
	keep := make(map[string]bool, len(accounts))
	for _, a := range accounts {
		keep[a] = true
	}
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		fams, err := m.reg.Gather()
		out := fams[:0]
		for _, f := range fams {
			var ms []*dto.Metric
			for _, s := range f.GetMetric() {
				for _, l := range s.GetLabel() {
					if l.GetName() == "account" && keep[l.GetValue()] {
						ms = append(ms, s)
						break
					}
				}
			}
			if len(ms) > 0 {
				f.Metric = ms
				out = append(out, f)
			}
		}
		return out, err
	})
}
