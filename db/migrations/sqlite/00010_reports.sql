-- Report history: a snapshot of every finished backup and restore report (raw JSON plus extracted columns), its errors with full-text search, and the per-account sync cursor.
-- +goose Up
CREATE TABLE reports (
	id              INTEGER PRIMARY KEY,
	account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind            TEXT    NOT NULL CHECK (kind IN ('backup', 'restore')),
	job_id          INTEGER NOT NULL,
	agent_id        INTEGER NOT NULL DEFAULT 0,
	agent_name      TEXT    NOT NULL DEFAULT '',
	config_id       INTEGER NOT NULL DEFAULT 0,
	config_name     TEXT    NOT NULL DEFAULT '',
	backup_id       INTEGER NOT NULL DEFAULT 0, -- a restore's source backup; a backup's own id
	dest_agent_id   INTEGER NOT NULL DEFAULT 0, -- restores only
	dest_name       TEXT    NOT NULL DEFAULT '',
	state           TEXT    NOT NULL DEFAULT '',
	can_restore     INTEGER NOT NULL DEFAULT 0 CHECK (can_restore IN (0, 1)),
	started_unix    INTEGER NOT NULL DEFAULT 0,
	finished_unix   INTEGER NOT NULL DEFAULT 0,
	duration_s      INTEGER NOT NULL DEFAULT 0,
	files_searched  INTEGER NOT NULL DEFAULT 0,
	bytes_searched  INTEGER NOT NULL DEFAULT 0,
	files_backed_up INTEGER NOT NULL DEFAULT 0,
	bytes_backed_up INTEGER NOT NULL DEFAULT 0,
	files_restored  INTEGER NOT NULL DEFAULT 0,
	bytes_restored  INTEGER NOT NULL DEFAULT 0,
	error_count     INTEGER NOT NULL DEFAULT 0,
	reason          TEXT    NOT NULL DEFAULT '',
	diagnostics     TEXT    NOT NULL DEFAULT '',
	parse_error     TEXT    NOT NULL DEFAULT '', -- non-empty: raw did not parse; columns come from the activity item
	raw             BLOB    NOT NULL,            -- the body exactly as the API returned it
	fetched_unix    INTEGER NOT NULL,
	UNIQUE (account_id, kind, job_id)
) STRICT;
-- The history page always filters by account and pages by finish time (id breaks ties; it is in every index).
CREATE INDEX reports_account_finished ON reports (account_id, finished_unix);
CREATE INDEX reports_agent_finished ON reports (agent_id, finished_unix);
CREATE INDEX reports_config_finished ON reports (config_id, finished_unix);
CREATE INDEX reports_state_finished ON reports (state, finished_unix);
CREATE INDEX reports_kind_finished ON reports (account_id, kind, finished_unix);
CREATE INDEX reports_errors_finished ON reports (account_id, finished_unix) WHERE error_count > 0;
-- Pruning deletes by age across accounts.
CREATE INDEX reports_finished ON reports (finished_unix);

CREATE TABLE report_errors (
	id          INTEGER PRIMARY KEY,
	report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
	list_index  INTEGER NOT NULL DEFAULT 0,
	error_type  INTEGER NOT NULL DEFAULT 0,
	code        INTEGER NOT NULL DEFAULT 0,
	path        TEXT    NOT NULL DEFAULT '',
	description TEXT    NOT NULL DEFAULT '',
	exception   TEXT    NOT NULL DEFAULT '',
	details     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX report_errors_report ON report_errors (report_id);

-- Full-text search over error paths and messages; external content, kept in step by the triggers below
-- (foreign-key cascades fire them too, so pruning reports cleans the index).
CREATE VIRTUAL TABLE report_errors_fts USING fts5 (
	path, description, exception,
	content = 'report_errors', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2'
);
-- +goose StatementBegin
CREATE TRIGGER report_errors_ai AFTER INSERT ON report_errors BEGIN
	INSERT INTO report_errors_fts (rowid, path, description, exception) VALUES (new.id, new.path, new.description, new.exception);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER report_errors_ad AFTER DELETE ON report_errors BEGIN
	INSERT INTO report_errors_fts (report_errors_fts, rowid, path, description, exception) VALUES ('delete', old.id, old.path, old.description, old.exception);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER report_errors_au AFTER UPDATE ON report_errors BEGIN
	INSERT INTO report_errors_fts (report_errors_fts, rowid, path, description, exception) VALUES ('delete', old.id, old.path, old.description, old.exception);
	INSERT INTO report_errors_fts (rowid, path, description, exception) VALUES (new.id, new.path, new.description, new.exception);
END;
-- +goose StatementEnd

-- One row per account: where the last sync got to, so a restarted sync resumes instead of starting over.
CREATE TABLE report_sync (
	account_id      INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	cursor_unix     INTEGER NOT NULL DEFAULT 0, -- every finished job up to this activity time is stored (or has no report)
	backfilled      INTEGER NOT NULL DEFAULT 0 CHECK (backfilled IN (0, 1)),
	last_start_unix INTEGER NOT NULL DEFAULT 0,
	last_end_unix   INTEGER NOT NULL DEFAULT 0,
	last_ok_unix    INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	last_stored     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- +goose Down
DROP TABLE report_sync;
DROP TRIGGER report_errors_au;
DROP TRIGGER report_errors_ad;
DROP TRIGGER report_errors_ai;
DROP TABLE report_errors_fts;
DROP TABLE report_errors;
DROP TABLE reports;
