package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Sender delivers notices to one channel. status is the receiver's answer
// (an HTTP status or an SMTP reply code), 0 when none came; the error says
// in words why the notice was not delivered.
type Sender interface {
	Send(ctx context.Context, id DeliveryID, n Notice) (status int, err error)
}

// SenderFactory makes the Sender of a channel from its settings and its
// opened secret; *notify.Senders is one.
type SenderFactory interface {
	Sender(c Channel, secret string) (Sender, error)
}

// sendLoop delivers due notices, then sleeps until the next is due (at
// most a minute) or something new is queued.
func (a *Alerts) sendLoop(ctx context.Context) {
	for {
		for {
			n, err := a.DispatchDue(ctx)
			if err != nil {
				if ctx.Err() == nil {
					a.opts.Log.WarnContext(ctx, "alert_dispatch_failed", slog.Any("err", err))
				}
				break
			}
			if n < dispatchBatch {
				break
			}
		}
		wait := time.Minute
		if next, ok, err := a.store.NextDeliveryAt(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(a.opts.Now()), 100*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-a.sendKick:
			t.Stop()
		case <-t.C:
		}
	}
}

// saveMargin is the time left, after an attempt's longest send, for its
// outcome to be saved before the claim runs out.
const saveMargin = 5 * time.Second

// DispatchDue attempts the deliveries that are due, oldest first (up to one
// batch), and returns how many it took: attempted, or dropped with their
// deleted channel. A failed attempt is retried after
// RetryBase·2^(attempts−1), capped at RetryMax, until MaxAttempts.
//
// Each channel's deliveries are sent in order, one at a time, while up to
// channelsAtOnce channels are sent to at once, so a slow receiver holds up
// only its own channel.
//
// The batch is claimed for ClaimWindow; after that another replica may
// claim what is still pending. So a delivery is attempted only if its send,
// cut at SendTimeout, and the save of its outcome (saveMargin) end before
// the claim does: no two replicas attempt one delivery at once, and an
// attempt's outcome is saved before another may claim it. The
// first one of a channel that cannot be attempted in time, and the rest of
// that channel's, are given back at once (due again when they were), for
// this or another replica to take next; so are those left when ctx ends or
// the store fails.
func (a *Alerts) DispatchDue(ctx context.Context) (int, error) {
	now := a.opts.Now()
	// The store keeps whole seconds; the claim ends where the store says.
	until := now.Add(a.opts.ClaimWindow).Truncate(time.Second)
	due, err := a.store.ClaimDueDeliveries(ctx, now, until, dispatchBatch)
	if err != nil {
		return 0, fmt.Errorf("dispatch: %w", err)
	}
	var order []ChannelID
	byChannel := map[ChannelID][]Delivery{}
	for _, d := range due {
		if _, ok := byChannel[d.ChannelID]; !ok {
			order = append(order, d.ChannelID)
		}
		byChannel[d.ChannelID] = append(byChannel[d.ChannelID], d)
	}
	var g errgroup.Group
	g.SetLimit(channelsAtOnce)
	var taken atomic.Int64
	for _, id := range order {
		g.Go(func() error {
			n, err := a.sendChannel(ctx, id, byChannel[id], until)
			taken.Add(int64(n))
			return err
		})
	}
	err = g.Wait()
	return int(taken.Load()), err
}

// sendChannel attempts one channel's claimed deliveries in order, while
// an attempt still ends before the claim does (until), and gives back
// the ones it does not attempt. It returns how many it took.
func (a *Alerts) sendChannel(ctx context.Context, id ChannelID, list []Delivery, until time.Time) (int, error) {
	c, err := a.store.Channel(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return len(list), nil // deleted meanwhile: its deliveries went with it
	}
	if err != nil {
		return 0, errors.Join(fmt.Errorf("dispatch: %w", err), a.giveBack(ctx, list, until))
	}
	for i, d := range list {
		if ctx.Err() != nil {
			return i, errors.Join(ctx.Err(), a.giveBack(ctx, list[i:], until))
		}
		if a.opts.Now().Add(a.opts.SendTimeout + saveMargin).After(until) {
			return i, a.giveBack(ctx, list[i:], until)
		}
		if _, err := a.attempt(ctx, c, d, a.opts.MaxAttempts); err != nil {
			return i + 1, errors.Join(err, a.giveBack(ctx, list[i+1:], until))
		}
	}
	return len(list), nil
}

// giveBack ends this replica's claim (up to until) on deliveries it will
// not attempt, even when ctx has ended, so that they need not wait for the
// claim to run out.
func (a *Alerts) giveBack(ctx context.Context, list []Delivery, until time.Time) error {
	if len(list) == 0 {
		return nil
	}
	if _, err := a.store.GiveBackDeliveries(context.WithoutCancel(ctx), until, list); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	return nil
}

// attempt sends one delivery once and saves the outcome: sent, pending
// with the next attempt scheduled, or failed after maxAttempts (or at once
// when retrying cannot help). The returned error is a store failure; a
// failed send is in the delivery.
func (a *Alerts) attempt(ctx context.Context, c Channel, d Delivery, maxAttempts int) (Delivery, error) {
	now := a.opts.Now()
	d.Attempts++
	status, final, sendErr := a.send(ctx, c, d)
	d.LastStatus = status
	switch {
	case sendErr == nil:
		d.Status, d.Sent, d.LastError = DeliverySent, a.opts.Now(), ""
	case final || d.Attempts >= maxAttempts:
		d.Status, d.LastError = DeliveryFailed, truncate(sendErr.Error(), 500)
	default:
		d.Status, d.LastError = DeliveryPending, truncate(sendErr.Error(), 500)
		d.NextAttempt = now.Add(backoff(a.opts.RetryBase, a.opts.RetryMax, d.Attempts))
	}
	// Record the attempt even when ctx ended while sending.
	if err := a.store.SaveAttempt(context.WithoutCancel(ctx), d); err != nil {
		return d, fmt.Errorf("dispatch: %w", err)
	}
	if sendErr != nil {
		a.opts.Log.WarnContext(ctx, "alert_delivery_failed", slog.Int64("delivery_id", int64(d.ID)), slog.Int64("channel_id", int64(c.ID)),
			slog.Int("attempts", d.Attempts), slog.String("status", string(d.Status)), slog.String("err", d.LastError))
	}
	return d, nil
}

// truncate cuts s to at most n runes, marking the cut: a delivery keeps
// only the start of a long error.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// send makes one attempt. final reports an error that retrying cannot fix.
func (a *Alerts) send(ctx context.Context, c Channel, d Delivery) (status int, final bool, err error) {
	if !c.Enabled && d.Event != EventTest {
		return 0, true, errors.New("the channel is disabled")
	}
	var n Notice
	if err := json.Unmarshal(d.Payload, &n); err != nil {
		return 0, true, fmt.Errorf("the stored notice is unreadable: %w", err)
	}
	n.IncidentID = d.IncidentID
	s, err := a.sender(c)
	if err != nil {
		return 0, true, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.SendTimeout)
	defer cancel()
	status, err = s.Send(ctx, d.ID, n)
	return status, false, err
}

// sender builds the channel's sender with its secret opened.
func (a *Alerts) sender(c Channel) (Sender, error) {
	secret := ""
	if c.HasSecret() {
		p, err := a.sealer.Open(c.SecretSealed, []byte(channelSecretAAD))
		if err != nil {
			return nil, errors.New("the channel's secret cannot be read (was the app secret changed?); enter it again")
		}
		secret = string(p)
	}
	return a.senders.Sender(c, secret)
}

// enqueue stores a notice for a channel as a pending delivery due at due.
func (a *Alerts) enqueue(ctx context.Context, c Channel, n Notice, now, due time.Time) (Delivery, error) {
	payload, err := json.Marshal(n)
	if err != nil {
		return Delivery{}, err
	}
	return a.store.EnqueueDelivery(ctx, Delivery{ChannelID: c.ID, Event: n.Event, Title: n.Subject(), Payload: payload,
		Status: DeliveryPending, NextAttempt: due, Created: now})
}

// DeliveryPage is one page of a channel's delivery log, newest first.
type DeliveryPage struct {
	Channel    Channel
	Deliveries []Delivery
	HasOlder   bool
}

// Deliveries returns a page of a channel's delivery log (Creators and
// Admins: they run the jobs the alerts are about; Observers see incidents
// only). before pages to older entries.
func (a *Alerts) Deliveries(ctx context.Context, actor User, account AccountID, id ChannelID, before DeliveryID, limit int) (DeliveryPage, error) {
	if err := permitOn(actor, account, RoleCreator); err != nil {
		return DeliveryPage{}, fmt.Errorf("delivery log: %w", err)
	}
	c, err := a.channelOf(ctx, account, id)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("delivery log: %w", err)
	}
	if limit <= 0 || limit > maxDeliveryPage {
		limit = defaultDeliveryPage
	}
	list, err := a.store.ListDeliveries(ctx, c.ID, before, limit+1)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("delivery log: %w", err)
	}
	p := DeliveryPage{Channel: c, Deliveries: list}
	if len(list) > limit {
		p.Deliveries, p.HasOlder = list[:limit], true
	}
	return p, nil
}
