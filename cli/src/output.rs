//! Printing: tables for people, JSON for scripts.

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use fieldsync_core::evidence::{Outcome, TamperedPart, Verification};
use fieldsync_core::model::CategoryCounts;
use fieldsync_core::model::{ImportKind, ImportReport, Integration, Project, WorkType, format_timestamp};
use fieldsync_core::requirements::{Unmet, UnmetRequirement};
use fieldsync_core::store::{
    Completion, OutboxSummary, Photo, ProjectSummary, SurveySubmission, SurveyTemplateInfo, TaskSurvey,
};
use fieldsync_core::store::{FileUsage, Maintenance, RetentionReport, StorageReport};
use fieldsync_core::survey::AnswerValue;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;

/// Prints results as tables, or as JSON with `--json`.
pub struct Printer {
    pub json: bool,
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

/// `text` made safe for a terminal: control characters (NUL, ESC of an ANSI sequence, carriage return,
/// backspace...) and the Unicode bidirectional overrides are shown escaped (`\u{1b}`), so a provider or an
/// argument cannot move the cursor, recolour, hide or reorder what the person reads. Line feeds stay: a
/// multi-line instruction is displayed as such. Applied to everything the human output prints that does
/// not come from this program; `--json` output is escaped by JSON itself.
pub fn terminal_safe(text: &str) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_owned();
    }
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if unsafe_char(c) {
                c.escape_unicode().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Every cell of a table row through [`terminal_safe`].
fn safe_row(cells: Vec<String>) -> Vec<String> {
    cells.iter().map(|cell| terminal_safe(cell)).collect()
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

impl Printer {
    pub fn value(&self, value: &impl Serialize) -> Result<()> {
        self.json(value)
    }

    fn json(&self, value: &impl Serialize) -> Result<()> {
        println!("{}", serde_json::to_string_pretty(value)?);
        Ok(())
    }

    /// The storage report.
    pub fn storage(&self, report: &StorageReport) -> Result<()> {
        if self.json {
            return self.json(report);
        }
        println!(
            "database {}  WAL {}  shared memory {}  free inside {} (auto-vacuum {})",
            bytes(report.database_bytes),
            bytes(report.wal_bytes),
            bytes(report.shm_bytes),
            bytes(report.free_bytes),
            report.auto_vacuum
        );
        let mut table = new_table(&["State", "Photos", "Originals", "Renditions", "Thumbnails"]);
        let usage = |usage: &FileUsage| format!("{} ({})", usage.files, bytes(usage.bytes));
        for state in &report.by_state {
            table.add_row(vec![
                state.state.as_str().to_owned(),
                state.photos.to_string(),
                usage(&state.originals),
                usage(&state.renditions),
                usage(&state.thumbnails),
            ]);
        }
        table.add_row(vec![
            "on disk".to_owned(),
            String::new(),
            usage(&report.originals),
            usage(&report.renditions),
            usage(&report.thumbnails),
        ]);
        println!("{table}");
        println!(
            "photo files {}; deleted by retention: {} originals, {} renditions",
            bytes(report.photo_bytes),
            report.originals_evicted,
            report.renditions_evicted
        );
        Ok(())
    }

    /// What `storage clean` did, and the report after.
    pub fn storage_clean(
        &self,
        retention: &RetentionReport,
        maintenance: &Maintenance,
        report: &StorageReport,
    ) -> Result<()> {
        if self.json {
            return self.json(&json!({
                "retention": retention,
                "maintenance": maintenance,
                "storage": report,
            }));
        }
        println!(
            "deleted {} renditions and {} originals, {} freed{}",
            retention.renditions_deleted,
            retention.originals_deleted,
            bytes(retention.bytes_freed),
            if retention.cap_met {
                ""
            } else {
                " (photos not yet relayed or decided alone weigh more than the cap)"
            }
        );
        match &maintenance.skipped {
            Some(why) => println!("database upkeep skipped: {why}"),
            None => println!(
                "database optimised; {} free pages given back{}",
                maintenance.pages_freed,
                if maintenance.converted {
                    " (now vacuumed incrementally)"
                } else {
                    ""
                }
            ),
        }
        self.storage(report)
    }

    pub fn message(&self, message: &str) -> Result<()> {
        if self.json {
            return self.json(&serde_json::json!({ "message": message }));
        }
        println!("{}", terminal_safe(message));
        Ok(())
    }

    pub fn integrations(&self, integrations: &[Integration]) -> Result<()> {
        if self.json {
            return self.json(&integrations);
        }
        let mut table = new_table(&[
            "Integration Name",
            "Integration Code",
            "Publish To",
            "Integration Type",
            "Last Refreshed",
            "Last Error",
            "Status",
        ]);
        for integration in integrations {
            table.add_row(safe_row(vec![
                text(&integration.name),
                integration.code.clone(),
                integration.publish_to.join(", "),
                format!("Pruvan Share ({})", integration.mode.as_str()),
                integration
                    .last_refreshed
                    .map(format_timestamp)
                    .unwrap_or_else(|| "never".into()),
                text(&integration.last_error),
                integration.status.as_str().to_owned(),
            ]));
        }
        println!("{table}");
        Ok(())
    }

    pub fn integration(&self, integration: &Integration) -> Result<()> {
        if self.json {
            return self.json(integration);
        }
        let mut table = new_table(&["Setting", "Value"]);
        let rows: Vec<(&str, String)> = vec![
            ("Code", integration.code.clone()),
            ("Name", text(&integration.name)),
            (
                "Type",
                format!("{} ({})", integration.kind.as_str(), integration.mode.as_str()),
            ),
            ("Base URL", integration.base_url.clone()),
            ("Username", integration.username.clone()),
            ("Status", integration.status.as_str().to_owned()),
            (
                "Last refreshed",
                integration
                    .last_refreshed
                    .map(format_timestamp)
                    .unwrap_or_else(|| "never".into()),
            ),
            ("Last error", text(&integration.last_error)),
            ("Publish to", integration.publish_to.join(", ")),
            ("Auto Admin", on_off(integration.auto_admin).into()),
            ("Default Work Type", text(&integration.default_work_type)),
            ("Default Assign To", integration.default_assign_to.to_stored()),
            ("Auto relay", on_off(integration.auto_relay).into()),
            ("Auto import", on_off(integration.auto_import).into()),
        ];
        for (name, value) in rows {
            table.add_row(safe_row(vec![name.to_owned(), value]));
        }
        println!("{table}");
        Ok(())
    }

    pub fn work_types(&self, work_types: &[WorkType]) -> Result<()> {
        if self.json {
            return self.json(&work_types);
        }
        let mut table = new_table(&["Name", "Reference", "Description", "Tasks"]);
        for work_type in work_types {
            let tasks: Vec<&str> = work_type.tasks.iter().map(|task| task.name.as_str()).collect();
            table.add_row(safe_row(vec![
                work_type.name.clone(),
                text(&work_type.reference),
                text(&work_type.description),
                tasks.join(", "),
            ]));
        }
        println!("{table}");
        Ok(())
    }

    pub fn report(&self, code: &str, kind: ImportKind, report: &ImportReport) -> Result<()> {
        if self.json {
            return self.json(report);
        }
        let what = match kind {
            ImportKind::Refresh => "Refresh",
            ImportKind::FullImport => "Full Import",
        };
        let code = terminal_safe(code);
        println!(
            "{what} of {code}: {} created, {} updated, {} unchanged, {} cancelled, {} deleted, {} removed, {} kept, {} rejected",
            report.created,
            report.updated,
            report.unchanged,
            report.cancelled,
            report.deleted,
            report.removed,
            report.kept,
            report.rejected.len()
        );
        for kept in &report.kept_projects {
            println!(
                "  kept {}: it holds field work not yet delivered",
                terminal_safe(&kept.to_string())
            );
        }
        for rejection in &report.rejected {
            let number = if rejection.work_order_number.is_empty() {
                "(no number)"
            } else {
                &rejection.work_order_number
            };
            println!(
                "  rejected {}: {}",
                terminal_safe(number),
                terminal_safe(&rejection.reason)
            );
        }
        Ok(())
    }

    pub fn outbox(&self, entries: &[OutboxSummary]) -> Result<()> {
        if self.json {
            return self.json(&entries);
        }
        let mut table = new_table(&[
            "UUID",
            "Project",
            "Kind",
            "State",
            "Reason",
            "Attempts",
            "Recorded",
            "Last Error",
        ]);
        for entry in entries {
            table.add_row(safe_row(vec![
                entry.id.clone(),
                entry.project.clone().unwrap_or_default(),
                entry.kind.to_string(),
                entry.state.to_string(),
                match &entry.waits_for {
                    Some(reason) => reason.to_string(),
                    None => "delivered".to_owned(),
                },
                entry.attempts.to_string(),
                format_timestamp(entry.created_at),
                text(&entry.last_error),
            ]));
        }
        println!("{table}");
        println!(
            "{} entr{}",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" }
        );
        Ok(())
    }

    pub fn photos(&self, photos: &[Photo]) -> Result<()> {
        if self.json {
            return self.json(&photos);
        }
        let mut table = new_table(&[
            "UUID",
            "Project",
            "Task",
            "Evidence",
            "State",
            "Size",
            "Certified",
            "Flags",
            "Note",
        ]);
        for photo in photos {
            table.add_row(safe_row(vec![
                photo.uuid.clone(),
                photo.project.clone(),
                photo.task.clone(),
                photo.evidence.as_str().to_owned(),
                photo.state.as_str().to_owned(),
                photo
                    .width
                    .zip(photo.height)
                    .map(|(w, h)| format!("{w}x{h}"))
                    .unwrap_or_default(),
                certified(photo),
                flags(photo),
                text(&photo.message),
            ]));
        }
        println!("{table}");
        println!("{} photo(s)", photos.len());
        Ok(())
    }

    /// A verification: the verdict, the signer, and the assertions as a table.
    pub fn verification(&self, file: &std::path::Path, verification: &Verification) -> Result<()> {
        if self.json {
            return self.json(verification);
        }
        let verdict = match &verification.outcome {
            Outcome::Valid { trusted: true } => {
                "valid: signed by a trusted certificate, nothing changed".to_owned()
            }
            Outcome::Valid { trusted: false } => {
                "valid: nothing changed since signing (trust not checked: give --trust CA.pem)".to_owned()
            }
            Outcome::Tampered { part } => match part {
                TamperedPart::Image => {
                    "TAMPERED: the image bytes do not match the signed hash (an image byte changed, or the \
                     manifest was moved from another photo)"
                        .to_owned()
                }
                TamperedPart::Assertion { label } => format!("TAMPERED: the assertion {label} was changed"),
                TamperedPart::Signature => "TAMPERED: the claim's signature does not verify".to_owned(),
                TamperedPart::Manifest => "TAMPERED: the manifest is damaged".to_owned(),
            },
            Outcome::Unsigned => "UNSIGNED: the photo has no content credentials".to_owned(),
            Outcome::Untrusted => {
                "UNTRUSTED: intact, but signed by a certificate that does not lead to the trust anchor"
                    .to_owned()
            }
            Outcome::NotSupported { reason } => format!("NOT SUPPORTED: {reason}"),
        };
        println!("{}: {}", terminal_safe(&file.display().to_string()), verdict);
        if let Some(signer) = &verification.signer {
            println!(
                "signer: {} (issuer {})",
                terminal_safe(signer),
                terminal_safe(verification.issuer.as_deref().unwrap_or("?"))
            );
        }
        if !verification.failures.is_empty() {
            println!("failures: {}", terminal_safe(&verification.failures.join(", ")));
        }
        if !verification.assertions.is_empty() {
            let mut table = new_table(&["Assertion", "Field", "Value"]);
            for row in &verification.assertions {
                table.add_row(safe_row(vec![
                    row.label.clone(),
                    row.field.clone(),
                    row.value.clone(),
                ]));
            }
            println!("{table}");
        }
        Ok(())
    }

    pub fn photo(&self, photo: &Photo) -> Result<()> {
        if self.json {
            return self.json(photo);
        }
        if photo.duplicate {
            println!(
                "these bytes were already added to {}: nothing new was stored",
                terminal_safe(&photo.project)
            );
        }
        self.photos(std::slice::from_ref(photo))
    }

    pub fn projects(&self, projects: &[ProjectSummary]) -> Result<()> {
        if self.json {
            return self.json(&projects);
        }
        let mut table = new_table(&[
            "Project",
            "Address",
            "Due",
            "Status",
            "Client Status",
            "Assigned To",
            "Field Status",
            "Category",
        ]);
        for project in projects {
            let address = [&project.address1, &project.city, &project.state]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let mut status = text(&project.status);
            if project.closed {
                status = format!("{status} (closed)").trim().to_owned();
            }
            table.add_row(safe_row(vec![
                project.id.to_string(),
                address,
                project
                    .due_date
                    .clone()
                    .or_else(|| project.client_due_date.clone())
                    .unwrap_or_default(),
                status,
                text(&project.client_status),
                text(&project.assigned_to),
                if project.local {
                    format!("{} (local)", project.field_status)
                } else {
                    project.field_status.to_string()
                },
                project.category.to_string(),
            ]));
        }
        println!("{table}");
        println!("{} project(s)", projects.len());
        Ok(())
    }

    pub fn project(&self, project: &Project) -> Result<()> {
        if self.json {
            return self.json(project);
        }
        let mut table = new_table(&["Field", "Value"]);
        let location = match (project.latitude, project.longitude) {
            (Some(lat), Some(lon)) => format!("{lat:.6}, {lon:.6}"),
            _ => String::new(),
        };
        let rows: Vec<(&str, String)> = vec![
            ("Project", project.id.to_string()),
            ("Info", text(&project.work_order_info)),
            (
                "Address",
                [&project.address1, &project.address2]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "City / State / ZIP",
                format!(
                    "{} {} {}",
                    text(&project.city),
                    text(&project.state),
                    text(&project.zip)
                )
                .trim()
                .to_owned(),
            ),
            ("Location", location),
            ("Assigned to", text(&project.assigned_to)),
            ("Status", text(&project.status)),
            ("Due date", text(&project.due_date)),
            ("Instructions", text(&project.instructions)),
            ("Client status", text(&project.client_status)),
            ("Client due date", text(&project.client_due_date)),
            ("Client instructions", text(&project.client_instructions)),
            ("Description", text(&project.description)),
            ("Reference", text(&project.reference)),
            ("Options", serde_json::to_string(&project.options)?),
            ("Closed", if project.closed { "yes".into() } else { "no".into() }),
        ];
        for (name, value) in rows {
            table.add_row(safe_row(vec![name.to_owned(), value]));
        }
        if project.removal_pending {
            table.add_row(safe_row(vec![
                "Note".to_owned(),
                "no longer assigned; kept until its field work is delivered".into(),
            ]));
        }
        println!("{table}");
        let mut tasks = new_table(&["Task", "Instructions"]);
        for task in &project.tasks {
            tasks.add_row(safe_row(vec![task.name.clone(), text(&task.instructions)]));
        }
        println!("{tasks}");
        Ok(())
    }
}

impl Printer {
    /// JSON `value` with `--json`, else the message.
    pub fn value_or_message(&self, value: &impl Serialize, message: &str) -> Result<()> {
        if self.json {
            return self.json(value);
        }
        println!("{}", terminal_safe(message));
        Ok(())
    }

    /// What a refused command prints on stdout before it exits non-zero: the JSON document with
    /// `--json`, else the headline and the details `table` prints.
    pub fn refusal(&self, headline: &str, value: &serde_json::Value, table: impl FnOnce()) -> Result<()> {
        if self.json {
            return self.json(value);
        }
        println!("{}:", terminal_safe(headline));
        table();
        Ok(())
    }

    /// Unmet requirements as a table (task, requirement, have, need).
    pub fn unmet_table(&self, unmet: &[Unmet]) {
        let mut table = new_table(&["Task", "Requirement", "Have", "Need"]);
        for item in unmet {
            table.add_row(safe_row(vec![
                item.task.clone().unwrap_or_else(|| "(project)".into()),
                requirement_text(item),
                item.have.to_string(),
                item.need.to_string(),
            ]));
        }
        println!("{table}");
    }

    pub fn requirements(&self, project: &str, unmet: &[Unmet]) -> Result<()> {
        if self.json {
            return self.json(&json!({ "project": project, "ready": unmet.is_empty(), "unmet": unmet }));
        }
        if unmet.is_empty() {
            println!(
                "{}: every requirement is met; it can be completed",
                terminal_safe(project)
            );
            return Ok(());
        }
        println!("{}: {} requirement(s) unmet", terminal_safe(project), unmet.len());
        self.unmet_table(unmet);
        Ok(())
    }

    pub fn completion(&self, completion: &Completion) -> Result<()> {
        if self.json {
            return self.json(completion);
        }
        println!(
            "completed {}: status {} queued for the provider ({})",
            terminal_safe(&completion.project),
            terminal_safe(&completion.status),
            completion.status_item
        );
        if let Some(reason) = &completion.forced_reason {
            println!("forced: {}", terminal_safe(reason));
            if !completion.overridden.is_empty() {
                println!("overridden requirements:");
                self.unmet_table(&completion.overridden);
            }
        }
        if completion.approved_photos + completion.approved_surveys > 0 {
            println!(
                "published: {} photo(s) and {} survey(s) approved",
                completion.approved_photos, completion.approved_surveys
            );
        }
        Ok(())
    }

    pub fn category_counts(&self, counts: &CategoryCounts) -> Result<()> {
        if self.json {
            return self.json(counts);
        }
        let mut table = new_table(&["Category", "Projects"]);
        for category in fieldsync_core::model::Category::ALL {
            table.add_row(vec![category.to_string(), counts.get(category).to_string()]);
        }
        println!("{table}");
        Ok(())
    }

    pub fn survey_template(&self, info: &SurveyTemplateInfo) -> Result<()> {
        if self.json {
            return self.json(info);
        }
        self.survey_templates(std::slice::from_ref(info))
    }

    pub fn survey_templates(&self, templates: &[SurveyTemplateInfo]) -> Result<()> {
        if self.json {
            return self.json(&templates);
        }
        let mut table = new_table(&["Template", "Version", "Name", "Questions"]);
        for template in templates {
            table.add_row(safe_row(vec![
                template.id.clone(),
                text(&template.version),
                text(&template.name),
                template.questions.to_string(),
            ]));
        }
        println!("{table}");
        println!("{} template(s)", templates.len());
        Ok(())
    }

    pub fn task_survey(&self, survey: &TaskSurvey) -> Result<()> {
        let states = &survey.evaluation.questions;
        if self.json {
            let questions: Vec<serde_json::Value> = survey
                .template
                .questions
                .iter()
                .zip(states)
                .map(|(question, state)| {
                    json!({
                        "id": question.id,
                        "section": question.section,
                        "text": question.text,
                        "type": question.answer_type.wire_name(),
                        "options": question.options,
                        "hint": question.hint,
                        "visible": state.visible,
                        "required": state.required,
                        "answered": state.answered,
                        "answer": survey.answers.get(&question.id),
                        "from_previous": survey.from_previous.contains(&question.id),
                        "problem": state.problem.as_ref().map(ToString::to_string),
                        "min_photos": state.min_photos,
                    })
                })
                .collect();
            let invalid: Vec<serde_json::Value> = survey
                .evaluation
                .invalid
                .iter()
                .map(|(question, problem)| json!({ "question": question, "problem": problem.to_string() }))
                .collect();
            return self.json(&json!({
                "project": survey.project,
                "task": survey.task,
                "source": survey.source,
                "template": survey.template_info,
                "questions": questions,
                "missing": survey.evaluation.missing,
                "invalid": invalid,
                "unknown": survey.evaluation.unknown,
                "ready": survey.evaluation.ready,
                "submissions": survey.submissions,
            }));
        }
        println!(
            "{} task `{}`: survey {} v{} ({}, {})",
            terminal_safe(&survey.project),
            terminal_safe(&survey.task),
            terminal_safe(&survey.template_info.id),
            terminal_safe(&text(&survey.template_info.version)),
            terminal_safe(&text(&survey.template_info.name)),
            match survey.source {
                fieldsync_core::store::TemplateSource::Inline => "inline in the order",
                fieldsync_core::store::TemplateSource::Library => "from the template library",
            }
        );
        let mut table = new_table(&[
            "#", "Section", "Question", "Type", "Shown", "Required", "Answer", "Problem",
        ]);
        for (number, (question, state)) in survey.template.questions.iter().zip(states).enumerate() {
            let mut kind = question.answer_type.wire_name().to_owned();
            if state.min_photos > 0 {
                kind = format!("{kind} (min {})", state.min_photos);
            }
            let answer = match survey.answers.get(&question.id) {
                Some(answer) if survey.from_previous.contains(&question.id) => {
                    format!("{} (previous)", answer_text(answer))
                }
                Some(answer) => answer_text(answer),
                None => String::new(),
            };
            table.add_row(safe_row(vec![
                (number + 1).to_string(),
                text(&question.section),
                format!("{}: {}", question.id, question.text),
                kind,
                if state.visible { "yes" } else { "hidden" }.into(),
                if state.required { "yes" } else { "" }.into(),
                answer,
                state
                    .problem
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ]));
        }
        println!("{table}");
        let evaluation = &survey.evaluation;
        if evaluation.ready {
            println!("ready to submit");
        } else {
            println!(
                "not ready: {} missing{}, {} invalid",
                evaluation.missing.len(),
                if evaluation.missing.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", terminal_safe(&evaluation.missing.join(", ")))
                },
                evaluation.invalid.len()
            );
            for (question, problem) in &evaluation.invalid {
                println!(
                    "  invalid {}: {}",
                    terminal_safe(question),
                    terminal_safe(&problem.to_string())
                );
            }
        }
        if !survey.submissions.is_empty() {
            self.survey_submissions(&survey.submissions)?;
        }
        Ok(())
    }

    pub fn survey_submission(&self, submission: &SurveySubmission) -> Result<()> {
        if self.json {
            return self.json(submission);
        }
        self.survey_submissions(std::slice::from_ref(submission))
    }

    pub fn survey_submissions(&self, submissions: &[SurveySubmission]) -> Result<()> {
        if self.json {
            return self.json(&submissions);
        }
        let mut table = new_table(&[
            "UUID",
            "Project",
            "Task",
            "Template",
            "State",
            "Answers",
            "Photos",
            "Submitted",
            "Note",
        ]);
        for submission in submissions {
            table.add_row(safe_row(vec![
                submission.uuid.clone(),
                submission.project.clone(),
                submission.task.clone(),
                submission.template.clone(),
                submission.state.clone(),
                submission.answers.to_string(),
                submission.photo_ids.len().to_string(),
                submission.submitted_at.clone(),
                text(&submission.state_message),
            ]));
        }
        println!("{table}");
        println!("{} submission(s)", submissions.len());
        Ok(())
    }
}

/// An answer as a person reads it.
/// The QA flags of a photo, and whether it is signed.
fn flags(photo: &Photo) -> String {
    let mut flags = Vec::new();
    if let Some(reuse) = &photo.possible_reuse {
        flags.push(format!(
            "possible_reuse of {} ({} bits)",
            reuse.matching_photo, reuse.distance
        ));
    }
    if photo.taken_before_assignment {
        flags.push("taken_before_assignment".to_owned());
    }
    if photo.signed {
        flags.push("signed".to_owned());
    }
    flags.join(", ")
}

pub fn answer_text(answer: &AnswerValue) -> String {
    match answer {
        AnswerValue::YesNo(true) => "Yes".into(),
        AnswerValue::YesNo(false) => "No".into(),
        AnswerValue::Number(number) => number.to_string(),
        AnswerValue::Text(text) | AnswerValue::Date(text) | AnswerValue::SingleChoice(text) => text.clone(),
        AnswerValue::MultipleChoice(options) => options.join(", "),
        AnswerValue::Photos(photos) => photos.join(" "),
    }
}

fn requirement_text(unmet: &Unmet) -> String {
    match unmet.requirement {
        UnmetRequirement::Photos { evidence } => format!("{} photos", evidence.as_str()),
        UnmetRequirement::Survey => "submitted survey".into(),
        UnmetRequirement::CheckIn => "check-in on site".into(),
    }
}

fn certified(photo: &Photo) -> String {
    let yes_no = |value: Option<bool>| match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    format!(
        "time {} / place {}",
        yes_no(photo.time_certified),
        yes_no(photo.location_certified)
    )
}

/// A byte progress bar on stderr, drawn only on a terminal.
pub fn progress_bar(total: u64, terminal: bool) -> ProgressBar {
    if !terminal {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} importing [{bar:30}] {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// One JSON object on its own line on stdout, flushed at once: the NDJSON of `sync --json` and
/// `watch --json`. Written under the stdout lock, so lines from several threads never mix.
pub fn ndjson(value: &serde_json::Value) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// A sync event as an NDJSON line: integration status changes, photo uploads starting, photo states after
/// each attempt. Byte progress and import reports are left out (the step's own line carries the report).
fn event_json(event: &fieldsync_core::sync::SyncEvent) -> Option<serde_json::Value> {
    use fieldsync_core::sync::SyncEvent;
    match event {
        SyncEvent::Status {
            code,
            status,
            last_error,
        } => Some(
            json!({ "type": "status", "code": code, "status": status.as_str(), "last_error": last_error }),
        ),
        SyncEvent::Upload { uuid, bytes } => Some(json!({ "type": "upload", "photo": uuid, "bytes": bytes })),
        SyncEvent::PhotoState { uuid, state } => {
            Some(json!({ "type": "photo", "photo": uuid, "state": state.as_str() }))
        }
        SyncEvent::UploadProgress { .. } | SyncEvent::Imported { .. } => None,
    }
}

/// Shows photo relays: on a terminal, a byte progress bar on stderr over the delivery run (every photo of
/// the run, per-photo figures in its message); elsewhere one line per photo the provider accepted, on
/// stderr. With `--json`: NDJSON event lines on stdout when `stream` (`sync`, `watch`), else nothing
/// (stdout stays one JSON document, stderr quiet).
pub fn relay_observer(terminal: bool, json: bool, stream: bool) -> fieldsync_core::sync::SyncObserver {
    use fieldsync_core::photo::PhotoState;
    use fieldsync_core::sync::SyncEvent;
    use indicatif::HumanBytes;
    // Made on the first photo: a sync that relays none draws nothing.
    let bar: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);
    // Per photo whose bytes all went out: its size, and the run's figures at that moment. "Sent" is
    // printed only once the photo is relayed: every byte written is not an upload the provider accepted.
    let written: std::sync::Mutex<std::collections::HashMap<String, (u64, u64, u64)>> =
        std::sync::Mutex::new(std::collections::HashMap::new());
    std::sync::Arc::new(move |event| {
        if json {
            if stream && let Some(line) = event_json(&event) {
                // A closed stdout ends the command at its next line anyway.
                let _ = ndjson(&line);
            }
            return;
        }
        let (uuid, bytes_sent, bytes_total, overall_sent, overall_total) = match event {
            SyncEvent::UploadProgress {
                uuid,
                bytes_sent,
                bytes_total,
                overall_sent,
                overall_total,
            } => (uuid, bytes_sent, bytes_total, overall_sent, overall_total),
            SyncEvent::PhotoState { uuid, state } if !terminal => {
                let figures = written
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .remove(&uuid);
                if state == PhotoState::Relayed
                    && let Some((size, overall_sent, overall_total)) = figures
                {
                    eprintln!(
                        "sent photo {uuid} ({}); {} of {} for this sync",
                        HumanBytes(size),
                        HumanBytes(overall_sent),
                        HumanBytes(overall_total)
                    );
                }
                return;
            }
            _ => return,
        };
        if !terminal {
            if bytes_sent == bytes_total {
                written
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .insert(uuid, (bytes_total, overall_sent, overall_total));
            }
            return;
        }
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(overall_total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} relaying photos [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ({eta}) {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        if bar.is_finished() {
            // A later delivery run (another integration): start over.
            bar.reset();
        }
        bar.set_length(overall_total);
        bar.set_position(overall_sent);
        let short: String = uuid.chars().take(8).collect();
        bar.set_message(format!(
            "photo {short} {}/{}",
            HumanBytes(bytes_sent),
            HumanBytes(bytes_total)
        ));
        if overall_total > 0 && overall_sent >= overall_total {
            bar.finish();
        }
    })
}

/// Bytes for people: B, KiB, MiB, GiB.
fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `fieldsync man`: the page of `fieldsync` on stdout, or with `out` every command's page written there
/// (`fieldsync.1`, `fieldsync-sync.1`, `fieldsync-integration-add.1`...).
pub fn man_pages(out: Option<&std::path::Path>) -> Result<()> {
    use anyhow::Context;
    let mut command = <crate::args::Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    command.build();
    let Some(folder) = out else {
        let mut stdout = std::io::stdout().lock();
        return Ok(main_page(&command, &mut stdout)?);
    };
    std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    fn write_pages(command: &clap::Command, folder: &std::path::Path) -> std::io::Result<()> {
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            write_pages(sub, folder)?;
            clap_mangen::Man::new(sub.clone()).generate_to(folder)?;
        }
        Ok(())
    }
    write_pages(&command, folder)
        .with_context(|| format!("cannot write the pages into {}", folder.display()))?;
    let path = folder.join("fieldsync.1");
    let mut file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    main_page(&command, &mut file)?;
    Ok(())
}

/// The page of `fieldsync` itself: clap's sections, then EXIT STATUS, ENVIRONMENT and FILES.
fn main_page(command: &clap::Command, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap_mangen::roff::{Roff, bold, roman};
    // Without the after-help text: it becomes the EXIT STATUS section below, as a list.
    let man = clap_mangen::Man::new(command.clone().after_long_help(None::<&str>));
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    let mut item = |code: &str, text: &str| {
        roff.control("TP", []);
        roff.text([bold(code)]);
        roff.text([roman(text)]);
    };
    item("0", "Success.");
    for kind in crate::exit::Kind::ALL {
        item(&kind.exit_code().to_string(), crate::exit::describe(kind));
    }
    roff.control("PP", []);
    roff.text([roman(
        "With --json, an error is one JSON object on stderr: {\"error\": {\"kind\", \"code\", \"message\", \"exit_code\", ...}}. \
         sync and watch stream one JSON object per line (NDJSON) on stdout, ending with a summary line.",
    )]);
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, text) in [
        ("FIELDSYNC_DB", "The cache database, when --db is not given."),
        (
            "FIELDSYNC_PASSWORD",
            "The provider password for integration add/edit (else --password-stdin).",
        ),
        ("FIELDSYNC_TOKEN", "The provider's API token (else --token)."),
        ("FIELDSYNC_PUSH_KEY", "The push key for refresh --push-key."),
        (
            "FIELDSYNC_LOG",
            "Log filter on stderr (e.g. debug), overriding -v.",
        ),
        (
            "XDG_DATA_HOME",
            "On Linux, where the default database's folder is (default ~/.local/share).",
        ),
    ] {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(text)]);
    }
    roff.control("SH", ["FILES"]);
    roff.control("TP", []);
    roff.text([bold("$XDG_DATA_HOME/fieldsync/fieldsync.db")]);
    roff.text([roman(
        "The default cache (~/Library/Application Support/fieldsync/fieldsync.db on macOS), its folder created \
         owner-only (0700); the credentials file fieldsync.db.secrets (0600) and the photo store beside it.",
    )]);
    roff.to_writer(out)?;
    man.render_version_section(out)
}
