-- The overview's heatmap counts backups per agent, day and state over a month on every refresh: a covering index keeps that read off the wide report rows.
-- +goose Up
CREATE INDEX reports_agent_days ON reports (account_id, kind, finished_unix, agent_id, state, agent_name);

-- +goose Down
DROP INDEX reports_agent_days;
