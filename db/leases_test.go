package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLeases(t *testing.T) {
	onBoth(t, func(t *testing.T) {
		ctx := context.Background()
		s, _ := openStore(t)
		ttl := time.Minute
		got := func(name, holder string, now time.Time) bool {
			t.Helper()
			ok, err := s.AcquireLease(ctx, name, holder, now, now.Add(ttl))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !got("sync:1", "a", t0) {
			t.Fatal("a free lease was refused")
		}
		if got("sync:1", "b", t0.Add(30*time.Second)) {
			t.Error("b took a lease a holds")
		}
		if !got("sync:1", "a", t0.Add(50*time.Second)) {
			t.Error("a could not renew its own lease")
		}
		if !got("sync:2", "b", t0) {
			t.Error("b could not take another lease")
		}
		held, err := s.HeldLeases(ctx, "a", t0.Add(55*time.Second))
		if err != nil || !cmp.Equal(held, []string{"sync:1"}) {
			t.Errorf("HeldLeases(a) = %v, %v", held, err)
		}
		// a stops renewing (it died): once expired, b takes it.
		if got("sync:1", "b", t0.Add(50*time.Second+ttl-time.Second)) {
			t.Error("b took the lease before it expired")
		}
		if !got("sync:1", "b", t0.Add(50*time.Second+ttl)) {
			t.Error("b could not take an expired lease")
		}
		if err := s.ReleaseLeases(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if !got("sync:2", "a", t0.Add(time.Second)) {
			t.Error("a released lease was not free")
		}
		if err := s.ReleaseLease(ctx, "sync:2", "b"); err != nil { // not b's: nothing happens
			t.Fatal(err)
		}
		if held, _ := s.HeldLeases(ctx, "a", t0.Add(2*time.Second)); !cmp.Equal(held, []string{"sync:2"}) {
			t.Errorf("after b released a lease it does not hold, a holds %v", held)
		}
		// Many asking at once: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 16 {
			wg.Go(func() {
				ok, err := s.AcquireLease(ctx, "alerts:9", string(rune('a'+i)), t0, t0.Add(ttl))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Errorf("%d replicas took one lease at once; want 1", winners)
		}
	})
}
