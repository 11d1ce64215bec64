package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// A database that went away reaches the person as words only, through the
// one error handler: never the driver's or the network's own text, nor a
// stack. A change refused for it says that nothing was changed.
func TestUnavailableDatabaseShowsNoDriverText(t *testing.T) {
	te := newTestEnv(t)
	raw := "failed to connect to `user=rcbu database=rcbu`: 10.0.0.5:5432 (db.internal): dial error: dial tcp 10.0.0.5:5432: connect: connection refused"
	err := fmt.Errorf("list audit: db: list audit: %w", errors.Join(errors.New(raw), app.ErrUnavailable))
	for _, tc := range []struct{ method, want string }{
		{http.MethodGet, "cannot be shown"},
		{http.MethodPost, "nothing was changed"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			c := te.e.NewContext(httptest.NewRequest(tc.method, "/admin/audit", nil), rec)
			te.e.HTTPErrorHandler(err, c)
			body := rec.Body.String()
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, "The database is not answering") || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d, want 503 saying the database is not answering and %q:\n%s", tc.method, rec.Code, tc.want, body)
			}
			for _, leak := range []string{"dial tcp", "connection refused", "10.0.0.5", "db.internal", "user=rcbu", "database unavailable", "goroutine", ".go:"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s: the page shows %q", tc.method, leak)
				}
			}
		})
	}
}
