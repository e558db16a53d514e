//! Exit codes and error reports: what failed, sorted into the few kinds a script acts on, each with its
//! own exit code (documented in `docs/CLI.md`, `--help` and the man page).
//!
//! Every error ends up here: the core's [`Error`] through [`core_kind`], one exhaustive match (a new variant
//! does not compile until it is given a kind), and the CLI's own refusals as [`Failure`]s that carry theirs.

use std::process::ExitCode;

use fieldsync_core::transport::TransportError;
use fieldsync_core::{Error, FailureClass};
use serde_json::{Map, Value, json};

/// What kind of failure ended a command. Ordered by how much a person must do about it: when several
/// steps of one command failed (a `sync`), the exit code is the highest kind's, so that only a run where
/// everything that failed is worth retrying as it is exits with [`Kind::Temporary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The command line is wrong: clap's own errors, and arguments refused before anything ran.
    Usage,
    /// Worth retrying later as it is: the network or the provider is down or busy, the operation was
    /// stopped, another process holds the database.
    Temporary,
    /// The input or the cache's state refuses it: unknown integration, project, photo...; invalid value;
    /// conflict (exists already, closed, completed, pending work); requirements unmet.
    Data,
    /// The provider failed in a way retrying will not fix: its answer is invalid, it reported an error,
    /// it refused an item for good.
    Provider,
    /// The provider refused the credentials.
    Auth,
    /// The cache or a file could not be read or written (disk, permissions, a newer schema).
    Storage,
    /// A bug or an unexpected state in fieldsync.
    Internal,
}

impl Kind {
    /// Every kind, as documented.
    pub const ALL: [Kind; 7] = [
        Kind::Usage,
        Kind::Data,
        Kind::Provider,
        Kind::Internal,
        Kind::Storage,
        Kind::Temporary,
        Kind::Auth,
    ];

    /// The process exit code (sysexits.h where it has one; clap's 2 for usage).
    pub const fn exit_code(self) -> u8 {
        match self {
            Kind::Usage => 2,
            Kind::Data => 65,      // EX_DATAERR
            Kind::Provider => 69,  // EX_UNAVAILABLE
            Kind::Internal => 70,  // EX_SOFTWARE
            Kind::Storage => 74,   // EX_IOERR
            Kind::Temporary => 75, // EX_TEMPFAIL
            Kind::Auth => 77,      // EX_NOPERM
        }
    }

    /// The name in JSON (`error.kind`).
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Usage => "usage",
            Kind::Data => "data",
            Kind::Provider => "provider",
            Kind::Internal => "internal",
            Kind::Storage => "storage",
            Kind::Temporary => "temporary",
            Kind::Auth => "auth",
        }
    }
}

/// What a kind covers, for `--help`, the man page and `docs/CLI.md`.
pub const fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Usage => "usage: the command line is wrong (clap's own errors, a missing confirmation)",
        Kind::Data => "data: not found, invalid input, conflict, requirements unmet",
        Kind::Provider => {
            "provider: the provider failed for good (invalid answer, reported error, item refused)"
        }
        Kind::Internal => "internal: a bug in fieldsync",
        Kind::Storage => "storage: the cache or a file could not be read or written",
        Kind::Temporary => {
            "temporary: network down, provider busy, stopped or paused, database busy: retry later"
        }
        Kind::Auth => "auth: the provider refused the credentials",
    }
}

/// The exit status table at the end of `fieldsync --help`.
pub fn exit_status_help() -> String {
    let mut text = String::from("Exit status:\n     0  success\n");
    for kind in Kind::ALL {
        text.push_str(&format!("  {:>4}  {}\n", kind.exit_code(), describe(kind)));
    }
    text.push_str(
        "With --json, an error is one JSON object on stderr: {\"error\": {\"kind\", \"code\", \"message\", \
         \"exit_code\", ...}}; sync and watch stream NDJSON on stdout.",
    );
    text
}

/// A refusal of the CLI itself (not from the core), with its kind and a stable code for scripts.
#[derive(Debug)]
pub struct Failure {
    /// What kind of failure.
    pub kind: Kind,
    /// A stable snake_case name (`error.code` in JSON).
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// More fields of the JSON error object.
    pub details: Map<String, Value>,
}

impl Failure {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// With one more JSON field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// A core error given another kind than its own (an `import` file's invalid body is the user's data,
    /// not the provider's failure), keeping its code, message and details.
    pub fn reclassified(err: &Error, kind: Kind) -> Self {
        let (_, code) = core_kind(err);
        Self {
            kind,
            code,
            message: err.to_string(),
            details: core_details(err),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A [`Failure`] as an `anyhow::Error`, for `return Err(fail(...))`.
pub fn fail(kind: Kind, code: &'static str, message: impl Into<String>) -> anyhow::Error {
    Failure::new(kind, code, message).into()
}

/// The kind and code of a core error. Exhaustive on purpose: a new variant needs a decision here.
pub fn core_kind(err: &Error) -> (Kind, &'static str) {
    match err {
        Error::InvalidInput(_) => (Kind::Data, "invalid_input"),
        Error::UnknownIntegration(_) => (Kind::Data, "unknown_integration"),
        Error::DuplicateIntegration(_) => (Kind::Data, "duplicate_integration"),
        Error::UnknownProject(_) => (Kind::Data, "unknown_project"),
        Error::UnknownWorkType(_) => (Kind::Data, "unknown_work_type"),
        Error::PendingFieldWork { .. } => (Kind::Data, "pending_field_work"),
        Error::CheckInRefused { .. } => (Kind::Data, "check_in_refused"),
        Error::UnknownPhoto(_) => (Kind::Data, "unknown_photo"),
        Error::PhotoRefused(_) => (Kind::Data, "photo_refused"),
        Error::PhotoState { .. } => (Kind::Data, "photo_state"),
        Error::PhotoFilesEvicted(_) => (Kind::Data, "photo_files_evicted"),
        Error::UnknownOutboxEntry(_) => (Kind::Data, "unknown_outbox_entry"),
        // Being sent by another run (or delivered meanwhile): try again once that run ends.
        Error::OutboxEntryBusy { .. } => (Kind::Temporary, "outbox_entry_busy"),
        Error::ProjectClosed(_) => (Kind::Data, "project_closed"),
        Error::AlreadyCompleted(_) => (Kind::Data, "already_completed"),
        Error::CompletionBlocked { .. } => (Kind::Data, "completion_blocked"),
        Error::ProjectExists(_) => (Kind::Data, "project_exists"),
        Error::NotLocalProject(_) => (Kind::Data, "not_local_project"),
        Error::UnknownTask { .. } => (Kind::Data, "unknown_task"),
        Error::NoSurvey { .. } => (Kind::Data, "no_survey"),
        Error::UnknownSurveyTemplate { .. } => (Kind::Data, "unknown_survey_template"),
        Error::InvalidSurveyTemplate(_) => (Kind::Data, "invalid_survey_template"),
        Error::UnknownQuestion { .. } => (Kind::Data, "unknown_question"),
        Error::InvalidAnswer(_) => (Kind::Data, "invalid_answer"),
        Error::SurveyIncomplete { .. } => (Kind::Data, "survey_incomplete"),
        Error::UnknownSurvey(_) => (Kind::Data, "unknown_survey"),
        Error::SchemaTooNew { .. } => (Kind::Storage, "schema_too_new"),
        // From the provider (an `import` of a file reclassifies these as data).
        Error::InvalidResponse(_) => (Kind::Provider, "invalid_response"),
        Error::ResponseTooLarge { .. } => (Kind::Provider, "response_too_large"),
        Error::Provider(_) => (Kind::Provider, "provider_error"),
        Error::Io { .. } => (Kind::Storage, "io"),
        Error::Transport(err) => transport_kind(err),
        Error::RefreshFailed { class, .. } => (class_kind(*class), "refresh_failed"),
        Error::Secrets(_) => (Kind::Storage, "secret_store"),
        // Sign in again (`fieldsync integration credentials`): the same exit as refused credentials.
        Error::SecretUnreadable { .. } => (Kind::Auth, "secret_unreadable"),
        Error::Storage(err) => sqlite_kind(err),
        Error::Stopped(_) => (Kind::Temporary, "stopped"),
        Error::Paused => (Kind::Temporary, "paused"),
    }
}

fn transport_kind(err: &TransportError) -> (Kind, &'static str) {
    match err {
        TransportError::Auth(_) => (Kind::Auth, "auth_refused"),
        TransportError::Permanent(_) => (Kind::Provider, "provider_refused"),
        TransportError::Transient { .. } => (Kind::Temporary, "provider_unavailable"),
        TransportError::Stopped(_) => (Kind::Temporary, "stopped"),
    }
}

/// The kind of a failure the core classified (a refresh another caller ran).
fn class_kind(class: FailureClass) -> Kind {
    match class {
        FailureClass::Auth => Kind::Auth,
        FailureClass::Transient(_) | FailureClass::Stopped => Kind::Temporary,
        FailureClass::Permanent => Kind::Provider,
        // Storage or input: not said which; neither is worth retrying as it is.
        FailureClass::Other => Kind::Internal,
    }
}

/// SQLite: another process holding the database is temporary; anything else is storage.
fn sqlite_kind(err: &rusqlite::Error) -> (Kind, &'static str) {
    use rusqlite::ErrorCode;
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => (Kind::Temporary, "database_busy"),
        _ => (Kind::Storage, "storage"),
    }
}

/// Fields of a core error a script can use besides its message (never a secret: only names, ids and
/// counts the core put in its own message).
fn core_details(err: &Error) -> Map<String, Value> {
    let value = match err {
        Error::UnknownIntegration(code) | Error::DuplicateIntegration(code) => json!({ "integration": code }),
        Error::SecretUnreadable { integration, .. } => json!({ "integration": integration }),
        Error::UnknownProject(project)
        | Error::ProjectClosed(project)
        | Error::AlreadyCompleted(project)
        | Error::ProjectExists(project)
        | Error::NotLocalProject(project) => json!({ "project": project }),
        Error::UnknownPhoto(uuid) | Error::PhotoFilesEvicted(uuid) => json!({ "photo": uuid }),
        Error::UnknownOutboxEntry(id) | Error::OutboxEntryBusy { id, .. } => json!({ "entry": id }),
        Error::UnknownSurvey(uuid) => json!({ "survey": uuid }),
        Error::PendingFieldWork { what, count, .. } => json!({ "holder": what, "pending": count }),
        Error::CheckInRefused { project, reasons } => json!({ "project": project, "reasons": reasons }),
        Error::CompletionBlocked { project, unmet } => json!({ "project": project, "unmet": unmet }),
        Error::UnknownTask { project, task } | Error::NoSurvey { project, task } => {
            json!({ "project": project, "task": task })
        }
        Error::SurveyIncomplete {
            project,
            task,
            missing,
            invalid,
        } => {
            let invalid: Vec<Value> = invalid
                .iter()
                .map(|(question, problem)| json!({ "question": question, "problem": problem }))
                .collect();
            json!({ "project": project, "task": task, "missing": missing, "invalid": invalid })
        }
        Error::RefreshFailed { code, class, .. } => match class {
            FailureClass::Transient(Some(after)) => {
                json!({ "integration": code, "retry_after_secs": after.as_secs() })
            }
            _ => json!({ "integration": code }),
        },
        Error::Transport(TransportError::Transient {
            retry_after: Some(after),
            ..
        }) => json!({ "retry_after_secs": after.as_secs() }),
        _ => json!({}),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An error sorted: kind, code, the whole message, details.
#[derive(Debug)]
pub struct Report {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
    pub details: Map<String, Value>,
}

impl Report {
    /// Sorts `err` by the first cause that says what it is, outermost first: a CLI [`Failure`], a core
    /// [`Error`], then the few foreign errors the CLI meets (SQLite, I/O, JSON). Anything else is internal.
    pub fn of(err: &anyhow::Error) -> Self {
        let message = format!("{err:#}");
        for cause in err.chain() {
            if let Some(failure) = cause.downcast_ref::<Failure>() {
                return Self {
                    kind: failure.kind,
                    code: failure.code,
                    message,
                    details: failure.details.clone(),
                };
            }
            let (kind, code, details) = if let Some(err) = cause.downcast_ref::<Error>() {
                let (kind, code) = core_kind(err);
                (kind, code, core_details(err))
            } else if cause
                .downcast_ref::<fieldsync_core::model::InvalidInput>()
                .is_some()
            {
                // A value the core's parsers refuse before any call (a malformed CODE::NUMBER).
                (Kind::Data, "invalid_input", Map::new())
            } else if let Some(err) = cause.downcast_ref::<TransportError>() {
                let (kind, code) = transport_kind(err);
                (kind, code, Map::new())
            } else if let Some(err) = cause.downcast_ref::<rusqlite::Error>() {
                let (kind, code) = sqlite_kind(err);
                (kind, code, Map::new())
            } else if cause.downcast_ref::<serde_json::Error>().is_some() {
                (Kind::Data, "invalid_json", Map::new())
            } else if cause.downcast_ref::<std::io::Error>().is_some() {
                (Kind::Storage, "io", Map::new())
            } else {
                continue;
            };
            return Self {
                kind,
                code,
                message,
                details,
            };
        }
        Self {
            kind: Kind::Internal,
            code: "internal",
            message,
            details: Map::new(),
        }
    }

    /// `{"error": {"kind", "code", "message", "exit_code", ...details}}`.
    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("kind".into(), self.kind.name().into());
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.clone().into());
        error.insert("exit_code".into(), self.kind.exit_code().into());
        for (key, value) in &self.details {
            error.entry(key.clone()).or_insert_with(|| value.clone());
        }
        json!({ "error": error })
    }

    /// Prints the error on stderr (one JSON line with `--json`, else `error: MESSAGE`) and returns the
    /// exit code.
    pub fn exit(&self, json: bool) -> ExitCode {
        if json {
            eprintln!("{}", self.to_json());
        } else {
            // Errors carry text from outside (the provider's words, arguments): escaped like the rest.
            eprintln!("error: {}", crate::output::terminal_safe(&self.message));
        }
        ExitCode::from(self.kind.exit_code())
    }
}

/// A command-line parse error: help and version go to stdout with 0; errors exit 2, as JSON with `--json`.
pub fn clap_error(err: &clap::Error, json: bool) -> ExitCode {
    let code = u8::try_from(err.exit_code()).unwrap_or(Kind::Usage.exit_code());
    if !json || !err.use_stderr() {
        // Printing can only fail when the stream is gone; the exit code still says what happened.
        let _ = err.print();
        return ExitCode::from(code);
    }
    let rendered = err.render().to_string();
    let message = rendered
        .trim()
        .trim_start_matches("error: ")
        .trim_end_matches("For more information, try '--help'.")
        .trim()
        .to_owned();
    let report = Report {
        kind: Kind::Usage,
        code: clap_code(err.kind()),
        message,
        details: Map::new(),
    };
    eprintln!("{}", report.to_json());
    ExitCode::from(code)
}

fn clap_code(kind: clap::error::ErrorKind) -> &'static str {
    use clap::error::ErrorKind as K;
    match kind {
        K::InvalidValue => "invalid_value",
        K::UnknownArgument => "unknown_argument",
        K::InvalidSubcommand => "invalid_subcommand",
        K::NoEquals => "no_equals",
        K::ValueValidation => "value_validation",
        K::TooManyValues => "too_many_values",
        K::TooFewValues => "too_few_values",
        K::WrongNumberOfValues => "wrong_number_of_values",
        K::ArgumentConflict => "argument_conflict",
        K::MissingRequiredArgument => "missing_required_argument",
        K::MissingSubcommand | K::DisplayHelpOnMissingArgumentOrSubcommand => "missing_subcommand",
        K::InvalidUtf8 => "invalid_utf8",
        _ => "usage",
    }
}

/// Whether `--json` is among the arguments (before any `--`), for reporting a parse error as JSON.
pub fn json_requested(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    args.into_iter()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_table_lists_every_kind_with_its_code() {
        let help = exit_status_help();
        for kind in Kind::ALL {
            let line = format!("{:>4}  {}:", kind.exit_code(), kind.name());
            assert!(help.contains(&line), "missing `{line}`: {help}");
        }
    }

    #[test]
    fn codes_are_distinct_and_not_clap_or_shell_reserved() {
        let mut codes: Vec<u8> = Kind::ALL.iter().map(|kind| kind.exit_code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Kind::ALL.len());
        assert!(codes.iter().all(|code| *code != 0 && *code != 1 && *code < 126));
    }

    #[test]
    fn core_errors_sort_as_documented() {
        use std::time::Duration;
        let cases = [
            (Error::UnknownProject("ACME::1".into()), Kind::Data),
            (Error::DuplicateIntegration("ACME".into()), Kind::Data),
            (Error::Transport(TransportError::Auth("no".into())), Kind::Auth),
            (
                Error::Transport(TransportError::Transient {
                    message: "down".into(),
                    retry_after: Some(Duration::from_secs(3)),
                }),
                Kind::Temporary,
            ),
            (
                Error::Transport(TransportError::Permanent("bad".into())),
                Kind::Provider,
            ),
            (Error::Provider("no".into()), Kind::Provider),
            (Error::Paused, Kind::Temporary),
            (
                Error::OutboxEntryBusy {
                    id: "x".into(),
                    state: "sending".into(),
                },
                Kind::Temporary,
            ),
            (Error::Secrets("locked".into()), Kind::Storage),
            (
                Error::SecretUnreadable {
                    integration: "ACME".into(),
                    kind: fieldsync_core::SecretKind::PasswordSha1,
                    reason: "damaged".into(),
                },
                Kind::Auth,
            ),
            (
                Error::RefreshFailed {
                    code: "ACME".into(),
                    message: "refused".into(),
                    class: FailureClass::Auth,
                },
                Kind::Auth,
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(core_kind(&err).0, kind, "{err}");
            // Through anyhow and a context, as commands return them.
            let wrapped = anyhow::Error::from(err).context("while testing");
            assert_eq!(Report::of(&wrapped).kind, kind);
        }
    }

    #[test]
    fn a_busy_database_is_temporary() {
        let busy =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        assert_eq!(core_kind(&Error::Storage(busy)).0, Kind::Temporary);
        let full =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        assert_eq!(core_kind(&Error::Storage(full)).0, Kind::Storage);
    }

    #[test]
    fn a_failure_keeps_its_kind_under_context_and_details_reach_the_json() {
        let err = anyhow::Error::from(Failure::new(Kind::Usage, "nothing_to_edit", "nothing").with("x", 1))
            .context("outer");
        let report = Report::of(&err);
        assert_eq!(report.kind, Kind::Usage);
        let json = report.to_json();
        assert_eq!(json["error"]["kind"], "usage");
        assert_eq!(json["error"]["code"], "nothing_to_edit");
        assert_eq!(json["error"]["exit_code"], 2);
        assert_eq!(json["error"]["x"], 1);
        assert_eq!(json["error"]["message"], "outer: nothing");
    }

    #[test]
    fn json_is_requested_only_before_a_double_dash() {
        let args = |list: &[&str]| list.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(json_requested(args(&["fieldsync", "projects", "--json"])));
        assert!(!json_requested(args(&["fieldsync", "survey", "--", "--json"])));
        assert!(!json_requested(args(&["--json"])));
    }
}
