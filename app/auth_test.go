package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	ctx := app.WithClientIP(context.Background(), "203.0.113.9")
	disabled, err := e.users.Create(ctx, e.admin, app.NewUserRequest{Email: "dis@example.com", Role: "observer", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.users.SetDisabled(ctx, e.admin, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, email, pw string
		ok              bool
		auditMsg        string
	}{
		{"right password (email case and spaces ignored)", "  ADMIN@example.com ", e.adminPw, true, ""},
		{"wrong password", "admin@example.com", "nope", false, "wrong password"},
		{"unknown email", "who@example.com", e.adminPw, false, "unknown email"},
		{"disabled user", "dis@example.com", "a long enough password", false, "user disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.auth.Login(ctx, tt.email, tt.pw)
			if tt.ok {
				if err != nil || u.Email != "admin@example.com" {
					t.Fatalf("Login = %v, %v", u.Email, err)
				}
			} else if !errors.Is(err, app.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			last := e.lastAudit(t)
			wantOutcome := app.OutcomeOK
			if !tt.ok {
				wantOutcome = app.OutcomeFailed
			}
			if last.Action != app.ActionLogin || last.Outcome != wantOutcome || last.Message != tt.auditMsg || last.IP != "203.0.113.9" {
				t.Errorf("audit = %+v", last)
			}
		})
	}
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background() // no client address: the account's counter alone
	for i := range 4 {
		if _, err := e.auth.Login(ctx, "admin@example.com", "wrong"); !errors.Is(err, app.ErrUnauthorized) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// Four failures: the right password still works, and resets the account counter.
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); err != nil {
		t.Fatalf("after 4 failures: %v", err)
	}
	for range 5 {
		e.auth.Login(ctx, "admin@example.com", "wrong")
	}
	// Five failures: refused, even with the right password, until T.
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("right password while throttled: %v", err)
	}
	// The 10 failures so far share one counted row, which shows the latest reason.
	if rows := e.failedLogins(); len(rows) != 1 || rows[0].Count != 10 || !strings.HasPrefix(rows[0].Message, "refused") {
		t.Errorf("throttled attempt audit = %+v", rows)
	}
	e.clock.Advance(29 * time.Second)
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("29 s later: %v", err)
	}
	e.clock.Advance(2 * time.Second)
	if _, err := e.auth.Login(ctx, "admin@example.com", "wrong"); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatal("failure after the wait accepted")
	}
	// Every attempt counts, the two refused ones too: 8 attempts, so the
	// next wait is 30 s doubled three times (240 s).
	e.clock.Advance(239 * time.Second)
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("239 s after the eighth attempt: %v", err)
	}
	e.clock.Advance(2 * time.Second)
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
}

func TestLoginDelayIsCapped(t *testing.T) {
	e := newEnv(t)
	ctx := app.WithClientIP(context.Background(), "198.51.100.8")
	for range 200 {
		e.auth.Login(ctx, "admin@example.com", "wrong")
	}
	// However many attempts, the wait never exceeds MaxDelay: a delay, not a lock.
	e.clock.Advance(e.auth.Config().MaxDelay + time.Second)
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); err != nil {
		t.Fatalf("after MaxDelay: %v", err)
	}
}

func TestLoginConcurrentGuessesAreCountedFirst(t *testing.T) {
	e := newEnv(t)
	ctx := app.WithClientIP(context.Background(), "198.51.100.9")
	// 39 guesses at once, then the right password: the counters see every
	// attempt before any password is checked, so at most MaxFailures of
	// them are checked and the right one, coming after, is refused.
	const n = 40
	var wg sync.WaitGroup
	var in atomic.Int32
	for i := range n - 1 {
		wg.Go(func() {
			if _, err := e.auth.Login(ctx, "admin@example.com", fmt.Sprintf("guess %d", i)); err == nil {
				in.Add(1)
			}
		})
	}
	wg.Wait()
	if _, err := e.auth.Login(ctx, "admin@example.com", e.adminPw); err == nil {
		in.Add(1)
	}
	if in.Load() != 0 {
		t.Error("the right password got in among 40 concurrent guesses")
	}
	checked := 0
	for _, a := range e.auditLog() {
		if a.Action == app.ActionLogin && a.Message == "wrong password" {
			checked++
		}
	}
	if checked > e.auth.Config().MaxFailures {
		t.Errorf("%d passwords checked, want at most %d", checked, e.auth.Config().MaxFailures)
	}
	for _, key := range []string{"email:admin@example.com", "ip:198.51.100.9"} {
		if a, err := e.store.LoginAttempts(context.Background(), key); err != nil || a.Failures != n {
			t.Errorf("%s = %+v, %v; want %d failures", key, a, err, n)
		}
	}
}

func TestLoginThrottlePerIP(t *testing.T) {
	e := newEnv(t)
	attacker := app.WithClientIP(context.Background(), "192.0.2.66")
	// Five different emails from one address: the address is refused.
	for _, email := range []string{"a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example"} {
		e.auth.Login(attacker, email, "guess")
	}
	if _, err := e.auth.Login(attacker, "admin@example.com", e.adminPw); !errors.Is(err, app.ErrUnauthorized) {
		t.Fatalf("throttled IP signed in: %v", err)
	}
	// Another address is not affected.
	office := app.WithClientIP(context.Background(), "192.0.2.10")
	if _, err := e.auth.Login(office, "admin@example.com", e.adminPw); err != nil {
		t.Fatalf("other IP: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tok, err := app.NewSessionToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.CreateSession(ctx, tok, e.admin.ID, nil); err != nil {
		t.Fatal(err)
	}
	if s, err := e.auth.Session(ctx, tok); err != nil || s.UserID != e.admin.ID {
		t.Fatalf("Session = %+v, %v", s, err)
	}
	if _, err := e.store.Session(ctx, tok); !errors.Is(err, app.ErrNotFound) {
		t.Fatal("the store holds the raw token, not its hash")
	}
	t.Run("idle expiry", func(t *testing.T) {
		e.clock.Advance(11 * time.Hour)
		if _, err := e.auth.Session(ctx, tok); err != nil {
			t.Fatalf("after 11 h: %v", err)
		}
		e.clock.Advance(11 * time.Hour) // 11 h since last seen: still alive
		if _, err := e.auth.Session(ctx, tok); err != nil {
			t.Fatalf("after 11 h more: %v", err)
		}
		e.clock.Advance(12 * time.Hour)
		if _, err := e.auth.Session(ctx, tok); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("after 12 h idle: %v", err)
		}
	})
	t.Run("absolute expiry", func(t *testing.T) {
		tok2, _ := app.NewSessionToken()
		if _, err := e.auth.CreateSession(ctx, tok2, e.admin.ID, nil); err != nil {
			t.Fatal(err)
		}
		for range 15 { // used every 11 h for 165 h: never idle
			e.clock.Advance(11 * time.Hour)
			if _, err := e.auth.Session(ctx, tok2); err != nil {
				t.Fatalf("active session ended early: %v", err)
			}
		}
		e.clock.Advance(11 * time.Hour) // 176 h > 7 d
		if _, err := e.auth.Session(ctx, tok2); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("after 7 d: %v", err)
		}
	})
}

func TestSignOutEverywhereAndLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var toks []string
	for range 3 {
		tok, _ := app.NewSessionToken()
		if _, err := e.auth.CreateSession(ctx, tok, e.admin.ID, nil); err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	if err := e.auth.Logout(ctx, e.admin, toks[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Session(ctx, toks[0]); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("logged-out session alive: %v", err)
	}
	if _, err := e.auth.Session(ctx, toks[1]); err != nil {
		t.Errorf("other session ended by logout: %v", err)
	}
	if last := e.lastAudit(t); last.Action != app.ActionLogout {
		t.Errorf("audit = %+v", last)
	}
	if err := e.auth.SignOutEverywhere(ctx, e.admin); err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks[1:] {
		if _, err := e.auth.Session(ctx, tok); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("session alive after sign out everywhere: %v", err)
		}
	}
}
