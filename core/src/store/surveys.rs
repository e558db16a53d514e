//! Surveys on disk: the vendor's template library, drafts saved answer by answer, and submissions, each
//! an item relayed through the outbox after the QA gate.
//!
//! The rules (what a template may be, which questions are visible, which answers are valid, the wire
//! shape of answers) are the pure functions of [`crate::survey`]; this module gathers their inputs from
//! SQLite and writes their outcome durably.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::{Store, integrations, projects};
use crate::model::{InvalidInput, Project, ProjectId, Timestamp, format_timestamp, now};
use crate::outbox::queue::{self, NewEntry};
use crate::outbox::{EntryKind, EntryState};
use crate::photo::PhotoState;
use crate::survey::{
    AnswerValue, Evaluation, PhotoFacts, SurveyTemplate, check_answer, evaluate, previous_answers,
    wire_answers,
};
use crate::wire::upload::with_attributes;
use crate::{Error, Result};

/// A template of the library, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveyTemplateInfo {
    /// The template id (`meta.surveyTemplateId`).
    pub id: String,
    /// Its version.
    pub version: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// How many questions it has (sections flattened).
    pub questions: usize,
}

impl SurveyTemplateInfo {
    fn of(template: &SurveyTemplate) -> Self {
        Self {
            id: template.id.clone(),
            version: template.version.clone(),
            name: template.name.clone(),
            questions: template.questions.len(),
        }
    }
}

/// Where a task's template came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// Inline in the order (`surveyDynamic`).
    Inline,
    /// The local template library, by the id the order named (`survey`).
    Library,
}

/// A task's survey as the crew sees it: the template, the draft (with a rework's previous answers where
/// the crew has not answered yet), the evaluation of both, and the submissions so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSurvey {
    /// `CODE::NUMBER`.
    pub project: String,
    /// The task.
    pub task: String,
    /// Where the template came from.
    pub source: TemplateSource,
    /// The template.
    #[serde(skip)]
    pub template: SurveyTemplate,
    /// Its id, version and name.
    pub template_info: SurveyTemplateInfo,
    /// The answers the next submission would send (the draft over the previous answers).
    pub answers: BTreeMap<String, AnswerValue>,
    /// Questions whose answer comes from the previous (rework) answers, not from the crew.
    pub from_previous: Vec<String>,
    /// Visibility, requirements and problems of every question.
    pub evaluation: Evaluation,
    /// Earlier submissions of this task, oldest first.
    pub submissions: Vec<SurveySubmission>,
}

/// A submitted survey: one item relayed through `uploadPictures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurveySubmission {
    /// The item's UUID.
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
    pub answers: usize,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
}

/// The largest template accepted by the library or inline: the parser refuses larger ones before reading.
const STATE_PENDING_QA: &str = "pending_qa";
const STATE_QUEUED: &str = "queued";
const STATE_REJECTED: &str = "rejected";

impl Store {
    /// Adds a template to the local library (or replaces the one with the same id). Refused, with
    /// nothing written, when the template is not valid.
    pub fn add_survey_template(&self, json: &[u8]) -> Result<SurveyTemplateInfo> {
        let template = SurveyTemplate::parse(json)?;
        let info = SurveyTemplateInfo::of(&template);
        let definition = template.to_json().to_string();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO survey_templates (template_id, version, name, definition, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (template_id) DO UPDATE SET version = excluded.version, name = excluded.name,
                     definition = excluded.definition, added_at = excluded.added_at",
                params![template.id, template.version, template.name, definition, now()],
            )?;
            Ok(())
        })?;
        Ok(info)
    }

    /// The templates of the local library, by id.
    pub fn survey_templates(&self) -> Result<Vec<SurveyTemplateInfo>> {
        self.read(|connection| {
            let mut statement =
                connection.prepare("SELECT definition FROM survey_templates ORDER BY template_id")?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            let mut templates = Vec::new();
            for definition in rows {
                let template = SurveyTemplate::parse(definition?.as_bytes())?;
                templates.push(SurveyTemplateInfo::of(&template));
            }
            Ok(templates)
        })
    }

    /// A task's survey: its template, the draft and its evaluation. [`Error::NoSurvey`] when the task has
    /// none, [`Error::UnknownSurveyTemplate`] when its template is not in the library yet.
    pub fn task_survey(&self, id: &ProjectId, task: &str) -> Result<TaskSurvey> {
        self.read(|connection| {
            let context = SurveyContext::read(connection, id, task)?;
            let draft = read_draft(connection, context.project_id, task)?;
            let photos = usable_photos(connection, context.project_id)?;
            let (answers, from_previous) = merge_previous(&context.template, draft);
            let evaluation = evaluate(&context.template, &answers, &photos);
            Ok(TaskSurvey {
                project: id.to_string(),
                task: task.to_owned(),
                source: context.source,
                template_info: SurveyTemplateInfo::of(&context.template),
                template: context.template,
                answers,
                from_previous,
                evaluation,
                submissions: submissions(connection, Some((context.project_id, task)))?,
            })
        })
    }

    /// Saves one answer of a task's survey durably, as the crew types it, with no network. Refused
    /// (nothing written) for an unknown question or an answer that does not fit it (type, options,
    /// range, a photo of another project or not taken). Returns the answer as saved (choices spelled as
    /// in the template).
    pub fn save_survey_answer(
        &self,
        id: &ProjectId,
        task: &str,
        question_id: &str,
        answer: &AnswerValue,
    ) -> Result<AnswerValue> {
        self.write_durable(|tx| {
            let context = SurveyContext::read(tx, id, task)?;
            let question = context
                .template
                .question(question_id)
                .ok_or_else(|| Error::UnknownQuestion {
                    template: context.template.id.clone(),
                    question: question_id.to_owned(),
                })?;
            let photos = usable_photos(tx, context.project_id)?;
            let answer = &spelled_as_in_template(question, answer);
            check_answer(question, answer, &photos).map_err(Error::InvalidAnswer)?;
            let at = now();
            tx.prepare_cached(
                "INSERT INTO survey_drafts (project_id, task_name, question_id, answer, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (project_id, task_name, question_id)
                 DO UPDATE SET answer = excluded.answer, updated_at = excluded.updated_at",
            )?
            .execute(params![
                context.project_id,
                task,
                question_id,
                serde_json::to_string(answer).expect("plain data serialises"),
                at
            ])?;
            super::options::mark_work_started(tx, context.project_id, at)?;
            Ok(answer.clone())
        })
    }

    /// Removes one answer from a task's draft (a previous rework answer then shows again).
    pub fn clear_survey_answer(&self, id: &ProjectId, task: &str, question_id: &str) -> Result<()> {
        self.write_durable(|tx| {
            let context = SurveyContext::read(tx, id, task)?;
            if context.template.question(question_id).is_none() {
                return Err(Error::UnknownQuestion {
                    template: context.template.id.clone(),
                    question: question_id.to_owned(),
                });
            }
            tx.execute(
                "DELETE FROM survey_drafts WHERE project_id = ?1 AND task_name = ?2 AND question_id = ?3",
                params![context.project_id, task, question_id],
            )?;
            Ok(())
        })
    }

    /// Submits a task's survey: validates it whole ([`Error::SurveyIncomplete`] lists what is missing or
    /// invalid), then records one survey item (a new UUID) with its outbox entry in one durable
    /// transaction. The item passes the QA gate like a photo (`auto_relay`, or approve/reject) and waits
    /// for the photos its answers reference. The draft stays, so a bid can be submitted again.
    pub fn submit_survey(&self, id: &ProjectId, task: &str) -> Result<SurveySubmission> {
        self.write_durable(|tx| {
            let context = SurveyContext::read(tx, id, task)?;
            let project = &context.project;
            if project.closed {
                return Err(Error::ProjectClosed(id.to_string()));
            }
            let draft = read_draft(tx, context.project_id, task)?;
            let photos = usable_photos(tx, context.project_id)?;
            let (answers, _) = merge_previous(&context.template, draft);
            let evaluation = evaluate(&context.template, &answers, &photos);
            if !evaluation.ready {
                return Err(Error::SurveyIncomplete {
                    project: id.to_string(),
                    task: task.to_owned(),
                    missing: evaluation.missing.clone(),
                    invalid: evaluation
                        .invalid
                        .iter()
                        .map(|(question, problem)| (question.clone(), problem.to_string()))
                        .collect(),
                });
            }
            let (wire, photo_ids) = wire_answers(&context.template, &answers);
            let options = super::options::task_options(tx, context.integration_id, project, Some(task))?;
            let (survey_state, entry_state) = if options.auto_relay {
                (STATE_QUEUED, EntryState::Queued)
            } else {
                (STATE_PENDING_QA, EntryState::Held)
            };
            let uuid = queue::new_entry_id();
            let at = now();
            let integration = integrations::find(tx, &id.integration)?;
            let survey = json!({"surveyId": context.template.id, "answers": wire});
            let item = json!({
                "uuId": uuid,
                "fileType": "survey",
                "key2": project.work_order_number,
                "key4": task,
                "evidenceType": "Survey",
                "template": format!("{}::{}", integration.code, context.template.id),
                "fileName": "survey.json",
                "fileExt": "json",
                "timestamp": format_timestamp(at),
                "creationDate": format_timestamp(at),
                "clientCode": integration.code,
                "survey": survey,
            });
            let payload = with_attributes(item, &project.attributes);
            tx.execute(
                "INSERT INTO surveys (id, integration_id, project_id, work_order_number, task_name, template_id,
                     answers, photo_ids, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    uuid,
                    context.integration_id,
                    context.project_id,
                    project.work_order_number,
                    task,
                    context.template.id,
                    serde_json::to_string(&payload["survey"]["answers"]).expect("plain data serialises"),
                    serde_json::to_string(&photo_ids).expect("plain data serialises"),
                    survey_state,
                    at
                ],
            )?;
            queue::enqueue(
                tx,
                &NewEntry {
                    id: &uuid,
                    integration_id: context.integration_id,
                    project_id: Some(context.project_id),
                    kind: EntryKind::Survey,
                    state: entry_state,
                    payload: &payload,
                },
                at,
            )?;
            super::options::mark_work_started(tx, context.project_id, at)?;
            find(tx, &uuid)
        })
    }

    /// QA approves a submitted survey: it is queued for relay. A relayed one is sent again under the same
    /// UUID (the provider keeps one); a rejected one stays rejected.
    pub fn approve_survey(&self, uuid: &str) -> Result<SurveySubmission> {
        self.write_durable(|tx| {
            let survey = find(tx, uuid)?;
            if survey.state == STATE_REJECTED {
                return Err(Error::InvalidInput(InvalidInput::new(
                    "survey",
                    format!("survey {uuid} was rejected; submit the survey again instead"),
                )));
            }
            approve(tx, uuid, now())?;
            find(tx, uuid)
        })
    }

    /// QA rejects a submitted survey with a reason: it is never relayed. Refused once relayed.
    pub fn reject_survey(&self, uuid: &str, reason: &str) -> Result<SurveySubmission> {
        if reason.trim().is_empty() {
            return Err(InvalidInput::new("reason", "a rejection needs a reason").into());
        }
        self.write_durable(|tx| {
            let survey = find(tx, uuid)?;
            if survey.state == "relayed" {
                return Err(Error::InvalidInput(InvalidInput::new(
                    "survey",
                    format!("survey {uuid} was relayed already; the provider has it"),
                )));
            }
            queue::withdraw_reviewed(tx, uuid)?;
            tx.execute(
                "UPDATE surveys SET state = ?2, state_message = ?3 WHERE id = ?1",
                params![uuid, STATE_REJECTED, reason.trim()],
            )?;
            find(tx, uuid)
        })
    }

    /// Submitted surveys of a project (all projects: `None`), oldest first.
    pub fn survey_submissions(&self, project: Option<&ProjectId>) -> Result<Vec<SurveySubmission>> {
        self.read(|connection| match project {
            Some(id) => {
                let (_, project_id) = projects::locate(connection, id)?;
                submissions_of_project(connection, project_id)
            }
            None => submissions(connection, None),
        })
    }

    /// One submitted survey.
    pub fn survey_submission(&self, uuid: &str) -> Result<SurveySubmission> {
        self.read(|connection| find(connection, uuid))
    }

    /// The survey item's payload and file as they are sent (the courier's view).
    pub(crate) fn survey_upload(&self, uuid: &str) -> Result<(serde_json::Value, Vec<u8>)> {
        self.read(|connection| {
            let payload: String = connection
                .query_row("SELECT payload FROM outbox WHERE id = ?1", [uuid], |row| {
                    row.get(0)
                })
                .optional()?
                .ok_or_else(|| Error::UnknownSurvey(uuid.to_owned()))?;
            let payload: serde_json::Value =
                serde_json::from_str(&payload).map_err(|err| Error::InvalidResponse(err.to_string()))?;
            let file = serde_json::to_vec(&payload["survey"]).expect("plain data serialises");
            Ok((payload, file))
        })
    }
}

/// What every survey operation needs: the project, its row ids, and the task's parsed template.
struct SurveyContext {
    integration_id: i64,
    project_id: i64,
    project: Project,
    template: SurveyTemplate,
    source: TemplateSource,
}

impl SurveyContext {
    fn read(connection: &Connection, id: &ProjectId, task: &str) -> Result<Self> {
        let (integration_id, project_id) = projects::locate(connection, id)?;
        let project = projects::load(connection, &id.integration, project_id)?;
        let (survey_id, inline): (Option<String>, Option<String>) = connection
            .prepare_cached("SELECT survey_id, survey_inline FROM tasks WHERE project_id = ?1 AND name = ?2")?
            .query_row(params![project_id, task], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .ok_or_else(|| Error::UnknownTask {
                project: id.to_string(),
                task: task.to_owned(),
            })?;
        let (template, source) = match (inline, survey_id) {
            // What the order carries inline is what the provider wants for this order.
            (Some(inline), _) => (SurveyTemplate::parse(inline.as_bytes())?, TemplateSource::Inline),
            (None, Some(template_id)) => {
                let definition: Option<String> = connection
                    .prepare_cached("SELECT definition FROM survey_templates WHERE template_id = ?1")?
                    .query_row([&template_id], |row| row.get(0))
                    .optional()?;
                let definition = definition.ok_or_else(|| Error::UnknownSurveyTemplate {
                    project: id.to_string(),
                    task: task.to_owned(),
                    template: template_id.clone(),
                })?;
                (
                    SurveyTemplate::parse(definition.as_bytes())?,
                    TemplateSource::Library,
                )
            }
            (None, None) => {
                return Err(Error::NoSurvey {
                    project: id.to_string(),
                    task: task.to_owned(),
                });
            }
        };
        Ok(Self {
            integration_id,
            project_id,
            project,
            template,
            source,
        })
    }
}

fn read_draft(connection: &Connection, project_id: i64, task: &str) -> Result<BTreeMap<String, AnswerValue>> {
    let mut statement = connection.prepare_cached(
        "SELECT question_id, answer FROM survey_drafts WHERE project_id = ?1 AND task_name = ?2",
    )?;
    let rows = statement.query_map(params![project_id, task], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut draft = BTreeMap::new();
    for row in rows {
        let (question, answer) = row?;
        // A stored answer is always our own JSON; one that no longer parses is dropped, not fatal.
        if let Ok(answer) = serde_json::from_str(&answer) {
            draft.insert(question, answer);
        }
    }
    Ok(draft)
}

/// A choice typed in another case is the template's option (a host's picker always sends the exact
/// spelling; a person typing does not).
fn spelled_as_in_template(question: &crate::survey::Question, answer: &AnswerValue) -> AnswerValue {
    let spell = |value: &String| {
        question
            .options
            .iter()
            .find(|option| option.to_lowercase() == value.trim().to_lowercase())
            .cloned()
            .unwrap_or_else(|| value.clone())
    };
    match answer {
        AnswerValue::SingleChoice(value) => AnswerValue::SingleChoice(spell(value)),
        AnswerValue::MultipleChoice(values) => {
            AnswerValue::MultipleChoice(values.iter().map(spell).collect())
        }
        other => other.clone(),
    }
}

/// The draft over the template's previous answers (rework); returns which answers come from the latter.
fn merge_previous(
    template: &SurveyTemplate,
    draft: BTreeMap<String, AnswerValue>,
) -> (BTreeMap<String, AnswerValue>, Vec<String>) {
    let mut answers = previous_answers(template);
    let from_previous = answers
        .keys()
        .filter(|question| !draft.contains_key(*question))
        .cloned()
        .collect();
    answers.extend(draft);
    (answers, from_previous)
}

/// The project's photos an answer may reference: taken for this project and not rejected by QA.
fn usable_photos(connection: &Connection, project_id: i64) -> Result<PhotoFacts> {
    let mut statement =
        connection.prepare_cached("SELECT id FROM photos WHERE project_id = ?1 AND state != ?2")?;
    let rows = statement.query_map(params![project_id, PhotoState::Rejected.as_str()], |row| {
        row.get(0)
    })?;
    Ok(PhotoFacts::new(rows.collect::<rusqlite::Result<Vec<String>>>()?))
}

const SUBMISSION_COLUMNS: &str =
    "s.id, i.code || '::' || s.work_order_number, s.task_name, s.template_id, s.state,
     s.state_message, s.photo_ids, s.answers, s.created_at";

fn submission(row: &rusqlite::Row) -> rusqlite::Result<SurveySubmission> {
    let photo_ids: String = row.get(6)?;
    let answers: String = row.get(7)?;
    let created_at: Timestamp = row.get(8)?;
    Ok(SurveySubmission {
        uuid: row.get(0)?,
        project: row.get(1)?,
        task: row.get(2)?,
        template: row.get(3)?,
        state: row.get(4)?,
        state_message: row.get(5)?,
        photo_ids: serde_json::from_str(&photo_ids).unwrap_or_default(),
        answers: serde_json::from_str::<Vec<serde_json::Value>>(&answers).map_or(0, |list| list.len()),
        submitted_at: format_timestamp(created_at),
    })
}

fn find(connection: &Connection, uuid: &str) -> Result<SurveySubmission> {
    connection
        .prepare_cached(&format!(
            "SELECT {SUBMISSION_COLUMNS} FROM surveys s JOIN integrations i ON i.id = s.integration_id WHERE s.id = ?1"
        ))?
        .query_row([uuid], submission)
        .optional()?
        .ok_or_else(|| Error::UnknownSurvey(uuid.to_owned()))
}

fn submissions(connection: &Connection, task: Option<(i64, &str)>) -> Result<Vec<SurveySubmission>> {
    let (project_id, task) = task.unzip();
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM surveys s JOIN integrations i ON i.id = s.integration_id
         WHERE (?1 IS NULL OR s.project_id = ?1) AND (?2 IS NULL OR s.task_name = ?2)
         ORDER BY s.created_at, s.rowid"
    ))?;
    let rows = statement.query_map(params![project_id, task], submission)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn submissions_of_project(connection: &Connection, project_id: i64) -> Result<Vec<SurveySubmission>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM surveys s JOIN integrations i ON i.id = s.integration_id
         WHERE s.project_id = ?1 ORDER BY s.created_at, s.rowid"
    ))?;
    let rows = statement.query_map([project_id], submission)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Lets a survey's entry go (QA approved it).
fn approve(tx: &Connection, uuid: &str, at: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE surveys SET state = ?2, approved_at = ?3 WHERE id = ?1 AND state != 'relayed'",
        params![uuid, STATE_QUEUED, at],
    )?;
    queue::release_reviewed(tx, uuid, at)
}

/// Approves every survey of a project that waits for QA; returns how many.
pub(crate) fn approve_pending(tx: &Connection, project_id: i64, at: Timestamp) -> Result<u64> {
    let waiting: Vec<String> = {
        let mut statement =
            tx.prepare_cached("SELECT id FROM surveys WHERE project_id = ?1 AND state = ?2")?;
        let rows = statement.query_map(params![project_id, STATE_PENDING_QA], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for uuid in &waiting {
        approve(tx, uuid, at)?;
    }
    Ok(waiting.len() as u64)
}

/// Submitted surveys per task that were not rejected.
pub(crate) fn submitted_counts(connection: &Connection, project_id: i64) -> Result<BTreeMap<String, u32>> {
    let mut statement = connection.prepare_cached(
        "SELECT task_name, count(*) FROM surveys WHERE project_id = ?1 AND state != ?2 GROUP BY task_name",
    )?;
    let rows = statement.query_map(params![project_id, STATE_REJECTED], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The project's tasks that have a survey (inline or by id).
pub(crate) fn tasks_with_survey(connection: &Connection, project_id: i64) -> Result<BTreeSet<String>> {
    let mut statement = connection.prepare_cached(
        "SELECT name FROM tasks WHERE project_id = ?1 AND (survey_id IS NOT NULL OR survey_inline IS NOT NULL)",
    )?;
    let rows = statement.query_map([project_id], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
