package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/metrics"
)

func TestTokensAreRevokedWithTheSessions(t *testing.T) {
	ae := newAPIEnv(t, metrics.Options{})
	creator := ae.byRole[app.RoleCreator]
	tests := []struct {
		name   string
		revoke func(t *testing.T)
	}{
		{"sign out everywhere", func(t *testing.T) {
			ck := ae.login(creator.Email)
			if rec := ae.post("/profile/sign-out-everywhere", nil, ck); rec.Code != http.StatusSeeOther {
				t.Fatalf("sign out everywhere: %d", rec.Code)
			}
		}},
		{"password set through an admin's reset link", func(t *testing.T) {
			link := ae.issueLink(t, "/admin/users/"+creator.ID.String()+"/reset-link")
			ae.setPasswordThrough(t, link, testPassword)
		}},
		{"user disabled", func(t *testing.T) {
			admin := ae.loginRole(app.RoleAdmin)
			if rec := ae.post("/admin/users/"+creator.ID.String()+"/disable", nil, admin); rec.Code != http.StatusSeeOther {
				t.Fatalf("disable: %d", rec.Code)
			}
			if rec := ae.post("/admin/users/"+creator.ID.String()+"/enable", nil, admin); rec.Code != http.StatusSeeOther {
				t.Fatalf("enable: %d", rec.Code)
			}
		}},
		{"password change", func(t *testing.T) {
			ck := ae.login(creator.Email)
			form := url.Values{"current_password": {testPassword}, "new_password": {testPassword + "!"}, "confirm_password": {testPassword + "!"}}
			if rec := ae.post("/profile/password", form, ck); rec.Code != http.StatusSeeOther {
				t.Fatalf("change: %d", rec.Code)
			}
			if _, err := ae.users.ResetPassword(t.Context(), ae.byRole[app.RoleAdmin], creator.ID, testPassword); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := ae.token(t, app.RoleCreator)
			if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusOK {
				t.Fatalf("token before: %d", rec.Code)
			}
			tt.revoke(t)
			if rec := ae.apiGet("/api/v1/agents", tok); rec.Code != http.StatusUnauthorized {
				t.Fatalf("token after %s: %d, want 401", tt.name, rec.Code)
			}
		})
	}
}

func TestProfileSaysTokensAreRevoked(t *testing.T) {
	te := newTestEnv(t)
	d := doc(t, te.get("/profile", te.loginRole(app.RoleCreator)))
	confirm := testid(d, "sign-out-everywhere").Closest("form").AttrOr("data-confirm", "")
	if !strings.Contains(confirm, "API tokens") {
		t.Errorf("sign-out-everywhere confirmation %q does not mention API tokens", confirm)
	}
	if !strings.Contains(testid(d, "password-form").Parent().Text(), "API tokens") {
		t.Error("the password section does not say tokens are revoked")
	}
}
