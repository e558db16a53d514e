//! Surveys: the seeded inspection template and the reading of survey items received by `uploadPictures`.
//!
//! A survey template is Pruvan's dynamic template (`meta` + `questions`, with `section`s holding
//! questions) with fieldsync's `showIf` condition extension. The emulator serves templates as they are
//! (in an order's services, `survey` by id or `surveyDynamic` inline) and never interprets them.
//!
//! A submitted survey arrives as one `uploadPictures` item of `fileType` `survey` whose payload holds
//! `survey: {"surveyId", "answers": [{"id", "question", "answerType", "answer", ...}]}` (an answer is a
//! string, or an array of strings for multiple choice and photo answers, photo answers being photo item
//! uuids) and whose `file` part holds the same survey JSON.

use serde_json::{Map, Value};

/// Id (`meta.surveyTemplateId`) of the seeded property inspection template.
pub const PROPERTY_INSPECTION_ID: &str = "hpirFull-v3";

/// The seeded property inspection template (`fixtures/surveys/property-inspection.json`, embedded at
/// compile time: the fixture is the one copy).
pub const PROPERTY_INSPECTION_JSON: &str = include_str!("../../fixtures/surveys/property-inspection.json");

/// The seeded property inspection template, parsed.
pub fn property_inspection() -> Value {
    // The fixture is checked by the crate's tests; a broken fixture fails them, not a caller.
    serde_json::from_str(PROPERTY_INSPECTION_JSON).unwrap_or(Value::Null)
}

/// What the emulator indexes of a survey item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SurveyItem {
    /// `survey.surveyId`, else the part of `template` after `::`.
    pub(crate) template_id: String,
    /// The item's `template` field as sent.
    pub(crate) template: Option<String>,
    /// `survey.answers`.
    pub(crate) answers: Value,
    /// Number of answers.
    pub(crate) answer_count: u32,
    /// Photo uuids referenced by photo answers, in order, without repeats.
    pub(crate) photo_uuids: Vec<String>,
    /// Whether the `file` part held the same JSON as `survey`.
    pub(crate) file_matches: bool,
}

fn non_empty(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Reads and checks the survey of a `survey` item's payload (and its `file` part). The error says what
/// is malformed.
pub(crate) fn read_item(payload: &Map<String, Value>, file: Option<&[u8]>) -> Result<SurveyItem, String> {
    let survey = match payload.get("survey") {
        Some(Value::Object(survey)) => survey.clone(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(survey)) => survey,
            _ => return Err("survey must be a JSON object".to_owned()),
        },
        Some(_) => return Err("survey must be a JSON object".to_owned()),
        None => return Err("a survey item needs a `survey` object".to_owned()),
    };
    let template = payload.get("template").and_then(Value::as_str).map(str::to_owned);
    let template_id = non_empty(survey.get("surveyId"))
        .or_else(|| {
            template
                .as_deref()
                .map(|t| t.rsplit_once("::").map_or(t, |(_, id)| id).trim())
                .filter(|id| !id.is_empty())
        })
        .ok_or("survey.surveyId (or a `template` field) is required")?
        .to_owned();
    let answers = match survey.get("answers") {
        Some(Value::Array(answers)) if !answers.is_empty() => answers,
        Some(Value::Array(_)) => return Err("survey.answers is empty".to_owned()),
        Some(_) => return Err("survey.answers must be an array".to_owned()),
        None => return Err("survey.answers is required".to_owned()),
    };
    let mut photo_uuids: Vec<String> = Vec::new();
    for (i, answer) in answers.iter().enumerate() {
        let Value::Object(answer) = answer else {
            return Err(format!("survey.answers[{i}] must be an object"));
        };
        if non_empty(answer.get("id")).is_none() {
            return Err(format!("survey.answers[{i}].id is required"));
        }
        let strings = match answer.get("answer") {
            None | Some(Value::Null) | Some(Value::String(_)) => None,
            Some(Value::Array(values)) => Some(
                values
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .ok_or_else(|| format!("survey.answers[{i}].answer must hold strings only"))?,
            ),
            Some(_) => {
                return Err(format!(
                    "survey.answers[{i}].answer must be a string or an array of strings"
                ));
            }
        };
        if answer.get("answerType").and_then(Value::as_str) == Some("photo") {
            match (strings, answer.get("answer")) {
                (Some(uuids), _) => {
                    for uuid in uuids {
                        let uuid = uuid.trim().to_owned();
                        if !uuid.is_empty() && !photo_uuids.contains(&uuid) {
                            photo_uuids.push(uuid);
                        }
                    }
                }
                (None, None | Some(Value::Null)) => {}
                (None, Some(_)) => {
                    return Err(format!(
                        "survey.answers[{i}].answer of a photo question must be an array of photo uuids"
                    ));
                }
            }
        }
    }
    let answer_count = u32::try_from(answers.len()).unwrap_or(u32::MAX);
    let answers = Value::Array(answers.clone());
    let survey = Value::Object(survey);
    let file_matches = file
        .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
        .is_some_and(|parsed| parsed == survey);
    Ok(SurveyItem {
        template_id,
        template,
        answers,
        answer_count,
        photo_uuids,
        file_matches,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn payload(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_survey_item_is_read_with_its_photo_uuids() {
        let survey = json!({"surveyId": "hpirFull-v3", "answers": [
            {"id": "roof", "question": "Roof", "answerType": "select", "answer": "Poor"},
            {"id": "roof_photos", "question": "Photos", "answerType": "photo", "answer": ["p-1", "p-2", "p-1"]},
            {"id": "hazards", "question": "Hazards", "answerType": "multiselect", "answer": ["Broken glass"]},
            {"id": "notes", "question": "Notes", "answerType": "textarea", "answer": null}
        ]});
        let file = serde_json::to_vec(&survey).unwrap();
        let item = read_item(
            &payload(json!({"template": "PS1::hpirFull-v3", "survey": survey})),
            Some(&file),
        )
        .unwrap();
        assert_eq!(item.template_id, "hpirFull-v3");
        assert_eq!(item.answer_count, 4);
        assert_eq!(item.photo_uuids, ["p-1", "p-2"]);
        assert!(item.file_matches);
    }

    #[test]
    fn the_template_id_falls_back_to_the_template_field() {
        let item = read_item(
            &payload(
                json!({"template": "PS1::abc", "survey": "{\"answers\":[{\"id\":\"a\",\"answer\":\"x\"}]}"}),
            ),
            Some(b"not json"),
        )
        .unwrap();
        assert_eq!(item.template_id, "abc");
        assert!(!item.file_matches);
    }

    #[test]
    fn malformed_surveys_are_refused() {
        for bad in [
            json!({}),
            json!({"survey": 3}),
            json!({"survey": "{not json"}),
            json!({"survey": {"surveyId": "t"}}),
            json!({"survey": {"surveyId": "t", "answers": []}}),
            json!({"survey": {"surveyId": "t", "answers": {}}}),
            json!({"survey": {"answers": [{"id": "a", "answer": "x"}]}}),
            json!({"survey": {"surveyId": "t", "answers": [{"answer": "x"}]}}),
            json!({"survey": {"surveyId": "t", "answers": [{"id": "a", "answer": 3}]}}),
            json!({"survey": {"surveyId": "t", "answers": [{"id": "a", "answer": [1]}]}}),
            json!({"survey": {"surveyId": "t", "answers": [{"id": "a", "answerType": "photo", "answer": "p-1"}]}}),
        ] {
            assert!(read_item(&payload(bad.clone()), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_embedded_template_is_the_fixture() {
        let template = property_inspection();
        assert_eq!(
            template["meta"]["surveyTemplateId"],
            json!(PROPERTY_INSPECTION_ID)
        );
    }
}
