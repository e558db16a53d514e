//! Projects (work orders as the vendor sees them) and their tasks.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{InvalidInput, validate_code};

/// A JSON object of options (`check_in_required`, ...), kept as the provider sent it.
pub type Options = serde_json::Map<String, serde_json::Value>;

/// `CODE::NUMBER`: the integration code and the provider's work-order number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ProjectId {
    /// The integration code.
    pub integration: String,
    /// The provider's work-order number.
    pub work_order_number: String,
}

impl ProjectId {
    /// Parses `CODE::NUMBER`.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let (code, number) = raw.split_once("::").ok_or_else(|| {
            InvalidInput::new("project id", format!("`{raw}` is not of the form CODE::NUMBER"))
        })?;
        validate_code(code).map_err(|err| InvalidInput::new("project id", err.reason))?;
        if number.is_empty() {
            return Err(InvalidInput::new(
                "project id",
                format!("`{raw}` has no work order number"),
            ));
        }
        Ok(Self {
            integration: code.to_owned(),
            work_order_number: number.to_owned(),
        })
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.integration, self.work_order_number)
    }
}

impl Serialize for ProjectId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A task (the provider's "service") of a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Task {
    /// The service name; unique within a project.
    pub name: String,
    /// Instructions for the field user.
    pub instructions: Option<String>,
    /// Task options.
    pub options: Options,
    /// The task's survey template, by id (the service's `survey`, e.g. `hpirFull-v3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_id: Option<String>,
    /// The task's survey sent inline (the service's `surveyDynamic` object), as the JSON text the provider
    /// sent; the survey module parses it when the survey is opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_inline: Option<String>,
}

/// A project in the vendor's cache.
///
/// Fields are plain values; which import may change which field is the business of `core::reconcile`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Project {
    /// `CODE::NUMBER`.
    pub id: ProjectId,
    /// The integration code (also in `id`; kept for readers of the JSON).
    pub integration: String,
    /// The provider's work-order number.
    pub work_order_number: String,
    /// Short information line from the provider.
    pub work_order_info: Option<String>,
    /// Street address.
    pub address1: Option<String>,
    /// Second address line.
    pub address2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// ZIP code.
    pub zip: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Who on the vendor's account does the work (`~all~` for everyone).
    pub assigned_to: Option<String>,
    /// The vendor's status (the provider may only send RUSH or REWORK).
    pub status: Option<String>,
    /// The vendor's due date.
    pub due_date: Option<String>,
    /// Instructions for the field user.
    pub instructions: Option<String>,
    /// The provider's status (`Cancelled` when unassigned, `Deleted` when deleted).
    pub client_status: Option<String>,
    /// The provider's due date.
    pub client_due_date: Option<String>,
    /// The provider's instructions.
    pub client_instructions: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Reference.
    pub reference: Option<String>,
    /// Latitude of the property.
    pub latitude: Option<f64>,
    /// Longitude of the property.
    pub longitude: Option<f64>,
    /// When the work may start.
    pub start_date: Option<String>,
    /// Project options (check-in settings and others).
    pub options: Options,
    /// Source ids and attribute echoes the provider wants back (`source_wo_id`, `attribute7`, ...).
    pub attributes: Options,
    /// Tasks, in the provider's order.
    pub tasks: Vec<Task>,
    /// Closed by the vendor.
    pub closed: bool,
    /// A Full Import no longer lists it but it holds pending field work.
    pub removal_pending: bool,
}

impl Project {
    /// An empty project with its identity set.
    pub fn new(integration: &str, work_order_number: &str) -> Self {
        Self {
            id: ProjectId {
                integration: integration.to_owned(),
                work_order_number: work_order_number.to_owned(),
            },
            integration: integration.to_owned(),
            work_order_number: work_order_number.to_owned(),
            ..Self::default()
        }
    }
}

/// A vendor's local edit of a project: `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectEdit {
    /// New status.
    pub status: Option<String>,
    /// New due date.
    pub due_date: Option<String>,
    /// New instructions.
    pub instructions: Option<String>,
}

impl ProjectEdit {
    /// True when the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.due_date.is_none() && self.instructions.is_none()
    }

    /// Rejects values no person meant to type.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if let Some(status) = &self.status
            && (status.trim().is_empty() || status.len() > 64)
        {
            return Err(InvalidInput::new("status", "a status is 1 to 64 characters"));
        }
        if let Some(due_date) = &self.due_date {
            time::Date::parse(
                due_date,
                &time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| InvalidInput::new("due_date", format!("`{due_date}` is not a date YYYY-MM-DD")))?;
        }
        Ok(())
    }
}

/// How a project list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectSort {
    /// Earliest effective due date first (the vendor's, else the provider's; none last), then by number.
    #[default]
    DueDate,
    /// By integration code and work-order number.
    Number,
}

/// Filters and paging of a project list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectQuery {
    /// Only this integration.
    pub integration: Option<String>,
    /// Only this client status (case-insensitive).
    pub client_status: Option<String>,
    /// Only this vendor status (case-insensitive).
    pub status: Option<String>,
    /// Text to find in the number, address, city, zip, description or reference, case ignored: every part
    /// of it (split at spaces) must appear at the start of a word ("mapl" finds Maple Dr, "wo-0042" finds
    /// WO-00421, "field" does not find Springfield; details in `store/search.rs`). Answered from the
    /// search index. The list keeps its order and paging with a search.
    pub search: Option<String>,
    /// Include closed projects.
    pub include_closed: bool,
    /// Only this home-screen category.
    pub category: Option<super::Category>,
    /// Only this field status.
    pub field_status: Option<super::FieldStatus>,
    /// Order.
    pub sort: ProjectSort,
    /// Page size.
    pub limit: u32,
    /// Rows to skip (after `after`, or before `before`, when given).
    pub offset: u32,
    /// Continue after this project, the last one of the previous page: keyset paging, as fast deep in a
    /// long list as on its first page, and stable while projects arrive. Unknown project: `UnknownProject`.
    pub after: Option<ProjectId>,
    /// The page that ends just before this project, the first one of the current page: keyset paging
    /// backwards. The page comes in list order. With `after` too, the rows between the two. Unknown
    /// project: `UnknownProject`.
    pub before: Option<ProjectId>,
}

impl Default for ProjectQuery {
    fn default() -> Self {
        Self {
            integration: None,
            client_status: None,
            status: None,
            search: None,
            include_closed: true,
            category: None,
            field_status: None,
            sort: ProjectSort::DueDate,
            limit: 50,
            offset: 0,
            after: None,
            before: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_parse_and_print() {
        let id = ProjectId::parse("ACME::WO-1::x").unwrap();
        assert_eq!(id.integration, "ACME");
        assert_eq!(id.work_order_number, "WO-1::x");
        assert_eq!(id.to_string(), "ACME::WO-1::x");
        assert!(ProjectId::parse("ACME").is_err());
        assert!(ProjectId::parse("ACME::").is_err());
        assert!(ProjectId::parse("BAD CODE::1").is_err());
    }

    #[test]
    fn edits_reject_bad_dates() {
        let edit = ProjectEdit {
            due_date: Some("2026-02-30".into()),
            ..Default::default()
        };
        assert!(edit.validate().is_err());
        let edit = ProjectEdit {
            due_date: Some("2026-12-01".into()),
            ..Default::default()
        };
        assert!(edit.validate().is_ok());
    }
}
