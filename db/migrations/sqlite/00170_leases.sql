-- Leases: work that must run on one console replica at a time (an account's report sync, its alert evaluation) is done by the replica holding its lease, which it renews while it works; a replica that dies stops renewing, and another takes the lease once it has expired.
-- +goose Up
CREATE TABLE leases (
	name         TEXT    NOT NULL PRIMARY KEY, -- the work: "sync:3", "alerts:3"
	holder       TEXT    NOT NULL,             -- the replica holding it (random per process)
	expires_unix INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE leases;
