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
pub use foreign::{DeviceSigner, EventListener, LocationSource, LogLevel, Logger, SecretStore};
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

/// Verifies a photo's C2PA content credentials from its bytes alone (no cache, no network).
/// `trust_anchors_pem`: the roots to trust; `None` checks integrity only.
#[uniffi::export]
pub fn verify_photo(bytes: Vec<u8>, trust_anchors_pem: Option<String>) -> PhotoVerification {
    fieldsync_core::evidence::verify(&bytes, trust_anchors_pem.as_deref()).into()
}

/// A software device signer from a PKCS#8 PEM key and a PEM chain, for tests and emulators (a phone uses
/// its key store through [`DeviceSigner`]). Set it with [`FieldSync::set_software_signer`].
#[uniffi::export]
pub fn create_development_credentials(
    device_id: String,
    organisation: String,
) -> Result<DevelopmentCredentials, FieldSyncError> {
    let credentials = fieldsync_core::evidence::software::create_dev_credentials(&device_id, &organisation)
        .map_err(|err| FieldSyncError::InvalidInput {
        reason: err.to_string(),
    })?;
    Ok(DevelopmentCredentials {
        ca_pem: credentials.ca_pem,
        device_pem: credentials.device_pem,
        device_key_pem: credentials.device_key_pem,
    })
}

/// A development root and a device certificate (PEM), for tests and the emulator only.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DevelopmentCredentials {
    /// The root certificate: the trust anchor.
    pub ca_pem: String,
    /// The device certificate.
    pub device_pem: String,
    /// The device key, PKCS#8.
    pub device_key_pem: String,
}
