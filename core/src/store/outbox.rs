//! The transactional outbox: field work recorded with its delivery entry in one transaction.
//!
//! Delivery (state machine, retry, backoff) arrives with the sync issues; this module owns the table's
//! writes so that every producer (status edits now, check-ins and photos later) enqueues the same way.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::{Store, integrations};
use crate::Result;
use crate::model::{Timestamp, now};

/// A vendor's status change for the provider's `status` service.
pub(crate) const KIND_STATUS: &str = "status";

/// Queues a piece of field work. Must run in the same transaction as the write it delivers.
pub(crate) fn enqueue(
    connection: &Connection,
    integration_id: i64,
    project_id: Option<i64>,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let at = now();
    connection.execute(
        "INSERT INTO outbox (id, seq, integration_id, project_id, kind, payload, created_at, updated_at)
         VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, integration_id, project_id, kind, payload.to_string(), at],
    )?;
    Ok(id)
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

impl Store {
    /// Every undelivered entry of an integration (for export before a forced delete), oldest first.
    pub fn pending_outbox_entries(&self, code: &str) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            let mut statement = connection.prepare(
                "SELECT o.id, i.code || '::' || p.work_order_number, o.kind, o.state, o.attempts, o.last_error,
                        o.created_at, o.payload
                 FROM outbox o JOIN integrations i ON i.id = o.integration_id
                 LEFT JOIN projects p ON p.id = o.project_id
                 WHERE o.integration_id = ?1 AND o.state != 'done' ORDER BY o.seq",
            )?;
            let rows = statement.query_map([integration_id], |row| {
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
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
