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
	a.audit.Record(ctx, actorEntry(actor, ActionAlertSettings, target, nil,
		fmt.Sprintf("offline after %d h; growth factor %g; digest %s at %02d:00 UTC", st.OfflineHours, st.GrowthFactor, st.DigestFrequency, st.DigestHour)))
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
	rows := make([]GraceRow, 0, len(cfgs))
	for _, fc := range cfgs {
		iv, _ := ConfigurationInterval(fc.Configuration)
		g, has := graces[fc.Configuration.ID]
		rows = append(rows, GraceRow{Configuration: fc, Interval: iv, DefaultGrace: a.opts.Overdue.Grace(iv), Grace: g, HasGrace: has})
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
