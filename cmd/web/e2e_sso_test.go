package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// TestE2ESSO runs the console with single sign-on through a real OpenID
// Connect provider (mockoidc) on loopback: Chromium clicks "Sign in with …",
// the provider answers for the person queued, and the console decides.
func TestE2ESSO(t *testing.T) {
	if testing.Short() {
		t.Skip("browser end-to-end tests are not short")
	}
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	// The redirect URL registered at a provider names the console's port,
	// so the console gets a port chosen beforehand.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	env := startE2EWith(t, false, map[string]string{
		"RCBU_WEB_ADDR":               "127.0.0.1:" + port,
		"RCBU_WEB_PUBLIC_URL":         "http://127.0.0.1:" + port,
		"RCBU_WEB_OIDC_ISSUER":        idp.Issuer(),
		"RCBU_WEB_OIDC_CLIENT_ID":     idp.ClientID,
		"RCBU_WEB_OIDC_CLIENT_SECRET": idp.ClientSecret,
		"RCBU_WEB_OIDC_NAME":          "Acme SSO",
		"RCBU_WEB_OIDC_SCOPES":        "email profile groups",
		"RCBU_WEB_OIDC_ROLES":         "ops-admins=admin; ops=creator; viewers=observer; globex-ops=creator@Globex",
		"RCBU_WEB_OIDC_CREATE_USERS":  "true",
	})
	if strings.Contains(env.stderr.String(), idp.ClientSecret) {
		t.Error("the log shows the client secret")
	}

	t.Run("sign in with the provider and land on the overview as the mapped role", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.open("/login?next=/activity")
		if got := tb.text(`[data-testid="sso-signin"]`); got != "Sign in with Acme SSO" {
			t.Fatalf("the button reads %q", got)
		}
		idp.QueueUser(&mockoidc.MockUser{Subject: "sso-casey", Email: "casey@example.com", EmailVerified: true, Groups: []string{"ops"}})
		if st := tb.submit("click Sign in with Acme SSO", `[data-testid="sso-signin"]`); st != http.StatusOK {
			t.Fatalf("status %d at %s", st, tb.location())
		}
		if loc := tb.location(); loc != "/activity" {
			t.Fatalf("landed on %s, want /activity (the next the sign-in page had)", loc)
		}
		if got := tb.text(`[data-testid="user-menu"] small`); !strings.Contains(got, "casey@example.com · Creator") {
			t.Errorf("the user menu says %q", got)
		}
		tb.open("/")
		if tb.count(`[data-testid="sign-out"]`) != 1 || tb.location() != "/" {
			t.Errorf("the overview: %s", tb.location())
		}
	})

	t.Run("a group that maps to no role is refused in words", func(t *testing.T) {
		tb := env.newTab(t, scenarioTimeout)
		tb.open("/login")
		idp.QueueUser(&mockoidc.MockUser{Subject: "sso-dana", Email: "dana@example.com", EmailVerified: true, Groups: []string{"contractors"}})
		if st := tb.submit("click Sign in with Acme SSO", `[data-testid="sso-signin"]`); st != http.StatusForbidden {
			t.Fatalf("status %d, want 403", st)
		}
		if got := tb.text(`[data-testid="sso-error"]`); !strings.Contains(got, "not in a group that has access to this console") {
			t.Errorf("the page says %q", got)
		}
		if tb.count(`[data-testid="sign-out"]`) != 0 {
			t.Error("a refused person is signed in")
		}
		tb.screenshot("sso_refused")
	})

	t.Run("a group mapped to Creator on one account sees that account only", func(t *testing.T) {
		env.addOtherAccount(t, "Globex")

		tb := env.newTab(t, scenarioTimeout)
		tb.open("/login")
		idp.QueueUser(&mockoidc.MockUser{Subject: "sso-gale", Email: "gale@example.com", EmailVerified: true, Groups: []string{"globex-ops"}})
		if st := tb.submit("click Sign in with Acme SSO", `[data-testid="sso-signin"]`); st != http.StatusOK || tb.location() != "/" {
			t.Fatalf("status %d at %s", st, tb.location())
		}
		tb.open("/agents")
		tb.waitFor("the agents table", `document.querySelectorAll('[data-testid="agent-row"]').length > 0`, 20*time.Second)
		if n := tb.count(`#account-select option`); n > 1 {
			t.Errorf("the switcher offers %d accounts, want Globex only", n)
		}
		if !eval[bool](tb, `document.body.textContent.includes("other-web-01")`) {
			t.Error("the agents page does not list Globex's agent other-web-01")
		}
		demo := env.sim.AgentIDs(rcbusim.DemoTenant)
		if len(demo) == 0 {
			t.Fatal("the simulator has no agents on the first account")
		}
		for _, id := range demo[:min(3, len(demo))] {
			if st := tb.open(fmt.Sprintf("/agents/%d", id)); st != http.StatusNotFound {
				t.Errorf("the first account's agent %d: status %d, want 404", id, st)
			}
		}
		for _, id := range env.sim.ConfigurationIDs(rcbusim.OtherTenant)[:1] {
			if st := tb.open(fmt.Sprintf("/configurations/%d", id)); st != http.StatusOK {
				t.Errorf("Globex's configuration %d: status %d, want 200", id, st)
			}
			if tb.count(`[data-testid="start-backup"]`) == 0 {
				t.Error("a Creator on Globex is offered no Start backup on its configuration")
			}
		}
	})

	t.Run("axe and layout of the sign-in pages with single sign-on", func(t *testing.T) {
		tb := env.newTab(t, 5*time.Minute)
		w := &axeWalk{tb: tb}
		tb.emulate(axeViews[0][0])
		w.open("/login")
		w.screenshots("sso_login")
		for _, views := range axeViews {
			for _, v := range views {
				tb.emulate(v)
				checkNoSidewaysScroll(tb, "/login", [2]int64{v.width, v.height}, v.scheme)
			}
		}
		tb.emulate(axeViews[0][0])
		idp.QueueUser(&mockoidc.MockUser{Subject: "sso-erin", Email: "erin@example.com", EmailVerified: true, Groups: []string{"nobody"}})
		tb.submit("click Sign in with Acme SSO", `[data-testid="sso-signin"]`)
		w.check("the refused single sign-on")
		w.screenshots("sso_refused")
	})
}
