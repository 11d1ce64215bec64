package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/rcbu-console/rcbu-console/app"
	"github.com/rcbu-console/rcbu-console/rcbu"
)

// EnsureAlertSettings returns an account's alert settings, inserting the
// defaults with watch_since = now on first use.
func (s *Store) EnsureAlertSettings(ctx context.Context, account app.AccountID, now time.Time) (app.AlertSettings, error) {
	var st app.AlertSettings
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_settings (account_id, watch_since_unix, offline_hours, growth_factor)
			VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO NOTHING`,
			int64(account), unix(now), app.DefaultOfflineHours, app.DefaultGrowthFactor); err != nil {
			return err
		}
		var freq string
		var weekday int
		var channel sql.NullInt64
		var grace int64
		err := tx.QueryRowContext(ctx, `SELECT account_id, watch_since_unix, offline_hours, growth_factor, digest_frequency,
			digest_hour, digest_weekday, digest_channel_id, digest_last_unix, updated_unix,
			COALESCE((SELECT g.grace_minutes FROM alert_default_grace g WHERE g.account_id = alert_settings.account_id), -1)
			FROM alert_settings WHERE account_id = ?`, int64(account),
		).Scan(&st.AccountID, (*unixTime)(&st.WatchSince), &st.OfflineHours, &st.GrowthFactor, &freq,
			&st.DigestHour, &weekday, &channel, (*unixTime)(&st.DigestLast), (*unixTime)(&st.Updated), &grace)
		if grace >= 0 {
			st.DefaultGrace, st.HasDefaultGrace = time.Duration(grace)*time.Minute, true
		}
		st.DigestFrequency, st.DigestWeekday, st.DigestChannel = app.DigestFrequency(freq), time.Weekday(weekday), app.ChannelID(channel.Int64)
		return err
	})
	if err != nil {
		return app.AlertSettings{}, fmt.Errorf("db: alert settings of account %d: %w", account, err)
	}
	return st, nil
}

// SaveAlertSettings writes an account's alert settings (the row exists:
// EnsureAlertSettings made it).
func (s *Store) SaveAlertSettings(ctx context.Context, st app.AlertSettings) error {
	var channel any
	if st.DigestChannel != 0 {
		channel = int64(st.DigestChannel)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE alert_settings SET offline_hours = ?, growth_factor = ?, digest_frequency = ?,
			digest_hour = ?, digest_weekday = ?, digest_channel_id = ?, digest_last_unix = ?, updated_unix = ? WHERE account_id = ?`,
			st.OfflineHours, st.GrowthFactor, string(st.DigestFrequency), st.DigestHour, int(st.DigestWeekday), channel,
			unix(st.DigestLast), unix(st.Updated), int64(st.AccountID)); err != nil {
			return err
		}
		if !st.HasDefaultGrace {
			_, err := tx.ExecContext(ctx, `DELETE FROM alert_default_grace WHERE account_id = ?`, int64(st.AccountID))
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO alert_default_grace (account_id, grace_minutes) VALUES (?, ?)
			ON CONFLICT (account_id) DO UPDATE SET grace_minutes = excluded.grace_minutes`, int64(st.AccountID), int64(st.DefaultGrace/time.Minute))
		return err
	})
	if err != nil {
		return fmt.Errorf("db: save alert settings of account %d: %w", st.AccountID, err)
	}
	return nil
}

// OverdueGraces returns the per-configuration grace overrides of an account.
func (s *Store) OverdueGraces(ctx context.Context, account app.AccountID) (map[rcbu.ConfigurationID]time.Duration, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT config_id, grace_minutes FROM alert_overdue_grace WHERE account_id = ?`, int64(account))
	if err != nil {
		return nil, fmt.Errorf("db: overdue graces: %w", err)
	}
	defer rows.Close()
	out := map[rcbu.ConfigurationID]time.Duration{}
	for rows.Next() {
		var id, minutes int64
		if err := rows.Scan(&id, &minutes); err != nil {
			return nil, fmt.Errorf("db: overdue graces: %w", err)
		}
		out[rcbu.ConfigurationID(id)] = time.Duration(minutes) * time.Minute
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: overdue graces: %w", err)
	}
	return out, nil
}

// SetOverdueGrace stores a configuration's own grace.
func (s *Store) SetOverdueGrace(ctx context.Context, account app.AccountID, cfg rcbu.ConfigurationID, grace time.Duration, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO alert_overdue_grace (account_id, config_id, grace_minutes, updated_unix) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, config_id) DO UPDATE SET grace_minutes = excluded.grace_minutes, updated_unix = excluded.updated_unix`,
		int64(account), int64(cfg), int64(grace/time.Minute), unix(now))
	if err != nil {
		return fmt.Errorf("db: set overdue grace of configuration %d: %w", cfg, err)
	}
	return nil
}

// DeleteOverdueGrace removes a configuration's own grace, if any.
func (s *Store) DeleteOverdueGrace(ctx context.Context, account app.AccountID, cfg rcbu.ConfigurationID) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM alert_overdue_grace WHERE account_id = ? AND config_id = ?`, int64(account), int64(cfg)); err != nil {
		return fmt.Errorf("db: delete overdue grace of configuration %d: %w", cfg, err)
	}
	return nil
}

// TrackOffline records the agents seen offline (an existing row keeps its
// first-seen time) and forgets those seen online, then returns the
// first-seen time of every agent recorded as offline.
func (s *Store) TrackOffline(ctx context.Context, account app.AccountID, offline, online []rcbu.AgentID, now time.Time) (map[rcbu.AgentID]time.Time, error) {
	out := map[rcbu.AgentID]time.Time{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// One account's rows change in one transaction at a time: two
		// evaluations with different views of the agents would otherwise
		// take the rows' locks in opposite orders.
		if err := s.lockTx(ctx, tx, fmt.Sprintf("offline agents %d", account)); err != nil {
			return err
		}
		for _, id := range offline {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alert_agent_offline (account_id, agent_id, since_unix) VALUES (?, ?, ?)
				ON CONFLICT (account_id, agent_id) DO NOTHING`, int64(account), int64(id), unix(now)); err != nil {
				return err
			}
		}
		for _, id := range online {
			if _, err := tx.ExecContext(ctx, `DELETE FROM alert_agent_offline WHERE account_id = ? AND agent_id = ?`, int64(account), int64(id)); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT agent_id, since_unix FROM alert_agent_offline WHERE account_id = ?`, int64(account))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var since time.Time
			if err := rows.Scan(&id, (*unixTime)(&since)); err != nil {
				return err
			}
			out[rcbu.AgentID(id)] = since
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("db: track offline agents: %w", err)
	}
	return out, nil
}

// AlertRuns returns the newest perConfig backup snapshots of each
// configuration of the account (the growth rule's window plus one), with
// the columns the rules read. One indexed query per configuration (on
// reports_config_finished) beats a window function over every snapshot of
// the account; the unary + keeps SQLite from walking the account's index
// in time order instead.
func (s *Store) AlertRuns(ctx context.Context, account app.AccountID, perConfig int) ([]app.Report, error) {
	var out []app.Report
	err := func() error {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT config_id FROM reports WHERE account_id = ? AND kind = 'backup'`, int64(account))
		if err != nil {
			return err
		}
		var cfgs []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			cfgs = append(cfgs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		conn, err := s.db.Conn(ctx) // one connection for the prepared statement's many runs
		if err != nil {
			return err
		}
		defer conn.Close()
		stmt, err := conn.PrepareContext(ctx, `SELECT job_id, agent_id, agent_name, config_id, config_name, state, finished_unix,
			bytes_backed_up, error_count, reason FROM reports
			WHERE config_id = ? AND `+s.dialect.unindexed("account_id")+` = ? AND `+s.dialect.unindexed("kind")+` = 'backup' ORDER BY finished_unix DESC, job_id DESC LIMIT ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, cfg := range cfgs {
			rows, err := stmt.QueryContext(ctx, cfg, int64(account), perConfig)
			if err != nil {
				return err
			}
			first := len(out)
			for rows.Next() {
				r := app.Report{AccountID: account, Kind: app.KindBackup}
				if err := rows.Scan(&r.JobID, &r.AgentID, &r.AgentName, &r.ConfigID, &r.ConfigName, &r.State, (*unixTime)(&r.Finished),
					&r.BytesBackedUp, &r.ErrorCount, &r.Reason); err != nil {
					rows.Close()
					return err
				}
				r.BackupID = rcbu.BackupID(r.JobID)
				out = append(out, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			slices.Reverse(out[first:]) // oldest first within a configuration
		}
		return nil
	}()
	if err != nil {
		return nil, fmt.Errorf("db: alert runs: %w", err)
	}
	return out, nil
}

// LastSuccesses returns the end of each configuration's newest Completed
// backup snapshot.
func (s *Store) LastSuccesses(ctx context.Context, account app.AccountID) (map[rcbu.ConfigurationID]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT config_id, MAX(finished_unix) FROM reports
		WHERE account_id = ? AND kind = 'backup' AND state = 'Completed' GROUP BY config_id`, int64(account))
	if err != nil {
		return nil, fmt.Errorf("db: last successes: %w", err)
	}
	defer rows.Close()
	out := map[rcbu.ConfigurationID]time.Time{}
	for rows.Next() {
		var id int64
		var t time.Time
		if err := rows.Scan(&id, (*unixTime)(&t)); err != nil {
			return nil, fmt.Errorf("db: last successes: %w", err)
		}
		out[rcbu.ConfigurationID(id)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: last successes: %w", err)
	}
	return out, nil
}

// incidentColumns read an incident with its triage row t (absent: zeros).
const incidentColumns = `i.id, i.account_id, i.rule, i.object, i.grp, i.state, i.title, i.detail, i.happened_unix, i.opened_unix,
	i.resolved_unix, COALESCE(t.agent_id, 0), COALESCE(t.config_id, 0), COALESCE(t.job_id, 0), COALESCE(t.ack_unix, 0),
	COALESCE(t.ack_by, ''), COALESCE(t.ack_note, ''), COALESCE(t.silenced, 0)`

// snoozedUntil is the end of the latest snooze covering incident i that
// runs past the unix time bound to its one parameter (NULL: none).
const snoozedUntil = `(SELECT MAX(s.until_unix) FROM alert_snoozes s WHERE s.account_id = i.account_id AND s.until_unix > ?
	AND ((s.kind = 'agent' AND s.target_id = t.agent_id AND t.agent_id != 0)
	  OR (s.kind = 'configuration' AND s.target_id = t.config_id AND t.config_id != 0)))`

// incidentSelect reads incidents with the snoozes running at the unix time
// that is its first parameter.
const incidentSelect = `SELECT ` + incidentColumns + `, ` + snoozedUntil + ` FROM alert_incidents i
	LEFT JOIN alert_incident_triage t ON t.incident_id = i.id`

func scanIncident(sc rowScanner) (app.Incident, error) {
	var i app.Incident
	var rule, state string
	var silenced int64
	var until sql.NullInt64
	err := sc.Scan(&i.ID, &i.AccountID, &rule, &i.Object, &i.Group, &state, &i.Title, &i.Detail,
		(*unixTime)(&i.Happened), (*unixTime)(&i.Opened), (*unixTime)(&i.Resolved), &i.AgentID, &i.ConfigID, &i.JobID,
		(*unixTime)(&i.Acked), &i.AckBy, &i.AckNote, &silenced, &until)
	i.Rule, i.State, i.Silenced = app.RuleKind(rule), app.IncidentState(state), silenced == 1
	if until.Valid {
		i.SnoozedUntil = time.Unix(until.Int64, 0).UTC()
	}
	return i, err
}

func (s *Store) incidents(ctx context.Context, q string, args ...any) ([]app.Incident, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []app.Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// OpenIncidents returns the account's open incidents, without reading
// snoozes (the rules read them once for the whole evaluation).
func (s *Store) OpenIncidents(ctx context.Context, account app.AccountID) ([]app.Incident, error) {
	list, err := s.incidents(ctx, incidentSelect+` WHERE i.account_id = ? AND i.state = 'open' ORDER BY i.id`, int64(math.MaxInt64), int64(account))
	if err != nil {
		return nil, fmt.Errorf("db: open incidents: %w", err)
	}
	return list, nil
}

// Incident returns one incident with the snoozes running at now; a missing
// one wraps app.ErrNotFound.
func (s *Store) Incident(ctx context.Context, id app.IncidentID, now time.Time) (app.Incident, error) {
	i, err := scanIncident(s.db.QueryRowContext(ctx, incidentSelect+` WHERE i.id = ?`, unix(now), int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Incident{}, fmt.Errorf("incident %d: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return app.Incident{}, fmt.Errorf("db: incident %d: %w", id, err)
	}
	return i, nil
}

// QueryIncidents returns up to q.Limit incidents q selects, newest first
// (with q.After, the nearest newer ones first).
func (s *Store) QueryIncidents(ctx context.Context, q app.IncidentQuery) ([]app.Incident, error) {
	accounts := q.Accounts
	if q.Account != 0 {
		accounts = []app.AccountID{q.Account}
	}
	if len(accounts) == 0 {
		return nil, nil
	}
	now := unix(q.Now)
	conds := []string{`i.account_id IN (` + placeholders(len(accounts)) + `)`}
	args := []any{now}
	for _, a := range accounts {
		args = append(args, int64(a))
	}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	snoozed := `EXISTS (SELECT 1 FROM alert_snoozes s WHERE s.account_id = i.account_id AND s.until_unix > ?
		AND ((s.kind = 'agent' AND s.target_id = t.agent_id AND t.agent_id != 0)
		  OR (s.kind = 'configuration' AND s.target_id = t.config_id AND t.config_id != 0)))`
	switch q.Status {
	case app.StatusOpen:
		add(`i.state = 'open' AND COALESCE(t.ack_unix, 0) = 0 AND NOT `+snoozed, now)
	case app.StatusAcknowledged:
		add(`i.state = 'open' AND COALESCE(t.ack_unix, 0) != 0 AND NOT `+snoozed, now)
	case app.StatusSnoozed:
		add(`i.state = 'open' AND `+snoozed, now)
	case app.StatusResolved:
		add(`i.state = 'resolved'`)
	}
	if q.Rule != "" {
		add(`i.rule = ?`, string(q.Rule))
	}
	if q.AgentID != 0 {
		add(`t.agent_id = ?`, int64(q.AgentID))
	}
	if q.ConfigID != 0 {
		add(`t.config_id = ?`, int64(q.ConfigID))
	}
	order := ` ORDER BY i.id DESC`
	switch {
	case q.After != 0:
		add(`i.id > ?`, int64(q.After))
		order = ` ORDER BY i.id ASC`
	case q.Before != 0:
		add(`i.id < ?`, int64(q.Before))
	}
	args = append(args, q.Limit)
	list, err := s.incidents(ctx, incidentSelect+` WHERE `+strings.Join(conds, " AND ")+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: query incidents: %w", err)
	}
	return list, nil
}

// IncidentCounts counts the open incidents of every account by rule and
// status at now.
func (s *Store) IncidentCounts(ctx context.Context, now time.Time) ([]app.IncidentCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, rule, CASE WHEN snoozed IS NOT NULL THEN 'snoozed'
			WHEN ack_unix != 0 THEN 'acknowledged' ELSE 'open' END AS status, COUNT(*)
		FROM (SELECT i.account_id, i.rule, COALESCE(t.ack_unix, 0) AS ack_unix, `+snoozedUntil+` AS snoozed FROM alert_incidents i
			LEFT JOIN alert_incident_triage t ON t.incident_id = i.id WHERE i.state = 'open')
		GROUP BY account_id, rule, status ORDER BY account_id, rule, status`, unix(now))
	if err != nil {
		return nil, fmt.Errorf("db: incident counts: %w", err)
	}
	defer rows.Close()
	var out []app.IncidentCount
	for rows.Next() {
		var c app.IncidentCount
		var rule, status string
		if err := rows.Scan(&c.AccountID, &rule, &status, &c.N); err != nil {
			return nil, fmt.Errorf("db: incident counts: %w", err)
		}
		c.Rule, c.Status = app.RuleKind(rule), app.IncidentStatus(status)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: incident counts: %w", err)
	}
	return out, nil
}

// AcknowledgeIncident records an acknowledgement of an open incident that
// has none; it reports false when there is no such incident.
func (s *Store) AcknowledgeIncident(ctx context.Context, id app.IncidentID, by, note string, at time.Time) (bool, error) {
	n, err := s.execCount(ctx, fmt.Sprintf("acknowledge incident %d", id), `INSERT INTO alert_incident_triage (incident_id, ack_unix, ack_by, ack_note)
		SELECT id, ?, ?, ? FROM alert_incidents WHERE id = ? AND state = 'open'
		ON CONFLICT (incident_id) DO UPDATE SET ack_unix = excluded.ack_unix, ack_by = excluded.ack_by, ack_note = excluded.ack_note
		WHERE alert_incident_triage.ack_unix = 0`,
		unix(at), by, note, int64(id))
	return n == 1, err
}

// IncidentDeliveries returns the notices of one incident, oldest first.
func (s *Store) IncidentDeliveries(ctx context.Context, id app.IncidentID) ([]app.Delivery, error) {
	list, err := s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM alert_deliveries WHERE incident_id = ? ORDER BY id`, int64(id))
	if err != nil {
		return nil, fmt.Errorf("db: deliveries of incident %d: %w", id, err)
	}
	return list, nil
}

// Summaries returns the summaries queued to the account's channels that
// were sent or are still to be sent, oldest first.
func (s *Store) Summaries(ctx context.Context, account app.AccountID) ([]app.Delivery, error) {
	list, err := s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM alert_deliveries WHERE event = ? AND status <> 'failed'
		AND channel_id IN (SELECT id FROM alert_channels WHERE account_id = ?) ORDER BY id`, string(app.EventSummary), int64(account))
	if err != nil {
		return nil, fmt.Errorf("db: summaries: %w", err)
	}
	return list, nil
}

// ReleaseIncident queues the alert of a silenced open incident to each
// channel and clears its silence, in one transaction.
func (s *Store) ReleaseIncident(ctx context.Context, id app.IncidentID, channels []app.ChannelID, title string, payload []byte, at time.Time) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The incident's row stays locked while its alert is queued, so a
		// resolution at the same time comes wholly before (nothing is
		// queued) or after (it drops the queued alert).
		var open int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM alert_incidents WHERE id = ? AND state = 'open'`+s.dialect.forUpdate(), int64(id)).Scan(&open)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE alert_incident_triage SET silenced = 0 WHERE incident_id = ? AND silenced = 1`, int64(id))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if err := queueNotices(ctx, tx, channels, id, app.EventOpened, title, payload, at); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("db: release incident %d: %w", id, err)
	}
	return done, nil
}

// SaveSnooze creates or replaces the snooze of one agent or configuration.
func (s *Store) SaveSnooze(ctx context.Context, z app.Snooze) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO alert_snoozes (account_id, kind, target_id, target_name, until_unix, reason, by_name, created_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id, kind, target_id) DO UPDATE SET target_name = excluded.target_name,
		until_unix = excluded.until_unix, reason = excluded.reason, by_name = excluded.by_name, created_unix = excluded.created_unix`,
		int64(z.AccountID), string(z.Kind), z.TargetID, z.Name, unix(z.Until), z.Reason, z.By, unix(z.Created))
	if err != nil {
		return fmt.Errorf("db: save snooze of %s %d: %w", z.Kind, z.TargetID, err)
	}
	return nil
}

// DeleteSnooze removes a snooze; a missing one wraps app.ErrNotFound.
func (s *Store) DeleteSnooze(ctx context.Context, account app.AccountID, kind app.SnoozeKind, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM alert_snoozes WHERE account_id = ? AND kind = ? AND target_id = ?`, int64(account), string(kind), id)
	if err != nil {
		return fmt.Errorf("db: delete snooze of %s %d: %w", kind, id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("snooze of %s %d: %w", kind, id, app.ErrNotFound)
	}
	return nil
}

// ActiveSnoozes returns the account's snoozes that run past now, ending
// soonest first.
func (s *Store) ActiveSnoozes(ctx context.Context, account app.AccountID, now time.Time) ([]app.Snooze, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, kind, target_id, target_name, until_unix, reason, by_name, created_unix
		FROM alert_snoozes WHERE account_id = ? AND until_unix > ? ORDER BY until_unix, kind, target_id`, int64(account), unix(now))
	if err != nil {
		return nil, fmt.Errorf("db: snoozes: %w", err)
	}
	defer rows.Close()
	var out []app.Snooze
	for rows.Next() {
		var z app.Snooze
		var kind string
		if err := rows.Scan(&z.AccountID, &kind, &z.TargetID, &z.Name, (*unixTime)(&z.Until), &z.Reason, &z.By, (*unixTime)(&z.Created)); err != nil {
			return nil, fmt.Errorf("db: snoozes: %w", err)
		}
		z.Kind = app.SnoozeKind(kind)
		out = append(out, z)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: snoozes: %w", err)
	}
	return out, nil
}

// MarkChannelPrimed records when a channel was sent its first summary.
func (s *Store) MarkChannelPrimed(ctx context.Context, id app.ChannelID, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO alert_channel_primed (channel_id, primed_unix) VALUES (?, ?)
		ON CONFLICT (channel_id) DO NOTHING`, int64(id), unix(at)); err != nil {
		return fmt.Errorf("db: mark channel %d told: %w", id, err)
	}
	return nil
}

// HistorySynced reports whether the account's report sync has succeeded
// once.
func (s *Store) HistorySynced(ctx context.Context, account app.AccountID) (bool, error) {
	var ok bool // EXISTS is 0 or 1 on SQLite, a boolean on PostgreSQL: both scan into a bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM report_sync WHERE account_id = ? AND last_ok_unix > 0)`, int64(account)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("db: history synced: %w", err)
	}
	return ok, nil
}

// ListIncidents returns up to limit incidents of the accounts: the open
// ones first, then the newest.
func (s *Store) ListIncidents(ctx context.Context, accounts []app.AccountID, limit int) ([]app.Incident, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(accounts)+1)
	for _, a := range accounts {
		args = append(args, int64(a))
	}
	args = append(args, limit)
	args = append([]any{int64(math.MaxInt64)}, args...)
	list, err := s.incidents(ctx, incidentSelect+` WHERE i.account_id IN (`+placeholders(len(accounts))+`)
		ORDER BY i.state = 'open' DESC, i.opened_unix DESC, i.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list incidents: %w", err)
	}
	return list, nil
}

// OpenIncident opens an incident and queues its alert for each channel in
// one transaction, unless an incident with the same rule and object is
// open (or, for a Once finding, has ever existed). It reports whether it
// opened one.
func (s *Store) OpenIncident(ctx context.Context, n app.NewIncident) (app.Incident, bool, error) {
	f := n.Finding
	inc := app.Incident{AccountID: n.AccountID, Rule: f.Rule, Object: f.Object, Group: f.Group, State: app.IncidentOpen,
		Title: f.Title, Detail: f.Detail, Happened: f.At, Opened: n.Opened,
		AgentID: f.AgentID, ConfigID: f.ConfigID, JobID: f.JobID, Silenced: n.Silenced}
	opened := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The check below and the insert are one step: two evaluations of
		// the account at once (two replicas, or a sync and a finished run)
		// open the incident once.
		if err := s.lockTx(ctx, tx, fmt.Sprintf("incident %d %s %s", n.AccountID, f.Rule, f.Object)); err != nil {
			return err
		}
		cond := `state = 'open'`
		if f.Once {
			cond = `1 = 1`
		}
		var exists bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM alert_incidents WHERE account_id = ? AND rule = ? AND object = ? AND `+cond+`)`,
			int64(n.AccountID), string(f.Rule), f.Object).Scan(&exists)
		if err != nil || exists {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO alert_incidents (account_id, rule, object, grp, state, title, detail, happened_unix, opened_unix)
			VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id`,
			int64(n.AccountID), string(f.Rule), f.Object, f.Group, f.Title, f.Detail, unix(f.At), unix(n.Opened)).Scan(&id)
		if err != nil {
			return err
		}
		inc.ID = app.IncidentID(id)
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_incident_triage (incident_id, agent_id, config_id, job_id, silenced) VALUES (?, ?, ?, ?, ?)`,
			id, int64(f.AgentID), int64(f.ConfigID), f.JobID, boolInt(n.Silenced)); err != nil {
			return err
		}
		if err := queueNotices(ctx, tx, n.Channels, inc.ID, app.EventOpened, f.Title, n.Payload, n.Opened); err != nil {
			return err
		}
		opened = true
		return nil
	})
	if err != nil {
		return app.Incident{}, false, fmt.Errorf("db: open incident %s %s: %w", f.Rule, f.Object, err)
	}
	return inc, opened, nil
}

// ResolveIncident resolves an open incident in one transaction: alerts of
// it still pending are dropped (marked failed: nobody was told, so nothing
// needs resolving), and each channel that was sent the alert, or whose
// summary listed it (r.Told), gets one resolution notice. It reports false
// when the incident was not open.
func (s *Store) ResolveIncident(ctx context.Context, r app.IncidentResolution) (bool, error) {
	done := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alert_incidents SET state = 'resolved', resolved_unix = ? WHERE id = ? AND state = 'open'`,
			unix(r.Resolved), int64(r.ID))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET status = 'failed', last_error = 'resolved before it could be delivered'
			WHERE incident_id = ? AND event = ? AND status = 'pending'`, int64(r.ID), string(app.EventOpened)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (channel_id, incident_id, event, title, payload, next_attempt_unix, created_unix)
			SELECT channel_id, incident_id, ?, ?, ?, ?, ? FROM alert_deliveries WHERE incident_id = ? AND event = ? AND status = 'sent'
			ON CONFLICT DO NOTHING`,
			string(app.EventResolved), r.Title, r.Payload, unix(r.Resolved), unix(r.Resolved), int64(r.ID), string(app.EventOpened)); err != nil {
			return err
		}
		if err := queueNotices(ctx, tx, r.Told, r.ID, app.EventResolved, r.Title, r.Payload, r.Resolved); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("db: resolve incident %d: %w", r.ID, err)
	}
	return done, nil
}

// queueNotices queues one notice of an incident to each channel, except
// to a channel that already has that event of it (alert_deliveries_once).
func queueNotices(ctx context.Context, tx *sql.Tx, channels []app.ChannelID, id app.IncidentID, event app.NoticeEvent, title string, payload []byte, at time.Time) error {
	for _, ch := range channels {
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_deliveries (channel_id, incident_id, event, title, payload, next_attempt_unix, created_unix)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			int64(ch), int64(id), string(event), title, payload, unix(at), unix(at)); err != nil {
			return err
		}
	}
	return nil
}

const channelColumns = `id, account_id, name, kind, enabled, url, secret_sealed, smtp_host, smtp_port, smtp_security,
	smtp_username, smtp_from, smtp_to, rules, created_unix, updated_unix,
	COALESCE((SELECT p.primed_unix FROM alert_channel_primed p WHERE p.channel_id = alert_channels.id), 0)`

func scanChannel(sc rowScanner) (app.Channel, error) {
	var c app.Channel
	var kind, security, to, rules string
	var enabled int64
	err := sc.Scan(&c.ID, &c.AccountID, &c.Name, &kind, &enabled, &c.URL, &c.SecretSealed, &c.SMTP.Host, &c.SMTP.Port, &security,
		&c.SMTP.Username, &c.SMTP.From, &to, &rules, (*unixTime)(&c.Created), (*unixTime)(&c.Updated), (*unixTime)(&c.Primed))
	if err != nil {
		return app.Channel{}, err
	}
	c.Kind, c.Enabled, c.SMTP.Security = app.ChannelKind(kind), enabled == 1, app.SMTPSecurity(security)
	c.SMTP.To = splitList(to)
	for _, r := range splitList(rules) {
		c.Rules = append(c.Rules, app.RuleKind(r))
	}
	return c, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func channelArgs(c app.Channel) []any {
	rules := make([]string, 0, len(c.Rules))
	for _, r := range c.Rules {
		rules = append(rules, string(r))
	}
	return []any{c.Name, string(c.Kind), boolInt(c.Enabled), c.URL, c.SecretSealed, c.SMTP.Host, c.SMTP.Port, string(c.SMTP.Security),
		c.SMTP.Username, c.SMTP.From, strings.Join(c.SMTP.To, ","), strings.Join(rules, ","), unix(c.Updated)}
}

// CreateChannel inserts a channel; a name the account already uses wraps
// app.ErrConflict.
func (s *Store) CreateChannel(ctx context.Context, c app.Channel) (app.Channel, error) {
	args := append([]any{int64(c.AccountID), unix(c.Created)}, channelArgs(c)...)
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO alert_channels (account_id, created_unix, name, kind, enabled, url, secret_sealed,
		smtp_host, smtp_port, smtp_security, smtp_username, smtp_from, smtp_to, rules, updated_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, args...).Scan(&id)
	if err != nil {
		if isUnique(err) {
			return app.Channel{}, fmt.Errorf("channel %q: %w", c.Name, app.ErrConflict)
		}
		return app.Channel{}, fmt.Errorf("db: create channel: %w", err)
	}
	c.ID = app.ChannelID(id)
	return c, nil
}

// UpdateChannel writes a channel's fields; a name the account already uses
// wraps app.ErrConflict, a missing channel app.ErrNotFound.
func (s *Store) UpdateChannel(ctx context.Context, c app.Channel) error {
	args := append(channelArgs(c), int64(c.ID))
	res, err := s.db.ExecContext(ctx, `UPDATE alert_channels SET name = ?, kind = ?, enabled = ?, url = ?, secret_sealed = ?,
		smtp_host = ?, smtp_port = ?, smtp_security = ?, smtp_username = ?, smtp_from = ?, smtp_to = ?, rules = ?, updated_unix = ?
		WHERE id = ?`, args...)
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("channel %q: %w", c.Name, app.ErrConflict)
		}
		return fmt.Errorf("db: update channel %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("channel %d: %w", c.ID, app.ErrNotFound)
	}
	return nil
}

// DeleteChannel deletes a channel and (by cascade) its delivery log.
func (s *Store) DeleteChannel(ctx context.Context, id app.ChannelID) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM alert_channels WHERE id = ?`, int64(id))
	if err != nil {
		return fmt.Errorf("db: delete channel %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("channel %d: %w", id, app.ErrNotFound)
	}
	return nil
}

// Channel returns one channel; a missing one wraps app.ErrNotFound.
func (s *Store) Channel(ctx context.Context, id app.ChannelID) (app.Channel, error) {
	c, err := scanChannel(s.db.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM alert_channels WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Channel{}, fmt.Errorf("channel %d: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return app.Channel{}, fmt.Errorf("db: channel %d: %w", id, err)
	}
	return c, nil
}

// ListChannels returns an account's channels ordered by name.
func (s *Store) ListChannels(ctx context.Context, account app.AccountID) ([]app.Channel, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+channelColumns+` FROM alert_channels WHERE account_id = ? ORDER BY `+s.dialect.nocase("name")+`, id`, int64(account))
	if err != nil {
		return nil, fmt.Errorf("db: list channels: %w", err)
	}
	defer rows.Close()
	var out []app.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, fmt.Errorf("db: list channels: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: list channels: %w", err)
	}
	return out, nil
}

const deliveryColumns = `id, channel_id, incident_id, event, title, payload, status, attempts, next_attempt_unix, last_error,
	last_status, created_unix, sent_unix`

func scanDelivery(sc rowScanner) (app.Delivery, error) {
	var d app.Delivery
	var incident sql.NullInt64
	var event, status string
	err := sc.Scan(&d.ID, &d.ChannelID, &incident, &event, &d.Title, &d.Payload, &status, &d.Attempts, (*unixTime)(&d.NextAttempt),
		&d.LastError, &d.LastStatus, (*unixTime)(&d.Created), (*unixTime)(&d.Sent))
	d.IncidentID, d.Event, d.Status = app.IncidentID(incident.Int64), app.NoticeEvent(event), app.DeliveryStatus(status)
	return d, err
}

func (s *Store) deliveries(ctx context.Context, q string, args ...any) ([]app.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanDeliveries(rows)
}

// scanDeliveries reads and closes rows of deliveryColumns.
func scanDeliveries(rows *sql.Rows) ([]app.Delivery, error) {
	defer rows.Close()
	var out []app.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// EnqueueDelivery inserts a pending delivery and returns it with its id.
func (s *Store) EnqueueDelivery(ctx context.Context, d app.Delivery) (app.Delivery, error) {
	var incident any
	if d.IncidentID != 0 {
		incident = int64(d.IncidentID)
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO alert_deliveries (channel_id, incident_id, event, title, payload, next_attempt_unix, created_unix)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, int64(d.ChannelID), incident, string(d.Event), d.Title, d.Payload, unix(d.NextAttempt), unix(d.Created)).Scan(&id)
	if err != nil {
		return app.Delivery{}, fmt.Errorf("db: enqueue delivery: %w", err)
	}
	d.ID, d.Status = app.DeliveryID(id), app.DeliveryPending
	return d, nil
}

// DueDeliveries returns up to limit pending deliveries due at now, oldest first.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]app.Delivery, error) {
	list, err := s.deliveries(ctx, `SELECT `+deliveryColumns+` FROM alert_deliveries WHERE status = 'pending' AND next_attempt_unix <= ?
		ORDER BY next_attempt_unix, id LIMIT ?`, unix(now), limit)
	if err != nil {
		return nil, fmt.Errorf("db: due deliveries: %w", err)
	}
	return list, nil
}

// ClaimDueDeliveries returns up to limit pending deliveries due at now,
// oldest first, and moves their next attempt to until: a claim. Another
// replica dispatching meanwhile does not see them, and the attempt's outcome
// (SaveAttempt) replaces the claim; a replica that dies after claiming
// leaves them to be retried once until has passed. On PostgreSQL the rows
// are read FOR UPDATE SKIP LOCKED, so claims never wait on each other.
func (s *Store) ClaimDueDeliveries(ctx context.Context, now, until time.Time, limit int) ([]app.Delivery, error) {
	var list []app.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT ` + deliveryColumns + ` FROM alert_deliveries WHERE status = 'pending' AND next_attempt_unix <= ?
			ORDER BY next_attempt_unix, id LIMIT ?` + s.dialect.skipLocked()
		rows, err := tx.QueryContext(ctx, q, unix(now), limit)
		if err != nil {
			return err
		}
		list, err = scanDeliveries(rows)
		if err != nil || len(list) == 0 {
			return err
		}
		args := []any{unix(until)}
		for _, d := range list {
			args = append(args, int64(d.ID))
		}
		_, err = tx.ExecContext(ctx, `UPDATE alert_deliveries SET next_attempt_unix = ? WHERE id IN (`+placeholders(len(list))+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: claim due deliveries: %w", err)
	}
	return list, nil
}

// GiveBackDeliveries ends the claim that ClaimDueDeliveries made up to
// until on the deliveries listed, making each due again at its
// NextAttempt as claimed. A delivery whose next attempt is no longer until
// has left that claim (its outcome was saved, or another replica claimed
// it after the claim ran out, which sets a later end) and is left alone.
// It returns how many it gave back.
func (s *Store) GiveBackDeliveries(ctx context.Context, until time.Time, list []app.Delivery) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, d := range list {
			res, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET next_attempt_unix = ?
				WHERE id = ? AND status = 'pending' AND next_attempt_unix = ?`, unix(d.NextAttempt), int64(d.ID), unix(until))
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("db: give back deliveries: %w", err)
	}
	return n, nil
}

// NextDeliveryAt returns when the earliest pending delivery is due.
func (s *Store) NextDeliveryAt(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_unix) FROM alert_deliveries WHERE status = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("db: next delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(next.Int64, 0).UTC(), true, nil
}

// SaveAttempt writes a delivery's status after an attempt.
func (s *Store) SaveAttempt(ctx context.Context, d app.Delivery) error {
	_, err := s.db.ExecContext(ctx, `UPDATE alert_deliveries SET status = ?, attempts = ?, next_attempt_unix = ?, last_error = ?,
		last_status = ?, sent_unix = ? WHERE id = ?`,
		string(d.Status), d.Attempts, unix(d.NextAttempt), d.LastError, d.LastStatus, unix(d.Sent), int64(d.ID))
	if err != nil {
		return fmt.Errorf("db: save delivery %d: %w", d.ID, err)
	}
	return nil
}

// ListDeliveries returns up to limit deliveries of a channel, newest
// first, older than before when it is set.
func (s *Store) ListDeliveries(ctx context.Context, channel app.ChannelID, before app.DeliveryID, limit int) ([]app.Delivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM alert_deliveries WHERE channel_id = ?`
	args := []any{int64(channel)}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, int64(before))
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	list, err := s.deliveries(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list deliveries: %w", err)
	}
	return list, nil
}

// DigestStats summarises an account's backup snapshots that ended in
// [from, to): counts per state, bytes (also for the period before of the
// same length), the failures and the configurations that grew most.
func (s *Store) DigestStats(ctx context.Context, account app.AccountID, from, to time.Time) (app.DigestStats, error) {
	var st app.DigestStats
	prev := from.Add(-to.Sub(from))
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*), COALESCE(SUM(bytes_backed_up), 0) FROM reports
		WHERE account_id = ? AND kind = 'backup' AND finished_unix >= ? AND finished_unix < ? GROUP BY state`,
		int64(account), unix(from), unix(to))
	if err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		var bytes int64
		if err := rows.Scan(&state, &n, &bytes); err != nil {
			return st, fmt.Errorf("db: digest stats: %w", err)
		}
		st.Runs += n
		st.Bytes += bytes
		switch strings.ToLower(state) {
		case "completed":
			st.Completed += n
		case "completedwitherrors":
			st.WithErrors += n
		case "failed":
			st.Failed += n
		case "missed":
			st.Missed += n
		case "skipped":
			st.Skipped += n
		case "stopped":
			st.Stopped += n
		}
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(bytes_backed_up), 0) FROM reports
		WHERE account_id = ? AND kind = 'backup' AND finished_unix >= ? AND finished_unix < ?`,
		int64(account), unix(prev), unix(from)).Scan(&st.PrevBytes); err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	fails, err := s.db.QueryContext(ctx, `SELECT job_id, config_name, agent_name, state, finished_unix FROM reports
		WHERE account_id = ? AND kind = 'backup' AND finished_unix >= ? AND finished_unix < ? AND state IN ('Failed', 'Missed')
		ORDER BY finished_unix DESC, job_id DESC LIMIT 20`, int64(account), unix(from), unix(to))
	if err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	defer fails.Close()
	for fails.Next() {
		var r app.DigestRun
		if err := fails.Scan(&r.JobID, &r.Config, &r.Agent, &r.State, (*unixTime)(&r.Finished)); err != nil {
			return st, fmt.Errorf("db: digest stats: %w", err)
		}
		st.Failures = append(st.Failures, r)
	}
	if err := fails.Err(); err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	// The sums are named in a subquery: PostgreSQL, unlike SQLite, does not
	// let HAVING or an ORDER BY expression use an output column's alias.
	growth, err := s.db.QueryContext(ctx, `SELECT config_id, config_name, agent_name, cur, prev FROM (
			SELECT config_id, MAX(config_name) AS config_name, MAX(agent_name) AS agent_name,
				SUM(CASE WHEN finished_unix >= ? THEN bytes_backed_up ELSE 0 END) AS cur,
				SUM(CASE WHEN finished_unix < ? THEN bytes_backed_up ELSE 0 END) AS prev
			FROM reports WHERE account_id = ? AND kind = 'backup' AND finished_unix >= ? AND finished_unix < ?
			GROUP BY config_id) AS sums
		WHERE cur > prev ORDER BY cur - prev DESC, config_id LIMIT 5`,
		unix(from), unix(from), int64(account), unix(prev), unix(to))
	if err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	defer growth.Close()
	for growth.Next() {
		var g app.ConfigGrowth
		if err := growth.Scan(&g.ConfigID, &g.Config, &g.Agent, &g.Bytes, &g.PrevBytes); err != nil {
			return st, fmt.Errorf("db: digest stats: %w", err)
		}
		st.Growth = append(st.Growth, g)
	}
	if err := growth.Err(); err != nil {
		return st, fmt.Errorf("db: digest stats: %w", err)
	}
	return st, nil
}

// Compile-time check that Store implements the alerts' store.
var _ app.AlertStore = (*Store)(nil)
