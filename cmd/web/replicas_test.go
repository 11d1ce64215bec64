package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that makes the test schema

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// postgresForTest returns the DSN of a fresh schema in the test PostgreSQL
// (RCBU_TEST_POSTGRES; tools/postgres-test.sh starts one), dropped when t
// ends. Without one the test is skipped, and fails under CI.
func postgresForTest(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("RCBU_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL is required under CI: RCBU_TEST_POSTGRES is not set")
		}
		t.Skip("RCBU_TEST_POSTGRES is not set (eval \"$(tools/postgres-test.sh start)\" starts a throwaway cluster)")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "t_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// Two consoles on one PostgreSQL database behind no particular proxy: a
// person signs in on one and carries on on the other with the same cookie,
// and signing out on the second ends the session on the first. Each
// account's background work is held by exactly one of them.
func TestTwoReplicasServeOneTeam(t *testing.T) {
	dsn := postgresForTest(t)
	sim := rcbusim.New()
	t.Cleanup(func() { _ = sim.Close() })
	sim.AddAgent(rcbusim.DemoTenant, rcbusim.AgentSeed{Name: "web-01", Online: true})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	vars := map[string]string{
		"RCBU_WEB_DB":             dsn,
		"RCBU_WEB_SECRET":         strings.Repeat("shared secret ", 4),
		"RCBU_USERNAME":           rcbusim.DemoUser,
		"RCBU_API_KEY":            rcbusim.DemoAPIKey,
		"RCBU_IDENTITY_URL":       simSrv.URL + "/v2.0/tokens",
		"RCBU_WEB_ADMIN_PASSWORD": "the operator's own password",
	}
	a, _, stopA := startRun(t, vars)
	b, _, _ := startRun(t, vars)

	jar, _ := cookiejar.New(nil) // cookies go to every port of 127.0.0.1: both replicas
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(a+"/login", url.Values{"email": {"admin@example.com"}, "password": {vars["RCBU_WEB_ADMIN_PASSWORD"]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on the first replica: %d", resp.StatusCode)
	}
	status := func(base, path string) int {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(b, "/agents"); got != http.StatusOK {
		t.Fatalf("the second replica answers the signed-in page with %d; want 200", got)
	}

	// The account's sync and alert evaluation are each held by one replica.
	leasesOf := func(base string) []string {
		t.Helper()
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Database string   `json:"database"`
			Leases   []string `json:"leases"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Database != "ok" {
			t.Fatalf("/readyz of %s: %+v, %v", base, st, err)
		}
		return st.Leases
	}
	onB := leasesOf(b)
	for _, l := range leasesOf(a) {
		if slices.Contains(onB, l) {
			t.Errorf("both replicas hold %s", l)
		}
	}

	// Signing out on the second replica ends the session for both.
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, b+"/logout", nil)
	req.Header.Set("Origin", b)
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
	}
	if got := status(a, "/agents"); got != http.StatusSeeOther {
		t.Errorf("after signing out on the second replica the first answers %d; want a redirect to sign in", got)
	}
	stopA()
}
