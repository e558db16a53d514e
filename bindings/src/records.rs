//! The plain records and enums that cross the FFI, and their conversions from and to the core's types.
//! Times are Unix seconds; JSON objects (options) travel as JSON text.

use std::collections::HashMap;

use fieldsync_core::model as core;
use fieldsync_core::requirements::TaskOptions;
use fieldsync_core::survey::{AnswerType, AnswerValue};

use crate::error::FieldSyncError;
pub use crate::payloads::{EvidenceType, InvalidAnswer, RequirementKind, UnmetRequirement};

/// How the library is opened.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FieldSyncConfig {
    /// The SQLite cache file (created if missing).
    pub database_path: String,
    /// Where photos will be kept (created if missing).
    pub photo_directory: String,
    /// This device's id, sent with field work. `None` (recommended): the id the database keeps, a random
    /// UUID made at its first open, so it is exactly as far out of device backups as the database (keep the
    /// database in `noBackupFilesDir` / a directory excluded from backup) and a restored phone never
    /// inherits another device's id. `Some`: the host's own id, used as given and not stored.
    #[uniffi(default = None)]
    pub device_id: Option<String>,
    /// How many outbox entries (photos, check-ins, status changes) are delivered at once, 1 to 16, never two
    /// of the same project; `None` = 3. Lower it on a slow uplink, raise it on Wi-Fi.
    #[uniffi(default = None)]
    pub relay_concurrency: Option<u32>,
    /// Which photo files go once the provider has the photos, applied at open and after every delivery
    /// run that delivered something; `None` = `default_retention_policy()`.
    #[uniffi(default = None)]
    pub retention: Option<crate::storage::RetentionPolicy>,
}

/// Internal (the vendor's own system) or external (a client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IntegrationMode {
    /// The vendor's own system.
    Internal,
    /// A client's system.
    External,
}

impl From<core::Mode> for IntegrationMode {
    fn from(mode: core::Mode) -> Self {
        match mode {
            core::Mode::Internal => Self::Internal,
            core::Mode::External => Self::External,
        }
    }
}

impl From<IntegrationMode> for core::Mode {
    fn from(mode: IntegrationMode) -> Self {
        match mode {
            IntegrationMode::Internal => Self::Internal,
            IntegrationMode::External => Self::External,
        }
    }
}

/// Where an integration is in its import cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IntegrationStatus {
    /// Nothing to do.
    Idle,
    /// Waiting to import.
    Pending,
    /// Importing.
    Running,
    /// The last import failed.
    Error,
}

impl From<core::IntegrationStatus> for IntegrationStatus {
    fn from(status: core::IntegrationStatus) -> Self {
        match status {
            core::IntegrationStatus::Idle => Self::Idle,
            core::IntegrationStatus::Pending => Self::Pending,
            core::IntegrationStatus::Running => Self::Running,
            core::IntegrationStatus::Error => Self::Error,
        }
    }
}

/// How an integration judges check-ins. A check-in outside these rules is recorded as not certified, with
/// the reasons, or refused (`InvalidInput`, nothing written) when `refuse_uncertified` is on.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckInRules {
    /// Radius around the property within which a fix counts as on site, metres.
    #[uniffi(default = 200.0)]
    pub geofence_radius_m: f64,
    /// Worst horizontal accuracy accepted, metres.
    #[uniffi(default = 50.0)]
    pub max_accuracy_m: f64,
    /// Oldest fix accepted, seconds.
    #[uniffi(default = 120)]
    pub max_fix_age_s: u32,
    /// Refuse a check-in outside the rules instead of recording it as not certified.
    #[uniffi(default = false)]
    pub refuse_uncertified: bool,
    /// Largest accepted difference between a fix's time and the device clock, seconds.
    #[uniffi(default = 300)]
    pub max_clock_skew_s: u32,
}

impl From<CheckInRules> for core::CheckInSettings {
    fn from(rules: CheckInRules) -> Self {
        Self {
            geofence_radius_m: rules.geofence_radius_m,
            max_accuracy_m: rules.max_accuracy_m,
            max_fix_age_s: rules.max_fix_age_s,
            refuse_uncertified: rules.refuse_uncertified,
            max_clock_skew_s: rules.max_clock_skew_s,
        }
    }
}

impl From<core::CheckInSettings> for CheckInRules {
    fn from(settings: core::CheckInSettings) -> Self {
        Self {
            geofence_radius_m: settings.geofence_radius_m,
            max_accuracy_m: settings.max_accuracy_m,
            max_fix_age_s: settings.max_fix_age_s,
            refuse_uncertified: settings.refuse_uncertified,
            max_clock_skew_s: settings.max_clock_skew_s,
        }
    }
}

/// A new integration. `default_assign_to` is `none`, `all` or a user name.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewIntegration {
    /// Short unique code (1-16 letters, digits, `-`, `_`).
    pub code: String,
    /// Optional long name.
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// The provider's base URL (https, or http on loopback).
    pub base_url: String,
    /// The provider login.
    pub username: String,
    /// Internal or external.
    pub mode: IntegrationMode,
    /// Client-portal recipients.
    #[uniffi(default = [])]
    pub publish_to: Vec<String>,
    /// Auto Admin.
    #[uniffi(default = true)]
    pub auto_admin: bool,
    /// Default Work Type name.
    #[uniffi(default = None)]
    pub default_work_type: Option<String>,
    /// `none`, `all` or a user name.
    #[uniffi(default = "none")]
    pub default_assign_to: String,
    /// Relay photos without QA.
    #[uniffi(default = false)]
    pub auto_relay: bool,
    /// Refresh in the background.
    #[uniffi(default = false)]
    pub auto_import: bool,
    /// Check-in rules; `None` = the defaults (200 m geofence, 50 m accuracy, 2 min fix age, record uncertified).
    #[uniffi(default = None)]
    pub check_in: Option<CheckInRules>,
}

impl NewIntegration {
    pub(crate) fn into_core(self) -> Result<core::NewIntegration, FieldSyncError> {
        let mut new = core::NewIntegration::new(self.code, self.base_url, self.username);
        new.name = self.name;
        new.mode = self.mode.into();
        new.publish_to = self.publish_to;
        new.auto_admin = self.auto_admin;
        new.default_work_type = self.default_work_type;
        new.default_assign_to = core::DefaultAssignTo::parse(&self.default_assign_to).map_err(invalid)?;
        new.auto_relay = self.auto_relay;
        new.auto_import = self.auto_import;
        if let Some(rules) = self.check_in {
            new.check_in = rules.into();
        }
        Ok(new)
    }
}

fn invalid(err: core::InvalidInput) -> FieldSyncError {
    FieldSyncError::InvalidInput {
        reason: err.to_string(),
    }
}

/// A partial edit: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct IntegrationEdit {
    /// New long name (empty clears it).
    #[uniffi(default = None)]
    pub name: Option<String>,
    /// New base URL.
    #[uniffi(default = None)]
    pub base_url: Option<String>,
    /// New login.
    #[uniffi(default = None)]
    pub username: Option<String>,
    /// New mode.
    #[uniffi(default = None)]
    pub mode: Option<IntegrationMode>,
    /// Replaces the client-portal recipients.
    #[uniffi(default = None)]
    pub publish_to: Option<Vec<String>>,
    /// Auto Admin.
    #[uniffi(default = None)]
    pub auto_admin: Option<bool>,
    /// Default Work Type (empty clears it).
    #[uniffi(default = None)]
    pub default_work_type: Option<String>,
    /// `none`, `all` or a user name.
    #[uniffi(default = None)]
    pub default_assign_to: Option<String>,
    /// Auto relay.
    #[uniffi(default = None)]
    pub auto_relay: Option<bool>,
    /// Background refresh.
    #[uniffi(default = None)]
    pub auto_import: Option<bool>,
    /// Check-in rules (replaced as a whole).
    #[uniffi(default = None)]
    pub check_in: Option<CheckInRules>,
}

impl IntegrationEdit {
    pub(crate) fn into_core(self) -> Result<core::IntegrationEdit, FieldSyncError> {
        Ok(core::IntegrationEdit {
            name: self.name.map(|name| Some(name).filter(|name| !name.is_empty())),
            base_url: self.base_url,
            username: self.username,
            mode: self.mode.map(Into::into),
            publish_to: self.publish_to,
            auto_admin: self.auto_admin,
            default_work_type: self
                .default_work_type
                .map(|name| Some(name).filter(|name| !name.is_empty())),
            default_assign_to: self
                .default_assign_to
                .as_deref()
                .map(core::DefaultAssignTo::parse)
                .transpose()
                .map_err(invalid)?,
            auto_relay: self.auto_relay,
            auto_import: self.auto_import,
            check_in: self.check_in.map(Into::into),
            ..core::IntegrationEdit::default()
        })
    }
}

/// An integration as the app shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Integration {
    /// Short code.
    pub code: String,
    /// Long name.
    pub name: Option<String>,
    /// The service type (`pruvan_share`).
    pub integration_type: String,
    /// Internal or external.
    pub mode: IntegrationMode,
    /// Import status.
    pub status: IntegrationStatus,
    /// Last successful import (Unix seconds).
    pub last_refreshed: Option<i64>,
    /// Why the last import failed.
    pub last_error: Option<String>,
    /// Client-portal recipients.
    pub publish_to: Vec<String>,
    /// The provider login.
    pub username: String,
    /// The provider's base URL.
    pub base_url: String,
    /// Auto Admin.
    pub auto_admin: bool,
    /// Default Work Type.
    pub default_work_type: Option<String>,
    /// `none`, `all` or a user name.
    pub default_assign_to: String,
    /// Auto relay.
    pub auto_relay: bool,
    /// Background refresh.
    pub auto_import: bool,
    /// When the provider last accepted the credentials (Unix seconds).
    pub validated_at: Option<i64>,
    /// How check-ins are judged.
    pub check_in: CheckInRules,
}

impl From<core::Integration> for Integration {
    fn from(integration: core::Integration) -> Self {
        Self {
            code: integration.code,
            name: integration.name,
            integration_type: integration.kind.as_str().to_owned(),
            mode: integration.mode.into(),
            status: integration.status.into(),
            last_refreshed: integration.last_refreshed,
            last_error: integration.last_error,
            publish_to: integration.publish_to,
            username: integration.username,
            base_url: integration.base_url,
            auto_admin: integration.auto_admin,
            default_work_type: integration.default_work_type,
            default_assign_to: integration.default_assign_to.to_stored(),
            auto_relay: integration.auto_relay,
            auto_import: integration.auto_import,
            validated_at: integration.validated_at,
            check_in: integration.check_in.into(),
        }
    }
}

/// The provider's answer to a validation.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Validation {
    /// True when the provider accepted the credentials.
    pub validated: bool,
    /// The provider's reason when it did not.
    pub error: Option<String>,
}

/// An order that could not be applied.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Rejection {
    /// Its work-order number (empty when it had none).
    pub work_order_number: String,
    /// Why.
    pub reason: String,
    /// True when the cache holds this project: listed, so it stays unchanged.
    pub kept: bool,
}

/// What an import changed (counts are per project).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ImportReport {
    /// Created.
    pub created: u64,
    /// Updated.
    pub updated: u64,
    /// Unchanged.
    pub unchanged: u64,
    /// Became Cancelled.
    pub cancelled: u64,
    /// Became Deleted.
    pub deleted: u64,
    /// Removed by a Full Import.
    pub removed: u64,
    /// Kept by a Full Import because of pending field work (`CODE::NUMBER`).
    pub kept: Vec<String>,
    /// Orders not applied.
    pub rejected: Vec<Rejection>,
    /// Why a Full Import removed nothing although some projects were not listed, if it did.
    pub removal_note: Option<String>,
    /// Why the sync cursor was not taken from the response's `serverTime`, if it was not.
    pub cursor_note: Option<String>,
}

impl From<core::ImportReport> for ImportReport {
    fn from(report: core::ImportReport) -> Self {
        Self {
            created: report.created,
            updated: report.updated,
            unchanged: report.unchanged,
            cancelled: report.cancelled,
            deleted: report.deleted,
            removed: report.removed,
            kept: report.kept_projects,
            rejected: report
                .rejected
                .into_iter()
                .map(|rejection| Rejection {
                    work_order_number: rejection.work_order_number,
                    reason: rejection.reason,
                    kept: rejection.kept,
                })
                .collect(),
            removal_note: report.removal_note,
            cursor_note: report.cursor_note,
        }
    }
}

/// The outcome of one integration in a sync: its delivery, then its refresh (each only if it ran).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncOutcome {
    /// Integration code.
    pub code: String,
    /// Field work delivered, if the integration had any queued.
    pub delivered: u64,
    /// Field work that failed and will be retried.
    pub retrying: u64,
    /// Field work that needs the user (see `outbox`).
    pub needs_attention: u64,
    /// The refresh's report, when it ran and succeeded.
    pub report: Option<ImportReport>,
    /// Why the delivery or the refresh did not go through, typed like any error (the refresh's first).
    pub error: Option<crate::error::FieldSyncError>,
}

/// One position from the device's location service.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct LocationFix {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Horizontal accuracy, metres.
    pub accuracy_m: f64,
    /// Altitude, metres.
    #[uniffi(default = None)]
    pub altitude_m: Option<f64>,
    /// When the fix was taken, Unix milliseconds.
    pub fix_time_ms: i64,
    /// The OS flagged it as mocked (Android `isMock`, iOS `sourceInformation.isSimulatedBySoftware`).
    #[uniffi(default = false)]
    pub is_mock: bool,
}

impl From<LocationFix> for fieldsync_core::checkin::LocationFix {
    fn from(fix: LocationFix) -> Self {
        Self {
            latitude: fix.latitude,
            longitude: fix.longitude,
            accuracy_m: fix.accuracy_m,
            altitude_m: fix.altitude_m,
            fix_time_ms: fix.fix_time_ms,
            is_mock: fix.is_mock,
        }
    }
}

/// A recorded check-in.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CheckIn {
    /// Client UUID (the provider deduplicates on it).
    pub uuid: String,
    /// `CODE::NUMBER`.
    pub project: String,
    /// True when every rule passed.
    pub certified: bool,
    /// Distance to the property, metres (none when the project has no coordinates).
    pub distance_m: Option<f64>,
    /// Why it is not certified.
    pub reasons: Vec<String>,
    /// Delivery state (`Queued` until a sync delivers it).
    pub state: OutboxState,
}

impl From<fieldsync_core::store::CheckIn> for CheckIn {
    fn from(check_in: fieldsync_core::store::CheckIn) -> Self {
        Self {
            uuid: check_in.uuid,
            project: check_in.project,
            certified: check_in.certified,
            distance_m: check_in.distance_m,
            reasons: check_in.reasons,
            state: fieldsync_core::outbox::EntryState::parse(&check_in.state)
                .map_or(OutboxState::Queued, Into::into),
        }
    }
}

/// Filters and paging of a project list.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProjectQuery {
    /// Only this integration.
    #[uniffi(default = None)]
    pub integration: Option<String>,
    /// Only this client status.
    #[uniffi(default = None)]
    pub client_status: Option<String>,
    /// Only this vendor status.
    #[uniffi(default = None)]
    pub status: Option<String>,
    /// Text in the number, address, city, ZIP, description or reference, case ignored: every part of it
    /// (split at spaces) must appear at the start of a word ("mapl" finds Maple Dr, "field" does not find
    /// Springfield).
    #[uniffi(default = None)]
    pub search: Option<String>,
    /// Include closed projects.
    #[uniffi(default = true)]
    pub include_closed: bool,
    /// Sort by number instead of the effective due date.
    #[uniffi(default = false)]
    pub sort_by_number: bool,
    /// Page size.
    #[uniffi(default = 50)]
    pub limit: u32,
    /// Rows to skip (after `after`, or before `before`, when given).
    #[uniffi(default = 0)]
    pub offset: u32,
    /// The id of the last summary of the previous page: the next page continues after it (keyset paging: as
    /// fast deep in the list as on its first page, and no row repeated or skipped while projects arrive).
    #[uniffi(default = None)]
    pub after: Option<String>,
    /// Only this home-screen category.
    #[uniffi(default = None)]
    pub category: Option<ProjectCategory>,
    /// Only this field status.
    #[uniffi(default = None)]
    pub field_status: Option<FieldStatus>,
    /// The id of the first summary of the current page: the previous page, the one that ends just before
    /// it, in list order (keyset paging backwards). With `after` too, the rows between the two.
    #[uniffi(default = None)]
    pub before: Option<String>,
}

impl ProjectQuery {
    pub(crate) fn into_core(self) -> Result<core::ProjectQuery, FieldSyncError> {
        Ok(core::ProjectQuery {
            integration: self.integration,
            client_status: self.client_status,
            status: self.status,
            search: self.search,
            include_closed: self.include_closed,
            category: self.category.map(Into::into),
            field_status: self.field_status.map(Into::into),
            sort: if self.sort_by_number {
                core::ProjectSort::Number
            } else {
                core::ProjectSort::DueDate
            },
            limit: self.limit,
            offset: self.offset,
            after: self
                .after
                .as_deref()
                .map(core::ProjectId::parse)
                .transpose()
                .map_err(invalid)?,
            before: self
                .before
                .as_deref()
                .map(core::ProjectId::parse)
                .transpose()
                .map_err(invalid)?,
        })
    }
}

/// One line of a project list.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProjectSummary {
    /// `CODE::NUMBER`.
    pub id: String,
    /// Integration code.
    pub integration: String,
    /// Work-order number.
    pub work_order_number: String,
    /// Street address.
    pub address1: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// ZIP.
    pub zip: Option<String>,
    /// Assignee.
    pub assigned_to: Option<String>,
    /// Vendor status.
    pub status: Option<String>,
    /// Vendor due date.
    pub due_date: Option<String>,
    /// Provider status.
    pub client_status: Option<String>,
    /// Provider due date.
    pub client_due_date: Option<String>,
    /// Closed by the vendor.
    pub closed: bool,
    /// Kept by a Full Import for its pending work.
    pub removal_pending: bool,
    /// Where the crew is with it on this device.
    pub field_status: FieldStatus,
    /// Its home-screen category.
    pub category: ProjectCategory,
    /// Created on the device; its order has not been imported yet (its field work waits).
    pub local: bool,
    /// Field work of the project not yet delivered (a row's upload badge).
    pub pending_uploads: i64,
}

impl From<fieldsync_core::store::ProjectSummary> for ProjectSummary {
    fn from(summary: fieldsync_core::store::ProjectSummary) -> Self {
        Self {
            id: summary.id.to_string(),
            integration: summary.integration,
            work_order_number: summary.work_order_number,
            address1: summary.address1,
            city: summary.city,
            state: summary.state,
            zip: summary.zip,
            assigned_to: summary.assigned_to,
            status: summary.status,
            due_date: summary.due_date,
            client_status: summary.client_status,
            client_due_date: summary.client_due_date,
            closed: summary.closed,
            removal_pending: summary.removal_pending,
            field_status: summary.field_status.into(),
            category: summary.category.into(),
            local: summary.local,
            pending_uploads: i64::try_from(summary.pending_uploads).unwrap_or(i64::MAX),
        }
    }
}

/// A task of a project (named so as not to hide Swift's and Kotlin's own `Task`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProjectTask {
    /// Name.
    pub name: String,
    /// Instructions.
    pub instructions: Option<String>,
    /// Options as a JSON object.
    pub options_json: String,
}

/// A project with every field and its tasks.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
#[allow(missing_docs)] // the fields are the project fields of the README's JSON, one for one
pub struct Project {
    pub id: String,
    pub integration: String,
    pub work_order_number: String,
    pub work_order_info: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub assigned_to: Option<String>,
    pub status: Option<String>,
    pub due_date: Option<String>,
    pub instructions: Option<String>,
    pub client_status: Option<String>,
    pub client_due_date: Option<String>,
    pub client_instructions: Option<String>,
    pub description: Option<String>,
    pub reference: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub options_json: String,
    pub tasks: Vec<ProjectTask>,
    pub closed: bool,
    pub removal_pending: bool,
}

impl From<core::Project> for Project {
    fn from(project: core::Project) -> Self {
        Self {
            id: project.id.to_string(),
            integration: project.integration,
            work_order_number: project.work_order_number,
            work_order_info: project.work_order_info,
            address1: project.address1,
            address2: project.address2,
            city: project.city,
            state: project.state,
            zip: project.zip,
            country: project.country,
            assigned_to: project.assigned_to,
            status: project.status,
            due_date: project.due_date,
            instructions: project.instructions,
            client_status: project.client_status,
            client_due_date: project.client_due_date,
            client_instructions: project.client_instructions,
            description: project.description,
            reference: project.reference,
            latitude: project.latitude,
            longitude: project.longitude,
            options_json: serde_json::Value::Object(project.options).to_string(),
            tasks: project
                .tasks
                .into_iter()
                .map(|task| ProjectTask {
                    name: task.name,
                    instructions: task.instructions,
                    options_json: serde_json::Value::Object(task.options).to_string(),
                })
                .collect(),
            closed: project.closed,
            removal_pending: project.removal_pending,
        }
    }
}

/// A vendor's local edit (`None` leaves a field).
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ProjectEdit {
    /// New status (queued for the provider).
    #[uniffi(default = None)]
    pub status: Option<String>,
    /// New due date, YYYY-MM-DD.
    #[uniffi(default = None)]
    pub due_date: Option<String>,
    /// New instructions.
    #[uniffi(default = None)]
    pub instructions: Option<String>,
}

impl From<ProjectEdit> for core::ProjectEdit {
    fn from(edit: ProjectEdit) -> Self {
        Self {
            status: edit.status,
            due_date: edit.due_date,
            instructions: edit.instructions,
        }
    }
}

/// Field work waiting for delivery.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OutboxEntry {
    /// Client UUID (the provider's idempotency key).
    pub id: String,
    /// `CODE::NUMBER`, when it belongs to a project.
    pub project: Option<String>,
    /// What it delivers.
    pub kind: OutboxKind,
    /// Delivery state.
    pub state: OutboxState,
    /// Attempts so far.
    pub attempts: u32,
    /// Last delivery error.
    pub last_error: Option<String>,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
}

impl From<fieldsync_core::store::OutboxSummary> for OutboxEntry {
    fn from(entry: fieldsync_core::store::OutboxSummary) -> Self {
        Self {
            id: entry.id,
            project: entry.project,
            kind: entry.kind.into(),
            state: entry.state.into(),
            attempts: entry.attempts,
            last_error: entry.last_error,
            created_at: entry.created_at,
        }
    }
}

/// The network the host reports (`set_network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkState {
    /// No network: nothing is sent, auto-import waits.
    None,
    /// A metered network (mobile data): photos and surveys wait when the policy says Wi-Fi only.
    Metered,
    /// An unmetered network (Wi-Fi); what the library assumes until the host reports.
    Unmetered,
}

impl From<fieldsync_core::outbox::NetworkState> for NetworkState {
    fn from(network: fieldsync_core::outbox::NetworkState) -> Self {
        match network {
            fieldsync_core::outbox::NetworkState::None => Self::None,
            fieldsync_core::outbox::NetworkState::Metered => Self::Metered,
            fieldsync_core::outbox::NetworkState::Unmetered => Self::Unmetered,
        }
    }
}

impl From<NetworkState> for fieldsync_core::outbox::NetworkState {
    fn from(network: NetworkState) -> Self {
        match network {
            NetworkState::None => Self::None,
            NetworkState::Metered => Self::Metered,
            NetworkState::Unmetered => Self::Unmetered,
        }
    }
}

/// The vendor's upload policy, kept on the device. Check-ins and statuses always go on any network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct UploadPolicy {
    /// Photos and surveys wait for an unmetered network.
    pub photos_on_wifi_only: bool,
    /// Photos and surveys wait until this is off.
    pub paused: bool,
}

impl From<UploadPolicy> for fieldsync_core::outbox::UploadPolicy {
    fn from(policy: UploadPolicy) -> Self {
        Self {
            photos_on_wifi_only: policy.photos_on_wifi_only,
            paused: policy.paused,
        }
    }
}

impl From<fieldsync_core::outbox::UploadPolicy> for UploadPolicy {
    fn from(policy: fieldsync_core::outbox::UploadPolicy) -> Self {
        Self {
            photos_on_wifi_only: policy.photos_on_wifi_only,
            paused: policy.paused,
        }
    }
}

/// Why an item of the upload log is not delivered yet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum UploadWaitReason {
    /// Nothing holds it: it goes at the next delivery.
    Queued,
    /// Being sent now.
    Sending,
    /// The host reports no network.
    WaitingForNetwork,
    /// The pause switch holds photos and surveys.
    Paused,
    /// Photos on Wi-Fi only, and the network is metered.
    WaitingForWifi,
    /// A photo not processed yet.
    WaitingForProcessing,
    /// A processed photo whose content credentials the device could not sign yet (a locked keystore);
    /// tried again at the next processing pass, never lost.
    WaitingForSigner {
        /// Why the device could not sign.
        error: String,
    },
    /// Waiting for QA to approve it.
    WaitingForQa,
    /// Waiting for QA in a `publish` project: completing the project approves it.
    WaitingForCompletion,
    /// A check-in waiting until a photo of its project is relayed.
    WaitingForPhoto,
    /// A survey waiting for the photos its answers reference.
    WaitingForReferencedPhotos,
    /// Its project was created on the device: waiting for the provider's order.
    WaitingForProviderOrder,
    /// An earlier item of its project needs attention or backs off.
    WaitingForEarlierItem,
    /// Backing off after a failure until `until` (Unix seconds); a sync the user asks for does not wait.
    Backoff {
        /// When it is tried again.
        until: i64,
    },
    /// It failed for good: retry or discard it.
    NeedsAttention {
        /// Why it failed.
        error: String,
    },
}

impl From<fieldsync_core::outbox::WaitReason> for UploadWaitReason {
    fn from(reason: fieldsync_core::outbox::WaitReason) -> Self {
        use fieldsync_core::outbox::WaitReason as Core;
        match reason {
            Core::Queued => Self::Queued,
            Core::Sending => Self::Sending,
            Core::WaitingForNetwork => Self::WaitingForNetwork,
            Core::Paused => Self::Paused,
            Core::WaitingForWifi => Self::WaitingForWifi,
            Core::WaitingForProcessing => Self::WaitingForProcessing,
            Core::WaitingForSigner { error } => Self::WaitingForSigner { error },
            Core::WaitingForQa => Self::WaitingForQa,
            Core::WaitingForCompletion => Self::WaitingForCompletion,
            Core::PhotoOfItsProject => Self::WaitingForPhoto,
            Core::ReferencedPhotos => Self::WaitingForReferencedPhotos,
            Core::ProviderOrder => Self::WaitingForProviderOrder,
            Core::EarlierItem => Self::WaitingForEarlierItem,
            Core::Backoff { until } => Self::Backoff { until },
            Core::NeedsAttention { error } => Self::NeedsAttention { error },
        }
    }
}

/// One item of the upload log: field work not delivered yet, with why it waits.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct UploadLogEntry {
    /// Client UUID (the provider's idempotency key).
    pub id: String,
    /// The integration's code.
    pub integration: String,
    /// `CODE::NUMBER`, when it belongs to a project.
    pub project: Option<String>,
    /// What it delivers.
    pub kind: OutboxKind,
    /// Delivery state.
    pub state: OutboxState,
    /// Why it waits.
    pub reason: UploadWaitReason,
    /// Attempts so far.
    pub attempts: u32,
    /// Last delivery error.
    pub last_error: Option<String>,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
}

impl From<fieldsync_core::store::OutboxSummary> for UploadLogEntry {
    fn from(entry: fieldsync_core::store::OutboxSummary) -> Self {
        Self {
            reason: entry
                .waits_for
                .map_or(UploadWaitReason::Queued, UploadWaitReason::from),
            id: entry.id,
            integration: entry.integration,
            project: entry.project,
            kind: entry.kind.into(),
            state: entry.state.into(),
            attempts: entry.attempts,
            last_error: entry.last_error,
            created_at: entry.created_at,
        }
    }
}

/// Something the host may want to show, delivered to its [`crate::EventListener`] from one thread.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FieldSyncEvent {
    /// An integration's status changed (coalesced: only the latest of a burst is delivered).
    IntegrationStatus {
        /// Integration code.
        code: String,
        /// New status.
        status: IntegrationStatus,
        /// The error, when the status is `Error`.
        last_error: Option<String>,
    },
    /// A photo upload started.
    UploadStarted {
        /// The photo's UUID.
        uuid: String,
        /// Bytes to send.
        bytes: u64,
    },
    /// Bytes of a photo taken by the connection, and of the whole delivery run: at the start (0), about
    /// every 64 KiB or 1 % of the photo, and at the end (`bytes_sent == bytes_total`). Coalesced: of a
    /// burst, only the latest of each photo is delivered (figures never go down).
    UploadProgress {
        /// The photo's UUID.
        uuid: String,
        /// Bytes of this photo sent so far.
        bytes_sent: u64,
        /// Bytes of this photo.
        bytes_total: u64,
        /// Bytes of every photo of this delivery run sent so far.
        overall_sent: u64,
        /// Bytes of every photo of this delivery run.
        overall_total: u64,
    },
    /// A photo changed state (processed, relayed, failed...).
    PhotoChanged {
        /// The photo's UUID.
        uuid: String,
        /// Its new state.
        state: PhotoState,
    },
    /// Processing flagged a photo for QA (`possible_reuse`, `taken_before_assignment`); nothing is blocked.
    PhotoFlagged {
        /// The photo's UUID.
        uuid: String,
        /// The flags.
        flags: Vec<String>,
        /// For `possible_reuse`: the matching photo's UUID.
        matching_photo: Option<String>,
    },
    /// An import finished.
    ImportFinished {
        /// Integration code.
        code: String,
        /// Created.
        created: u64,
        /// Updated.
        updated: u64,
        /// Became Cancelled.
        cancelled: u64,
        /// Became Deleted.
        deleted: u64,
        /// Removed.
        removed: u64,
        /// Rejected orders.
        rejected: u64,
    },
}

/// A photo as the app shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Photo {
    /// Client UUID.
    pub uuid: String,
    /// `CODE::NUMBER`.
    pub project: String,
    /// The task.
    pub task: String,
    /// What it shows of the work.
    pub evidence: EvidenceType,
    /// Where it is in its life.
    pub state: PhotoState,
    /// Why it failed or was rejected.
    pub message: Option<String>,
    /// Rendition width once processed.
    pub width: Option<u32>,
    /// Rendition height once processed.
    pub height: Option<u32>,
    /// EXIF capture time (RFC 3339).
    pub capture_time: Option<String>,
    /// Within the project's geofence.
    pub location_certified: Option<bool>,
    /// Taken within 12 hours of its first upload.
    pub time_certified: Option<bool>,
    /// Path of the thumbnail for lists, once processed.
    pub thumbnail_path: Option<String>,
    /// These bytes were already added to this project.
    pub duplicate: bool,
    /// QA flag `possible_reuse`: the UUID of a near-duplicate photo of another project, or of one relayed
    /// earlier in this project. Nothing is blocked: QA decides.
    pub possible_reuse_of: Option<String>,
    /// How many of the 64 perceptual-hash bits differ from that photo (0: identical to the eye).
    pub possible_reuse_distance: Option<u32>,
    /// QA flag `taken_before_assignment`: the capture time precedes the project's arrival on the device.
    pub taken_before_assignment: bool,
    /// The rendition carries C2PA content credentials signed by the device.
    pub signed: bool,
}

impl Photo {
    pub(crate) fn from_core(photo: fieldsync_core::store::Photo, thumbnail_path: Option<String>) -> Self {
        Self {
            uuid: photo.uuid,
            project: photo.project,
            task: photo.task,
            evidence: photo.evidence.into(),
            state: photo.state.into(),
            message: photo.message,
            width: photo.width,
            height: photo.height,
            capture_time: photo.capture_time,
            location_certified: photo.location_certified,
            time_certified: photo.time_certified,
            thumbnail_path,
            duplicate: photo.duplicate,
            possible_reuse_distance: photo.possible_reuse.as_ref().map(|reuse| reuse.distance),
            possible_reuse_of: photo.possible_reuse.map(|reuse| reuse.matching_photo),
            taken_before_assignment: photo.taken_before_assignment,
            signed: photo.signed,
        }
    }
}

// ----- field work: field statuses, categories, surveys, completion, local projects -----

/// Where the crew is with a project on this device. Derived from what happened, never set directly:
/// `Updated` shows over `Viewed` and `InProcess` until the project is viewed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum FieldStatus {
    /// Imported, not opened yet.
    New,
    /// Opened by the crew (`mark_viewed`).
    Viewed,
    /// Work has started (a check-in, a photo or a survey answer).
    InProcess,
    /// Changed by an import since the crew last viewed it.
    Updated,
    /// Completed by the crew.
    Completed,
}

impl From<core::FieldStatus> for FieldStatus {
    fn from(status: core::FieldStatus) -> Self {
        match status {
            core::FieldStatus::New => Self::New,
            core::FieldStatus::Viewed => Self::Viewed,
            core::FieldStatus::InProcess => Self::InProcess,
            core::FieldStatus::Updated => Self::Updated,
            core::FieldStatus::Completed => Self::Completed,
        }
    }
}

impl From<FieldStatus> for core::FieldStatus {
    fn from(status: FieldStatus) -> Self {
        match status {
            FieldStatus::New => Self::New,
            FieldStatus::Viewed => Self::Viewed,
            FieldStatus::InProcess => Self::InProcess,
            FieldStatus::Updated => Self::Updated,
            FieldStatus::Completed => Self::Completed,
        }
    }
}

/// The home screen's tabs. Each project is in exactly one, checked in this order: `Complete` (closed or
/// completed), `Cancelled` (by the provider), `Rework` (status REWORK), `Rush` (status RUSH), `Upcoming`
/// (its start date is after today, UTC), `Assigned` (every other open project).
///
/// Named `ProjectCategory`, not `Category`: on Apple platforms the Objective-C runtime's `Category` type is
/// visible wherever Foundation is imported, and the module's own name (`FieldSync`) is also the class's, so a
/// `Category` could not be qualified in Swift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ProjectCategory {
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

impl From<core::Category> for ProjectCategory {
    fn from(category: core::Category) -> Self {
        match category {
            core::Category::Rework => Self::Rework,
            core::Category::Rush => Self::Rush,
            core::Category::Upcoming => Self::Upcoming,
            core::Category::Assigned => Self::Assigned,
            core::Category::Complete => Self::Complete,
            core::Category::Cancelled => Self::Cancelled,
        }
    }
}

impl From<ProjectCategory> for core::Category {
    fn from(category: ProjectCategory) -> Self {
        match category {
            ProjectCategory::Rework => Self::Rework,
            ProjectCategory::Rush => Self::Rush,
            ProjectCategory::Upcoming => Self::Upcoming,
            ProjectCategory::Assigned => Self::Assigned,
            ProjectCategory::Complete => Self::Complete,
            ProjectCategory::Cancelled => Self::Cancelled,
        }
    }
}

/// How many projects each category holds (all integrations), for the home screen's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CategoryCounts {
    /// Status REWORK.
    pub rework: u64,
    /// Status RUSH.
    pub rush: u64,
    /// Starting after today.
    pub upcoming: u64,
    /// Other open projects.
    pub assigned: u64,
    /// Closed or completed.
    pub complete: u64,
    /// Cancelled or deleted by the provider.
    pub cancelled: u64,
}

impl From<core::CategoryCounts> for CategoryCounts {
    fn from(counts: core::CategoryCounts) -> Self {
        Self {
            rework: counts.rework,
            rush: counts.rush,
            upcoming: counts.upcoming,
            assigned: counts.assigned,
            complete: counts.complete,
            cancelled: counts.cancelled,
        }
    }
}

/// One typed survey answer. Choices are spelled as in the template; photos are UUIDs of photos taken for
/// the same project (not rejected by QA). An empty answer (blank text, no choice, no photo) is no answer.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum SurveyAnswer {
    /// Yes (`true`) or no (`false`).
    YesNo {
        /// The answer.
        value: bool,
    },
    /// Free text; also the answer to a question of a type the library does not know.
    Text {
        /// The answer.
        value: String,
    },
    /// A finite number.
    Number {
        /// The answer.
        value: f64,
    },
    /// A date, `YYYY-MM-DD`.
    Date {
        /// The answer.
        value: String,
    },
    /// One of the options.
    SingleChoice {
        /// The option.
        value: String,
    },
    /// Any of the options, in the order chosen.
    MultipleChoice {
        /// The options.
        value: Vec<String>,
    },
    /// Photos of the project, by UUID, in the order chosen.
    Photos {
        /// The photo UUIDs.
        value: Vec<String>,
    },
}

impl From<SurveyAnswer> for AnswerValue {
    fn from(answer: SurveyAnswer) -> Self {
        match answer {
            SurveyAnswer::YesNo { value } => Self::YesNo(value),
            SurveyAnswer::Text { value } => Self::Text(value),
            SurveyAnswer::Number { value } => Self::Number(value),
            SurveyAnswer::Date { value } => Self::Date(value),
            SurveyAnswer::SingleChoice { value } => Self::SingleChoice(value),
            SurveyAnswer::MultipleChoice { value } => Self::MultipleChoice(value),
            SurveyAnswer::Photos { value } => Self::Photos(value),
        }
    }
}

impl From<AnswerValue> for SurveyAnswer {
    fn from(answer: AnswerValue) -> Self {
        match answer {
            AnswerValue::YesNo(value) => Self::YesNo { value },
            AnswerValue::Text(value) => Self::Text { value },
            AnswerValue::Number(value) => Self::Number { value },
            AnswerValue::Date(value) => Self::Date { value },
            AnswerValue::SingleChoice(value) => Self::SingleChoice { value },
            AnswerValue::MultipleChoice(value) => Self::MultipleChoice { value },
            AnswerValue::Photos(value) => Self::Photos { value },
        }
    }
}

/// The type of a question's answer, which says which [`SurveyAnswer`] case it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SurveyAnswerType {
    /// `SurveyAnswer.YesNo`.
    YesNo,
    /// `SurveyAnswer.Text`.
    Text,
    /// `SurveyAnswer.Number`, within `min`/`max`.
    Number,
    /// `SurveyAnswer.Date`.
    Date,
    /// `SurveyAnswer.SingleChoice`, one of `options`.
    SingleChoice,
    /// `SurveyAnswer.MultipleChoice`, any of `options`.
    MultipleChoice,
    /// `SurveyAnswer.Photos`, between `min_photos` and `max_photos`.
    Photo,
    /// A type the library does not know (`declared_type` names it): answered with `SurveyAnswer.Text`.
    Other,
}

impl From<&AnswerType> for SurveyAnswerType {
    fn from(answer_type: &AnswerType) -> Self {
        match answer_type {
            AnswerType::YesNo => Self::YesNo,
            AnswerType::Text => Self::Text,
            AnswerType::Number => Self::Number,
            AnswerType::Date => Self::Date,
            AnswerType::SingleChoice => Self::SingleChoice,
            AnswerType::MultipleChoice => Self::MultipleChoice,
            AnswerType::Photo => Self::Photo,
            AnswerType::Other { .. } => Self::Other,
        }
    }
}

/// A template of the local survey library.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SurveyTemplateInfo {
    /// The template id (`meta.surveyTemplateId`), which orders name in a service's `survey`.
    pub id: String,
    /// Its version.
    pub version: Option<String>,
    /// Its display name.
    pub name: Option<String>,
    /// How many questions it has (sections flattened).
    pub questions: u32,
}

impl From<fieldsync_core::store::SurveyTemplateInfo> for SurveyTemplateInfo {
    fn from(info: fieldsync_core::store::SurveyTemplateInfo) -> Self {
        Self {
            id: info.id,
            version: info.version,
            name: info.name,
            questions: u32::try_from(info.questions).unwrap_or(u32::MAX),
        }
    }
}

/// Where a task's survey template came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SurveyTemplateSource {
    /// Inline in the order (`surveyDynamic`).
    Inline,
    /// The local library (`add_survey_template`), by the id the order named (`survey`).
    Library,
}

/// One question of a survey template, as written in the template.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SurveyQuestion {
    /// The question id, unique in its template.
    pub id: String,
    /// The question as shown to the crew.
    pub text: String,
    /// Which answer it takes.
    pub answer_type: SurveyAnswerType,
    /// The type as named on the wire (`yesno`, `select`...; the declared name of an `Other`).
    pub declared_type: String,
    /// Answered with `SurveyAnswer.Text` (text questions and questions of an unknown type).
    pub answered_as_text: bool,
    /// The options of a choice question, in template order (empty otherwise).
    pub options: Vec<String>,
    /// A hint shown under the question.
    pub hint: Option<String>,
    /// Required when visible.
    pub required: bool,
    /// The section path, e.g. `Exterior / Roof`; `None` outside any named section.
    pub section: Option<String>,
    /// The id of the question whose answer decides whether this one shows (`None`: always shown).
    pub shown_if_question: Option<String>,
    /// The fewest photos a photo answer holds (0 for other types).
    pub min_photos: u32,
    /// The most photos a photo answer holds.
    pub max_photos: Option<u32>,
    /// The smallest number a number answer may be.
    pub min: Option<f64>,
    /// The largest number a number answer may be.
    pub max: Option<f64>,
}

impl From<&fieldsync_core::survey::Question> for SurveyQuestion {
    fn from(question: &fieldsync_core::survey::Question) -> Self {
        Self {
            id: question.id.clone(),
            text: question.text.clone(),
            answer_type: (&question.answer_type).into(),
            declared_type: question.answer_type.wire_name().to_owned(),
            answered_as_text: question.answer_type.answered_as_text(),
            options: question.options.clone(),
            hint: question.hint.clone(),
            required: question.required,
            section: question.section.clone(),
            shown_if_question: question
                .show_if
                .as_ref()
                .map(|condition| condition.question.clone()),
            min_photos: question.min_photos,
            max_photos: question.max_photos,
            min: question.min,
            max: question.max,
        }
    }
}

/// One question of a task's survey with its state now: whether it shows, whether it must be answered,
/// its answer and what is wrong with it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct QuestionState {
    /// The question.
    pub question: SurveyQuestion,
    /// Shown (its condition, and its controlling question's, hold). Hidden questions are neither
    /// required, nor checked, nor sent.
    pub visible: bool,
    /// Must be answered now: visible and required.
    pub required: bool,
    /// Has a non-empty answer (a hidden answer is kept but ignored).
    pub answered: bool,
    /// The answer the next submission would send, if any.
    pub answer: Option<SurveyAnswer>,
    /// The answer is the provider's previous one (rework), not the crew's.
    pub from_previous: bool,
    /// Why the answer does not fit, when visible and answered.
    pub problem: Option<String>,
}

/// A task's survey as the crew sees it: every question with its state, what is missing or invalid, and
/// the submissions so far.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TaskSurvey {
    /// `CODE::NUMBER`.
    pub project: String,
    /// The task.
    pub task: String,
    /// The template's id, version and name.
    pub template: SurveyTemplateInfo,
    /// Where the template came from.
    pub source: SurveyTemplateSource,
    /// Every question in template order (sections flattened), with its state.
    pub questions: Vec<QuestionState>,
    /// The visible required questions without an answer, in template order.
    pub missing: Vec<String>,
    /// The visible answers that do not fit, in template order.
    pub invalid: Vec<InvalidAnswer>,
    /// Nothing missing and nothing invalid: `submit_survey` will accept it.
    pub ready: bool,
    /// The questions whose answer is the provider's previous one (rework).
    pub from_previous: Vec<String>,
    /// Earlier submissions of this task, oldest first.
    pub submissions: Vec<SurveySubmission>,
}

impl From<fieldsync_core::store::TaskSurvey> for TaskSurvey {
    fn from(survey: fieldsync_core::store::TaskSurvey) -> Self {
        let fieldsync_core::store::TaskSurvey {
            project,
            task,
            source,
            template,
            template_info,
            mut answers,
            from_previous,
            evaluation,
            submissions,
        } = survey;
        let states: std::collections::HashMap<String, fieldsync_core::survey::QuestionState> = evaluation
            .questions
            .into_iter()
            .map(|state| (state.id.clone(), state))
            .collect();
        let questions = template
            .questions
            .iter()
            .map(|question| {
                let state = states.get(&question.id);
                QuestionState {
                    question: question.into(),
                    visible: state.is_some_and(|state| state.visible),
                    required: state.is_some_and(|state| state.required),
                    answered: state.is_some_and(|state| state.answered),
                    answer: answers.remove(&question.id).map(Into::into),
                    from_previous: from_previous.contains(&question.id),
                    problem: state
                        .and_then(|state| state.problem.as_ref())
                        .map(ToString::to_string),
                }
            })
            .collect();
        Self {
            project,
            task,
            template: template_info.into(),
            source: match source {
                fieldsync_core::store::TemplateSource::Inline => SurveyTemplateSource::Inline,
                fieldsync_core::store::TemplateSource::Library => SurveyTemplateSource::Library,
            },
            questions,
            missing: evaluation.missing,
            invalid: evaluation
                .invalid
                .into_iter()
                .map(|(question, problem)| InvalidAnswer {
                    question,
                    problem: problem.to_string(),
                })
                .collect(),
            ready: evaluation.ready,
            from_previous,
            submissions: submissions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A submitted survey: one item relayed to the provider after the QA gate and after the photos its
/// answers reference.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SurveySubmission {
    /// The item's UUID (the provider deduplicates on it).
    pub uuid: String,
    /// `CODE::NUMBER`.
    pub project: String,
    /// The task.
    pub task: String,
    /// The template id.
    pub template: String,
    /// `pending_qa`, `queued`, `relayed` or `rejected`.
    pub state: String,
    /// Why it was rejected.
    pub state_message: Option<String>,
    /// The photos its answers reference.
    pub photo_ids: Vec<String>,
    /// How many answers it sends.
    pub answers: u32,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
}

impl From<fieldsync_core::store::SurveySubmission> for SurveySubmission {
    fn from(submission: fieldsync_core::store::SurveySubmission) -> Self {
        Self {
            uuid: submission.uuid,
            project: submission.project,
            task: submission.task,
            template: submission.template,
            state: submission.state,
            state_message: submission.state_message,
            photo_ids: submission.photo_ids,
            answers: u32::try_from(submission.answers).unwrap_or(u32::MAX),
            submitted_at: submission.submitted_at,
        }
    }
}

/// What completing a project did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Completion {
    /// `CODE::NUMBER`.
    pub project: String,
    /// The status set locally and queued for the provider.
    pub status: String,
    /// The UUID of the queued status item.
    pub status_item: String,
    /// Forced: the reason given (sent with the status).
    pub forced_reason: Option<String>,
    /// The requirements a forced completion overrode (empty otherwise).
    pub overridden: Vec<UnmetRequirement>,
    /// Photos approved by a `publish` completion.
    pub approved_photos: u64,
    /// Surveys approved by a `publish` completion.
    pub approved_surveys: u64,
    /// When (RFC 3339).
    pub completed_at: String,
}

impl From<fieldsync_core::store::Completion> for Completion {
    fn from(completion: fieldsync_core::store::Completion) -> Self {
        Self {
            project: completion.project,
            status: completion.status,
            status_item: completion.status_item,
            forced_reason: completion.forced_reason,
            overridden: completion.overridden.into_iter().map(Into::into).collect(),
            approved_photos: completion.approved_photos,
            approved_surveys: completion.approved_surveys,
            completed_at: completion.completed_at,
        }
    }
}

/// A project created on the device before its order arrived. Its field work waits until an import
/// brings an order with the same number and adopts it.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct NewLocalProject {
    /// The integration code.
    pub integration: String,
    /// The provider's work-order number, as on the paperwork (1 to 64 printable characters).
    pub work_order_number: String,
    /// Street address.
    #[uniffi(default = None)]
    pub address1: Option<String>,
    /// City.
    #[uniffi(default = None)]
    pub city: Option<String>,
    /// State.
    #[uniffi(default = None)]
    pub state: Option<String>,
    /// ZIP code.
    #[uniffi(default = None)]
    pub zip: Option<String>,
    /// Task names, in order.
    #[uniffi(default = [])]
    pub tasks: Vec<String>,
}

impl From<NewLocalProject> for fieldsync_core::store::NewLocalProject {
    fn from(new: NewLocalProject) -> Self {
        Self {
            integration: new.integration,
            work_order_number: new.work_order_number,
            address1: new.address1,
            city: new.city,
            state: new.state,
            zip: new.zip,
            tasks: new.tasks,
        }
    }
}

/// What completing a project does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CompleteMode {
    /// Completing sets the status; photos and surveys still wait for QA where QA applies.
    Complete,
    /// Completing also approves the project's photos and surveys waiting for QA.
    Publish,
}

/// The options of a task (or a project) resolved over every level: device < integration < work type <
/// project < task, the most specific well-typed value winning.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResolvedOptions {
    /// A check-in on site before the project may be completed.
    pub check_in_required: bool,
    /// A check-in waits until a photo of its project is relayed.
    pub check_in_photo_required: bool,
    /// Photos needed per evidence type (`before`, `during`, `after`) before completing.
    pub photos_required: HashMap<String, u32>,
    /// The task's survey must be submitted before completing.
    pub survey_required: bool,
    /// The upload rendition carries the time and address stamped into it.
    pub timestamp_overlay: bool,
    /// Photos and surveys skip the QA gate.
    pub auto_relay: bool,
    /// What completing does.
    pub complete_mode: CompleteMode,
}

impl From<TaskOptions> for ResolvedOptions {
    fn from(options: TaskOptions) -> Self {
        Self {
            check_in_required: options.check_in_required,
            check_in_photo_required: options.check_in_photo_required,
            photos_required: options
                .photos_required
                .into_iter()
                .map(|(evidence, count)| (evidence.as_str().to_owned(), count))
                .collect(),
            survey_required: options.survey_required,
            timestamp_overlay: options.timestamp_overlay,
            auto_relay: options.auto_relay,
            complete_mode: match options.complete_mode {
                fieldsync_core::requirements::CompleteMode::Complete => CompleteMode::Complete,
                fieldsync_core::requirements::CompleteMode::Publish => CompleteMode::Publish,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_survey_answer_round_trips_through_the_core_type() {
        let answers = [
            SurveyAnswer::YesNo { value: true },
            SurveyAnswer::Text {
                value: "Loose siding".into(),
            },
            SurveyAnswer::Number { value: 4.5 },
            SurveyAnswer::Date {
                value: "2030-01-02".into(),
            },
            SurveyAnswer::SingleChoice { value: "Good".into() },
            SurveyAnswer::MultipleChoice {
                value: vec!["Graffiti".into(), "Other".into()],
            },
            SurveyAnswer::Photos {
                value: vec!["6f1c0f54-8d7e-4f37-9d0a-0d6f1b2c3d4e".into()],
            },
        ];
        for answer in answers {
            let core: AnswerValue = answer.clone().into();
            assert_eq!(SurveyAnswer::from(core), answer);
        }
    }
}

/// One integration's import status, in the sync status.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IntegrationSyncStatus {
    /// The integration.
    pub code: String,
    /// Idle, pending, running or error.
    pub status: IntegrationStatus,
    /// The last successful refresh.
    pub last_refreshed: Option<std::time::SystemTime>,
    /// Why the last refresh failed, while the status is `Error`.
    pub last_error: Option<String>,
}

/// Everything a status bar shows about syncing, in one value (`sync_status()`, `watch_sync_status()`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncStatus {
    /// Per integration, by code.
    pub integrations: Vec<IntegrationSyncStatus>,
    /// Items not yet delivered (held for QA included).
    pub uploads_pending: i64,
    /// Their bytes (a photo's rendition, or the item's JSON).
    pub upload_bytes_pending: i64,
    /// Items that need the user (retry or discard them in the upload log).
    pub uploads_needing_attention: i64,
    /// Items being sent now.
    pub uploads_in_progress: i64,
    /// Their bytes.
    pub upload_bytes_in_progress: i64,
    /// When the provider last confirmed an item.
    pub last_delivered: Option<std::time::SystemTime>,
    /// The network the host last reported.
    pub network: NetworkState,
    /// Whether `pause()` holds fieldsync.
    pub paused: bool,
}

fn instant(at: i64) -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(at.max(0).unsigned_abs())
}

fn signed(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl From<fieldsync_core::sync::SyncStatus> for SyncStatus {
    fn from(status: fieldsync_core::sync::SyncStatus) -> Self {
        Self {
            integrations: status
                .integrations
                .into_iter()
                .map(|integration| IntegrationSyncStatus {
                    code: integration.code,
                    status: integration.status.into(),
                    last_refreshed: integration.last_refreshed.map(instant),
                    last_error: integration.last_error,
                })
                .collect(),
            uploads_pending: signed(status.uploads.pending),
            upload_bytes_pending: signed(status.uploads.pending_bytes),
            uploads_needing_attention: signed(status.uploads.needing_attention),
            uploads_in_progress: signed(status.uploads.in_progress),
            upload_bytes_in_progress: signed(status.uploads.in_progress_bytes),
            last_delivered: status.uploads.last_delivered_at.map(instant),
            network: status.network.into(),
            paused: status.paused,
        }
    }
}

/// Where a photo is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PhotoState {
    /// Taken; the rendition and thumbnail are being made.
    Processing,
    /// Processed; waits for QA to publish or reject it.
    PendingQa,
    /// Published; goes at the next delivery.
    Queued,
    /// Being sent.
    Uploading,
    /// The provider has it.
    Relayed,
    /// Processing failed (see its message).
    Failed,
    /// QA rejected it.
    Rejected,
}

impl From<fieldsync_core::photo::PhotoState> for PhotoState {
    fn from(state: fieldsync_core::photo::PhotoState) -> Self {
        use fieldsync_core::photo::PhotoState as Core;
        match state {
            Core::Processing => Self::Processing,
            Core::PendingQa => Self::PendingQa,
            Core::Queued => Self::Queued,
            Core::Uploading => Self::Uploading,
            Core::Relayed => Self::Relayed,
            Core::Failed => Self::Failed,
            Core::Rejected => Self::Rejected,
        }
    }
}

/// What an outbox item delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum OutboxKind {
    /// A status change (`status` service).
    Status,
    /// A check-in.
    CheckIn,
    /// A photo.
    Photo,
    /// A submitted survey.
    Survey,
}

impl From<fieldsync_core::outbox::EntryKind> for OutboxKind {
    fn from(kind: fieldsync_core::outbox::EntryKind) -> Self {
        use fieldsync_core::outbox::EntryKind as Core;
        match kind {
            Core::Status => Self::Status,
            Core::CheckIn => Self::CheckIn,
            Core::Photo => Self::Photo,
            Core::Survey => Self::Survey,
        }
    }
}

/// Where an outbox item is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum OutboxState {
    /// Not yet sendable (a photo in processing or QA).
    Held,
    /// Goes at the next delivery.
    Queued,
    /// Being sent.
    InFlight,
    /// The provider has it.
    Done,
    /// Failed; tried again after a backoff.
    RetryWait,
    /// Failed for good: retry or discard it.
    NeedsAttention,
}

impl From<fieldsync_core::outbox::EntryState> for OutboxState {
    fn from(state: fieldsync_core::outbox::EntryState) -> Self {
        use fieldsync_core::outbox::EntryState as Core;
        match state {
            Core::Held => Self::Held,
            Core::Queued => Self::Queued,
            Core::InFlight => Self::InFlight,
            Core::Done => Self::Done,
            Core::RetryWait => Self::RetryWait,
            Core::NeedsAttention => Self::NeedsAttention,
        }
    }
}

/// How a refresh runs (`refresh(code, mode)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum RefreshMode {
    /// What changed since the last refresh (the provider's clock, with an overlap).
    Changes,
    /// Everything assigned to the vendor; projects no longer assigned are removed (field work kept).
    FullImport,
}
// ----- evidence: content credentials -----

/// What a verification of a photo's content credentials found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum VerificationOutcome {
    /// The signature and every hash verify. `trusted`: the signer's chain leads to a given trust anchor
    /// (false when none was given: only integrity was checked).
    Valid {
        /// The chain leads to a given trust anchor.
        trusted: bool,
    },
    /// Signed, but something changed after signing.
    Tampered {
        /// What changed.
        part: TamperedPart,
    },
    /// No content credentials.
    Unsigned,
    /// Intact, but signed by a certificate that does not lead to the given trust anchor, or that is not
    /// valid for signing (expired, wrong profile).
    Untrusted,
    /// Not a JPEG, or too large to verify.
    NotSupported {
        /// Why.
        reason: String,
    },
}

/// Which part of a signed photo changed after signing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TamperedPart {
    /// An image byte (the hard binding no longer matches).
    Image,
    /// An assertion, by its label (e.g. `c2pa.actions`).
    Assertion {
        /// The assertion's label.
        label: String,
    },
    /// The claim's signature.
    Signature,
    /// The manifest store itself (missing parts, a manifest moved from another photo).
    Manifest,
}

/// The result of verifying a photo's content credentials ([`crate::verify_photo`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoVerification {
    /// What the verification found.
    pub outcome: VerificationOutcome,
    /// The signer's certificate common name.
    pub signer: Option<String>,
    /// The validation failure codes (C2PA's), for an operator.
    pub failures: Vec<String>,
    /// The whole verification as JSON (assertions included), for display.
    pub json: String,
}

impl From<fieldsync_core::evidence::Verification> for PhotoVerification {
    fn from(verification: fieldsync_core::evidence::Verification) -> Self {
        use fieldsync_core::evidence::{Outcome, TamperedPart as Part};
        let json = serde_json::to_string(&verification).unwrap_or_default();
        let outcome = match verification.outcome {
            Outcome::Valid { trusted } => VerificationOutcome::Valid { trusted },
            Outcome::Tampered { part } => VerificationOutcome::Tampered {
                part: match part {
                    Part::Image => TamperedPart::Image,
                    Part::Assertion { label } => TamperedPart::Assertion { label },
                    Part::Signature => TamperedPart::Signature,
                    Part::Manifest => TamperedPart::Manifest,
                },
            },
            Outcome::Unsigned => VerificationOutcome::Unsigned,
            Outcome::Untrusted => VerificationOutcome::Untrusted,
            Outcome::NotSupported { reason } => VerificationOutcome::NotSupported { reason },
        };
        Self {
            outcome,
            signer: verification.signer,
            failures: verification.failures,
            json,
        }
    }
}
