//! Work types: named templates applied to imported projects as the integration's Default Work Type.

use serde::{Deserialize, Serialize};

use super::InvalidInput;

/// A task a work type adds to projects that lack it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkTypeTask {
    /// Task (service) name.
    pub name: String,
    /// Instructions for the field user.
    #[serde(default)]
    pub instructions: Option<String>,
    /// Task options (a JSON object).
    #[serde(default)]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A named project template. Which of its fields overwrite and which only fill is decided by the
/// reconcile rules (`core::reconcile`), not here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkType {
    /// Unique name (set from the CLI argument, not the file).
    pub name: String,
    /// Overwrites the project's reference.
    pub reference: Option<String>,
    /// Overwrites the project's description.
    pub description: Option<String>,
    /// Overwrites these option keys.
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    /// Fills the work-order info when the provider sent none.
    pub work_order_info: Option<String>,
    /// Fills the instructions when the provider sent none.
    pub instructions: Option<String>,
    /// Fills the client instructions when the provider sent none.
    pub client_instructions: Option<String>,
    /// Fills address line 1 when the provider sent none.
    pub address1: Option<String>,
    /// Fills address line 2 when the provider sent none.
    pub address2: Option<String>,
    /// Fills the city when the provider sent none.
    pub city: Option<String>,
    /// Fills the state when the provider sent none.
    pub state: Option<String>,
    /// Fills the ZIP code when the provider sent none.
    pub zip: Option<String>,
    /// Fills the country when the provider sent none.
    pub country: Option<String>,
    /// Fills the due date (import day + this many days) when the provider sent none.
    pub due_in_days: Option<u32>,
    /// Fills the status when the provider sent none.
    pub status: Option<String>,
    /// Fills the assignee when nothing else set one.
    pub assigned_to: Option<String>,
    /// Tasks added when missing (matched by name); existing tasks are never overwritten.
    pub tasks: Vec<WorkTypeTask>,
}

impl WorkType {
    /// Parses a work type from its JSON file, with `name` taken from the caller.
    pub fn from_json(name: &str, json: &str) -> Result<Self, InvalidInput> {
        let mut work_type: WorkType =
            serde_json::from_str(json).map_err(|err| InvalidInput::new("work type file", err.to_string()))?;
        work_type.name = name.trim().to_owned();
        work_type.validate()?;
        Ok(work_type)
    }

    /// Checks the name and tasks.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if self.name.is_empty() || self.name.len() > 64 || self.name.chars().any(char::is_control) {
            return Err(InvalidInput::new(
                "name",
                "a work type name is 1 to 64 printable characters",
            ));
        }
        if let Some(task) = self.tasks.iter().find(|task| task.name.trim().is_empty()) {
            return Err(InvalidInput::new(
                "tasks",
                format!("a task has an empty name: {task:?}"),
            ));
        }
        Ok(())
    }
}
