//! What the engine tells an observer (the bindings forward it to the host's event listener).

use std::sync::Arc;

use crate::model::ImportReport;

/// What the engine tells an observer (the bindings forward it to the host's event listener).
#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    /// An integration's import status changed.
    Status {
        /// Integration code.
        code: String,
        /// The new status.
        status: crate::model::IntegrationStatus,
        /// The error, when the status is `error`.
        last_error: Option<String>,
    },
    /// A photo upload started (`bytes` to send).
    Upload {
        /// The photo.
        uuid: String,
        /// Its rendition's size.
        bytes: u64,
    },
    /// A photo's delivery attempt ended: `state` is where it is now (relayed, queued for a retry, failed).
    PhotoState {
        /// The photo.
        uuid: String,
        /// Its state after the attempt.
        state: crate::photo::PhotoState,
    },
    /// Bytes of a photo taken by the connection, and of the whole delivery run (see [`super::relay`] for
    /// how often it comes: at the start, about every 64 KiB or 1 %, and at the end).
    UploadProgress {
        /// The photo.
        uuid: String,
        /// Bytes of this photo sent so far.
        bytes_sent: u64,
        /// Its rendition's size.
        bytes_total: u64,
        /// Bytes of every photo of this run sent so far.
        overall_sent: u64,
        /// Bytes of every photo of this run.
        overall_total: u64,
    },
    /// An import finished.
    Imported {
        /// Integration code.
        code: String,
        /// What it changed.
        report: ImportReport,
    },
}

impl SyncEvent {
    /// `(uuid, bytes_sent, bytes_total, overall_sent, overall_total)` when this is an upload progress.
    pub fn upload_progress(&self) -> Option<(&str, u64, u64, u64, u64)> {
        match self {
            Self::UploadProgress {
                uuid,
                bytes_sent,
                bytes_total,
                overall_sent,
                overall_total,
            } => Some((uuid, *bytes_sent, *bytes_total, *overall_sent, *overall_total)),
            _ => None,
        }
    }
}

/// Receives [`SyncEvent`]s, on the thread that caused them; it must return quickly.
pub type SyncObserver = Arc<dyn Fn(SyncEvent) + Send + Sync>;
