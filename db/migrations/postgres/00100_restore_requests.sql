-- What each restore started through the console was asked to bring back (paths, destination, overwrite), so its page and report can repeat the request and the restore picker can offer earlier restores' paths; the API's restore object does not say it in a form a page can show.
-- +goose Up
CREATE TABLE restore_requests (
	account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	restore_id    BIGINT NOT NULL,
	config_id     BIGINT NOT NULL,
	backup_id     BIGINT NOT NULL,
	dest_agent_id BIGINT NOT NULL,
	dest_name     TEXT   NOT NULL DEFAULT '',
	dest_path     TEXT   NOT NULL DEFAULT '',
	original      BIGINT NOT NULL DEFAULT 1 CHECK (original IN (0, 1)), -- restored to the original location
	overwrite     BIGINT NOT NULL DEFAULT 0 CHECK (overwrite IN (0, 1)),
	includes      TEXT   NOT NULL DEFAULT '[]', -- JSON array of paths; empty: everything
	excludes      TEXT   NOT NULL DEFAULT '[]', -- JSON array of paths
	created_unix  BIGINT NOT NULL,
	PRIMARY KEY (account_id, restore_id)
);
-- The picker lists a configuration's earlier restores, newest first.
CREATE INDEX restore_requests_config ON restore_requests (account_id, config_id, created_unix);

-- +goose Down
DROP TABLE restore_requests;
