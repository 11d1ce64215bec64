package rcbu

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// jobHandle is what the Backup and Restore handles share: the last status
// seen (S) and, once the job is done and the report was fetched, the report
// (R). Stored values are private copies and never modified, so a pointer
// read under mu may be used after mu is released.
type jobHandle[S, R any] struct {
	done func(*S) bool // whether a status is final

	mu     sync.Mutex
	status *S
	report *R
}

// setStatus records a copy of st as the last status seen; with also, it
// runs also under the same lock (to update the handle's exported fields
// together with the status).
func (h *jobHandle[S, R]) setStatus(st *S, also func()) {
	cp := *st
	h.mu.Lock()
	h.status = &cp
	if also != nil {
		also()
	}
	h.mu.Unlock()
}

// last returns the last status seen (nil before the first one). The caller
// must not modify it.
func (h *jobHandle[S, R]) last() *S {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status
}

// lastCopy returns a copy of the last status seen, or nil.
func (h *jobHandle[S, R]) lastCopy() *S {
	st := h.last()
	if st == nil {
		return nil
	}
	cp := *st
	return &cp
}

// loadReport returns the report once the job is done and ErrNotDone while
// it is not. When the last status seen is not final it refreshes it first;
// the report is fetched once and then kept.
func (h *jobHandle[S, R]) loadReport(ctx context.Context, refresh func(context.Context) (*S, error), fetch func(context.Context) (*R, error)) (*R, error) {
	h.mu.Lock()
	r, st := h.report, h.status
	h.mu.Unlock()
	if r != nil {
		return r, nil
	}
	if st == nil || !h.done(st) {
		var err error
		if st, err = refresh(ctx); err != nil {
			return nil, err
		}
		if !h.done(st) {
			return nil, ErrNotDone
		}
	}
	r, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.report = r
	h.mu.Unlock()
	return r, nil
}

// waitDone polls refresh every interval (5 s when ≤ 0) until done reports
// true (returning that value), refresh fails or ctx ends (returning the
// error).
func waitDone[T any](ctx context.Context, c *Client, interval time.Duration, refresh func(context.Context) (*T, error), done func(*T) bool) (*T, error) {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	for {
		st, err := refresh(ctx)
		if err != nil {
			return nil, err
		}
		if done(st) {
			return st, nil
		}
		if err := c.sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("rcbu: wait: %w", err)
		}
	}
}
