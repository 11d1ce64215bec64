package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

const scrapeToken = "scrape-token-for-the-test-0123456789"

// scrape GETs /metrics with the token and parses the text exposition.
func scrape(t *testing.T, ae *apiEnv, token string) map[string]*dto.MetricFamily {
	t.Helper()
	rec := ae.apiGet("/metrics", token)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d\n%s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape: Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse the scrape: %v\n%s", err, rec.Body.String())
	}
	return fams
}

// labelsOf returns a metric's labels as a map.
func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// TestMetricsScrapeShowsOverdueConfigurations registers configurations in
// the simulator and snapshots in the database, scrapes /metrics with the
// token and finds the overdue one flagged, the others not, with the
// configuration's names in the info metric, and the latency histograms
// filled by the API calls the scrape and a JSON request made.
func TestMetricsScrapeShowsOverdueConfigurations(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{Token: scrapeToken})
	agent, ids := ae.seedFleet(t)
	if rec := ae.apiGet("/api/v1/agents", ae.token(t, app.RoleObserver)); rec.Code != http.StatusOK {
		t.Fatalf("api: %d", rec.Code)
	}
	// The registry gathers collectors concurrently: the upstream calls of a
	// scrape's refresh show in the histogram from the next scrape on.
	scrape(t, ae, scrapeToken)
	fams := scrape(t, ae, scrapeToken)

	names := map[string]string{} // configuration id → name, from the info metric
	for _, m := range fams["rcbu_configuration_info"].GetMetric() {
		l := labelsOf(m)
		names[l["configuration"]] = l["configuration_name"]
		if l["agent"] != strconv.FormatInt(int64(agent), 10) || l["agent_name"] != "web-01" || l["account"] != ae.demo.ID.String() {
			t.Errorf("info labels %v", l)
		}
	}
	overdue := map[string]float64{}
	for _, m := range fams["rcbu_configuration_overdue"].GetMetric() {
		overdue[names[labelsOf(m)["configuration"]]] = m.GetGauge().GetValue()
	}
	want := map[string]float64{"stale": 1, "fresh": 0, "failing": 0, "manual": 0}
	for name, v := range want {
		if got, ok := overdue[name]; !ok || got != v {
			t.Errorf("rcbu_configuration_overdue for %s = %v (present %v), want %v", name, got, ok, v)
		}
	}
	if len(overdue) != len(want) {
		t.Errorf("overdue series %v", overdue)
	}
	stale := strconv.FormatInt(int64(ids["stale"]), 10)
	for _, m := range fams["rcbu_configuration_last_success_timestamp_seconds"].GetMetric() {
		if labelsOf(m)["configuration"] == stale && int64(m.GetGauge().GetValue()) != ae.clock.Now().Add(-72*60*60*1e9).Unix() {
			t.Errorf("last success of stale = %v", m.GetGauge().GetValue())
		}
	}
	failedState := false
	for _, m := range fams["rcbu_configuration_last_run_state"].GetMetric() {
		l := labelsOf(m)
		if names[l["configuration"]] == "failing" && l["state"] == "Failed" && m.GetGauge().GetValue() == 1 {
			failedState = true
		}
	}
	if !failedState {
		t.Error("the failing configuration's last state is not Failed")
	}

	routes := map[string]bool{}
	for _, m := range fams["rcbu_http_request_duration_seconds"].GetMetric() {
		l := labelsOf(m)
		routes[l["method"]+" "+l["route"]+" "+l["status"]] = m.GetHistogram().GetSampleCount() > 0
	}
	if !routes["GET /api/v1/agents 2xx"] {
		t.Errorf("no HTTP latency for the API call: %v", routes)
	}
	ops := map[string]bool{}
	for _, m := range fams["rcbu_upstream_request_duration_seconds"].GetMetric() {
		l := labelsOf(m)
		ops[l["method"]+" "+l["operation"]+" "+l["status"]] = true
	}
	for _, op := range []string{"POST /v2.0/tokens 200", "GET /v1.0/{tenant}/backup-configuration 200", "GET /v1.0/{tenant}/user/agents 200"} {
		if !ops[op] {
			t.Errorf("no upstream latency for %s: %v", op, ops)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "rcbu_report_snapshots", "rcbu_sync_last_error", "rcbu_account_up"} {
		if fams[name] == nil {
			t.Errorf("no %s in the scrape", name)
		}
	}
}

func TestMetricsAccess(t *testing.T) {
	// httptest requests come from 192.0.2.1.
	tests := []struct {
		name      string
		opts      metrics.Options
		token     string
		want      int
		challenge bool
	}{
		{"off", metrics.Options{}, "", http.StatusNotFound, false},
		{"off, even with a token", metrics.Options{}, scrapeToken, http.StatusNotFound, false},
		{"token: none sent", metrics.Options{Token: scrapeToken}, "", http.StatusUnauthorized, true},
		{"token: wrong", metrics.Options{Token: scrapeToken}, scrapeToken[:len(scrapeToken)-1] + "X", http.StatusUnauthorized, true},
		{"token: right", metrics.Options{Token: scrapeToken}, scrapeToken, http.StatusOK, false},
		{"allow list: address in it", metrics.Options{Allow: mustAllow(t, "127.0.0.1/32, 192.0.2.0/24")}, "", http.StatusOK, false},
		{"allow list: address not in it", metrics.Options{Allow: mustAllow(t, "10.0.0.0/8")}, "", http.StatusForbidden, false},
		{"both: address not in the list, right token", metrics.Options{Token: scrapeToken, Allow: mustAllow(t, "10.0.0.0/8")}, scrapeToken, http.StatusOK, false},
		{"both: address not in the list, no token", metrics.Options{Token: scrapeToken, Allow: mustAllow(t, "10.0.0.0/8")}, "", http.StatusUnauthorized, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ae := newAPIEnv(t, tt.opts)
			rec := ae.apiGet("/metrics", tt.token)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d\n%s", rec.Code, tt.want, rec.Body.String())
			}
			if got := rec.Header().Get("WWW-Authenticate") != ""; got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want a challenge: %v", rec.Header().Get("WWW-Authenticate"), tt.challenge)
			}
			if rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), "rcbu_state_refresh_success 1") {
				t.Errorf("no state metrics in\n%s", rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), scrapeToken) {
				t.Error("the answer contains the token")
			}
			if sessionCookieOf(rec) != nil || rec.Header().Get("Location") != "" {
				t.Error("/metrics set a cookie or redirected")
			}
		})
	}
}

func mustAllow(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := metrics.ParseAllowList(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLatencyUsesRouteTemplates checks that ids never become label values.
func TestLatencyUsesRouteTemplates(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{Token: scrapeToken})
	ck := ae.loginRole(app.RoleObserver)
	for _, p := range []string{"/configurations/123", "/configurations/456", "/no/such/page/789"} {
		ae.get(p, ck)
	}
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Authorization", "Bearer "+scrapeToken)
	rec := httptest.NewRecorder()
	ae.e.ServeHTTP(rec, r)
	body := rec.Body.String()
	for _, bad := range []string{"123", "456", "789"} {
		if strings.Contains(body, `route="/configurations/`+bad) || strings.Contains(body, bad+`"`) && strings.Contains(body, `/no/such/page`) {
			t.Errorf("a raw path with %s became a label", bad)
		}
	}
	if !strings.Contains(body, `route="/configurations/:id"`) {
		t.Errorf("no series for the route template /configurations/:id")
	}
}
