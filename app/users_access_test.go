package app_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

// addAccounts adds Rackspace accounts with the names given and returns them.
func (e *env) addAccounts(t *testing.T, names ...string) []app.Account {
	t.Helper()
	var out []app.Account
	for _, n := range names {
		a, err := e.store.CreateAccount(t.Context(), app.Account{Name: n, Username: n, Kind: app.CredentialAPIKey, SecretSealed: []byte("x"),
			IdentityURL: "https://identity.example.com/v2.0/tokens", Source: app.SourceAdmin, Created: e.clock.Now(), Updated: e.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// signedIn gives user a session and a personal access token, and returns
// a check that both still work (or not).
func (e *env) signedIn(t *testing.T, u app.User) (alive func() (session, token bool)) {
	t.Helper()
	ctx := t.Context()
	tok, _ := app.NewSessionToken()
	if _, err := e.auth.CreateSession(ctx, tok, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateToken(ctx, app.Token{UserID: u.ID, Name: "script", Hash: app.HashToken("rcbu_pat_" + u.Email), Hint: "abcd", Created: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return func() (bool, bool) {
		_, serr := e.auth.Session(ctx, tok)
		toks, terr := e.store.UserTokens(ctx, u.ID)
		if terr != nil {
			t.Fatal(terr)
		}
		return serr == nil, len(toks) > 0
	}
}

func TestAccessPerAccount(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	accts := e.addAccounts(t, "Acme", "Globex", "Initech")
	acme, globex, initech := accts[0], accts[1], accts[2]
	u, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "ops@example.com", Role: "observer", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Access().All || !u.Sees(initech.ID) {
		t.Fatalf("a new user's access = %+v, want every account", u.Access())
	}
	alive := e.signedIn(t, u)

	want := app.OnlyAccounts(app.Grant{Account: globex.ID, Role: app.RoleCreator}, app.Grant{Account: acme.ID, Role: app.RoleObserver})
	if err := e.users.SetAccess(ctx, e.admin, u.ID, want); err != nil {
		t.Fatal(err)
	}
	if s, tok := alive(); s || tok {
		t.Errorf("after the change: session alive %v, token alive %v; want both ended", s, tok)
	}
	got, err := e.users.Get(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		acct app.Account
		role app.Role
	}{{acme, app.RoleObserver}, {globex, app.RoleCreator}, {initech, app.RoleNone}} {
		if r := got.RoleOn(c.acct.ID); r != c.role {
			t.Errorf("role on %s = %s, want %s", c.acct.Name, r, c.role)
		}
	}
	if got.Role != app.RoleCreator {
		t.Errorf("top role = %s, want creator", got.Role)
	}
	if diff := cmp.Diff([]app.AccountID{acme.ID, globex.ID}, ids(got.VisibleAccounts(accts))); diff != "" {
		t.Errorf("visible accounts (-want +got):\n%s", diff)
	}
	list, err := e.users.List(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.ID == u.ID && !l.Access().Equal(want) {
			t.Errorf("the list's access = %+v", l.Access())
		}
	}
	name := func(id app.AccountID) string {
		for _, a := range accts {
			if a.ID == id {
				return a.Name
			}
		}
		return "?"
	}
	if d := got.Access().Describe(name); d != "Observer on Acme, Creator on Globex" {
		t.Errorf("Describe = %q", d)
	}
	if last := e.lastAudit(t); last.Action != app.ActionUserAccess || last.Outcome != app.OutcomeOK ||
		last.Message != "Observer on all accounts → Observer on Acme, Creator on Globex; sessions and tokens ended" {
		t.Errorf("audit = %+v", last)
	}

	// The same access again changes nothing and ends nothing.
	alive = e.signedIn(t, got)
	if err := e.users.SetAccess(ctx, e.admin, u.ID, want); err != nil {
		t.Fatal(err)
	}
	if s, tok := alive(); !s || !tok {
		t.Errorf("an unchanged access ended session %v token %v", !s, !tok)
	}

	// The last grant removed: no account at all, never every account.
	if err := e.users.SetAccess(ctx, e.admin, u.ID, app.OnlyAccounts()); err != nil {
		t.Fatal(err)
	}
	got, _ = e.users.Get(ctx, u.ID)
	if len(got.VisibleAccounts(accts)) != 0 || got.Sees(acme.ID) || got.Access().All {
		t.Errorf("no grant left sees %v", got.VisibleAccounts(accts))
	}
	if s, tok := alive(); s || tok {
		t.Errorf("removing grants left session %v token %v", s, tok)
	}

	// A deleted account takes its grants along.
	if err := e.users.SetAccess(ctx, e.admin, u.ID, app.OnlyAccounts(app.Grant{Account: initech.ID, Role: app.RoleCreator})); err != nil {
		t.Fatal(err)
	}
	if err := e.store.DeleteAccount(ctx, initech.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ = e.users.Get(ctx, u.ID); len(got.Grants) != 0 || got.Access().All {
		t.Errorf("after the account's deletion: %+v", got.Access())
	}

	// Admins have every account, whatever else.
	if err := e.users.SetAccess(ctx, e.admin, u.ID, app.AllAccounts(app.RoleAdmin)); err != nil {
		t.Fatal(err)
	}
	if got, _ = e.users.Get(ctx, u.ID); got.RoleOn(globex.ID) != app.RoleAdmin || len(got.VisibleAccounts(accts)) != 3 {
		t.Errorf("admin: %+v", got.Access())
	}
}

func ids(accts []app.Account) []app.AccountID {
	out := []app.AccountID{}
	for _, a := range accts {
		out = append(out, a.ID)
	}
	return out
}

func TestSetAccessRefusesInWords(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	accts := e.addAccounts(t, "Acme")
	acme := accts[0]
	u, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "ops@example.com", Role: "creator", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target app.UserID
		access app.Access
		field  string
	}{
		{"a grant on an unknown account", u.ID, app.OnlyAccounts(app.Grant{Account: 4242, Role: app.RoleObserver}), "grants"},
		{"an unknown role on an account", u.ID, app.OnlyAccounts(app.Grant{Account: acme.ID, Role: app.Role(9)}), "grants"},
		{"no role on an account", u.ID, app.OnlyAccounts(app.Grant{Account: acme.ID}), "grants"},
		{"Admin on one account", u.ID, app.OnlyAccounts(app.Grant{Account: acme.ID, Role: app.RoleAdmin}), "grants"},
		{"two roles on one account", u.ID, app.OnlyAccounts(app.Grant{Account: acme.ID, Role: app.RoleObserver}, app.Grant{Account: acme.ID, Role: app.RoleCreator}), "grants"},
		{"no role on every account", u.ID, app.AllAccounts(app.RoleNone), "role"},
		{"an admin taking away their own Admin", e.admin.ID, app.AllAccounts(app.RoleCreator), "role"},
		{"an admin limiting themselves to one account", e.admin.ID, app.OnlyAccounts(app.Grant{Account: acme.ID, Role: app.RoleCreator}), "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.users.Get(ctx, tt.target)
			err := e.users.SetAccess(ctx, e.admin, tt.target, tt.access)
			var ve *app.ValidationError
			if !errors.As(err, &ve) || ve.Fields[tt.field] == "" {
				t.Fatalf("err = %v, want a message for %s", err, tt.field)
			}
			after, _ := e.users.Get(ctx, tt.target)
			if !after.Access().Equal(before.Access()) || after.Role != before.Role {
				t.Errorf("a refused change changed the access: %+v → %+v", before.Access(), after.Access())
			}
			if last := e.lastAudit(t); last.Action != app.ActionUserAccess || last.Outcome != app.OutcomeFailed {
				t.Errorf("audit = %+v", last)
			}
		})
	}
	t.Run("a non-admin is forbidden", func(t *testing.T) {
		if err := e.users.SetAccess(ctx, u, u.ID, app.AllAccounts(app.RoleAdmin)); !errors.Is(err, app.ErrForbidden) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an unknown user is not found", func(t *testing.T) {
		if err := e.users.SetAccess(ctx, e.admin, 4242, app.AllAccounts(app.RoleObserver)); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestInviteWithGrants(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	accts := e.addAccounts(t, "Acme", "Globex")
	out, err := e.links(nil).Invite(ctx, e.admin, app.InviteRequest{Email: "new@example.com", AccountsOnly: true,
		Grants: []app.Grant{{Account: accts[1].ID, Role: app.RoleCreator}}}, "https://console.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if out.User.Sees(accts[0].ID) || out.User.RoleOn(accts[1].ID) != app.RoleCreator {
		t.Errorf("invited access = %+v", out.User.Access())
	}
	got, _ := e.users.Get(ctx, out.User.ID)
	if !got.Access().Equal(app.OnlyAccounts(app.Grant{Account: accts[1].ID, Role: app.RoleCreator})) {
		t.Errorf("stored access = %+v", got.Access())
	}
	if last := e.lastAudit(t); last.Action != app.ActionUserInvite || last.Message != "Creator on Globex; link shown" {
		t.Errorf("audit = %+v", last)
	}
	_, err = e.links(nil).Invite(ctx, e.admin, app.InviteRequest{Email: "other@example.com", AccountsOnly: true,
		Grants: []app.Grant{{Account: 4242, Role: app.RoleCreator}}}, "https://console.example.com")
	var ve *app.ValidationError
	if !errors.As(err, &ve) || ve.Fields["grants"] == "" {
		t.Fatalf("a grant on an unknown account: %v", err)
	}
	if _, err := e.store.UserByEmail(ctx, "other@example.com"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("a refused invitation made a user: %v", err)
	}
}

// TestSyncAccessFromAnIdentityProvider: the mapping of an identity
// provider's claims sets the access without an admin, audited under the
// source's name, with the same validation.
func TestSyncAccessFromAnIdentityProvider(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	accts := e.addAccounts(t, "Acme")
	u, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "sso@example.com", Role: "observer", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.users.SyncAccess(ctx, "oidc", u.ID, app.OnlyAccounts(app.Grant{Account: accts[0].ID, Role: app.RoleCreator})); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.users.Get(ctx, u.ID); got.RoleOn(accts[0].ID) != app.RoleCreator || got.Access().All {
		t.Errorf("access = %+v", got.Access())
	}
	if last := e.lastAudit(t); last.Action != app.ActionUserAccess || last.Actor != "oidc" || last.Outcome != app.OutcomeOK {
		t.Errorf("audit = %+v", last)
	}
	if err := e.users.SyncAccess(ctx, "oidc", u.ID, app.OnlyAccounts(app.Grant{Account: 999, Role: app.RoleCreator})); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("a claim mapped to an unknown account: %v", err)
	}
	if err := e.users.SyncAccess(ctx, "oidc", e.admin.ID, app.AllAccounts(app.RoleObserver)); !errors.Is(err, app.ErrInvalid) {
		t.Errorf("demoting the last admin through claims: %v", err)
	}
}
