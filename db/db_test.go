package db_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
)

// openStore opens a fresh store on t's database (see onBoth); path is the
// SQLite file's, empty on PostgreSQL.
func openStore(t *testing.T) (*db.Store, string) {
	t.Helper()
	if dialectOf(t) == "postgres" {
		return newTestStore(t), ""
	}
	path := filepath.Join(t.TempDir(), "sub", "dir", "test.db")
	s, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

var t0 = time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)

func TestOpenCreatesDirectoryAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	if _, err := s.CreateUser(ctx, app.User{Email: "a@example.com", PasswordHash: "x", Role: app.RoleAdmin, TimeZone: "UTC", Created: t0, Updated: t0}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A second open runs the migrations again (nothing to do) and keeps the data.
	s2, err := db.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	n, err := s2.CountUsers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
	if err := s2.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestUsers(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		u, err := s.CreateUser(ctx, app.User{Email: "alice@example.com", Name: "Alice", PasswordHash: "h", Role: app.RoleCreator, TimeZone: "Europe/Paris", Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 {
			t.Fatal("no id")
		}
		t.Run("duplicate email is a conflict", func(t *testing.T) {
			_, err := s.CreateUser(ctx, app.User{Email: "alice@example.com", PasswordHash: "h", Role: app.RoleObserver, Created: t0, Updated: t0})
			if !errors.Is(err, app.ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
		})
		t.Run("get by id and email round-trips", func(t *testing.T) {
			got, err := s.User(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(u, got); diff != "" {
				t.Errorf("User (-want +got):\n%s", diff)
			}
			got, err = s.UserByEmail(ctx, "alice@example.com")
			if err != nil || got.ID != u.ID {
				t.Fatalf("UserByEmail = %v, %v", got.ID, err)
			}
		})
		t.Run("missing user is not found", func(t *testing.T) {
			if _, err := s.User(ctx, 999); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
			if _, err := s.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
			if err := s.UpdateUser(ctx, app.User{ID: 999, Role: app.RoleAdmin}, false); !errors.Is(err, app.ErrNotFound) {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run("update with revocation deletes the user's sessions, tokens and links only", func(t *testing.T) {
			other, err := s.CreateUser(ctx, app.User{Email: "bob@example.com", PasswordHash: "h", Role: app.RoleAdmin, Created: t0, Updated: t0})
			if err != nil {
				t.Fatal(err)
			}
			for _, se := range []app.Session{
				{Hash: "a1", UserID: u.ID, Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)},
				{Hash: "a2", UserID: u.ID, Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)},
				{Hash: "b1", UserID: other.ID, Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)},
			} {
				if err := s.CreateSession(ctx, se); err != nil {
					t.Fatal(err)
				}
			}
			// Tokens and unused links go with the sessions, in the same
			// change; the other user's stay.
			for _, who := range []app.User{u, other} {
				if _, err := s.CreateToken(ctx, app.Token{UserID: who.ID, Name: "script", Hash: "tok-" + who.Email, Hint: "abcd", Created: t0}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.CreateUserLink(ctx, app.UserLink{UserID: who.ID, Kind: app.LinkReset, Hash: "link-" + who.Email, CreatedBy: "admin@example.com", Created: t0, Expires: t0.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
			}
			u.Role = app.RoleAdmin
			if err := s.UpdateUser(ctx, u, true); err != nil {
				t.Fatal(err)
			}
			for hash, want := range map[string]bool{"a1": false, "a2": false, "b1": true} {
				_, err := s.Session(ctx, hash)
				if got := err == nil; got != want {
					t.Errorf("session %s exists = %v, want %v (err %v)", hash, got, want, err)
				}
			}
			for _, who := range []app.User{u, other} {
				want := who.ID != u.ID
				if _, err := s.TokenByHash(ctx, "tok-"+who.Email); (err == nil) != want {
					t.Errorf("token of %s exists = %v, want %v", who.Email, err == nil, want)
				}
				if _, err := s.UserLinkByHash(ctx, "link-"+who.Email); (err == nil) != want {
					t.Errorf("link of %s exists = %v, want %v", who.Email, err == nil, want)
				}
			}
			n, err := s.CountActiveAdmins(ctx)
			if err != nil || n != 2 {
				t.Fatalf("CountActiveAdmins = %d, %v; want 2", n, err)
			}
			list, err := s.ListUsers(ctx)
			if err != nil || len(list) != 2 || list[0].Email != "alice@example.com" {
				t.Fatalf("ListUsers = %v, %v", list, err)
			}
		})
	})
}

func TestSessions(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		anon := app.Session{Hash: "anon", Data: []byte(`{"flashes":[]}`), Created: t0, LastSeen: t0, Expires: t0.Add(time.Hour)}
		if err := s.CreateSession(ctx, anon); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, "anon")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(anon, got); diff != "" {
			t.Errorf("Session (-want +got):\n%s", diff)
		}
		got.Data = []byte(`{"account":"all"}`)
		got.LastSeen = t0.Add(time.Minute)
		if err := s.UpdateSession(ctx, got); err != nil {
			t.Fatal(err)
		}
		again, _ := s.Session(ctx, "anon")
		if string(again.Data) != `{"account":"all"}` || !again.LastSeen.Equal(t0.Add(time.Minute)) {
			t.Errorf("after update: %+v", again)
		}
		if err := s.UpdateSession(ctx, app.Session{Hash: "gone"}); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("update of a missing session: %v", err)
		}
		// Expired (absolute) and idle sessions are pruned; a fresh one stays.
		for _, se := range []app.Session{
			{Hash: "expired", Created: t0, LastSeen: t0.Add(50 * time.Minute), Expires: t0.Add(59 * time.Minute)},
			{Hash: "idle", Created: t0, LastSeen: t0.Add(-2 * time.Hour), Expires: t0.Add(24 * time.Hour)},
			{Hash: "fresh", Created: t0, LastSeen: t0.Add(50 * time.Minute), Expires: t0.Add(24 * time.Hour)},
		} {
			if err := s.CreateSession(ctx, se); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Hour), t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 { // expired, idle, and anon (expires at t0+1h)
			t.Errorf("pruned %d, want 3", n)
		}
		if _, err := s.Session(ctx, "fresh"); err != nil {
			t.Errorf("fresh session pruned: %v", err)
		}
		if err := s.DeleteSession(ctx, "fresh"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, "fresh"); err != nil {
			t.Errorf("deleting twice: %v", err)
		}
	})
}

func TestLoginAttempts(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		a, err := s.LoginAttempts(ctx, "ip:203.0.113.9")
		if err != nil || a.Failures != 0 || a.Key != "ip:203.0.113.9" {
			t.Fatalf("fresh counter = %+v, %v", a, err)
		}
		want := app.LoginAttempts{Key: "ip:203.0.113.9", Failures: 6, LastFailure: t0, RefusedUntil: t0.Add(time.Minute)}
		if err := s.PutLoginAttempts(ctx, want); err != nil {
			t.Fatal(err)
		}
		want.Failures = 7
		if err := s.PutLoginAttempts(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.LoginAttempts(ctx, want.Key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("LoginAttempts (-want +got):\n%s", diff)
		}
		if err := s.DeleteLoginAttempts(ctx, want.Key); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.LoginAttempts(ctx, want.Key); got.Failures != 0 {
			t.Errorf("after delete: %+v", got)
		}
	})
}

func TestSettings(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		if _, err := s.Setting(ctx, "k"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("missing setting: %v", err)
		}
		v, err := s.InsertSettingIfAbsent(ctx, "k", "first")
		if err != nil || v != "first" {
			t.Fatalf("first insert = %q, %v", v, err)
		}
		v, err = s.InsertSettingIfAbsent(ctx, "k", "second")
		if err != nil || v != "first" {
			t.Fatalf("second insert = %q, %v; want the stored first value", v, err)
		}
	})
}

func TestAuditKeysetAndFilters(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		for i := range 10 {
			e := app.AuditEntry{Time: t0.Add(time.Duration(i) * time.Hour), Actor: "alice@example.com", Action: app.ActionLogin, Outcome: app.OutcomeOK}
			if i%3 == 0 {
				e.Actor, e.Outcome, e.Message = "mallory@example.com", app.OutcomeFailed, "wrong password"
			}
			if _, err := s.InsertAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(es []app.AuditEntry) []app.AuditID {
			out := []app.AuditID{}
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		tests := []struct {
			name string
			f    app.AuditFilter
			want []app.AuditID
		}{
			{"newest first", app.AuditFilter{Limit: 3}, []app.AuditID{10, 9, 8}},
			{"older than a cursor", app.AuditFilter{Limit: 3, Before: 8}, []app.AuditID{7, 6, 5}},
			{"newer than a cursor ascending", app.AuditFilter{Limit: 3, After: 5}, []app.AuditID{6, 7, 8}},
			{"actor substring", app.AuditFilter{Limit: 10, Actor: "MALLORY"}, []app.AuditID{10, 7, 4, 1}},
			{"outcome", app.AuditFilter{Limit: 10, Outcome: app.OutcomeOK, Before: 4}, []app.AuditID{3, 2}},
			{"time range", app.AuditFilter{Limit: 10, From: t0.Add(2 * time.Hour), To: t0.Add(4 * time.Hour)}, []app.AuditID{4, 3}},
			{"like wildcards are literal", app.AuditFilter{Limit: 10, Actor: "%"}, []app.AuditID{}},
			{"action", app.AuditFilter{Limit: 10, Action: app.ActionLogout}, []app.AuditID{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ListAudit(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
					t.Errorf("ids (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestAccounts(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		a, err := s.CreateAccount(ctx, app.Account{Name: "Prod", Username: "alice", Kind: app.CredentialAPIKey, SecretSealed: []byte{1, 2, 3}, IdentityURL: "https://id.example/v2.0/tokens", Source: app.SourceAdmin, Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Account(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Account (-want +got):\n%s", diff)
		}
		a.Region, a.Name = "DFW", "Production"
		if err := s.UpdateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		// The demo row is upserted: the same id across starts, new identity URL.
		d1, err := s.UpsertManagedAccount(ctx, app.Account{Name: "Demo", Username: "demo", Kind: app.CredentialAPIKey, SecretSealed: []byte{9}, IdentityURL: "http://127.0.0.1:1/v2.0/tokens", Source: app.SourceDemo, Created: t0, Updated: t0})
		if err != nil {
			t.Fatal(err)
		}
		d2, err := s.UpsertManagedAccount(ctx, app.Account{Name: "Demo", Username: "demo", Kind: app.CredentialAPIKey, SecretSealed: []byte{9}, IdentityURL: "http://127.0.0.1:2/v2.0/tokens", Source: app.SourceDemo, Created: t0.Add(time.Hour), Updated: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if d1.ID != d2.ID || d2.IdentityURL != "http://127.0.0.1:2/v2.0/tokens" || !d2.Created.Equal(t0) {
			t.Errorf("upsert: first %+v, second %+v", d1, d2)
		}
		if _, err := s.UpsertManagedAccount(ctx, app.Account{Source: app.SourceAdmin}); err == nil {
			t.Error("upserting an admin account should fail")
		}
		list, err := s.ListAccounts(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "Demo" || list[1].Name != "Production" {
			t.Fatalf("ListAccounts = %+v, %v", list, err)
		}
		if err := s.DeleteAccount(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAccount(ctx, a.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if _, err := s.Account(ctx, a.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("get deleted: %v", err)
		}
	})
}
