package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestLoginPage(t *testing.T) {
	te := newTestEnv(t)
	rec := te.get("/login?next=/admin/users", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	d := doc(t, rec)
	if d.Find("title").Text() != "Sign in · RCBU Console" {
		t.Errorf("title %q", d.Find("title").Text())
	}
	form := testid(d, "login-form")
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/login" {
		t.Errorf("form method/action = %q %q", form.AttrOr("method", ""), form.AttrOr("action", ""))
	}
	if v := form.Find(`input[name="next"]`).AttrOr("value", ""); v != "/admin/users" {
		t.Errorf("next = %q", v)
	}
	for _, name := range []string{"email", "password"} {
		in := form.Find(`input[name="` + name + `"]`)
		id := in.AttrOr("id", "")
		if id == "" || d.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("input %s has no label", name)
		}
	}
	if testid(d, "demo-banner").Length() != 1 {
		t.Error("no demo banner on the login page")
	}
	if testid(d, "nav").Length() != 0 || testid(d, "account-switcher").Length() != 0 {
		t.Error("navigation or switcher shown to an anonymous visitor")
	}
}

func TestLogin(t *testing.T) {
	te := newTestEnv(t)
	ctx := t.Context()
	disabled, err := te.users.Create(ctx, te.byRole[app.RoleAdmin], app.NewUserRequest{Email: "gone@example.com", Role: "admin", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := te.users.SetDisabled(ctx, te.byRole[app.RoleAdmin], disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	failures := []struct{ name, email, pw string }{
		{"wrong password", "admin@example.com", "wrong password here"},
		{"unknown email", "nobody@example.com", testPassword},
		{"disabled user", "gone@example.com", testPassword},
		{"empty form", "", ""},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			rec := te.post("/login", url.Values{"email": {tt.email}, "password": {tt.pw}}, nil)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", rec.Code)
			}
			if sessionCookieOf(rec) != nil {
				t.Error("a failed login set a session cookie")
			}
			d := doc(t, rec)
			if got := strings.TrimSpace(testid(d, "login-error").Text()); got != app.LoginFailedMessage {
				t.Errorf("message %q", got)
			}
			if v := d.Find(`input[name="password"]`).AttrOr("value", ""); v != "" {
				t.Error("the password was echoed back")
			}
		})
	}
	t.Run("right password signs in and goes to next", func(t *testing.T) {
		rec := te.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {"/admin/users"}}, nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/users" {
			t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
		}
		ck := sessionCookieOf(rec)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
			t.Fatalf("cookie = %+v", ck)
		}
		d := doc(t, te.get("/", ck))
		if got := testid(d, "user-name").Text(); got != "Administrator" {
			t.Errorf("user name %q", got)
		}
	})
	t.Run("next cannot leave the site", func(t *testing.T) {
		for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
			rec := te.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}, "next": {next}}, nil)
			if loc := rec.Header().Get("Location"); loc != "/" {
				t.Errorf("next %q → Location %q", next, loc)
			}
		}
	})
}

func TestLoginRotatesTheSessionID(t *testing.T) {
	te := newTestEnv(t)
	// Sign in and out: the browser now holds an anonymous session (with the
	// "signed out" note), as a fixation attacker's planted cookie would be.
	ck := te.loginRole(app.RoleObserver)
	rec := te.post("/logout", nil, ck)
	anon := sessionCookieOf(rec)
	if anon == nil || anon.Value == "" {
		t.Fatal("no anonymous session after logout")
	}
	if d := doc(t, te.get("/login", anon)); !strings.Contains(testid(d, "flash").Text(), "signed out") {
		t.Errorf("flash = %q", testid(d, "flash").Text())
	}
	rec = te.do(req{method: http.MethodPost, path: "/login", form: url.Values{"email": {"observer@example.com"}, "password": {testPassword}}, cookie: anon})
	fresh := sessionCookieOf(rec)
	if fresh == nil || fresh.Value == anon.Value {
		t.Fatal("login kept the pre-login session id")
	}
	// The planted id carries no sign-in.
	if rec := te.get("/", anon); !redirectsToLogin(rec) {
		t.Errorf("pre-login cookie after login: status %d", rec.Code)
	}
	if rec := te.get("/", fresh); rec.Code != http.StatusOK {
		t.Errorf("new cookie: status %d", rec.Code)
	}
}

func TestTamperedCookieIsAnonymous(t *testing.T) {
	te := newTestEnv(t)
	ck := te.loginRole(app.RoleAdmin)
	bad := *ck
	bad.Value = ck.Value[:len(ck.Value)-4] + "AAAA"
	if rec := te.get("/", &bad); !redirectsToLogin(rec) {
		t.Errorf("tampered cookie: status %d", rec.Code)
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	te := newTestEnv(t)
	ck := te.loginRole(app.RoleAdmin)
	form := url.Values{"email": {"admin@example.com"}, "password": {testPassword}}
	tests := []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"foreign Origin", "/login", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", "/login", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"cross-site on an admin action", "/admin/users", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same origin", "/login", map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"no browser headers (curl)", "/login", nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := te.users.List(t.Context(), te.byRole[app.RoleAdmin])
			rec := te.do(req{method: http.MethodPost, path: tt.path, form: form, cookie: ck, headers: tt.headers})
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusForbidden {
				if sessionCookieOf(rec) != nil {
					t.Error("a refused request set a cookie")
				}
				after, _ := te.users.List(t.Context(), te.byRole[app.RoleAdmin])
				if len(after) != len(before) {
					t.Error("a refused request changed state")
				}
			}
		})
	}
	t.Run("GET from anywhere is fine", func(t *testing.T) {
		rec := te.do(req{path: "/login", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		if rec.Code != http.StatusOK {
			t.Errorf("status %d", rec.Code)
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	te := newTestEnv(t)
	for _, path := range []string{"/login", "/no-such-page", "/static/app.css", "/healthz"} {
		rec := te.get(path, nil)
		h := rec.Header()
		if h.Get("Content-Security-Policy") != contentSecurityPolicy {
			t.Errorf("%s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s = %q", path, k, h.Get(k))
			}
		}
		if h.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", path)
		}
	}
	// The pages need no inline script or style: nothing the CSP would block.
	for _, path := range []string{"/", "/profile", "/admin/users", "/admin/audit", "/admin/accounts/new"} {
		body := te.get(path, te.loginRole(app.RoleAdmin)).Body.String()
		d := doc(t, te.get(path, te.loginRole(app.RoleAdmin)))
		if n := d.Find("[style]").Length(); n > 0 {
			t.Errorf("%s: %d inline style attributes", path, n)
		}
		d.Find("script").Each(func(_ int, s *goquery.Selection) {
			if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
				t.Errorf("%s: inline script", path)
			}
		})
		if strings.Contains(body, " on") && strings.Contains(body, "onclick=") {
			t.Errorf("%s: inline event handler", path)
		}
	}
}

func TestSessionRevocation(t *testing.T) {
	alive := func(te *testEnv, ck *http.Cookie) bool {
		te.t.Helper()
		return te.get("/", ck).Code == http.StatusOK
	}
	// Each action ends the signed-in session; "other" is the user's second
	// session, or the admin's own when an admin acts on the user.
	for _, tc := range []struct {
		name      string
		role      app.Role
		byAdmin   bool
		action    string // the path; {id} is the user's id
		form      url.Values
		location  string // where the action redirects, when it matters
		otherLive bool
		after     func(t *testing.T, te *testEnv)
	}{
		{name: "logout", role: app.RoleObserver, action: "/logout", location: "/login", otherLive: true},
		{name: "role change by an admin", role: app.RoleCreator, byAdmin: true, action: "/admin/users/{id}/access", form: url.Values{"scope": {"all"}, "role": {"observer"}}, otherLive: true},
		{name: "disable", role: app.RoleObserver, byAdmin: true, action: "/admin/users/{id}/disable", otherLive: true, after: func(t *testing.T, te *testEnv) {
			if rec := te.post("/login", url.Values{"email": {"observer@example.com"}, "password": {testPassword}}, nil); rec.Code != http.StatusUnprocessableEntity {
				t.Errorf("disabled user signed in: %d", rec.Code)
			}
		}},
		{name: "sign out everywhere", role: app.RoleObserver, action: "/profile/sign-out-everywhere", location: "/login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv(t)
			ck, other, actor := te.loginRole(tc.role), (*http.Cookie)(nil), (*http.Cookie)(nil)
			if tc.byAdmin {
				other = te.loginRole(app.RoleAdmin)
				actor = other
			} else {
				other = te.loginRole(tc.role)
				actor = ck
			}
			path := strings.ReplaceAll(tc.action, "{id}", te.byRole[tc.role].ID.String())
			rec := te.post(path, tc.form, actor)
			if rec.Code != http.StatusSeeOther || (tc.location != "" && rec.Header().Get("Location") != tc.location) {
				t.Fatalf("%s: %d to %q\n%s", path, rec.Code, rec.Header().Get("Location"), rec.Body.String())
			}
			if alive(te, ck) {
				t.Error("the session survived")
			}
			if alive(te, other) != tc.otherLive {
				t.Errorf("the other session alive: %v, want %v", !tc.otherLive, tc.otherLive)
			}
			if tc.after != nil {
				tc.after(t, te)
			}
		})
	}
	t.Run("password change keeps this browser signed in only", func(t *testing.T) {
		te := newTestEnv(t)
		ck := te.loginRole(app.RoleCreator)
		other := te.loginRole(app.RoleCreator)
		rec := te.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {"brand new password 1"}, "confirm_password": {"brand new password 1"}}, ck)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status %d\n%s", rec.Code, rec.Body.String())
		}
		fresh := sessionCookieOf(rec)
		if fresh == nil || fresh.Value == ck.Value {
			t.Fatal("no fresh session after the password change")
		}
		if d := doc(t, te.get("/profile", fresh)); !strings.Contains(testid(d, "flash").Text(), "password was changed") {
			t.Errorf("flash %q", testid(d, "flash").Text())
		}
		if alive(te, ck) || alive(te, other) {
			t.Error("an old session survived the password change")
		}
		if !alive(te, fresh) {
			t.Error("this browser was signed out")
		}
	})
	t.Run("idle and absolute expiry", func(t *testing.T) {
		te := newTestEnv(t)
		ck := te.loginRole(app.RoleObserver)
		te.clock.Advance(11 * time.Hour)
		if !alive(te, ck) {
			t.Fatal("ended after 11 h")
		}
		te.clock.Advance(12*time.Hour + time.Second)
		if alive(te, ck) {
			t.Error("alive after 12 h idle")
		}
		ck = te.loginRole(app.RoleObserver)
		for range 16 {
			te.clock.Advance(11 * time.Hour)
			alive(te, ck)
		}
		if alive(te, ck) {
			t.Error("alive after 7 d")
		}
	})
}

func TestHTMXAnonymousGets401WithRedirect(t *testing.T) {
	te := newTestEnv(t)
	rec := te.do(req{path: "/admin/users", headers: map[string]string{"HX-Request": "true"}})
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("HX-Redirect") != "/login?next=%2Fadmin%2Fusers" {
		t.Errorf("status %d, HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
	}
	if testid(doc(t, rec), "error-fragment").Length() != 1 {
		t.Error("no error fragment")
	}
}
