-- The audit log: who did what to which target, when, and how it went; append-only.
-- +goose Up
CREATE TABLE audit_log (
	id        INTEGER PRIMARY KEY,
	time_unix INTEGER NOT NULL,
	actor_id  INTEGER,
	actor     TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	target    TEXT    NOT NULL DEFAULT '',
	outcome   TEXT    NOT NULL CHECK (outcome IN ('ok', 'failed')),
	message   TEXT    NOT NULL DEFAULT '',
	ip        TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_time ON audit_log (time_unix);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- +goose Down
DROP TABLE audit_log;
