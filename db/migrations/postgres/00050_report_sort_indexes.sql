-- Every sort of the report history pages by walking an index instead of sorting the selection: one index per sort column (the id, the tie-breaker, ends each), and the same over reports with errors for searches (a match always has errors).
-- +goose Up
CREATE INDEX reports_sort_started ON reports (account_id, started_unix, id);
CREATE INDEX reports_sort_duration ON reports (account_id, duration_s, id);
CREATE INDEX reports_sort_agent ON reports (account_id, agent_name, id);
CREATE INDEX reports_sort_config ON reports (account_id, config_name, id);
CREATE INDEX reports_sort_state ON reports (account_id, state, id);
CREATE INDEX reports_sort_kind ON reports (account_id, kind, id);
CREATE INDEX reports_sort_files ON reports (account_id, (files_backed_up + files_restored), id);
CREATE INDEX reports_sort_bytes ON reports (account_id, (bytes_backed_up + bytes_restored), id);
CREATE INDEX reports_sort_errors ON reports (account_id, error_count, id);
CREATE INDEX reports_errsort_started ON reports (account_id, started_unix, id) WHERE error_count > 0;
CREATE INDEX reports_errsort_duration ON reports (account_id, duration_s, id) WHERE error_count > 0;
CREATE INDEX reports_errsort_agent ON reports (account_id, agent_name, id) WHERE error_count > 0;
CREATE INDEX reports_errsort_config ON reports (account_id, config_name, id) WHERE error_count > 0;
CREATE INDEX reports_errsort_state ON reports (account_id, state, id) WHERE error_count > 0;
CREATE INDEX reports_errsort_kind ON reports (account_id, kind, id) WHERE error_count > 0;
CREATE INDEX reports_errsort_files ON reports (account_id, (files_backed_up + files_restored), id) WHERE error_count > 0;
CREATE INDEX reports_errsort_bytes ON reports (account_id, (bytes_backed_up + bytes_restored), id) WHERE error_count > 0;
CREATE INDEX reports_errsort_errors ON reports (account_id, error_count, id) WHERE error_count > 0;

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
