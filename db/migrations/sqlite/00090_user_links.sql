-- One-time links that let a person set their own password (an invitation, or a reset made by an admin or at the console), kept only as the SHA-256 of their token; and a flag that sends a user to change a password somebody else chose.
-- +goose Up
CREATE TABLE user_links (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind         TEXT    NOT NULL CHECK (kind IN ('invite', 'reset')),
	hash         TEXT    NOT NULL UNIQUE, -- hex SHA-256 of the token; the link itself is shown once and never stored
	created_by   TEXT    NOT NULL,
	created_unix INTEGER NOT NULL,
	expires_unix INTEGER NOT NULL,
	used_unix    INTEGER NOT NULL DEFAULT 0 -- 0: not used yet
) STRICT;
CREATE INDEX user_links_user ON user_links (user_id);

ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));

-- +goose Down
ALTER TABLE users DROP COLUMN must_change_password;
DROP TABLE user_links;
