package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// DigestRun is one failed run listed in a digest.
type DigestRun struct {
	JobID    int64     `json:"backup_id"`
	Config   string    `json:"configuration"`
	Agent    string    `json:"agent"`
	State    string    `json:"state"`
	Finished time.Time `json:"finished"`
}

// ConfigGrowth is how much a configuration backed up in a digest's period
// and in the period before.
type ConfigGrowth struct {
	ConfigID  rcbu.ConfigurationID `json:"configuration_id"`
	Config    string               `json:"configuration"`
	Agent     string               `json:"agent"`
	Bytes     int64                `json:"bytes"`
	PrevBytes int64                `json:"previous_bytes"`
}

// Increase is Bytes − PrevBytes.
func (g ConfigGrowth) Increase() int64 { return g.Bytes - g.PrevBytes }

// DigestStats summarises the backup snapshots of one period.
type DigestStats struct {
	Runs       int   `json:"runs"`
	Completed  int   `json:"completed"`
	WithErrors int   `json:"completed_with_errors"`
	Failed     int   `json:"failed"`
	Missed     int   `json:"missed"`
	Skipped    int   `json:"skipped"`
	Stopped    int   `json:"stopped"`
	Bytes      int64 `json:"bytes_backed_up"`
	// PrevBytes is what the period before, of the same length, backed up.
	PrevBytes int64 `json:"previous_bytes_backed_up"`
	// Failures are the runs that failed or were missed, newest first (at
	// most 20).
	Failures []DigestRun `json:"failures"`
	// Growth lists the configurations whose bytes grew most over the
	// previous period (at most 5).
	Growth []ConfigGrowth `json:"growth"`
}

// Digest is the periodic summary of an account: runs, failures, overdue
// configurations, offline agents and growth.
type Digest struct {
	Frequency DigestFrequency `json:"frequency"`
	Account   string          `json:"account"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	DigestStats
	// Overdue and Offline are the titles of the open incidents of those rules.
	Overdue []string `json:"overdue"`
	Offline []string `json:"offline"`
}

// Period is how long a digest covers: a day or a week (a day when off,
// for "send now").
func (f DigestFrequency) Period() time.Duration {
	if f == DigestWeekly {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// DigestSlot returns the latest scheduled digest time at or before now:
// today's (or this week's) DigestHour in UTC.
func DigestSlot(st AlertSettings, now time.Time) time.Time {
	now = now.UTC()
	slot := time.Date(now.Year(), now.Month(), now.Day(), st.DigestHour, 0, 0, 0, time.UTC)
	if st.DigestFrequency == DigestWeekly {
		slot = slot.AddDate(0, 0, -((int(now.Weekday()) - int(st.DigestWeekday) + 7) % 7))
	}
	if slot.After(now) {
		if st.DigestFrequency == DigestWeekly {
			slot = slot.AddDate(0, 0, -7)
		} else {
			slot = slot.AddDate(0, 0, -1)
		}
	}
	return slot
}

// Text renders the digest as plain text (email, Slack).
func (d Digest) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Backups of %s from %s to %s\n\n", d.Account, d.From.UTC().Format("2006-01-02 15:04"), d.To.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Runs: %d (completed %d, with errors %d, failed %d, missed %d, skipped %d, stopped %d)\n",
		d.Runs, d.Completed, d.WithErrors, d.Failed, d.Missed, d.Skipped, d.Stopped)
	fmt.Fprintf(&b, "Backed up: %s (the period before: %s)\n", byteSize(d.Bytes), byteSize(d.PrevBytes))
	section := func(title string, lines []string, empty string) {
		fmt.Fprintf(&b, "\n%s\n", title)
		if len(lines) == 0 {
			fmt.Fprintf(&b, "  %s\n", empty)
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	var fails []string
	for _, f := range d.Failures {
		fails = append(fails, fmt.Sprintf("%s on %s: %s at %s (backup %d)", f.Config, f.Agent, f.State, f.Finished.UTC().Format("2006-01-02 15:04"), f.JobID))
	}
	section("Failures", fails, "None.")
	section("Overdue configurations", d.Overdue, "None.")
	section("Agents offline", d.Offline, "None.")
	var growth []string
	for _, g := range d.Growth {
		growth = append(growth, fmt.Sprintf("%s on %s: %s (the period before: %s)", g.Config, g.Agent, byteSize(g.Bytes), byteSize(g.PrevBytes)))
	}
	section("Largest growth", growth, "No configuration backed up more than the period before.")
	return b.String()
}

// Digest builds the digest of an account for [from, to).
func (a *Alerts) Digest(ctx context.Context, account Account, freq DigestFrequency, from, to time.Time) (Digest, error) {
	stats, err := a.store.DigestStats(ctx, account.ID, from, to)
	if err != nil {
		return Digest{}, fmt.Errorf("digest: %w", err)
	}
	open, err := a.store.OpenIncidents(ctx, account.ID)
	if err != nil {
		return Digest{}, fmt.Errorf("digest: %w", err)
	}
	d := Digest{Frequency: freq, Account: account.Name, From: from.UTC(), To: to.UTC(), DigestStats: stats}
	for _, inc := range open {
		switch inc.Rule {
		case RuleOverdue:
			d.Overdue = append(d.Overdue, inc.Title)
		case RuleAgentOffline:
			d.Offline = append(d.Offline, inc.Title)
		}
	}
	return d, nil
}

// queueDigest builds the digest for [to−period, to) and queues it to the
// account's digest channel.
func (a *Alerts) queueDigest(ctx context.Context, account Account, st AlertSettings, to time.Time) (Delivery, error) {
	c, err := a.channelOf(ctx, account.ID, st.DigestChannel)
	if err != nil {
		return Delivery{}, err
	}
	freq := st.DigestFrequency
	if freq == DigestOff {
		freq = DigestDaily
	}
	d, err := a.Digest(ctx, account, freq, to.Add(-freq.Period()), to)
	if err != nil {
		return Delivery{}, err
	}
	now := a.opts.Now().UTC()
	label := "Daily"
	if freq == DigestWeekly {
		label = "Weekly"
	}
	n := Notice{Event: EventDigest, AccountID: account.ID, Account: account.Name, OpenedAt: now, Digest: &d,
		Title: fmt.Sprintf("%s backup digest of %s: %d runs, %d failed", label, account.Name, d.Runs, d.Failed+d.Missed)}
	return a.enqueue(ctx, c, n, now, now)
}

// SendDueDigests queues the digest of every account whose scheduled time
// has come since the last one, and returns how many it queued.
func (a *Alerts) SendDueDigests(ctx context.Context) (int, error) {
	accts, err := a.accounts.List(ctx)
	if err != nil {
		return 0, fmt.Errorf("digests: %w", err)
	}
	now := a.opts.Now()
	queued := 0
	for _, ac := range accts {
		st, err := a.store.EnsureAlertSettings(ctx, ac.ID, now)
		if err != nil {
			return queued, fmt.Errorf("digests: %w", err)
		}
		if st.DigestFrequency == DigestOff || st.DigestChannel == 0 {
			continue
		}
		slot := DigestSlot(st, now)
		if !st.DigestLast.Before(slot) {
			continue
		}
		if _, err := a.queueDigest(ctx, ac, st, slot); err != nil {
			return queued, fmt.Errorf("digests: account %d: %w", ac.ID, err)
		}
		st.DigestLast = slot
		if err := a.store.SaveAlertSettings(ctx, st); err != nil {
			return queued, fmt.Errorf("digests: %w", err)
		}
		queued++
	}
	return queued, nil
}

// SendDigestNow queues the account's digest over the last period to its
// digest channel at once (Admins only, audit-logged).
func (a *Alerts) SendDigestNow(ctx context.Context, actor User, account Account) (Delivery, error) {
	if err := requireAdmin(actor, "send digest"); err != nil {
		return Delivery{}, err
	}
	now := a.opts.Now()
	target := fmt.Sprintf("digest of account %d (%s)", account.ID, account.Name)
	st, err := a.store.EnsureAlertSettings(ctx, account.ID, now)
	if err != nil {
		return Delivery{}, fmt.Errorf("send digest: %w", err)
	}
	if st.DigestChannel == 0 {
		err := Invalid("digest_channel", "Choose the channel the digest goes to and save first.")
		a.audit.Record(ctx, actorEntry(actor, ActionDigestSend, target, err))
		return Delivery{}, fmt.Errorf("send digest: %w", err)
	}
	d, err := a.queueDigest(ctx, account, st, now)
	a.audit.Record(ctx, actorEntry(actor, ActionDigestSend, target, err, "queued"))
	if err != nil {
		return Delivery{}, fmt.Errorf("send digest: %w", err)
	}
	kick(a.sendKick)
	return d, nil
}
