package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/rcbu-console/rcbu-console/app"
)

// mfaEnv is the app test env with the two-factor service.
type mfaEnv struct {
	*env
	mfa    *app.MFA
	sealer *app.Sealer
}

func newMFAEnv(t *testing.T) *mfaEnv {
	t.Helper()
	e := newEnv(t)
	sealer, err := app.NewSealer([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	return &mfaEnv{env: e, sealer: sealer, mfa: app.NewMFA(e.store, e.auth, e.audit, sealer, app.MFAOptions{Now: e.clock.Now, Log: discard()})}
}

// code is the authenticator app's code for secret at t, made with the
// library as an app would.
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(strings.ReplaceAll(secret, " ", ""), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol turns two-factor sign-in on for u and returns the secret and the
// recovery codes.
func (e *mfaEnv) enrol(t *testing.T, u app.User) (string, []string) {
	t.Helper()
	ctx := context.Background()
	en, err := e.mfa.BeginEnrolment(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := e.mfa.ConfirmEnrolment(ctx, u, code(t, en.Secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	// The next code comes one step later, as it would in an app.
	e.clock.Advance(30 * time.Second)
	return en.Secret, codes
}

func wantCodeRefused(t *testing.T, err error, want string) {
	t.Helper()
	var ve *app.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["code"], want) {
		t.Fatalf("err = %v, want a message on code containing %q", err, want)
	}
}

func TestMFAAfterFirstFactor(t *testing.T) {
	e := newMFAEnv(t)
	ctx := context.Background()
	obs, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "obs@example.com", Role: "observer", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	// Nobody enrolled, nothing required: straight in.
	st, err := e.mfa.AfterFirstFactor(ctx, obs, app.FirstFactorPassword, "/")
	if err != nil || st.Kind != app.SecondStepNone || st.Token != "" {
		t.Fatalf("no factor = %+v, %v", st, err)
	}
	// Required for observers: the observer's session ends, and they enrol
	// first at the next sign-in.
	if _, err := e.auth.CreateSession(ctx, "obs-token", obs.ID, nil); err != nil {
		t.Fatal(err)
	}
	if must, err := e.mfa.SetRequiredRoles(ctx, e.admin, []string{"observer"}); err != nil || must != 1 {
		t.Fatalf("SetRequiredRoles = %d, %v", must, err)
	}
	if last := e.lastAudit(t); last.Action != app.ActionMFARequire || last.Message != "required for Observer; 1 user(s) must set it up" {
		t.Errorf("audit = %+v", last)
	}
	if _, err := e.auth.Session(ctx, "obs-token"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("the session of a user who must enrol: %v", err)
	}
	st, err = e.mfa.AfterFirstFactor(ctx, obs, app.FirstFactorPassword, "/agents")
	if err != nil || st.Kind != app.SecondStepEnrol || st.Token == "" || !st.Expires.Equal(e.clock.Now().Add(5*time.Minute)) {
		t.Fatalf("required = %+v, %v", st, err)
	}
	// The half sign-in of an enrolment cannot be completed with a code.
	if _, err := e.mfa.VerifySignIn(ctx, st.Token, "123456"); !errors.Is(err, app.ErrSignInExpired) {
		t.Errorf("verify an enrolment: %v", err)
	}
	en, err := e.mfa.BeginEnrolment(ctx, obs)
	if err != nil {
		t.Fatal(err)
	}
	if en.Account != "obs@example.com" || len(en.QRPNG) < 100 || !strings.HasPrefix(en.URL, "otpauth://totp/") {
		t.Errorf("enrolment = %+v", en)
	}
	// Reloading the page shows the same secret.
	if again, err := e.mfa.BeginEnrolment(ctx, obs); err != nil || again.Secret != en.Secret {
		t.Errorf("second begin = %q, %v; want %q", again.Secret, err, en.Secret)
	}
	res, err := e.mfa.EnrolSignIn(ctx, st.Token, code(t, en.Secret, e.clock.Now()))
	if err != nil || res.User.ID != obs.ID || res.Next != "/agents" || len(res.RecoveryCodes) != app.RecoveryCodeCount {
		t.Fatalf("EnrolSignIn = %+v, %v", res, err)
	}
	// Single use: the same half sign-in cannot complete twice.
	if _, err := e.mfa.EnrolSignIn(ctx, st.Token, code(t, en.Secret, e.clock.Now())); !errors.Is(err, app.ErrSignInExpired) {
		t.Errorf("second EnrolSignIn: %v", err)
	}
	// Enrolled: a code next time.
	e.clock.Advance(30 * time.Second)
	st, err = e.mfa.AfterFirstFactor(ctx, obs, app.FirstFactorOIDC, "/")
	if err != nil || st.Kind != app.SecondStepVerify {
		t.Fatalf("enrolled = %+v, %v", st, err)
	}
	res, err = e.mfa.VerifySignIn(ctx, st.Token, code(t, en.Secret, e.clock.Now()))
	if err != nil || res.User.ID != obs.ID || res.Method != app.FirstFactorOIDC {
		t.Fatalf("VerifySignIn = %+v, %v", res, err)
	}
	// A disabled user is refused at once.
	obs.Disabled = true
	if _, err := e.mfa.AfterFirstFactor(ctx, obs, app.FirstFactorPassword, "/"); !errors.Is(err, app.ErrUnauthorized) {
		t.Errorf("disabled: %v", err)
	}
}

func TestMFAVerifyRefusals(t *testing.T) {
	e := newMFAEnv(t)
	ctx := context.Background()
	secret, recovery := e.enrol(t, e.admin)
	if last := e.lastAudit(t); last.Action != app.ActionMFAEnrol || last.Outcome != app.OutcomeOK {
		t.Errorf("enrol audit = %+v", last)
	}
	begin := func() string {
		t.Helper()
		st, err := e.mfa.AfterFirstFactor(ctx, e.admin, app.FirstFactorPassword, "/")
		if err != nil || st.Kind != app.SecondStepVerify {
			t.Fatalf("AfterFirstFactor = %+v, %v", st, err)
		}
		return st.Token
	}

	t.Run("wrong code is refused and audited; the half sign-in stays", func(t *testing.T) {
		tok := begin()
		_, err := e.mfa.VerifySignIn(ctx, tok, "000000")
		wantCodeRefused(t, err, "not right")
		if last := e.lastAudit(t); last.Action != app.ActionMFAVerify || last.Outcome != app.OutcomeFailed || last.Message != "wrong code" {
			t.Errorf("audit = %+v", last)
		}
		if _, err := e.mfa.VerifySignIn(ctx, tok, code(t, secret, e.clock.Now())); err != nil {
			t.Fatalf("right code after a wrong one: %v", err)
		}
	})
	t.Run("a code is accepted once per step, a step before or after now too", func(t *testing.T) {
		e.clock.Advance(time.Minute) // the step before now is unused
		now := e.clock.Now()
		if _, err := e.mfa.VerifySignIn(ctx, begin(), code(t, secret, now.Add(-30*time.Second))); err != nil {
			t.Fatalf("previous step's code: %v", err)
		}
		// The previous step was used: its code and the same step again are refused.
		_, err := e.mfa.VerifySignIn(ctx, begin(), code(t, secret, now.Add(-30*time.Second)))
		wantCodeRefused(t, err, "used already")
		if _, err := e.mfa.VerifySignIn(ctx, begin(), code(t, secret, now)); err != nil {
			t.Fatalf("this step's code: %v", err)
		}
		_, err = e.mfa.VerifySignIn(ctx, begin(), code(t, secret, now))
		wantCodeRefused(t, err, "used already")
		if last := e.lastAudit(t); last.Message != "code used already" {
			t.Errorf("audit = %+v", last)
		}
		// Two steps ahead is beyond the skew.
		_, err = e.mfa.VerifySignIn(ctx, begin(), code(t, secret, now.Add(time.Minute)))
		wantCodeRefused(t, err, "not right")
		if _, err := e.mfa.VerifySignIn(ctx, begin(), code(t, secret, now.Add(30*time.Second))); err != nil {
			t.Fatalf("next step's code: %v", err)
		}
	})
	t.Run("an expired half sign-in is refused and audited", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		tok := begin()
		e.clock.Advance(5 * time.Minute)
		if _, err := e.mfa.VerifySignIn(ctx, tok, code(t, secret, e.clock.Now())); !errors.Is(err, app.ErrSignInExpired) {
			t.Fatalf("expired: %v", err)
		}
		if last := e.lastAudit(t); last.Action != app.ActionMFAExpired || last.Outcome != app.OutcomeFailed {
			t.Errorf("audit = %+v", last)
		}
		if _, err := e.mfa.VerifySignIn(ctx, "not-a-token", code(t, secret, e.clock.Now())); !errors.Is(err, app.ErrSignInExpired) {
			t.Errorf("unknown token: %v", err)
		}
	})
	t.Run("a recovery code works once, in any case and without dashes", func(t *testing.T) {
		typed := strings.ToUpper(strings.ReplaceAll(recovery[0], "-", " "))
		res, err := e.mfa.VerifySignIn(ctx, begin(), typed)
		if err != nil || !res.RecoveryUsed || res.RecoveryLeft != app.RecoveryCodeCount-1 {
			t.Fatalf("recovery = %+v, %v", res, err)
		}
		if last := e.lastAudit(t); last.Action != app.ActionMFARecoveryUsed || last.Message != "9 left" {
			t.Errorf("audit = %+v", last)
		}
		_, err = e.mfa.VerifySignIn(ctx, begin(), recovery[0])
		wantCodeRefused(t, err, "used already")
		_, err = e.mfa.VerifySignIn(ctx, begin(), "aaaa-bbbb-cccc")
		wantCodeRefused(t, err, "recovery code is not right")
		if last := e.lastAudit(t); last.Outcome != app.OutcomeFailed || last.Message != "wrong recovery code" {
			t.Errorf("audit = %+v", last)
		}
	})
	t.Run("wrong codes are throttled like passwords", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour) // past the failure window of the refusals above
		tok := begin()
		for range 5 {
			_, err := e.mfa.VerifySignIn(ctx, tok, "000000")
			wantCodeRefused(t, err, "not right")
		}
		// Throttled: even the right code waits.
		_, err := e.mfa.VerifySignIn(ctx, tok, code(t, secret, e.clock.Now()))
		wantCodeRefused(t, err, "Too many")
		_, err = e.mfa.VerifySignIn(ctx, tok, recovery[1])
		wantCodeRefused(t, err, "Too many")
		e.clock.Advance(time.Minute)
		tok = begin()
		if _, err := e.mfa.VerifySignIn(ctx, tok, code(t, secret, e.clock.Now())); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
	})
}

func TestMFAManage(t *testing.T) {
	e := newMFAEnv(t)
	ctx := context.Background()
	u, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "c@example.com", Role: "creator", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := e.enrol(t, u)
	if _, err := e.mfa.BeginEnrolment(ctx, u); !errors.Is(err, app.ErrConflict) {
		t.Errorf("enrol twice: %v", err)
	}
	st, err := e.mfa.Status(ctx, u)
	if err != nil || !st.Enrolled || st.Required || st.RecoveryLeft != 10 {
		t.Errorf("status = %+v, %v", st, err)
	}

	// New recovery codes need a current code; the old ones stop working.
	_, err = e.mfa.RegenerateRecoveryCodes(ctx, u, "111111")
	wantCodeRefused(t, err, "not right")
	codes, err := e.mfa.RegenerateRecoveryCodes(ctx, u, code(t, secret, e.clock.Now()))
	if err != nil || len(codes) != 10 {
		t.Fatalf("regenerate = %v, %v", codes, err)
	}
	if last := e.lastAudit(t); last.Action != app.ActionMFARecoveryRegenerate || last.Outcome != app.OutcomeOK {
		t.Errorf("audit = %+v", last)
	}

	// Required for creators: cannot be turned off.
	if _, err := e.mfa.SetRequiredRoles(ctx, e.admin, []string{"creator", "admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mfa.SetRequiredRoles(ctx, e.admin, []string{"owner"}); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := e.mfa.SetRequiredRoles(ctx, u, nil); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("creator sets required roles: %v", err)
	}
	if roles, err := e.mfa.RequiredRoles(ctx); err != nil || len(roles) != 2 || roles[0] != app.RoleCreator {
		t.Errorf("required roles = %v, %v", roles, err)
	}
	e.clock.Advance(30 * time.Second)
	err = e.mfa.Disable(ctx, u, code(t, secret, e.clock.Now()))
	wantCodeRefused(t, err, "requires two-factor")
	if _, err := e.mfa.SetRequiredRoles(ctx, e.admin, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	if err := e.mfa.Disable(ctx, u, code(t, secret, e.clock.Now())); err != nil {
		t.Fatalf("disable: %v", err)
	}
	if st, _ := e.mfa.Status(ctx, u); st.Enrolled {
		t.Error("still enrolled after Disable")
	}

	// An admin's reset removes the factor and ends the user's sessions.
	secret, _ = e.enrol(t, u)
	if _, err := e.auth.CreateSession(ctx, "tok", u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.mfa.Reset(ctx, u, u.ID); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("non-admin reset: %v", err)
	}
	if err := e.mfa.Reset(ctx, e.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if last := e.lastAudit(t); last.Action != app.ActionMFAReset || last.Target != "c@example.com" {
		t.Errorf("audit = %+v", last)
	}
	if _, err := e.auth.Session(ctx, "tok"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("session after reset: %v", err)
	}
	if st, _ := e.mfa.Status(ctx, u); st.Enrolled || st.RecoveryLeft != 0 {
		t.Errorf("status after reset = %+v", st)
	}
	_ = secret
}

func TestMFASecretSealedAndRotated(t *testing.T) {
	e := newMFAEnv(t)
	ctx := context.Background()
	secret, _ := e.enrol(t, e.admin)
	var sealed []byte
	if err := e.store.DB().QueryRowContext(ctx, `SELECT secret_sealed FROM user_totp WHERE user_id = ?`, e.admin.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), strings.ReplaceAll(secret, " ", "")) {
		t.Fatal("the TOTP secret is stored in the clear")
	}
	newSecret := []byte(strings.Repeat("n", 32))
	if n, err := app.RotateSecret(ctx, e.store, []byte(strings.Repeat("k", 32)), newSecret); err != nil || n != 1 {
		t.Fatalf("RotateSecret = %d, %v", n, err)
	}
	sealer, err := app.NewSealer(newSecret)
	if err != nil {
		t.Fatal(err)
	}
	m := app.NewMFA(e.store, e.auth, e.audit, sealer, app.MFAOptions{Now: e.clock.Now})
	st, err := m.AfterFirstFactor(ctx, e.admin, app.FirstFactorPassword, "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.VerifySignIn(ctx, st.Token, code(t, secret, e.clock.Now())); err != nil {
		t.Fatalf("code after rotation: %v", err)
	}
}
