-- Access per Rackspace account: a user has every account with their role (access 'all', which every existing user keeps) or only the accounts granted here, each with its own role.
-- +goose Up
ALTER TABLE users ADD COLUMN access TEXT NOT NULL DEFAULT 'all' CHECK (access IN ('all', 'accounts'));
CREATE TABLE user_grants (
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	role       TEXT   NOT NULL CHECK (role IN ('observer', 'creator')),
	PRIMARY KEY (user_id, account_id)
);
-- Deleting an account deletes its grants through the foreign key.
CREATE INDEX user_grants_account ON user_grants (account_id);

-- +goose Down
DROP TABLE user_grants;
ALTER TABLE users DROP COLUMN access;
