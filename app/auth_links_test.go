package app_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

func (e *env) links(mailer app.LinkMailer) *app.Links {
	return app.NewLinks(e.store, e.audit, mailer, cheap, app.LinkOptions{Now: e.clock.Now, Log: discard()})
}

// tokenOf is the token at the end of a link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, app.LinkPath) {
		t.Fatalf("link %q", link)
	}
	return strings.TrimPrefix(u.Path, app.LinkPath)
}

func TestFirstAdminMustChangeAGeneratedPassword(t *testing.T) {
	e := newEnv(t) // its admin's password was generated
	if !e.admin.MustChangePassword {
		t.Error("the first admin's generated password need not be changed")
	}
	if err := e.users.ChangePassword(t.Context(), e.admin, e.adminPw, "the admin's own password", "the admin's own password"); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.users.Get(t.Context(), e.admin.ID); u.MustChangePassword {
		t.Error("the change did not clear the duty")
	}

	// A password the operator set (RCBU_WEB_ADMIN_PASSWORD) is theirs.
	store, err := db.Open(t.Context(), filepath.Join(t.TempDir(), "chosen.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	users := app.NewUsers(store, app.NewAudit(store, e.clock.Now, discard()), cheap, e.clock.Now, discard())
	if _, _, err := users.EnsureAdmin(t.Context(), "admin@example.com", "an operator's chosen password"); err != nil {
		t.Fatal(err)
	}
	if u, _ := store.UserByEmail(t.Context(), "admin@example.com"); u.MustChangePassword {
		t.Error("a password the operator chose must be changed")
	}
}

// dbDump is the database's bytes, its write-ahead log included.
func (e *env) dbDump(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, p := range []string{e.dbPath, e.dbPath + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

func TestInviteAndUseOnce(t *testing.T) {
	e := newEnv(t)
	l := e.links(nil)
	ctx := t.Context()
	out, err := l.Invite(ctx, e.admin, app.InviteRequest{Email: " Eve@Example.com ", Role: "observer"}, "https://backup.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.URL, "https://backup.example.com"+app.LinkPath) || out.Kind != app.LinkInvite || out.MailedVia != "" || out.MailError != "" {
		t.Fatalf("issued %+v", out)
	}
	if want := e.clock.Now().Add(app.DefaultLinkTTL); !out.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", out.Expires, want)
	}
	if !out.User.Invited() {
		t.Error("the invited user has a password")
	}
	token := tokenOf(t, out.URL)
	if strings.Contains(e.dbDump(t), token) {
		t.Fatal("the link's token is stored in the clear")
	}

	// Two tabs submit at once: exactly one sets the password.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = l.Use(ctx, token, app.SetPasswordRequest{Password: "eve's password " + string(rune('a'+i)), Confirm: "eve's password " + string(rune('a'+i))})
		})
	}
	wg.Wait()
	var refused *app.LinkRefusedError
	if (errs[0] == nil) == (errs[1] == nil) || !(errors.As(errs[0], &refused) || errors.As(errs[1], &refused)) {
		t.Fatalf("two uses: %v, %v; want one success and one refusal", errs[0], errs[1])
	}
	if _, err := l.Open(ctx, token); !errors.As(err, &refused) || !strings.Contains(refused.Reason, "already used") {
		t.Errorf("open after use: %v", err)
	}
}

func TestInviteInput(t *testing.T) {
	e := newEnv(t)
	l := e.links(nil)
	ctx := t.Context()
	var ve *app.ValidationError
	_, err := l.Invite(ctx, e.admin, app.InviteRequest{Email: "nope", Role: "root"}, "https://x.example")
	if !errors.As(err, &ve) || ve.Fields["email"] == "" || ve.Fields["role"] == "" {
		t.Errorf("bad input: %v", err)
	}
	_, err = l.Invite(ctx, e.admin, app.InviteRequest{Email: "admin@example.com", Role: "observer"}, "https://x.example")
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["email"], "already exists") {
		t.Errorf("a taken email: %v", err)
	}
	if _, err := l.Invite(ctx, app.User{Role: app.RoleCreator}, app.InviteRequest{Email: "c@example.com", Role: "observer"}, "https://x.example"); !errors.Is(err, app.ErrForbidden) {
		t.Errorf("a creator invited: %v", err)
	}
	if _, err := l.Invite(ctx, e.admin, app.InviteRequest{Email: "d@example.com", Role: "observer"}, "javascript:alert(1)"); err == nil {
		t.Error("a link on a base that is not http(s) was made")
	}
}

func TestOperatorResetLink(t *testing.T) {
	e := newEnv(t)
	l := e.links(nil)
	ctx := t.Context()
	if _, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "obs@example.com", Role: "observer", Password: "an observer's password"}); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"nobody@example.com", "obs@example.com"} {
		if _, err := l.OperatorResetLink(ctx, email, "http://localhost:8080"); err == nil {
			t.Errorf("%s: a link was made", email)
		}
		if a := e.lastAudit(t); a.Action != app.ActionUserResetLink || a.Outcome != app.OutcomeFailed || a.Actor != app.LinkActorOperator {
			t.Errorf("%s: audit %+v", email, a)
		}
	}
	out, err := l.OperatorResetLink(ctx, "ADMIN@example.com", "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	if a := e.lastAudit(t); a.Outcome != app.OutcomeOK || a.Target != "admin@example.com" {
		t.Errorf("audit %+v", a)
	}
	if _, err := l.Use(ctx, tokenOf(t, out.URL), app.SetPasswordRequest{Password: "the admin's new password", Confirm: "the admin's new password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.SignIn(ctx, app.LoginRequest{Email: "admin@example.com", Password: "the admin's new password"}); err != nil {
		t.Errorf("sign in with the new password: %v", err)
	}
	if u, _ := e.users.Get(ctx, e.admin.ID); u.MustChangePassword {
		t.Error("a password the admin chose through the link must still be changed")
	}
}

func TestLinkExpires(t *testing.T) {
	e := newEnv(t)
	l := app.NewLinks(e.store, e.audit, nil, cheap, app.LinkOptions{TTL: time.Hour, Now: e.clock.Now, Log: discard()})
	ctx := t.Context()
	out, err := l.Invite(ctx, e.admin, app.InviteRequest{Email: "late@example.com", Role: "observer"}, "http://localhost")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	var refused *app.LinkRefusedError
	if _, err := l.Use(ctx, tokenOf(t, out.URL), app.SetPasswordRequest{Password: "a late password", Confirm: "a late password"}); !errors.As(err, &refused) || !strings.Contains(refused.Reason, "expired") {
		t.Fatalf("an expired link: %v", err)
	}
	if u, _ := e.store.UserByEmail(ctx, "late@example.com"); !u.Invited() {
		t.Error("an expired link set the password")
	}
	if a := e.lastAudit(t); a.Action != app.ActionLinkRefused || a.Target != "late@example.com" {
		t.Errorf("audit %+v", a)
	}
}

func TestInvitationByEmail(t *testing.T) {
	ae := newAlertsEnv(t)
	ctx := t.Context()
	l := ae.links(ae.alerts)
	out, err := l.Invite(ctx, ae.admin, app.InviteRequest{Email: "first@example.com", Role: "observer"}, "http://localhost")
	if err != nil || out.MailedVia != "" || out.MailError != "" {
		t.Fatalf("without an email channel: %+v, %v", out, err)
	}

	srv := newSMTPServer(t, ae.cert, false)
	req := app.ChannelRequest{Name: "mail", Kind: "email", Enabled: true, SMTPHost: "127.0.0.1", SMTPPort: srv.port(), SMTPSecurity: "starttls",
		SMTPUsername: srv.user, Secret: srv.pass, SMTPFrom: "backups@example.com", SMTPTo: "ops@example.com", Rules: []string{"backup_failed"}}
	if _, err := ae.alerts.CreateChannel(ctx, ae.admin, ae.account.ID, req); err != nil {
		t.Fatal(err)
	}
	out, err = l.Invite(ctx, ae.admin, app.InviteRequest{Email: "second@example.com", Role: "creator"}, "http://localhost")
	if err != nil || out.MailedVia != "mail" {
		t.Fatalf("with an email channel: %+v, %v", out, err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if diff := cmp.Diff([]string{"second@example.com"}, msgs[0].To); diff != "" {
		t.Errorf("recipients (-want +got): %s", diff)
	}
	body := strings.ReplaceAll(msgs[0].Data, "=\r\n", "")
	if !strings.Contains(body, tokenOf(t, out.URL)) || !strings.Contains(body, "invited") || strings.Contains(body, "Account:") {
		t.Errorf("mail %q", msgs[0].Data)
	}
}
