-- Triage of alerts: which agent, configuration and backup an incident is about, acknowledgements with a note, snoozes of an agent or configuration until a time, a channel's first notice as one summary, a per-account default overdue grace, and the summary notice event.
-- +goose Up
ALTER TABLE alert_incidents ADD COLUMN agent_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_incidents ADD COLUMN config_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_incidents ADD COLUMN job_id INTEGER NOT NULL DEFAULT 0; -- the backup a backup incident is about
ALTER TABLE alert_incidents ADD COLUMN ack_unix INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_incidents ADD COLUMN ack_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_incidents ADD COLUMN ack_note TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_incidents ADD COLUMN silenced INTEGER NOT NULL DEFAULT 0 CHECK (silenced IN (0, 1)); -- opened under a snooze: nothing sent yet
-- The incidents page lists one account's incidents by state, newest first.
CREATE INDEX alert_incidents_state ON alert_incidents (account_id, state, opened_unix);

-- A snooze quiets one agent or configuration until a time; it ends by itself (rows past until_unix are ignored).
CREATE TABLE alert_snoozes (
	account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind         TEXT    NOT NULL CHECK (kind IN ('agent', 'configuration')),
	target_id    INTEGER NOT NULL,
	target_name  TEXT    NOT NULL DEFAULT '',
	until_unix   INTEGER NOT NULL,
	reason       TEXT    NOT NULL DEFAULT '',
	by_name      TEXT    NOT NULL DEFAULT '',
	created_unix INTEGER NOT NULL,
	PRIMARY KEY (account_id, kind, target_id)
) STRICT;

-- A channel's first notice is one summary of what is open (0: not sent yet); channels that exist already have been told.
ALTER TABLE alert_channels ADD COLUMN primed_unix INTEGER NOT NULL DEFAULT 0;
UPDATE alert_channels SET primed_unix = updated_unix;

-- The account's overdue grace for configurations without their own (-1: the built-in policy by interval).
ALTER TABLE alert_settings ADD COLUMN default_grace_minutes INTEGER NOT NULL DEFAULT -1 CHECK (default_grace_minutes BETWEEN -1 AND 525600);

-- The delivery log takes the summary event: SQLite changes a CHECK only by copying the table.
CREATE TABLE alert_deliveries_new (
	id                INTEGER PRIMARY KEY,
	channel_id        INTEGER NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
	incident_id       INTEGER REFERENCES alert_incidents (id) ON DELETE SET NULL,
	event             TEXT    NOT NULL CHECK (event IN ('alert.opened', 'alert.resolved', 'alert.summary', 'test', 'digest')),
	title             TEXT    NOT NULL,
	payload           BLOB    NOT NULL,
	status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
	attempts          INTEGER NOT NULL DEFAULT 0,
	next_attempt_unix INTEGER NOT NULL,
	last_error        TEXT    NOT NULL DEFAULT '',
	last_status       INTEGER NOT NULL DEFAULT 0,
	created_unix      INTEGER NOT NULL,
	sent_unix         INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO alert_deliveries_new SELECT id, channel_id, incident_id, event, title, payload, status, attempts, next_attempt_unix,
	last_error, last_status, created_unix, sent_unix FROM alert_deliveries;
DROP TABLE alert_deliveries;
ALTER TABLE alert_deliveries_new RENAME TO alert_deliveries;
CREATE UNIQUE INDEX alert_deliveries_once ON alert_deliveries (channel_id, incident_id, event) WHERE incident_id IS NOT NULL;
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_unix) WHERE status = 'pending';
CREATE INDEX alert_deliveries_channel ON alert_deliveries (channel_id, id);
-- An incident's page lists its deliveries.
CREATE INDEX alert_deliveries_incident ON alert_deliveries (incident_id) WHERE incident_id IS NOT NULL;

-- Names of the agents and configurations the history has seen, for the report filters' suggestions and name lookup;
-- kept by a trigger on every stored report (the newest report's name wins).
CREATE TABLE report_names (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL CHECK (kind IN ('agent', 'configuration')),
	id         INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	agent_name TEXT    NOT NULL DEFAULT '', -- a configuration's agent
	seen_unix  INTEGER NOT NULL,
	PRIMARY KEY (account_id, kind, id)
) STRICT;
INSERT INTO report_names (account_id, kind, id, name, agent_name, seen_unix)
	SELECT account_id, 'configuration', config_id, config_name, agent_name, MAX(finished_unix) FROM reports
	WHERE config_id != 0 AND config_name != '' GROUP BY account_id, config_id;
INSERT INTO report_names (account_id, kind, id, name, seen_unix)
	SELECT account_id, 'agent', agent_id, agent_name, MAX(finished_unix) FROM reports
	WHERE agent_id != 0 AND agent_name != '' GROUP BY account_id, agent_id;
-- +goose StatementBegin
CREATE TRIGGER reports_names_ai AFTER INSERT ON reports BEGIN
	INSERT INTO report_names (account_id, kind, id, name, agent_name, seen_unix)
		SELECT new.account_id, 'configuration', new.config_id, new.config_name, new.agent_name, new.finished_unix
		WHERE new.config_id != 0 AND new.config_name != ''
		ON CONFLICT (account_id, kind, id) DO UPDATE SET name = excluded.name, agent_name = excluded.agent_name, seen_unix = excluded.seen_unix
		WHERE excluded.seen_unix >= report_names.seen_unix;
	INSERT INTO report_names (account_id, kind, id, name, seen_unix)
		SELECT new.account_id, 'agent', new.agent_id, new.agent_name, new.finished_unix
		WHERE new.agent_id != 0 AND new.agent_name != ''
		ON CONFLICT (account_id, kind, id) DO UPDATE SET name = excluded.name, seen_unix = excluded.seen_unix
		WHERE excluded.seen_unix >= report_names.seen_unix;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER reports_names_ai;
DROP TABLE report_names;
DROP INDEX alert_deliveries_incident;
DROP TABLE alert_snoozes;
DROP INDEX alert_incidents_state;
