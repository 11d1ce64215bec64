package db_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// twoAdmins adds two enabled admins to s.
func twoAdmins(t *testing.T, s *db.Store) [2]app.User {
	t.Helper()
	var out [2]app.User
	for i, email := range []string{"ann@example.com", "bob@example.com"} {
		u, err := s.CreateUser(context.Background(), app.User{Email: email, PasswordHash: "h", Role: app.RoleAdmin, Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = u
	}
	return out
}

// The store refuses the change that would leave no enabled admin, whether
// it disables the last one or gives it another role; other changes of an
// admin pass.
func TestTheLastEnabledAdminStays(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s := newTestStore(t)
		admins := twoAdmins(t, s)
		ann, bob := admins[0], admins[1]
		ann.Disabled = true
		if err := s.UpdateUser(ctx, ann, true); err != nil {
			t.Fatalf("disabling one of two admins: %v", err)
		}
		bob.Name = "Bob"
		if err := s.UpdateUser(ctx, bob, false); err != nil {
			t.Fatalf("renaming the last admin: %v", err)
		}
		bob.Disabled = true
		if err := s.UpdateUser(ctx, bob, true); !errors.Is(err, app.ErrConflict) {
			t.Errorf("disabling the last admin: %v; want a conflict", err)
		}
		bob.Disabled, bob.Role = false, app.RoleCreator
		if err := s.SetUserAccess(ctx, bob, true); !errors.Is(err, app.ErrConflict) {
			t.Errorf("the last admin made a creator: %v; want a conflict", err)
		}
		if n, err := s.CountActiveAdmins(ctx); err != nil || n != 1 {
			t.Errorf("enabled admins: %d, %v; want 1", n, err)
		}
	})
}

// Two replicas each disabling one of the last two admins at the same time:
// one succeeds and the other is refused, every time.
func TestTwoReplicasCannotDisableTheLastTwoAdminsAtOnce(t *testing.T) {
	ctx := context.Background()
	rs := twoReplicas(t)
	admins := twoAdmins(t, rs[0])
	for round := range 10 {
		var refused atomic.Int32
		together(rs, 2, func(i int, s *db.Store) {
			u := admins[i]
			u.Disabled = true
			if err := s.UpdateUser(ctx, u, true); errors.Is(err, app.ErrConflict) {
				refused.Add(1)
			} else if err != nil {
				t.Error(err)
			}
		})
		n, err := rs[0].CountActiveAdmins(ctx)
		if err != nil || n != 1 || refused.Load() != 1 {
			t.Fatalf("round %d: %d enabled admins (%v), %d refused; want 1 and 1", round, n, err, refused.Load())
		}
		for _, u := range admins {
			if err := rs[1].UpdateUser(ctx, u, false); err != nil { // both enabled again
				t.Fatal(err)
			}
		}
	}
}
