-- Console users, their server-side sessions, and small named settings (the generated app secret).
-- +goose Up
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE,
	name          TEXT    NOT NULL DEFAULT '',
	password_hash TEXT    NOT NULL,
	role          TEXT    NOT NULL CHECK (role IN ('observer', 'creator', 'admin')),
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	time_zone     TEXT    NOT NULL DEFAULT 'UTC',
	created_unix  INTEGER NOT NULL,
	updated_unix  INTEGER NOT NULL
) STRICT;

-- id is the SHA-256 of the cookie's token: a copy of the database holds no usable session.
CREATE TABLE sessions (
	id             TEXT    PRIMARY KEY,
	user_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,
	data           BLOB    NOT NULL DEFAULT x'',
	created_unix   INTEGER NOT NULL,
	last_seen_unix INTEGER NOT NULL,
	expires_unix   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

-- +goose Down
DROP TABLE settings;
DROP TABLE sessions;
DROP TABLE users;
