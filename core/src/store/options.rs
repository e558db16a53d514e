//! What the crew's work on a project depends on, read from SQLite: the options of every level
//! resolved for a task ([`crate::requirements::resolve`] decides), whether work has started, the category
//! a stored row falls in. Below `photos`, `surveys`, `checkins`, `projects` and `field`, which all use it;
//! it uses none of them.

use rusqlite::{Connection, OptionalExtension, params};

use super::work_types;
use crate::Result;
use crate::model::{Category, Options, Project, Task, Timestamp};
use crate::requirements::{OptionLevels, TaskOptions, resolve};

/// The device-level options, a JSON object in `user_defaults`.
pub const DEVICE_OPTIONS: &str = "options";

/// The first day (UTC, `YYYY-MM-DD`) whose start date makes a project upcoming: tomorrow.
pub(crate) fn first_upcoming_day() -> String {
    let tomorrow = time::OffsetDateTime::now_utc()
        .date()
        .next_day()
        .unwrap_or(time::Date::MAX);
    tomorrow
        .format(&time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

/// The category of a project from its stored base and whether its start date is after today.
pub(crate) fn category_of(base: &str, starts_later: bool) -> Category {
    match base {
        "complete" => Category::Complete,
        "cancelled" => Category::Cancelled,
        "rework" => Category::Rework,
        "rush" => Category::Rush,
        _ if starts_later => Category::Upcoming,
        _ => Category::Assigned,
    }
}

/// Records that work on a project has started (its first check-in, photo or survey answer): the field
/// status becomes *in process*. Call it in the transaction that records the work.
pub(crate) fn mark_work_started(connection: &Connection, project_id: i64, at: Timestamp) -> Result<()> {
    connection
        .prepare_cached("UPDATE projects SET work_started_at = ?2 WHERE id = ?1 AND work_started_at IS NULL")?
        .execute(params![project_id, at])?;
    Ok(())
}

/// Whether a project is local (created on the device, its order not imported yet).
pub(crate) fn is_local(connection: &Connection, project_id: i64) -> Result<bool> {
    Ok(connection
        .prepare_cached("SELECT local FROM projects WHERE id = ?1")?
        .query_row([project_id], |row| row.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The options of each level for one project, owned, so that a task's can be resolved.
pub(crate) struct ProjectOptionLevels {
    device: Options,
    integration: Options,
    work_type: Options,
    project: Options,
}

impl ProjectOptionLevels {
    /// Reads the device, integration and work type levels, and takes the project's own options.
    pub(crate) fn read(connection: &Connection, integration_id: i64, project: &Project) -> Result<Self> {
        let device = connection
            .prepare_cached("SELECT value FROM user_defaults WHERE key = ?1")?
            .query_row([DEVICE_OPTIONS], |row| row.get::<_, String>(0))
            .optional()?
            .and_then(|text| serde_json::from_str::<Options>(&text).ok())
            .unwrap_or_default();
        let (options, auto_relay, default_work_type): (String, bool, Option<String>) = connection
            .prepare_cached("SELECT options, auto_relay, default_work_type FROM integrations WHERE id = ?1")?
            .query_row([integration_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let mut integration: Options = serde_json::from_str(&options).unwrap_or_default();
        // The integration's Auto Relay switch predates options: it is the integration level's value
        // unless its options say otherwise.
        if auto_relay {
            integration
                .entry("auto_relay")
                .or_insert(serde_json::Value::Bool(true));
        }
        let work_type = match default_work_type {
            // A Default Work Type deleted since sets nothing.
            Some(name) => work_types::find(connection, &name)
                .ok()
                .and_then(|work_type| work_type.options)
                .unwrap_or_default(),
            None => Options::new(),
        };
        Ok(Self {
            device,
            integration,
            work_type,
            project: project.options.clone(),
        })
    }

    /// The resolved options of `task` (`None`: the project level alone). Ill-typed values are ignored,
    /// and logged once here.
    pub(crate) fn resolve(&self, task: Option<&Task>) -> TaskOptions {
        let (options, problems) = resolve(&OptionLevels {
            device: Some(&self.device),
            integration: Some(&self.integration),
            work_type: Some(&self.work_type),
            project: Some(&self.project),
            task: task.map(|task| &task.options),
        });
        for problem in problems {
            tracing::warn!(level = ?problem.level, key = %problem.key, expected = problem.expected, "option ignored");
        }
        options
    }
}

/// The options of one task of a stored project, resolved over every level.
pub(crate) fn task_options(
    connection: &Connection,
    integration_id: i64,
    project: &Project,
    task_name: Option<&str>,
) -> Result<TaskOptions> {
    let levels = ProjectOptionLevels::read(connection, integration_id, project)?;
    let task = task_name.and_then(|name| project.tasks.iter().find(|task| task.name == name));
    Ok(levels.resolve(task))
}
