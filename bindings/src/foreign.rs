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

impl fieldsync_core::SecretStore for HostSecrets {
    fn get(&self, integration: &str, kind: SecretKind) -> fieldsync_core::Result<Option<String>> {
        self.0.get(key(integration, kind)).map_err(secrets_error)
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
