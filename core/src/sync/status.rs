//! One sync status for the whole app: per integration its import status, plus the outbox at a glance,
//! the network and whether fieldsync is paused. Read in one call ([`SyncEngine::status`]); a screen
//! re-reads it when [`crate::store::Changes::STATUS`] says a commit (or the engine) changed it.

use serde::Serialize;

use super::engine::SyncEngine;
use crate::Result;
use crate::model::{IntegrationStatus, Timestamp};
use crate::outbox::NetworkState;
use crate::store::Changes;
pub use crate::store::UploadTotals;

/// One integration's import status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrationSyncStatus {
    /// The integration.
    pub code: String,
    /// Idle, pending, running or error.
    pub status: IntegrationStatus,
    /// The last successful refresh (Unix seconds).
    pub last_refreshed: Option<Timestamp>,
    /// Why the last refresh failed, while the status is `error`.
    pub last_error: Option<String>,
}

/// Everything a status bar or a settings screen shows about syncing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Per integration, by code.
    pub integrations: Vec<IntegrationSyncStatus>,
    /// The outbox.
    pub uploads: UploadTotals,
    /// The network the host last reported.
    pub network: NetworkState,
    /// Whether `pause()` holds fieldsync.
    pub paused: bool,
}

impl Changes {
    /// What can change a [`SyncStatus`]: integrations, the outbox, photos (their sizes), the engine.
    pub const STATUS: Self = Self::INTEGRATIONS
        .union(Self::OUTBOX)
        .union(Self::PHOTOS)
        .union(Self::ENGINE);
}

impl SyncEngine {
    /// The sync status now. While paused it answers from what it knew (the database is closed): the
    /// integrations and uploads are empty, `paused` is set.
    pub fn status(&self) -> Result<SyncStatus> {
        let paused = self.is_paused();
        let network = self.network();
        if paused {
            return Ok(SyncStatus {
                integrations: Vec::new(),
                uploads: UploadTotals::default(),
                network,
                paused,
            });
        }
        let integrations = self
            .store()
            .list_integrations()?
            .into_iter()
            .map(|integration| IntegrationSyncStatus {
                code: integration.code,
                status: integration.status,
                last_refreshed: integration.last_refreshed,
                last_error: integration.last_error,
            })
            .collect();
        Ok(SyncStatus {
            integrations,
            uploads: self.store().upload_totals()?,
            network,
            paused,
        })
    }
}
