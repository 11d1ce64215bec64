-- Two-factor sign-in: a user's TOTP secret (sealed with the app secret) and the last time step a code was accepted in (so a code cannot be replayed), ten one-time recovery codes kept only as SHA-256, the half-signed-in state between a first factor and the second, and the roles that must use a second factor.
-- +goose Up
CREATE TABLE user_totp (
	id             INTEGER PRIMARY KEY,
	user_id        INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	secret_sealed  BLOB    NOT NULL, -- AES-GCM under a key derived from the app secret; rotate-secret re-seals it
	confirmed_unix INTEGER NOT NULL DEFAULT 0, -- 0: enrolment not confirmed with a code yet, so it does not count
	last_step      INTEGER NOT NULL DEFAULT 0, -- the latest 30 s step a code was accepted in; codes of it and earlier steps are refused
	created_unix   INTEGER NOT NULL
) STRICT;

CREATE TABLE user_recovery_codes (
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash         TEXT    NOT NULL, -- hex SHA-256 of the normalised code; the code itself is shown once
	created_unix INTEGER NOT NULL,
	used_unix    INTEGER NOT NULL DEFAULT 0, -- 0: not used yet
	PRIMARY KEY (user_id, hash)
) STRICT;

CREATE TABLE pending_sign_ins (
	hash         TEXT    PRIMARY KEY, -- hex SHA-256 of the token in the browser's cookie
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	method       TEXT    NOT NULL, -- the first factor: password, oidc
	enrol        INTEGER NOT NULL CHECK (enrol IN (0, 1)), -- 1: the user must enrol a factor before going in
	next_path    TEXT    NOT NULL,
	created_unix INTEGER NOT NULL,
	expires_unix INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_sign_ins_expires ON pending_sign_ins (expires_unix);

CREATE TABLE mfa_required_roles (
	role TEXT PRIMARY KEY CHECK (role IN ('observer', 'creator', 'admin'))
) STRICT;

-- +goose Down
DROP TABLE mfa_required_roles;
DROP TABLE pending_sign_ins;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
