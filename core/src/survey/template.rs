//! Reading a template: parsing, flattening sections, and the load-time refusals.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::answer::{OptionIndex, parse_number, parse_yes_no, valid_date, yes_no};
use super::{
    AnswerType, AnswerValue, Condition, ConditionTest, MAX_ID_CHARS, MAX_QUESTIONS, MAX_SECTION_DEPTH,
    MAX_TEMPLATE_BYTES, Question, SECTION_SEPARATOR, SurveyTemplate,
};

/// Why a template is refused. Serialized as `{"kind": "...", "detail": ...}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum TemplateError {
    /// The input is larger than [`MAX_TEMPLATE_BYTES`] (checked before parsing).
    #[error("the template has {bytes} bytes, more than the {limit} accepted")]
    TooLarge {
        /// The input's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The input is not JSON.
    #[error("the template is not JSON: {0}")]
    NotJson(String),
    /// The JSON is not an object.
    #[error("the template is not a JSON object")]
    NotAnObject,
    /// `meta.surveyTemplateId` is missing or empty.
    #[error("the template has no id (meta.surveyTemplateId)")]
    MissingTemplateId,
    /// The template's shape is wrong outside any question (e.g. `questions` is not a list).
    #[error("the template is malformed: {0}")]
    Malformed(String),
    /// More questions than [`MAX_QUESTIONS`]; counting stops at the first one over the limit.
    #[error("the template has more than {limit} questions (refused at question {count})")]
    TooManyQuestions {
        /// How many questions were counted when the template was refused.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Sections nested deeper than [`MAX_SECTION_DEPTH`].
    #[error("section {section:?} is nested {depth} deep, more than {limit}")]
    SectionsTooDeep {
        /// The section path where the limit was passed.
        section: String,
        /// Its depth.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// A question without an id (or with an id that is not a string or number).
    #[error("question {position} (in document order, from 1) has no id")]
    MissingQuestionId {
        /// The question's position in document order, from 1.
        position: usize,
    },
    /// A question whose id is empty or blank.
    #[error("question {position} (in document order, from 1) has an empty id")]
    EmptyQuestionId {
        /// The question's position in document order, from 1.
        position: usize,
    },
    /// A question id longer than [`MAX_ID_CHARS`].
    #[error("question id {id:?}… has {chars} characters, more than {limit}")]
    QuestionIdTooLong {
        /// The id's first [`MAX_ID_CHARS`] characters.
        id: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// Two questions with the same id.
    #[error("question id {0:?} is used twice")]
    DuplicateQuestion(String),
    /// A field of a question has the wrong type or value (e.g. `minPhotos` is negative, `min` > `max`).
    #[error("question {question}: {field}: {reason}")]
    BadField {
        /// The question id.
        question: String,
        /// The field, as named in the JSON.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A choice question without options.
    #[error("question {question}: a choice question needs a non-empty answerOptions list")]
    MissingOptions {
        /// The question id.
        question: String,
    },
    /// A choice question with the same option twice (compared case-insensitively).
    #[error("question {question}: option {option:?} is listed twice")]
    DuplicateOption {
        /// The question id.
        question: String,
        /// The repeated option.
        option: String,
    },
    /// A `showIf` that is not one of the three forms.
    #[error("question {question}: showIf: {reason}")]
    BadCondition {
        /// The question id.
        question: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A condition on a question that is not in the template.
    #[error("question {question}: showIf refers to unknown question {refers_to:?}")]
    UnknownConditionQuestion {
        /// The question with the condition.
        question: String,
        /// The id it refers to.
        refers_to: String,
    },
    /// Conditions forming a cycle (a question conditioned on itself is the shortest cycle). The path starts
    /// and ends with the same id: `["a", "b", "c", "a"]`.
    #[error("showIf conditions form a cycle: {}", .0.join(" -> "))]
    ConditionCycle(Vec<String>),
    /// A condition value that is not one of the controlling choice question's options.
    #[error("question {question}: showIf value {value:?} is not an option of question {refers_to:?}")]
    ConditionValueNotAnOption {
        /// The question with the condition.
        question: String,
        /// The controlling question.
        refers_to: String,
        /// The value.
        value: String,
    },
    /// A condition value the controlling question can never have (not yes/no, not a number, not a date;
    /// or any value for a photo question).
    #[error(
        "question {question}: showIf value {value:?} can never be an answer of question {refers_to:?}: {reason}"
    )]
    BadConditionValue {
        /// The question with the condition.
        question: String,
        /// The controlling question.
        refers_to: String,
        /// The value.
        value: String,
        /// Why not.
        reason: String,
    },
}

/// A condition as written, before it is checked against the controlling question.
#[derive(Debug)]
struct RawCondition {
    question: String,
    test: RawTest,
}

#[derive(Debug)]
enum RawTest {
    Equals(Value),
    AnyOf(Vec<Value>),
    Answered(bool),
}

/// Walks the question tree, flattening sections.
struct Reader {
    questions: Vec<Question>,
    conditions: Vec<Option<RawCondition>>,
    previous: Vec<Option<Value>>,
}

impl SurveyTemplate {
    /// Parses and validates a template (see the module's rules and [`TemplateError`] for the refusals).
    /// Bounded: input over [`MAX_TEMPLATE_BYTES`] is refused before parsing, counting stops past
    /// [`MAX_QUESTIONS`], and the checks of conditions are linear in the number of questions.
    pub fn parse(json: &[u8]) -> Result<Self, TemplateError> {
        if json.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::TooLarge {
                bytes: json.len(),
                limit: MAX_TEMPLATE_BYTES,
            });
        }
        let root: Value =
            serde_json::from_slice(json).map_err(|error| TemplateError::NotJson(error.to_string()))?;
        let root = root.as_object().ok_or(TemplateError::NotAnObject)?;
        let meta = root.get("meta").and_then(Value::as_object);
        let id = meta
            .and_then(|meta| meta.get("surveyTemplateId"))
            .and_then(scalar_text)
            .filter(|id| !id.trim().is_empty())
            .ok_or(TemplateError::MissingTemplateId)?;
        let text_of = |key: &str| meta.and_then(|meta| meta.get(key)).and_then(scalar_text);
        let items = match root.get("questions") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(TemplateError::Malformed("questions is not a list".into())),
            None => return Err(TemplateError::Malformed("questions is missing".into())),
        };
        let mut reader = Reader {
            questions: Vec::new(),
            conditions: Vec::new(),
            previous: Vec::new(),
        };
        reader.read_list(items, None, 0)?;
        let Reader {
            mut questions,
            conditions,
            previous,
        } = reader;

        let mut index: HashMap<&str, usize> = HashMap::with_capacity(questions.len());
        for (position, question) in questions.iter().enumerate() {
            if index.insert(question.id.as_str(), position).is_some() {
                return Err(TemplateError::DuplicateQuestion(question.id.clone()));
            }
        }
        let mut parents: Vec<Option<usize>> = vec![None; questions.len()];
        let mut show_ifs: Vec<Option<Condition>> = Vec::with_capacity(questions.len());
        // The options of controlling choice questions, indexed once each: checking conditions stays linear.
        let mut option_indexes: HashMap<usize, OptionIndex<'_>> = HashMap::new();
        for (position, raw) in conditions.into_iter().enumerate() {
            let question = &questions[position];
            let Some(raw) = raw else {
                show_ifs.push(None);
                continue;
            };
            let Some(&parent) = index.get(raw.question.as_str()) else {
                return Err(TemplateError::UnknownConditionQuestion {
                    question: question.id.clone(),
                    refers_to: raw.question,
                });
            };
            parents[position] = Some(parent);
            let options = if questions[parent].answer_type.is_choice() {
                Some(
                    &*option_indexes
                        .entry(parent)
                        .or_insert_with(|| OptionIndex::new(&questions[parent].options)),
                )
            } else {
                None
            };
            show_ifs.push(Some(condition(question, &questions[parent], options, raw)?));
        }
        if let Some(cycle) = find_cycle(&parents) {
            return Err(TemplateError::ConditionCycle(
                cycle
                    .into_iter()
                    .map(|position| questions[position].id.clone())
                    .collect(),
            ));
        }
        drop(index);
        drop(option_indexes);
        for ((question, show_if), previous) in questions.iter_mut().zip(show_ifs).zip(previous) {
            question.show_if = show_if;
            question.previous = previous.and_then(|value| AnswerValue::from_template(question, &value));
        }
        Ok(Self {
            id,
            version: text_of("version"),
            name: text_of("name"),
            questions,
        })
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|question| question.id == id)
    }

    /// The canonical JSON form: `meta`, then the questions flat, in order, each carrying its section path in
    /// a `section` field (which [`SurveyTemplate::parse`] reads for questions outside any section), with
    /// canonical type names and normalized conditions. Parsing it gives back an equal template.
    pub fn to_json(&self) -> Value {
        let mut meta = Map::new();
        meta.insert("surveyTemplateId".into(), json!(self.id));
        if let Some(version) = &self.version {
            meta.insert("version".into(), json!(version));
        }
        if let Some(name) = &self.name {
            meta.insert("name".into(), json!(name));
        }
        let questions: Vec<Value> = self.questions.iter().map(question_json).collect();
        json!({"meta": meta, "questions": questions})
    }
}

fn question_json(question: &Question) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), json!(question.id));
    object.insert("question".into(), json!(question.text));
    object.insert("answerType".into(), json!(question.answer_type.wire_name()));
    object.insert("required".into(), json!(question.required));
    if question.answer_type.is_choice() {
        object.insert("answerOptions".into(), json!(question.options));
    }
    if let Some(hint) = &question.hint {
        object.insert("hint".into(), json!(hint));
    }
    if let Some(section) = &question.section {
        object.insert("section".into(), json!(section));
    }
    if let Some(condition) = &question.show_if {
        let test = match &condition.test {
            ConditionTest::Equals(value) => ("equals", json!(value)),
            ConditionTest::AnyOf(values) => ("anyOf", json!(values)),
            ConditionTest::Answered(answered) => ("answered", json!(answered)),
        };
        object.insert(
            "showIf".into(),
            json!({"question": condition.question, test.0: test.1}),
        );
    }
    if question.answer_type == AnswerType::Photo {
        object.insert("minPhotos".into(), json!(question.min_photos));
        if let Some(max) = question.max_photos {
            object.insert("maxPhotos".into(), json!(max));
        }
    }
    if let Some(min) = question.min {
        object.insert("min".into(), json!(min));
    }
    if let Some(max) = question.max {
        object.insert("max".into(), json!(max));
    }
    if let Some(previous) = &question.previous {
        object.insert("answer".into(), previous.to_wire());
    }
    Value::Object(object)
}

/// The draft to start from: each question's previous answer (rework), by question id.
pub fn previous_answers(template: &SurveyTemplate) -> BTreeMap<String, AnswerValue> {
    template
        .questions
        .iter()
        .filter_map(|question| Some((question.id.clone(), question.previous.clone()?)))
        .collect()
}

impl Reader {
    fn read_list(
        &mut self,
        items: &[Value],
        section: Option<&str>,
        depth: usize,
    ) -> Result<(), TemplateError> {
        for item in items {
            let object = item.as_object().ok_or_else(|| {
                TemplateError::Malformed(format!(
                    "question {} (in document order, from 1) is not an object",
                    self.questions.len() + 1
                ))
            })?;
            let is_section = object
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("section"));
            if is_section {
                self.read_section(object, section, depth + 1)?;
            } else {
                self.read_question(object, section)?;
            }
        }
        Ok(())
    }

    fn read_section(
        &mut self,
        object: &Map<String, Value>,
        parent: Option<&str>,
        depth: usize,
    ) -> Result<(), TemplateError> {
        let name = ["name", "title"]
            .iter()
            .find_map(|key| object.get(*key).and_then(scalar_text))
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        let path = match (parent, name) {
            (Some(parent), Some(name)) => Some(format!("{parent}{SECTION_SEPARATOR}{name}")),
            (None, Some(name)) => Some(name),
            (parent, None) => parent.map(str::to_owned),
        };
        if depth > MAX_SECTION_DEPTH {
            return Err(TemplateError::SectionsTooDeep {
                section: path.unwrap_or_default(),
                depth,
                limit: MAX_SECTION_DEPTH,
            });
        }
        match object.get("questions") {
            Some(Value::Array(items)) => self.read_list(items, path.as_deref(), depth),
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(TemplateError::Malformed(format!(
                "the questions of section {:?} are not a list",
                path.unwrap_or_default()
            ))),
        }
    }

    fn read_question(
        &mut self,
        object: &Map<String, Value>,
        section: Option<&str>,
    ) -> Result<(), TemplateError> {
        let position = self.questions.len() + 1;
        if position > MAX_QUESTIONS {
            return Err(TemplateError::TooManyQuestions {
                count: position,
                limit: MAX_QUESTIONS,
            });
        }
        let id = object
            .get("id")
            .and_then(scalar_text)
            .ok_or(TemplateError::MissingQuestionId { position })?;
        if id.trim().is_empty() {
            return Err(TemplateError::EmptyQuestionId { position });
        }
        let chars = id.chars().count();
        if chars > MAX_ID_CHARS {
            return Err(TemplateError::QuestionIdTooLong {
                id: id.chars().take(MAX_ID_CHARS).collect(),
                chars,
                limit: MAX_ID_CHARS,
            });
        }
        let bad = |field: &str, reason: &str| TemplateError::BadField {
            question: id.clone(),
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        let text = ["question", "text", "label"]
            .iter()
            .find_map(|key| object.get(*key).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let answer_type = match object.get("answerType").or_else(|| object.get("type")) {
            None | Some(Value::Null) => AnswerType::Text,
            Some(Value::String(name)) => AnswerType::from_declared(name),
            Some(_) => return Err(bad("answerType", "not a string")),
        };
        let required = match object.get("required") {
            None | Some(Value::Null) => false,
            Some(value) => flag(value).ok_or_else(|| bad("required", "not true or false"))?,
        };
        let hint = object.get("hint").and_then(Value::as_str).map(str::to_owned);
        let section = match section {
            Some(section) => Some(section.to_owned()),
            None => object
                .get("section")
                .and_then(Value::as_str)
                .map(|section| section.trim().to_owned())
                .filter(|section| !section.is_empty()),
        };

        let mut options = Vec::new();
        if answer_type.is_choice() {
            let list = match object.get("answerOptions") {
                None | Some(Value::Null) => &Vec::new(),
                Some(Value::Array(list)) => list,
                Some(_) => return Err(bad("answerOptions", "not a list")),
            };
            if list.is_empty() {
                return Err(TemplateError::MissingOptions { question: id.clone() });
            }
            let mut seen = std::collections::HashSet::with_capacity(list.len());
            for option in list {
                let option = option
                    .as_str()
                    .ok_or_else(|| bad("answerOptions", "an option is not a string"))?;
                if option.trim().is_empty() {
                    return Err(bad("answerOptions", "an option is empty"));
                }
                if !seen.insert(option.trim().to_lowercase()) {
                    return Err(TemplateError::DuplicateOption {
                        question: id.clone(),
                        option: option.to_owned(),
                    });
                }
                options.push(option.to_owned());
            }
        }

        let (mut min_photos, mut max_photos) = (0, None);
        if answer_type == AnswerType::Photo {
            let count = |field: &str| -> Result<Option<u32>, TemplateError> {
                match object.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(value) => count(value)
                        .map(Some)
                        .ok_or_else(|| bad(field, "not a whole number from 0 to 4294967295")),
                }
            };
            min_photos = count("minPhotos")?.unwrap_or(0);
            max_photos = count("maxPhotos")?;
            if required {
                min_photos = min_photos.max(1);
            }
            if max_photos.is_some_and(|max| max < min_photos) {
                return Err(bad(
                    "maxPhotos",
                    "fewer than the photos needed (minPhotos, or 1 when required)",
                ));
            }
        }

        let (mut min, mut max) = (None, None);
        if answer_type == AnswerType::Number {
            let bound = |field: &str| -> Result<Option<f64>, TemplateError> {
                match object.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::Number(number)) => number
                        .as_f64()
                        .filter(|number| number.is_finite())
                        .map(Some)
                        .ok_or_else(|| bad(field, "not a finite number")),
                    Some(Value::String(text)) => parse_number(text)
                        .map(Some)
                        .ok_or_else(|| bad(field, "not a number")),
                    Some(_) => Err(bad(field, "not a number")),
                }
            };
            min = bound("min")?;
            max = bound("max")?;
            if let (Some(low), Some(high)) = (min, max)
                && low > high
            {
                return Err(bad("max", "smaller than min"));
            }
        }

        let show_if = match object.get("showIf").or_else(|| object.get("show_if")) {
            None | Some(Value::Null) => None,
            Some(value) => Some(raw_condition(&id, value)?),
        };
        self.conditions.push(show_if);
        self.previous
            .push(object.get("answer").filter(|value| !value.is_null()).cloned());
        self.questions.push(Question {
            id,
            text,
            answer_type,
            options,
            hint,
            required,
            section,
            show_if: None,
            min_photos,
            max_photos,
            min,
            max,
            previous: None,
        });
        Ok(())
    }
}

fn raw_condition(id: &str, value: &Value) -> Result<RawCondition, TemplateError> {
    let bad = |reason: &str| TemplateError::BadCondition {
        question: id.to_owned(),
        reason: reason.to_owned(),
    };
    let object = value.as_object().ok_or_else(|| bad("not an object"))?;
    let question = object
        .get("question")
        .and_then(scalar_text)
        .ok_or_else(|| bad("no question to test"))?;
    let tests = ["equals", "anyOf", "answered"]
        .iter()
        .filter(|key| object.contains_key(**key))
        .count();
    if tests != 1 {
        return Err(bad("needs exactly one of equals, anyOf, answered"));
    }
    let test = if let Some(value) = object.get("equals") {
        RawTest::Equals(value.clone())
    } else if let Some(values) = object.get("anyOf") {
        match values {
            Value::Array(values) if !values.is_empty() => RawTest::AnyOf(values.clone()),
            _ => return Err(bad("anyOf is not a non-empty list")),
        }
    } else {
        match object.get("answered") {
            Some(Value::Bool(answered)) => RawTest::Answered(*answered),
            _ => return Err(bad("answered is not true or false")),
        }
    };
    Ok(RawCondition { question, test })
}

/// Checks a condition's values against the controlling question and normalizes them.
fn condition(
    question: &Question,
    parent: &Question,
    options: Option<&OptionIndex<'_>>,
    raw: RawCondition,
) -> Result<Condition, TemplateError> {
    let value = |value: &Value| -> Result<String, TemplateError> {
        let text = match value {
            Value::String(text) => text.trim().to_owned(),
            Value::Bool(yes) if parent.answer_type == AnswerType::YesNo => yes_no(*yes).to_owned(),
            Value::Bool(yes) => yes.to_string(),
            Value::Number(number) => number.to_string(),
            _ => {
                return Err(TemplateError::BadCondition {
                    question: question.id.clone(),
                    reason: "a value is not a string, number or boolean".into(),
                });
            }
        };
        let never = |reason: &str| TemplateError::BadConditionValue {
            question: question.id.clone(),
            refers_to: parent.id.clone(),
            value: text.clone(),
            reason: reason.to_owned(),
        };
        match &parent.answer_type {
            AnswerType::YesNo => parse_yes_no(&text)
                .map(|yes| yes_no(yes).to_owned())
                .ok_or_else(|| never("not Yes or No")),
            AnswerType::Number => match parse_number(&text) {
                Some(_) => Ok(text.clone()),
                None => Err(never("not a number")),
            },
            AnswerType::Date if !valid_date(&text) => Err(never("not a date (YYYY-MM-DD)")),
            AnswerType::Photo => Err(never("a photo question can only be tested with answered")),
            AnswerType::SingleChoice | AnswerType::MultipleChoice => {
                match options.and_then(|options| options.find(&text)) {
                    Some(option) => Ok(option.to_owned()),
                    None => Err(TemplateError::ConditionValueNotAnOption {
                        question: question.id.clone(),
                        refers_to: parent.id.clone(),
                        value: text.clone(),
                    }),
                }
            }
            AnswerType::Date | AnswerType::Text | AnswerType::Other { .. } => Ok(text.clone()),
        }
    };
    let test = match raw.test {
        RawTest::Equals(raw) => ConditionTest::Equals(value(&raw)?),
        RawTest::AnyOf(raws) => ConditionTest::AnyOf(raws.iter().map(value).collect::<Result<_, _>>()?),
        RawTest::Answered(answered) => ConditionTest::Answered(answered),
    };
    Ok(Condition {
        question: raw.question,
        test,
    })
}

/// The first cycle of the graph where each question points to its controlling question, as positions,
/// starting and ending with the same one. Linear: each question is walked once.
pub(crate) fn find_cycle(parents: &[Option<usize>]) -> Option<Vec<usize>> {
    const NEW: u8 = 0;
    const WALKING: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; parents.len()];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..parents.len() {
        path.clear();
        let mut at = Some(start);
        while let Some(node) = at {
            match state.get(node).copied() {
                Some(NEW) => {
                    state[node] = WALKING;
                    path.push(node);
                    at = parents[node];
                }
                Some(WALKING) => {
                    let from = path.iter().position(|walked| *walked == node).unwrap_or(0);
                    let mut cycle = path[from..].to_vec();
                    cycle.push(node);
                    return Some(cycle);
                }
                _ => break,
            }
        }
        for node in &path {
            state[*node] = DONE;
        }
    }
    None
}

/// A string, or a number written as text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A boolean, or `true`/`false`/`yes`/`no`/`1`/`0` as text or number.
fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "1" => Some(true),
            "0" => Some(false),
            text => parse_yes_no(text),
        },
        Value::Number(number) => match number.as_u64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A count of photos: a whole number from 0 to `u32::MAX`, or such a number as text.
fn count(value: &Value) -> Option<u32> {
    match value {
        Value::Number(number) => number.as_u64().and_then(|count| u32::try_from(count).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
