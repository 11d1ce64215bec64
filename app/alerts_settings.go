package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/rcbu"
)

// AlertSettingsRequest is the form input of an account's alert settings.
type AlertSettingsRequest struct {
	OfflineHours    string
	GrowthFactor    string
	DigestFrequency string
	DigestHour      string
	DigestWeekday   string
	DigestChannel   string
	// DefaultGrace is the account's overdue grace in minutes for
	// configurations without their own; empty: the built-in policy.
	DefaultGrace string
}

// Settings returns an account's alert settings and its channels (Admins only).
func (a *Alerts) Settings(ctx context.Context, actor User, account AccountID) (AlertSettings, []Channel, error) {
	if err := requireAdmin(actor, "alert settings"); err != nil {
		return AlertSettings{}, nil, err
	}
	st, err := a.store.EnsureAlertSettings(ctx, account, a.opts.Now())
	if err != nil {
		return AlertSettings{}, nil, fmt.Errorf("alert settings: %w", err)
	}
	chans, err := a.store.ListChannels(ctx, account)
	if err != nil {
		return AlertSettings{}, nil, fmt.Errorf("alert settings: %w", err)
	}
	return st, chans, nil
}

// UpdateSettings validates and saves an account's thresholds and digest
// schedule (Admins only, audit-logged). Turning the digest on or changing
// its schedule starts counting from now: the first one goes out at the
// next scheduled hour.
func (a *Alerts) UpdateSettings(ctx context.Context, actor User, account AccountID, req AlertSettingsRequest) (AlertSettings, error) {
	if err := requireAdmin(actor, "update alert settings"); err != nil {
		return AlertSettings{}, err
	}
	now := a.opts.Now().UTC()
	old, err := a.store.EnsureAlertSettings(ctx, account, now)
	if err != nil {
		return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
	}
	st := old
	v := validation{}
	if n, err := strconv.Atoi(strings.TrimSpace(req.OfflineHours)); err != nil || n < 1 || n > 8760 {
		v.add("offline_hours", "Enter a number of hours from 1 to 8760.")
	} else {
		st.OfflineHours = n
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(req.GrowthFactor), 64); err != nil || f < 1.5 || f > 1000 {
		v.add("growth_factor", "Enter a factor from 1.5 to 1000, e.g. 5.")
	} else {
		st.GrowthFactor = f
	}
	switch f := DigestFrequency(req.DigestFrequency); f {
	case DigestOff, DigestDaily, DigestWeekly:
		st.DigestFrequency = f
	default:
		v.add("digest_frequency", "Choose off, daily or weekly.")
	}
	if h, err := strconv.Atoi(req.DigestHour); err != nil || h < 0 || h > 23 {
		v.add("digest_hour", "Choose an hour from 0 to 23 (UTC).")
	} else {
		st.DigestHour = h
	}
	if d, err := strconv.Atoi(req.DigestWeekday); err != nil || d < 0 || d > 6 {
		v.add("digest_weekday", "Choose a day of the week.")
	} else {
		st.DigestWeekday = time.Weekday(d)
	}
	st.DigestChannel = 0
	if s := strings.TrimSpace(req.DigestChannel); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			v.add("digest_channel", "Choose a channel.")
		} else if _, err := a.channelOf(ctx, account, ChannelID(id)); errors.Is(err, ErrNotFound) {
			v.add("digest_channel", "Choose a channel of this account.")
		} else if err != nil {
			return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
		} else {
			st.DigestChannel = ChannelID(id)
		}
	}
	st.DefaultGrace, st.HasDefaultGrace = 0, false
	if g := strings.TrimSpace(req.DefaultGrace); g != "" {
		if n, err := strconv.Atoi(g); err != nil || n < 0 || n > maxGraceMinutes {
			v.add("default_grace", "Enter minutes from 0 to 525600, or leave empty for a quarter of each schedule's interval.")
		} else {
			st.DefaultGrace, st.HasDefaultGrace = time.Duration(n)*time.Minute, true
		}
	}
	if st.DigestFrequency != DigestOff && st.DigestChannel == 0 {
		v.add("digest_channel", "Choose the channel the digest goes to.")
	}
	target := fmt.Sprintf("alert settings of account %d", account)
	if err := v.err(); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, err))
		return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
	}
	if st.DigestFrequency != old.DigestFrequency || st.DigestHour != old.DigestHour || st.DigestWeekday != old.DigestWeekday {
		st.DigestLast = now
	}
	st.Updated = now
	if err := a.store.SaveAlertSettings(ctx, st); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, err))
		return AlertSettings{}, fmt.Errorf("update alert settings: %w", err)
	}
	grace := "built-in"
	if st.HasDefaultGrace {
		grace = ShortDuration(st.DefaultGrace)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, nil,
		fmt.Sprintf("offline after %d h; growth factor %g; digest %s at %02d:00 UTC; default grace %s", st.OfflineHours, st.GrowthFactor, st.DigestFrequency, st.DigestHour, grace)))
	a.Trigger(account)
	return st, nil
}

// GraceRow is one configuration on the overdue settings: its schedule, the
// default grace and its own, if set.
type GraceRow struct {
	Configuration FleetConfiguration
	Interval      time.Duration // 0: manual schedule, never overdue
	DefaultGrace  time.Duration
	Grace         time.Duration
	HasGrace      bool
}

// Graces lists the account's configurations with their overdue grace
// (Admins only). The API's trouble is a problem, not an error.
func (a *Alerts) Graces(ctx context.Context, actor User, account Account) ([]GraceRow, []AccountProblem, error) {
	if err := requireAdmin(actor, "overdue grace"); err != nil {
		return nil, nil, err
	}
	graces, err := a.store.OverdueGraces(ctx, account.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("overdue grace: %w", err)
	}
	cfgs, probs, err := a.fleet.Configurations(ctx, NewScope(account))
	if err != nil {
		return nil, nil, fmt.Errorf("overdue grace: %w", err)
	}
	st, err := a.store.EnsureAlertSettings(ctx, account.ID, a.opts.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("overdue grace: %w", err)
	}
	rows := make([]GraceRow, 0, len(cfgs))
	for _, fc := range cfgs {
		iv, _ := ConfigurationInterval(fc.Configuration)
		g, has := graces[fc.Configuration.ID]
		def := a.opts.Overdue.Grace(iv)
		if st.HasDefaultGrace {
			def = st.DefaultGrace
		}
		rows = append(rows, GraceRow{Configuration: fc, Interval: iv, DefaultGrace: def, Grace: g, HasGrace: has})
	}
	slices.SortFunc(rows, func(x, y GraceRow) int {
		return strings.Compare(strings.ToLower(x.Configuration.Configuration.Name), strings.ToLower(y.Configuration.Configuration.Name))
	})
	return rows, probs, nil
}

// maxGraceMinutes is a year.
const maxGraceMinutes = 525600

// SetGrace sets (minutes) or clears (empty) a configuration's own overdue
// grace (Admins only, audit-logged). The configuration must belong to the
// account.
func (a *Alerts) SetGrace(ctx context.Context, actor User, account Account, cfg rcbu.ConfigurationID, minutes string) error {
	if err := requireAdmin(actor, "set overdue grace"); err != nil {
		return err
	}
	fc, _, err := a.fleet.Configuration(ctx, NewScope(account), cfg)
	if err != nil {
		return fmt.Errorf("set overdue grace: %w", err)
	}
	target := fmt.Sprintf("overdue grace of configuration %d (%s)", cfg, fc.Configuration.Name)
	minutes = strings.TrimSpace(minutes)
	if minutes == "" {
		err := a.store.DeleteOverdueGrace(ctx, account.ID, cfg)
		a.audit.Record(ctx, actorEntry(actor, ActionOverdueGrace, target, err, "back to the default"))
		if err != nil {
			return fmt.Errorf("set overdue grace: %w", err)
		}
		a.Trigger(account.ID)
		return nil
	}
	n, perr := strconv.Atoi(minutes)
	if perr != nil || n < 0 || n > maxGraceMinutes {
		err := Invalid("grace", "Enter minutes from 0 to 525600, or leave empty for the default.")
		a.audit.Record(ctx, actorEntry(actor, ActionOverdueGrace, target, err))
		return fmt.Errorf("set overdue grace: %w", err)
	}
	err = a.store.SetOverdueGrace(ctx, account.ID, cfg, time.Duration(n)*time.Minute, a.opts.Now().UTC())
	a.audit.Record(ctx, actorEntry(actor, ActionOverdueGrace, target, err, fmt.Sprintf("%d min", n)))
	if err != nil {
		return fmt.Errorf("set overdue grace: %w", err)
	}
	a.Trigger(account.ID)
	return nil
}

// maxBulk bounds one bulk edit: a page of the settings table.
const maxBulk = 200

// BulkGraceRequest is the bulk edit of the overdue settings: the chosen
// configurations and what to do with them.
type BulkGraceRequest struct {
	Configs []string
	// Action is "grace" (set Minutes), "default" (back to the default
	// grace) or "snooze" (until Until, with Reason).
	Action  string
	Minutes string
	Until   string
	Reason  string
}

// BulkEdit applies one change to several configurations of the account
// (Admins only): their own overdue grace, back to the default, or a snooze.
// Every configuration must be the account's; the change is one audit entry
// per configuration for snoozes, one for graces. It returns how many
// configurations it changed.
func (a *Alerts) BulkEdit(ctx context.Context, actor User, account Account, loc *time.Location, req BulkGraceRequest) (int, error) {
	if err := requireAdmin(actor, "bulk edit"); err != nil {
		return 0, err
	}
	v := validation{}
	if len(req.Configs) == 0 {
		v.add("configs", "Select at least one configuration.")
	}
	if len(req.Configs) > maxBulk {
		v.add("configs", fmt.Sprintf("Select at most %d configurations at once.", maxBulk))
	}
	var ids []rcbu.ConfigurationID
	for _, raw := range req.Configs {
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || n <= 0 {
			v.add("configs", "A selected configuration is not one of this account's.")
			break
		}
		if !slices.Contains(ids, rcbu.ConfigurationID(n)) {
			ids = append(ids, rcbu.ConfigurationID(n))
		}
	}
	minutes := 0
	switch req.Action {
	case "grace":
		n, err := strconv.Atoi(strings.TrimSpace(req.Minutes))
		if err != nil || n < 0 || n > maxGraceMinutes {
			v.add("minutes", "Enter minutes from 0 to 525600.")
		}
		minutes = n
	case "default", "snooze":
	default:
		v.add("action", "Choose what to do with the selected configurations.")
	}
	target := fmt.Sprintf("%d configurations of account %d", len(ids), account.ID)
	if err := v.err(); err != nil {
		a.audit.Record(ctx, actorEntry(actor, ActionGraceBulk, target, err))
		return 0, fmt.Errorf("bulk edit: %w", err)
	}
	cfgs, _, err := a.fleet.Configurations(ctx, NewScope(account))
	if err != nil {
		return 0, fmt.Errorf("bulk edit: %w", err)
	}
	names := map[rcbu.ConfigurationID]string{}
	for _, fc := range cfgs {
		names[fc.Configuration.ID] = fc.Configuration.Name
	}
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			err := Invalid("configs", fmt.Sprintf("Configuration %d is not one of this account's (it may have been deleted); reload the page.", id))
			a.audit.Record(ctx, actorEntry(actor, ActionGraceBulk, target, err))
			return 0, fmt.Errorf("bulk edit: %w", err)
		}
	}
	now := a.opts.Now().UTC()
	if req.Action == "snooze" {
		for i, id := range ids {
			_, err := a.SnoozeUntil(ctx, actor, account.ID, loc, SnoozeRequest{Kind: string(SnoozeConfiguration), ID: strconv.FormatInt(int64(id), 10),
				Name: names[id], Until: req.Until, Reason: req.Reason})
			if err != nil {
				return i, err
			}
		}
		return len(ids), nil
	}
	detail := "back to the default"
	for _, id := range ids {
		if req.Action == "grace" {
			err = a.store.SetOverdueGrace(ctx, account.ID, id, time.Duration(minutes)*time.Minute, now)
		} else {
			err = a.store.DeleteOverdueGrace(ctx, account.ID, id)
		}
		if err != nil {
			break
		}
	}
	if req.Action == "grace" {
		detail = fmt.Sprintf("%d min", minutes)
	}
	a.audit.Record(ctx, actorEntry(actor, ActionGraceBulk, target, err, detail))
	if err != nil {
		return 0, fmt.Errorf("bulk edit: %w", err)
	}
	a.Trigger(account.ID)
	return len(ids), nil
}
