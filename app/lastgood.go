package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// LastGoodFor is how long a replica may answer from its last good read of
// a session, a user or the accounts while the store is unavailable: long
// enough to ride out a database restart or fail-over, short enough that
// what changed meanwhile elsewhere is not served for long.
const LastGoodFor = 15 * time.Minute

// lastGood remembers the last value read from the store under each key, and
// gives it back only while the store answers ErrUnavailable and for at most
// LastGoodFor after it was read. A nil lastGood remembers nothing.
type lastGood[K comparable, V any] struct {
	now func() time.Time

	mu        sync.Mutex
	m         map[K]lastGoodEntry[V]
	lastSweep time.Time
}

type lastGoodEntry[V any] struct {
	val V
	at  time.Time
}

func newLastGood[K comparable, V any](now func() time.Time) *lastGood[K, V] {
	return &lastGood[K, V]{now: now, m: map[K]lastGoodEntry[V]{}}
}

// read passes one store read through: a value read is remembered, one that
// is not found any more is forgotten, and when the store is unavailable the
// remembered value (if young enough) is the answer, noted on ctx (StoreAway).
func (l *lastGood[K, V]) read(ctx context.Context, k K, v V, err error) (V, error) {
	if l == nil {
		return v, err
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.m[k] = lastGoodEntry[V]{val: v, at: now}
		if now.Sub(l.lastSweep) > LastGoodFor {
			for k, e := range l.m {
				if now.Sub(e.at) > LastGoodFor {
					delete(l.m, k)
				}
			}
			l.lastSweep = now
		}
	case errors.Is(err, ErrNotFound):
		delete(l.m, k)
	case errors.Is(err, ErrUnavailable):
		if e, ok := l.m[k]; ok && now.Sub(e.at) <= LastGoodFor && !now.Before(e.at) {
			noteStoreAway(ctx)
			return e.val, nil
		}
	}
	return v, err
}

// forget drops what is remembered under k (a session this replica ended).
func (l *lastGood[K, V]) forget(k K) {
	if l == nil {
		return
	}
	l.mu.Lock()
	delete(l.m, k)
	l.mu.Unlock()
}

// forgetIf drops every remembered value for which drop says so.
func (l *lastGood[K, V]) forgetIf(drop func(V) bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.m {
		if drop(e.val) {
			delete(l.m, k)
		}
	}
}

// storeAwayKey is the context key of a request's StoreAway note.
type storeAwayKey struct{}

// WithStoreWatch returns ctx with room for the note that something was
// answered from a last good read because the store was unavailable (or
// that a write was skipped for that reason); StoreAway reads it. The
// handlers give every request one, so a page can say the database is away.
func WithStoreWatch(ctx context.Context) context.Context {
	return context.WithValue(ctx, storeAwayKey{}, new(atomic.Bool))
}

// StoreAway reports whether, within ctx, the store was found unavailable
// and a last good read answered instead.
func StoreAway(ctx context.Context) bool {
	b, ok := ctx.Value(storeAwayKey{}).(*atomic.Bool)
	return ok && b.Load()
}

func noteStoreAway(ctx context.Context) {
	if b, ok := ctx.Value(storeAwayKey{}).(*atomic.Bool); ok {
		b.Store(true)
	}
}
