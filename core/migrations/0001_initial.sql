-- fieldsync schema version 1: integrations, work types, projects and their tasks.
-- Times are Unix seconds (INTEGER). JSON objects are stored as TEXT.

CREATE TABLE integrations (
    id                  INTEGER PRIMARY KEY,
    code                TEXT NOT NULL UNIQUE,
    name                TEXT,
    type                TEXT NOT NULL DEFAULT 'pruvan_share',
    mode                TEXT NOT NULL CHECK (mode IN ('internal', 'external')),
    publish_to          TEXT NOT NULL DEFAULT '[]',
    username            TEXT NOT NULL,
    base_url            TEXT NOT NULL,
    service_extension   TEXT,
    auto_admin          INTEGER NOT NULL DEFAULT 1,
    default_work_type   TEXT,
    default_assign_to   TEXT NOT NULL DEFAULT 'none',
    auto_relay          INTEGER NOT NULL DEFAULT 0,
    auto_import         INTEGER NOT NULL DEFAULT 0,
    check_in            TEXT NOT NULL DEFAULT '{}',
    status              TEXT NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'pending', 'running', 'error')),
    last_refreshed      INTEGER,
    last_error          TEXT,
    sync_cursor         INTEGER,
    validated_at        INTEGER,
    created_at          INTEGER NOT NULL
);

CREATE TABLE work_types (
    name        TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE projects (
    id                  INTEGER PRIMARY KEY,
    integration_id      INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    work_order_number   TEXT NOT NULL,
    work_order_info     TEXT,
    address1            TEXT,
    address2            TEXT,
    city                TEXT,
    state               TEXT,
    zip                 TEXT,
    country             TEXT,
    assigned_to         TEXT,
    status              TEXT,
    due_date            TEXT,
    instructions        TEXT,
    client_status       TEXT,
    client_due_date     TEXT,
    client_instructions TEXT,
    description         TEXT,
    reference           TEXT,
    latitude            REAL,
    longitude           REAL,
    start_date          TEXT,
    options             TEXT NOT NULL DEFAULT '{}',
    attributes          TEXT NOT NULL DEFAULT '{}',
    closed              INTEGER NOT NULL DEFAULT 0,
    -- Fingerprint of the last work order applied with the settings of that time; NULL after a local edit.
    -- An import skips an order whose fingerprint matches: nothing it could change has changed.
    fingerprint         BLOB,
    updated_at          INTEGER NOT NULL,
    UNIQUE (integration_id, work_order_number)
);

CREATE INDEX projects_by_due ON projects (coalesce(due_date, '~'), work_order_number);
CREATE INDEX projects_by_client_status ON projects (client_status COLLATE NOCASE);

CREATE TABLE tasks (
    project_id      INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    instructions    TEXT,
    options         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (project_id, position)
) WITHOUT ROWID;
