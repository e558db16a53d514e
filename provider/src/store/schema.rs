//! Schema creation and versioning (`PRAGMA user_version`).

use rusqlite::{Connection, TransactionBehavior};

use crate::error::ProviderError;

/// The schema version this code writes.
const VERSION: i64 = 3;

const SCHEMA_V1: &str = r#"
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_sha1 TEXT NOT NULL,          -- lowercase hex SHA-1 of the password, as the wire sends it
    token         TEXT NOT NULL,
    push_key      TEXT UNIQUE,
    created_at    INTEGER NOT NULL
);

CREATE TABLE work_orders (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,    -- string form of workOrderNumber
    number_json  TEXT NOT NULL,           -- workOrderNumber as JSON, as given ("WO-1" or 17)
    doc          TEXT NOT NULL,           -- the wire document, served verbatim
    assigned_to  INTEGER REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE INDEX work_orders_feed ON work_orders(assigned_to, updated_at) WHERE deleted_at IS NULL;

-- Orders that left a user's list: unassigned from it, or deleted while assigned to it.
CREATE TABLE departures (
    id      INTEGER PRIMARY KEY,
    number  TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind    TEXT NOT NULL CHECK (kind IN ('unassigned', 'deleted')),
    at      INTEGER NOT NULL
);
CREATE INDEX departures_user_at ON departures(user_id, at);
CREATE INDEX departures_user_number ON departures(user_id, number, id);

CREATE TABLE received_items (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE,
    username          TEXT NOT NULL,
    work_order_number TEXT NOT NULL,
    file_type         TEXT NOT NULL,
    task_name         TEXT,
    evidence_type     TEXT,
    file_name         TEXT,
    file_sha1         TEXT,
    file_size         INTEGER,
    metadata          TEXT NOT NULL,
    received_at       INTEGER NOT NULL,
    deliveries        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX received_items_order ON received_items(work_order_number);

CREATE TABLE status_updates (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT,
    username          TEXT NOT NULL,
    work_order_number TEXT NOT NULL,
    status            TEXT NOT NULL,
    entry             TEXT NOT NULL,
    received_at       INTEGER NOT NULL,
    deliveries        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (uuid, work_order_number)
);

CREATE TABLE push_events (
    id          INTEGER PRIMARY KEY,
    username    TEXT NOT NULL,
    method      TEXT NOT NULL,
    work_orders INTEGER NOT NULL,
    at          INTEGER NOT NULL
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Version 2: the index of received survey items (one row per `received_items` row of `fileType`
/// `survey`), written in the same transaction as the item.
const SCHEMA_V2: &str = r#"
CREATE TABLE survey_items (
    uuid            TEXT PRIMARY KEY REFERENCES received_items(uuid),
    template_id     TEXT NOT NULL,        -- survey.surveyId, else the part of `template` after "::"
    template        TEXT,                 -- the item's `template` field as sent ("CODE::templateId")
    answer_count    INTEGER NOT NULL,
    answers         TEXT NOT NULL,        -- survey.answers as JSON
    photo_uuids     TEXT NOT NULL,        -- JSON array: photo item uuids referenced by photo answers
    missing_photos  TEXT NOT NULL,        -- JSON array: those not yet received as pictures on arrival
    file_matches    INTEGER NOT NULL      -- 1 when the `file` part holds the same JSON as `survey`
);
"#;

/// Version 3: the emulator's verification of a picture's content credentials (`crate::credentials`), JSON.
const SCHEMA_V3: &str = "ALTER TABLE received_items ADD COLUMN credentials TEXT;";

/// Creates the schema in a fresh database, upgrades an older one; refuses a newer one.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), ProviderError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    match version {
        0 => {
            tx.execute_batch(SCHEMA_V1)?;
            tx.execute_batch(SCHEMA_V2)?;
            tx.execute_batch(SCHEMA_V3)?;
            tx.pragma_update(None, "user_version", VERSION)?;
        }
        1 => {
            tx.execute_batch(SCHEMA_V2)?;
            tx.execute_batch(SCHEMA_V3)?;
            tx.pragma_update(None, "user_version", VERSION)?;
        }
        2 => {
            tx.execute_batch(SCHEMA_V3)?;
            tx.pragma_update(None, "user_version", VERSION)?;
        }
        VERSION => {}
        newer => {
            return Err(ProviderError::invalid(format!(
                "database schema version {newer} is newer than this emulator ({VERSION})"
            )));
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_version_1_database_gains_the_survey_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA_V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        let surveys: i64 = conn
            .query_row("SELECT count(*) FROM survey_items", [], |row| row.get(0))
            .unwrap();
        assert_eq!(surveys, 0);
        // Current and newer versions.
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1).unwrap();
        assert!(migrate(&mut conn).is_err());
    }
}
