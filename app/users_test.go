package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/pgtest"
)

func TestEnsureAdminOnlyOnce(t *testing.T) {
	e := newEnv(t)
	created, pw, err := e.users.EnsureAdmin(context.Background(), "other@example.com", "")
	if err != nil || created || pw != "" {
		t.Fatalf("second EnsureAdmin = %v, %q, %v; want nothing done", created, pw, err)
	}
}

// Two replicas starting together on an empty PostgreSQL database both find
// no user and both try to create the first admin: one does, and the other
// starts as if it had found it, rather than failing on the duplicate email.
func TestEnsureAdminOnceAcrossReplicasOnPostgreSQL(t *testing.T) {
	dsn, _ := pgtest.Schema(t)
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC) }
	const replicas = 4
	var (
		wg      sync.WaitGroup
		created [replicas]bool
		errs    [replicas]error
		stores  [replicas]*db.Store
	)
	for i := range stores {
		s, err := db.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	for i, s := range stores {
		users := app.NewUsers(s, app.NewAudit(s, now, discard()), cheap, now, discard())
		wg.Go(func() { created[i], _, errs[i] = users.EnsureAdmin(ctx, "admin@example.com", "") })
	}
	wg.Wait()
	n := 0
	for i := range created {
		if errs[i] != nil {
			t.Errorf("replica %d: EnsureAdmin: %v", i, errs[i])
		}
		if created[i] {
			n++
		}
	}
	if count, err := stores[0].CountUsers(ctx); n != 1 || count != 1 || err != nil {
		t.Errorf("%d replicas created the admin, %d users stored (%v); want 1 and 1", n, count, err)
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		req    app.NewUserRequest
		fields []string
	}{
		{"everything wrong", app.NewUserRequest{Email: "not-an-email", Role: "root", Password: "short"}, []string{"email", "role", "password"}},
		{"empty email", app.NewUserRequest{Role: "observer", Password: "long enough password"}, []string{"email"}},
		{"duplicate email", app.NewUserRequest{Email: "ADMIN@example.com", Role: "observer", Password: "long enough password"}, []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.store.CountUsers(ctx)
			_, err := e.users.Create(ctx, e.admin, tt.req)
			var ve *app.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, app.ErrInvalid) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			for _, f := range tt.fields {
				if ve.Fields[f] == "" {
					t.Errorf("no message for %s in %v", f, ve.Fields)
				}
			}
			if after, _ := e.store.CountUsers(ctx); after != before {
				t.Errorf("users %d → %d: a rejected request changed state", before, after)
			}
		})
	}
	t.Run("non-admin is forbidden", func(t *testing.T) {
		_, err := e.users.Create(ctx, app.User{ID: 99, Role: app.RoleCreator}, app.NewUserRequest{Email: "x@example.com", Role: "admin", Password: "long enough password"})
		if !errors.Is(err, app.ErrForbidden) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestLastAdminIsProtected(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.users.SetRole(ctx, e.admin, e.admin.ID, "observer"); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if err := e.users.SetDisabled(ctx, e.admin, e.admin.ID, true); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	second, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "second@example.com", Role: "admin", Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.users.SetRole(ctx, e.admin, second.ID, "creator"); err != nil {
		t.Fatalf("demoting one of two admins: %v", err)
	}
	if last := e.lastAudit(t); last.Action != app.ActionUserAccess || last.Target != "second@example.com" ||
		last.Message != "Admin on all accounts → Creator on all accounts; sessions and tokens ended" {
		t.Errorf("audit = %+v", last)
	}
}

func TestChangesRevokeSessions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(e *env, u app.User) error
	}{
		{"password change", func(e *env, u app.User) error {
			return e.users.ChangePassword(ctx, u, "long enough password", "another long password", "another long password")
		}},
		{"admin password reset", func(e *env, u app.User) error {
			_, err := e.users.ResetPassword(ctx, e.admin, u.ID, "")
			return err
		}},
		{"role change", func(e *env, u app.User) error { return e.users.SetRole(ctx, e.admin, u.ID, "creator") }},
		{"disable", func(e *env, u app.User) error { return e.users.SetDisabled(ctx, e.admin, u.ID, true) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "u@example.com", Role: "observer", Password: "long enough password"})
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := app.NewSessionToken()
			if _, err := e.auth.CreateSession(ctx, tok, u.ID, nil); err != nil {
				t.Fatal(err)
			}
			adminTok, _ := app.NewSessionToken()
			if _, err := e.auth.CreateSession(ctx, adminTok, e.admin.ID, nil); err != nil {
				t.Fatal(err)
			}
			if err := tt.change(e, u); err != nil {
				t.Fatal(err)
			}
			if _, err := e.auth.Session(ctx, tok); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("the user's session survived: %v", err)
			}
			if _, err := e.auth.Session(ctx, adminTok); err != nil {
				t.Errorf("the admin's own session ended: %v", err)
			}
		})
	}
}

func TestChangePasswordChecksCurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	err := e.users.ChangePassword(ctx, e.admin, "wrong current", "new long password!", "different long password")
	var ve *app.ValidationError
	if !errors.As(err, &ve) || ve.Fields["current_password"] == "" || ve.Fields["confirm_password"] == "" {
		t.Fatalf("err = %v", err)
	}
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); err != nil {
		t.Fatalf("old password stopped working after a rejected change: %v", err)
	}
	if err := e.users.ChangePassword(ctx, e.admin, e.adminPw, "new long password!", "new long password!"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Login(ctx, "admin@example.com", "new long password!"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestUpdateProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.users.UpdateProfile(ctx, e.admin, app.ProfileRequest{Name: "Ada", TimeZone: "Mars/Olympus"}); !errors.Is(err, app.ErrInvalid) {
		t.Fatalf("unknown zone: %v", err)
	}
	u, err := e.users.UpdateProfile(ctx, e.admin, app.ProfileRequest{Name: " Ada ", TimeZone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Ada" || u.Location().String() != "Europe/Paris" {
		t.Errorf("profile = %q, %v", u.Name, u.Location())
	}
}
