package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// Every way the store ends a user's sessions tells OnSessionsEnded which
// user's, after the change; ending a session from before sign-in, or
// changing a user without revoking, tells nothing.
func TestOnSessionsEndedHearsEveryEndedSession(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s := newTestStore(t)
		var heard []app.UserID
		s.OnSessionsEnded(func(id app.UserID) { heard = append(heard, id) })
		t0 := time.Unix(1_700_000_000, 0).UTC()
		u, err := s.CreateUser(ctx, app.User{Email: "pat@example.com", PasswordHash: "h", Role: app.RoleObserver, Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		session := func(hash string, user app.UserID) {
			t.Helper()
			if err := s.CreateSession(ctx, app.Session{Hash: hash, UserID: user, Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		expect := func(what string, want ...app.UserID) {
			t.Helper()
			if !slices.Equal(heard, want) {
				t.Errorf("%s: heard %v, want %v", what, heard, want)
			}
			heard = nil
		}

		session("anonymous", 0)
		if err := s.DeleteSession(ctx, "anonymous"); err != nil {
			t.Fatal(err)
		}
		expect("a session from before sign-in ended")
		if err := s.DeleteSession(ctx, "no such session"); err != nil {
			t.Fatal(err)
		}
		expect("a missing session ended")

		session("signed-in", u.ID)
		if err := s.DeleteSession(ctx, "signed-in"); err != nil {
			t.Fatal(err)
		}
		expect("a sign-out", u.ID)

		if err := s.DeleteUserSessions(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		expect("every session of the user ended", u.ID)

		u.Name = "Pat"
		if err := s.UpdateUser(ctx, u, false); err != nil {
			t.Fatal(err)
		}
		expect("a change without revocation")
		u.Disabled = true
		if err := s.UpdateUser(ctx, u, true); err != nil {
			t.Fatal(err)
		}
		expect("a change with revocation", u.ID)

		u.AccountsOnly, u.Grants = true, nil
		if err := s.SetUserAccess(ctx, u, true); err != nil {
			t.Fatal(err)
		}
		expect("access changed with revocation", u.ID)

		l, err := s.CreateUserLink(ctx, app.UserLink{UserID: u.ID, Kind: app.LinkReset, Hash: "link", CreatedBy: "admin@example.com", Created: t0, Expires: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.UseUserLink(ctx, l.ID, u.ID, "new hash", t0); err != nil {
			t.Fatal(err)
		}
		expect("a reset link used", u.ID)
	})
}
