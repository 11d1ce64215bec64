package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
)

// TestUserAccessPage: an admin gives a user roles per account on the user
// page; the user's sessions end at once and the list says the access in
// words; bad input is refused in words and changes nothing.
func TestUserAccessPage(t *testing.T) {
	ge := newGrantEnv(t)
	admin := ge.loginRole(app.RoleAdmin)
	u := ge.byRole[app.RoleCreator]
	path := "/admin/users/" + u.ID.String()
	userCk := ge.login(u.Email)

	rec := ge.get(path, admin)
	if rec.Code != http.StatusOK {
		t.Fatalf("user page: %d", rec.Code)
	}
	d := doc(t, rec)
	if got := strings.TrimSpace(testid(d, "user-access").Text()); got != "Creator on all accounts" {
		t.Errorf("access in words = %q", got)
	}
	if n := testid(d, "access-grants").Find("select").Length(); n != 2 {
		t.Errorf("%d account selects, want 2 (Demo account, Globex)", n)
	}

	form := url.Values{"scope": {"accounts"}, "grant_" + ge.a.ID.String(): {"creator"}, "grant_" + ge.b.ID.String(): {"none"}}
	rec = ge.post(path+"/access", form, admin)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save access: %d\n%s", rec.Code, rec.Body.String())
	}
	got, _ := ge.users.Get(t.Context(), u.ID)
	if !got.Access().Equal(app.OnlyAccounts(app.Grant{Account: ge.a.ID, Role: app.RoleCreator})) {
		t.Errorf("stored access = %+v", got.Access())
	}
	if rec := ge.get("/", userCk); !redirectsToLogin(rec) {
		t.Errorf("the user's session survived the change: %d", rec.Code)
	}
	if es := ge.auditActions(app.ActionUserAccess); len(es) == 0 || es[0].Outcome != app.OutcomeOK || !strings.Contains(es[0].Message, "Creator on Demo account") {
		t.Errorf("audit = %+v", es)
	}
	list := doc(t, ge.get("/admin/users", admin))
	row := list.Find(`[data-testid="user-row"][data-email="` + u.Email + `"] [data-testid="user-role"]`)
	if got := strings.TrimSpace(row.Text()); got != "Creator on Demo account" {
		t.Errorf("the list says %q", got)
	}

	bad := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"no choice", url.Values{}, "scope"},
		{"an unknown role on every account", url.Values{"scope": {"all"}, "role": {"root"}}, "role"},
		{"an unknown role on one account", url.Values{"scope": {"accounts"}, "grant_" + ge.a.ID.String(): {"owner"}}, "grants"},
		{"Admin on one account", url.Values{"scope": {"accounts"}, "grant_" + ge.a.ID.String(): {"admin"}}, "grants"},
		{"a tampered form naming an account that does not exist", url.Values{"scope": {"accounts"}, "grant_424242": {"creator"}}, "grants"},
		{"a tampered form naming no account", url.Values{"scope": {"accounts"}, "grant_x1": {"creator"}}, "grants"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			rec := ge.post(path+"/access", tt.form, admin)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", rec.Code)
			}
			if msg := testid(doc(t, rec), "error-summary").Text(); strings.TrimSpace(msg) == "" {
				t.Error("no message in words")
			}
			after, _ := ge.users.Get(t.Context(), u.ID)
			if !after.Access().Equal(got.Access()) {
				t.Errorf("a refused form changed the access: %+v", after.Access())
			}
		})
	}
	t.Run("an admin cannot take away their own Admin", func(t *testing.T) {
		me := ge.byRole[app.RoleAdmin]
		rec := ge.post("/admin/users/"+me.ID.String()+"/access", url.Values{"scope": {"accounts"}, "grant_" + ge.a.ID.String(): {"creator"}}, admin)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(testid(doc(t, rec), "error-summary").Text(), "your own Admin role") {
			t.Fatalf("status %d", rec.Code)
		}
		if after, _ := ge.users.Get(t.Context(), me.ID); after.Role != app.RoleAdmin {
			t.Error("the admin lost Admin")
		}
	})
}

// TestInviteWithGrantsPage: the invitation form carries roles per account.
func TestInviteWithGrantsPage(t *testing.T) {
	ge := newGrantEnv(t)
	admin := ge.loginRole(app.RoleAdmin)
	if n := testid(doc(t, ge.get("/admin/users/new", admin)), "access-grants").Find("select").Length(); n != 2 {
		t.Errorf("the invitation offers %d accounts, want 2", n)
	}
	form := url.Values{"email": {"guest@example.com"}, "scope": {"accounts"}, "grant_" + ge.b.ID.String(): {"observer"}}
	if rec := ge.post("/admin/users", form, admin); rec.Code != http.StatusOK {
		t.Fatalf("invite: %d\n%s", rec.Code, rec.Body.String())
	}
	u, err := ge.store.UserByEmail(t.Context(), "guest@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Access().Equal(app.OnlyAccounts(app.Grant{Account: ge.b.ID, Role: app.RoleObserver})) {
		t.Errorf("invited access = %+v", u.Access())
	}
	form = url.Values{"email": {"nope"}, "scope": {"accounts"}, "grant_424242": {"creator"}}
	rec := ge.post("/admin/users", form, admin)
	if rec.Code != http.StatusUnprocessableEntity || testid(doc(t, rec), "grants-error").Text() == "" {
		t.Fatalf("a tampered invitation: %d", rec.Code)
	}
}
