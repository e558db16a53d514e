//! The sync engine: runs against the provider (validate, refresh, full import, delivery), coalesced per
//! integration, and the auto-import loop. The pure rules it drives live elsewhere: the integration status
//! machine in [`crate::model`] (`status.rs`), timing in [`crate::schedule`], the outbox in
//! [`crate::outbox`].

mod auto_import;
mod background;
mod courier;
mod engine;
mod event;
pub mod relay;
mod status;

pub use crate::model::{InvalidTransition, StatusEvent, next_status};
pub use crate::outbox::DeliveryReport;
pub use crate::schedule::{AttemptOutcome, Schedule, next_delay};
pub use auto_import::{AutoImportEvent, AutoImportHandle, spawn_auto_import};
pub use background::{
    BackgroundIntegration, BackgroundReason, BackgroundRequest, BackgroundSyncResult, MIN_REFRESH_WINDOW,
};
pub use engine::{
    AfterDelivery, CURSOR_OVERLAP, DEFAULT_RELAY_CONCURRENCY, DOWNLOAD_TEMP_PREFIX, IntegrationOutcome,
    MAX_RELAY_CONCURRENCY, SyncEngine, SyncSummary,
};
pub use event::{SyncEvent, SyncObserver};
pub use status::{IntegrationSyncStatus, SyncStatus, UploadTotals};
