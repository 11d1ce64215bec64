package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// requireAdmin checks the role for changes.
func requireAdmin(actor User, op string) error {
	if !actor.Role.Allows(RoleAdmin) {
		return fmt.Errorf("%s: %w", op, ErrForbidden)
	}
	return nil
}

// channelOf returns channel id if it belongs to account, else ErrNotFound.
func (a *Alerts) channelOf(ctx context.Context, account AccountID, id ChannelID) (Channel, error) {
	if id <= 0 {
		return Channel{}, fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	c, err := a.store.Channel(ctx, id)
	if err != nil {
		return Channel{}, err
	}
	if c.AccountID != account {
		return Channel{}, fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return c, nil
}

func channelTarget(c Channel) string { return fmt.Sprintf("alert channel %d (%s)", c.ID, c.Name) }

// Channels lists an account's channels (Creators and Admins: the list
// carries no secret, and Creators reach the delivery logs from it).
func (a *Alerts) Channels(ctx context.Context, actor User, account AccountID) ([]Channel, error) {
	if err := permitOn(actor, account, RoleCreator); err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	list, err := a.store.ListChannels(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return list, nil
}

// Channel returns one channel of the account (Admins only).
func (a *Alerts) Channel(ctx context.Context, actor User, account AccountID, id ChannelID) (Channel, error) {
	if err := requireAdmin(actor, "get channel"); err != nil {
		return Channel{}, err
	}
	c, err := a.channelOf(ctx, account, id)
	if err != nil {
		return Channel{}, fmt.Errorf("get channel: %w", err)
	}
	return c, nil
}

// seal encrypts a channel secret.
func (a *Alerts) seal(secret string) ([]byte, error) {
	return a.sealer.Seal([]byte(secret), []byte(channelSecretAAD))
}

// CreateChannel validates and adds a channel to the account (Admins only,
// audit-logged).
func (a *Alerts) CreateChannel(ctx context.Context, actor User, account AccountID, req ChannelRequest) (Channel, error) {
	if err := requireAdmin(actor, "create channel"); err != nil {
		return Channel{}, err
	}
	now := a.opts.Now().UTC()
	c, secret, err := buildChannel(Channel{AccountID: account}, req)
	target := fmt.Sprintf("alert channel %q of account %d", strings.TrimSpace(req.Name), account)
	if err == nil && secret != "" {
		c.SecretSealed, err = a.seal(secret)
	}
	if err == nil {
		c.Created, c.Updated = now, now
		c, err = a.store.CreateChannel(ctx, c)
		err = nameTaken(err)
	}
	if err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionChannelCreate, target, err))
		return Channel{}, fmt.Errorf("create channel: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelCreate, channelTarget(c), nil, channelDetail(c)))
	return c, nil
}

// nameTaken turns the store's conflict into a message under the name.
func nameTaken(err error) error {
	if errors.Is(err, ErrConflict) {
		return Invalid("name", "This account already has a channel with that name.")
	}
	return err
}

func channelDetail(c Channel) string {
	rules := make([]string, 0, len(c.Rules))
	for _, r := range c.Rules {
		rules = append(rules, string(r))
	}
	state := "enabled"
	if !c.Enabled {
		state = "disabled"
	}
	return fmt.Sprintf("%s to %s; %s; rules: %s", c.Kind, c.Target(), state, cmp.Or(strings.Join(rules, ", "), "none"))
}

// UpdateChannel validates and saves an edited channel (Admins only,
// audit-logged). An empty secret keeps the stored one.
func (a *Alerts) UpdateChannel(ctx context.Context, actor User, account AccountID, id ChannelID, req ChannelRequest) (Channel, error) {
	if err := requireAdmin(actor, "update channel"); err != nil {
		return Channel{}, err
	}
	old, err := a.channelOf(ctx, account, id)
	if err != nil {
		return Channel{}, fmt.Errorf("update channel: %w", err)
	}
	c, secret, err := buildChannel(old, req)
	if err == nil && secret != "" {
		c.SecretSealed, err = a.seal(secret)
	}
	if err == nil {
		c.Updated = a.opts.Now().UTC()
		err = nameTaken(a.store.UpdateChannel(ctx, c))
	}
	if err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionChannelUpdate, channelTarget(old), err))
		return Channel{}, fmt.Errorf("update channel: %w", err)
	}
	detail := channelDetail(c)
	if secret != "" {
		detail += "; secret replaced"
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelUpdate, channelTarget(c), nil, detail))
	return c, nil
}

// DeleteChannel removes a channel and its delivery log (Admins only,
// audit-logged).
func (a *Alerts) DeleteChannel(ctx context.Context, actor User, account AccountID, id ChannelID) error {
	if err := requireAdmin(actor, "delete channel"); err != nil {
		return err
	}
	c, err := a.channelOf(ctx, account, id)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	if err := a.store.DeleteChannel(ctx, c.ID); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionChannelDelete, channelTarget(c), err))
		return fmt.Errorf("delete channel: %w", err)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelDelete, channelTarget(c), nil))
	return nil
}

// SendTest sends a test notice to a channel at once, one attempt, and
// returns the delivery as logged (Admins only, audit-logged). A failed
// send is not an error: the delivery says what went wrong.
func (a *Alerts) SendTest(ctx context.Context, actor User, account Account, id ChannelID) (Delivery, error) {
	if err := requireAdmin(actor, "send test"); err != nil {
		return Delivery{}, err
	}
	c, err := a.channelOf(ctx, account.ID, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	now := a.opts.Now().UTC()
	n := Notice{Event: EventTest, AccountID: account.ID, Account: account.Name, Title: "Test notice from RCBU Console",
		Text: fmt.Sprintf("%s sent this test to the channel %q. If you can read it, alerts will reach you here.", actor.Email, c.Name), OpenedAt: now}
	d, err := a.enqueue(ctx, c, n, now, now.Add(24*time.Hour*365)) // not picked up by the dispatcher: sent right here
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	d, err = a.attempt(ctx, c, d, 1)
	if err != nil {
		return Delivery{}, fmt.Errorf("send test: %w", err)
	}
	var sendErr error
	if d.Status != DeliverySent {
		sendErr = errors.New(d.LastError)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionChannelTest, channelTarget(c), sendErr, "test notice delivered"))
	return d, nil
}
