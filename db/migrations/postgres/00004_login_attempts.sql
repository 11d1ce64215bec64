-- Failed sign-in counters per email and per client IP, for the login throttle.
-- +goose Up
CREATE TABLE login_attempts (
	key                TEXT   PRIMARY KEY,
	failures           BIGINT NOT NULL,
	last_failure_unix  BIGINT NOT NULL,
	refused_until_unix BIGINT NOT NULL
);

-- +goose Down
DROP TABLE login_attempts;
