//! The one evaluation of a survey's answers: visibility, what is missing, what is invalid.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::answer::{parse_number, parse_yes_no};
use super::check_answer;
use super::{AnswerProblem, AnswerType, AnswerValue, ConditionTest, PhotoFacts, Question, SurveyTemplate};

/// The state of a survey's answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Each question's state, in template order.
    pub questions: Vec<QuestionState>,
    /// The ids of the visible, required, unanswered questions, in template order.
    pub missing: Vec<String>,
    /// The visible answered questions whose answer does not fit, in template order.
    pub invalid: Vec<(String, AnswerProblem)>,
    /// The ids answered that are not in the template, in id order (ignored otherwise).
    pub unknown: Vec<String>,
    /// Nothing missing and nothing invalid: the survey may be submitted.
    pub ready: bool,
}

/// The state of one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuestionState {
    /// The question id.
    pub id: String,
    /// Whether the question is shown (its condition, and its controlling question's, hold).
    pub visible: bool,
    /// Whether it must be answered now: visible and required.
    pub required: bool,
    /// Whether it has a non-empty answer (visible or not; a hidden answer is kept but ignored).
    pub answered: bool,
    /// The fewest photos its answer holds (0 for questions that are not photo questions).
    pub min_photos: u32,
    /// Why its answer does not fit, when visible and answered.
    pub problem: Option<AnswerProblem>,
}

/// Evaluates answers against a template: total and deterministic, never panics whatever the answers
/// (answers of the wrong type are invalid, answers to unknown ids are listed in `unknown`). Hidden
/// questions are neither required nor checked. Also total for a template built in code with conditions on
/// unknown questions or in a cycle: such questions are hidden.
pub fn evaluate(
    template: &SurveyTemplate,
    answers: &BTreeMap<String, AnswerValue>,
    photos: &PhotoFacts,
) -> Evaluation {
    let visible = visibility(template, answers);
    let mut questions = Vec::with_capacity(template.questions.len());
    let (mut missing, mut invalid) = (Vec::new(), Vec::new());
    for (question, visible) in template.questions.iter().zip(visible) {
        let answer = answers.get(&question.id).filter(|answer| !answer.is_empty());
        let required = visible && question.required;
        let problem = match answer {
            Some(answer) if visible => check_answer(question, answer, photos).err(),
            _ => None,
        };
        if required && answer.is_none() {
            missing.push(question.id.clone());
        }
        if let Some(problem) = &problem {
            invalid.push((question.id.clone(), problem.clone()));
        }
        questions.push(QuestionState {
            id: question.id.clone(),
            visible,
            required,
            answered: answer.is_some(),
            min_photos: if question.answer_type == AnswerType::Photo {
                question.min_photos
            } else {
                0
            },
            problem,
        });
    }
    let ids: HashSet<&str> = template
        .questions
        .iter()
        .map(|question| question.id.as_str())
        .collect();
    let unknown = answers
        .keys()
        .filter(|id| !ids.contains(id.as_str()))
        .cloned()
        .collect();
    let ready = missing.is_empty() && invalid.is_empty();
    Evaluation {
        questions,
        missing,
        invalid,
        unknown,
        ready,
    }
}

/// Whether each question (in template order) is visible: it has no condition, or its controlling question
/// is visible and that question's answer matches. Linear: each question is resolved once. A condition on an
/// unknown id or in a cycle (only in templates built in code: parsing refuses both) hides the question.
pub(crate) fn visibility(template: &SurveyTemplate, answers: &BTreeMap<String, AnswerValue>) -> Vec<bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Unknown,
        Walking,
        Visible,
        Hidden,
    }
    let questions = &template.questions;
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(questions.len());
    for (position, question) in questions.iter().enumerate() {
        index.entry(question.id.as_str()).or_insert(position);
    }
    let mut state = vec![State::Unknown; questions.len()];
    // The questions walked up from one start, each with its controlling question.
    let mut path: Vec<(usize, usize)> = Vec::new();
    for start in 0..questions.len() {
        if state[start] != State::Unknown {
            continue;
        }
        path.clear();
        let mut node = start;
        let base = loop {
            match state[node] {
                State::Visible => break Some(true),
                State::Hidden => break Some(false),
                State::Walking => break None,
                State::Unknown => {}
            }
            let Some(condition) = &questions[node].show_if else {
                state[node] = State::Visible;
                break Some(true);
            };
            let Some(&parent) = index.get(condition.question.as_str()) else {
                state[node] = State::Hidden;
                break Some(false);
            };
            state[node] = State::Walking;
            path.push((node, parent));
            node = parent;
        };
        let mut shown = base.unwrap_or(false);
        for &(node, parent) in path.iter().rev() {
            shown = shown
                && base.is_some()
                && questions[node].show_if.as_ref().is_some_and(|condition| {
                    matches(
                        &questions[parent],
                        answers.get(&questions[parent].id),
                        &condition.test,
                    )
                });
            state[node] = if shown { State::Visible } else { State::Hidden };
        }
    }
    state.into_iter().map(|state| state == State::Visible).collect()
}

/// Whether the controlling question's answer passes the test.
fn matches(parent: &Question, answer: Option<&AnswerValue>, test: &ConditionTest) -> bool {
    let answer = answer.filter(|answer| !answer.is_empty());
    let typed = answer.filter(|answer| answer.fits(&parent.answer_type));
    match test {
        ConditionTest::Answered(answered) => answer.is_some() == *answered,
        ConditionTest::Equals(value) => typed.is_some_and(|answer| equals(answer, value)),
        ConditionTest::AnyOf(values) => {
            typed.is_some_and(|answer| values.iter().any(|value| equals(answer, value)))
        }
    }
}

/// Whether an answer equals a condition value: yes/no as `Yes`/`No`, numbers numerically, a multiple choice
/// when any of its options does, photos never.
fn equals(answer: &AnswerValue, value: &str) -> bool {
    match answer {
        AnswerValue::YesNo(yes) => parse_yes_no(value) == Some(*yes),
        AnswerValue::Number(number) => parse_number(value) == Some(*number),
        AnswerValue::Text(text) | AnswerValue::Date(text) | AnswerValue::SingleChoice(text) => {
            text.trim() == value.trim()
        }
        AnswerValue::MultipleChoice(options) => options.iter().any(|option| option == value),
        AnswerValue::Photos(_) => false,
    }
}
