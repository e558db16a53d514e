//! The store's side of the outbox: the queue's SQL (`crate::outbox::queue`) run in the store's
//! transactions, and the [`crate::outbox::delivery::Queue`] a delivery run uses. The rules themselves live
//! in `crate::outbox`.

use std::collections::HashSet;
use std::path::PathBuf;

use rusqlite::OptionalExtension;

use super::{Store, field, integrations};
use crate::Result;
use crate::model::{Timestamp, now};
use crate::outbox::delivery::Queue;
use crate::outbox::dispatch::Pending;
use crate::outbox::{
    ClaimedEntry, EntryUpdate, NetworkState, OutboxSummary, UploadConditions, UploadPolicy, lease, queue,
};

/// The user default that holds the upload policy (JSON).
pub const UPLOAD_POLICY: &str = "upload_policy";

/// The stored upload policy; the default when none is set or it cannot be read.
fn read_upload_policy(connection: &rusqlite::Connection) -> Result<UploadPolicy> {
    let text: Option<String> = connection
        .prepare_cached("SELECT value FROM user_defaults WHERE key = ?1")?
        .query_row([UPLOAD_POLICY], |row| row.get(0))
        .optional()?;
    Ok(text
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Entries with their reasons on `network` under the stored policy, now.
fn list(
    connection: &rusqlite::Connection,
    integration_id: Option<i64>,
    include_done: bool,
    network: NetworkState,
) -> Result<Vec<OutboxSummary>> {
    let conditions = UploadConditions {
        network,
        policy: read_upload_policy(connection)?,
    };
    queue::list(
        connection,
        integration_id,
        include_done,
        conditions,
        now(),
        &mut |integration_id, project_id| {
            field::publish_on_completion(connection, integration_id, project_id)
        },
    )
}

/// The outbox at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UploadTotals {
    /// Items not yet delivered (held for QA included).
    pub pending: u64,
    /// Their bytes (a photo's rendition, or the item's JSON).
    pub pending_bytes: u64,
    /// Items that need the user (failed for good: retry or discard).
    pub needing_attention: u64,
    /// Items being sent now.
    pub in_progress: u64,
    /// Their bytes.
    pub in_progress_bytes: u64,
    /// When the provider last confirmed an item (Unix seconds).
    pub last_delivered_at: Option<Timestamp>,
}

/// One integration's outbox, for a delivery run.
#[derive(Debug)]
pub struct IntegrationQueue<'s> {
    store: &'s Store,
    integration_id: i64,
}

impl Queue for IntegrationQueue<'_> {
    fn recover(&self) -> Result<u64> {
        self.store.recover_in_flight()
    }

    fn snapshot(
        &self,
        at: Timestamp,
        ignore_backoff: bool,
        attempted: &HashSet<String>,
    ) -> Result<Vec<Pending>> {
        self.store.read(|connection| {
            queue::snapshot(connection, self.integration_id, at, ignore_backoff, attempted)
        })
    }

    fn claim(&self, id: &str, owner: &str, at: Timestamp) -> Result<Option<ClaimedEntry>> {
        self.store.write(|tx| queue::claim(tx, id, owner, at))
    }

    fn record(&self, id: &str, update: &EntryUpdate, at: Timestamp) -> Result<()> {
        self.store.write(|tx| queue::record(tx, id, update, at))
    }
}

impl Store {
    /// Where delivery runs keep their lease lock files (`<database>-runs/`).
    pub fn lease_directory(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push("-runs");
        PathBuf::from(name)
    }

    /// An integration's outbox, for a delivery run.
    pub fn outbox_queue(&self, code: &str) -> Result<IntegrationQueue<'_>> {
        let integration_id = self.read(|connection| integrations::id_of(connection, code))?;
        Ok(IntegrationQueue {
            store: self,
            integration_id,
        })
    }

    /// The outbox at a glance, for the sync status: undelivered items and their bytes, those that need the
    /// user, those in flight, and the last delivery. A photo counts its rendition's size, any other item
    /// its JSON.
    pub fn upload_totals(&self) -> Result<UploadTotals> {
        self.read(|connection| {
            let (pending, pending_bytes, needing_attention, in_progress, in_progress_bytes) = connection
                .query_row(
                    "SELECT count(*),
                        coalesce(sum(coalesce(p.rendition_size, length(o.payload))), 0),
                        count(*) FILTER (WHERE o.state = 'needs_attention'),
                        count(*) FILTER (WHERE o.state = 'in_flight'),
                        coalesce(sum(coalesce(p.rendition_size, length(o.payload)))
                            FILTER (WHERE o.state = 'in_flight'), 0)
                     FROM outbox o LEFT JOIN photos p ON p.id = o.id
                     WHERE o.state != 'done'",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
                )?;
            let last_delivered_at = connection.query_row(
                "SELECT max(updated_at) FROM outbox WHERE state = 'done'",
                [],
                |row| row.get(0),
            )?;
            Ok(UploadTotals {
                pending,
                pending_bytes,
                needing_attention,
                in_progress,
                in_progress_bytes,
                last_delivered_at,
            })
        })
    }

    /// When the earliest backoff of an entry ends (Unix seconds), across integrations; `None` when no entry
    /// waits out a backoff.
    pub fn next_retry_at(&self) -> Result<Option<Timestamp>> {
        self.read(|connection| {
            Ok(connection.query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE state = 'retry_wait'",
                [],
                |row| row.get(0),
            )?)
        })
    }

    /// Whether an integration holds field work not yet delivered (held photos included).
    pub fn has_pending_outbox(&self, code: &str) -> Result<bool> {
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            queue::integration_has_pending(connection, integration_id)
        })
    }

    /// Every undelivered entry of an integration (for export before a forced delete), oldest first, with
    /// its reason under the stored upload policy on an unmetered network.
    pub fn pending_outbox_entries(&self, code: &str) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            list(connection, Some(integration_id), false, NetworkState::default())
        })
    }

    /// Every entry (all integrations), oldest first, with its reason under the stored upload policy on an
    /// unmetered network; delivered ones only with `include_done`. [`Store::upload_log`] gives the reasons
    /// for the network the host reports.
    pub fn outbox_entries(&self, include_done: bool) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| list(connection, None, include_done, NetworkState::default()))
    }

    /// The upload log: every item not delivered yet (all integrations), oldest first, each with why it
    /// waits ([`crate::outbox::WaitReason`]) on `network` under the stored upload policy.
    pub fn upload_log(&self, network: NetworkState) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| list(connection, None, false, network))
    }

    /// The vendor's upload policy (pause, photos on Wi-Fi only); the default until one is set.
    pub fn upload_policy(&self) -> Result<UploadPolicy> {
        self.read(read_upload_policy)
    }

    /// Sets the vendor's upload policy, kept on the device. The next delivery run follows it.
    pub fn set_upload_policy(&self, policy: UploadPolicy) -> Result<()> {
        let text = serde_json::to_string(&policy).expect("plain data serialises");
        self.set_user_default(UPLOAD_POLICY, &text)
    }

    /// Tries every failed entry again at the next delivery: those that need attention and those backing
    /// off go back to the queue. Returns how many.
    pub fn retry_all_failed(&self) -> Result<u64> {
        self.write(|tx| queue::retry_all_failed(tx, now()))
    }

    /// Removes delivered entries' rows (never an undelivered one; a delivered photo or survey that QA may
    /// publish again keeps its row). Returns how many went.
    pub fn clean_up_delivered(&self) -> Result<u64> {
        self.write(|tx| queue::clean_up_delivered(tx))
    }

    /// Puts entries left `in_flight` by dead delivery runs (a crash, a kill) back in the queue. Entries of
    /// a live run, in this process or another, stay with it.
    pub fn recover_in_flight(&self) -> Result<u64> {
        let directory = self.lease_directory();
        let is_alive = |owner: &str| lease::is_alive(&directory, owner);
        self.write(|tx| queue::recover(tx, &is_alive, now()))
    }

    /// The photos a delivery run starting now would relay, with their rendition sizes.
    pub fn photos_due_for_relay(
        &self,
        code: &str,
        at: Timestamp,
        ignore_backoff: bool,
    ) -> Result<Vec<(String, u64)>> {
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            queue::photos_due_for_relay(connection, integration_id, at, ignore_backoff)
        })
    }

    /// The user asks to try an entry again now (from `retry_wait` or `needs_attention`).
    pub fn retry_outbox_entry(&self, id: &str) -> Result<()> {
        self.write(|tx| queue::retry(tx, id, now()))
    }

    /// The user gives up delivering an entry. The record it belongs to (a check-in, a status) stays on the
    /// device; only its delivery is dropped. Refused while it is being sent or once delivered.
    pub fn discard_outbox_entry(&self, id: &str) -> Result<()> {
        self.write(|tx| queue::discard(tx, id))
    }
}
