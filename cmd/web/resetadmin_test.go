package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// printedLinkRE finds the link rcbu-web reset-admin prints.
var printedLinkRE = regexp.MustCompile(`(https?://\S+/password/[A-Za-z0-9_-]{43})`)

// postForm posts form to base+path without following redirects and
// returns the status and Location.
func postForm(t *testing.T, c *http.Client, base, path string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestFirstAdminChangesPrintedPasswordAndResetAdmin: the printed first
// password opens only its change; rcbu-web reset-admin prints a link that
// sets a new password, and refuses an email that is not an admin's. On
// SQLite and on PostgreSQL (where the secret must be given).
func TestFirstAdminChangesPrintedPasswordAndResetAdmin(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testFirstAdminAndResetAdmin(t, map[string]string{"RCBU_WEB_DB": filepath.Join(t.TempDir(), "web.db")})
	})
	t.Run("postgres", func(t *testing.T) {
		testFirstAdminAndResetAdmin(t, map[string]string{"RCBU_WEB_DB": postgresForTest(t), "RCBU_WEB_SECRET": strings.Repeat("p", 40)})
	})
}

// testFirstAdminAndResetAdmin runs the scenario on the database vars name.
func testFirstAdminAndResetAdmin(t *testing.T, vars map[string]string) {
	vars["RCBU_WEB_PUBLIC_URL"] = "https://backup.example.com/"
	base, stderr, stop := startRun(t, vars)
	m := passwordRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no printed password:\n%s", stderr.String())
	}
	c := noRedirects()
	c.Jar, _ = cookiejar.New(nil)
	if code, to := postForm(t, c, base, "/login", url.Values{"email": {"admin@example.com"}, "password": {m[1]}}); code != http.StatusSeeOther || to != "/" {
		t.Fatalf("sign in: %d to %q", code, to)
	}
	resp, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/password/change" {
		t.Fatalf("with the printed password, / is %d to %q; want the forced change", resp.StatusCode, resp.Header.Get("Location"))
	}
	stop()

	var out, errw bytes.Buffer
	if err := run(context.Background(), []string{"reset-admin", "nobody@example.com"}, env(vars), &out, &errw); err == nil || out.Len() != 0 {
		t.Errorf("reset-admin of an unknown email: %v, printed %q", err, out.String())
	}
	if err := run(context.Background(), []string{"reset-admin"}, env(vars), &out, &errw); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("reset-admin without an email: %v", err)
	}
	if err := run(context.Background(), []string{"reset-admin", "Admin@Example.com"}, env(vars), &out, &errw); err != nil {
		t.Fatalf("reset-admin: %v\n%s", err, errw.String())
	}
	link := printedLinkRE.FindString(out.String())
	if !strings.HasPrefix(link, "https://backup.example.com/password/") {
		t.Fatalf("reset-admin printed %q", out.String())
	}

	base, _, stop = startRun(t, vars)
	defer stop()
	u, _ := url.Parse(link)
	if code, to := postForm(t, c, base, u.Path, url.Values{"password": {"the operator's new password"}, "confirm_password": {"the operator's new password"}}); code != http.StatusSeeOther || to != "/login" {
		t.Fatalf("set password: %d to %q", code, to)
	}
	if code, to := postForm(t, c, base, "/login", url.Values{"email": {"admin@example.com"}, "password": {"the operator's new password"}}); code != http.StatusSeeOther || to != "/" {
		t.Fatalf("sign in with the new password: %d to %q", code, to)
	}
	resp, err = c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the reset, / is %d; a password the admin chose needs no change", resp.StatusCode)
	}
	if code, _ := postForm(t, c, base, u.Path, url.Values{"password": {"x"}}); code != http.StatusGone {
		t.Errorf("the printed link again: %d, want 410", code)
	}
}
