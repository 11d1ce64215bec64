package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/rcbu/rcbusim"
)

// clock is the tests' settable clock: the simulator's, so the console and
// a simulator can share one.
type clock = rcbusim.FakeClock

func newClock() *clock { return rcbusim.NewFakeClock(time.Date(2026, 3, 2, 15, 4, 5, 0, time.UTC)) }

// cheap argon2 parameters keep the tests fast; production uses the defaults.
var cheap = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}

type env struct {
	store    *db.Store
	dbPath   string
	clock    *clock
	audit    *app.Audit
	auth     *app.Auth
	users    *app.Users
	admin    app.User
	adminPw  string
	auditLog func() []app.AuditEntry
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "app.db"))
}

// newEnvAt is newEnv over the store at path: a SQLite file, or a
// PostgreSQL DSN (pgtest.Schema).
func newEnvAt(t *testing.T, path string) *env {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := newClock()
	audit := app.NewAudit(store, clk.Now, discard())
	cfg := app.DefaultAuthConfig()
	cfg.Password = cheap
	cfg.DeviceKey = []byte(strings.Repeat("d", 32))
	auth, err := app.NewAuth(store, audit, cfg, clk.Now, discard())
	if err != nil {
		t.Fatal(err)
	}
	users := app.NewUsers(store, audit, cheap, clk.Now, discard())
	created, pw, err := users.EnsureAdmin(ctx, "Admin@Example.com", "")
	if err != nil || !created || len(pw) < app.MinPasswordLen {
		t.Fatalf("EnsureAdmin = %v, %q, %v", created, pw, err)
	}
	admin, err := store.UserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, dbPath: path, clock: clk, audit: audit, auth: auth, users: users, admin: admin, adminPw: pw}
	e.auditLog = func() []app.AuditEntry {
		t.Helper()
		p, err := audit.List(ctx, admin, app.AuditFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		return p.Entries
	}
	return e
}

// lastAudit returns the newest audit entry.
func (e *env) lastAudit(t *testing.T) app.AuditEntry {
	t.Helper()
	l := e.auditLog()
	if len(l) == 0 {
		t.Fatal("audit log is empty")
	}
	return l[0]
}
