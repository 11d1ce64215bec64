package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/pgtest"
)

// A PostgreSQL server that goes away: the store's calls fail with an error
// that matches app.ErrUnavailable (the pages' 503 in words), and when it is
// back the store carries on with nothing lost.
func TestUnreachablePostgreSQLIsUnavailableThenRecovers(t *testing.T) {
	requirePostgres(t)
	dsn, proxy := pgtest.Behind(t, testSchema(t))
	ctx := context.Background()
	s, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateUser(ctx, app.User{Email: "a@example.com", PasswordHash: "x", Role: app.RoleAdmin, TimeZone: "UTC", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	proxy.Down()
	if _, err := s.CountUsers(ctx); !errors.Is(err, app.ErrUnavailable) {
		t.Fatalf("CountUsers with the server gone: %v; want app.ErrUnavailable", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Ping with the server gone: %v; want app.ErrUnavailable", err)
	}
	proxy.Up(t)
	var n int
	for range 3 { // connections broken while it was away fail once each at most
		if n, err = s.CountUsers(ctx); err == nil {
			break
		}
	}
	if err != nil || n != 1 {
		t.Fatalf("CountUsers after the server came back = %d, %v; want 1", n, err)
	}
}
