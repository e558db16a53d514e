//! The command line, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// fieldsync: the offline project cache and sync engine for field vendors (Pruvan Share).
#[derive(Debug, Parser)]
#[command(name = "fieldsync", version, about, after_long_help = crate::exit::exit_status_help())]
pub struct Cli {
    /// The cache database [default: fieldsync/fieldsync.db in the platform's data directory:
    /// $XDG_DATA_HOME or ~/.local/share on Linux, ~/Library/Application Support on macOS].
    #[arg(long, global = true, env = "FIELDSYNC_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Print JSON (snake_case keys) instead of tables; errors become one JSON object on stderr, and
    /// `sync` and `watch` stream one JSON object per line (NDJSON).
    #[arg(long, global = true)]
    pub json: bool,
    /// More log output on stderr (-v info, -vv debug); FIELDSYNC_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Link, list, show, edit and delete integrations.
    #[command(subcommand)]
    Integration(IntegrationCommand),
    /// Manage work types (Default Work Type templates).
    #[command(subcommand, name = "work-type")]
    WorkType(WorkTypeCommand),
    /// Apply a getWorkOrders response body from a file, as a Refresh (default) or a Full Import.
    Import {
        /// Integration code.
        code: String,
        /// The response body (JSON).
        #[arg(long)]
        file: PathBuf,
        /// Full Import: projects absent from the file are removed (unless they hold pending work).
        #[arg(long)]
        full: bool,
    },
    /// List projects.
    Projects(ProjectsArgs),
    /// Show, edit, close or delete one project.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Pull from the provider: a Refresh (changes since the last import) or a Full Import.
    Refresh {
        /// Integration code (or use --push-key).
        #[arg(required_unless_present = "push_key")]
        code: Option<String>,
        /// Full Import: everything; projects no longer assigned are removed (unless they hold pending work).
        #[arg(long)]
        full: bool,
        /// Refresh the integration this push key belongs to (an unknown key changes nothing).
        #[arg(long, env = "FIELDSYNC_PUSH_KEY", hide_env_values = true, conflicts_with_all = ["code", "full"])]
        push_key: Option<String>,
    },
    /// Check in at a project's property (the fix comes from the arguments, as a phone's GPS would give it).
    Checkin {
        /// CODE::NUMBER
        id: String,
        /// Latitude, degrees.
        #[arg(long, allow_negative_numbers = true, required_unless_present = "track")]
        lat: Option<f64>,
        /// Longitude, degrees.
        #[arg(long, allow_negative_numbers = true, required_unless_present = "track")]
        lon: Option<f64>,
        /// Horizontal accuracy, metres.
        #[arg(long, allow_negative_numbers = true, required_unless_present = "track")]
        accuracy: Option<f64>,
        /// A GPS track to replay instead (JSON list of {latitude, longitude, accuracy_m, altitude_m,
        /// delay_ms, is_mock}); the best fix within 30 s is used, stopping at the first within 10 m.
        #[arg(long, conflicts_with_all = ["lat", "lon", "accuracy", "fix_time", "altitude", "mock"])]
        track: Option<PathBuf>,
        /// When the fix was taken (RFC 3339, e.g. 2026-11-23T14:05:00Z); now when absent.
        #[arg(long, value_parser = parse_fix_time)]
        fix_time: Option<i64>,
        /// Altitude, metres.
        #[arg(long, allow_negative_numbers = true)]
        altitude: Option<f64>,
        /// The OS flagged the fix as mocked.
        #[arg(long)]
        mock: bool,
        /// Check-in ID (badge number); saved as the default for next time.
        #[arg(long)]
        badge: Option<String>,
        /// The field user checking in.
        #[arg(long)]
        user: Option<String>,
    },
    /// Photos: add, list, show, approve, reject.
    #[command(subcommand)]
    Photo(PhotoCommand),
    /// The survey template library: add, list.
    #[command(subcommand, name = "survey-template")]
    SurveyTemplate(SurveyTemplateCommand),
    /// A task's survey: show, answer, submit; QA approves or rejects submissions.
    #[command(subcommand)]
    Survey(SurveyCommand),
    /// Where the device's storage goes (database, WAL, photo files by state); `storage clean` applies the
    /// photo retention policy and tidies the database now.
    Storage {
        #[command(subcommand)]
        command: Option<StorageCommand>,
    },
    /// The upload log: field work waiting for delivery, each with why it waits; retry or discard entries,
    /// retry every failed one, clean up delivered ones.
    Outbox {
        /// The network to give the reasons for (a CLI process has no network monitor).
        #[arg(long, global = true, value_enum, default_value_t = NetworkArg::Unmetered)]
        network: NetworkArg,
        #[command(subcommand)]
        command: Option<OutboxCommand>,
    },
    /// Show or set the upload policy: photos and surveys on Wi-Fi only, and the pause switch for photos and
    /// surveys (check-ins and statuses always go on any network). Kept in the cache.
    #[command(name = "upload-policy")]
    UploadPolicy {
        /// Photos and surveys wait for an unmetered network.
        #[arg(long, value_enum)]
        wifi_only: Option<OnOff>,
        /// Photos and surveys wait until the pause is off.
        #[arg(long, value_enum)]
        pause: Option<OnOff>,
    },
    /// Deliver queued field work, then refresh every integration that is due (never refreshed, in error,
    /// or older than --max-age).
    Sync {
        /// Seconds after which a refresh is due again.
        #[arg(long, default_value_t = 900)]
        max_age: u64,
        /// Outbox entries sent at once (photos of different projects in parallel; one project's entries
        /// always go in order).
        #[arg(long, default_value_t = fieldsync_core::sync::DEFAULT_RELAY_CONCURRENCY as u64,
              value_parser = clap::value_parser!(u64).range(1..=fieldsync_core::sync::MAX_RELAY_CONCURRENCY as u64))]
        relay_concurrency: u64,
        /// The network this sync runs on: with `none` nothing is sent or refreshed; on `metered`, photos
        /// and surveys wait when the upload policy says Wi-Fi only.
        #[arg(long, value_enum, default_value_t = NetworkArg::Unmetered)]
        network: NetworkArg,
    },
    /// The whole story against a provider emulator on loopback; leaves a database to explore.
    Demo {
        /// Where to leave the demo database (replaced if it exists).
        #[arg(long, default_value = "fieldsync-demo.db")]
        out: PathBuf,
    },
    /// The provider emulator.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Run auto-import in the foreground (integrations with auto import on) until Ctrl-C or SIGTERM, which
    /// end it with a summary and exit status 0.
    Watch {
        /// Seconds between refreshes of an integration (jittered by 20%).
        #[arg(long, default_value_t = 900)]
        interval: u64,
    },
    /// Print a shell completion script to stdout (e.g. `fieldsync completions bash >
    /// ~/.local/share/bash-completion/completions/fieldsync`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into a folder.
    Man {
        /// Write fieldsync.1 and one fieldsync-COMMAND.1 per subcommand into this folder (created if
        /// missing) instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Content credentials: set up this device's signer (development), verify a photo.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Create a development certificate authority and a device certificate in `<db>-evidence/`; photos
    /// processed from now on carry content credentials signed with it.
    Init {
        /// The organisation named in the certificates.
        #[arg(long, default_value = "fieldsync development")]
        organisation: String,
        /// Replace an existing device key.
        #[arg(long)]
        replace: bool,
    },
    /// Verify a photo's content credentials: valid, tampered (and where), unsigned, or untrusted; or a
    /// check-in or survey item (JSON) and its `evidenceSignature`. Needs no cache and no network. Exit code
    /// 0 only when valid.
    Verify {
        /// The photo (JPEG), or an item (JSON).
        file: PathBuf,
        /// The trust anchor(s), PEM (e.g. `<db>-evidence/ca.pem`); without it only integrity is checked.
        #[arg(long)]
        trust: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

impl From<OnOff> for bool {
    fn from(value: OnOff) -> bool {
        matches!(value, OnOff::On)
    }
}

/// The network, as the host would report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    None,
    Metered,
    Unmetered,
}

impl From<NetworkArg> for fieldsync_core::outbox::NetworkState {
    fn from(value: NetworkArg) -> Self {
        match value {
            NetworkArg::None => Self::None,
            NetworkArg::Metered => Self::Metered,
            NetworkArg::Unmetered => Self::Unmetered,
        }
    }
}

/// The integration type.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// The vendor's own system.
    Internal,
    /// A client's system (the usual case for a Pruvan Share link).
    External,
}

impl From<ModeArg> for fieldsync_core::model::Mode {
    fn from(value: ModeArg) -> Self {
        match value {
            ModeArg::Internal => Self::Internal,
            ModeArg::External => Self::External,
        }
    }
}

/// When a photo was taken, relative to the work.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EvidenceArg {
    /// Before the work.
    Before,
    /// During the work.
    During,
    /// After the work.
    After,
}

impl From<EvidenceArg> for fieldsync_core::photo::EvidenceType {
    fn from(value: EvidenceArg) -> Self {
        match value {
            EvidenceArg::Before => Self::Before,
            EvidenceArg::During => Self::During,
            EvidenceArg::After => Self::After,
        }
    }
}

/// The home screen's tabs (each project is in exactly one).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CategoryArg {
    /// Status REWORK.
    Rework,
    /// Status RUSH.
    Rush,
    /// Starts after today.
    Upcoming,
    /// Every other open project.
    Assigned,
    /// Closed or completed.
    Complete,
    /// Cancelled or deleted by the provider.
    Cancelled,
}

impl From<CategoryArg> for fieldsync_core::model::Category {
    fn from(value: CategoryArg) -> Self {
        match value {
            CategoryArg::Rework => Self::Rework,
            CategoryArg::Rush => Self::Rush,
            CategoryArg::Upcoming => Self::Upcoming,
            CategoryArg::Assigned => Self::Assigned,
            CategoryArg::Complete => Self::Complete,
            CategoryArg::Cancelled => Self::Cancelled,
        }
    }
}

/// Where the crew is with a project.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FieldStatusArg {
    /// Imported, not opened yet.
    New,
    /// Opened by the crew.
    Viewed,
    /// Work has started (a check-in, a photo or a survey answer).
    #[value(name = "in_process", alias = "in-process")]
    InProcess,
    /// Changed by an import since the crew last viewed it.
    Updated,
    /// Completed by the crew.
    Completed,
}

impl From<FieldStatusArg> for fieldsync_core::model::FieldStatus {
    fn from(value: FieldStatusArg) -> Self {
        match value {
            FieldStatusArg::New => Self::New,
            FieldStatusArg::Viewed => Self::Viewed,
            FieldStatusArg::InProcess => Self::InProcess,
            FieldStatusArg::Updated => Self::Updated,
            FieldStatusArg::Completed => Self::Completed,
        }
    }
}

/// Settings shared by `integration add` and `integration edit`.
#[derive(Debug, Args)]
pub struct IntegrationSettings {
    /// Long name.
    #[arg(long)]
    pub name: Option<String>,
    /// Internal (the vendor's own system) or external (a client).
    #[arg(long, value_enum, ignore_case = true)]
    pub mode: Option<ModeArg>,
    /// Auto Admin: imports overwrite shared fields.
    #[arg(long, value_enum)]
    pub auto_admin: Option<OnOff>,
    /// Work type applied to imported projects ("none" clears it on edit).
    #[arg(long)]
    pub default_work_type: Option<String>,
    /// Who new projects are assigned to: a user name, `all` or `none`.
    #[arg(long)]
    pub default_assign_to: Option<String>,
    /// Relay photos without QA approval.
    #[arg(long, value_enum)]
    pub auto_relay: Option<OnOff>,
    /// Refresh in the background.
    #[arg(long, value_enum)]
    pub auto_import: Option<OnOff>,
    /// Client-portal recipient (repeat for several; replaces the list on edit).
    #[arg(long = "publish-to")]
    pub publish_to: Vec<String>,
}

/// Credentials, never taken from argv for the password.
#[derive(Debug, Args)]
pub struct Credentials {
    /// Read the provider password from standard input (one line).
    #[arg(long)]
    pub password_stdin: bool,
    /// The provider's API token.
    #[arg(long, env = "FIELDSYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Link a provider login. The password comes from --password-stdin or $FIELDSYNC_PASSWORD.
    Add {
        /// Short code (1-16 letters, digits, - or _).
        code: String,
        /// The provider's base URL (https, or http on loopback).
        #[arg(long)]
        url: String,
        /// The provider login.
        #[arg(long)]
        username: String,
        #[command(flatten)]
        credentials: Credentials,
        #[command(flatten)]
        settings: IntegrationSettings,
    },
    /// The integrations table.
    List,
    /// One integration.
    Show {
        /// Integration code.
        code: String,
    },
    /// Change settings or credentials.
    Edit {
        /// Integration code.
        code: String,
        /// New base URL.
        #[arg(long)]
        url: Option<String>,
        /// New login.
        #[arg(long)]
        username: Option<String>,
        #[command(flatten)]
        credentials: Credentials,
        #[command(flatten)]
        settings: IntegrationSettings,
    },
    /// Check the credentials with the provider (and register the push key).
    Validate {
        /// Integration code.
        code: String,
    },
    /// Print the integration's push key (a secret: whoever holds it can trigger a refresh).
    PushKey {
        /// Integration code.
        code: String,
    },
    /// Delete an integration and its projects.
    Delete {
        /// Integration code.
        code: String,
        /// Delete even with undelivered field work, after exporting it to a JSON file beside the database.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WorkTypeCommand {
    /// Add or replace a work type from a JSON file.
    Add {
        /// Work type name.
        name: String,
        /// The definition (see docs/RECONCILE.md).
        #[arg(long)]
        file: PathBuf,
    },
    /// List work types.
    List,
}

#[derive(Debug, Args)]
pub struct ProjectsArgs {
    /// Only this integration.
    #[arg(long)]
    pub integration: Option<String>,
    /// Only this client status (e.g. Cancelled, Deleted).
    #[arg(long)]
    pub client_status: Option<String>,
    /// Only this vendor status.
    #[arg(long)]
    pub status: Option<String>,
    /// Text in the number, address, city, zip, description or reference: each word typed must start a
    /// word there ("mapl" finds Maple Dr; "field" does not find Springfield).
    #[arg(long)]
    pub search: Option<String>,
    /// Hide closed projects.
    #[arg(long)]
    pub open: bool,
    /// Sort by work-order number instead of due date.
    #[arg(long)]
    pub by_number: bool,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Rows to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
    /// Continue after this project (`CODE::NUMBER`, the last of the previous page).
    #[arg(long, value_parser = parse_project_id)]
    pub after: Option<fieldsync_core::model::ProjectId>,
    /// Only this home-screen category.
    #[arg(long, value_enum, ignore_case = true)]
    pub category: Option<CategoryArg>,
    /// Only this field status.
    #[arg(long, value_enum, ignore_case = true)]
    pub field_status: Option<FieldStatusArg>,
    /// Print how many projects each category holds instead of the list.
    #[arg(long, conflicts_with_all = ["category", "field_status", "integration", "client_status", "status", "search", "open", "after"])]
    pub counts: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// One project with its tasks.
    Show {
        /// CODE::NUMBER
        id: String,
    },
    /// Edit status, due date (YYYY-MM-DD) or instructions locally.
    Edit {
        /// CODE::NUMBER
        id: String,
        /// New status (queued for the provider).
        #[arg(long)]
        status: Option<String>,
        /// New due date.
        #[arg(long)]
        due_date: Option<String>,
        /// New instructions.
        #[arg(long)]
        instructions: Option<String>,
    },
    /// Close a project (it stays, marked closed).
    Close {
        /// CODE::NUMBER
        id: String,
    },
    /// Delete a project from the cache (refused while it holds undelivered work).
    Delete {
        /// CODE::NUMBER
        id: String,
    },
    /// Open a project as the crew does: new or updated becomes viewed.
    View {
        /// CODE::NUMBER
        id: String,
    },
    /// Complete a project (refused while requirements are unmet, unless forced with a reason).
    Complete {
        /// CODE::NUMBER
        id: String,
        /// Complete even though requirements are unmet (needs --reason).
        #[arg(long, requires = "reason")]
        force: bool,
        /// Why the completion is forced (sent to the provider).
        #[arg(long, requires = "force")]
        reason: Option<String>,
    },
    /// What still keeps a project from being completed.
    Requirements {
        /// CODE::NUMBER
        id: String,
    },
    /// Create a project on this device before its order arrives.
    CreateLocal {
        /// Integration code.
        code: String,
        /// The work order number, as on the paperwork.
        number: String,
        /// Street address.
        #[arg(long)]
        address: String,
        /// City.
        #[arg(long)]
        city: Option<String>,
        /// State.
        #[arg(long)]
        state: Option<String>,
        /// ZIP code.
        #[arg(long)]
        zip: Option<String>,
        /// A task (repeat for several, in order).
        #[arg(long = "task", required = true)]
        tasks: Vec<String>,
    },
    /// Discard a project created on this device whose order never came (its work is exported first).
    DiscardLocal {
        /// CODE::NUMBER
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SurveyTemplateCommand {
    /// Add a template to the library (or replace the one with the same id).
    Add {
        /// The template (Pruvan's dynamic template JSON).
        #[arg(long)]
        file: PathBuf,
    },
    /// The templates of the library.
    List,
}

#[derive(Debug, Subcommand)]
pub enum SurveyCommand {
    /// A task's survey: questions, answers, problems, what is missing, submissions.
    Show {
        /// CODE::NUMBER
        id: String,
        /// The task.
        #[arg(long)]
        task: String,
    },
    /// Save one answer (saved at once, offline).
    Answer {
        /// CODE::NUMBER
        id: String,
        /// The task.
        #[arg(long)]
        task: String,
        /// The question id.
        question: String,
        /// The answer: yes/no, text, a number, YYYY-MM-DD, an option, options, or photo UUIDs.
        #[arg(required_unless_present = "clear", allow_hyphen_values = true)]
        value: Vec<String>,
        /// Remove the answer instead.
        #[arg(long, conflicts_with = "value")]
        clear: bool,
    },
    /// Submit the task's survey (refused while answers are missing or invalid).
    Submit {
        /// CODE::NUMBER
        id: String,
        /// The task.
        #[arg(long)]
        task: String,
    },
    /// Submitted surveys of a project (or all).
    List {
        /// CODE::NUMBER
        id: Option<String>,
    },
    /// QA approves a submitted survey: it is relayed at the next sync.
    Approve {
        /// The submission's UUID.
        uuid: String,
    },
    /// QA rejects a submitted survey: it is never relayed.
    Reject {
        /// The submission's UUID.
        uuid: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProviderCommand {
    /// Serve the emulator (wire protocol + admin API) until Ctrl-C.
    Serve {
        /// Loopback address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// The emulator's own database (temporary when absent; never the cache given by --db).
        #[arg(long)]
        provider_db: Option<PathBuf>,
        /// Seed the demo data set (login vendor1 / secret1, token tok-1, eleven work orders).
        #[arg(long)]
        seed: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Entries not yet delivered (with --all, delivered ones too).
    List {
        /// Include delivered entries.
        #[arg(long)]
        all: bool,
    },
    /// Try an entry again at the next sync (from retry_wait or needs_attention).
    Retry {
        /// The entry's UUID.
        uuid: String,
    },
    /// Give up delivering an entry (the record stays on the device).
    Discard {
        /// The entry's UUID.
        uuid: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
    /// Try every failed entry (needing attention or backing off) again at the next sync.
    #[command(name = "retry-failed")]
    RetryFailed,
    /// Remove delivered entries (never an undelivered one; a photo or survey QA may publish again stays).
    Clean,
}

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Take a photo of a project task into the queue, then process it.
    Add {
        /// CODE::NUMBER
        id: String,
        /// The task it documents.
        #[arg(long)]
        task: String,
        /// When it was taken, relative to the work.
        #[arg(long, value_enum, ignore_case = true)]
        evidence: EvidenceArg,
        /// The camera's file.
        #[arg(long)]
        file: PathBuf,
        /// Latitude of the device when taken.
        #[arg(long, allow_negative_numbers = true, requires_all = ["lon", "accuracy"])]
        lat: Option<f64>,
        /// Longitude of the device when taken.
        #[arg(long, allow_negative_numbers = true, requires_all = ["lat", "accuracy"])]
        lon: Option<f64>,
        /// Accuracy of that position, metres.
        #[arg(long, allow_negative_numbers = true, requires_all = ["lat", "lon"])]
        accuracy: Option<f64>,
    },
    /// Photos of a project (or all).
    List {
        /// CODE::NUMBER
        id: Option<String>,
    },
    /// One photo.
    Show {
        /// The photo's UUID.
        uuid: String,
    },
    /// QA approves (publishes) a photo, or every photo of a project waiting for review.
    Approve {
        /// The photo's UUID.
        #[arg(required_unless_present = "project")]
        uuid: Option<String>,
        /// Approve every photo of this project (CODE::NUMBER) waiting for review.
        #[arg(long, conflicts_with = "uuid")]
        project: Option<String>,
    },
    /// QA rejects a photo: it is never relayed.
    Reject {
        /// The photo's UUID.
        uuid: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// An RFC 3339 time, as Unix milliseconds.
fn parse_fix_time(raw: &str) -> Result<i64, String> {
    let at = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("`{raw}` is not an RFC 3339 time like 2026-11-23T14:05:00Z"))?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).map_err(|_| format!("`{raw}` is out of range"))
}

/// `CODE::NUMBER`, checked when the arguments are parsed.
fn parse_project_id(raw: &str) -> Result<fieldsync_core::model::ProjectId, String> {
    fieldsync_core::model::ProjectId::parse(raw).map_err(|err| err.to_string())
}

/// `fieldsync storage ...`
#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// The storage report (the default).
    Report,
    /// Delete the files the retention policy allows (renditions of relayed and rejected photos; their
    /// originals older than --keep-days; more, oldest first, while photos weigh more than --max-bytes), then
    /// optimise and vacuum the database a bounded amount. Nothing of a photo not yet relayed or decided by QA
    /// is ever deleted.
    Clean {
        /// Keep the originals of relayed and rejected photos this many days (default 30).
        #[arg(long)]
        keep_days: Option<u32>,
        /// Keep photo files under this many bytes (default 2 GiB).
        #[arg(long)]
        max_bytes: Option<u64>,
    },
}
