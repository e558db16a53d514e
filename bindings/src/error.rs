//! The one error type of the bindings. Each variant says what the app can do about it; messages never hold
//! credentials (the core's messages do not, and this is the only conversion point).

use fieldsync_core::Error as CoreError;
use fieldsync_core::cancel::StopReason;
use fieldsync_core::transport::TransportError;

use crate::payloads::{InvalidAnswer, UnmetRequirement};

/// Which conflict a `Conflict` error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConflictKind {
    /// An integration with this code exists already.
    DuplicateIntegration,
    /// Undelivered field work would be lost (delete refused; export or deliver first).
    PendingFieldWork,
    /// The project is closed.
    ProjectClosed,
    /// The outbox item is being sent or was delivered.
    OutboxItemBusy,
    /// The photo's state does not allow the action.
    PhotoState,
    /// A relayed photo's files were deleted by the retention policy; it cannot be published again.
    PhotoFilesEvicted,
    /// The project is completed already.
    AlreadyCompleted,
    /// A project with this work order number exists already.
    ProjectExists,
    /// Only a project created on the device can be discarded.
    NotLocalProject,
}

/// What went wrong, sorted by what the app can do.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
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
        /// The integration whose credentials were refused, when known.
        integration: Option<String>,
    },
    /// A saved secret (password, token, push key) exists but cannot be decrypted: the key that encrypted it
    /// is gone (a backup restored on another phone, a reset lock screen). Not the same as never signed in,
    /// and not worth retrying: ask the user to sign in again (`update_credentials`), which replaces it.
    /// A host `SecretStore` throws it from `get` for a value it cannot decrypt, rather than returning null.
    #[error("secret unreadable: {reason}")]
    SecretUnreadable {
        /// What cannot be read and why (never the value).
        reason: String,
        /// The integration whose secret it is, when the library knows it.
        integration: Option<String>,
    },
    /// The check-in broke the integration's rules and the integration refuses uncertified check-ins;
    /// nothing was written.
    #[error("check-in refused: {reason}")]
    CheckInRefused {
        /// The project and every failed rule, as text.
        reason: String,
        /// The project.
        project: String,
        /// Every rule that failed.
        failed_rules: Vec<String>,
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
        /// Which conflict it is.
        kind: ConflictKind,
    },
    /// The provider answered with something unusable (malformed, too large, an error): report it.
    #[error("provider: {reason}")]
    Provider {
        /// What was wrong.
        reason: String,
    },
    /// Completing the project is refused: requirements are not met (nothing was written). Meet them, or
    /// complete with a reason (`force_reason`).
    #[error("completion blocked: {reason}")]
    CompletionBlocked {
        /// The project and every requirement not met, as text.
        reason: String,
        /// Every requirement not met, per task (the check-in first).
        unmet: Vec<UnmetRequirement>,
    },
    /// Submitting the survey is refused: required answers are missing or answers do not fit (nothing was
    /// written). Answer them, then submit again.
    #[error("survey incomplete: {reason}")]
    SurveyIncomplete {
        /// What is missing or invalid, as text.
        reason: String,
        /// The visible required questions without an answer, in template order.
        missing: Vec<String>,
        /// The visible answers that do not fit, in template order.
        invalid: Vec<InvalidAnswer>,
    },
    /// The device's storage failed (disk full, database from a newer version, secret store).
    #[error("storage: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// The app cancelled the call (its coroutine, task or future was cancelled). Nothing was half-written;
    /// unsent work goes at the next sync.
    #[error("cancelled: {reason}")]
    Cancelled {
        /// What stopped.
        reason: String,
    },
    /// fieldsync is paused (`pause()`), or the call was interrupted by it: call `resume()` first. Work the
    /// pause interrupted goes on after `resume()`.
    #[error("paused: {reason}")]
    Paused {
        /// What was refused or interrupted.
        reason: String,
    },
    /// The call reached its deadline and stopped; unsent work goes at the next run.
    #[error("deadline: {reason}")]
    DeadlineReached {
        /// What stopped.
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
            CoreError::CheckInRefused { project, reasons } => Self::CheckInRefused {
                reason,
                project,
                failed_rules: reasons,
            },
            CoreError::InvalidInput(_)
            | CoreError::PhotoRefused(_)
            | CoreError::InvalidSurveyTemplate(_)
            | CoreError::InvalidAnswer(_) => Self::InvalidInput { reason },
            CoreError::SurveyIncomplete { missing, invalid, .. } => Self::SurveyIncomplete {
                reason,
                missing,
                invalid: invalid
                    .into_iter()
                    .map(|(question, problem)| InvalidAnswer { question, problem })
                    .collect(),
            },
            CoreError::CompletionBlocked { unmet, .. } => Self::CompletionBlocked {
                reason,
                unmet: unmet.into_iter().map(Into::into).collect(),
            },
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
            CoreError::DuplicateIntegration(_) => Self::conflict(reason, ConflictKind::DuplicateIntegration),
            CoreError::PendingFieldWork { .. } => Self::conflict(reason, ConflictKind::PendingFieldWork),
            CoreError::ProjectClosed(_) => Self::conflict(reason, ConflictKind::ProjectClosed),
            CoreError::OutboxEntryBusy { .. } => Self::conflict(reason, ConflictKind::OutboxItemBusy),
            CoreError::PhotoState { .. } => Self::conflict(reason, ConflictKind::PhotoState),
            CoreError::PhotoFilesEvicted(_) => Self::conflict(reason, ConflictKind::PhotoFilesEvicted),
            CoreError::AlreadyCompleted(_) => Self::conflict(reason, ConflictKind::AlreadyCompleted),
            CoreError::ProjectExists(_) => Self::conflict(reason, ConflictKind::ProjectExists),
            CoreError::NotLocalProject(_) => Self::conflict(reason, ConflictKind::NotLocalProject),
            CoreError::Stopped(StopReason::Cancelled)
            | CoreError::Transport(TransportError::Stopped(StopReason::Cancelled)) => {
                Self::Cancelled { reason }
            }
            CoreError::Paused
            | CoreError::Stopped(StopReason::Paused)
            | CoreError::Transport(TransportError::Stopped(StopReason::Paused)) => Self::Paused { reason },
            CoreError::Stopped(StopReason::Deadline)
            | CoreError::Transport(TransportError::Stopped(StopReason::Deadline)) => {
                Self::DeadlineReached { reason }
            }
            CoreError::Transport(TransportError::Auth(_)) => Self::Auth {
                reason,
                integration: None,
            },
            CoreError::Transport(TransportError::Transient { retry_after, .. }) => Self::Network {
                reason,
                retry_after_secs: retry_after.map(|delay| delay.as_secs()),
            },
            CoreError::Transport(TransportError::Permanent(_))
            | CoreError::InvalidResponse(_)
            | CoreError::ResponseTooLarge { .. }
            | CoreError::Provider(_) => Self::Provider { reason },
            CoreError::RefreshFailed { class, code, .. } => match class {
                fieldsync_core::FailureClass::Auth => Self::Auth {
                    reason,
                    integration: Some(code),
                },
                fieldsync_core::FailureClass::Transient(retry_after) => Self::Network {
                    reason,
                    retry_after_secs: retry_after.map(|delay| delay.as_secs()),
                },
                fieldsync_core::FailureClass::Permanent => Self::Provider { reason },
                fieldsync_core::FailureClass::Other => Self::Storage { reason },
                // A waiter of a run that another caller stopped: that caller's stop, not this one's.
                fieldsync_core::FailureClass::Stopped => Self::Cancelled { reason },
            },
            CoreError::SecretUnreadable { integration, .. } => Self::SecretUnreadable {
                reason,
                integration: Some(integration),
            },
            CoreError::SchemaTooNew { .. }
            | CoreError::Io { .. }
            | CoreError::Secrets(_)
            | CoreError::Storage(_) => Self::Storage { reason },
        }
    }
}

impl FieldSyncError {
    fn conflict(reason: String, kind: ConflictKind) -> Self {
        Self::Conflict { reason, kind }
    }

    /// The same error naming the integration it concerns, when it is an auth failure that does not say.
    pub(crate) fn for_integration(self, code: &str) -> Self {
        match self {
            Self::Auth {
                reason,
                integration: None,
            } => Self::Auth {
                reason,
                integration: Some(code.to_owned()),
            },
            other => other,
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

#[cfg(test)]
mod tests {
    use fieldsync_core::photo::EvidenceType;
    use fieldsync_core::requirements::{Unmet, UnmetRequirement as CoreUnmet};

    use super::*;
    use crate::payloads::RequirementKind;

    #[test]
    fn a_refused_survey_keeps_its_missing_and_invalid_questions() {
        let err = FieldSyncError::from(CoreError::SurveyIncomplete {
            project: "ACME::WO-1".into(),
            task: "Inspection".into(),
            missing: vec!["roof".into()],
            invalid: vec![("count".into(), "500 is outside [1, 100]".into())],
        });
        let FieldSyncError::SurveyIncomplete {
            reason,
            missing,
            invalid,
        } = err
        else {
            panic!("not SurveyIncomplete: {err:?}");
        };
        assert!(reason.contains("roof"), "{reason}");
        assert_eq!(missing, ["roof"]);
        assert_eq!(
            invalid,
            [InvalidAnswer {
                question: "count".into(),
                problem: "500 is outside [1, 100]".into()
            }]
        );
    }

    #[test]
    fn a_blocked_completion_keeps_its_typed_unmet_requirements() {
        let err = FieldSyncError::from(CoreError::CompletionBlocked {
            project: "ACME::WO-1".into(),
            unmet: vec![
                Unmet {
                    task: None,
                    requirement: CoreUnmet::CheckIn,
                    have: 0,
                    need: 1,
                },
                Unmet {
                    task: Some("Grass Cut".into()),
                    requirement: CoreUnmet::Photos {
                        evidence: EvidenceType::After,
                    },
                    have: 1,
                    need: 2,
                },
            ],
        });
        let FieldSyncError::CompletionBlocked { reason, unmet } = err else {
            panic!("not CompletionBlocked: {err:?}");
        };
        assert!(reason.contains("Grass Cut"), "{reason}");
        assert_eq!(
            unmet,
            [
                UnmetRequirement {
                    task: None,
                    kind: RequirementKind::CheckIn,
                    evidence: None,
                    have: 0,
                    need: 1
                },
                UnmetRequirement {
                    task: Some("Grass Cut".into()),
                    kind: RequirementKind::Photos,
                    evidence: Some(crate::payloads::EvidenceType::After),
                    have: 1,
                    need: 2
                },
            ]
        );
    }

    #[test]
    fn other_field_work_errors_map_to_what_the_app_can_do() {
        let not_found = FieldSyncError::from(CoreError::UnknownQuestion {
            template: "t".into(),
            question: "q".into(),
        });
        assert!(
            matches!(not_found, FieldSyncError::NotFound { .. }),
            "{not_found:?}"
        );
        let conflict = FieldSyncError::from(CoreError::AlreadyCompleted("ACME::WO-1".into()));
        assert!(
            matches!(conflict, FieldSyncError::Conflict { .. }),
            "{conflict:?}"
        );
        let invalid = FieldSyncError::from(CoreError::InvalidAnswer(
            fieldsync_core::survey::AnswerProblem::Empty { question: "q".into() },
        ));
        assert!(
            matches!(invalid, FieldSyncError::InvalidInput { .. }),
            "{invalid:?}"
        );
    }
}
