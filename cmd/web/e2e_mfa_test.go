package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpNow is the code an authenticator app shows for secret (as the page
// prints it, in groups) at t.
func totpNow(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mfaScenarios: a user sets up an authenticator app from the profile page
// (the secret read from the page, the code made as an app would), then
// signs in with a code; the second-step pages pass axe.
func mfaScenarios(t *testing.T, env *e2eEnv) {
	t.Run("set up two-factor sign-in and sign in with a code", func(t *testing.T) {
		const email, password = "totp@example.com", "totp user password 4711"
		env.createUser(t, email, "creator", password)
		tb := env.newTab(t, 3*time.Minute)
		tb.login(email, password)
		tb.open("/profile")
		if st := tb.submit("open the setup", `[data-testid="two-factor-setup"]`); st != http.StatusOK || tb.location() != "/profile/two-factor" {
			t.Fatalf("setup page: %d at %s", st, tb.location())
		}
		if ok := eval[bool](tb, `(() => { const i = document.querySelector('[data-testid="mfa-qr"]'); return i.complete && i.naturalWidth > 100 && i.src.startsWith('data:image/png;base64,') })()`); !ok {
			t.Error("the QR code did not render")
		}
		tb.screenshot("mfa_enrol")
		w := &axeWalk{tb: tb}
		w.check("/profile/two-factor")
		tb.emulate(axeViews[0][0])
		secret := tb.text(`[data-testid="mfa-secret"]`)
		tb.do("enter the code from the app", chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), totpNow(t, secret, time.Now())))
		if st := tb.submit("turn it on", `[data-testid="mfa-enrol-submit"]`); st != http.StatusOK {
			t.Fatalf("confirm: %d", st)
		}
		if n := tb.count(`[data-testid="mfa-codes"] li`); n != 10 {
			t.Fatalf("%d recovery codes shown, want 10", n)
		}
		w.check("the recovery codes")
		tb.emulate(axeViews[0][0])
		tb.screenshot("mfa_recovery_codes")

		tb.do("open the user menu", chromedp.Click(chromedp.CSS(`[data-testid="user-menu"] summary`), chromedp.NodeVisible))
		tb.submit("sign out", `[data-testid="sign-out"]`)
		tb.open("/login")
		tb.do("fill the login form",
			chromedp.SendKeys(chromedp.CSS(`[data-testid="login-form"] input[name="email"]`), email),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="login-form"] input[name="password"]`), password),
		)
		if st := tb.submit("sign in", `[data-testid="login-submit"]`); st != http.StatusOK || tb.location() != "/login/verify" {
			t.Fatalf("after the password: %d at %s, want /login/verify", st, tb.location())
		}
		if tb.count(`[data-testid="sign-out"]`) != 0 {
			t.Fatal("signed in before the second factor")
		}
		w.check("/login/verify")
		tb.emulate(axeViews[0][0])
		tb.do("enter a wrong code", chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), "000000"))
		if st := tb.submit("send the wrong code", `[data-testid="mfa-verify-submit"]`); st != http.StatusUnprocessableEntity {
			t.Errorf("wrong code: %d, want 422", st)
		}
		if got := tb.text(`#error-code`); !strings.Contains(got, "not right") {
			t.Errorf("wrong code message = %q", got)
		}
		w.check("/login/verify with a wrong code")
		tb.emulate(axeViews[0][0])
		tb.screenshot("mfa_verify_error")
		// The code of the next step: later than the one the setup used,
		// and within the one step of skew the console allows.
		if v := eval[string](tb, `document.querySelector('input[name="code"]').value`); v != "" {
			t.Errorf("the refused code was put back in the field: %q", v)
		}
		tb.do("enter the code from the app",
			chromedp.SendKeys(chromedp.CSS(`input[name="code"]`), totpNow(t, secret, time.Now().Add(30*time.Second))))
		if st := tb.submit("send the code", `[data-testid="mfa-verify-submit"]`); st != http.StatusOK {
			t.Fatalf("code: %d", st)
		}
		if loc := tb.location(); loc != "/" {
			t.Errorf("after the code the tab is on %s, want /", loc)
		}
		if tb.count(`[data-testid="sign-out"]`) != 1 {
			t.Error("not signed in after the code")
		}
		// The half sign-in was used: the code page now says to start again.
		if st := tb.open("/login/verify"); st != http.StatusGone || tb.count(`[data-testid="sign-in-expired"]`) != 1 {
			t.Errorf("the code page after signing in: %d", st)
		}
		w.check("/login/verify after its half sign-in ended")
	})
}
