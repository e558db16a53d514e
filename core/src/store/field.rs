//! The crew's side of projects on disk: viewing, field statuses and categories, the options of each
//! level, completing a project, and projects created on the device before their order arrives.
//!
//! The rules themselves are pure and live elsewhere: option levels and completion in
//! [`crate::requirements`], the meaning of a field status and a category in [`crate::model::field`]. Here
//! the facts are gathered from SQLite and the outcome written, in one transaction.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::Serialize;

pub use super::options::DEVICE_OPTIONS;
use super::options::{ProjectOptionLevels, first_upcoming_day, is_local, task_options};
use super::{Store, integrations, projects};
use crate::model::{
    Category, CategoryCounts, InvalidInput, Options, Project, ProjectEdit, ProjectId, Task, Timestamp,
    format_timestamp, now,
};
use crate::outbox::queue::{self, NewEntry};
use crate::outbox::{EntryKind, EntryState};
use crate::photo::{EvidenceType, PhotoState};
use crate::requirements::{CompleteMode, CompletionFacts, TaskFacts, TaskOptions, Unmet, unmet_requirements};
use crate::wire::upload::status_change;
use crate::{Error, Result};

/// The status a completed project gets, and sends.
pub const COMPLETE_STATUS: &str = "Complete";

/// The longest reason for a forced completion.
const MAX_REASON_CHARS: usize = 500;

/// Whether a stored project's `complete_mode` is `publish` (completing approves what waits for QA).
pub(crate) fn publish_on_completion(
    connection: &Connection,
    integration_id: i64,
    project_id: i64,
) -> Result<bool> {
    let code: String = connection
        .prepare_cached("SELECT code FROM integrations WHERE id = ?1")?
        .query_row([integration_id], |row| row.get(0))?;
    let project = projects::load(connection, &code, project_id)?;
    let levels = ProjectOptionLevels::read(connection, integration_id, &project)?;
    Ok(levels.resolve(None).complete_mode == CompleteMode::Publish)
}

/// What completing a project did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// `CODE::NUMBER`.
    pub project: String,
    /// The status set and sent.
    pub status: String,
    /// The UUID of the queued status item.
    pub status_item: String,
    /// Forced: the reason given.
    pub forced_reason: Option<String>,
    /// Requirements a forced completion overrode (empty otherwise).
    pub overridden: Vec<Unmet>,
    /// Photos approved by a `publish` completion.
    pub approved_photos: u64,
    /// Surveys approved by a `publish` completion.
    pub approved_surveys: u64,
    /// When (RFC 3339).
    pub completed_at: String,
}

/// A project created on the device before its order arrived.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewLocalProject {
    /// The integration code.
    pub integration: String,
    /// The provider's work-order number, as on the paperwork.
    pub work_order_number: String,
    /// Street address.
    pub address1: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State.
    pub state: Option<String>,
    /// ZIP code.
    pub zip: Option<String>,
    /// Task names, in order.
    pub tasks: Vec<String>,
}

impl NewLocalProject {
    fn validate(&self) -> Result<(), InvalidInput> {
        let number = self.work_order_number.trim();
        if number.is_empty() || number.len() > 64 || number.chars().any(char::is_control) {
            return Err(InvalidInput::new(
                "work order number",
                "a work order number is 1 to 64 printable characters",
            ));
        }
        for (field, value) in [
            ("address", &self.address1),
            ("city", &self.city),
            ("state", &self.state),
            ("zip", &self.zip),
        ] {
            if let Some(value) = value
                && (value.len() > 200 || value.chars().any(char::is_control))
            {
                return Err(InvalidInput::new(field, "at most 200 printable characters"));
            }
        }
        if self.tasks.len() > 100 {
            return Err(InvalidInput::new("task", "at most 100 tasks"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for task in &self.tasks {
            if task.trim().is_empty() || task.len() > 128 || task.chars().any(char::is_control) {
                return Err(InvalidInput::new(
                    "task",
                    "a task name is 1 to 128 printable characters",
                ));
            }
            if !seen.insert(task.trim()) {
                return Err(InvalidInput::new("task", format!("`{task}` is listed twice")));
            }
        }
        Ok(())
    }
}

impl Store {
    /// The vendor edits status, due date or instructions. A status change is field work: it is queued for
    /// the provider's `status` service in the same durable transaction.
    pub fn edit_project(&self, id: &ProjectId, edit: &ProjectEdit) -> Result<Project> {
        edit.validate()?;
        self.write_durable(|tx| {
            let (integration_id, project_id) = projects::locate(tx, id)?;
            let mut project = projects::load(tx, &id.integration, project_id)?;
            if project.closed {
                return Err(Error::ProjectClosed(id.to_string()));
            }
            let status_changed = edit.status.is_some() && edit.status != project.status;
            let completing = edit.status.as_deref().is_some_and(|status| {
                matches!(
                    status.trim().to_ascii_lowercase().as_str(),
                    "complete" | "completed"
                )
            });
            // Completing through an edit follows the same rules as `complete_project` (without forcing).
            if completing {
                let unmet = unmet_requirements_of(tx, integration_id, project_id, &project)?;
                if !unmet.is_empty() {
                    return Err(Error::CompletionBlocked {
                        project: id.to_string(),
                        unmet,
                    });
                }
            }
            if let Some(status) = &edit.status {
                project.status = Some(status.clone());
            }
            if let Some(due_date) = &edit.due_date {
                project.due_date = Some(due_date.clone());
            }
            if let Some(instructions) = &edit.instructions {
                project.instructions = Some(instructions.clone());
            }
            // A local edit clears the fingerprint so that the next import re-applies its rules to it; the
            // rules version stays, so that import treats the edit by the current rules.
            let fingerprint = super::fingerprint::encode_fingerprint(None);
            projects::save(tx, integration_id, Some(project_id), &project, Some(&fingerprint))?;
            if completing {
                tx.execute(
                    "UPDATE projects SET completed_at = coalesce(completed_at, ?2) WHERE id = ?1",
                    params![project_id, now()],
                )?;
            }
            if status_changed {
                let payload = status_change(&project.work_order_number, project.status.as_deref());
                let entry = NewEntry {
                    id: &queue::new_entry_id(),
                    integration_id,
                    project_id: Some(project_id),
                    kind: EntryKind::Status,
                    state: EntryState::Queued,
                    payload: &payload,
                };
                queue::enqueue(tx, &entry, now())?;
            }
            Ok(project)
        })
    }

    /// The app tells that the crew opened a project: *new* and *updated* become *viewed*. Reading a
    /// project never does this by itself.
    pub fn mark_viewed(&self, id: &ProjectId) -> Result<()> {
        self.write(|tx| {
            let (_, project_id) = projects::locate(tx, id)?;
            tx.execute(
                "UPDATE projects SET viewed_at = ?2, changed_since_viewed = 0 WHERE id = ?1",
                params![project_id, now()],
            )?;
            Ok(())
        })
    }

    /// How many projects each home-screen category holds (all integrations), in one call.
    ///
    /// Open projects are most of a cache, so they are never walked: the total comes from SQLite's page
    /// counts, the other categories from ranges of the `(category_base, start_date)` index, and Assigned
    /// is what is left.
    pub fn category_counts(&self) -> Result<CategoryCounts> {
        let first_upcoming = first_upcoming_day();
        self.read(|connection| {
            let total: u64 = connection
                .prepare_cached("SELECT count(*) FROM projects")?
                .query_row([], |row| row.get(0))?;
            let of_base = |category: Category| -> Result<u64> {
                Ok(connection
                    .prepare_cached("SELECT count(*) FROM projects WHERE category_base = ?1")?
                    .query_row([category.stored_base()], |row| row.get(0))?)
            };
            let mut counts = CategoryCounts {
                rework: of_base(Category::Rework)?,
                rush: of_base(Category::Rush)?,
                complete: of_base(Category::Complete)?,
                cancelled: of_base(Category::Cancelled)?,
                ..CategoryCounts::default()
            };
            counts.upcoming = connection
                .prepare_cached(
                    "SELECT count(*) FROM projects WHERE category_base = 'open' AND start_date >= ?1",
                )?
                .query_row([&first_upcoming], |row| row.get(0))?;
            counts.assigned = total.saturating_sub(
                counts.rework + counts.rush + counts.complete + counts.cancelled + counts.upcoming,
            );
            Ok(counts)
        })
    }

    /// What still keeps a project from being completed (empty: nothing).
    pub fn completion_requirements(&self, id: &ProjectId) -> Result<Vec<Unmet>> {
        self.read(|connection| {
            let (integration_id, project_id) = projects::locate(connection, id)?;
            let project = projects::load(connection, &id.integration, project_id)?;
            unmet_requirements_of(connection, integration_id, project_id, &project)
        })
    }

    /// Completes a project: refused with the typed list of what is missing ([`Error::CompletionBlocked`])
    /// unless every requirement is met or `force_reason` gives a reason. The status changes locally at
    /// once and its status item is queued in the same durable transaction. In `publish` mode the
    /// project's photos and surveys waiting for QA are approved too.
    pub fn complete_project(&self, id: &ProjectId, force_reason: Option<&str>) -> Result<Completion> {
        let force_reason = match force_reason.map(str::trim) {
            None => None,
            Some("") => return Err(InvalidInput::new("reason", "a forced completion needs a reason").into()),
            Some(reason)
                if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) =>
            {
                return Err(InvalidInput::new(
                    "reason",
                    format!("a reason is at most {MAX_REASON_CHARS} printable characters"),
                )
                .into());
            }
            Some(reason) => Some(reason.to_owned()),
        };
        self.write_durable(|tx| {
            let (integration_id, project_id) = projects::locate(tx, id)?;
            let mut project = projects::load(tx, &id.integration, project_id)?;
            if project.closed {
                return Err(Error::ProjectClosed(id.to_string()));
            }
            let completed: Option<Timestamp> =
                tx.query_row("SELECT completed_at FROM projects WHERE id = ?1", [project_id], |row| row.get(0))?;
            if completed.is_some() {
                return Err(Error::AlreadyCompleted(id.to_string()));
            }
            let (facts, mode) = completion_facts(tx, integration_id, project_id, &project)?;
            let unmet = unmet_requirements(&facts);
            if !unmet.is_empty() && force_reason.is_none() {
                return Err(Error::CompletionBlocked {
                    project: id.to_string(),
                    unmet,
                });
            }
            let at = now();
            project.status = Some(COMPLETE_STATUS.to_owned());
            tx.execute(
                "UPDATE projects SET status = ?2, completed_at = ?3, completion_reason = ?4, fingerprint = NULL
                 WHERE id = ?1",
                params![project_id, COMPLETE_STATUS, at, force_reason],
            )?;
            let mut change = crate::wire::upload::status_change(&project.work_order_number, Some(COMPLETE_STATUS));
            if let (Some(reason), Some(object)) = (&force_reason, change.as_object_mut()) {
                object.insert("reason".into(), serde_json::Value::String(reason.clone()));
            }
            let status_item = queue::new_entry_id();
            queue::enqueue(
                tx,
                &NewEntry {
                    id: &status_item,
                    integration_id,
                    project_id: Some(project_id),
                    kind: EntryKind::Status,
                    state: EntryState::Queued,
                    payload: &change,
                },
                at,
            )?;
            let (approved_photos, approved_surveys) = match mode {
                CompleteMode::Publish => (
                    super::photos::approve_pending(tx, project_id)?,
                    super::surveys::approve_pending(tx, project_id, at)?,
                ),
                CompleteMode::Complete => (0, 0),
            };
            Ok(Completion {
                project: id.to_string(),
                status: COMPLETE_STATUS.to_owned(),
                status_item,
                overridden: if force_reason.is_some() { unmet } else { Vec::new() },
                forced_reason: force_reason.clone(),
                approved_photos,
                approved_surveys,
                completed_at: format_timestamp(at),
            })
        })
    }

    /// Creates a project on the device before its order arrived. Its field work waits in the outbox
    /// ("waiting for the provider's order") until an import brings the same work order number and adopts
    /// it. Refused when the integration already has that work order.
    pub fn create_local_project(&self, new: &NewLocalProject) -> Result<Project> {
        new.validate()?;
        self.write_durable(|tx| {
            let integration = integrations::find(tx, &new.integration)?;
            let integration_id = integrations::id_of(tx, &integration.code)?;
            let number = new.work_order_number.trim();
            let exists: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM projects WHERE integration_id = ?1 AND work_order_number = ?2)",
                params![integration_id, number],
                |row| row.get(0),
            )?;
            if exists {
                return Err(Error::ProjectExists(format!("{}::{number}", integration.code)));
            }
            let mut project = Project::new(&integration.code, number);
            project.address1 = clean(&new.address1);
            project.city = clean(&new.city);
            project.state = clean(&new.state);
            project.zip = clean(&new.zip);
            project.tasks = new
                .tasks
                .iter()
                .map(|name| Task {
                    name: name.trim().to_owned(),
                    ..Task::default()
                })
                .collect();
            let project_id = projects::save(tx, integration_id, None, &project, None)?;
            tx.execute("UPDATE projects SET local = 1 WHERE id = ?1", [project_id])?;
            Ok(project)
        })
    }

    /// Discards a local project (one whose order never came): its undelivered field work is exported
    /// beside the database first (see [`Store::export_pending_work`]), then the project and its work go.
    /// Refused for a project that came from the provider.
    pub fn discard_local_project(
        &self,
        files: &crate::photo::files::PhotoFiles,
        id: &ProjectId,
    ) -> Result<super::PendingExport> {
        let project_id = self.read(|connection| {
            let (_, project_id) = projects::locate(connection, id)?;
            if !is_local(connection, project_id)? {
                return Err(Error::NotLocalProject(id.to_string()));
            }
            Ok(project_id)
        })?;
        let export = self.export_work(files, &id.integration, Some((project_id, &id.to_string())))?;
        self.write_durable(|tx| {
            // Adopted meanwhile by an import: keep it, its work now goes to the provider.
            if !is_local(tx, project_id)? {
                return Err(Error::NotLocalProject(id.to_string()));
            }
            tx.execute("DELETE FROM outbox WHERE project_id = ?1", [project_id])?;
            tx.execute("DELETE FROM photos WHERE project_id = ?1", [project_id])?;
            tx.execute("DELETE FROM checkins WHERE project_id = ?1", [project_id])?;
            tx.execute("DELETE FROM surveys WHERE project_id = ?1", [project_id])?;
            tx.execute("DELETE FROM projects WHERE id = ?1", [project_id])?;
            Ok(())
        })?;
        Ok(export)
    }

    /// Sets the device-level options (a JSON object), the least specific level.
    pub fn set_device_options(&self, options: &Options) -> Result<()> {
        let text =
            serde_json::to_string(options).map_err(|err| InvalidInput::new("options", err.to_string()))?;
        self.set_user_default(DEVICE_OPTIONS, &text)
    }

    /// The resolved options of a project's task (or of the project, without a task).
    pub fn resolved_options(&self, id: &ProjectId, task: Option<&str>) -> Result<TaskOptions> {
        self.read(|connection| {
            let (integration_id, project_id) = projects::locate(connection, id)?;
            let project = projects::load(connection, &id.integration, project_id)?;
            if let Some(name) = task
                && !project.tasks.iter().any(|task| task.name == name)
            {
                return Err(Error::UnknownTask {
                    project: id.to_string(),
                    task: name.to_owned(),
                });
            }
            task_options(connection, integration_id, &project, task)
        })
    }
}

fn clean(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// What keeps a stored project from being completed (empty: nothing).
pub(crate) fn unmet_requirements_of(
    connection: &Connection,
    integration_id: i64,
    project_id: i64,
    project: &Project,
) -> Result<Vec<Unmet>> {
    let (facts, _) = completion_facts(connection, integration_id, project_id, project)?;
    Ok(unmet_requirements(&facts))
}

/// Gathers what completion depends on, and the project's complete mode.
fn completion_facts(
    connection: &Connection,
    integration_id: i64,
    project_id: i64,
    project: &Project,
) -> Result<(CompletionFacts, CompleteMode)> {
    let levels = ProjectOptionLevels::read(connection, integration_id, project)?;
    let mut photos: BTreeMap<String, BTreeMap<EvidenceType, u32>> = BTreeMap::new();
    {
        let mut statement = connection.prepare_cached(
            "SELECT task_name, evidence_type, count(*) FROM photos
             WHERE project_id = ?1 AND state != ?2 GROUP BY task_name, evidence_type",
        )?;
        let rows = statement.query_map(params![project_id, PhotoState::Rejected.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, u32>(2)?,
            ))
        })?;
        for row in rows {
            let (task, evidence, count) = row?;
            if let Ok(evidence) = EvidenceType::parse(&evidence) {
                photos.entry(task).or_default().insert(evidence, count);
            }
        }
    }
    let surveys = super::surveys::submitted_counts(connection, project_id)?;
    let survey_tasks = super::surveys::tasks_with_survey(connection, project_id)?;
    let checked_in: bool = connection
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM checkins WHERE project_id = ?1)")?
        .query_row([project_id], |row| row.get(0))?;
    let project_options = levels.resolve(None);
    let tasks = project
        .tasks
        .iter()
        .map(|task| TaskFacts {
            name: task.name.clone(),
            options: levels.resolve(Some(task)),
            photos: photos.remove(&task.name).unwrap_or_default(),
            has_survey: survey_tasks.contains(&task.name),
            surveys_submitted: surveys.get(&task.name).copied().unwrap_or(0),
        })
        .collect();
    let mode = project_options.complete_mode;
    Ok((
        CompletionFacts {
            project_options,
            checked_in,
            tasks,
        },
        mode,
    ))
}
