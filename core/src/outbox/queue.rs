//! The outbox on disk: SQL over a connection, run inside the caller's transaction. The store wraps these
//! in its transactions (see `store/outbox.rs`); field work calls [`enqueue`] in the same durable
//! transaction as the record it delivers.
//!
//! Every statement that a delivery run repeats costs O(log n) in the size of the table: the snapshot reads
//! the open entries through the partial index `outbox_open`, a claim and a record touch one row by
//! primary key, and "does this project still hold pending work" is an `EXISTS` on
//! `outbox_pending_by_project`.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::dispatch::Pending;
pub use super::upload_policy::WaitReason;
use super::upload_policy::{EntryFacts, HeldFor, UploadConditions, UploadLog};
use super::{EntryKind, EntryState, EntryUpdate};
use crate::model::Timestamp;
use crate::photo::PhotoState;
use crate::photo::lifecycle::{PhotoEvent, UploadResult, next_photo_state};
use crate::{Error, Result};

/// A piece of field work to queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewEntry<'a> {
    /// The record's own client UUID.
    pub id: &'a str,
    pub integration_id: i64,
    pub project_id: Option<i64>,
    pub kind: EntryKind,
    /// `queued`, or `held` for a photo not yet allowed to move.
    pub state: EntryState,
    pub payload: &'a serde_json::Value,
}

/// A new client UUID for a record of field work and its outbox entry: a version 7 UUID, whose first 48 bits
/// are the time in milliseconds and the other 74 random.
///
/// Time-ordered rather than random because the UUID keys the record's row and the outbox's UUID index: a
/// new key then lands on the last page of each b-tree, so a durable commit rewrites pages the previous one
/// already wrote, and a WAL checkpoint copies a few pages instead of one per record (schema 13). Two records
/// made in the same millisecond still differ in their 74 random bits; the provider only needs uniqueness.
pub(crate) fn new_entry_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Queues a piece of field work. Must run in the transaction of the write it delivers.
pub(crate) fn enqueue(connection: &Connection, entry: &NewEntry<'_>, at: Timestamp) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO outbox (id, seq, integration_id, project_id, kind, payload, state, created_at, updated_at)
             VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?
        .execute(params![
            entry.id,
            entry.integration_id,
            entry.project_id,
            entry.kind,
            entry.payload.to_string(),
            entry.state,
            at
        ])?;
    Ok(())
}

/// Whether a project still holds field work not delivered.
pub(crate) fn project_has_pending(connection: &Connection, project_id: i64) -> Result<bool> {
    Ok(connection
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE project_id = ?1 AND state != 'done')")?
        .query_row([project_id], |row| row.get(0))?)
}

/// How many entries of a project are not delivered.
pub(crate) fn project_pending_count(connection: &Connection, project_id: i64) -> Result<u64> {
    Ok(connection
        .prepare_cached("SELECT count(*) FROM outbox WHERE project_id = ?1 AND state != 'done'")?
        .query_row([project_id], |row| row.get(0))?)
}

/// How many entries of an integration are not delivered.
pub(crate) fn integration_pending_count(connection: &Connection, integration_id: i64) -> Result<u64> {
    Ok(connection
        .prepare_cached("SELECT count(*) FROM outbox WHERE integration_id = ?1 AND state != 'done'")?
        .query_row([integration_id], |row| row.get(0))?)
}

/// Whether an integration holds field work not delivered.
pub(crate) fn integration_has_pending(connection: &Connection, integration_id: i64) -> Result<bool> {
    Ok(connection
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE integration_id = ?1 AND state != 'done')")?
        .query_row([integration_id], |row| row.get(0))?)
}

/// An outbox entry as the host sees it: one line of the upload log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxSummary {
    /// Client UUID (the provider's idempotency key).
    pub id: String,
    /// The integration's code.
    pub integration: String,
    /// `CODE::NUMBER` of the project, when it has one.
    pub project: Option<String>,
    /// What it delivers.
    pub kind: EntryKind,
    /// Delivery state.
    pub state: EntryState,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// The payload that will be sent.
    pub payload: serde_json::Value,
    /// Why it is not delivered yet (`queued`: it goes at the next delivery run), under the network and
    /// upload policy the list was made for; `None` once delivered.
    pub waits_for: Option<WaitReason>,
    /// When it is tried again (`retry_wait`).
    pub next_attempt_at: Option<Timestamp>,
}

/// SQL: the survey entry `o` references a photo that may not go yet (processing, waiting for QA, failed
/// to process, or rejected). A photo that is queued goes first anyway: it is earlier in the same project.
macro_rules! waits_for_referenced_photos {
    () => {
        "(o.kind = 'survey' AND EXISTS (SELECT 1 FROM surveys s, json_each(s.photo_ids) j
                JOIN photos ref ON ref.id = j.value
                WHERE s.id = o.id AND ref.state IN ('processing', 'pending_qa', 'failed', 'rejected')))"
    };
}

/// SQL: the entry `o` belongs to a project created on the device, whose order has not arrived.
macro_rules! waits_for_provider_order {
    () => {
        "(o.project_id IS NOT NULL AND EXISTS (SELECT 1 FROM projects lp WHERE lp.id = o.project_id AND lp.local))"
    };
}

const SUMMARY: &str = concat!(
    "SELECT o.id, i.code || '::' || p.work_order_number, o.kind, o.state, o.attempts, o.last_error,
        o.created_at, o.payload, o.next_attempt_at,
        o.kind = 'checkin'
        AND EXISTS (SELECT 1 FROM checkins c WHERE c.id = o.id AND c.photo_required = 1)
        AND NOT EXISTS (SELECT 1 FROM photos ph WHERE ph.project_id = o.project_id AND ph.state = ?3),
        coalesce(p.local, 0), ",
    waits_for_referenced_photos!(),
    ", i.code, o.integration_id, o.project_id,
        CASE o.kind WHEN 'photo' THEN (SELECT own.state FROM photos own WHERE own.id = o.id)
                    WHEN 'survey' THEN (SELECT own.state FROM surveys own WHERE own.id = o.id) END,
        p.completed_at IS NOT NULL,
        CASE o.kind WHEN 'photo' THEN (SELECT own.evidence_wait FROM photos own WHERE own.id = o.id) END
     FROM outbox o JOIN integrations i ON i.id = o.integration_id
     LEFT JOIN projects p ON p.id = o.project_id"
);

/// One row of [`SUMMARY`], before its reason is known.
struct Listed {
    summary: OutboxSummary,
    facts: EntryFacts,
    integration_id: i64,
    /// The photo's or survey's own state, for a held entry.
    record_state: Option<String>,
    /// Why signing a photo's rendition waits.
    evidence_wait: Option<String>,
    completed: bool,
}

fn listed(row: &rusqlite::Row) -> rusqlite::Result<Listed> {
    let payload: String = row.get(7)?;
    let state: EntryState = row.get(3)?;
    let kind: EntryKind = row.get(2)?;
    let last_error: Option<String> = row.get(5)?;
    let next_attempt_at: Option<Timestamp> = row.get(8)?;
    let project_id: Option<i64> = row.get(14)?;
    Ok(Listed {
        facts: EntryFacts {
            project: project_id,
            kind,
            state,
            local: row.get(10)?,
            held_for: None,
            waits_for_referenced_photos: row.get(11)?,
            waits_for_photo: row.get(9)?,
            next_attempt_at,
            last_error: last_error.clone(),
        },
        integration_id: row.get(13)?,
        record_state: row.get(15)?,
        evidence_wait: row.get(17)?,
        completed: row.get::<_, Option<bool>>(16)?.unwrap_or(false),
        summary: OutboxSummary {
            waits_for: None,
            next_attempt_at,
            id: row.get(0)?,
            integration: row.get(12)?,
            project: row.get(1)?,
            kind,
            state,
            attempts: row.get(4)?,
            last_error,
            created_at: row.get(6)?,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
        },
    })
}

/// Entries oldest first, each with its reason ([`UploadLog`]) under `conditions` at `at`: of one
/// integration, or of all; delivered ones too with `include_done`. `publish_mode(integration, project)`
/// says whether a project's `complete_mode` is `publish` (asked only for entries waiting for QA in a
/// project not completed yet).
pub(crate) fn list(
    connection: &Connection,
    integration_id: Option<i64>,
    include_done: bool,
    conditions: UploadConditions,
    at: Timestamp,
    publish_mode: &mut dyn FnMut(i64, i64) -> Result<bool>,
) -> Result<Vec<OutboxSummary>> {
    let mut statement = connection.prepare(&format!(
        "{SUMMARY} WHERE (?1 IS NULL OR o.integration_id = ?1) AND (?2 OR o.state != 'done') ORDER BY o.seq"
    ))?;
    let rows = statement.query_map(
        params![integration_id, include_done, PhotoState::Relayed.as_str()],
        listed,
    )?;
    let rows: Vec<Listed> = rows.collect::<rusqlite::Result<_>>()?;
    let mut log = UploadLog::new(conditions, at);
    let mut modes: HashMap<i64, bool> = HashMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    for mut row in rows {
        if row.facts.state == EntryState::Held {
            row.facts.held_for = Some(match row.record_state.as_deref() {
                Some("processing") if row.evidence_wait.is_some() => {
                    row.facts.last_error = row.evidence_wait.clone();
                    HeldFor::Signing
                }
                Some("processing" | "failed") => HeldFor::Processing,
                _ => match row.facts.project {
                    Some(project) if !row.completed => {
                        let publish = match modes.get(&project) {
                            Some(publish) => *publish,
                            None => {
                                let publish = publish_mode(row.integration_id, project)?;
                                modes.insert(project, publish);
                                publish
                            }
                        };
                        if publish { HeldFor::Completion } else { HeldFor::Qa }
                    }
                    _ => HeldFor::Qa,
                },
            });
        }
        row.summary.waits_for = log.reason(&row.facts);
        entries.push(row.summary);
    }
    Ok(entries)
}

/// The undelivered, not held entries of an integration, for a delivery run's planner. `attempted` are
/// the entries this run already tried.
pub(crate) fn snapshot(
    connection: &Connection,
    integration_id: i64,
    at: Timestamp,
    ignore_backoff: bool,
    attempted: &HashSet<String>,
) -> Result<Vec<Pending>> {
    let mut statement = connection.prepare_cached(concat!(
        "SELECT o.id, o.project_id, o.seq, o.kind, o.state, coalesce(o.next_attempt_at <= ?2, 1),
                o.kind = 'checkin'
                AND EXISTS (SELECT 1 FROM checkins c WHERE c.id = o.id AND c.photo_required = 1)
                AND NOT EXISTS (SELECT 1 FROM photos ph WHERE ph.project_id = o.project_id AND ph.state = ?3)
         FROM outbox o
         WHERE o.integration_id = ?1 AND o.state NOT IN ('done', 'held')
           AND NOT ",
        waits_for_provider_order!(),
        " AND NOT ",
        waits_for_referenced_photos!(),
        " ORDER BY o.seq"
    ))?;
    let rows = statement.query_map(params![integration_id, at, PhotoState::Relayed.as_str()], |row| {
        let id: String = row.get(0)?;
        Ok(Pending {
            attempted: attempted.contains(&id),
            id,
            project: row.get(1)?,
            seq: row.get(2)?,
            kind: row.get(3)?,
            state: row.get(4)?,
            due: ignore_backoff || row.get(5)?,
            waits_for_photo: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An entry claimed for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedEntry {
    /// Client UUID.
    pub id: String,
    /// What it delivers.
    pub kind: EntryKind,
    /// The payload.
    pub payload: serde_json::Value,
    /// Attempts before this one.
    pub attempts: u32,
}

/// Marks the entry `in_flight` under the run `owner`, if it is still claimable (another process may have
/// taken it, or the user discarded it, since the snapshot).
pub(crate) fn claim(
    connection: &Connection,
    id: &str,
    owner: &str,
    at: Timestamp,
) -> Result<Option<ClaimedEntry>> {
    let claimed = connection
        .prepare_cached(
            "UPDATE outbox SET state = 'in_flight', lease_owner = ?2, updated_at = ?3
             WHERE id = ?1 AND state IN ('queued', 'retry_wait')",
        )?
        .execute(params![id, owner, at])?;
    if claimed == 0 {
        return Ok(None);
    }
    Ok(connection
        .prepare_cached("SELECT kind, payload, attempts FROM outbox WHERE id = ?1")?
        .query_row([id], |row| {
            let payload: String = row.get(1)?;
            Ok(ClaimedEntry {
                id: id.to_owned(),
                kind: row.get(0)?,
                payload: serde_json::from_str(&payload).unwrap_or_default(),
                attempts: row.get(2)?,
            })
        })
        .optional()?)
}

/// Stores the outcome of a delivery attempt, and what follows from it: the photo's state, and a project
/// kept by a Full Import for its pending work goes once that work is delivered. An entry no longer in
/// flight (discarded, or a rejected photo's) is left as it is.
pub(crate) fn record(connection: &Connection, id: &str, update: &EntryUpdate, at: Timestamp) -> Result<()> {
    let found: Option<(EntryKind, Option<i64>)> = connection
        .prepare_cached("SELECT kind, project_id FROM outbox WHERE id = ?1 AND state = 'in_flight'")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((kind, project_id)) = found else {
        return Ok(());
    };
    connection
        .prepare_cached(
            "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6,
                 lease_owner = NULL
             WHERE id = ?1",
        )?
        .execute(params![id, update.state, update.attempts, update.next_attempt_at, update.last_error, at])?;
    if kind == EntryKind::Photo {
        let message = match update.state {
            EntryState::Done => None,
            _ => update.last_error.as_deref(),
        };
        let result = match update.state {
            EntryState::Done => UploadResult::Delivered,
            EntryState::NeedsAttention => UploadResult::GaveUp,
            _ => UploadResult::WillRetry,
        };
        move_photo(connection, id, PhotoEvent::DeliveryRecorded(result), message)?;
        if result == UploadResult::Delivered {
            // The age the retention policy counts a relayed photo's original from.
            connection
                .prepare_cached("UPDATE photos SET relayed_at = ?2 WHERE id = ?1 AND state = 'relayed'")?
                .execute(params![id, at])?;
        }
    }
    if kind == EntryKind::Survey && update.state == EntryState::Done {
        connection
            .prepare_cached("UPDATE surveys SET state = 'relayed', state_message = NULL WHERE id = ?1 AND state = 'queued'")?
            .execute([id])?;
    }
    if update.state == EntryState::Done
        && let Some(project_id) = project_id
    {
        remove_if_released(connection, project_id)?;
    }
    Ok(())
}

/// Applies a lifecycle event to a photo row (a photo no longer in a state the event applies to is left
/// as it is: a rejection wins over a delivery recorded after it).
fn move_photo(connection: &Connection, id: &str, event: PhotoEvent, message: Option<&str>) -> Result<()> {
    let current: Option<String> = connection
        .prepare_cached("SELECT state FROM photos WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    let Some(current) = current else { return Ok(()) };
    let current = PhotoState::parse(&current)?;
    if let Ok(next) = next_photo_state(current, event)
        && next != current
    {
        connection
            .prepare_cached("UPDATE photos SET state = ?2, state_message = ?3 WHERE id = ?1")?
            .execute(params![id, next.as_str(), message])?;
    }
    Ok(())
}

/// Deletes a project that a Full Import kept only for its pending work, once none is left.
fn remove_if_released(connection: &Connection, project_id: i64) -> Result<()> {
    if !project_has_pending(connection, project_id)? {
        connection
            .prepare_cached("DELETE FROM projects WHERE id = ?1 AND removal_pending = 1")?
            .execute([project_id])?;
    }
    Ok(())
}

/// Puts entries left `in_flight` by dead runs back in the queue (the provider deduplicates by UUID, so
/// sending again is safe), and their photos back to `queued`. Entries of live runs stay. Returns how many
/// were recovered.
pub(crate) fn recover(
    connection: &Connection,
    is_alive: &dyn Fn(&str) -> bool,
    at: Timestamp,
) -> Result<u64> {
    let owners: Vec<Option<String>> = {
        let mut statement =
            connection.prepare_cached("SELECT DISTINCT lease_owner FROM outbox WHERE state = 'in_flight'")?;
        let rows = statement.query_map([], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut recovered = 0;
    for owner in owners {
        if owner.as_deref().is_some_and(is_alive) {
            continue;
        }
        let ids: Vec<(String, EntryKind)> = {
            let mut statement = connection.prepare_cached(
                "SELECT id, kind FROM outbox WHERE state = 'in_flight' AND lease_owner IS ?1",
            )?;
            let rows = statement.query_map([&owner], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (id, kind) in ids {
            connection
                .prepare_cached(
                    "UPDATE outbox SET state = 'queued', lease_owner = NULL, updated_at = ?2 WHERE id = ?1",
                )?
                .execute(params![id, at])?;
            if kind == EntryKind::Photo {
                move_photo(connection, &id, PhotoEvent::UploadAbandoned, None)?;
            }
            recovered += 1;
        }
    }
    Ok(recovered)
}

/// The user asks to try an entry again now (from `retry_wait` or `needs_attention`).
pub(crate) fn retry(connection: &Connection, id: &str, at: Timestamp) -> Result<()> {
    let state = state_of(connection, id)?;
    if !state.user_may_retry() {
        return Err(Error::OutboxEntryBusy {
            id: id.to_owned(),
            state: state.to_string(),
        });
    }
    connection.execute(
        "UPDATE outbox SET state = 'queued', next_attempt_at = NULL, updated_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// The user asks to try every failed entry again now: those that need attention and those backing off go
/// back to the queue (attempts kept, as [`retry`] does). Returns how many.
pub(crate) fn retry_all_failed(connection: &Connection, at: Timestamp) -> Result<u64> {
    let changed = connection
        .prepare_cached(
            "UPDATE outbox SET state = 'queued', next_attempt_at = NULL, updated_at = ?1
             WHERE state IN ('retry_wait', 'needs_attention')",
        )?
        .execute([at])?;
    Ok(changed as u64)
}

/// Removes the rows of delivered entries, never an undelivered one. A delivered photo or survey item keeps
/// its row while QA may publish it again (the row holds the item sent again under the same UUID): while
/// its survey exists, or its photo exists with a file to send. Returns how many rows went.
pub(crate) fn clean_up_delivered(connection: &Connection) -> Result<u64> {
    let removed = connection
        .prepare_cached(
            "DELETE FROM outbox WHERE state = 'done'
               AND NOT (kind = 'photo' AND EXISTS (SELECT 1 FROM photos ph WHERE ph.id = outbox.id
                        AND (ph.original_evicted_at IS NULL OR ph.rendition_evicted_at IS NULL)))
               AND NOT (kind = 'survey' AND EXISTS (SELECT 1 FROM surveys sv WHERE sv.id = outbox.id))",
        )?
        .execute([])?;
    Ok(removed as u64)
}

/// The user gives up delivering an entry. The record it belongs to (a check-in, a status) stays on the
/// device; only its delivery is dropped. Refused while it is being sent or once delivered.
pub(crate) fn discard(connection: &Connection, id: &str) -> Result<()> {
    let state = state_of(connection, id)?;
    if !state.user_may_retry() {
        return Err(Error::OutboxEntryBusy {
            id: id.to_owned(),
            state: state.to_string(),
        });
    }
    let project_id: Option<i64> =
        connection.query_row("SELECT project_id FROM outbox WHERE id = ?1", [id], |row| {
            row.get(0)
        })?;
    connection.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
    if let Some(project_id) = project_id {
        remove_if_released(connection, project_id)?;
    }
    Ok(())
}

/// Takes a photo's or a survey's entry out of the queue for good (QA rejected it), unless it was
/// delivered. An upload in flight finishes on the wire, but its outcome is not recorded against the
/// rejected item.
pub(crate) fn withdraw_reviewed(connection: &Connection, id: &str) -> Result<()> {
    connection.execute(
        "DELETE FROM outbox WHERE id = ?1 AND kind IN ('photo', 'survey') AND state != 'done'",
        [id],
    )?;
    Ok(())
}

/// Lets a photo's or a survey's entry move (`held` → `queued`), or moves it again after a relay
/// (republishing: the provider deduplicates by UUID). An entry in flight is left to its run.
pub(crate) fn release_reviewed(connection: &Connection, id: &str, at: Timestamp) -> Result<()> {
    connection.execute(
        "UPDATE outbox SET state = 'queued', next_attempt_at = NULL, updated_at = ?2
         WHERE id = ?1 AND state IN ('held', 'done', 'retry_wait', 'needs_attention')",
        params![id, at],
    )?;
    Ok(())
}

fn state_of(connection: &Connection, id: &str) -> Result<EntryState> {
    connection
        .query_row("SELECT state FROM outbox WHERE id = ?1", [id], |row| row.get(0))
        .optional()?
        .ok_or_else(|| Error::UnknownOutboxEntry(id.to_owned()))
}

/// The photos a delivery run starting now would relay, with their rendition sizes (the run's overall
/// progress total): due photo entries whose project is not stuck behind an entry that will not be sent
/// in this run (one needing attention, or waiting out its backoff). The earlier entries' states are spelled
/// `!= 'done' AND != 'held'` so that SQLite sees the partial index's `state != 'done'` in them: the look-up
/// is then a range of `outbox_pending_by_project` (project, then `seq` as the row id), not a walk of every
/// earlier entry of the queue.
pub(crate) fn photos_due_for_relay(
    connection: &Connection,
    integration_id: i64,
    at: Timestamp,
    ignore_backoff: bool,
) -> Result<Vec<(String, u64)>> {
    let at = if ignore_backoff { Timestamp::MAX } else { at };
    let mut statement = connection.prepare_cached(concat!(
        "SELECT o.id, coalesce(ph.rendition_size, 0) FROM outbox o JOIN photos ph ON ph.id = o.id
         WHERE o.integration_id = ?1 AND o.kind = 'photo' AND o.state NOT IN ('done', 'held') AND NOT ",
        waits_for_provider_order!(),
        "
           AND (o.state = 'queued' OR (o.state = 'retry_wait' AND o.next_attempt_at <= ?2))
           AND NOT EXISTS (SELECT 1 FROM outbox earlier
                           WHERE earlier.project_id = o.project_id AND earlier.seq < o.seq
                             AND earlier.state != 'done' AND earlier.state != 'held'
                             AND (earlier.state = 'needs_attention'
                                  OR (earlier.state = 'retry_wait' AND earlier.next_attempt_at > ?2)))
         ORDER BY o.seq"
    ))?;
    let rows = statement.query_map(params![integration_id, at], |row| {
        Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
