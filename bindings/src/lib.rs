//! fieldsync for Kotlin, Swift and Python: the uniffi bindings of `fieldsync-core`.
//!
//! The only crate that depends on uniffi. It wraps the core in one long-lived [`FieldSync`] object, maps
//! every core error to one [`FieldSyncError`] whose variants say what the app can do, runs network and disk
//! work as async functions on a tokio runtime the library owns, and takes from the host what only the host
//! can give: secure storage ([`SecretStore`]), an event listener ([`EventListener`]) and a logger
//! ([`Logger`]). Panics inside Rust reach the host as errors, not crashes (uniffi catches them).

uniffi::setup_scaffolding!();

#[cfg(target_os = "android")]
mod android;
mod client;
mod error;
mod events;
mod foreign;
mod lifecycle;
mod logging;
mod payloads;
mod records;
mod watch;

pub use client::FieldSync;
pub use error::FieldSyncError;
pub use foreign::{EventListener, LocationSource, LogLevel, Logger, SecretStore};
pub use lifecycle::{
    BackgroundIntegrationResult, BackgroundReason, BackgroundSyncResult, Cancellation, StopCause,
};
pub use logging::init_logging;
pub use records::*;
pub use watch::{PhotoListWatch, ProjectListWatch, ProjectWatch, SyncStatusWatch, UploadLogWatch};

/// The library's version, without opening anything (for diagnostics and crash reports; also the cheapest
/// call across the boundary, which the binding benchmarks measure).
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
