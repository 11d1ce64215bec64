-- Repeated failures (sign-ins) are counted on one audit row per key and window instead of a row each.
-- +goose Up
ALTER TABLE audit_log ADD COLUMN count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN aggregate_key TEXT;
CREATE UNIQUE INDEX audit_log_aggregate ON audit_log (aggregate_key) WHERE aggregate_key IS NOT NULL;

-- +goose Down
DROP INDEX audit_log_aggregate;
ALTER TABLE audit_log DROP COLUMN aggregate_key;
ALTER TABLE audit_log DROP COLUMN count;
