package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// LeaseStore keeps the leases of work that runs on one console replica at
// a time; *db.Store is one.
type LeaseStore interface {
	// AcquireLease takes or renews name for holder until until and reports
	// whether holder has it (free, already holder's, or expired at now).
	AcquireLease(ctx context.Context, name, holder string, now, until time.Time) (bool, error)
	// ReleaseLease gives up name if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
	// ReleaseLeases gives up every lease of holder.
	ReleaseLeases(ctx context.Context, holder string) error
	// HeldLeases returns the unexpired leases of holder.
	HeldLeases(ctx context.Context, holder string, now time.Time) ([]string, error)
}

// DefaultLeaseTTL is how long a lease lasts without renewal: a replica that
// dies holds its work up to this long before another takes it over.
const DefaultLeaseTTL = time.Minute

// Leases lets several console replicas on one database share background
// work: each account's report sync and alert evaluation runs on the one
// replica that holds its lease, which it renews while the work runs and
// gives up when it ends. A replica that dies stops renewing, so its leases
// expire within the TTL and the next replica to try takes the work over.
// With one console (SQLite) every lease is simply free.
type Leases struct {
	store  LeaseStore
	holder string
	ttl    time.Duration
	now    func() time.Time
}

// ErrLeaseHeld says that another replica holds the lease of the work.
var ErrLeaseHeld = errors.New("held by another replica")

// NewLeases returns the leases of this process (a random holder name) with
// leases lasting ttl (DefaultLeaseTTL when 0).
func NewLeases(store LeaseStore, ttl time.Duration, now func() time.Time) *Leases {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &Leases{store: store, holder: "replica-" + rand.Text()[:12], ttl: ttl, now: now}
}

// Holder is this replica's name in the lease table.
func (l *Leases) Holder() string { return l.holder }

// Run does fn while holding the lease name: it takes the lease (or returns
// an error wrapping ErrLeaseHeld without calling fn when another replica
// holds it), renews it every third of the TTL while fn runs, and gives it
// up when fn returns. If a renewal finds the lease lost, fn's context is
// cancelled. A nil Leases runs fn at once.
func (l *Leases) Run(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	if l == nil {
		return fn(ctx)
	}
	now := l.now()
	ok, err := l.store.AcquireLease(ctx, name, l.holder, now, now.Add(l.ttl))
	if err != nil {
		return fmt.Errorf("lease %s: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("lease %s: %w", name, ErrLeaseHeld)
	}
	work, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := l.renew(work, name, cancel)
	err = fn(work)
	stop()
	if rerr := l.store.ReleaseLease(context.WithoutCancel(ctx), name, l.holder); rerr != nil && err == nil {
		err = fmt.Errorf("lease %s: %w", name, rerr)
	}
	return err
}

// renew renews the lease name every third of the TTL until the returned
// func is called (which waits for the renewals to end, so none comes after
// a release) or ctx ends. A renewal that finds the lease taken calls lost,
// when set, and renews no more.
func (l *Leases) renew(ctx context.Context, name string, lost context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				now := l.now()
				ok, err := l.store.AcquireLease(ctx, name, l.holder, now, now.Add(l.ttl))
				if err == nil && !ok {
					if lost != nil {
						lost(fmt.Errorf("lease %s: lost: %w", name, ErrLeaseHeld))
					}
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-renewed
	}
}

// Hold waits until it holds the lease name (checking every holdPoll, as
// long as ctx allows) and returns the func that gives it up: for a short
// step that must not run on two replicas at once, such as starting a
// configuration's backup. The lease is renewed while held, as Run's is, so
// a step slower than the TTL (a slow Cloud Backup API, a short
// RCBU_WEB_LEASE_TTL) still holds it. A nil Leases holds nothing.
func (l *Leases) Hold(ctx context.Context, name string) (func(), error) {
	if l == nil {
		return func() {}, nil
	}
	for {
		now := l.now()
		ok, err := l.store.AcquireLease(ctx, name, l.holder, now, now.Add(l.ttl))
		if err != nil {
			return nil, fmt.Errorf("lease %s: %w", name, err)
		}
		if ok {
			stop := l.renew(context.WithoutCancel(ctx), name, nil)
			return func() {
				stop()
				_ = l.store.ReleaseLease(context.WithoutCancel(ctx), name, l.holder)
			}, nil
		}
		t := time.NewTimer(holdPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lease %s: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// holdPoll is how often Hold asks again for a lease another replica holds.
const holdPoll = 50 * time.Millisecond

// Held returns the names of the leases this replica holds now.
func (l *Leases) Held(ctx context.Context) ([]string, error) {
	if l == nil {
		return []string{}, nil
	}
	names, err := l.store.HeldLeases(ctx, l.holder, l.now())
	if err != nil {
		return nil, fmt.Errorf("leases: %w", err)
	}
	return names, nil
}

// ReleaseAll gives up every lease of this replica, so that a replica shutting
// down hands its work over at once rather than after the TTL.
func (l *Leases) ReleaseAll(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if err := l.store.ReleaseLeases(ctx, l.holder); err != nil {
		return fmt.Errorf("leases: %w", err)
	}
	return nil
}
