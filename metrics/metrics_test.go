package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

func TestMetricsAuthorize(t *testing.T) {
	const token = "a-scrape-token-long-enough"
	lo := netip.MustParseAddr("127.0.0.1")
	lan := netip.MustParseAddr("10.1.2.3")
	mapped := netip.MustParseAddr("::ffff:10.1.2.3")
	far := netip.MustParseAddr("203.0.113.9")
	allow, err := metrics.ParseAllowList("127.0.0.1/32, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   metrics.Options
		bearer string
		addr   netip.Addr
		want   error // nil: allowed
	}{
		{"off: neither token nor allow list", metrics.Options{}, token, lo, app.ErrNotFound},
		{"token matches", metrics.Options{Token: token}, token, far, nil},
		{"token missing", metrics.Options{Token: token}, "", lo, app.ErrUnauthorized},
		{"token wrong", metrics.Options{Token: token}, token + "x", far, app.ErrUnauthorized},
		{"token prefix", metrics.Options{Token: token}, token[:10], far, app.ErrUnauthorized},
		{"allowed address without token", metrics.Options{Allow: allow}, "", lan, nil},
		{"allowed IPv4-mapped address", metrics.Options{Allow: allow}, "", mapped, nil},
		{"address not allowed", metrics.Options{Allow: allow}, "", far, app.ErrForbidden},
		{"address not allowed, token ignored when none configured", metrics.Options{Allow: allow}, token, far, app.ErrForbidden},
		{"both: allowed address, no token", metrics.Options{Token: token, Allow: allow}, "", lo, nil},
		{"both: far address, right token", metrics.Options{Token: token, Allow: allow}, token, far, nil},
		{"both: far address, no token", metrics.Options{Token: token, Allow: allow}, "", far, app.ErrUnauthorized},
		{"invalid address", metrics.Options{Allow: allow}, "", netip.Addr{}, app.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := metrics.New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Authorize(tt.bearer, tt.addr)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Authorize = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Fatalf("error %q contains the token", err)
			}
		})
	}
	if _, err := metrics.New(metrics.Options{Token: "short"}); err == nil {
		t.Fatal("a short token was accepted")
	}
}

func TestParseAllowList(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.1", []string{"127.0.0.1/32"}, false},
		{"127.0.0.1/32,10.0.0.0/8", []string{"127.0.0.1/32", "10.0.0.0/8"}, false},
		{" 10.1.2.3/8 ,  ::1 ", []string{"10.0.0.0/8", "::1/128"}, false},
		{"::ffff:192.0.2.1", []string{"192.0.2.1/32"}, false},
		{"10.0.0.0/33", nil, true},
		{"localhost", nil, true},
		{"10.0.0.1,garbage", nil, true},
		{"fe80::1%eth0", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := metrics.ParseAllowList(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseAllowList = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if diff := cmp.Diff(tt.want, s); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpstreamOperation(t *testing.T) {
	tests := map[string]string{
		"/v2.0/tokens":                            "/v2.0/tokens",
		"/v1.0/123456/agent/401122":               "/v1.0/{tenant}/agent/{id}",
		"/dfw/v1.0/123456/user/agents":            "/v1.0/{tenant}/user/agents",
		"/v1.0/123456/backup/report/99":           "/v1.0/{tenant}/backup/report/{id}",
		"/v1.0/123456/agent/configuration/7":      "/v1.0/{tenant}/agent/configuration/{id}",
		"/v1.0/123456/a/b/c/d/e/f":                "/v1.0/{tenant}/a/b/c/d/…",
		"/v1.0/123456/agent/x%20y":                "/v1.0/{tenant}/agent/{x}",
		"/v1.0":                                   "/v1.0",
		"/favicon.ico":                            "other",
		"/":                                       "other",
		"/v1.0/123456/restore/files/12?x=1&y=2":   "/v1.0/{tenant}/restore/files/{x}",
		"/v1.0/123456/" + strings.Repeat("a", 40): "/v1.0/{tenant}/{x}",
	}
	for in, want := range tests {
		if got := metrics.UpstreamOperation(in); got != want {
			t.Errorf("UpstreamOperation(%q) = %q, want %q", in, got, want)
		}
	}
}

// series returns the samples of one metric family by their labels
// ("k=v,k=v" in label order), as gauges, counters or histogram counts.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			v := m.GetGauge().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			out[strings.Join(ls, ",")] = v
		}
	}
	return out
}

func TestTransportObservesUpstreamCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/404") {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: m.Transport(nil), Timeout: 5 * time.Second}
	for _, p := range []string{"/v1.0/123456/agent/1", "/v1.0/123456/agent/2", "/v1.0/123456/agent/404"} {
		resp, err := hc.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := series(t, m.Registry(), "rcbu_upstream_request_duration_seconds")
	want := map[string]float64{
		"method=GET,operation=/v1.0/{tenant}/agent/{id},status=200": 2,
		"method=GET,operation=/v1.0/{tenant}/agent/{id},status=404": 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("upstream histogram (-want +got):\n%s", diff)
	}
	m.ObserveHTTP("/configurations/:id", http.MethodGet, 503, time.Millisecond)
	if got := series(t, m.Registry(), "rcbu_http_request_duration_seconds"); got["method=GET,route=/configurations/:id,status=5xx"] != 1 {
		t.Fatalf("http histogram = %v", got)
	}
}
