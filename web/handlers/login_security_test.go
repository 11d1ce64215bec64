package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
)

// postLogin posts the sign-in form from the given client address.
func (te *testEnv) postLogin(remote, email, password string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	form := url.Values{"email": {email}, "password": {password}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = remote + ":40000"
	for _, c := range cookies {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	te.e.ServeHTTP(rec, r)
	return rec
}

// realArgon2 replaces the test env's cheap password hashing with the
// production parameters (19 MiB per check), which the memory bound is about.
func realArgon2(t testing.TB) func(*Deps) {
	return func(d *Deps) {
		cfg := app.DefaultAuthConfig()
		cfg.DeviceKey = []byte(strings.Repeat("d", 32))
		cfg.HashWait = 20 * time.Second // the race detector slows argon2 down
		auth, err := app.NewAuth(d.DB.(app.AuthStore), d.Audit, cfg, d.Now, d.Log)
		if err != nil {
			t.Fatal(err)
		}
		d.Auth = auth
	}
}

// heapPeak samples the live heap while fn runs and returns its peak above
// the heap before.
func heapPeak(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var s runtime.MemStats
		for {
			runtime.ReadMemStats(&s)
			if s.HeapAlloc > base && s.HeapAlloc-base > peak.Load() {
				peak.Store(s.HeapAlloc - base)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load()
}

func TestLoginBurstIsCountedBeforeHashing(t *testing.T) {
	te, _ := buildTestEnv(t, envOptions{change: realArgon2(t)})
	const n = 48
	var wg sync.WaitGroup
	codes := make([]int, n)
	peak := heapPeak(func() {
		for i := range n {
			wg.Go(func() { codes[i] = te.postLogin("203.0.113.50", "nobody@example.com", fmt.Sprintf("guess %d", i)).Code })
		}
		wg.Wait()
	})
	for i, c := range codes {
		if c != http.StatusUnprocessableEntity {
			t.Errorf("attempt %d: status %d, want 422", i, c)
		}
	}
	ctx := t.Context()
	for _, key := range []string{"email:nobody@example.com", "ip:203.0.113.50"} {
		a, err := te.store.LoginAttempts(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if a.Failures != n {
			t.Errorf("%s counted %d attempts, want %d", key, a.Failures, n)
		}
	}
	// 48 argon2 checks at 19 MiB at once would be 912 MiB; the throttle lets
	// 5 through and at most one per CPU runs at a time.
	if peak > 300<<20 {
		t.Errorf("heap peaked %d MiB above its start during the burst", peak>>20)
	}
	t.Logf("heap peak during the burst: +%d MiB", peak>>20)
}

func TestLoginHashingIsBoundedAcrossClients(t *testing.T) {
	te, _ := buildTestEnv(t, envOptions{change: realArgon2(t)})
	// Every attempt from its own address for its own email: the throttle
	// stops none of them, so only the bound on password checks holds memory.
	const n = 24
	var wg sync.WaitGroup
	peak := heapPeak(func() {
		for i := range n {
			wg.Go(func() {
				rec := te.postLogin(fmt.Sprintf("198.51.100.%d", i+1), fmt.Sprintf("user%d@example.com", i), "a guess")
				if rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("attempt %d: status %d", i, rec.Code)
				}
			})
		}
		wg.Wait()
	})
	// 24 checks at once would be 456 MiB; with one per CPU at a time the
	// heap holds a few checks' blocks plus garbage the GC has not reclaimed.
	if limit := uint64(2*runtime.NumCPU()+8) * 19 << 20; peak > limit {
		t.Errorf("heap peaked %d MiB above its start; %d CPUs should bound it below %d MiB", peak>>20, runtime.NumCPU(), limit>>20)
	}
	t.Logf("heap peak during the burst: +%d MiB", peak>>20)
}

func TestLoginOverlongInputIsRefusedUnrecorded(t *testing.T) {
	te := newTestEnv(t)
	ctx := t.Context()
	admin := te.byRole[app.RoleAdmin]
	before, err := te.audit.List(ctx, admin, app.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 900<<10) + "@example.com"
	for _, tc := range []struct{ name, email, pw string }{
		{"900 KB email", long, "whatever"},
		{"255-byte email", strings.Repeat("b", 243) + "@example.com", "whatever"},
		{"1025-byte password", "admin@example.com", strings.Repeat("p", 1025)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := te.postLogin("203.0.113.60", tc.email, tc.pw)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", rec.Code)
			}
			if !strings.Contains(rec.Body.String(), app.LoginFailedMessage) {
				t.Error("no generic failure message")
			}
			if rec.Body.Len() > 64<<10 {
				t.Errorf("the form echoed %d bytes back", rec.Body.Len())
			}
		})
	}
	after, err := te.audit.List(ctx, admin, app.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Entries) != len(before.Entries) {
		t.Errorf("over-long attempts wrote %d audit rows", len(after.Entries)-len(before.Entries))
	}
	if a, _ := te.store.LoginAttempts(ctx, "ip:203.0.113.60"); a.Failures != 0 {
		t.Errorf("over-long attempts wrote a counter: %+v", a)
	}
}

func TestKnownDeviceSignsInWhileTheAccountIsUnderAttack(t *testing.T) {
	te := newTestEnv(t)
	// The admin signed in from this browser before: it holds a device cookie.
	rec := te.postLogin("192.0.2.10", "admin@example.com", testPassword)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", rec.Code)
	}
	var dev *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == deviceCookie {
			dev = c
		}
	}
	if dev == nil || !dev.HttpOnly || dev.MaxAge < 30*24*3600 {
		t.Fatalf("no long-lived HttpOnly device cookie: %+v", dev)
	}
	// An attacker guesses from many addresses (or from behind the same proxy).
	for i := range 30 {
		te.postLogin(fmt.Sprintf("203.0.113.%d", 100+i%3), "admin@example.com", fmt.Sprintf("guess %d", i))
	}
	// A browser the admin never used is made to wait, as the attacker is...
	if rec := te.postLogin("192.0.2.11", "admin@example.com", testPassword); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unknown device during the attack: %d, want 422", rec.Code)
	}
	// ...but the known browser signs in at once.
	if rec := te.postLogin("192.0.2.10", "admin@example.com", testPassword, dev); rec.Code != http.StatusSeeOther {
		t.Fatalf("known device during the attack: %d, want 303", rec.Code)
	}
	// A device cookie of another user, or a forged one, counts for nothing.
	// (One character of the signature changed; the last ones may carry padding bits.)
	b := []byte(dev.Value)
	b[len(b)-10] = map[bool]byte{true: 'B', false: 'A'}[b[len(b)-10] == 'A']
	forged := &http.Cookie{Name: deviceCookie, Value: string(b)}
	if rec := te.postLogin("192.0.2.10", "admin@example.com", testPassword, forged); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("forged device cookie: %d, want 422", rec.Code)
	}
	if rec := te.postLogin("192.0.2.10", "observer@example.com", testPassword, dev); rec.Code != http.StatusSeeOther {
		t.Fatalf("another user from the admin's browser: %d", rec.Code)
	}
	// Not a lock: once the (growing, capped) delay has passed, the right
	// password from anywhere gets in again.
	te.clock.Advance(te.auth.Config().MaxDelay + time.Second)
	if rec := te.postLogin("192.0.2.12", "admin@example.com", testPassword); rec.Code != http.StatusSeeOther {
		t.Fatalf("after the longest delay: %d, want 303", rec.Code)
	}
}
