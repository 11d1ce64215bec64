-- When the console first saw each backup configuration, so that one that has never run can be told overdue once its schedule says it should have.
-- +goose Up
CREATE TABLE configuration_seen (
	account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	config_id       BIGINT NOT NULL,
	first_seen_unix BIGINT NOT NULL,
	PRIMARY KEY (account_id, config_id)
);

-- +goose Down
DROP TABLE configuration_seen;
