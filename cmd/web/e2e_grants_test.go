package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// grantsScenarios: an admin adds a second Rackspace account and invites a
// user with Creator on the first account only; signed in, the user sees
// neither the second account nor its agents (switcher, overview, agents),
// and its agent's URL is 404. The account goes again at the end, so later
// scenarios see one account as before.
func grantsScenarios(t *testing.T, env *e2eEnv) {
	t.Run("a user with Creator on one account cannot see the other", func(t *testing.T) {
		const user, password, other = "granted@example.com", "the granted user's password", "Globex e2e"
		env.addOtherAccount(t, other)

		admin := env.newTab(t, scenarioTimeout)
		admin.login(e2eAdminEmail, e2eAdminPassword)
		admin.open("/admin/users/new")
		admin.do("fill the invitation", chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), user))
		admin.do("choose only some accounts", chromedp.Click(chromedp.CSS(`[data-testid="access-accounts"]`), chromedp.NodeVisible))
		picked := eval[string](admin, fmt.Sprintf(`(() => {
			const l = [...document.querySelectorAll('[data-testid="access-grants"] label')].find(l => !l.textContent.includes(%q));
			const s = l.querySelector('select'); s.value = 'creator'; return l.childNodes[0].textContent.trim();
		})()`, other))
		for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
			admin.do(fmt.Sprintf("viewport %dx%d", size[0], size[1]), chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateScale(1)))
			admin.screenshot(fmt.Sprintf("grants_invite_%dx%d", size[0], size[1]))
		}
		admin.do("viewport 1280x800", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
		if st := admin.submit("invite", `[data-testid="invite-submit"]`); st != http.StatusOK {
			t.Fatalf("invite: %d", st)
		}
		link, err := url.Parse(eval[string](admin, `document.querySelector('[data-testid="issued-link-url"]').value`))
		if err != nil {
			t.Fatal(err)
		}
		userPage := eval[string](admin, `[...document.querySelectorAll('a')].map(a => a.getAttribute('href')).find(h => /^\/admin\/users\/\d+$/.test(h)) ?? ''`)

		tb := env.newTab(t, scenarioTimeout)
		tb.open(link.Path)
		tb.do("choose a password",
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
			chromedp.SendKeys(chromedp.CSS(`input[name="confirm_password"]`), password),
		)
		if st := tb.submit("set the password", `[data-testid="set-password-submit"]`); st != http.StatusOK {
			t.Fatalf("set password: %d", st)
		}
		tb.login(user, password)
		tb.waitFor("the agents table", `document.querySelectorAll('[data-testid="agent-row"]').length > 0`, 20*time.Second)
		if n := tb.count(`#account-select option`); n > 1 {
			t.Errorf("the switcher offers %d accounts, want the granted one only", n)
		}
		for _, path := range []string{"/", "/agents", "/configurations"} {
			tb.open(path)
			tb.waitFor("the page", `document.readyState === 'complete'`, 10*time.Second)
			for _, hidden := range []string{other, "other-web-01", "other-nightly"} {
				if eval[bool](tb, fmt.Sprintf(`document.body.textContent.includes(%q)`, hidden)) {
					t.Errorf("%s shows %q to a user without a grant on its account", path, hidden)
				}
			}
		}
		tb.open("/")
		tb.screenshot("grants_overview_1280x800")
		for _, id := range env.sim.AgentIDs(rcbusim.OtherTenant) {
			if st := tb.open(fmt.Sprintf("/agents/%d", id)); st != http.StatusNotFound {
				t.Errorf("the other account's agent %d: status %d, want 404", id, st)
			}
		}
		for _, id := range env.sim.ConfigurationIDs(rcbusim.OtherTenant) {
			if st := tb.open(fmt.Sprintf("/configurations/%d", id)); st != http.StatusNotFound {
				t.Errorf("the other account's configuration %d: status %d, want 404", id, st)
			}
		}

		// The admin's page for the user says the access in words.
		if userPage == "" {
			t.Error("the invitation page links to no user page")
		} else {
			admin.open(userPage)
			if got := admin.text(`[data-testid="user-access"]`); got != "Creator on "+picked {
				t.Errorf("the user page says %q, want %q", got, "Creator on "+picked)
			}
			for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
				admin.do(fmt.Sprintf("viewport %dx%d", size[0], size[1]), chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateScale(1)))
				admin.screenshot(fmt.Sprintf("grants_user_%dx%d", size[0], size[1]))
			}
			admin.do("viewport 1280x800", chromedp.EmulateViewport(1280, 800, chromedp.EmulateScale(1)))
		}
		admin.open("/admin/users")
		if got := admin.text(fmt.Sprintf(`[data-testid="user-row"][data-email=%q] [data-testid="user-role"]`, user)); !strings.HasPrefix(got, "Creator on ") || strings.Contains(got, other) {
			t.Errorf("the users list says %q", got)
		}

		// The second account goes again.
		admin.open("/admin/accounts")
		acct := eval[string](admin, fmt.Sprintf(`[...document.querySelectorAll('[data-testid="account-row"]')].find(r => r.textContent.includes(%q))?.dataset.accountId ?? ''`, other))
		if acct == "" {
			t.Fatal("the second account is not listed")
		}
		admin.open("/admin/accounts/" + acct + "/delete")
		if st := admin.submit("remove the account", `[data-testid="confirm-delete"]`); st != http.StatusOK {
			t.Errorf("remove the account: status %d", st)
		}
	})
}

// addOtherAccount has the admin add the simulator's second tenant as a
// Rackspace account named name, through the Admin form.
func (env *e2eEnv) addOtherAccount(t *testing.T, name string) {
	t.Helper()
	hc := env.httpClient(t, e2eAdminEmail, e2eAdminPassword)
	resp, err := hc.PostForm(env.base+"/admin/accounts", url.Values{
		"name": {name}, "username": {rcbusim.OtherUser}, "kind": {"api_key"},
		"secret": {rcbusim.OtherAPIKey}, "identity_url": {env.identityURL},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/admin/accounts" {
		t.Fatalf("add the second account: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}
