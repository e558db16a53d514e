//! The core's error type: one enum whose variants say what went wrong and what a person can do about it.
//! Messages never contain credentials.

use std::path::PathBuf;

use crate::model::InvalidInput;

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kind of a failure shared with callers that waited for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The provider refused the credentials, or the saved ones cannot be read: the user signs in again.
    Auth,
    /// Worth retrying later (after the delay, if given).
    Transient(Option<std::time::Duration>),
    /// The provider's answer or the request was wrong.
    Permanent,
    /// The operation was stopped (cancelled, paused, deadline): not a failure of the provider.
    Stopped,
    /// Anything else (storage, input).
    Other,
}

impl Error {
    /// The kind of this failure.
    pub fn class(&self) -> FailureClass {
        match self {
            Self::Transport(crate::transport::TransportError::Auth(_)) | Self::SecretUnreadable { .. } => {
                FailureClass::Auth
            }
            Self::Transport(crate::transport::TransportError::Transient { retry_after, .. }) => {
                FailureClass::Transient(*retry_after)
            }
            Self::Transport(crate::transport::TransportError::Permanent(_))
            | Self::InvalidResponse(_)
            | Self::ResponseTooLarge { .. }
            | Self::Provider(_) => FailureClass::Permanent,
            Self::RefreshFailed { class, .. } => *class,
            Self::Transport(crate::transport::TransportError::Stopped(_))
            | Self::Stopped(_)
            | Self::Paused => FailureClass::Stopped,
            _ => FailureClass::Other,
        }
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The caller's input is not acceptable; nothing was written.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// No integration has this code.
    #[error("no integration has the code `{0}`")]
    UnknownIntegration(String),
    /// An integration with this code exists already.
    #[error("an integration with the code `{0}` exists already")]
    DuplicateIntegration(String),
    /// No project has this id.
    #[error("no project {0} in the cache")]
    UnknownProject(String),
    /// No work type has this name.
    #[error("no work type is named `{0}`")]
    UnknownWorkType(String),
    /// The operation would lose field work that is not delivered yet.
    #[error("{what} holds {count} item(s) of field work not yet delivered; {hint}")]
    PendingFieldWork {
        /// What holds the work (an integration or a project).
        what: String,
        /// How many outbox entries are pending.
        count: u64,
        /// What the person can do.
        hint: String,
    },
    /// A check-in outside the integration's rules, which refuses uncertified check-ins. Nothing was written.
    #[error("check-in refused for {project}: {}", reasons.join("; "))]
    CheckInRefused {
        /// The project.
        project: String,
        /// Every rule that failed.
        reasons: Vec<String>,
    },
    /// No photo has this id.
    #[error("no photo {0}")]
    UnknownPhoto(String),
    /// The image cannot be taken or processed (hostile, damaged, unsupported); nothing was written.
    #[error("photo refused: {0}")]
    PhotoRefused(String),
    /// The photo's state does not allow the action.
    #[error("photo {uuid} is {state}: cannot {action} it")]
    PhotoState {
        /// The photo.
        uuid: String,
        /// Its state.
        state: String,
        /// What was asked.
        action: &'static str,
    },
    /// A relayed photo cannot be published again: the retention policy deleted both its rendition and its
    /// original (see `docs/DOMAIN.md`, "Storage and retention").
    #[error("photo {0} cannot be published again: its files were deleted by the retention policy")]
    PhotoFilesEvicted(String),
    /// No outbox entry has this id.
    #[error("no outbox entry {0}")]
    UnknownOutboxEntry(String),
    /// The outbox entry cannot be changed in its state (being sent, or delivered).
    #[error("outbox entry {id} is {state} and cannot be changed now")]
    OutboxEntryBusy {
        /// The entry.
        id: String,
        /// Its state.
        state: String,
    },
    /// The project was closed by the vendor.
    #[error("project {0} is closed")]
    ProjectClosed(String),
    /// The project was completed already; completing it again would send a second status.
    #[error("project {0} is completed already")]
    AlreadyCompleted(String),
    /// Completing the project is refused: requirements are not met. Nothing was written.
    #[error("project {project} cannot be completed yet: {}", unmet.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    CompletionBlocked {
        /// The project.
        project: String,
        /// Every requirement not met, per task.
        unmet: Vec<crate::requirements::Unmet>,
    },
    /// A project with this work order number exists already in the integration.
    #[error("project {0} exists already")]
    ProjectExists(String),
    /// The project came from the provider; only a project created on the device can be discarded.
    #[error("project {0} came from the provider: only a project created on this device can be discarded")]
    NotLocalProject(String),
    /// The project has no task of this name.
    #[error("project {project} has no task `{task}`")]
    UnknownTask {
        /// The project.
        project: String,
        /// The task asked for.
        task: String,
    },
    /// The task has no survey.
    #[error("task `{task}` of project {project} has no survey")]
    NoSurvey {
        /// The project.
        project: String,
        /// The task.
        task: String,
    },
    /// The task's survey template is not in the local library (yet); the survey cannot be started.
    #[error(
        "task `{task}` of project {project} uses the survey template `{template}`, which is not in the local template library yet; add the template to the library to start it"
    )]
    UnknownSurveyTemplate {
        /// The project.
        project: String,
        /// The task.
        task: String,
        /// The template id the provider named.
        template: String,
    },
    /// A survey template was refused (as added, or as the provider sent it inline). Nothing was written.
    #[error("survey template refused: {0}")]
    InvalidSurveyTemplate(crate::survey::TemplateError),
    /// The survey has no question with this id.
    #[error("the survey `{template}` has no question `{question}`")]
    UnknownQuestion {
        /// The template.
        template: String,
        /// The question id given.
        question: String,
    },
    /// An answer does not fit its question. Nothing was written.
    #[error("answer refused: {0}")]
    InvalidAnswer(crate::survey::AnswerProblem),
    /// Submitting is refused: required answers are missing or answers are invalid. Nothing was written.
    #[error(
        "the survey of task `{task}` of project {project} is not complete: {}",
        describe_incomplete(missing, invalid)
    )]
    SurveyIncomplete {
        /// The project.
        project: String,
        /// The task.
        task: String,
        /// Visible required questions without an answer.
        missing: Vec<String>,
        /// Answers that are not valid, with why.
        invalid: Vec<(String, String)>,
    },
    /// No submitted survey has this id.
    #[error("no submitted survey {0}")]
    UnknownSurvey(String),
    /// The database was written by a newer fieldsync; it was left untouched.
    #[error(
        "the database at {path} has schema version {found} but this fieldsync knows only up to {supported}; \
         it was left untouched (update fieldsync)"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The import response could not be read; the cache is unchanged.
    #[error("the getWorkOrders response is not valid: {0}")]
    InvalidResponse(String),
    /// The import response is larger than allowed; the cache is unchanged.
    #[error("the getWorkOrders response is {size} bytes, more than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The provider answered with an error.
    #[error("the provider reported an error: {0}")]
    Provider(String),
    /// A file could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not chained as a source: it would print twice).
        error: std::io::Error,
    },
    /// Talking to the provider failed.
    #[error(transparent)]
    Transport(crate::transport::TransportError),
    /// A refresh this call waited for (requested meanwhile by another caller) failed.
    #[error("the refresh of {code} failed: {message}")]
    RefreshFailed {
        /// The integration.
        code: String,
        /// Why.
        message: String,
        /// What kind of failure it was, so that every waiter can react as the caller that ran it.
        class: FailureClass,
    },
    /// The secret store failed.
    #[error("secret store: {0}")]
    Secrets(String),
    /// A secret is saved but cannot be read back: the key that encrypted it is gone (a backup restored on
    /// another device, a lock screen reset) or its file is damaged. Unlike a secret never saved, this needs
    /// the user: signing in again replaces it. Retrying does not help.
    #[error("the saved {kind} of integration `{integration}` cannot be read ({reason}); sign in again")]
    SecretUnreadable {
        /// The integration's code.
        integration: String,
        /// Which secret.
        kind: crate::model::SecretKind,
        /// Why, from the secret store (never the value).
        reason: String,
    },
    /// SQLite failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// The operation stopped before its end (cancelled, paused, or at its deadline). Nothing was
    /// half-written: what it had not finished is done by a later run.
    #[error("stopped: {0}")]
    Stopped(crate::cancel::StopReason),
    /// fieldsync is paused ([`crate::app::App::pause`]): its database is closed until `resume()`.
    #[error("fieldsync is paused: call resume() first (the database is closed while the app is suspended)")]
    Paused,
}

impl From<crate::cancel::StopReason> for Error {
    fn from(reason: crate::cancel::StopReason) -> Self {
        Self::Stopped(reason)
    }
}

// Not `#[from]`: that would also make the template error the source, and a caller printing the chain
// would say the problem twice.
impl From<crate::survey::TemplateError> for Error {
    fn from(err: crate::survey::TemplateError) -> Self {
        Self::InvalidSurveyTemplate(err)
    }
}

fn describe_incomplete(missing: &[String], invalid: &[(String, String)]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", missing.join(", ")));
    }
    for (question, problem) in invalid {
        parts.push(format!("{question}: {problem}"));
    }
    parts.join("; ")
}

impl Error {
    /// The same error with every one of `secrets` replaced by [`crate::transport::REDACTED`] in the text
    /// that may come from outside (the provider's words, a response's content). Applied where such errors
    /// are recorded or returned, with the integration's secrets at hand.
    pub fn redacted<S: AsRef<str>>(self, secrets: &[S]) -> Self {
        use crate::transport::redact;
        match self {
            Self::Transport(err) => Self::Transport(err.redacted(secrets)),
            Self::InvalidResponse(message) => Self::InvalidResponse(redact(&message, secrets)),
            Self::Provider(message) => Self::Provider(redact(&message, secrets)),
            Self::RefreshFailed { code, message, class } => Self::RefreshFailed {
                code,
                message: redact(&message, secrets),
                class,
            },
            // Input errors name our own fields; a value echoed back from outside may sit in the reason.
            Self::InvalidInput(input) => Self::InvalidInput(InvalidInput {
                reason: redact(&input.reason, secrets),
                ..input
            }),
            other => other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }
}
