//! Projects and tasks on disk: reading, listing, writing, and the vendor's local edits.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::search::{self, Plan};
use super::{Store, integrations};
use crate::model::{
    Category, FieldStatus, Options, Project, ProjectId, ProjectQuery, ProjectSort, Task, now,
};
use crate::outbox::queue;
use crate::{Error, Result};

/// Columns of `projects` read into a [`Project`], in `from_row` order (after the integration code).
const COLUMNS: &str = "p.id, p.work_order_number, p.work_order_info, p.address1, p.address2, p.city, p.state, \
     p.zip, p.country, p.assigned_to, p.status, p.due_date, p.instructions, p.client_status, p.client_due_date, \
     p.client_instructions, p.description, p.reference, p.latitude, p.longitude, p.start_date, p.options, \
     p.attributes, p.closed, p.removal_pending";

fn json_column(row: &Row, index: usize) -> rusqlite::Result<Options> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(err))
    })
}

/// Reads a project row (without tasks); returns its row id too.
fn from_row(integration: &str, row: &Row) -> rusqlite::Result<(i64, Project)> {
    let number: String = row.get(1)?;
    let mut project = Project::new(integration, &number);
    project.work_order_info = row.get(2)?;
    project.address1 = row.get(3)?;
    project.address2 = row.get(4)?;
    project.city = row.get(5)?;
    project.state = row.get(6)?;
    project.zip = row.get(7)?;
    project.country = row.get(8)?;
    project.assigned_to = row.get(9)?;
    project.status = row.get(10)?;
    project.due_date = row.get(11)?;
    project.instructions = row.get(12)?;
    project.client_status = row.get(13)?;
    project.client_due_date = row.get(14)?;
    project.client_instructions = row.get(15)?;
    project.description = row.get(16)?;
    project.reference = row.get(17)?;
    project.latitude = row.get(18)?;
    project.longitude = row.get(19)?;
    project.start_date = row.get(20)?;
    project.options = json_column(row, 21)?;
    project.attributes = json_column(row, 22)?;
    project.closed = row.get(23)?;
    project.removal_pending = row.get(24)?;
    Ok((row.get(0)?, project))
}

fn load_tasks(connection: &Connection, project_id: i64) -> Result<Vec<Task>> {
    let mut statement = connection.prepare_cached(
        "SELECT name, instructions, options, survey_id, survey_inline FROM tasks WHERE project_id = ?1
         ORDER BY position",
    )?;
    let tasks = statement
        .query_map([project_id], |row| {
            Ok(Task {
                name: row.get(0)?,
                instructions: row.get(1)?,
                options: json_column(row, 2)?,
                survey_id: row.get(3)?,
                survey_inline: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(tasks)
}

/// The project with its tasks, by row id.
pub(crate) fn load(connection: &Connection, integration: &str, project_id: i64) -> Result<Project> {
    let mut statement =
        connection.prepare_cached(&format!("SELECT {COLUMNS} FROM projects p WHERE p.id = ?1"))?;
    let (_, mut project) = statement.query_row([project_id], |row| from_row(integration, row))?;
    project.tasks = load_tasks(connection, project_id)?;
    Ok(project)
}

/// The row id of a project, with its integration's id.
pub(crate) fn locate(connection: &Connection, id: &ProjectId) -> Result<(i64, i64)> {
    let integration_id = integrations::id_of(connection, &id.integration)?;
    let project_id = connection
        .prepare_cached("SELECT id FROM projects WHERE integration_id = ?1 AND work_order_number = ?2")?
        .query_row(params![integration_id, id.work_order_number], |row| row.get(0))
        .optional()?
        .ok_or_else(|| Error::UnknownProject(id.to_string()))?;
    Ok((integration_id, project_id))
}

/// Where a project sits in the list orders: its effective due date (its start date in the Upcoming
/// list), its number and its row id.
fn sort_key(connection: &Connection, id: &ProjectId, by_start: bool) -> Result<(String, String, i64)> {
    let (_, project_id) = locate(connection, id)?;
    let date = if by_start {
        "coalesce(start_date, '~')"
    } else {
        "coalesce(due_date, client_due_date, '~')"
    };
    Ok(connection
        .prepare_cached(&format!(
            "SELECT {date}, work_order_number, id FROM projects WHERE id = ?1"
        ))?
        .query_row([project_id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?)
}

/// Writes a project and its tasks. `project_id` is `None` for a new project; returns the row id.
pub(crate) fn save(
    connection: &Connection,
    integration_id: i64,
    project_id: Option<i64>,
    project: &Project,
    fingerprint: Option<&[u8]>,
) -> Result<i64> {
    write(
        connection,
        integration_id,
        project_id,
        project,
        fingerprint,
        Writer::Local,
    )
}

/// Who writes a project row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// The vendor, on the device.
    Local,
    /// An import that changed the project: a viewed project becomes `changed_since_viewed`, and a `local`
    /// project is adopted (its order arrived).
    Import,
}

/// [`save`], by `writer`.
pub(crate) fn write(
    connection: &Connection,
    integration_id: i64,
    project_id: Option<i64>,
    project: &Project,
    fingerprint: Option<&[u8]>,
    writer: Writer,
) -> Result<i64> {
    let Some(id) = project_id else {
        let project_id = insert_project(
            &mut *connection.prepare_cached(INSERT_PROJECT)?,
            connection,
            integration_id,
            project,
            fingerprint,
        )?;
        search::index(connection, project_id)?;
        insert_tasks(connection, project_id, &project.tasks)?;
        return Ok(project_id);
    };
    let options = json_text(&project.options);
    let attributes = json_text(&project.attributes);
    let search_text = search_text(project);
    let values = params![
        integration_id,
        project.work_order_number,
        project.work_order_info,
        project.address1,
        project.address2,
        project.city,
        project.state,
        project.zip,
        project.country,
        project.assigned_to,
        project.status,
        project.due_date,
        project.instructions,
        project.client_status,
        project.client_due_date,
        project.client_instructions,
        project.description,
        project.reference,
        project.latitude,
        project.longitude,
        project.start_date,
        options,
        attributes,
        project.closed,
        project.removal_pending,
        fingerprint,
        now(),
        id,
        search_text,
    ];
    macro_rules! update_project {
        ($extra:literal) => {
            concat!(
                "UPDATE projects SET integration_id = ?1, work_order_number = ?2, work_order_info = ?3,
                 address1 = ?4, address2 = ?5, city = ?6, state = ?7, zip = ?8, country = ?9,
                 assigned_to = ?10, status = ?11, due_date = ?12, instructions = ?13, client_status = ?14,
                 client_due_date = ?15, client_instructions = ?16, description = ?17, reference = ?18,
                 latitude = ?19, longitude = ?20, start_date = ?21, options = ?22, attributes = ?23,
                 closed = ?24, removal_pending = ?25, fingerprint = ?26, updated_at = ?27,
                 search_text = ?29",
                $extra,
                " WHERE id = ?28"
            )
        };
    }
    let sql = match writer {
        Writer::Local => update_project!(""),
        Writer::Import => update_project!(
            ", local = 0, changed_since_viewed = (changed_since_viewed OR viewed_at IS NOT NULL)"
        ),
    };
    search::unindex(connection, id)?;
    connection.prepare_cached(sql)?.execute(values)?;
    search::index(connection, id)?;
    connection
        .prepare_cached("DELETE FROM tasks WHERE project_id = ?1")?
        .execute([id])?;
    insert_tasks(connection, id, &project.tasks)?;
    Ok(id)
}

/// An import's update of an existing project: only the columns that differ from `before` (the row as the
/// import read it), and the tasks only if they changed. A viewed project becomes `changed_since_viewed`; a
/// local one is adopted.
pub(crate) fn update_imported(
    connection: &Connection,
    project_id: i64,
    before: &Project,
    after: &Project,
    fingerprint: &[u8],
) -> Result<()> {
    let updated_at = now();
    let mut sql = String::with_capacity(320);
    sql.push_str(
        "UPDATE projects SET fingerprint = ?, updated_at = ?, local = 0, \
         changed_since_viewed = (changed_since_viewed OR viewed_at IS NOT NULL)",
    );
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(28);
    values.push(&fingerprint);
    values.push(&updated_at);
    macro_rules! columns {
        ($($field:ident),*) => {$(
            if before.$field != after.$field {
                sql.push_str(concat!(", ", stringify!($field), " = ?"));
                values.push(&after.$field);
            }
        )*};
    }
    columns!(
        work_order_number,
        work_order_info,
        address1,
        address2,
        city,
        state,
        zip,
        country,
        assigned_to,
        status,
        due_date,
        instructions,
        client_status,
        client_due_date,
        client_instructions,
        description,
        reference,
        latitude,
        longitude,
        start_date,
        closed,
        removal_pending
    );
    let options = (before.options != after.options).then(|| json_text(&after.options));
    if let Some(options) = &options {
        sql.push_str(", options = ?");
        values.push(options);
    }
    let attributes = (before.attributes != after.attributes).then(|| json_text(&after.attributes));
    if let Some(attributes) = &attributes {
        sql.push_str(", attributes = ?");
        values.push(attributes);
    }
    let searched_changed = before.work_order_number != after.work_order_number
        || before.address1 != after.address1
        || before.city != after.city
        || before.zip != after.zip
        || before.description != after.description
        || before.reference != after.reference;
    let new_search_text = searched_changed.then(|| search_text(after));
    if let Some(text) = &new_search_text {
        sql.push_str(", search_text = ?");
        values.push(text);
    }
    sql.push_str(" WHERE id = ?");
    values.push(&project_id);
    if new_search_text.is_some() {
        search::unindex(connection, project_id)?;
    }
    connection.prepare_cached(&sql)?.execute(&*values)?;
    if new_search_text.is_some() {
        search::index(connection, project_id)?;
    }
    if before.tasks != after.tasks {
        connection
            .prepare_cached("DELETE FROM tasks WHERE project_id = ?1")?
            .execute([project_id])?;
        insert_tasks(connection, project_id, &after.tasks)?;
    }
    Ok(())
}

/// An options column's text; the common empty object without an allocation.
fn json_text(options: &Options) -> std::borrow::Cow<'static, str> {
    if options.is_empty() {
        std::borrow::Cow::Borrowed("{}")
    } else {
        std::borrow::Cow::Owned(serde_json::to_string(options).expect("JSON values serialise"))
    }
}

fn insert_tasks(connection: &Connection, project_id: i64, tasks: &[Task]) -> Result<()> {
    let mut statement = connection.prepare_cached(INSERT_TASK)?;
    insert_tasks_with(&mut statement, project_id, tasks)
}

/// A new project's row, without its tasks. The parameters are bound one by one, by index.
const INSERT_PROJECT: &str = "INSERT INTO projects (integration_id, work_order_number, work_order_info, address1,
     address2, city, state, zip, country, assigned_to, status, due_date, instructions, client_status,
     client_due_date, client_instructions, description, reference, latitude, longitude, start_date, options,
     attributes, closed, removal_pending, fingerprint, updated_at, search_text, first_seen_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
     ?23, ?24, ?25, ?26, ?27, ?28, ?27)";

/// A task's row.
const INSERT_TASK: &str = "INSERT INTO tasks (project_id, position, name, instructions, options, survey_id,
     survey_inline) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Inserts a new project's row (not its tasks) with `statement` ([`INSERT_PROJECT`]); returns its row id.
fn insert_project(
    statement: &mut rusqlite::Statement,
    connection: &Connection,
    integration_id: i64,
    project: &Project,
    fingerprint: Option<&[u8]>,
) -> Result<i64> {
    bind_project(statement, 0, integration_id, project, fingerprint)?;
    statement.raw_execute()?;
    Ok(connection.last_insert_rowid())
}

/// Parameters of one project row: [`INSERT_PROJECT`]'s 28 (in [`NewProjects`]' statement, then the row id).
const PROJECT_PARAMETERS: usize = 28;

/// Binds a project's row to parameters `base + 1 ..= base + 28` of `statement`, in [`INSERT_PROJECT`]'s
/// order. SQLite copies the values: nothing borrowed outlives the call.
fn bind_project(
    statement: &mut rusqlite::Statement,
    base: usize,
    integration_id: i64,
    project: &Project,
    fingerprint: Option<&[u8]>,
) -> Result<()> {
    let search_text = search_text(project);
    macro_rules! bind {
        ($($index:literal => $value:expr),* $(,)?) => {$(
            statement.raw_bind_parameter(base + $index, $value)?;
        )*};
    }
    bind!(
        1 => integration_id,
        2 => &project.work_order_number,
        3 => &project.work_order_info,
        4 => &project.address1,
        5 => &project.address2,
        6 => &project.city,
        7 => &project.state,
        8 => &project.zip,
        9 => &project.country,
        10 => &project.assigned_to,
        11 => &project.status,
        12 => &project.due_date,
        13 => &project.instructions,
        14 => &project.client_status,
        15 => &project.client_due_date,
        16 => &project.client_instructions,
        17 => &project.description,
        18 => &project.reference,
        19 => project.latitude,
        20 => project.longitude,
        21 => &project.start_date,
        22 => json_text(&project.options),
        23 => json_text(&project.attributes),
        24 => project.closed,
        25 => project.removal_pending,
        26 => fingerprint,
        27 => now(),
        28 => &search_text,
    );
    Ok(())
}

/// Inserts `tasks` of a project with `statement` ([`INSERT_TASK`]).
fn insert_tasks_with(statement: &mut rusqlite::Statement, project_id: i64, tasks: &[Task]) -> Result<()> {
    for (position, task) in tasks.iter().enumerate() {
        bind_task(statement, 0, project_id, position, task)?;
        statement.raw_execute()?;
    }
    Ok(())
}

/// Parameters of one task row, in [`INSERT_TASK`]'s order.
const TASK_PARAMETERS: usize = 7;

/// Binds a task's row to parameters `base + 1 ..= base + 7` of `statement`.
fn bind_task(
    statement: &mut rusqlite::Statement,
    base: usize,
    project_id: i64,
    position: usize,
    task: &Task,
) -> Result<()> {
    statement.raw_bind_parameter(base + 1, project_id)?;
    statement.raw_bind_parameter(base + 2, position as i64)?;
    statement.raw_bind_parameter(base + 3, &task.name)?;
    statement.raw_bind_parameter(base + 4, &task.instructions)?;
    statement.raw_bind_parameter(base + 5, json_text(&task.options))?;
    statement.raw_bind_parameter(base + 6, &task.survey_id)?;
    statement.raw_bind_parameter(base + 7, &task.survey_inline)?;
    Ok(())
}

/// Project rows written by one execution of [`NewProjects`]' statement.
const PROJECT_ROWS: usize = 32;
/// Task rows written by one execution of [`NewProjects`]' task statement.
const TASK_ROWS: usize = 64;

/// `INSERT INTO table (columns) SELECT * FROM (VALUES (slot 1), ..., (slot `rows`)) WHERE column1 IS NOT
/// NULL`, where `slot(parameter base)` writes one row: a slot whose first value is NULL is left out.
fn batch_insert_sql(
    table: &str,
    columns: &str,
    rows: usize,
    width: usize,
    slot: impl Fn(usize) -> String,
) -> String {
    let values: Vec<String> = (0..rows).map(|index| slot(index * width)).collect();
    format!(
        "INSERT INTO {table} ({columns}) SELECT * FROM (VALUES {}) WHERE column1 IS NOT NULL",
        values.join(", ")
    )
}

/// [`INSERT_PROJECT`] for [`PROJECT_ROWS`] rows, each with its row id (the row's parameter 29) first.
fn insert_projects_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        batch_insert_sql(
            "projects",
            "id, integration_id, work_order_number, work_order_info, address1, address2, city, state, zip,
             country, assigned_to, status, due_date, instructions, client_status, client_due_date,
             client_instructions, description, reference, latitude, longitude, start_date, options, attributes,
             closed, removal_pending, fingerprint, updated_at, search_text, first_seen_at",
            PROJECT_ROWS,
            PROJECT_PARAMETERS + 1,
            |base| {
                let mut marks = vec![format!("?{}", base + PROJECT_PARAMETERS + 1)];
                marks.extend((1..=PROJECT_PARAMETERS).map(|index| format!("?{}", base + index)));
                // first_seen_at: the same instant as updated_at.
                marks.push(format!("?{}", base + 27));
                format!("({})", marks.join(", "))
            },
        )
    })
}

/// [`INSERT_TASK`] for [`TASK_ROWS`] rows.
fn insert_tasks_sql() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        batch_insert_sql(
            "tasks",
            "project_id, position, name, instructions, options, survey_id, survey_inline",
            TASK_ROWS,
            TASK_PARAMETERS,
            |base| {
                let marks: Vec<String> = (1..=TASK_PARAMETERS)
                    .map(|index| format!("?{}", base + index))
                    .collect();
                format!("({})", marks.join(", "))
            },
        )
    })
}

/// Inserts an import's new projects in batches: their rows are bound into the slots of one multi-row
/// statement and written [`PROJECT_ROWS`] at a time, their tasks [`TASK_ROWS`] at a time.
///
/// Why: one execution of an INSERT opens the table and each of its indexes, and builds the category's value
/// list, once for all the rows it writes. Row by row, that setup was about a sixth of a Full Import into an
/// empty cache (a new phone's first sync).
///
/// A project gets its row id when it is bound: the one SQLite would give (the largest plus one), known
/// because the import holds the write lock and every other insert of a project in it comes after a flush,
/// with a new `NewProjects` after it. Rows bound and not yet written are invisible to SQL: the caller
/// flushes before any statement that could read or change them ([`NewProjects::holds`]), and before the
/// import ends.
pub(crate) struct NewProjects<'c> {
    connection: &'c Connection,
    projects: rusqlite::CachedStatement<'c>,
    tasks: rusqlite::CachedStatement<'c>,
    /// Project slots bound since the last flush.
    bound_projects: usize,
    /// Task slots bound since the last flush.
    bound_tasks: usize,
    /// The row id the next project gets.
    next_id: i64,
    /// The search index's mark (constant in the import's transaction): a new row id above it is left to
    /// the catch-up, one at or below it (a reused row id) is indexed once written.
    indexed_through: i64,
}

impl<'c> NewProjects<'c> {
    pub(crate) fn new(connection: &'c Connection) -> Result<Self> {
        let last_id: i64 = connection
            .prepare_cached("SELECT coalesce(max(id), 0) FROM projects")?
            .query_row([], |row| row.get(0))?;
        Ok(Self {
            connection,
            projects: connection.prepare_cached(insert_projects_sql())?,
            tasks: connection.prepare_cached(insert_tasks_sql())?,
            bound_projects: 0,
            bound_tasks: 0,
            // Past i64::MAX SQLite would pick an unused id at random; 9.2e18 rows is not a phone's cache.
            next_id: last_id.saturating_add(1),
            indexed_through: search::indexed_through(connection)?,
        })
    }

    /// Binds a new project with its tasks, stored as [`write`] of a new project by [`Writer::Import`]
    /// stores them; returns its row id. Written when a batch fills, or by [`NewProjects::flush`].
    pub(crate) fn insert(
        &mut self,
        integration_id: i64,
        project: &Project,
        fingerprint: &[u8],
    ) -> Result<i64> {
        if self.bound_projects == PROJECT_ROWS {
            self.flush()?;
        }
        let id = self.next_id;
        let base = self.bound_projects * (PROJECT_PARAMETERS + 1);
        bind_project(
            &mut self.projects,
            base,
            integration_id,
            project,
            Some(fingerprint),
        )?;
        self.projects
            .raw_bind_parameter(base + PROJECT_PARAMETERS + 1, id)?;
        self.bound_projects += 1;
        self.next_id += 1;
        for (position, task) in project.tasks.iter().enumerate() {
            if self.bound_tasks == TASK_ROWS {
                // Its project is written first (foreign key).
                self.flush()?;
            }
            bind_task(
                &mut self.tasks,
                self.bound_tasks * TASK_PARAMETERS,
                id,
                position,
                task,
            )?;
            self.bound_tasks += 1;
        }
        if id <= self.indexed_through {
            // A reused row id: indexed for search now, which needs the row written.
            self.flush()?;
            search::index(self.connection, id)?;
        }
        Ok(id)
    }

    /// True when the project row `id` is bound and not yet written.
    pub(crate) fn holds(&self, id: i64) -> bool {
        let first = self.next_id - self.bound_projects as i64;
        (first..self.next_id).contains(&id)
    }

    /// Writes the bound projects, then the bound tasks.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let project_slot = Slots {
            rows: PROJECT_ROWS,
            width: PROJECT_PARAMETERS + 1,
            first_column: PROJECT_PARAMETERS + 1,
        };
        let task_slot = Slots {
            rows: TASK_ROWS,
            width: TASK_PARAMETERS,
            first_column: 1,
        };
        project_slot.write(&mut self.projects, &mut self.bound_projects)?;
        task_slot.write(&mut self.tasks, &mut self.bound_tasks)
    }
}

/// The slots of a batch statement.
struct Slots {
    rows: usize,
    /// Parameters per slot.
    width: usize,
    /// The parameter (1-based, within a slot) of the slot's first column, the one NULL leaves it out.
    first_column: usize,
}

impl Slots {
    /// Executes `statement` with its first `*bound` slots filled and the others left out; then no slot is
    /// bound.
    fn write(&self, statement: &mut rusqlite::Statement, bound: &mut usize) -> Result<()> {
        if *bound == 0 {
            return Ok(());
        }
        for slot in *bound..self.rows {
            statement.raw_bind_parameter(slot * self.width + self.first_column, rusqlite::types::Null)?;
        }
        let written = statement.raw_execute()?;
        debug_assert_eq!(written, *bound, "every bound row is written");
        *bound = 0;
        Ok(())
    }
}

fn search_text(project: &Project) -> String {
    let fields = [
        Some(&project.work_order_number),
        project.address1.as_ref(),
        project.city.as_ref(),
        project.zip.as_ref(),
        project.description.as_ref(),
        project.reference.as_ref(),
    ];
    // One allocation: lower-cased field by field (the separator is no letter, so lower-casing each field
    // alone gives what lower-casing the joined text gives, final sigma included).
    let length = fields.iter().map(|field| field.map_or(0, String::len) + 1).sum();
    let mut text = String::with_capacity(length);
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            text.push('\u{1f}');
        }
        match field {
            Some(field) if field.is_ascii() => {
                let start = text.len();
                text.push_str(field);
                text[start..].make_ascii_lowercase();
            }
            Some(field) => text.push_str(&field.to_lowercase()),
            None => {}
        }
    }
    text
}

/// One line of a project list: what a screen of projects shows, without tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectSummary {
    /// `CODE::NUMBER`.
    pub id: ProjectId,
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
    /// ZIP code.
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
    /// Kept by a Full Import because of pending field work.
    pub removal_pending: bool,
    /// Where the crew is with it.
    pub field_status: FieldStatus,
    /// Its home-screen category.
    pub category: Category,
    /// Created on the device; its order has not arrived yet.
    pub local: bool,
    /// Field work of the project not yet delivered (check-ins, photos, surveys, statuses).
    pub pending_uploads: u64,
}

impl Store {
    /// One project with its tasks.
    pub fn project(&self, id: &ProjectId) -> Result<Project> {
        self.read(|connection| {
            let (_, project_id) = locate(connection, id)?;
            load(connection, &id.integration, project_id)
        })
    }

    /// A page of projects matching `query`, in list order.
    ///
    /// Keyset paging: `after` continues after the last project of the previous page, `before` gives the
    /// page that ends just before the first project of the current one (in list order too). Both read one
    /// snapshot, so a page never repeats or skips a project that existed at both reads, whatever arrived
    /// meanwhile. A search (see [`ProjectQuery::search`]) is one more filter: the order and the cursors are
    /// the list's.
    pub fn list_projects(&self, query: &ProjectQuery) -> Result<Vec<ProjectSummary>> {
        self.read(|connection| {
            // One snapshot for the cursor keys, the search's index matches and mark, and the page.
            let _snapshot = connection.unchecked_transaction()?;
            let plan = search_plan(connection, query, Some(query.limit))?;
            let _installed = plan.as_ref().map(Plan::install);
            let mut select = Select::new(query, plan.as_ref());
            let order = ListOrder::of(query);
            let backward = query.before.is_some() && query.after.is_none();
            if let Some(id) = &query.after {
                let key = sort_key(connection, id, order.by_start())?;
                select.bound(order, id, key, Direction::After);
            }
            if let Some(id) = &query.before {
                let key = sort_key(connection, id, order.by_start())?;
                select.bound(order, id, key, Direction::Before);
            }
            let sql = format!(
                "SELECT i.code, p.work_order_number, p.address1, p.city, p.state, p.zip, p.assigned_to, p.status,
                        p.due_date, p.client_status, p.client_due_date, p.closed, p.removal_pending,
                        p.field_status, p.category_base, p.start_date >= ?1, p.local,
                        (SELECT count(*) FROM outbox o WHERE o.project_id = p.id AND o.state != 'done')
                 {} ORDER BY {} LIMIT {} OFFSET {}",
                select.clauses(),
                order.order_by(backward),
                query.limit.min(10_000),
                query.offset
            );
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(select.values.iter()), |row| {
                let integration: String = row.get(0)?;
                let number: String = row.get(1)?;
                Ok(ProjectSummary {
                    id: ProjectId {
                        integration: integration.clone(),
                        work_order_number: number.clone(),
                    },
                    integration,
                    work_order_number: number,
                    address1: row.get(2)?,
                    city: row.get(3)?,
                    state: row.get(4)?,
                    zip: row.get(5)?,
                    assigned_to: row.get(6)?,
                    status: row.get(7)?,
                    due_date: row.get(8)?,
                    client_status: row.get(9)?,
                    client_due_date: row.get(10)?,
                    closed: row.get(11)?,
                    removal_pending: row.get(12)?,
                    field_status: row.get(13)?,
                    category: super::options::category_of(
                        &row.get::<_, String>(14)?,
                        row.get::<_, Option<bool>>(15)?.unwrap_or(false),
                    ),
                    local: row.get(16)?,
                    pending_uploads: row.get(17)?,
                })
            })?;
            let mut page: Vec<ProjectSummary> = rows.collect::<rusqlite::Result<_>>()?;
            if backward {
                page.reverse();
            }
            Ok(page)
        })
    }

    /// How many projects match `query`'s filters and search (its order, cursors, limit and offset left
    /// out): the length of the whole list that [`Store::list_projects`] pages through.
    pub fn count_projects(&self, query: &ProjectQuery) -> Result<u64> {
        self.read(|connection| {
            let _snapshot = connection.unchecked_transaction()?;
            let plan = search_plan(connection, query, None)?;
            let _installed = plan.as_ref().map(Plan::install);
            let select = Select::new(query, plan.as_ref());
            let sql = format!("SELECT count(*) {}", select.clauses());
            let mut statement = connection.prepare_cached(&sql)?;
            // `?1` (the first upcoming day) is bound for the list's columns; a count without the category
            // filters does not use it, and is then a statement without parameters.
            let used = statement.parameter_count().min(select.values.len());
            Ok(
                statement.query_row(rusqlite::params_from_iter(&select.values[..used]), |row| {
                    row.get(0)
                })?,
            )
        })
    }

    /// The vendor closes a project: it stays in the cache, marked closed; imports do not reopen it.
    pub fn close_project(&self, id: &ProjectId) -> Result<Project> {
        self.write(|tx| {
            let (integration_id, project_id) = locate(tx, id)?;
            let mut project = load(tx, &id.integration, project_id)?;
            project.closed = true;
            let fingerprint = super::fingerprint::encode_fingerprint(None);
            save(tx, integration_id, Some(project_id), &project, Some(&fingerprint))?;
            Ok(project)
        })
    }

    /// The vendor deletes a project from the cache. Refused while it holds undelivered field work.
    pub fn delete_project(&self, id: &ProjectId) -> Result<()> {
        self.write(|tx| {
            let (_, project_id) = locate(tx, id)?;
            let pending = queue::project_pending_count(tx, project_id)?;
            if pending > 0 {
                return Err(Error::PendingFieldWork {
                    what: format!("project {id}"),
                    count: pending,
                    hint: "sync it first; the project can be deleted once its work is delivered".into(),
                });
            }
            tx.execute("DELETE FROM projects WHERE id = ?1", [project_id])?;
            Ok(())
        })
    }

    /// Number of projects in the cache (all integrations).
    pub fn project_count(&self) -> Result<u64> {
        self.read(|connection| {
            Ok(connection.query_row("SELECT count(*) FROM projects", [], |row| row.get(0))?)
        })
    }
}

/// The search plan of `query`, when it searches for something, for a page (`Some(limit)`) or a count.
fn search_plan(connection: &Connection, query: &ProjectQuery, page: Option<u32>) -> Result<Option<Plan>> {
    match query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        Some(text) => Ok(Some(search::plan(connection, text, page)?)),
        None => Ok(None),
    }
}

/// The `FROM` and `WHERE` of a project list and its bound values (all text; `?1` is always the first day
/// that counts as upcoming).
struct Select {
    from: String,
    conditions: String,
    values: Vec<String>,
}

/// Which side of a cursor a page is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    After,
    Before,
}

impl Select {
    /// The filters of `query` and its search `plan`.
    fn new(query: &ProjectQuery, plan: Option<&Plan>) -> Self {
        let mut select = Self {
            from: "FROM projects p JOIN integrations i ON i.id = p.integration_id".to_owned(),
            conditions: String::new(),
            values: vec![super::options::first_upcoming_day()],
        };
        if let Some(code) = &query.integration {
            let code = select.placeholder(code.clone());
            select.and(&format!("i.code = {code}"));
        }
        if let Some(client_status) = &query.client_status {
            let status = select.placeholder(client_status.clone());
            select.and(&format!("p.client_status = {status} COLLATE NOCASE"));
        }
        if let Some(status) = &query.status {
            let status = select.placeholder(status.clone());
            select.and(&format!("p.status = {status} COLLATE NOCASE"));
        }
        match plan {
            None => {}
            Some(Plan::Scan { pattern }) => {
                let pattern = select.placeholder(pattern.clone());
                select.and(&format!("p.search_text LIKE {pattern} ESCAPE '\\'"));
            }
            Some(Plan::Walk { .. }) => {
                select.and(&format!("{}(p.search_text)", search::MATCH_FUNCTION));
            }
            Some(Plan::Drive { fts, mark, .. }) => {
                // The index's matches and the rows above its mark drive the query (CROSS JOIN keeps them
                // outermost); the exact rule then checks each, and the list order is a sort of the few.
                let fts = select.placeholder(fts.clone());
                let mark = select.placeholder(mark.to_string());
                select.from = format!(
                    "FROM (SELECT rowid AS id FROM projects_search WHERE projects_search MATCH {fts} \
                           UNION ALL SELECT id FROM projects WHERE id > CAST({mark} AS INTEGER)) m \
                     CROSS JOIN projects p ON p.id = m.id JOIN integrations i ON i.id = p.integration_id"
                );
                select.and(&format!("{}(p.search_text)", search::MATCH_FUNCTION));
            }
            Some(Plan::Filter { mark, .. }) => {
                // The row id comes with every index entry: the function rejects a row the index did not
                // match (at or below the mark) before the row is read; the exact rule then checks the rest.
                let mark = select.placeholder(mark.to_string());
                select.and(&format!(
                    "({}(p.id) OR p.id > CAST({mark} AS INTEGER)) AND {}(p.search_text)",
                    search::HIT_FUNCTION,
                    search::MATCH_FUNCTION
                ));
            }
        }
        if !query.include_closed {
            select.and("p.closed = 0");
        }
        if let Some(category) = query.category {
            let base = select.placeholder(category.stored_base().to_owned());
            select.and(&format!("p.category_base = {base}"));
            match category {
                Category::Upcoming => select.and("p.start_date >= ?1"),
                Category::Assigned => select.and("(p.start_date IS NULL OR p.start_date < ?1)"),
                _ => {}
            }
        }
        if let Some(field_status) = query.field_status {
            let status = select.placeholder(field_status.as_str().to_owned());
            select.and(&format!("p.field_status = {status}"));
        }
        select
    }

    fn placeholder(&mut self, value: String) -> String {
        self.values.push(value);
        format!("?{}", self.values.len())
    }

    fn and(&mut self, condition: &str) {
        self.conditions.push_str(" AND ");
        self.conditions.push_str(condition);
    }

    /// Rows strictly after (or before) the project `id`, whose sort key is `key`.
    fn bound(&mut self, order: ListOrder, id: &ProjectId, key: (String, String, i64), direction: Direction) {
        let (first_key, number, row_id) = key;
        let (seek, compare) = match direction {
            Direction::After => (">=", ">"),
            Direction::Before => ("<=", "<"),
        };
        // The first term lets SQLite seek in the index; the row value then orders within it.
        let bound = match order {
            ListOrder::Start | ListOrder::Due => {
                let first = self.placeholder(first_key);
                let number = self.placeholder(number);
                let row_id = self.placeholder(row_id.to_string());
                format!(
                    "{column} {seek} {first} AND {key} {compare} ({first}, {number}, CAST({row_id} AS INTEGER))",
                    column = order.first_column(),
                    key = order.key(),
                )
            }
            ListOrder::Number => {
                let code = self.placeholder(id.integration.clone());
                let number = self.placeholder(number);
                format!(
                    "i.code {seek} {code} AND {key} {compare} ({code}, {number})",
                    key = order.key()
                )
            }
        };
        self.and(&bound);
    }

    fn clauses(&self) -> String {
        format!("{} WHERE 1{}", self.from, self.conditions)
    }
}

/// The three list orders. All are total (the row id breaks ties), so that a page can continue after, or end
/// before, a given row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListOrder {
    /// The Upcoming list: start date, soonest first. That is what the tab is about, and its index answers
    /// the first page at once wherever upcoming projects sit in the due-date order.
    Start,
    /// Effective due date (the vendor's, else the provider's, none last).
    Due,
    /// Integration code and number.
    Number,
}

impl ListOrder {
    fn of(query: &ProjectQuery) -> Self {
        match query.sort {
            ProjectSort::DueDate if query.category == Some(Category::Upcoming) => Self::Start,
            ProjectSort::DueDate => Self::Due,
            ProjectSort::Number => Self::Number,
        }
    }

    fn by_start(self) -> bool {
        self == Self::Start
    }

    fn first_column(self) -> &'static str {
        match self {
            Self::Start => "p.start_date",
            Self::Due => "coalesce(p.due_date, p.client_due_date, '~')",
            Self::Number => "i.code",
        }
    }

    /// The row value a cursor compares.
    fn key(self) -> &'static str {
        match self {
            Self::Start => "(p.start_date, p.work_order_number, p.id)",
            Self::Due => "(coalesce(p.due_date, p.client_due_date, '~'), p.work_order_number, p.id)",
            Self::Number => "(i.code, p.work_order_number)",
        }
    }

    /// `ORDER BY` terms, reversed for a page read backwards from a `before` cursor.
    fn order_by(self, backward: bool) -> &'static str {
        match (self, backward) {
            (Self::Start, false) => "p.start_date, p.work_order_number, p.id",
            (Self::Start, true) => "p.start_date DESC, p.work_order_number DESC, p.id DESC",
            (Self::Due, false) => "coalesce(p.due_date, p.client_due_date, '~'), p.work_order_number, p.id",
            (Self::Due, true) => {
                "coalesce(p.due_date, p.client_due_date, '~') DESC, p.work_order_number DESC, p.id DESC"
            }
            (Self::Number, false) => "i.code, p.work_order_number",
            (Self::Number, true) => "i.code DESC, p.work_order_number DESC",
        }
    }
}
