-- fieldsync schema version 9: field work itself. Surveys (templates, drafts, submissions), configuration
-- options at the integration level, field statuses and categories, and projects created on the device
-- before their order arrives.

-- A task's survey, as the provider sent it: by template id (looked up in `survey_templates`) and/or
-- inline (Pruvan's `surveyDynamic`, kept as sent; parsed when the survey is opened).
ALTER TABLE tasks ADD COLUMN survey_id TEXT;
ALTER TABLE tasks ADD COLUMN survey_inline TEXT;

-- The vendor's local template library (`fieldsync survey-template add`).
CREATE TABLE survey_templates (
    template_id TEXT PRIMARY KEY,
    version TEXT,
    name TEXT,
    definition TEXT NOT NULL,
    added_at INTEGER NOT NULL
);

-- Answers as the crew types them: one row per answer, so that saving one is one small durable write.
-- A draft belongs to a project's task; submitting keeps it (a bid may be submitted again, edited).
CREATE TABLE survey_drafts (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    task_name TEXT NOT NULL,
    question_id TEXT NOT NULL,
    answer TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, task_name, question_id)
) WITHOUT ROWID;

-- Submitted surveys: each submission is one item (its own UUID) relayed through `uploadPictures`, after
-- the QA gate, like a photo. `photo_ids` are the photos its answers reference: the item waits for them.
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

-- Options at the integration level (device < integration < work type < project < task).
ALTER TABLE integrations ADD COLUMN options TEXT NOT NULL DEFAULT '{}';

-- The crew's side of a project. `local`: created on the device, no order from the provider yet; its
-- field work waits in the outbox until an import adopts it. The field status is derived from the
-- moments it records, so that no write can leave it inconsistent.
ALTER TABLE projects ADD COLUMN local INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN viewed_at INTEGER;
ALTER TABLE projects ADD COLUMN work_started_at INTEGER;
ALTER TABLE projects ADD COLUMN changed_since_viewed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN completed_at INTEGER;
ALTER TABLE projects ADD COLUMN completion_reason TEXT;
ALTER TABLE projects ADD COLUMN field_status TEXT GENERATED ALWAYS AS (
    CASE
        WHEN completed_at IS NOT NULL THEN 'completed'
        WHEN changed_since_viewed THEN 'updated'
        WHEN work_started_at IS NOT NULL THEN 'in_process'
        WHEN viewed_at IS NOT NULL THEN 'viewed'
        ELSE 'new'
    END
) VIRTUAL;
-- The date-independent part of the category; `upcoming` (start date in the future) is split from
-- `open` at query time, because a generated column cannot read the clock.
ALTER TABLE projects ADD COLUMN category_base TEXT GENERATED ALWAYS AS (
    CASE
        WHEN closed OR completed_at IS NOT NULL THEN 'complete'
        WHEN lower(coalesce(client_status, '')) IN ('cancelled', 'canceled', 'deleted') THEN 'cancelled'
        WHEN upper(coalesce(status, '')) = 'REWORK' THEN 'rework'
        WHEN upper(coalesce(status, '')) = 'RUSH' THEN 'rush'
        ELSE 'open'
    END
) VIRTUAL;

CREATE INDEX projects_by_category ON projects (category_base, coalesce(due_date, client_due_date, '~'), work_order_number);
CREATE INDEX projects_by_category_start ON projects (category_base, start_date, work_order_number);
CREATE INDEX projects_local ON projects (integration_id) WHERE local;
