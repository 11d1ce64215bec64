// Package rcbusimtest starts the Cloud Backup simulator (package rcbusim)
// behind a real loopback listener for tests. It is kept out of rcbusim so
// that programs embedding the simulator do not link testing or
// net/http/httptest. It embeds time/tzdata, so the simulator's Windows
// zones resolve in every test that uses it, with or without a system zone
// database.
package rcbusimtest

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// Epoch is the instant a TestServer's FakeClock starts at.
var Epoch = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

// TestServer is a simulator behind a real loopback HTTP listener, closed by
// t.Cleanup.
type TestServer struct {
	*rcbusim.Server
	// URL is the base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// IdentityURL is URL + "/v2.0/tokens".
	IdentityURL string
	// Clock is the server's FakeClock (nil when WithClock gave another clock).
	Clock *rcbusim.FakeClock
	// RegionURLs maps each region to the base URL of its own listener,
	// e.g. "http://127.0.0.1:41235" (NewRegionTestServer; nil otherwise).
	RegionURLs map[string]string
}

// NewTestServer starts a simulator for a test: a FakeClock at Epoch
// (2026-03-02 15:04:05 UTC), wake delay 0 and the empty dataset, unless
// opts say otherwise.
func NewTestServer(t testing.TB, opts ...rcbusim.Option) *TestServer {
	t.Helper()
	return start(t, opts, func() {})
}

// NewRegionTestServer is NewTestServer in region-per-listener mode
// (rcbusim.WithRegionListeners): every region on its own loopback port,
// listed in the catalog as http://127.0.0.1:PORT/v1.0/{tenant}. Identity and
// the region-less endpoint stay at URL.
func NewRegionTestServer(t testing.TB, opts ...rcbusim.Option) *TestServer {
	t.Helper()
	lns, err := rcbusim.ListenRegions("127.0.0.1", 0)
	if err != nil {
		t.Fatalf("rcbusim: %v", err)
	}
	urls := map[string]string{}
	for r, ln := range lns {
		urls[r] = "http://" + ln.Addr().String()
	}
	ts := start(t, append(slices.Clip(opts), rcbusim.WithRegionListeners(lns)), func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	})
	ts.RegionURLs = urls
	return ts
}

// start builds the simulator and its loopback listener; cleanup runs when
// the simulator cannot start.
func start(t testing.TB, opts []rcbusim.Option, cleanup func()) *TestServer {
	t.Helper()
	fc := rcbusim.NewFakeClock(Epoch)
	all := append([]rcbusim.Option{rcbusim.WithClock(fc), rcbusim.WithWakeDelay(0)}, opts...)
	srv := rcbusim.New(all...)
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Err(); err != nil {
		cleanup()
		t.Fatalf("rcbusim: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts := &TestServer{Server: srv, URL: hs.URL, IdentityURL: hs.URL + "/v2.0/tokens"}
	if c, ok := srv.Clock().(*rcbusim.FakeClock); ok {
		ts.Clock = c
	}
	return ts
}

// EndpointURL returns the Cloud Backup endpoint of region for the demo
// tenant as the catalog lists it: URL + "/dfw/v1.0/123456", or with region
// listeners "http://127.0.0.1:PORT/v1.0/123456"; region "" gives the
// region-less endpoint.
func (ts *TestServer) EndpointURL(region string) string {
	if region == "" {
		return ts.URL + "/v1.0/" + rcbusim.DemoTenant
	}
	if u, ok := ts.RegionURLs[strings.ToUpper(region)]; ok {
		return u + "/v1.0/" + rcbusim.DemoTenant
	}
	return ts.URL + "/" + strings.ToLower(region) + "/v1.0/" + rcbusim.DemoTenant
}
