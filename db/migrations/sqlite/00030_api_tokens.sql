-- Personal access tokens for the read-only JSON API: only the SHA-256 of each token is kept, and a user's tokens go with the user.
-- +goose Up
CREATE TABLE api_tokens (
	id             INTEGER PRIMARY KEY,
	user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name           TEXT    NOT NULL,
	hash           TEXT    NOT NULL UNIQUE, -- hex SHA-256 of the token; the token itself is shown once and never stored
	hint           TEXT    NOT NULL,        -- the token's last characters, to tell tokens apart
	created_unix   INTEGER NOT NULL,
	expires_unix   INTEGER NOT NULL DEFAULT 0, -- 0: never
	last_used_unix INTEGER NOT NULL DEFAULT 0, -- 0: never used
	UNIQUE (user_id, name)
) STRICT;

-- +goose Down
DROP TABLE api_tokens;
