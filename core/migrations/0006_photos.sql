-- fieldsync schema version 6: photos, and the outbox state `held`.

-- A photo's outbox entry exists from the moment it is taken, but it must not move before the photo is
-- processed and allowed by QA: it waits as `held`. SQLite cannot change a CHECK constraint in place, so the
-- outbox is rebuilt with every row kept (same ids, sequence numbers and states).
CREATE TABLE outbox_new (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    integration_id  INTEGER NOT NULL REFERENCES integrations(id),
    project_id      INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,
    payload_version INTEGER NOT NULL DEFAULT 1,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('held', 'queued', 'in_flight', 'done', 'retry_wait', 'needs_attention')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO outbox_new (id, seq, integration_id, project_id, kind, payload_version, payload, state, attempts,
        next_attempt_at, last_error, created_at, updated_at)
    SELECT id, seq, integration_id, project_id, kind, payload_version, payload, state, attempts,
        next_attempt_at, last_error, created_at, updated_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending_by_project ON outbox (project_id) WHERE state != 'done';
CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at);

-- A photo of a project task. `id` is the client UUID (its outbox entry's id and the provider's `uuId`).
-- Files live in the photo directory, content-addressed by SHA-256: the original as the camera gave it, the
-- upload rendition and the thumbnail.
CREATE TABLE photos (
    id                    TEXT PRIMARY KEY,
    integration_id        INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_id            INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    work_order_number     TEXT NOT NULL,
    task_name             TEXT NOT NULL,
    evidence_type         TEXT NOT NULL CHECK (evidence_type IN ('before', 'during', 'after')),
    file_name             TEXT NOT NULL,
    original_sha256       TEXT NOT NULL,
    original_size         INTEGER NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN
                              ('processing', 'pending_qa', 'queued', 'uploading', 'relayed', 'failed', 'rejected')),
    state_message         TEXT,
    rendition_sha256      TEXT,
    rendition_size        INTEGER,
    width                 INTEGER,
    height                INTEGER,
    thumbnail_sha256      TEXT,
    capture_time          INTEGER,
    exif_latitude         REAL,
    exif_longitude        REAL,
    camera_model          TEXT,
    fix_latitude          REAL,
    fix_longitude         REAL,
    fix_accuracy_m        REAL,
    fix_time_ms           INTEGER,
    distance_m            REAL,
    location_certified    INTEGER,
    first_upload_at       INTEGER,
    certification_reasons TEXT NOT NULL DEFAULT '[]',
    approved_at           INTEGER,
    device_id             TEXT NOT NULL,
    created_at            INTEGER NOT NULL
);

-- The same bytes added twice to the same project are the same photo.
CREATE UNIQUE INDEX photos_by_content ON photos (project_id, original_sha256);
CREATE INDEX photos_by_state ON photos (state, created_at);
