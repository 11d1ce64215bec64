package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// A page whose main object cannot be read from Cloud Backup answers 502 with
// the error page inside the layout and the failure in words: never a 500,
// which would say the console itself is broken.
func TestUpstreamFailureIsAPageInWords(t *testing.T) {
	te := newTestEnv(t)
	agent := te.sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true})
	cid, err := te.sim.AddConfiguration(rcbusim.DemoTenant, rcbusim.ConfigurationSeed{AgentID: agent, Name: "nightly", Frequency: "Manually", Inclusions: []string{"/srv"}})
	if err != nil {
		t.Fatal(err)
	}
	observer := te.loginRole(app.RoleObserver)
	path := fmt.Sprintf("/configurations/%d", cid)
	if rec := te.get(path, observer); rec.Code != http.StatusOK { // fills the fleet's list cache
		t.Fatalf("healthy page: status %d", rec.Code)
	}
	for range 10 { // more than the client's retries of a GET
		te.sim.FailNext(rcbusim.OpGetConfiguration, http.StatusServiceUnavailable)
	}
	rec := te.get(path, observer)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rec.Code)
	}
	d := doc(t, rec)
	if testid(d, "error-page").Length() != 1 {
		t.Fatal("no error page in the layout")
	}
	if got := testid(d, "error-page").Text(); !strings.Contains(got, "Cloud Backup is not answering") {
		t.Errorf("error page says %q, want the failure in words", got)
	}
	if strings.Contains(rec.Body.String(), "503") {
		t.Error("the page shows the raw upstream status")
	}
}

// A database that does not answer is a 503 in words, not "something went
// wrong": the console is fine, its database is away.
func TestUnavailableDatabaseIsA503InWords(t *testing.T) {
	status, heading, msg := classify(fmt.Errorf("load session: %w", app.ErrUnavailable))
	if status != http.StatusServiceUnavailable || !strings.Contains(heading, "database") || !strings.Contains(msg, "Try again") {
		t.Errorf("classify = %d, %q, %q; want 503 saying the database is not answering", status, heading, msg)
	}
}
