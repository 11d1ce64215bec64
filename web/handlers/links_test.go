package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

// issueLink posts to path as an admin (an invitation form or a reset-link
// button) and returns the path of the link the page shows once.
func (te *testEnv) issueLink(t *testing.T, path string) string {
	t.Helper()
	return te.issueLinkAt(t, te.loginRole(app.RoleAdmin), path, nil)
}

// issueLinkForm invites a user with the form and returns the link's path.
func (te *testEnv) issueLinkForm(t *testing.T, admin *http.Cookie, form url.Values) string {
	t.Helper()
	return te.issueLinkAt(t, admin, "/admin/users", form)
}

func (te *testEnv) issueLinkAt(t *testing.T, admin *http.Cookie, path string, form url.Values) string {
	t.Helper()
	rec := te.post(path, form, admin)
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: status %d, Cache-Control %q\n%s", path, rec.Code, rec.Header().Get("Cache-Control"), rec.Body.String())
	}
	raw := strings.TrimSpace(testid(doc(t, rec), "issued-link-url").Text())
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(u.Path, app.LinkPath) {
		t.Fatalf("the page shows no link: %q", raw)
	}
	return u.Path
}

// setPasswordThrough sets password through the link and checks the
// answer sends the person to sign in.
func (te *testEnv) setPasswordThrough(t *testing.T, link, password string) {
	t.Helper()
	rec := te.post(link, url.Values{"password": {password}, "confirm_password": {password}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("set password: %d to %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
}

// signsIn reports whether email and password open a session.
func (te *testEnv) signsIn(email, password string) bool {
	return te.post("/login", url.Values{"email": {email}, "password": {password}}, nil).Code == http.StatusSeeOther
}

// auditCount counts the audit entries of action with outcome about target.
func (te *testEnv) auditCount(t *testing.T, action app.AuditAction, outcome app.Outcome, target string) int {
	t.Helper()
	entries, err := te.store.ListAudit(context.Background(), app.AuditFilter{Action: action, Outcome: outcome, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Target == target {
			n += max(e.Count, 1)
		}
	}
	return n
}

func TestInvitationSetPasswordSignIn(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	link := te.issueLinkForm(t, admin, url.Values{"email": {"Dana@Example.com"}, "name": {"Dana"}, "role": {"creator"}})
	if te.auditCount(t, app.ActionUserInvite, app.OutcomeOK, "dana@example.com") != 1 {
		t.Error("the invitation is not in the audit log")
	}

	d := doc(t, te.get(link, nil))
	if got := testid(d, "link-email").Text(); got != "dana@example.com" {
		t.Errorf("the link's page names %q", got)
	}
	if te.signsIn("dana@example.com", "") {
		t.Fatal("an invited user signed in before setting a password")
	}

	t.Run("passwords that differ are asked again and keep the link", func(t *testing.T) {
		rec := te.post(link, url.Values{"password": {"a good long password"}, "confirm_password": {"another long password"}}, nil)
		wantFieldErrors(t, rec, "confirm_password")
		rec = te.post(link, url.Values{"password": {"short"}, "confirm_password": {"short"}}, nil)
		wantFieldErrors(t, rec, "password")
		if te.get(link, nil).Code != http.StatusOK {
			t.Error("bad input used up the link")
		}
	})

	te.setPasswordThrough(t, link, "dana's own password")
	if !te.signsIn("dana@example.com", "dana's own password") {
		t.Fatal("the invited user cannot sign in with the password they set")
	}
	if te.auditCount(t, app.ActionLinkUsed, app.OutcomeOK, "dana@example.com") != 1 {
		t.Error("using the link is not in the audit log")
	}

	t.Run("a used link is refused in words and changes nothing", func(t *testing.T) {
		rec := te.get(link, nil)
		if rec.Code != http.StatusGone || !strings.Contains(testid(doc(t, rec), "link-refused-reason").Text(), "already used") {
			t.Fatalf("used link: %d %q", rec.Code, testid(doc(t, rec), "link-refused-reason").Text())
		}
		rec = te.post(link, url.Values{"password": {"an attacker's password"}, "confirm_password": {"an attacker's password"}}, nil)
		if rec.Code != http.StatusGone {
			t.Fatalf("reused link: %d", rec.Code)
		}
		if te.signsIn("dana@example.com", "an attacker's password") || !te.signsIn("dana@example.com", "dana's own password") {
			t.Error("a reused link changed the password")
		}
		if te.auditCount(t, app.ActionLinkRefused, app.OutcomeFailed, "dana@example.com") != 2 {
			t.Error("the refusals are not in the audit log")
		}
	})
}

func TestLinkRefusals(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	obs := te.byRole[app.RoleObserver]
	reset := "/admin/users/" + obs.ID.String() + "/reset-link"

	for _, tc := range []struct {
		name, path, reason string
	}{
		{"junk", app.LinkPath + "not-a-token", "not valid"},
		{"a well-formed token nobody made", app.LinkPath + strings.Repeat("A", 43), "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, rec := range []*http.Response{te.get(tc.path, nil).Result(), te.post(tc.path, url.Values{"password": {"x"}}, nil).Result()} {
				if rec.StatusCode != http.StatusGone {
					t.Errorf("%s: %d, want 410", tc.path, rec.StatusCode)
				}
			}
			if !strings.Contains(testid(doc(t, te.get(tc.path, nil)), "link-refused-reason").Text(), tc.reason) {
				t.Errorf("no reason in words")
			}
		})
	}
	if te.auditCount(t, app.ActionLinkRefused, app.OutcomeFailed, "unknown link") < 6 {
		t.Error("refusals of unknown links are not counted in the audit log")
	}

	t.Run("expired", func(t *testing.T) {
		link := te.issueLinkAt(t, admin, reset, nil)
		te.clock.Advance(app.DefaultLinkTTL + time.Second)
		rec := te.post(link, url.Values{"password": {"a new long password"}, "confirm_password": {"a new long password"}}, nil)
		if rec.Code != http.StatusGone || !strings.Contains(testid(doc(t, rec), "link-refused-reason").Text(), "expired") {
			t.Fatalf("expired link: %d", rec.Code)
		}
		if !te.signsIn(obs.Email, testPassword) {
			t.Error("an expired link changed the password")
		}
		admin = te.loginRole(app.RoleAdmin) // the session ended in those days too
	})
	t.Run("a newer link replaces the older", func(t *testing.T) {
		old := te.issueLinkAt(t, admin, reset, nil)
		newer := te.issueLinkAt(t, admin, reset, nil)
		if rec := te.get(old, nil); rec.Code != http.StatusGone {
			t.Errorf("the older link still works: %d", rec.Code)
		}
		if rec := te.get(newer, nil); rec.Code != http.StatusOK {
			t.Errorf("the newer link: %d", rec.Code)
		}
	})
	t.Run("only admins make links", func(t *testing.T) {
		for _, role := range []app.Role{app.RoleObserver, app.RoleCreator} {
			if rec := te.post("/admin/users/"+te.byRole[app.RoleCreator].ID.String()+"/reset-link", nil, te.loginRole(role)); rec.Code != http.StatusForbidden {
				t.Errorf("%s: %d", role, rec.Code)
			}
		}
	})
	t.Run("a disabled user's link", func(t *testing.T) {
		link := te.issueLinkAt(t, admin, reset, nil)
		if rec := te.post("/admin/users/"+obs.ID.String()+"/disable", nil, admin); rec.Code != http.StatusSeeOther {
			t.Fatalf("disable: %d", rec.Code)
		}
		if rec := te.get(link, nil); rec.Code != http.StatusGone {
			t.Errorf("a disabled user's link: %d", rec.Code)
		}
		if rec := te.post(reset, nil, admin); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("a reset link for a disabled user: %d, want 422", rec.Code)
		}
	})
}

func TestResetLinkEndsSessionsAndTokens(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	creator := ae.byRole[app.RoleCreator]
	ck := ae.loginRole(app.RoleCreator)
	tok := ae.token(t, app.RoleCreator)
	link := ae.issueLink(t, "/admin/users/"+creator.ID.String()+"/reset-link")
	if ae.get("/", ck).Code != http.StatusOK || ae.apiGet("/api/v1/agents", tok).Code != http.StatusOK {
		t.Fatal("making a link ended the session or the token before it was used")
	}
	if !ae.signsIn(creator.Email, testPassword) {
		t.Fatal("making a link changed the password")
	}
	ae.setPasswordThrough(t, link, "a brand new password")
	if ae.get("/", ck).Code == http.StatusOK {
		t.Error("the session survived the reset")
	}
	if ae.apiGet("/api/v1/agents", tok).Code != http.StatusUnauthorized {
		t.Error("the API token survived the reset")
	}
	if ae.signsIn(creator.Email, testPassword) || !ae.signsIn(creator.Email, "a brand new password") {
		t.Error("the password did not change")
	}
}

func TestForcedPasswordChange(t *testing.T) {
	te := newTestEnv(t)
	obs := te.byRole[app.RoleObserver]
	obs.MustChangePassword = true
	if err := te.store.UpdateUser(context.Background(), obs, false); err != nil {
		t.Fatal(err)
	}
	ck := te.loginRole(app.RoleObserver)
	for _, p := range []string{"/", "/profile", "/agents"} {
		if rec := te.get(p, ck); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/password/change" {
			t.Errorf("%s: %d to %q, want the forced change", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := te.do(req{path: "/overview/running", cookie: ck, headers: map[string]string{"HX-Request": "true"}}); rec.Header().Get("HX-Redirect") != "/password/change" {
		t.Errorf("htmx: %d, HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	if rec := te.get("/password/change", ck); rec.Code != http.StatusOK || testid(doc(t, rec), "change-password-form").Length() != 1 {
		t.Fatalf("the change page: %d", rec.Code)
	}
	rec := te.post("/password/change", url.Values{"current_password": {"wrong"}, "new_password": {"my own password 1"}, "confirm_password": {"my own password 1"}}, ck)
	wantFieldErrors(t, rec, "current_password")
	rec = te.post("/password/change", url.Values{"current_password": {testPassword}, "new_password": {"my own password 1"}, "confirm_password": {"my own password 1"}}, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("change: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	fresh := sessionCookieOf(rec)
	if fresh == nil || te.get("/", fresh).Code != http.StatusOK {
		t.Error("after the change the user is not let in")
	}
	if rec := te.get("/password/change", fresh); rec.Code != http.StatusSeeOther {
		t.Errorf("the change page after the change: %d", rec.Code)
	}
}
