//! The crew's side of a project: its field status, its category on the home screen, and the evidence
//! type of the photos that document it.

use serde::{Deserialize, Serialize};

use super::InvalidInput;

/// Where the crew is with a project, on this device.
///
/// Derived by the store from what happened, never written directly: **new** (imported, not opened yet),
/// **viewed** (the app said the crew opened it), **in process** (the first check-in, photo or survey
/// answer), **updated** (an import changed it after the crew viewed it, until it is viewed again; this
/// shows over *viewed* and *in process*), **completed**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldStatus {
    /// Imported, not opened yet.
    New,
    /// Opened by the crew.
    Viewed,
    /// Work has started (a check-in, a photo or a survey answer).
    InProcess,
    /// Changed by an import since the crew last viewed it.
    Updated,
    /// Completed by the crew.
    Completed,
}

impl FieldStatus {
    /// Every status, in the order of a crew's day.
    pub const ALL: [FieldStatus; 5] = [
        Self::New,
        Self::Viewed,
        Self::InProcess,
        Self::Updated,
        Self::Completed,
    ];

    /// The stored name (the `field_status` generated column).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Viewed => "viewed",
            Self::InProcess => "in_process",
            Self::Updated => "updated",
            Self::Completed => "completed",
        }
    }

    /// Parses a stored or typed name (`in-process` and `in process` are accepted too).
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let normalized = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == normalized)
            .ok_or_else(|| {
                InvalidInput::new(
                    "field status",
                    format!("`{text}` is not new, viewed, in_process, updated or completed"),
                )
            })
    }
}

impl std::fmt::Display for FieldStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The home screen's tabs. Each project is in exactly one, checked in this order: **complete** (closed
/// or completed by the crew), **cancelled** (the provider cancelled or deleted it), **rework** (status
/// REWORK), **rush** (status RUSH), **upcoming** (its start date is after today, UTC), **assigned** (every
/// other open project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
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

impl Category {
    /// Every category.
    pub const ALL: [Category; 6] = [
        Self::Rework,
        Self::Rush,
        Self::Upcoming,
        Self::Assigned,
        Self::Complete,
        Self::Cancelled,
    ];

    /// The name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rework => "rework",
            Self::Rush => "rush",
            Self::Upcoming => "upcoming",
            Self::Assigned => "assigned",
            Self::Complete => "complete",
            Self::Cancelled => "cancelled",
        }
    }

    /// The value of the `category_base` generated column for this category: `upcoming` and `assigned`
    /// are both `open`, split by the start date at query time.
    pub(crate) const fn stored_base(self) -> &'static str {
        match self {
            Self::Upcoming | Self::Assigned => "open",
            other => other.as_str(),
        }
    }

    /// Parses a name (case-insensitive).
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let normalized = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|category| category.as_str() == normalized)
            .ok_or_else(|| {
                InvalidInput::new(
                    "category",
                    format!("`{text}` is not rework, rush, upcoming, assigned, complete or cancelled"),
                )
            })
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many projects each category holds, for the home screen, in one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
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

impl CategoryCounts {
    /// The count of one category.
    pub fn get(&self, category: Category) -> u64 {
        match category {
            Category::Rework => self.rework,
            Category::Rush => self.rush,
            Category::Upcoming => self.upcoming,
            Category::Assigned => self.assigned,
            Category::Complete => self.complete,
            Category::Cancelled => self.cancelled,
        }
    }
}

impl rusqlite::types::FromSql for FieldStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        Self::parse(text).map_err(|err| rusqlite::types::FromSqlError::Other(Box::new(err)))
    }
}

/// When in the job a photo was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceType {
    /// Before the work.
    Before,
    /// During the work.
    During,
    /// After the work.
    After,
}

impl EvidenceType {
    /// The stored and wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::During => "during",
            Self::After => "after",
        }
    }

    /// Parses `before`, `during` or `after`.
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        match value.trim().to_ascii_lowercase().as_str() {
            "before" => Ok(Self::Before),
            "during" => Ok(Self::During),
            "after" => Ok(Self::After),
            other => Err(InvalidInput::new(
                "evidence",
                format!("`{other}` is not before, during or after"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_statuses_and_categories_parse_their_names() {
        for status in FieldStatus::ALL {
            assert_eq!(FieldStatus::parse(status.as_str()).unwrap(), status);
        }
        assert_eq!(FieldStatus::parse("In Process").unwrap(), FieldStatus::InProcess);
        assert!(FieldStatus::parse("done").is_err());
        for category in Category::ALL {
            assert_eq!(Category::parse(category.as_str()).unwrap(), category);
        }
        assert_eq!(Category::parse("RUSH").unwrap(), Category::Rush);
        assert!(Category::parse("urgent").is_err());
    }
}
