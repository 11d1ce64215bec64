-- Alerts (issue 8): notification channels with per-rule routing, per-account rule and digest settings, per-configuration overdue grace, first-seen-offline agents, incidents (one per problem until it resolves) and the outbox that retries deliveries and is the delivery log.
-- +goose Up
CREATE TABLE alert_channels (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL,
	kind          TEXT    NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
	enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	url           TEXT    NOT NULL DEFAULT '', -- webhook only; a Slack URL is a secret and is sealed instead
	secret_sealed BLOB,                        -- webhook HMAC key, Slack URL or SMTP password (app.Sealer)
	smtp_host     TEXT    NOT NULL DEFAULT '',
	smtp_port     INTEGER NOT NULL DEFAULT 0,
	smtp_security TEXT    NOT NULL DEFAULT '' CHECK (smtp_security IN ('', 'starttls', 'tls')),
	smtp_username TEXT    NOT NULL DEFAULT '',
	smtp_from     TEXT    NOT NULL DEFAULT '',
	smtp_to       TEXT    NOT NULL DEFAULT '', -- comma-separated addresses
	rules         TEXT    NOT NULL DEFAULT '', -- comma-separated rule kinds routed to this channel
	created_unix  INTEGER NOT NULL,
	updated_unix  INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

CREATE TABLE alert_settings (
	account_id        INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	watch_since_unix  INTEGER NOT NULL, -- backups that ended before the first evaluation are history, not alerts
	offline_hours     INTEGER NOT NULL DEFAULT 24 CHECK (offline_hours BETWEEN 1 AND 8760),
	growth_factor     REAL    NOT NULL DEFAULT 5 CHECK (growth_factor >= 1.5 AND growth_factor <= 1000),
	digest_frequency  TEXT    NOT NULL DEFAULT 'off' CHECK (digest_frequency IN ('off', 'daily', 'weekly')),
	digest_hour       INTEGER NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23), -- UTC
	digest_weekday    INTEGER NOT NULL DEFAULT 1 CHECK (digest_weekday BETWEEN 0 AND 6), -- 0 = Sunday
	digest_channel_id INTEGER REFERENCES alert_channels (id) ON DELETE SET NULL,
	digest_last_unix  INTEGER NOT NULL DEFAULT 0,
	updated_unix      INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A configuration's own overdue grace, replacing the default policy's (app/overdue.go).
CREATE TABLE alert_overdue_grace (
	account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	config_id     INTEGER NOT NULL,
	grace_minutes INTEGER NOT NULL CHECK (grace_minutes BETWEEN 0 AND 525600),
	updated_unix  INTEGER NOT NULL,
	PRIMARY KEY (account_id, config_id)
) STRICT;

-- The API only says whether an agent is offline now; this remembers since when (row deleted when it is back).
CREATE TABLE alert_agent_offline (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	agent_id   INTEGER NOT NULL,
	since_unix INTEGER NOT NULL,
	PRIMARY KEY (account_id, agent_id)
) STRICT;

CREATE TABLE alert_incidents (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	rule          TEXT    NOT NULL,
	object        TEXT    NOT NULL, -- what it is about, unique per rule: "backup:123", "configuration:45", "agent:7"
	grp           TEXT    NOT NULL DEFAULT '', -- the configuration of a backup incident
	state         TEXT    NOT NULL CHECK (state IN ('open', 'resolved')),
	title         TEXT    NOT NULL,
	detail        TEXT    NOT NULL DEFAULT '',
	happened_unix INTEGER NOT NULL DEFAULT 0,
	opened_unix   INTEGER NOT NULL,
	resolved_unix INTEGER NOT NULL DEFAULT 0
) STRICT;
-- Deduplication: at most one open incident per problem.
CREATE UNIQUE INDEX alert_incidents_open ON alert_incidents (account_id, rule, object) WHERE state = 'open';
CREATE INDEX alert_incidents_object ON alert_incidents (account_id, rule, object);
CREATE INDEX alert_incidents_recent ON alert_incidents (account_id, opened_unix);

-- The outbox: one row per notice per channel, retried with backoff by the dispatcher; it doubles as the delivery log.
CREATE TABLE alert_deliveries (
	id                INTEGER PRIMARY KEY,
	channel_id        INTEGER NOT NULL REFERENCES alert_channels (id) ON DELETE CASCADE,
	incident_id       INTEGER REFERENCES alert_incidents (id) ON DELETE SET NULL,
	event             TEXT    NOT NULL CHECK (event IN ('alert.opened', 'alert.resolved', 'test', 'digest')),
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
-- One alert and one resolution notice per incident and channel, however often the rules run.
CREATE UNIQUE INDEX alert_deliveries_once ON alert_deliveries (channel_id, incident_id, event) WHERE incident_id IS NOT NULL;
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_unix) WHERE status = 'pending';
CREATE INDEX alert_deliveries_channel ON alert_deliveries (channel_id, id);

-- +goose Down
DROP TABLE alert_deliveries;
DROP TABLE alert_incidents;
DROP TABLE alert_agent_offline;
DROP TABLE alert_overdue_grace;
DROP TABLE alert_settings;
DROP TABLE alert_channels;
