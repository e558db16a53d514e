//! The sync engine: per-integration import state machine, scheduling, and runs against the provider.

mod auto_import;
mod engine;
pub mod relay;
mod schedule;
mod status;

pub use auto_import::{AutoImportEvent, AutoImportHandle, spawn_auto_import};
pub use engine::{
    CURSOR_OVERLAP, DEFAULT_RELAY_CONCURRENCY, DeliveryReport, MAX_RELAY_CONCURRENCY, SyncEngine, SyncEvent,
    SyncObserver, SyncSummary,
};
pub use schedule::{AttemptOutcome, Schedule, next_delay};
pub use status::{InvalidTransition, StatusEvent, next_status};
