-- Every sort of the report history pages by walking an index instead of sorting the selection: one index per sort column (the rowid, the tie-breaker, ends each), and the same over reports with errors for searches (a match always has errors).
-- +goose Up
CREATE INDEX reports_sort_started ON reports (account_id, started_unix);
CREATE INDEX reports_sort_duration ON reports (account_id, duration_s);
CREATE INDEX reports_sort_agent ON reports (account_id, agent_name);
CREATE INDEX reports_sort_config ON reports (account_id, config_name);
CREATE INDEX reports_sort_state ON reports (account_id, state);
CREATE INDEX reports_sort_kind ON reports (account_id, kind);
CREATE INDEX reports_sort_files ON reports (account_id, (files_backed_up + files_restored));
CREATE INDEX reports_sort_bytes ON reports (account_id, (bytes_backed_up + bytes_restored));
CREATE INDEX reports_sort_errors ON reports (account_id, error_count);
CREATE INDEX reports_errsort_started ON reports (account_id, started_unix) WHERE error_count > 0;
CREATE INDEX reports_errsort_duration ON reports (account_id, duration_s) WHERE error_count > 0;
CREATE INDEX reports_errsort_agent ON reports (account_id, agent_name) WHERE error_count > 0;
CREATE INDEX reports_errsort_config ON reports (account_id, config_name) WHERE error_count > 0;
CREATE INDEX reports_errsort_state ON reports (account_id, state) WHERE error_count > 0;
CREATE INDEX reports_errsort_kind ON reports (account_id, kind) WHERE error_count > 0;
CREATE INDEX reports_errsort_files ON reports (account_id, (files_backed_up + files_restored)) WHERE error_count > 0;
CREATE INDEX reports_errsort_bytes ON reports (account_id, (bytes_backed_up + bytes_restored)) WHERE error_count > 0;
CREATE INDEX reports_errsort_errors ON reports (account_id, error_count) WHERE error_count > 0;

-- +goose Down
DROP INDEX reports_errsort_errors;
DROP INDEX reports_errsort_bytes;
DROP INDEX reports_errsort_files;
DROP INDEX reports_errsort_kind;
DROP INDEX reports_errsort_state;
DROP INDEX reports_errsort_config;
DROP INDEX reports_errsort_agent;
DROP INDEX reports_errsort_duration;
DROP INDEX reports_errsort_started;
DROP INDEX reports_sort_errors;
DROP INDEX reports_sort_bytes;
DROP INDEX reports_sort_files;
DROP INDEX reports_sort_kind;
DROP INDEX reports_sort_state;
DROP INDEX reports_sort_config;
DROP INDEX reports_sort_agent;
DROP INDEX reports_sort_duration;
DROP INDEX reports_sort_started;
