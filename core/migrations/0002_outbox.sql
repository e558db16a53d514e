-- fieldsync schema version 2: the transactional outbox for field work, and the Full Import keep flag.

-- A project a Full Import no longer lists but that holds pending field work: kept until it is delivered.
ALTER TABLE projects ADD COLUMN removal_pending INTEGER NOT NULL DEFAULT 0;

-- Field work waiting for delivery. `id` is the client UUID and the provider's idempotency key.
-- States: queued -> in_flight -> done | retry_wait | needs_attention. Nothing is discarded automatically.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    integration_id  INTEGER NOT NULL REFERENCES integrations(id),
    project_id      INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,
    payload_version INTEGER NOT NULL DEFAULT 1,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'in_flight', 'done', 'retry_wait', 'needs_attention')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE INDEX outbox_pending_by_project ON outbox (project_id) WHERE state != 'done';
CREATE INDEX outbox_by_state ON outbox (state, next_attempt_at);
