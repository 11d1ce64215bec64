package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// failedLogins returns the failed sign-in rows of the audit log.
func (e *env) failedLogins() []app.AuditEntry {
	var out []app.AuditEntry
	for _, a := range e.auditLog() {
		if a.Action == app.ActionLogin && a.Outcome == app.OutcomeFailed {
			out = append(out, a)
		}
	}
	return out
}

func TestRepeatedLoginFailuresShareOneAuditRow(t *testing.T) {
	e := newEnv(t)
	ctx := app.WithClientIP(context.Background(), "203.0.113.77")
	// 30 failures on one account, refused ones included: one row, counted.
	for i := range 30 {
		e.auth.Login(ctx, "admin@example.com", fmt.Sprintf("guess %d", i))
	}
	rows := e.failedLogins()
	if len(rows) != 1 || rows[0].Count != 30 {
		t.Fatalf("failed sign-ins: %d rows (first count %d), want 1 row counting 30", len(rows), first(rows).Count)
	}
	// Spraying unknown emails from one address: one row for the address.
	other := app.WithClientIP(context.Background(), "203.0.113.78")
	for i := range 20 {
		e.auth.Login(other, fmt.Sprintf("nobody%d@example.com", i), "guess")
	}
	if rows := e.failedLogins(); len(rows) != 2 || rows[0].Count != 20 {
		t.Fatalf("after spraying: %d rows (newest count %d), want 2 rows, the newest counting 20", len(rows), first(rows).Count)
	}
	// The next window starts a new row.
	e.clock.Advance(2 * time.Hour)
	e.auth.Login(ctx, "admin@example.com", "again")
	if rows := e.failedLogins(); len(rows) != 3 || rows[0].Count != 1 {
		t.Fatalf("next window: %d rows, want 3", len(rows))
	}
}

func first(l []app.AuditEntry) app.AuditEntry {
	if len(l) == 0 {
		return app.AuditEntry{}
	}
	return l[0]
}

func TestAuditRetention(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.audit.Record(ctx, app.AuditEntry{Actor: "old@example.com", Action: app.ActionLogout})
	e.clock.Advance(401 * 24 * time.Hour)
	e.audit.Record(ctx, app.AuditEntry{Actor: "new@example.com", Action: app.ActionLogout})
	if app.DefaultAuditKeepDays != 400 {
		t.Errorf("default retention %d days, want 400", app.DefaultAuditKeepDays)
	}
	n, err := e.audit.Prune(ctx, app.DefaultAuditKeepDays)
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Errorf("pruned %d entries, want the old ones", n)
	}
	for _, a := range e.auditLog() {
		if a.Actor == "old@example.com" {
			t.Error("an entry older than the retention is still there")
		}
	}
	found := false
	for _, a := range e.auditLog() {
		found = found || a.Actor == "new@example.com"
	}
	if !found {
		t.Error("a recent entry was pruned")
	}
}
