-- fieldsync schema version 7: outbox leases, and indexes that keep every delivery step O(log n).

-- The delivery run that holds an `in_flight` entry (its lock file's name); NULL otherwise. Only a dead
-- run's entries are taken back (see core/src/outbox/lease.rs).
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;

-- A run's snapshot: the open entries of an integration in order, without walking done or held ones.
CREATE INDEX outbox_open ON outbox (integration_id, seq) WHERE state NOT IN ('done', 'held');
-- Recovery: the entries in flight, by owner.
CREATE INDEX outbox_in_flight ON outbox (lease_owner) WHERE state = 'in_flight';
-- "Has this project a relayed photo" for check-ins that wait for one.
CREATE INDEX photos_relayed_by_project ON photos (project_id) WHERE state = 'relayed';
