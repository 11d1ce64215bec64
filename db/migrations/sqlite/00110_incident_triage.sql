-- Triage of alerts (which agent, configuration and backup an incident is about, acknowledgements, snoozes, a channel's first notice as one summary, per-account default grace) and the names the report filters suggest.
-- +goose Up
-- New facts live in side tables rather than new columns: each ALTER TABLE makes SQLite reparse the whole schema.
-- What an incident is about (a snooze of the agent or configuration covers it; a backup incident links its report),
-- its acknowledgement, and whether it opened under a snooze and has sent nothing yet. No row: none of these.
CREATE TABLE alert_incident_triage (
	incident_id INTEGER PRIMARY KEY REFERENCES alert_incidents (id) ON DELETE CASCADE,
	agent_id    INTEGER NOT NULL DEFAULT 0,
	config_id   INTEGER NOT NULL DEFAULT 0,
	job_id      INTEGER NOT NULL DEFAULT 0,
	ack_unix    INTEGER NOT NULL DEFAULT 0,
	ack_by      TEXT    NOT NULL DEFAULT '',
	ack_note    TEXT    NOT NULL DEFAULT '',
	silenced    INTEGER NOT NULL DEFAULT 0 CHECK (silenced IN (0, 1))
) STRICT;
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

-- When a channel was sent its first notice, one summary of what was open (no row: not yet). Channels that exist
-- already have been told.
CREATE TABLE alert_channel_primed (
	channel_id  INTEGER PRIMARY KEY REFERENCES alert_channels (id) ON DELETE CASCADE,
	primed_unix INTEGER NOT NULL
) STRICT;
INSERT INTO alert_channel_primed (channel_id, primed_unix) SELECT id, updated_unix FROM alert_channels;

-- An account's overdue grace for configurations without their own (no row: the built-in policy by interval).
CREATE TABLE alert_default_grace (
	account_id    INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	grace_minutes INTEGER NOT NULL CHECK (grace_minutes BETWEEN 0 AND 525600)
) STRICT;

-- The delivery log takes the summary event. SQLite changes a CHECK only by copying the table; it is copied aside and
-- back rather than renamed, since a RENAME rewrites and reparses the whole schema (half a second).
CREATE TABLE alert_deliveries_copy AS SELECT * FROM alert_deliveries;
DROP TABLE alert_deliveries;
CREATE TABLE alert_deliveries (
	id                INTEGER PRIMARY KEY,
	channel_id        INTEGER NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
	incident_id       INTEGER REFERENCES alert_incidents (id) ON DELETE SET NULL,
	event             TEXT    NOT NULL CHECK (event IN ('alert.opened', 'alert.resolved', 'alert.summary', 'test', 'digest')),
	title             TEXT    NOT NULL,
	payload           BLOB    NOT NULL, -- the notice as JSON, so every attempt sends the same content
	status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
	attempts          INTEGER NOT NULL DEFAULT 0,
	next_attempt_unix INTEGER NOT NULL,
	last_error        TEXT    NOT NULL DEFAULT '',
	last_status       INTEGER NOT NULL DEFAULT 0, -- HTTP status or SMTP reply code of the last attempt
	created_unix      INTEGER NOT NULL,
	sent_unix         INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO alert_deliveries (id, channel_id, incident_id, event, title, payload, status, attempts, next_attempt_unix, last_error,
	last_status, created_unix, sent_unix)
	SELECT id, channel_id, incident_id, event, title, payload, status, attempts, next_attempt_unix, last_error, last_status,
	created_unix, sent_unix FROM alert_deliveries_copy;
DROP TABLE alert_deliveries_copy;
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
DROP TABLE alert_default_grace;
DROP TABLE alert_channel_primed;
DROP TABLE alert_snoozes;
DROP INDEX alert_incidents_state;
DROP TABLE alert_incident_triage;
