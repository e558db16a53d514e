//! The transactional outbox on disk: field work recorded with its delivery entry in one transaction, then
//! delivered in order per project. The state machine itself is `crate::outbox`.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Store, integrations};
use crate::model::{Timestamp, now};
use crate::outbox::{EntryState, EntryUpdate};
use crate::{Error, Result};

/// A vendor's status change for the provider's `status` service.
pub(crate) const KIND_STATUS: &str = "status";
/// A check-in, delivered as an `uploadPictures` item without a file.
pub(crate) const KIND_CHECKIN: &str = "checkin";
/// A photo, delivered as an `uploadPictures` item with its rendition.
pub(crate) const KIND_PHOTO: &str = "photo";

/// Queues a photo's delivery, `held` until it is processed and allowed by QA.
pub(crate) fn enqueue_held(
    connection: &Connection,
    id: &str,
    integration_id: i64,
    project_id: i64,
    kind: &str,
) -> Result<()> {
    enqueue_with_id(
        connection,
        id,
        integration_id,
        Some(project_id),
        kind,
        &serde_json::json!({}),
    )?;
    connection.execute("UPDATE outbox SET state = 'held' WHERE id = ?1", [id])?;
    Ok(())
}

/// Queues a piece of field work under a new UUID. Must run in the transaction of the write it delivers.
pub(crate) fn enqueue(
    connection: &Connection,
    integration_id: i64,
    project_id: Option<i64>,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    enqueue_with_id(connection, &id, integration_id, project_id, kind, payload)?;
    Ok(id)
}

/// Queues a piece of field work under the caller's UUID (the record's own id).
pub(crate) fn enqueue_with_id(
    connection: &Connection,
    id: &str,
    integration_id: i64,
    project_id: Option<i64>,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<()> {
    let at = now();
    connection.execute(
        "INSERT INTO outbox (id, seq, integration_id, project_id, kind, payload, created_at, updated_at)
         VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, integration_id, project_id, kind, payload.to_string(), at],
    )?;
    Ok(())
}

/// Entries of a project not yet delivered.
pub(crate) fn pending_for_project(connection: &Connection, project_id: i64) -> Result<u64> {
    Ok(connection
        .prepare_cached("SELECT count(*) FROM outbox WHERE project_id = ?1 AND state != 'done'")?
        .query_row([project_id], |row| row.get(0))?)
}

/// An outbox entry as the host sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxSummary {
    /// Client UUID (the provider's idempotency key).
    pub id: String,
    /// `CODE::NUMBER` of the project, when it has one.
    pub project: Option<String>,
    /// What it delivers (`status`, `checkin`, `photo`).
    pub kind: String,
    /// Delivery state.
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// The payload that will be sent.
    pub payload: serde_json::Value,
}

/// An entry claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DueEntry {
    /// Client UUID.
    pub id: String,
    /// What it delivers.
    pub kind: String,
    /// The payload.
    pub payload: serde_json::Value,
    /// Attempts before this one.
    pub attempts: u32,
}

const SUMMARY: &str =
    "SELECT o.id, i.code || '::' || p.work_order_number, o.kind, o.state, o.attempts, o.last_error,
        o.created_at, o.payload
     FROM outbox o JOIN integrations i ON i.id = o.integration_id
     LEFT JOIN projects p ON p.id = o.project_id";

fn summary(row: &rusqlite::Row) -> rusqlite::Result<OutboxSummary> {
    let payload: String = row.get(7)?;
    Ok(OutboxSummary {
        id: row.get(0)?,
        project: row.get(1)?,
        kind: row.get(2)?,
        state: row.get(3)?,
        attempts: row.get(4)?,
        last_error: row.get(5)?,
        created_at: row.get(6)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
    })
}

impl Store {
    /// Every undelivered entry of an integration (for export before a forced delete), oldest first.
    pub fn pending_outbox_entries(&self, code: &str) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            let mut statement = connection.prepare(&format!(
                "{SUMMARY} WHERE o.integration_id = ?1 AND o.state != 'done' ORDER BY o.seq"
            ))?;
            let rows = statement.query_map([integration_id], summary)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Every entry (all integrations), oldest first; delivered ones only with `include_done`.
    pub fn outbox_entries(&self, include_done: bool) -> Result<Vec<OutboxSummary>> {
        let filter = if include_done {
            ""
        } else {
            " WHERE o.state != 'done'"
        };
        self.read(|connection| {
            let mut statement = connection.prepare(&format!("{SUMMARY}{filter} ORDER BY o.seq"))?;
            let rows = statement.query_map([], summary)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Puts entries left `in_flight` by a stopped delivery back in the queue. Call before delivering.
    pub fn recover_in_flight(&self) -> Result<u64> {
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE outbox SET state = 'queued', updated_at = ?1 WHERE state = 'in_flight'",
                [now()],
            )? as u64)
        })
    }

    /// The next entry of an integration to deliver, marked `in_flight`: the oldest that is due and has no
    /// undelivered predecessor in its project. `ignore_backoff` also takes entries waiting after a failure
    /// (a sync the user asked for, e.g. back in signal); `needs_attention` entries wait for the user.
    /// `attempted` lists entries already tried in this delivery run: each is tried at most once per run.
    pub fn claim_next_entry(
        &self,
        code: &str,
        at: Timestamp,
        ignore_backoff: bool,
        attempted: &[String],
    ) -> Result<Option<DueEntry>> {
        let at = if ignore_backoff { Timestamp::MAX } else { at };
        let attempted = serde_json::to_string(attempted).expect("strings serialise");
        self.write(|tx| {
            let integration_id = integrations::id_of(tx, code)?;
            let entry = tx
                .query_row(
                    "SELECT o.id, o.kind, o.payload, o.attempts FROM outbox o
                     WHERE o.integration_id = ?1
                       AND (o.state = 'queued' OR (o.state = 'retry_wait' AND o.next_attempt_at <= ?2))
                       AND o.id NOT IN (SELECT value FROM json_each(?3))
                       AND NOT (o.kind = 'checkin' AND EXISTS (
                                SELECT 1 FROM checkins c WHERE c.id = o.id AND c.photo_required = 1
                                  AND NOT EXISTS (SELECT 1 FROM photos ph
                                                  WHERE ph.project_id = c.project_id AND ph.state = 'relayed')))
                       AND NOT EXISTS (SELECT 1 FROM outbox earlier
                                       WHERE earlier.project_id = o.project_id AND earlier.seq < o.seq
                                         AND earlier.state NOT IN ('done', 'held')
                                         AND NOT (earlier.kind = 'checkin' AND EXISTS (
                                             SELECT 1 FROM checkins c WHERE c.id = earlier.id AND c.photo_required = 1
                                               AND NOT EXISTS (SELECT 1 FROM photos ph
                                                               WHERE ph.project_id = c.project_id
                                                                 AND ph.state = 'relayed'))))
                     ORDER BY o.seq LIMIT 1",
                    params![integration_id, at, attempted],
                    |row| {
                        let payload: String = row.get(2)?;
                        Ok(DueEntry {
                            id: row.get(0)?,
                            kind: row.get(1)?,
                            payload: serde_json::from_str(&payload).unwrap_or_default(),
                            attempts: row.get(3)?,
                        })
                    },
                )
                .optional()?;
            if let Some(entry) = &entry {
                tx.execute(
                    "UPDATE outbox SET state = 'in_flight', updated_at = ?2 WHERE id = ?1",
                    params![entry.id, now()],
                )?;
            }
            Ok(entry)
        })
    }

    /// The photos a delivery run starting now would relay, with their rendition sizes (the run's overall
    /// progress total): due photo entries whose project is not stuck behind an entry that will not be sent
    /// in this run (one needing attention, or waiting out its backoff).
    pub fn photos_due_for_relay(
        &self,
        code: &str,
        at: Timestamp,
        ignore_backoff: bool,
    ) -> Result<Vec<(String, u64)>> {
        let at = if ignore_backoff { Timestamp::MAX } else { at };
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            let mut statement = connection.prepare(
                "SELECT o.id, coalesce(ph.rendition_size, 0) FROM outbox o JOIN photos ph ON ph.id = o.id
                 WHERE o.integration_id = ?1 AND o.kind = 'photo'
                   AND (o.state = 'queued' OR (o.state = 'retry_wait' AND o.next_attempt_at <= ?2))
                   AND NOT EXISTS (SELECT 1 FROM outbox earlier
                                   WHERE earlier.project_id = o.project_id AND earlier.seq < o.seq
                                     AND (earlier.state = 'needs_attention'
                                          OR (earlier.state = 'retry_wait' AND earlier.next_attempt_at > ?2)))
                 ORDER BY o.seq",
            )?;
            let rows = statement.query_map(params![integration_id, at], |row| {
                Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Stores the outcome of a delivery attempt. A delivered entry may let a project kept by a Full Import
    /// go: when its last pending entry is done, the project is removed as the import wanted.
    pub fn record_delivery(&self, id: &str, update: &EntryUpdate) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6
                 WHERE id = ?1",
                params![id, update.state.as_str(), update.attempts, update.next_attempt_at, update.last_error, now()],
            )?;
            let kind: Option<String> =
                tx.query_row("SELECT kind FROM outbox WHERE id = ?1", [id], |row| row.get(0)).optional()?;
            if kind.as_deref() == Some(KIND_PHOTO) {
                let (state, message) = match update.state {
                    EntryState::Done => ("relayed", None),
                    EntryState::NeedsAttention => ("failed", update.last_error.as_deref()),
                    _ => ("queued", update.last_error.as_deref()),
                };
                tx.execute(
                    "UPDATE photos SET state = ?2, state_message = ?3 WHERE id = ?1",
                    params![id, state, message],
                )?;
            }
            if update.state == EntryState::Done {
                let project_id: Option<i64> =
                    tx.query_row("SELECT project_id FROM outbox WHERE id = ?1", [id], |row| row.get(0))?;
                if let Some(project_id) = project_id
                    && pending_for_project(tx, project_id)? == 0
                {
                    tx.execute("DELETE FROM projects WHERE id = ?1 AND removal_pending = 1", [project_id])?;
                }
            }
            Ok(())
        })
    }

    /// The user asks to try an entry again now (from `retry_wait` or `needs_attention`).
    pub fn retry_outbox_entry(&self, id: &str) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE outbox SET state = 'queued', next_attempt_at = NULL, updated_at = ?2
                 WHERE id = ?1 AND state IN ('retry_wait', 'needs_attention', 'queued')",
                params![id, now()],
            )?;
            if changed == 0 {
                return Err(unknown_or_busy(tx, id));
            }
            Ok(())
        })
    }

    /// The user gives up delivering an entry. The record it belongs to (a check-in, a status) stays on the
    /// device; only its delivery is dropped. Refused while it is being sent or once delivered.
    pub fn discard_outbox_entry(&self, id: &str) -> Result<()> {
        self.write(|tx| {
            let project_id: Option<Option<i64>> = tx
                .query_row(
                    "SELECT project_id FROM outbox WHERE id = ?1 AND state IN ('queued', 'retry_wait', 'needs_attention')",
                    [id],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(project_id) = project_id else { return Err(unknown_or_busy(tx, id)) };
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
            if let Some(project_id) = project_id
                && pending_for_project(tx, project_id)? == 0
            {
                tx.execute("DELETE FROM projects WHERE id = ?1 AND removal_pending = 1", [project_id])?;
            }
            Ok(())
        })
    }
}

fn unknown_or_busy(connection: &Connection, id: &str) -> Error {
    let state: Option<String> = connection
        .query_row("SELECT state FROM outbox WHERE id = ?1", [id], |row| row.get(0))
        .optional()
        .ok()
        .flatten();
    match state {
        None => Error::UnknownOutboxEntry(id.to_owned()),
        Some(state) => Error::OutboxEntryBusy {
            id: id.to_owned(),
            state,
        },
    }
}
