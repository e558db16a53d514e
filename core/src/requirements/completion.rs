//! Whether a project may be completed: the typed list of what is still missing.
//!
//! Rules, per task, with the task's resolved [`TaskOptions`]:
//! - `photos_required`: at least that many photos of each evidence type, counting every photo taken for
//!   the task except QA-rejected ones (a photo still in processing or QA counts: it exists on the phone and
//!   goes out with the project).
//! - `survey_required`: at least one submitted survey (a rejected one does not count). A task without a
//!   survey has nothing to submit, so the option does not apply to it.
//! - `check_in_required`: at least one check-in of the project (a check-in is per project, not per task);
//!   reported once, however many tasks ask for it. A project without tasks uses its project-level options.

use std::collections::BTreeMap;

use serde::Serialize;

use super::options::TaskOptions;
use crate::model::EvidenceType;

/// What is known about one task.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskFacts {
    /// The task's name.
    pub name: String,
    /// Its resolved options.
    pub options: TaskOptions,
    /// Its photos by evidence type, QA-rejected ones left out.
    pub photos: BTreeMap<EvidenceType, u32>,
    /// The task has a survey (inline or by template id).
    pub has_survey: bool,
    /// Submitted surveys of the task that were not rejected.
    pub surveys_submitted: u32,
}

/// What is known about the project.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompletionFacts {
    /// Options at the project level, for a project without tasks.
    pub project_options: TaskOptions,
    /// The project has at least one check-in.
    pub checked_in: bool,
    /// Its tasks.
    pub tasks: Vec<TaskFacts>,
}

/// One requirement that is not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnmetRequirement {
    /// Too few photos of this evidence type.
    Photos {
        /// The evidence type.
        evidence: EvidenceType,
    },
    /// The task's survey is not submitted.
    Survey,
    /// No check-in on site.
    CheckIn,
}

/// A requirement that is not met: the task (none for the project's check-in), what, what there is and
/// what is needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmet {
    /// The task, or `None` for a requirement of the whole project.
    pub task: Option<String>,
    /// What is missing.
    pub requirement: UnmetRequirement,
    /// How many there are.
    pub have: u32,
    /// How many are needed.
    pub need: u32,
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.requirement {
            UnmetRequirement::Photos { evidence } => format!("{} photos", evidence.as_str()),
            UnmetRequirement::Survey => "submitted survey".to_owned(),
            UnmetRequirement::CheckIn => "check-in on site".to_owned(),
        };
        match &self.task {
            Some(task) => write!(f, "{task}: {what}: have {}, need {}", self.have, self.need),
            None => write!(f, "{what}: have {}, need {}", self.have, self.need),
        }
    }
}

/// Everything that keeps the project from being completed, in task order (the check-in first). Empty:
/// it may be completed.
pub fn unmet_requirements(facts: &CompletionFacts) -> Vec<Unmet> {
    let mut unmet = Vec::new();
    let check_in_required = if facts.tasks.is_empty() {
        facts.project_options.check_in_required
    } else {
        facts.tasks.iter().any(|task| task.options.check_in_required)
    };
    if check_in_required && !facts.checked_in {
        unmet.push(Unmet {
            task: None,
            requirement: UnmetRequirement::CheckIn,
            have: 0,
            need: 1,
        });
    }
    for task in &facts.tasks {
        for (&evidence, &need) in &task.options.photos_required {
            let have = task.photos.get(&evidence).copied().unwrap_or(0);
            if have < need {
                unmet.push(Unmet {
                    task: Some(task.name.clone()),
                    requirement: UnmetRequirement::Photos { evidence },
                    have,
                    need,
                });
            }
        }
        if task.options.survey_required && task.has_survey && task.surveys_submitted == 0 {
            unmet.push(Unmet {
                task: Some(task.name.clone()),
                requirement: UnmetRequirement::Survey,
                have: 0,
                need: 1,
            });
        }
    }
    unmet
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str, options: TaskOptions) -> TaskFacts {
        TaskFacts {
            name: name.into(),
            options,
            ..TaskFacts::default()
        }
    }

    fn needing_photos(counts: &[(EvidenceType, u32)]) -> TaskOptions {
        TaskOptions {
            photos_required: counts.iter().copied().collect(),
            ..TaskOptions::default()
        }
    }

    #[test]
    fn a_project_without_requirements_may_be_completed() {
        let facts = CompletionFacts {
            tasks: vec![task("Grass Cut", TaskOptions::default())],
            ..CompletionFacts::default()
        };
        assert!(unmet_requirements(&facts).is_empty());
    }

    #[test]
    fn missing_photos_are_reported_per_task_and_evidence_type_with_have_and_need() {
        let mut cut = task(
            "Grass Cut",
            needing_photos(&[(EvidenceType::Before, 2), (EvidenceType::After, 2)]),
        );
        cut.photos = BTreeMap::from([(EvidenceType::Before, 2), (EvidenceType::After, 1)]);
        let trim = task("Shrub Trim", needing_photos(&[(EvidenceType::During, 1)]));
        let facts = CompletionFacts {
            tasks: vec![cut, trim],
            ..CompletionFacts::default()
        };
        assert_eq!(
            unmet_requirements(&facts),
            vec![
                Unmet {
                    task: Some("Grass Cut".into()),
                    requirement: UnmetRequirement::Photos {
                        evidence: EvidenceType::After
                    },
                    have: 1,
                    need: 2
                },
                Unmet {
                    task: Some("Shrub Trim".into()),
                    requirement: UnmetRequirement::Photos {
                        evidence: EvidenceType::During
                    },
                    have: 0,
                    need: 1
                },
            ]
        );
    }

    #[test]
    fn a_required_survey_must_be_submitted_when_the_task_has_one() {
        let options = TaskOptions {
            survey_required: true,
            ..TaskOptions::default()
        };
        let mut inspection = task("Inspection", options.clone());
        inspection.has_survey = true;
        let without_survey = task("Lock Change", options);
        let facts = CompletionFacts {
            tasks: vec![inspection.clone(), without_survey],
            ..CompletionFacts::default()
        };
        let unmet = unmet_requirements(&facts);
        assert_eq!(unmet.len(), 1);
        assert_eq!(unmet[0].requirement, UnmetRequirement::Survey);
        assert_eq!(unmet[0].task.as_deref(), Some("Inspection"));
        inspection.surveys_submitted = 1;
        let facts = CompletionFacts {
            tasks: vec![inspection],
            ..CompletionFacts::default()
        };
        assert!(unmet_requirements(&facts).is_empty());
    }

    #[test]
    fn a_required_check_in_is_reported_once_for_the_project() {
        let options = TaskOptions {
            check_in_required: true,
            ..TaskOptions::default()
        };
        let facts = CompletionFacts {
            tasks: vec![task("A", options.clone()), task("B", options)],
            ..CompletionFacts::default()
        };
        let unmet = unmet_requirements(&facts);
        assert_eq!(unmet.len(), 1);
        assert_eq!(unmet[0].requirement, UnmetRequirement::CheckIn);
        assert_eq!(unmet[0].task, None);
        let facts = CompletionFacts {
            checked_in: true,
            ..facts
        };
        assert!(unmet_requirements(&facts).is_empty());
    }

    #[test]
    fn a_project_without_tasks_uses_its_project_options() {
        let facts = CompletionFacts {
            project_options: TaskOptions {
                check_in_required: true,
                ..TaskOptions::default()
            },
            ..CompletionFacts::default()
        };
        assert_eq!(unmet_requirements(&facts).len(), 1);
    }

    #[test]
    fn an_unmet_requirement_reads_as_a_sentence() {
        let unmet = Unmet {
            task: Some("Grass Cut".into()),
            requirement: UnmetRequirement::Photos {
                evidence: EvidenceType::After,
            },
            have: 1,
            need: 2,
        };
        assert_eq!(unmet.to_string(), "Grass Cut: after photos: have 1, need 2");
    }
}
