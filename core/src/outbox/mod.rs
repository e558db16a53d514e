//! The outbox: field work waiting for delivery, in one room.
//!
//! Every piece of field work (a check-in, a photo, a status change) is written to SQLite in the same
//! durable transaction as its outbox entry, and the entry carries the record's client UUID, which the
//! provider deduplicates on (made by `queue::new_entry_id`: time-ordered, so each durable commit writes
//! few pages). This module owns everything that happens to an entry afterwards:
//!
//! - [`EntryKind`] and [`EntryState`]: what an entry delivers and where it is. No other module spells a
//!   kind or a state as a string; SQL gets them as parameters.
//! - [`policy`]: what an attempt's outcome does to the entry (retry with backoff that honours
//!   `Retry-After`, [`policy::PERMANENT_ATTEMPTS`] permanent failures before it needs attention,
//!   credentials failures that do not count) and which outcomes stop a delivery run.
//! - [`dispatch`]: per-project ordering, as a pure planner over a snapshot of the queue.
//! - [`queue`]: the SQL: enqueue, snapshot, claim, record, recover, list, retry, discard.
//! - [`lease`]: which delivery run owns an `in_flight` entry, so that only a dead run's entries are taken
//!   back.
//! - [`upload_policy`]: which kinds may go under the network the host reports and the vendor's upload
//!   policy (pause, photos on Wi-Fi only), and the upload log's typed reason for every undelivered entry.
//! - [`delivery`]: the loop (claim, send, record) with bounded concurrency, written against the
//!   [`delivery::Courier`] and [`delivery::Clock`] traits so every rule is tested with no HTTP and no
//!   sleeping.
//!
//! Entries of a project created on the device wait, whatever their state, until an import brings its order;
//! a survey waits until the photos its answers reference are allowed to go (not in processing, QA or
//! rejected).
//!
//! States: `held → queued → in_flight → done | retry_wait | needs_attention`. `held` is a photo not yet
//! processed or allowed by QA. Nothing is discarded automatically: a transient failure is retried with
//! backoff forever, a permanent one a few times and then waits in `needs_attention` with its reason until
//! the user retries or discards it. Entries are ordered per project: an entry waits while an earlier one of
//! the same project is not done, and a stuck project never blocks another.

pub mod delivery;
pub mod dispatch;
pub mod lease;
pub mod policy;
pub mod queue;
pub mod upload_policy;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::model::{InvalidInput, Timestamp};

pub use delivery::{Clock, Courier, DeliveryReport, SystemClock, deliver};
pub use policy::{PERMANENT_ATTEMPTS, after_attempt};
pub use queue::{ClaimedEntry, OutboxSummary};
pub use upload_policy::{NetworkState, UploadConditions, UploadPolicy, WaitReason};

/// What an outbox entry delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A vendor's status change, for the provider's `status` service.
    Status,
    /// A check-in, an `uploadPictures` item without a file.
    #[serde(rename = "checkin")]
    CheckIn,
    /// A photo, an `uploadPictures` item with its rendition.
    Photo,
    /// A submitted survey, an `uploadPictures` item with the survey as its file.
    Survey,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::CheckIn => "checkin",
            Self::Photo => "photo",
            Self::Survey => "survey",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        match text {
            "status" => Ok(Self::Status),
            "checkin" => Ok(Self::CheckIn),
            "photo" => Ok(Self::Photo),
            "survey" => Ok(Self::Survey),
            other => Err(InvalidInput::new(
                "outbox kind",
                format!("unknown outbox kind `{other}`"),
            )),
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of an outbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Recorded but not allowed to move yet (a photo before processing and QA).
    Held,
    /// Waiting to be sent.
    Queued,
    /// Being sent by a delivery run (its lease names the run).
    InFlight,
    /// The provider confirmed it.
    Done,
    /// Failed; waits until `next_attempt_at`.
    RetryWait,
    /// Failed for good; waits for the user.
    NeedsAttention,
}

impl EntryState {
    /// Every state, for SQL lists built from the enum.
    pub const ALL: [EntryState; 6] = [
        Self::Held,
        Self::Queued,
        Self::InFlight,
        Self::Done,
        Self::RetryWait,
        Self::NeedsAttention,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Queued => "queued",
            Self::InFlight => "in_flight",
            Self::Done => "done",
            Self::RetryWait => "retry_wait",
            Self::NeedsAttention => "needs_attention",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| InvalidInput::new("outbox state", format!("unknown outbox state `{text}`")))
    }

    /// Whether the entry still has to reach the provider (everything but `done`).
    pub fn is_pending(self) -> bool {
        self != Self::Done
    }

    /// Whether a delivery run may claim it now (`retry_wait` only once due, which the caller checks).
    pub fn is_claimable(self) -> bool {
        matches!(self, Self::Queued | Self::RetryWait)
    }

    /// Whether the user may retry it now.
    pub fn user_may_retry(self) -> bool {
        matches!(self, Self::Queued | Self::RetryWait | Self::NeedsAttention)
    }
}

impl std::fmt::Display for EntryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::ToSql for EntryState {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for EntryState {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Self::parse(text).map_err(|err| rusqlite::types::FromSqlError::Other(Box::new(err)))
    }
}

impl rusqlite::ToSql for EntryKind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::types::FromSql for EntryKind {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Self::parse(text).map_err(|err| rusqlite::types::FromSqlError::Other(Box::new(err)))
    }
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The provider confirmed (or already had it).
    Delivered,
    /// Worth retrying (network, 5xx).
    Transient {
        /// Why.
        message: String,
        /// The provider's Retry-After.
        retry_after: Option<Duration>,
    },
    /// The provider refused the entry itself.
    Permanent {
        /// Why.
        message: String,
    },
    /// The provider refused the credentials: not the entry's fault, so the attempt does not count.
    Auth {
        /// Why.
        message: String,
    },
    /// The app stopped the send (cancelled, paused, deadline) and the request was aborted: not an
    /// attempt; the entry goes again later under the same UUID.
    Stopped(crate::cancel::StopReason),
}

/// What to store after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryUpdate {
    /// The new state.
    pub state: EntryState,
    /// Attempts after this one.
    pub attempts: u32,
    /// When to try again (for `RetryWait`).
    pub next_attempt_at: Option<Timestamp>,
    /// The error to show.
    pub last_error: Option<String>,
}
