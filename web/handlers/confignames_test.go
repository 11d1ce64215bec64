package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// backupPath matches the call that reads one backup.
var backupPath = regexp.MustCompile(`/backup/[0-9]+$`)

// TestJobPageNamesAGoneConfiguration: a backup the API answers for without
// its configuration's name is named by the report history's name for it,
// else in words with its id, never as "configuration 380005".
func TestJobPageNamesAGoneConfiguration(t *testing.T) {
	te, _ := buildTestEnv(t, envOptions{
		wrapSim: func(sim http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || !backupPath.MatchString(r.URL.Path) {
					sim.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				sim.ServeHTTP(rec, r)
				body := regexp.MustCompile(`"BackupConfigurationName":"[^"]*"`).ReplaceAll(rec.Body.Bytes(), []byte(`"BackupConfigurationName":""`))
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.Header().Del("Content-Length")
				w.WriteHeader(rec.Code)
				_, _ = w.Write(body)
			})
		},
	})
	_, cfg := seedAgent(t, te, "web-01", "nightly")
	ck := te.loginRole(app.RoleCreator)
	start := func() string {
		t.Helper()
		rec := te.post("/configurations/"+i64(cfg)+"/backups", nil, ck)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/backups/") {
			t.Fatalf("start: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		return rec.Header().Get("Location")
	}
	configOf := func(page string) string {
		t.Helper()
		rec := te.get(page, ck)
		wantStatus(t, rec, http.StatusOK)
		return strings.TrimSpace(testid(doc(t, rec), "job-configuration").Text())
	}

	page := start()
	if got, want := configOf(page), "Deleted configuration (ID "+i64(cfg)+")"; got != want {
		t.Errorf("with no name anywhere the configuration reads %q, want %q", got, want)
	}
	if body := te.get(page, ck).Body.Bytes(); bytes.Contains(body, []byte("configuration "+i64(cfg)+"<")) {
		t.Error("the page still shows the bare id as the configuration's name")
	}

	// Once a report has named it, the history's name is shown.
	if _, err := te.store.InsertReports(context.Background(), []app.Report{{AccountID: te.demo.ID, Kind: app.KindBackup, JobID: 1, AgentID: 1,
		ConfigID: rcbu.ConfigurationID(cfg), ConfigName: "nightly (as reported)", State: "Completed", Started: te.clock.Now(), Finished: te.clock.Now(),
		Raw: []byte(`{}`), Fetched: te.clock.Now()}}); err != nil {
		t.Fatal(err)
	}
	if got := configOf(page); got != "nightly (as reported)" {
		t.Errorf("with a report on record the configuration reads %q, want the reported name", got)
	}
}
