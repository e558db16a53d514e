//! Configuration options by level.
//!
//! An option may be set at five levels: the device (the crew's own defaults), the integration, the work
//! type (the integration's Default Work Type), the project (the order's `options`) and the task (the
//! service's `options`). For each option the most specific level that sets it with a value of the right
//! type wins. A value of the wrong type is ignored (the next less specific level decides) and reported as
//! an [`OptionProblem`], so that a provider's typo never blocks the crew and never passes silently.
//!
//! Every option fieldsync understands is a field of [`TaskOptions`]; `docs/DOMAIN.md` lists them with
//! their types and defaults. Unknown keys are left alone (the provider may use them).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::Options;
use crate::model::EvidenceType;

/// A level at which options are set, from the least to the most specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionLevel {
    /// The crew's device defaults.
    Device,
    /// The integration.
    Integration,
    /// The integration's Default Work Type.
    WorkType,
    /// The project (the order's `options`).
    Project,
    /// The task (the service's `options`).
    Task,
}

/// The options of each level; a level that sets nothing is `None` or empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionLevels<'a> {
    /// The device level.
    pub device: Option<&'a Options>,
    /// The integration level.
    pub integration: Option<&'a Options>,
    /// The work type level.
    pub work_type: Option<&'a Options>,
    /// The project level.
    pub project: Option<&'a Options>,
    /// The task level.
    pub task: Option<&'a Options>,
}

impl<'a> OptionLevels<'a> {
    /// The levels from the most specific to the least.
    fn most_specific_first(&self) -> [(OptionLevel, Option<&'a Options>); 5] {
        [
            (OptionLevel::Task, self.task),
            (OptionLevel::Project, self.project),
            (OptionLevel::WorkType, self.work_type),
            (OptionLevel::Integration, self.integration),
            (OptionLevel::Device, self.device),
        ]
    }
}

/// What completing a project does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompleteMode {
    /// Completing sets the status; photos and surveys still wait for QA where QA applies.
    #[default]
    Complete,
    /// Completing also approves the project's photos and surveys that wait for QA.
    Publish,
}

/// A value that was ignored because it has the wrong type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionProblem {
    /// Where it was set.
    pub level: OptionLevel,
    /// The option.
    pub key: String,
    /// What was expected.
    pub expected: &'static str,
}

/// The resolved options of one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskOptions {
    /// `check_in_required` (bool, default false): a check-in on site before the project may be completed.
    pub check_in_required: bool,
    /// `check_in_photo_required` (bool, default false): a check-in waits until a photo of its project is
    /// relayed.
    pub check_in_photo_required: bool,
    /// `photos_required` (object of evidence type to count, default none), e.g. `{"before": 2, "after": 2}`:
    /// photos of the task (QA-rejected ones do not count) before the project may be completed.
    pub photos_required: BTreeMap<EvidenceType, u32>,
    /// `survey_required` (bool, default false): the task's survey must be submitted before completing.
    pub survey_required: bool,
    /// `timestamp_overlay` (bool, default false): the upload rendition carries the time taken and the
    /// address stamped into its bottom band.
    pub timestamp_overlay: bool,
    /// `auto_relay` (bool, default false): photos and surveys skip the QA gate.
    pub auto_relay: bool,
    /// `complete_mode` (`complete` or `publish`, default `complete`).
    pub complete_mode: CompleteMode,
}

impl Default for TaskOptions {
    fn default() -> Self {
        Self {
            check_in_required: false,
            check_in_photo_required: false,
            photos_required: BTreeMap::new(),
            survey_required: false,
            timestamp_overlay: false,
            auto_relay: false,
            complete_mode: CompleteMode::Complete,
        }
    }
}

/// The largest photo count an option may ask for; larger values are refused as a typo.
const MAX_PHOTOS_REQUIRED: u64 = 500;

/// Resolves every option fieldsync understands: the most specific level with a well-typed value wins.
/// Returns the ignored values too.
pub fn resolve(levels: &OptionLevels) -> (TaskOptions, Vec<OptionProblem>) {
    let mut problems = Vec::new();
    let defaults = TaskOptions::default();
    let mut flag = |key: &str, default: bool| {
        pick(levels, &mut problems, key, "true or false", as_bool).unwrap_or(default)
    };
    let check_in_required = flag("check_in_required", defaults.check_in_required);
    let check_in_photo_required = flag("check_in_photo_required", defaults.check_in_photo_required);
    let survey_required = flag("survey_required", defaults.survey_required);
    let timestamp_overlay = flag("timestamp_overlay", defaults.timestamp_overlay);
    let auto_relay = flag("auto_relay", defaults.auto_relay);
    let photos_required = pick(
        levels,
        &mut problems,
        "photos_required",
        "an object of evidence type (before, during, after) to a count",
        photo_counts,
    )
    .unwrap_or_default();
    let complete_mode = pick(
        levels,
        &mut problems,
        "complete_mode",
        "`complete` or `publish`",
        complete_mode,
    )
    .unwrap_or_default();
    (
        TaskOptions {
            check_in_required,
            check_in_photo_required,
            photos_required,
            survey_required,
            timestamp_overlay,
            auto_relay,
            complete_mode,
        },
        problems,
    )
}

/// The value of `key` at the most specific level that sets it with a value `parse` accepts; the values
/// refused on the way are reported.
fn pick<T>(
    levels: &OptionLevels,
    problems: &mut Vec<OptionProblem>,
    key: &str,
    expected: &'static str,
    parse: fn(&Value) -> Option<T>,
) -> Option<T> {
    for (level, options) in levels.most_specific_first() {
        let Some(value) = options.and_then(|options| options.get(key)) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        if let Some(parsed) = parse(value) {
            return Some(parsed);
        }
        problems.push(OptionProblem {
            level,
            key: key.to_owned(),
            expected,
        });
    }
    None
}

/// A Boolean as providers write them: `true`, `1`, `"true"`, `"yes"`, `"1"` (and their negations).
fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "y" => Some(true),
            "false" | "no" | "0" | "n" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn photo_counts(value: &Value) -> Option<BTreeMap<EvidenceType, u32>> {
    let object = value.as_object()?;
    let mut counts = BTreeMap::new();
    for (key, count) in object {
        let evidence = EvidenceType::parse(key).ok()?;
        let count = match count {
            Value::Number(number) => number.as_u64()?,
            Value::String(text) => text.trim().parse().ok()?,
            _ => return None,
        };
        if count > MAX_PHOTOS_REQUIRED {
            return None;
        }
        if count > 0 {
            counts.insert(evidence, u32::try_from(count).ok()?);
        }
    }
    Some(counts)
}

fn complete_mode(value: &Value) -> Option<CompleteMode> {
    match value.as_str()?.trim().to_ascii_lowercase().as_str() {
        "complete" => Some(CompleteMode::Complete),
        "publish" => Some(CompleteMode::Publish),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn options(value: Value) -> Options {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn nothing_set_gives_the_defaults() {
        let (resolved, problems) = resolve(&OptionLevels::default());
        assert_eq!(resolved, TaskOptions::default());
        assert!(!resolved.timestamp_overlay);
        assert!(problems.is_empty());
    }

    #[test]
    fn the_most_specific_level_wins() {
        let device =
            options(json!({"check_in_required": true, "auto_relay": true, "complete_mode": "publish"}));
        let integration = options(json!({"check_in_required": false}));
        let work_type = options(json!({"photos_required": {"before": 1}}));
        let project = options(json!({"photos_required": {"before": 2, "after": 2}}));
        let task = options(json!({"photos_required": {"after": 3}, "survey_required": "yes"}));
        let levels = OptionLevels {
            device: Some(&device),
            integration: Some(&integration),
            work_type: Some(&work_type),
            project: Some(&project),
            task: Some(&task),
        };
        let (resolved, problems) = resolve(&levels);
        assert!(problems.is_empty());
        assert!(
            !resolved.check_in_required,
            "the integration overrides the device"
        );
        assert!(resolved.auto_relay, "only the device sets it");
        assert_eq!(resolved.complete_mode, CompleteMode::Publish);
        assert!(resolved.survey_required);
        // The task's object replaces the project's whole: an option is one value, not merged by key.
        assert_eq!(
            resolved.photos_required,
            BTreeMap::from([(EvidenceType::After, 3)])
        );
    }

    #[test]
    fn a_wrong_type_is_ignored_and_reported_and_the_next_level_decides() {
        let project = options(json!({"check_in_required": true}));
        let task = options(json!({"check_in_required": "perhaps", "photos_required": {"sideways": 2}}));
        let levels = OptionLevels {
            project: Some(&project),
            task: Some(&task),
            ..OptionLevels::default()
        };
        let (resolved, problems) = resolve(&levels);
        assert!(resolved.check_in_required);
        assert!(resolved.photos_required.is_empty());
        let keys: Vec<(&str, OptionLevel)> = problems.iter().map(|p| (p.key.as_str(), p.level)).collect();
        assert_eq!(
            keys,
            vec![
                ("check_in_required", OptionLevel::Task),
                ("photos_required", OptionLevel::Task)
            ]
        );
    }

    #[test]
    fn photo_counts_accept_numbers_as_strings_and_refuse_absurd_ones() {
        let task = options(json!({"photos_required": {"before": "2", "during": 0}}));
        let levels = OptionLevels {
            task: Some(&task),
            ..OptionLevels::default()
        };
        assert_eq!(
            resolve(&levels).0.photos_required,
            BTreeMap::from([(EvidenceType::Before, 2)])
        );
        let task = options(json!({"photos_required": {"after": 100000}}));
        let levels = OptionLevels {
            task: Some(&task),
            ..OptionLevels::default()
        };
        let (resolved, problems) = resolve(&levels);
        assert!(resolved.photos_required.is_empty());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn null_means_not_set() {
        let project = options(json!({"auto_relay": true}));
        let task = options(json!({"auto_relay": null}));
        let levels = OptionLevels {
            project: Some(&project),
            task: Some(&task),
            ..OptionLevels::default()
        };
        let (resolved, problems) = resolve(&levels);
        assert!(resolved.auto_relay);
        assert!(problems.is_empty());
    }
}
