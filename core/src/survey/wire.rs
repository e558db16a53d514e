//! The wire answers of a submission.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::evaluate::visibility;
use super::{AnswerValue, SurveyTemplate};

/// The answers of a submission as the provider takes them: only visible, answered questions, in template
/// order, each `{"id", "question", "answerType", "answer", "answerOptions", "hint"}` where `answer` is a
/// string for scalar types (`"Yes"`/`"No"`, the number written the shortest way, the date, the text or
/// option) and an array of strings for multiple choice and photos, `answerOptions` the question's options
/// (`[]` for non-choice questions) and `hint` a string or `null`. Answers of the wrong type for their
/// question are left out (evaluation reports them). Also returns the photo UUIDs referenced, in order, once
/// each.
pub fn wire_answers(
    template: &SurveyTemplate,
    answers: &BTreeMap<String, AnswerValue>,
) -> (Vec<Value>, Vec<String>) {
    let visible = visibility(template, answers);
    let mut wire = Vec::new();
    let (mut photos, mut seen) = (Vec::new(), HashSet::new());
    for (question, visible) in template.questions.iter().zip(visible) {
        let Some(answer) = answers.get(&question.id) else {
            continue;
        };
        if !visible || answer.is_empty() || !answer.fits(&question.answer_type) {
            continue;
        }
        if let AnswerValue::Photos(uuids) = answer {
            for uuid in uuids {
                if seen.insert(uuid.as_str()) {
                    photos.push(uuid.clone());
                }
            }
        }
        wire.push(json!({
            "id": question.id,
            "question": question.text,
            "answerType": question.answer_type.wire_name(),
            "answer": answer.to_wire(),
            "answerOptions": question.options,
            "hint": question.hint,
        }));
    }
    (wire, photos)
}
