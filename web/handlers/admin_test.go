package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

func TestAdminIndex(t *testing.T) {
	te := newTestEnv(t)
	d := doc(t, te.get("/admin", te.loginRole(app.RoleAdmin)))
	admin := te.loginRole(app.RoleAdmin)
	for _, id := range []string{"admin-users-link", "admin-accounts-link", "admin-audit-link", "admin-maintenance-link", "admin-alerts-link"} {
		link := testid(d, id)
		if link.Length() != 1 {
			t.Errorf("no %s", id)
			continue
		}
		// Every section links to a page that exists for an admin.
		href, _ := link.Attr("href")
		if rec := te.get(href, admin); rec.Code != http.StatusOK {
			t.Errorf("%s: GET %s = %d", id, href, rec.Code)
		}
	}
}

func TestAddAccount(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	form := func(secret string) url.Values {
		return url.Values{"name": {"Production"}, "username": {rcbusim.DemoUser}, "kind": {"api_key"}, "secret": {secret}, "identity_url": {te.sim.IdentityURL}, "region": {""}}
	}
	t.Run("rejected credentials re-render the form and save nothing", func(t *testing.T) {
		rec := te.post("/admin/accounts", form("not-the-key"), admin)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", rec.Code)
		}
		d := doc(t, rec)
		if !strings.Contains(testid(d, "error-summary").Text(), "rejected") {
			t.Errorf("summary %q", testid(d, "error-summary").Text())
		}
		if v := d.Find(`input[name="name"]`).AttrOr("value", ""); v != "Production" {
			t.Errorf("the input was not kept: name=%q", v)
		}
		if v := d.Find(`input[name="secret"]`).AttrOr("value", ""); v != "" {
			t.Error("the secret was echoed back")
		}
		if strings.Contains(rec.Body.String(), "not-the-key") {
			t.Error("the secret appears in the page")
		}
		if list, _ := te.accounts.List(t.Context()); len(list) != 1 {
			t.Errorf("accounts: %d, want only the demo one", len(list))
		}
	})
	t.Run("malformed fields get messages under each field", func(t *testing.T) {
		rec := te.post("/admin/accounts", url.Values{"kind": {"magic"}, "identity_url": {"ftp://x"}, "region": {"MOON"}}, admin)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", rec.Code)
		}
		d := doc(t, rec)
		for _, f := range []string{"name", "username", "kind", "secret", "identity_url", "region"} {
			msg := testid(d, "error-"+f)
			if msg.Length() != 1 {
				t.Errorf("no message under %s", f)
				continue
			}
			id := msg.AttrOr("id", "")
			field := d.Find("#field-" + f)
			if !strings.Contains(field.AttrOr("aria-describedby", ""), id) || field.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("%s: aria-describedby %q does not point at %q", f, field.AttrOr("aria-describedby", ""), id)
			}
			if testid(d, "error-summary").Find(`a[href="#field-`+f+`"]`).Length() != 1 {
				t.Errorf("the summary does not link to %s", f)
			}
		}
	})
	var id string
	t.Run("good credentials connect and appear in the switcher", func(t *testing.T) {
		rec := te.post("/admin/accounts", form(rcbusim.DemoAPIKey), admin)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/accounts" {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		d := doc(t, te.get("/admin/accounts", admin))
		if !strings.Contains(testid(d, "flash").Text(), "Connected Production") {
			t.Errorf("flash %q", testid(d, "flash").Text())
		}
		rows := testid(d, "account-row")
		if rows.Length() != 2 {
			t.Fatalf("%d account rows", rows.Length())
		}
		if strings.Contains(d.Text(), rcbusim.DemoAPIKey) {
			t.Error("the API key is rendered")
		}
		id = testid(d, "edit-account").AttrOr("href", "")
		id = strings.TrimSuffix(strings.TrimPrefix(id, "/admin/accounts/"), "/edit")
		sw := testid(doc(t, te.get("/", admin)), "account-switcher")
		var labels []string
		sw.Find("option").Each(func(_ int, s *goquery.Selection) { labels = append(labels, s.Text()) })
		if strings.Join(labels, "|") != "Demo account (demo)|Production|All accounts" {
			t.Errorf("switcher options %q", labels)
		}
	})
	t.Run("edit keeps the stored key when left empty", func(t *testing.T) {
		f := form("")
		f.Set("name", "Prod")
		rec := te.post("/admin/accounts/"+id, f, admin)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		a, err := te.accounts.Get(t.Context(), mustAccountID(t, id))
		if err != nil || a.Name != "Prod" {
			t.Fatalf("after edit: %+v, %v", a, err)
		}
	})
	t.Run("the demo account cannot be removed", func(t *testing.T) {
		rec := te.post("/admin/accounts/"+te.demo.ID.String()+"/delete", nil, admin)
		if rec.Code != http.StatusConflict {
			t.Fatalf("status %d", rec.Code)
		}
		if msg := testid(doc(t, rec), "error-message").Text(); !strings.Contains(msg, "managed") {
			t.Errorf("message %q", msg)
		}
	})
	t.Run("remove asks first, then removes", func(t *testing.T) {
		d := doc(t, te.get("/admin/accounts/"+id+"/delete", admin))
		if testid(d, "confirm-delete-account").Length() != 1 {
			t.Fatal("no confirmation step")
		}
		if rec := te.post("/admin/accounts/"+id+"/delete", nil, admin); rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d", rec.Code)
		}
		if rec := te.get("/admin/accounts/"+id+"/edit", admin); rec.Code != http.StatusNotFound {
			t.Errorf("removed account: status %d", rec.Code)
		}
	})
}

func TestAccountSwitcher(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	if _, err := te.accounts.Create(t.Context(), te.byRole[app.RoleAdmin], app.AccountRequest{Name: "Zeta", Username: rcbusim.DemoUser, Kind: "api_key", Secret: rcbusim.DemoAPIKey, IdentityURL: te.sim.IdentityURL}); err != nil {
		t.Fatal(err)
	}
	selected := func() string {
		return testid(doc(t, te.get("/profile", admin)), "account-switcher").Find("option[selected]").Text()
	}
	if got := selected(); got != "Demo account (demo)" {
		t.Errorf("default selection %q", got)
	}
	rec := te.post("/accounts/select", url.Values{"account": {"all"}, "return": {"/profile"}}, admin)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/profile" {
		t.Fatalf("select: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := selected(); got != "All accounts" {
		t.Errorf("after choosing all: %q", got)
	}
	d := doc(t, te.get("/", admin))
	if n := testid(d, "agent-section").Length(); n != 2 {
		t.Errorf("overview with all accounts shows %d sections", n)
	}
	for _, bad := range []string{"999999", "", "x"} {
		if rec := te.post("/accounts/select", url.Values{"account": {bad}}, admin); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("account %q: status %d", bad, rec.Code)
		}
	}
	if rec := te.post("/accounts/select", url.Values{"account": {te.demo.ID.String()}, "return": {"https://evil.example/"}}, admin); rec.Header().Get("Location") != "/" {
		t.Errorf("return to another site: %q", rec.Header().Get("Location"))
	}
}

func TestUsersAdmin(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	t.Run("bad input re-renders with messages", func(t *testing.T) {
		rec := te.post("/admin/users", url.Values{"email": {"nope"}, "role": {"root"}}, admin)
		d := wantFieldErrors(t, rec, "email", "role")
		if d.Find(`input[name="email"]`).AttrOr("value", "") != "nope" {
			t.Error("input not kept")
		}
	})
	t.Run("invite, list", func(t *testing.T) {
		link := te.issueLinkForm(t, admin, url.Values{"email": {"New@Example.com"}, "name": {"New"}, "role": {"creator"}})
		if !strings.Contains(link, app.LinkPath) {
			t.Fatalf("link %q", link)
		}
		d := doc(t, te.get("/admin/users", admin))
		row := d.Find(`[data-testid="user-row"][data-email="new@example.com"]`)
		if row.Length() != 1 || strings.TrimSpace(row.Find(`[data-testid="user-role"]`).Text()) != "Creator on all accounts" || !strings.Contains(row.Text(), "Invited") {
			t.Fatalf("user row missing or wrong: %q", row.Text())
		}
		if rec := te.post("/login", url.Values{"email": {"new@example.com"}, "password": {""}}, nil); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("an invited user without a password signed in: %d", rec.Code)
		}
	})
	t.Run("an admin cannot demote themselves", func(t *testing.T) {
		rec := te.post("/admin/users/"+te.byRole[app.RoleAdmin].ID.String()+"/access", url.Values{"scope": {"all"}, "role": {"observer"}}, admin)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", rec.Code)
		}
		if !strings.Contains(testid(doc(t, rec), "error-summary").Text(), "your own Admin role") {
			t.Error("no explanation")
		}
	})
	t.Run("unknown and malformed ids are 404", func(t *testing.T) {
		for _, p := range []string{"/admin/users/424242", "/admin/users/abc", "/admin/users/-1"} {
			if rec := te.get(p, admin); rec.Code != http.StatusNotFound {
				t.Errorf("%s: status %d", p, rec.Code)
			}
		}
	})
}

func TestAuditLogPage(t *testing.T) {
	te := newTestEnv(t)
	admin := te.loginRole(app.RoleAdmin)
	te.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password!"}}, nil)
	d := doc(t, te.get("/admin/audit?outcome=failed&action=auth.login", admin))
	rows := testid(d, "audit-row")
	if rows.Length() != 1 || !strings.Contains(rows.Text(), "wrong password") {
		t.Fatalf("failed logins: %d rows %q", rows.Length(), rows.Text())
	}
	if d.Find(`select[name="outcome"] option[selected]`).AttrOr("value", "") != "failed" {
		t.Error("the filter form does not show the filter")
	}
	if a := rows.Find(`[data-testid="audit-action"]`); a.Text() != "Signed in" || a.AttrOr("title", "") != "auth.login" {
		t.Errorf("action %q (title %q): want words with the raw name on hover", a.Text(), a.AttrOr("title", ""))
	}
	t.Run("bad dates are reported, not a 500", func(t *testing.T) {
		rec := te.get("/admin/audit?from=yesterday&outcome=maybe", admin)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", rec.Code)
		}
		d := doc(t, rec)
		if testid(d, "error-from").Length() != 1 || testid(d, "error-outcome").Length() != 1 {
			t.Error("no field messages")
		}
	})
	t.Run("htmx filtering returns only the results", func(t *testing.T) {
		rec := te.do(req{path: "/admin/audit?outcome=failed", cookie: admin, headers: map[string]string{"HX-Request": "true"}})
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		d := doc(t, rec)
		if testid(d, "site-header").Length() != 0 || testid(d, "audit-filters").Length() != 0 {
			t.Error("the fragment carries the whole page")
		}
		if testid(d, "audit-row").Length() != 1 {
			t.Errorf("%d rows in the fragment", testid(d, "audit-row").Length())
		}
	})
	t.Run("keyset paging keeps the filters", func(t *testing.T) {
		for range 60 {
			te.audit.Record(t.Context(), app.AuditEntry{Actor: "bot@example.com", Action: "test.ping", Outcome: app.OutcomeOK})
		}
		d := doc(t, te.get("/admin/audit?actor=bot", admin))
		if n := testid(d, "audit-row").Length(); n != app.DefaultAuditPageSize {
			t.Fatalf("first page %d rows", n)
		}
		older := testid(d, "older").AttrOr("href", "")
		if !strings.Contains(older, "actor=bot") || !strings.Contains(older, "before=") || testid(d, "newer").Length() != 0 {
			t.Fatalf("older %q", older)
		}
		d2 := doc(t, te.get(older, admin))
		if n := testid(d2, "audit-row").Length(); n != 10 {
			t.Errorf("second page %d rows", n)
		}
		if testid(d2, "older").Length() != 0 || testid(d2, "newer").Length() != 1 {
			t.Error("paging links on the last page")
		}
		d3 := doc(t, te.get(testid(d2, "newer").AttrOr("href", ""), admin))
		if n := testid(d3, "audit-row").Length(); n != app.DefaultAuditPageSize {
			t.Errorf("back to newer: %d rows", n)
		}
	})
}

func mustAccountID(t *testing.T, s string) app.AccountID {
	t.Helper()
	var id int64
	for _, r := range s {
		if r < '0' || r > '9' {
			t.Fatalf("bad id %q", s)
		}
		id = id*10 + int64(r-'0')
	}
	return app.AccountID(id)
}
