-- Failed sign-in counters per email and per client IP, for the login throttle.
-- +goose Up
CREATE TABLE login_attempts (
	key                TEXT    PRIMARY KEY,
	failures           INTEGER NOT NULL,
	last_failure_unix  INTEGER NOT NULL,
	refused_until_unix INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE login_attempts;
