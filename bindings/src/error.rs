//! The one error type of the bindings. Each variant says what the app can do about it; messages never hold
//! credentials (the core's messages do not, and this is the only conversion point).

use fieldsync_core::Error as CoreError;
use fieldsync_core::transport::TransportError;

/// What went wrong, sorted by what the app can do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldSyncError {
    /// The network or the provider is unavailable: retry later (after `retry_after_secs` if given).
    #[error("network: {reason}")]
    Network {
        /// What happened.
        reason: String,
        /// The provider's Retry-After, in seconds.
        retry_after_secs: Option<u64>,
    },
    /// The provider refused the credentials: ask the user to sign in again.
    #[error("authentication: {reason}")]
    Auth {
        /// What the provider said.
        reason: String,
    },
    /// The input is not acceptable: fix it (nothing was written).
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// Which field and why.
        reason: String,
    },
    /// The integration, project or work type does not exist.
    #[error("not found: {reason}")]
    NotFound {
        /// What was looked for.
        reason: String,
    },
    /// The operation conflicts with the data: e.g. pending field work, a closed project, a duplicate code.
    #[error("conflict: {reason}")]
    Conflict {
        /// What conflicts.
        reason: String,
    },
    /// The provider answered with something unusable (malformed, too large, an error): report it.
    #[error("provider: {reason}")]
    Provider {
        /// What was wrong.
        reason: String,
    },
    /// The device's storage failed (disk full, database from a newer version, secret store).
    #[error("storage: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// A bug: a panic or an unexpected failure inside the library or a host callback.
    #[error("internal: {reason}")]
    Internal {
        /// What happened.
        reason: String,
    },
}

impl From<CoreError> for FieldSyncError {
    fn from(err: CoreError) -> Self {
        let reason = err.to_string();
        match err {
            CoreError::InvalidInput(_)
            | CoreError::CheckInRefused { .. }
            | CoreError::PhotoRefused(_)
            | CoreError::InvalidSurveyTemplate(_)
            | CoreError::InvalidAnswer(_)
            | CoreError::SurveyIncomplete { .. } => Self::InvalidInput { reason },
            CoreError::UnknownIntegration(_)
            | CoreError::UnknownProject(_)
            | CoreError::UnknownWorkType(_)
            | CoreError::UnknownOutboxEntry(_)
            | CoreError::UnknownPhoto(_)
            | CoreError::UnknownTask { .. }
            | CoreError::NoSurvey { .. }
            | CoreError::UnknownSurveyTemplate { .. }
            | CoreError::UnknownQuestion { .. }
            | CoreError::UnknownSurvey(_) => Self::NotFound { reason },
            CoreError::DuplicateIntegration(_)
            | CoreError::PendingFieldWork { .. }
            | CoreError::ProjectClosed(_)
            | CoreError::OutboxEntryBusy { .. }
            | CoreError::PhotoState { .. }
            | CoreError::PhotoFilesEvicted(_)
            | CoreError::AlreadyCompleted(_)
            | CoreError::CompletionBlocked { .. }
            | CoreError::ProjectExists(_)
            | CoreError::NotLocalProject(_) => Self::Conflict { reason },
            CoreError::Transport(TransportError::Auth(_)) => Self::Auth { reason },
            CoreError::Transport(TransportError::Transient { retry_after, .. }) => Self::Network {
                reason,
                retry_after_secs: retry_after.map(|delay| delay.as_secs()),
            },
            CoreError::Transport(TransportError::Permanent(_))
            | CoreError::InvalidResponse(_)
            | CoreError::ResponseTooLarge { .. }
            | CoreError::Provider(_) => Self::Provider { reason },
            CoreError::RefreshFailed { class, .. } => match class {
                fieldsync_core::FailureClass::Auth => Self::Auth { reason },
                fieldsync_core::FailureClass::Transient(retry_after) => Self::Network {
                    reason,
                    retry_after_secs: retry_after.map(|delay| delay.as_secs()),
                },
                fieldsync_core::FailureClass::Permanent => Self::Provider { reason },
                fieldsync_core::FailureClass::Other => Self::Storage { reason },
            },
            CoreError::SchemaTooNew { .. }
            | CoreError::Io { .. }
            | CoreError::Secrets(_)
            | CoreError::Storage(_) => Self::Storage { reason },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for FieldSyncError {
    fn from(err: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Internal {
            reason: format!("a host callback failed: {}", err.reason),
        }
    }
}

impl From<tokio::task::JoinError> for FieldSyncError {
    fn from(err: tokio::task::JoinError) -> Self {
        let reason = if err.is_panic() {
            "the operation panicked".to_owned()
        } else {
            err.to_string()
        };
        Self::Internal { reason }
    }
}
