package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A person who signs in only through single sign-on has no console
// password: the user menu offers no "Change password", the profile says
// where the password is kept, and a posted change is refused in words.
func TestSSOUserWithoutPasswordIsNotOfferedAPasswordChange(t *testing.T) {
	se := newSSOEnv(t, nil)
	c := browser(t)
	if p := se.signIn(t, c, person{sub: "sam-1", email: "sam@example.com", groups: []string{"ops"}}); p.url.Path != "/" {
		t.Fatalf("sign-in landed on %d %s", p.status, p.url)
	}
	p := fetch(t, c, se.url+"/profile")
	d := p.doc(t)
	if n := d.Find(`[data-testid="password-form"]`).Length(); n != 0 {
		t.Errorf("the profile shows the password form to a single sign-on user")
	}
	if txt := d.Find(`[data-testid="sso-password"]`).Text(); !strings.Contains(txt, "single sign-on") {
		t.Errorf("the profile's password section says %q; want it to say the password is kept by single sign-on", txt)
	}
	if d.Find(`[data-testid="user-menu"] a[href="/profile#password"]`).Length() != 0 {
		t.Errorf("the user menu offers Change password")
	}

	resp, err := c.PostForm(se.url+"/profile/password", url.Values{
		"current_password": {"anything at all"}, "new_password": {"a new password of mine"}, "confirm_password": {"a new password of mine"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("a posted password change answers %d; want 409", resp.StatusCode)
	}

	// A password user still has both.
	rec := se.get("/profile", se.login("admin@example.com"))
	d = page{status: rec.Code, body: rec.Body.String()}.doc(t)
	if d.Find(`[data-testid="password-form"]`).Length() != 1 || d.Find(`[data-testid="user-menu"] a[href="/profile#password"]`).Length() != 1 {
		t.Errorf("a password user lost the password form or the menu link")
	}
}
