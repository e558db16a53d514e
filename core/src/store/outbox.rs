//! The store's side of the outbox: the queue's SQL (`crate::outbox::queue`) run in the store's
//! transactions, and the [`crate::outbox::delivery::Queue`] a delivery run uses. The rules themselves live
//! in `crate::outbox`.

use std::collections::HashSet;
use std::path::PathBuf;

use super::{Store, integrations};
use crate::Result;
use crate::model::{Timestamp, now};
use crate::outbox::delivery::Queue;
use crate::outbox::dispatch::Pending;
use crate::outbox::{ClaimedEntry, EntryUpdate, OutboxSummary, lease, queue};

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

    /// Every undelivered entry of an integration (for export before a forced delete), oldest first.
    pub fn pending_outbox_entries(&self, code: &str) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| {
            let integration_id = integrations::id_of(connection, code)?;
            queue::list(connection, Some(integration_id), false)
        })
    }

    /// Every entry (all integrations), oldest first; delivered ones only with `include_done`.
    pub fn outbox_entries(&self, include_done: bool) -> Result<Vec<OutboxSummary>> {
        self.read(|connection| queue::list(connection, None, include_done))
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
