package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/db"
	"github.com/rcbu-console/rcbu-console/internal/poll"
)

// Two replicas on one database: the work under a lease runs on one of them
// at a time, the holder shows it, and it is free again once done.
func TestLeasesRunWorkOnOneReplicaAtATime(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "leases.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := newClock()
	a := app.NewLeases(store, time.Minute, clock.Now)
	b := app.NewLeases(store, time.Minute, clock.Now)
	if a.Holder() == b.Holder() {
		t.Fatal("two replicas share a holder name")
	}
	err = a.Run(ctx, "sync:1", func(ctx context.Context) error {
		if held, err := a.Held(ctx); err != nil || !cmp.Equal(held, []string{"sync:1"}) {
			t.Errorf("a holds %v, %v; want sync:1", held, err)
		}
		ran := false
		err := b.Run(ctx, "sync:1", func(context.Context) error { ran = true; return nil })
		if !errors.Is(err, app.ErrLeaseHeld) || ran {
			t.Errorf("b.Run while a holds the lease: ran %v, err %v; want ErrLeaseHeld", ran, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if held, _ := a.Held(ctx); len(held) != 0 {
		t.Errorf("a still holds %v after its work ended", held)
	}
	ran := false
	if err := b.Run(ctx, "sync:1", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("b.Run after a finished: ran %v, err %v", ran, err)
	}
	// a replica that dies mid-work (never releases): the lease moves once it
	// has expired.
	if ok, err := store.AcquireLease(ctx, "alerts:1", a.Holder(), clock.Now(), clock.Now().Add(time.Minute)); err != nil || !ok {
		t.Fatalf("a takes alerts:1: %v, %v", ok, err)
	}
	if err := b.Run(ctx, "alerts:1", func(context.Context) error { return nil }); !errors.Is(err, app.ErrLeaseHeld) {
		t.Errorf("b took a live lease: %v", err)
	}
	clock.Advance(time.Minute)
	if err := b.Run(ctx, "alerts:1", func(context.Context) error { return nil }); err != nil {
		t.Errorf("b could not take the lease of a dead replica: %v", err)
	}
	// Shutting down gives every lease up at once.
	if ok, _ := store.AcquireLease(ctx, "sync:2", a.Holder(), clock.Now(), clock.Now().Add(time.Minute)); !ok {
		t.Fatal("a could not take sync:2")
	}
	if err := a.ReleaseAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Run(ctx, "sync:2", func(context.Context) error { return nil }); err != nil {
		t.Errorf("sync:2 not free after a released its leases: %v", err)
	}
}

// A lease held for a step (Hold) is renewed while the step runs, as Run's
// is, so a step slower than the TTL keeps it from the other replicas; once
// given up it stays free (no renewal comes after the release).
func TestLeasesHoldRenewsUntilReleased(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "leases.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := newClock()
	const ttl = 3 * time.Second // renewed every second; the store keeps whole seconds
	a := app.NewLeases(store, ttl, clock.Now)
	b := app.NewLeases(store, ttl, clock.Now)
	release, err := a.Hold(ctx, "start:1:2")
	if err != nil {
		t.Fatal(err)
	}
	// Two thirds of the TTL on, a renewal carries the lease a full TTL
	// past that: it is still a's when the first TTL has run out.
	clock.Advance(2 * ttl / 3)
	poll.UntilWithin(t, poll.Bound, 50*time.Millisecond, "the held lease to be renewed", func() bool {
		held, err := store.HeldLeases(ctx, a.Holder(), clock.Now().Add(ttl/2))
		return err == nil && len(held) == 1
	})
	clock.Advance(ttl / 2)
	if ok, err := store.AcquireLease(ctx, "start:1:2", b.Holder(), clock.Now(), clock.Now().Add(ttl)); err != nil || ok {
		t.Fatalf("b took the lease a holds and renews: %v, %v", ok, err)
	}
	release()
	if held, err := store.HeldLeases(ctx, a.Holder(), clock.Now()); err != nil || len(held) != 0 {
		t.Errorf("a holds %v, %v after giving the lease up", held, err)
	}
	releaseB, err := b.Hold(ctx, "start:1:2")
	if err != nil {
		t.Fatalf("b could not take the lease a gave up: %v", err)
	}
	releaseB()
}

// With other replicas writing to the same store, the history's generation
// (which keys the overview's caches) moves on with time too, not only with
// this replica's own writes.
func TestSharedHistoryGenerationMovesWithTime(t *testing.T) {
	clock := newClock()
	h := app.NewHistory(nil, nil, nil, clock.Now, discard())
	g := h.Generation()
	clock.Advance(time.Minute)
	if h.Generation() != g {
		t.Fatal("the generation of a history nobody else writes moved with time")
	}
	h.SetSharedStore(30 * time.Second)
	g = h.Generation()
	clock.Advance(30 * time.Second)
	if h.Generation() == g {
		t.Errorf("the shared history's generation stayed %d for 30 s", g)
	}
}
