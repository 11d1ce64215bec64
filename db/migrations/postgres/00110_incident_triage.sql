-- Triage of alerts (which agent, configuration and backup an incident is about, acknowledgements, snoozes, a channel's first notice as one summary, per-account default grace) and the names the report filters suggest.
-- +goose Up
-- What an incident is about (a snooze of the agent or configuration covers it; a backup incident links its report),
-- its acknowledgement, and whether it opened under a snooze and has sent nothing yet. No row: none of these.
CREATE TABLE alert_incident_triage (
	incident_id BIGINT PRIMARY KEY REFERENCES alert_incidents (id) ON DELETE CASCADE,
	agent_id    BIGINT NOT NULL DEFAULT 0,
	config_id   BIGINT NOT NULL DEFAULT 0,
	job_id      BIGINT NOT NULL DEFAULT 0,
	ack_unix    BIGINT NOT NULL DEFAULT 0,
	ack_by      TEXT   NOT NULL DEFAULT '',
	ack_note    TEXT   NOT NULL DEFAULT '',
	silenced    BIGINT NOT NULL DEFAULT 0 CHECK (silenced IN (0, 1))
);
-- The incidents page lists one account's incidents by state, newest first.
CREATE INDEX alert_incidents_state ON alert_incidents (account_id, state, opened_unix);

-- A snooze quiets one agent or configuration until a time; it ends by itself (rows past until_unix are ignored).
CREATE TABLE alert_snoozes (
	account_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind         TEXT   NOT NULL CHECK (kind IN ('agent', 'configuration')),
	target_id    BIGINT NOT NULL,
	target_name  TEXT   NOT NULL DEFAULT '',
	until_unix   BIGINT NOT NULL,
	reason       TEXT   NOT NULL DEFAULT '',
	by_name      TEXT   NOT NULL DEFAULT '',
	created_unix BIGINT NOT NULL,
	PRIMARY KEY (account_id, kind, target_id)
);

-- When a channel was sent its first notice, one summary of what was open (no row: not yet). Channels that exist
-- already have been told.
CREATE TABLE alert_channel_primed (
	channel_id  BIGINT PRIMARY KEY REFERENCES alert_channels (id) ON DELETE CASCADE,
	primed_unix BIGINT NOT NULL
);
INSERT INTO alert_channel_primed (channel_id, primed_unix) SELECT id, updated_unix FROM alert_channels;

-- An account's overdue grace for configurations without their own (no row: the built-in policy by interval).
CREATE TABLE alert_default_grace (
	account_id    BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	grace_minutes BIGINT NOT NULL CHECK (grace_minutes BETWEEN 0 AND 525600)
);

-- The delivery log takes the summary event.
ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_event;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_event
	CHECK (event IN ('alert.opened', 'alert.resolved', 'alert.summary', 'test', 'digest'));
-- An incident's page lists its deliveries.
CREATE INDEX alert_deliveries_incident ON alert_deliveries (incident_id) WHERE incident_id IS NOT NULL;

-- Names of the agents and configurations the history has seen, for the report filters' suggestions and name lookup;
-- kept by a trigger on every stored report (the newest report's name wins).
CREATE TABLE report_names (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind       TEXT   NOT NULL CHECK (kind IN ('agent', 'configuration')),
	id         BIGINT NOT NULL,
	name       TEXT COLLATE "C" NOT NULL,
	agent_name TEXT   NOT NULL DEFAULT '', -- a configuration's agent
	seen_unix  BIGINT NOT NULL,
	PRIMARY KEY (account_id, kind, id)
);
INSERT INTO report_names (account_id, kind, id, name, agent_name, seen_unix)
	SELECT DISTINCT ON (account_id, config_id) account_id, 'configuration', config_id, config_name, agent_name, finished_unix FROM reports
	WHERE config_id != 0 AND config_name != '' ORDER BY account_id, config_id, finished_unix DESC;
INSERT INTO report_names (account_id, kind, id, name, seen_unix)
	SELECT DISTINCT ON (account_id, agent_id) account_id, 'agent', agent_id, agent_name, finished_unix FROM reports
	WHERE agent_id != 0 AND agent_name != '' ORDER BY account_id, agent_id, finished_unix DESC;
-- One statement-level trigger per INSERT (over its new rows at once, the newest report of each object first) rather
-- than one call per row: the history stores reports in batches.
-- +goose StatementBegin
CREATE FUNCTION reports_names_ai() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO report_names (account_id, kind, id, name, agent_name, seen_unix)
		SELECT DISTINCT ON (account_id, config_id) account_id, 'configuration', config_id, config_name, agent_name, finished_unix
		FROM new_reports WHERE config_id != 0 AND config_name != ''
		ORDER BY account_id, config_id, finished_unix DESC, id DESC
		ON CONFLICT (account_id, kind, id) DO UPDATE SET name = excluded.name, agent_name = excluded.agent_name, seen_unix = excluded.seen_unix
		WHERE excluded.seen_unix >= report_names.seen_unix;
	INSERT INTO report_names (account_id, kind, id, name, seen_unix)
		SELECT DISTINCT ON (account_id, agent_id) account_id, 'agent', agent_id, agent_name, finished_unix
		FROM new_reports WHERE agent_id != 0 AND agent_name != ''
		ORDER BY account_id, agent_id, finished_unix DESC, id DESC
		ON CONFLICT (account_id, kind, id) DO UPDATE SET name = excluded.name, seen_unix = excluded.seen_unix
		WHERE excluded.seen_unix >= report_names.seen_unix;
	RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER reports_names_ai AFTER INSERT ON reports REFERENCING NEW TABLE AS new_reports
	FOR EACH STATEMENT EXECUTE FUNCTION reports_names_ai();

-- +goose Down
DROP TRIGGER reports_names_ai ON reports;
DROP FUNCTION reports_names_ai();
DROP TABLE report_names;
DROP INDEX alert_deliveries_incident;
ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_event;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_event CHECK (event IN ('alert.opened', 'alert.resolved', 'test', 'digest'));
DROP TABLE alert_default_grace;
DROP TABLE alert_channel_primed;
DROP TABLE alert_snoozes;
DROP INDEX alert_incidents_state;
DROP TABLE alert_incident_triage;
