//! Plain data types of the domain: integrations, projects, tasks, work types and import reports.
//!
//! Nothing here does I/O; the store reads and writes these types and the reconcile rules transform them.

mod field;
mod integration;
mod project;
mod report;
mod status;
mod work_type;

pub use field::{Category, CategoryCounts, EvidenceType, FieldStatus};
pub use integration::{
    CheckInSettings, DefaultAssignTo, Integration, IntegrationEdit, IntegrationStatus, IntegrationType, Mode,
    NewIntegration, SecretKind, validate_base_url, validate_code,
};
pub use project::{Options, Project, ProjectEdit, ProjectId, ProjectQuery, ProjectSort, Task};
pub use report::{ImportKind, ImportReport, Rejection};
pub use status::{InvalidTransition, StatusEvent, next_status};
pub use work_type::{WorkType, WorkTypeTask};

/// Unix time in seconds.
pub type Timestamp = i64;

/// A field of the caller's input that cannot be accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidInput {
    /// The field (or CLI flag) at fault.
    pub field: String,
    /// What is wrong with it, in words a person can act on.
    pub reason: String,
}

impl InvalidInput {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The current Unix time in seconds.
pub fn now() -> Timestamp {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Formats a Unix time as RFC 3339 (UTC).
pub fn format_timestamp(timestamp: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(timestamp)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| timestamp.to_string())
}

/// Serde helper: an optional Unix time written as an RFC 3339 string.
pub(crate) mod timestamp_rfc3339 {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(
        value: &Option<super::Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(timestamp) => serializer.serialize_str(&super::format_timestamp(*timestamp)),
            None => serializer.serialize_none(),
        }
    }
}
