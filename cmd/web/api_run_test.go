package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

const e2eMetricsToken = "e2e-metrics-token-0123456789abcdef"

var overdueRE = regexp.MustCompile(`(?m)^rcbu_configuration_overdue\{account="\d+",agent="\d+",configuration="(\d+)"\} 1$`)

// TestRunDemoMetricsAndAPI is the "done when" for metrics and the
// API, over real HTTP in demo mode: /metrics with the token shows the
// overdue configurations; a token created on the profile page reads the
// JSON API, whose overdue list is the same.
func TestRunDemoMetricsAndAPI(t *testing.T) {
	const password = "an admin password for the e2e test"
	base, stderr, _ := startRun(t, map[string]string{"RCBU_WEB_METRICS_TOKEN": e2eMetricsToken, "RCBU_WEB_ADMIN_PASSWORD": password, "RCBU_DEMO_SPEED": "1"})
	hc := &http.Client{Timeout: 30 * time.Second}
	get := func(path, bearer string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	if code, _ := get("/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("/metrics without the token: %d, want 401", code)
	}
	code, body := get("/metrics", e2eMetricsToken)
	if code != http.StatusOK || !strings.Contains(body, "rcbu_state_refresh_success 1") {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	var fromMetrics []string
	for _, m := range overdueRE.FindAllStringSubmatch(body, -1) {
		fromMetrics = append(fromMetrics, m[1])
	}
	if len(fromMetrics) == 0 {
		t.Fatalf("no overdue configuration in demo mode:\n%s", body)
	}

	// Sign in and create a token on the profile page.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := browser.PostForm(base+"/login", url.Values{"email": {"admin@example.com"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = browser.PostForm(base+"/profile/tokens", url.Values{"name": {"e2e"}, "expires": {"7"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d, %v", resp.StatusCode, err)
	}
	token, _ := d.Find(`[data-testid="token-secret"]`).Attr("value")
	if token == "" {
		t.Fatal("no token shown")
	}

	code, body = get("/api/v1/overdue", token)
	if code != http.StatusOK {
		t.Fatalf("/api/v1/overdue: %d\n%s", code, body)
	}
	var overdue struct {
		Configurations []struct {
			ID      json.Number `json:"id"`
			Overdue bool        `json:"overdue"`
		}
	}
	if err := json.Unmarshal([]byte(body), &overdue); err != nil {
		t.Fatal(err)
	}
	var fromAPI []string
	for _, c := range overdue.Configurations {
		fromAPI = append(fromAPI, c.ID.String())
	}
	slices.Sort(fromMetrics)
	slices.Sort(fromAPI)
	if !slices.Equal(fromMetrics, fromAPI) {
		t.Errorf("overdue from /metrics %v, from the API %v", fromMetrics, fromAPI)
	}
	if code, _ := get("/api/v1/reports?limit=5", token); code != http.StatusOK {
		t.Errorf("/api/v1/reports: %d", code)
	}
	if strings.Contains(stderr.String(), token) || strings.Contains(stderr.String(), e2eMetricsToken) {
		t.Error("a token was logged")
	}
}
