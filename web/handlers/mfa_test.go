package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rcbu-console/rcbu-console/app"
)

// cookieOf returns the cookie named name that rec sets, or nil.
func cookieOf(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// totpCode is the authenticator app's code for the secret shown on the
// enrolment page, at t.
func totpCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// passwordStep posts the password of email and returns the half sign-in
// cookie, checking that the browser is sent to want and has no session.
func (te *testEnv) passwordStep(email, next, want string) *http.Cookie {
	te.t.Helper()
	rec := te.post("/login", url.Values{"email": {email}, "password": {testPassword}, "next": {next}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
		te.t.Fatalf("password step: status %d, Location %q; want 303 to %s", rec.Code, rec.Header().Get("Location"), want)
	}
	if ck := sessionCookieOf(rec); ck != nil {
		te.t.Fatal("a session cookie before the second factor")
	}
	ck := cookieOf(rec, signInCookie)
	if ck == nil || !ck.HttpOnly || ck.Path != "/login" || ck.MaxAge != 300 {
		te.t.Fatalf("half sign-in cookie = %+v", ck)
	}
	return ck
}

// enrolThroughSignIn walks an observer whose role requires a factor through
// the enrolment after the password, and returns the secret, the recovery
// codes and the session cookie.
func enrolThroughSignIn(t *testing.T, te *testEnv, email string) (string, []string, *http.Cookie) {
	t.Helper()
	pending := te.passwordStep(email, "/agents", "/login/enrol")
	rec := te.get("/login/enrol", pending)
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("enrol page: status %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	d := doc(t, rec)
	secret := strings.TrimSpace(testid(d, "mfa-secret").Text())
	if src, _ := testid(d, "mfa-qr").Attr("src"); !strings.HasPrefix(src, "data:image/png;base64,") || len(secret) < 32 {
		t.Fatalf("enrol page: QR %.40q, secret %q", src, secret)
	}
	// A wrong code: the page again, with the message under the field.
	rec = te.post("/login/enrol", url.Values{"code": {"000000"}}, pending)
	d = wantFieldErrors(t, rec, "code")
	if got := strings.TrimSpace(testid(d, "mfa-secret").Text()); got != secret {
		t.Errorf("the secret changed after a wrong code: %q, want %q", got, secret)
	}
	rec = te.post("/login/enrol", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, pending)
	if rec.Code != http.StatusOK {
		t.Fatalf("confirm: status %d\n%s", rec.Code, rec.Body.String())
	}
	d = doc(t, rec)
	var codes []string
	testid(d, "mfa-codes").Find("code").Each(func(_ int, s *goquery.Selection) { codes = append(codes, s.Text()) })
	if len(codes) != app.RecoveryCodeCount {
		t.Fatalf("recovery codes = %v", codes)
	}
	if href, _ := testid(d, "mfa-continue").Attr("href"); href != "/agents" {
		t.Errorf("continue = %q", href)
	}
	sess := sessionCookieOf(rec)
	if sess == nil {
		t.Fatal("no session after enrolment")
	}
	if gone := cookieOf(rec, signInCookie); gone == nil || gone.MaxAge >= 0 {
		t.Errorf("half sign-in cookie not cleared: %+v", gone)
	}
	te.clock.Advance(30 * time.Second) // the next code comes a step later
	return secret, codes, sess
}

func TestMFASignIn(t *testing.T) {
	te, deps := buildTestEnv(t, envOptions{})
	ctx := context.Background()
	admin := te.byRole[app.RoleAdmin]
	obs := te.byRole[app.RoleObserver]

	// Nothing required, nothing enrolled: the password alone signs in.
	te.login(obs.Email)

	if _, err := deps.MFA.SetRequiredRoles(ctx, admin, []string{"observer"}); err != nil {
		t.Fatal(err)
	}
	t.Run("a half sign-in opens no page", func(t *testing.T) {
		pending := te.passwordStep(obs.Email, "/", "/login/enrol")
		pending.Path = "/" // even sent everywhere, it is no session
		if rec := te.get("/agents", pending); !redirectsToLogin(rec) {
			t.Errorf("/agents with a half sign-in: status %d", rec.Code)
		}
		// The enrolment's half sign-in is not the code's.
		if rec := te.get("/login/verify", pending); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login/enrol" {
			t.Errorf("verify page of an enrolment: status %d, Location %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := te.post("/login/verify", url.Values{"code": {"123456"}}, pending); rec.Code != http.StatusGone {
			t.Errorf("a code for an enrolment: status %d", rec.Code)
		}
	})
	secret, recovery, sess := enrolThroughSignIn(t, te, obs.Email)
	if rec := te.get("/agents", sess); rec.Code != http.StatusOK {
		t.Fatalf("after enrolment: status %d", rec.Code)
	}

	t.Run("sign in with a code", func(t *testing.T) {
		pending := te.passwordStep(obs.Email, "/activity", "/login/verify")
		rec := te.get("/login/verify", pending)
		if rec.Code != http.StatusOK || testid(doc(t, rec), "mfa-email").Text() != obs.Email {
			t.Fatalf("verify page: status %d", rec.Code)
		}
		code := totpCode(t, secret, te.clock.Now())
		rec = te.post("/login/verify", url.Values{"code": {code}}, pending)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/activity" || sessionCookieOf(rec) == nil {
			t.Fatalf("verify: status %d, Location %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := te.get("/activity", sessionCookieOf(rec)); rec.Code != http.StatusOK {
			t.Errorf("after the code: status %d", rec.Code)
		}
		// The same code again, in a new sign-in: refused, said in words.
		pending = te.passwordStep(obs.Email, "/", "/login/verify")
		rec = te.post("/login/verify", url.Values{"code": {code}}, pending)
		d := wantFieldErrors(t, rec, "code")
		if !strings.Contains(testid(d, "error-code").Text(), "used already") {
			t.Errorf("reused code message = %q", testid(d, "error-code").Text())
		}
		// The half sign-in survives a refusal, and is used once.
		te.clock.Advance(30 * time.Second)
		if rec := te.post("/login/verify", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, pending); rec.Code != http.StatusSeeOther {
			t.Fatalf("right code after a refusal: status %d", rec.Code)
		}
		te.clock.Advance(30 * time.Second)
		if rec := te.post("/login/verify", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, pending); rec.Code != http.StatusGone {
			t.Errorf("half sign-in used twice: status %d", rec.Code)
		}
	})

	t.Run("a code after the half sign-in expired", func(t *testing.T) {
		pending := te.passwordStep(obs.Email, "/", "/login/verify")
		te.clock.Advance(5*time.Minute + time.Second)
		rec := te.post("/login/verify", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, pending)
		if rec.Code != http.StatusGone || testid(doc(t, rec), "sign-in-expired").Length() != 1 || sessionCookieOf(rec) != nil {
			t.Fatalf("expired: status %d", rec.Code)
		}
		if rec := te.get("/login/verify", nil); rec.Code != http.StatusGone {
			t.Errorf("no half sign-in: status %d", rec.Code)
		}
	})

	t.Run("recovery codes work once", func(t *testing.T) {
		pending := te.passwordStep(obs.Email, "/", "/login/verify")
		rec := te.post("/login/verify", url.Values{"code": {recovery[3]}}, pending)
		if rec.Code != http.StatusSeeOther || sessionCookieOf(rec) == nil {
			t.Fatalf("recovery code: status %d", rec.Code)
		}
		page := te.get("/", sessionCookieOf(rec))
		if !strings.Contains(page.Body.String(), "You signed in with a recovery code. You have 9 left.") {
			t.Error("no note about the recovery code")
		}
		pending = te.passwordStep(obs.Email, "/", "/login/verify")
		d := wantFieldErrors(t, te.post("/login/verify", url.Values{"code": {recovery[3]}}, pending), "code")
		if !strings.Contains(testid(d, "error-code").Text(), "used already") {
			t.Errorf("second use message = %q", testid(d, "error-code").Text())
		}
	})

	t.Run("wrong codes are throttled", func(t *testing.T) {
		te.clock.Advance(2 * time.Hour)
		pending := te.passwordStep(obs.Email, "/", "/login/verify")
		for range 5 {
			wantFieldErrors(t, te.post("/login/verify", url.Values{"code": {"999999"}}, pending), "code")
		}
		d := wantFieldErrors(t, te.post("/login/verify", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, pending), "code")
		if !strings.Contains(testid(d, "error-code").Text(), "Too many") {
			t.Errorf("throttled message = %q", testid(d, "error-code").Text())
		}
	})

	t.Run("every refusal is in the audit log", func(t *testing.T) {
		page, err := te.audit.List(ctx, admin, app.AuditFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range page.Entries {
			seen[string(e.Action)+" "+string(e.Outcome)+" "+e.Message] = true
		}
		for _, want := range []string{
			"mfa.enrol failed wrong code", "mfa.enrol ok authenticator app",
			"mfa.verify failed code used already", "mfa.expired failed the half sign-in ended before its second step",
			"mfa.recovery_used ok 9 left", "mfa.recovery_used failed recovery code used already",
			"mfa.verify failed refused: too many wrong codes",
		} {
			if !seen[want] {
				t.Errorf("no audit entry %q", want)
			}
		}
	})
}

// profileEnrol turns two-factor sign-in on from the profile page and
// returns the secret.
func profileEnrol(t *testing.T, te *testEnv, sess *http.Cookie) string {
	t.Helper()
	rec := te.get("/profile/two-factor", sess)
	if rec.Code != http.StatusOK {
		t.Fatalf("setup page: status %d", rec.Code)
	}
	secret := strings.TrimSpace(testid(doc(t, rec), "mfa-secret").Text())
	wantFieldErrors(t, te.post("/profile/two-factor", url.Values{"code": {"12345"}}, sess), "code")
	rec = te.post("/profile/two-factor", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, sess)
	if rec.Code != http.StatusOK || testid(doc(t, rec), "mfa-codes").Find("li").Length() != app.RecoveryCodeCount {
		t.Fatalf("confirm: status %d", rec.Code)
	}
	te.clock.Advance(30 * time.Second)
	return secret
}

func TestMFAProfileAndAdmin(t *testing.T) {
	te := newTestEnv(t)
	adminCk := te.loginRole(app.RoleAdmin)
	obs := te.byRole[app.RoleObserver]
	sess := te.loginRole(app.RoleObserver)

	status := func() string {
		t.Helper()
		rec := te.get("/profile", sess)
		if rec.Code != http.StatusOK {
			t.Fatalf("profile: status %d", rec.Code)
		}
		return strings.Join(strings.Fields(testid(doc(t, rec), "two-factor-status").Text()), " ")
	}
	if s := status(); !strings.HasPrefix(s, "Off") {
		t.Errorf("status = %q", s)
	}
	secret := profileEnrol(t, te, sess)
	if s := status(); !strings.HasPrefix(s, "On") || !strings.Contains(s, "10 recovery codes left") {
		t.Errorf("status = %q", s)
	}
	if rec := te.get("/profile/two-factor", sess); rec.Code != http.StatusSeeOther {
		t.Errorf("setup page while on: status %d", rec.Code)
	}

	// New recovery codes need a current code.
	wantFieldErrors(t, te.post("/profile/two-factor/recovery-codes", url.Values{"code": {"000000"}}, sess), "code")
	rec := te.post("/profile/two-factor/recovery-codes", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, sess)
	if rec.Code != http.StatusOK || testid(doc(t, rec), "mfa-codes").Find("li").Length() != 10 {
		t.Fatalf("new recovery codes: status %d", rec.Code)
	}
	te.clock.Advance(30 * time.Second)

	// The admin requires a factor of observers: it cannot be turned off.
	if rec := te.get("/admin/two-factor", adminCk); rec.Code != http.StatusOK || testid(doc(t, rec), "mfa-role-observer").Length() != 1 {
		t.Fatalf("settings page: status %d", rec.Code)
	}
	if rec := te.post("/admin/two-factor", url.Values{"role": {"observer", "admin"}}, adminCk); rec.Code != http.StatusSeeOther {
		t.Fatalf("save settings: status %d", rec.Code)
	}
	rec = te.get("/admin/two-factor", adminCk)
	if testid(doc(t, rec), "mfa-role-observer").AttrOr("checked", "no") == "no" {
		t.Error("observer not checked after saving")
	}
	if !strings.Contains(rec.Body.String(), "You have no second factor yet") {
		t.Error("the admin is not told to set up their own factor")
	}
	// The creator has no factor: requiring it ends their session.
	creator := te.loginRole(app.RoleCreator)
	te.post("/admin/two-factor", url.Values{"role": {"observer", "creator"}}, adminCk)
	if !strings.Contains(te.get("/admin/two-factor", adminCk).Body.String(), "1 other user of these roles has none") {
		t.Error("the flash does not count the users who must set it up")
	}
	if rec := te.get("/", creator); !redirectsToLogin(rec) {
		t.Errorf("the creator's session after the requirement: status %d", rec.Code)
	}
	te.passwordStep(te.byRole[app.RoleCreator].Email, "/", "/login/enrol")
	te.post("/admin/two-factor", url.Values{"role": {"observer", "admin"}}, adminCk)
	if rec := te.post("/admin/two-factor", url.Values{"role": {"owner"}}, adminCk); rec.Code != http.StatusSeeOther {
		t.Errorf("unknown role: status %d", rec.Code)
	}
	d := wantFieldErrors(t, te.post("/profile/two-factor/disable", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, sess), "code")
	if !strings.Contains(testid(d, "error-code").Text(), "requires") || testid(d, "two-factor-disable").Length() != 0 {
		t.Errorf("turn off while required: %q", testid(d, "error-code").Text())
	}
	if rec := te.post("/admin/two-factor", url.Values{}, adminCk); rec.Code != http.StatusSeeOther {
		t.Fatalf("clear settings: status %d", rec.Code)
	}
	if rec := te.post("/profile/two-factor/disable", url.Values{"code": {totpCode(t, secret, te.clock.Now())}}, sess); rec.Code != http.StatusSeeOther {
		t.Fatalf("turn off: status %d", rec.Code)
	}
	if s := status(); !strings.HasPrefix(s, "Off") {
		t.Errorf("status after turning off = %q", s)
	}

	// An admin's reset removes the factor and signs the user out.
	te.clock.Advance(30 * time.Second)
	profileEnrol(t, te, sess)
	path := "/admin/users/" + itoa(int64(obs.ID)) + "/two-factor/reset"
	if rec := te.post(path, nil, adminCk); rec.Code != http.StatusSeeOther {
		t.Fatalf("reset: status %d", rec.Code)
	}
	if rec := te.get("/profile", sess); !redirectsToLogin(rec) {
		t.Errorf("session after the reset: status %d", rec.Code)
	}
	te.login(obs.Email) // no factor, none required: the password alone
	if rec := te.post("/admin/users/999999/two-factor/reset", nil, adminCk); rec.Code != http.StatusNotFound {
		t.Errorf("reset of an unknown user: status %d", rec.Code)
	}
}
