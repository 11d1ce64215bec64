package rcbusim

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// testServer is the package's own copy of rcbusimtest.TestServer: the
// in-package tests cannot import rcbusimtest, which imports this package.
type testServer struct {
	*Server
	URL         string
	IdentityURL string
	Clock       *FakeClock
}

// newTestServer starts a simulator behind a loopback listener: a FakeClock
// at testEpoch, wake delay 0 and the empty dataset unless opts say otherwise.
func newTestServer(t testing.TB, opts ...Option) *testServer {
	t.Helper()
	fc := NewFakeClock(testEpoch)
	srv := New(append([]Option{WithClock(fc), WithWakeDelay(0)}, opts...)...)
	if err := srv.Err(); err != nil {
		t.Fatalf("rcbusim: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts := &testServer{Server: srv, URL: hs.URL, IdentityURL: hs.URL + "/v2.0/tokens"}
	ts.Clock, _ = srv.clock.(*FakeClock)
	return ts
}

// EndpointURL is the demo tenant's endpoint in region ("" = region-less).
func (ts *testServer) EndpointURL(region string) string {
	if region == "" {
		return ts.URL + "/v1.0/" + DemoTenant
	}
	return ts.URL + "/" + strings.ToLower(region) + "/v1.0/" + DemoTenant
}
