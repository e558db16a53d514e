-- fieldsync schema version 13: a durable field-work commit writes fewer pages.
--
-- Each check-in, photo, survey or status change is one `synchronous=FULL` commit, and every b-tree page it
-- touches is one more 4 KiB frame appended to the WAL. A check-in used to touch nine: the check-in row, its
-- UUID key index, its project index, the outbox row, the outbox's UUID key, its `seq` index and three
-- partial outbox indexes. More frames per commit also mean a WAL checkpoint (1,000 frames) every hundred
-- check-ins, run inside the commit that crosses the mark: that was the slowest 1 % of check-ins.
--
-- * `checkins` is keyed by its UUID without a row id: the row and its key are one b-tree.
-- * `outbox.seq` becomes the row id (`INTEGER PRIMARY KEY`): the table is stored in delivery order and
--   needs no separate `seq` index, and every outbox index now ends in `seq`, so "an earlier open entry of
--   this project" is a range of `outbox_pending_by_project`.
-- * `outbox_by_state (state, next_attempt_at)` was touched by every new entry; its two readers get partial
--   indexes that a new (queued or held) entry never touches: the earliest end of a backoff
--   (`outbox_retry_due`) and the last delivery and the clean-up of delivered rows (`outbox_done_by_time`).
--
-- New record UUIDs are time-ordered (version 7, see `outbox::new_entry_id`), so a new key lands on the last
-- page of its index instead of a random one. Rows, values and column order are unchanged.

CREATE TABLE checkins_v13 (
    id TEXT NOT NULL PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    work_order_number TEXT NOT NULL,
    user_name TEXT,
    badge TEXT,
    device_time INTEGER NOT NULL,
    fix_time_ms INTEGER NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    accuracy_m REAL NOT NULL,
    altitude_m REAL,
    is_mock INTEGER NOT NULL,
    distance_m REAL,
    certified INTEGER NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    photo_required INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO checkins_v13 (id, integration_id, project_id, work_order_number, user_name, badge, device_time,
        fix_time_ms, latitude, longitude, accuracy_m, altitude_m, is_mock, distance_m, certified, reasons,
        photo_required)
    SELECT id, integration_id, project_id, work_order_number, user_name, badge, device_time, fix_time_ms,
        latitude, longitude, accuracy_m, altitude_m, is_mock, distance_m, certified, reasons, photo_required
    FROM checkins;

DROP TABLE checkins;
ALTER TABLE checkins_v13 RENAME TO checkins;
CREATE INDEX checkins_by_project ON checkins (project_id, device_time);

CREATE TABLE outbox_v13 (
    id TEXT NOT NULL UNIQUE,
    seq INTEGER PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id),
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    payload_version INTEGER NOT NULL DEFAULT 1,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('held', 'queued', 'in_flight', 'done', 'retry_wait', 'needs_attention')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    lease_owner TEXT
);

INSERT INTO outbox_v13 (id, seq, integration_id, project_id, kind, payload_version, payload, state, attempts,
        next_attempt_at, last_error, created_at, updated_at, lease_owner)
    SELECT id, seq, integration_id, project_id, kind, payload_version, payload, state, attempts,
        next_attempt_at, last_error, created_at, updated_at, lease_owner
    FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_v13 RENAME TO outbox;

-- A run's snapshot: the open entries of an integration in order, without walking done or held ones.
CREATE INDEX outbox_open ON outbox (integration_id, seq) WHERE state NOT IN ('done', 'held');
-- Undelivered work of a project, in order (the row id `seq` ends every index entry).
CREATE INDEX outbox_pending_by_project ON outbox (project_id) WHERE state != 'done';
-- Recovery: the entries in flight, by owner.
CREATE INDEX outbox_in_flight ON outbox (lease_owner) WHERE state = 'in_flight';
-- When the earliest backoff ends.
CREATE INDEX outbox_retry_due ON outbox (next_attempt_at) WHERE state = 'retry_wait';
-- The last delivery, and the clean-up of delivered rows.
CREATE INDEX outbox_done_by_time ON outbox (updated_at) WHERE state = 'done';
