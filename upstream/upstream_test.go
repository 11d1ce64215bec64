package upstream_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/internal/poll"
	"github.com/rcbu-console/rcbu-console/upstream"
)

// budgetServer answers after hold is closed and records the most requests
// it had in flight at once.
type budgetServer struct {
	hold     chan struct{}
	inflight atomic.Int32
	maxIn    atomic.Int32
	url      string
}

func newBudgetServer(t *testing.T) *budgetServer {
	t.Helper()
	s := &budgetServer{hold: make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.inflight.Add(1)
		defer s.inflight.Add(-1)
		for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
		}
		if r.URL.Path == "/slow" {
			<-s.hold
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		select {
		case <-s.hold:
		default:
			close(s.hold)
		}
	})
	s.url = hs.URL
	return s
}

func budgetGet(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestBudgeted(t *testing.T) {
	t.Run("background calls never exceed the budget, and all finish", func(t *testing.T) {
		s := newBudgetServer(t)
		c := &http.Client{Transport: upstream.Budgeted(nil, app.NewUpstreamBudget(2))}
		ctx := app.Background(context.Background())
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() { errs <- budgetGet(ctx, c, s.url+"/slow") })
		}
		poll.Until(t, "two calls in flight", func() bool { return s.inflight.Load() == 2 })
		time.Sleep(20 * time.Millisecond) // give an over-budget call the chance to show
		close(s.hold)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if m := s.maxIn.Load(); m != 2 {
			t.Errorf("at most %d background calls in flight, want 2", m)
		}
	})

	t.Run("interactive calls pass while the background budget is used up", func(t *testing.T) {
		s := newBudgetServer(t)
		c := &http.Client{Transport: upstream.Budgeted(nil, app.NewUpstreamBudget(1))}
		bg := app.Background(context.Background())
		go budgetGet(bg, c, s.url+"/slow")
		poll.Until(t, "the background call in flight", func() bool { return s.inflight.Load() == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := budgetGet(ctx, c, s.url+"/fast"); err != nil {
			t.Fatalf("interactive call: %v", err)
		}
		// A Foreground context made from a background one is interactive too.
		if err := budgetGet(app.Foreground(bg), c, s.url+"/fast"); err != nil {
			t.Fatalf("foreground call: %v", err)
		}
		// Another background call waits for the slot until its context ends.
		wctx, wcancel := context.WithTimeout(bg, 50*time.Millisecond)
		defer wcancel()
		if err := budgetGet(wctx, c, s.url+"/fast"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("background call over budget: %v, want it to wait until its deadline", err)
		}
	})

}
