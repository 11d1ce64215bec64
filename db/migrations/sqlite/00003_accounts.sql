-- Rackspace accounts the console connects to; secrets are AES-GCM sealed by the app.
-- +goose Up
CREATE TABLE accounts (
	id            INTEGER PRIMARY KEY,
	name          TEXT    NOT NULL,
	username      TEXT    NOT NULL,
	kind          TEXT    NOT NULL CHECK (kind IN ('api_key', 'password')),
	secret_sealed BLOB    NOT NULL,
	identity_url  TEXT    NOT NULL,
	region        TEXT    NOT NULL DEFAULT '',
	source        TEXT    NOT NULL DEFAULT 'admin' CHECK (source IN ('admin', 'env', 'demo')),
	created_unix  INTEGER NOT NULL,
	updated_unix  INTEGER NOT NULL
) STRICT;
-- The demo and env accounts are single rows refreshed at each start, so their ids (and history) stay stable.
CREATE UNIQUE INDEX accounts_managed ON accounts (source) WHERE source <> 'admin';

-- +goose Down
DROP TABLE accounts;
