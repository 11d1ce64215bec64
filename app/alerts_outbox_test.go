package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/pgtest"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/notify"
)

// queueNotices stores n test notices to channel c, due at the clock's now,
// and returns their IDs in order.
func (ae *alertsEnv) queueNotices(t *testing.T, c app.Channel, n int) []app.DeliveryID {
	t.Helper()
	now := ae.clock.Now()
	var ids []app.DeliveryID
	for i := range n {
		title := fmt.Sprintf("notice %d to %s", i, c.Name)
		payload, err := json.Marshal(app.Notice{Event: app.EventTest, AccountID: ae.account.ID, Account: ae.account.Name, Title: title, Text: title})
		if err != nil {
			t.Fatal(err)
		}
		d, err := ae.store.EnqueueDelivery(t.Context(), app.Delivery{ChannelID: c.ID, Event: app.EventTest, Title: title, Payload: payload,
			Status: app.DeliveryPending, NextAttempt: now, Created: now})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// countingReceiver is a webhook receiver that counts the requests per
// delivery ID and runs during (before answering) each request.
type countingReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[app.DeliveryID]int
	order  []app.DeliveryID
}

func newCountingReceiver(t *testing.T, during func(r *http.Request)) *countingReceiver {
	t.Helper()
	cr := &countingReceiver{counts: map[app.DeliveryID]int{}}
	cr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.Header.Get(notify.HeaderDelivery), 10, 64)
		if err != nil {
			http.Error(w, "no delivery ID", http.StatusBadRequest)
			return
		}
		cr.mu.Lock()
		cr.counts[app.DeliveryID(id)]++
		cr.order = append(cr.order, app.DeliveryID(id))
		cr.mu.Unlock()
		if during != nil {
			during(r)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(cr.srv.Close)
	return cr
}

func (cr *countingReceiver) received() (map[app.DeliveryID]int, []app.DeliveryID) {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	counts := map[app.DeliveryID]int{}
	for id, n := range cr.counts {
		counts[id] = n
	}
	return counts, append([]app.DeliveryID(nil), cr.order...)
}

// A receiver that holds its answers delays only its own channel: the other
// channel's notice arrives while the slow one's first request is still
// held, and each channel's notices arrive in the order they were queued.
func TestSlowChannelHoldsUpNoOther(t *testing.T) {
	ae := newAlertsEnv(t)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	slow := newCountingReceiver(t, func(r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(free) // before the receiver closes
	fast := newCountingReceiver(t, nil)
	slowCh := ae.webhook(t, slow.srv.URL)
	fastCh := ae.webhook(t, fast.srv.URL)
	// The slow channel's notices are claimed first.
	slowIDs := ae.queueNotices(t, slowCh, 3)
	fastIDs := ae.queueNotices(t, fastCh, 3)
	alerts := ae.newAlerts(app.AlertsOptions{Now: ae.clock.Now, Log: discard(), SendTimeout: 10 * time.Minute, ClaimWindow: time.Hour})

	done := make(chan error, 1)
	go func() {
		_, err := alerts.DispatchDue(t.Context())
		done <- err
	}()
	poll.Until(t, "the slow receiver's first request and, while it is held, the other channel's notices", func() bool {
		_, gotFast := fast.received()
		_, gotSlow := slow.received()
		return len(gotFast) == len(fastIDs) && len(gotSlow) > 0
	})
	if _, got := slow.received(); len(got) != 1 {
		t.Fatalf("the slow receiver got %d requests while holding its first; want 1", len(got))
	}
	free()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    *countingReceiver
		want []app.DeliveryID
	}{{"slow", slow, slowIDs}, {"fast", fast, fastIDs}} {
		_, got := tc.r.received()
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("the %s receiver got %v; want %v in that order", tc.name, got, tc.want)
		}
	}
}

// Two replicas on one store, each claim shorter than the sends of a batch:
// every notice reaches the receiver exactly once. Each request moves the
// shared clock on 10 s (a slow receiver); the first request still waiting
// for its answer once the first replica's claim has run out makes the
// second run its outbox meanwhile, as it would on another machine. The
// first replica gives back what it has no time left to send, and the
// replicas then send that once.
func TestReplicasSendEachNoticeOnce(t *testing.T) {
	for _, store := range []struct {
		name string
		open func(t *testing.T) *env
	}{
		{"sqlite", newEnv},
		{"postgres", func(t *testing.T) *env {
			dsn, _ := pgtest.Schema(t)
			return newEnvAt(t, dsn)
		}},
	} {
		t.Run(store.name, func(t *testing.T) { replicasSendEachNoticeOnce(t, newAlertsEnvOn(t, store.open(t))) })
	}
}

func replicasSendEachNoticeOnce(t *testing.T, ae *alertsEnv) {
	opts := app.AlertsOptions{Now: ae.clock.Now, Log: discard(), SendTimeout: 20 * time.Second, ClaimWindow: time.Minute}
	first, second := ae.newAlerts(opts), ae.newAlerts(opts)
	claimEnd := ae.clock.Now().Add(opts.ClaimWindow)
	var secondRan atomic.Bool
	var secondErr error
	rec := newCountingReceiver(t, func(r *http.Request) {
		ae.clock.Advance(10 * time.Second)
		if !ae.clock.Now().Before(claimEnd) && secondRan.CompareAndSwap(false, true) {
			_, secondErr = second.DispatchDue(r.Context())
		}
	})
	c := ae.webhook(t, rec.srv.URL)
	ids := ae.queueNotices(t, c, 8)

	n, err := first.DispatchDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n == len(ids) {
		t.Fatalf("the first replica took %d of %d notices; want some given back", n, len(ids))
	}
	// Either replica sends what was given back, once it is due.
	for range 10 {
		if _, err := second.DispatchDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := first.DispatchDue(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if secondErr != nil {
		t.Fatal(secondErr)
	}
	counts, order := rec.received()
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("delivery %d reached the receiver %d times; want once", id, counts[id])
		}
	}
	if len(order) != len(ids) {
		t.Errorf("the receiver got %d requests; want %d", len(order), len(ids))
	}
	for _, d := range ae.log(t, c) {
		if d.Status != app.DeliverySent || d.Attempts != 1 {
			t.Errorf("delivery %d: %s after %d attempts; want sent after 1", d.ID, d.Status, d.Attempts)
		}
	}
}
