-- fieldsync schema version 5: check-ins, user defaults, coordinates the host sets for a project.

-- Coordinates from the host (e.g. geocoding the address) for projects the provider sent without any.
ALTER TABLE projects ADD COLUMN host_latitude REAL;
ALTER TABLE projects ADD COLUMN host_longitude REAL;

-- A check-in as captured on site. `id` is the client UUID, also its outbox entry's id and the provider's
-- idempotency key (`uuId`). The row stays after delivery: it is the vendor's record.
CREATE TABLE checkins (
    id                TEXT PRIMARY KEY,
    integration_id    INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_id        INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    work_order_number TEXT NOT NULL,
    user_name         TEXT,
    badge             TEXT,
    device_time       INTEGER NOT NULL,
    fix_time_ms       INTEGER NOT NULL,
    latitude          REAL NOT NULL,
    longitude         REAL NOT NULL,
    accuracy_m        REAL NOT NULL,
    altitude_m        REAL,
    is_mock           INTEGER NOT NULL,
    distance_m        REAL,
    certified         INTEGER NOT NULL,
    reasons           TEXT NOT NULL DEFAULT '[]',
    photo_required    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX checkins_by_project ON checkins (project_id, device_time);

-- Small per-device preferences (the check-in badge number).
CREATE TABLE user_defaults (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
