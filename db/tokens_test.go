package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestTokens(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		u, err := s.CreateUser(ctx, app.User{Email: "a@example.com", PasswordHash: "x", Role: app.RoleObserver, TimeZone: "UTC", Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		other, err := s.CreateUser(ctx, app.User{Email: "b@example.com", PasswordHash: "x", Role: app.RoleObserver, TimeZone: "UTC", Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		older, err := s.CreateToken(ctx, app.Token{UserID: u.ID, Name: "old", Hash: "h1", Hint: "abcd", Created: t0})
		if err != nil {
			t.Fatal(err)
		}
		newer, err := s.CreateToken(ctx, app.Token{UserID: u.ID, Name: "new", Hash: "h2", Hint: "efgh", Created: t0.Add(time.Hour), Expires: t0.Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateToken(ctx, app.Token{UserID: u.ID, Name: "new", Hash: "h3", Hint: "x", Created: t0}); !errors.Is(err, app.ErrConflict) {
			t.Fatalf("duplicate name: %v, want ErrConflict", err)
		}
		if _, err := s.CreateToken(ctx, app.Token{UserID: other.ID, Name: "new", Hash: "h4", Hint: "x", Created: t0}); err != nil {
			t.Fatalf("the same name for another user: %v", err)
		}

		list, err := s.UserTokens(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]app.Token{newer, older}, list); diff != "" {
			t.Fatalf("UserTokens (-want +got):\n%s", diff)
		}
		got, err := s.TokenByHash(ctx, "h2")
		if err != nil || got != newer {
			t.Fatalf("TokenByHash = %+v, %v", got, err)
		}
		if _, err := s.TokenByHash(ctx, "nope"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		if err := s.TouchToken(ctx, older.ID, t0.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.TokenByHash(ctx, "h1"); !got.LastUsed.Equal(t0.Add(5 * time.Minute)) {
			t.Fatalf("LastUsed = %v", got.LastUsed)
		}

		if _, err := s.DeleteToken(ctx, other.ID, older.ID); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("delete by another user: %v, want ErrNotFound", err)
		}
		del, err := s.DeleteToken(ctx, u.ID, older.ID)
		if err != nil || del.Name != "old" {
			t.Fatalf("DeleteToken = %+v, %v", del, err)
		}
		if _, err := s.TokenByHash(ctx, "h1"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("deleted token still found: %v", err)
		}

		// Deleting a user takes their tokens along.
		if _, err := s.DB().ExecContext(ctx, `DELETE FROM users WHERE id = ?`, u.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenByHash(ctx, "h2"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("token of a deleted user still found: %v", err)
		}
		if list, err := s.UserTokens(ctx, u.ID); err != nil || len(list) != 0 {
			t.Fatalf("UserTokens of a deleted user = %v, %v", list, err)
		}
	})
}
