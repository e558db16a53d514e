-- The schema of a freshly migrated fieldsync database (schema version 13): the SQL of every
-- table, index, trigger and view in sqlite_master, sorted by name, comments dropped, whitespace
-- normalised. Generated: do not edit. After adding a migration, regenerate it with
--   FIELDSYNC_UPDATE_SCHEMA=1 cargo nextest run -p fieldsync-tests --test e2e schema_snapshot
-- and review the difference with the migration.

CREATE TABLE "checkins" (
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

CREATE INDEX checkins_by_project ON checkins (project_id, device_time);

CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT,
    type TEXT NOT NULL DEFAULT 'pruvan_share',
    mode TEXT NOT NULL CHECK (mode IN ('internal', 'external')),
    publish_to TEXT NOT NULL DEFAULT '[]',
    username TEXT NOT NULL,
    base_url TEXT NOT NULL,
    service_extension TEXT,
    auto_admin INTEGER NOT NULL DEFAULT 1,
    default_work_type TEXT,
    default_assign_to TEXT NOT NULL DEFAULT 'none',
    auto_relay INTEGER NOT NULL DEFAULT 0,
    auto_import INTEGER NOT NULL DEFAULT 0,
    check_in TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'idle' CHECK (status IN ('idle', 'pending', 'running', 'error')),
    last_refreshed INTEGER,
    last_error TEXT,
    sync_cursor INTEGER,
    validated_at INTEGER,
    created_at INTEGER NOT NULL,
    options TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE "outbox" (
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

CREATE INDEX outbox_done_by_time ON outbox (updated_at) WHERE state = 'done';

CREATE INDEX outbox_in_flight ON outbox (lease_owner) WHERE state = 'in_flight';

CREATE INDEX outbox_open ON outbox (integration_id, seq) WHERE state NOT IN ('done', 'held');

CREATE INDEX outbox_pending_by_project ON outbox (project_id) WHERE state != 'done';

CREATE INDEX outbox_retry_due ON outbox (next_attempt_at) WHERE state = 'retry_wait';

CREATE TABLE photo_hashes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    photo_id TEXT NOT NULL UNIQUE REFERENCES photos(id) ON DELETE CASCADE,
    phash INTEGER NOT NULL
);

CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    work_order_number TEXT NOT NULL,
    task_name TEXT NOT NULL,
    evidence_type TEXT NOT NULL CHECK (evidence_type IN ('before', 'during', 'after')),
    file_name TEXT NOT NULL,
    original_sha256 TEXT NOT NULL,
    original_size INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('processing', 'pending_qa', 'queued', 'uploading', 'relayed', 'failed', 'rejected')),
    state_message TEXT,
    rendition_sha256 TEXT,
    rendition_size INTEGER,
    width INTEGER,
    height INTEGER,
    thumbnail_sha256 TEXT,
    capture_time INTEGER,
    exif_latitude REAL,
    exif_longitude REAL,
    camera_model TEXT,
    fix_latitude REAL,
    fix_longitude REAL,
    fix_accuracy_m REAL,
    fix_time_ms INTEGER,
    distance_m REAL,
    location_certified INTEGER,
    first_upload_at INTEGER,
    certification_reasons TEXT NOT NULL DEFAULT '[]',
    approved_at INTEGER,
    device_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    processing_owner TEXT,
    relayed_at INTEGER,
    original_evicted_at INTEGER,
    rendition_evicted_at INTEGER,
    reuse_of TEXT,
    reuse_distance INTEGER,
    taken_before_assignment INTEGER NOT NULL DEFAULT 0,
    signed INTEGER NOT NULL DEFAULT 0,
    evidence_wait TEXT
);

CREATE UNIQUE INDEX photos_by_content ON photos (project_id, original_sha256);

CREATE INDEX photos_by_state ON photos (state, created_at);

CREATE INDEX photos_relayed_by_project ON photos (project_id) WHERE state = 'relayed';

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    work_order_number TEXT NOT NULL,
    work_order_info TEXT,
    address1 TEXT,
    address2 TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    country TEXT,
    assigned_to TEXT,
    status TEXT,
    due_date TEXT,
    instructions TEXT,
    client_status TEXT,
    client_due_date TEXT,
    client_instructions TEXT,
    description TEXT,
    reference TEXT,
    latitude REAL,
    longitude REAL,
    start_date TEXT,
    options TEXT NOT NULL DEFAULT '{}',
    attributes TEXT NOT NULL DEFAULT '{}',
    closed INTEGER NOT NULL DEFAULT 0,
    fingerprint BLOB,
    updated_at INTEGER NOT NULL,
    removal_pending INTEGER NOT NULL DEFAULT 0,
    search_text TEXT NOT NULL DEFAULT '',
    host_latitude REAL,
    host_longitude REAL,
    local INTEGER NOT NULL DEFAULT 0,
    viewed_at INTEGER,
    work_started_at INTEGER,
    changed_since_viewed INTEGER NOT NULL DEFAULT 0,
    completed_at INTEGER,
    completion_reason TEXT,
    field_status TEXT GENERATED ALWAYS AS (CASE WHEN completed_at IS NOT NULL THEN 'completed' WHEN changed_since_viewed THEN 'updated' WHEN work_started_at IS NOT NULL THEN 'in_process' WHEN viewed_at IS NOT NULL THEN 'viewed' ELSE 'new' END) VIRTUAL,
    category_base TEXT GENERATED ALWAYS AS (CASE WHEN closed OR completed_at IS NOT NULL THEN 'complete' WHEN lower(coalesce(client_status, '')) IN ('cancelled', 'canceled', 'deleted') THEN 'cancelled' WHEN upper(coalesce(status, '')) = 'REWORK' THEN 'rework' WHEN upper(coalesce(status, '')) = 'RUSH' THEN 'rush' ELSE 'open' END) VIRTUAL,
    first_seen_at INTEGER,
    UNIQUE (integration_id, work_order_number)
);

CREATE INDEX projects_by_category ON projects (category_base, coalesce(due_date, client_due_date, '~'), work_order_number);

CREATE INDEX projects_by_category_start ON projects (category_base, start_date, work_order_number);

CREATE INDEX projects_by_client_status ON projects (client_status COLLATE NOCASE, coalesce(due_date, client_due_date, '~'), work_order_number);

CREATE INDEX projects_by_due ON projects (coalesce(due_date, client_due_date, '~'), work_order_number);

CREATE INDEX projects_by_integration_due ON projects (integration_id, coalesce(due_date, client_due_date, '~'), work_order_number);

CREATE INDEX projects_local ON projects (integration_id) WHERE local;

CREATE VIRTUAL TABLE projects_search USING fts5(
    search_text,
    content = 'projects',
    content_rowid = 'id',
    tokenize = 'ascii',
    detail = none,
    columnsize = 0,
    prefix = '3 4 5 6'
);

CREATE TABLE 'projects_search_config'(
    k PRIMARY KEY,
    v
) WITHOUT ROWID;

CREATE TABLE 'projects_search_data'(
    id INTEGER PRIMARY KEY,
    block BLOB
);

CREATE TRIGGER projects_search_delete AFTER DELETE ON projects WHEN old.search_text <> '' AND old.id <= (SELECT indexed_through FROM search_state) BEGIN INSERT INTO projects_search (projects_search, rowid, search_text) VALUES ('delete', old.id, old.search_text); END;

CREATE TABLE 'projects_search_idx'(
    segid,
    term,
    pgno,
    PRIMARY KEY(segid, term)
) WITHOUT ROWID;

CREATE TABLE search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);

CREATE TABLE survey_drafts (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    task_name TEXT NOT NULL,
    question_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, task_name, question_id)
) WITHOUT ROWID;

CREATE TABLE survey_templates (
    template_id TEXT PRIMARY KEY,
    version TEXT,
    name TEXT,
    definition TEXT NOT NULL,
    added_at INTEGER NOT NULL
);

CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    work_order_number TEXT NOT NULL,
    task_name TEXT NOT NULL,
    template_id TEXT NOT NULL,
    answers TEXT NOT NULL,
    photo_ids TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL CHECK (state IN ('pending_qa', 'queued', 'relayed', 'rejected')),
    state_message TEXT,
    approved_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE INDEX surveys_by_project ON surveys (project_id, task_name, created_at);

CREATE TABLE tasks (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    instructions TEXT,
    options TEXT NOT NULL DEFAULT '{}',
    survey_id TEXT,
    survey_inline TEXT,
    PRIMARY KEY (project_id, position)
) WITHOUT ROWID;

CREATE TABLE user_defaults (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE work_types (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
