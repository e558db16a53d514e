//! Traits the host app implements: its secure store, its event listener, its logger.

use std::sync::Arc;

use fieldsync_core::SecretKind;

use crate::error::FieldSyncError;

/// The platform's secure storage (Android Keystore-backed preferences, iOS Keychain). Keys look like
/// `ACME/password_sha1`; values are short strings.
#[uniffi::export(with_foreign)]
pub trait SecretStore: Send + Sync {
    /// The value, if set.
    fn get(&self, key: String) -> Result<Option<String>, FieldSyncError>;
    /// Sets or replaces a value.
    fn set(&self, key: String, value: String) -> Result<(), FieldSyncError>;
    /// Removes a value (no error if absent).
    fn delete(&self, key: String) -> Result<(), FieldSyncError>;
}

/// The device's signing key for content credentials: a P-256 key in the platform's key store (Android
/// Keystore/StrongBox, iOS Secure Enclave) with its certificate chain. The library never sees the key.
/// Called from a library worker thread when a photo's rendition is made, never on the capture path.
#[uniffi::export(with_foreign)]
pub trait DeviceSigner: Send + Sync {
    /// Signs a SHA-256 digest with ECDSA P-256 (Android: `NONEwithECDSA`; iOS:
    /// `ecdsaSignatureDigestX962SHA256`). DER (X9.62) or raw `r || s`. A locked key store is an error:
    /// the photo then waits, with the reason in the upload log.
    fn sign_digest(&self, digest: Vec<u8>) -> Result<Vec<u8>, FieldSyncError>;
    /// The certificate chain, DER, the device certificate first, the root left out.
    fn certificate_chain(&self) -> Result<Vec<Vec<u8>>, FieldSyncError>;
}

/// The host's signer as the core's.
pub(crate) struct HostSigner(pub(crate) Arc<dyn DeviceSigner>);

impl fieldsync_core::evidence::DeviceSigner for HostSigner {
    fn sign_digest(&self, digest: &[u8; 32]) -> Result<Vec<u8>, fieldsync_core::evidence::SignerError> {
        self.0
            .sign_digest(digest.to_vec())
            .map_err(|err| fieldsync_core::evidence::SignerError::Locked(err.to_string()))
    }

    fn certificate_chain(&self) -> Result<Vec<Vec<u8>>, fieldsync_core::evidence::SignerError> {
        self.0
            .certificate_chain()
            .map_err(|err| fieldsync_core::evidence::SignerError::NotProvisioned(err.to_string()))
    }
}

/// Receives [`crate::FieldSyncEvent`]s, always from the same library thread. It should return quickly
/// (post to the UI thread); bursts of status changes are coalesced.
#[uniffi::export(with_foreign)]
pub trait EventListener: Send + Sync {
    /// One event.
    fn on_event(&self, event: crate::FieldSyncEvent);
}

/// The device's location service. Called from a library worker thread (never the UI thread); it may
/// block up to `timeout_ms` waiting for the next fix.
#[uniffi::export(with_foreign)]
pub trait LocationSource: Send + Sync {
    /// The next fix, or `None` when none arrived within `timeout_ms`.
    fn next_fix(&self, timeout_ms: u64) -> Result<Option<crate::LocationFix>, FieldSyncError>;
}

/// The core's location source, backed by the host's. The host's own error is kept so that the caller gets
/// it back as it was (an `Internal` failure of the host's callback stays `Internal`, not `InvalidInput`).
pub(crate) struct HostLocation {
    source: Arc<dyn LocationSource>,
    failure: std::sync::Mutex<Option<FieldSyncError>>,
}

impl HostLocation {
    pub(crate) fn new(source: Arc<dyn LocationSource>) -> Self {
        Self {
            source,
            failure: std::sync::Mutex::new(None),
        }
    }

    /// The error the host's source returned, if it failed.
    pub(crate) fn take_failure(&self) -> Option<FieldSyncError> {
        self.failure.lock().ok().and_then(|mut failure| failure.take())
    }
}

impl fieldsync_core::checkin::LocationSource for HostLocation {
    fn next_fix(
        &self,
        timeout: std::time::Duration,
    ) -> fieldsync_core::Result<Option<fieldsync_core::checkin::LocationFix>> {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.source
            .next_fix(timeout_ms)
            .map(|fix| fix.map(Into::into))
            .map_err(|err| {
                let core = fieldsync_core::Error::InvalidInput(fieldsync_core::model::InvalidInput::new(
                    "location",
                    err.to_string(),
                ));
                if let Ok(mut failure) = self.failure.lock() {
                    *failure = Some(err);
                }
                core
            })
    }
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// Failures.
    Error,
    /// Something unusual.
    Warn,
    /// Milestones.
    Info,
    /// Details.
    Debug,
}

/// Where the library's logs go (Logcat, OSLog, Python logging). Messages never hold secrets.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One log line.
    fn log(&self, level: LogLevel, target: String, message: String);
}

fn key(integration: &str, kind: SecretKind) -> String {
    let name = match kind {
        SecretKind::PasswordSha1 => "password_sha1",
        SecretKind::Token => "token",
        SecretKind::PushKey => "push_key",
    };
    format!("{integration}/{name}")
}

/// The core's secret store, backed by the host's.
pub(crate) struct HostSecrets(pub(crate) Arc<dyn SecretStore>);

fn secrets_error(err: FieldSyncError) -> fieldsync_core::Error {
    fieldsync_core::Error::Secrets(err.to_string())
}

/// What the host's `get` said, in the core's terms: a value it cannot decrypt stays that (the user signs in
/// again), any other failure is the store's.
fn read_error(integration: &str, kind: SecretKind, err: FieldSyncError) -> fieldsync_core::Error {
    match err {
        FieldSyncError::SecretUnreadable { reason, .. } => fieldsync_core::Error::SecretUnreadable {
            integration: integration.to_owned(),
            kind,
            reason,
        },
        other => secrets_error(other),
    }
}

impl fieldsync_core::SecretStore for HostSecrets {
    fn get(&self, integration: &str, kind: SecretKind) -> fieldsync_core::Result<Option<String>> {
        self.0
            .get(key(integration, kind))
            .map_err(|err| read_error(integration, kind, err))
    }

    fn set(&self, integration: &str, kind: SecretKind, value: &str) -> fieldsync_core::Result<()> {
        self.0
            .set(key(integration, kind), value.to_owned())
            .map_err(secrets_error)
    }

    fn delete_all(&self, integration: &str) -> fieldsync_core::Result<()> {
        for kind in [SecretKind::PasswordSha1, SecretKind::Token, SecretKind::PushKey] {
            self.0.delete(key(integration, kind)).map_err(secrets_error)?;
        }
        Ok(())
    }
}
