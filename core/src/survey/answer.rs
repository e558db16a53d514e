//! Typed answers: parsing them from command-line words and checking one against its question.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{AnswerType, MAX_TEXT_CHARS, Question};

/// One typed answer. Stored as JSON in SQLite, so its serde form is stable: adjacently tagged, e.g.
/// `{"type":"yes_no","value":true}`, `{"type":"number","value":12.5}`,
/// `{"type":"photos","value":["6f1c…"]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    /// Yes (`true`) or no (`false`).
    YesNo(bool),
    /// Free text; also the answer to a question of an unknown type.
    Text(String),
    /// A number (finite).
    Number(f64),
    /// A date, `YYYY-MM-DD`.
    Date(String),
    /// One option, spelled as in the template.
    SingleChoice(String),
    /// Options, spelled as in the template, in the order chosen.
    MultipleChoice(Vec<String>),
    /// Photo UUIDs of the project, in the order chosen.
    Photos(Vec<String>),
}

/// Why an answer does not fit its question. Serialized with a `kind` tag, e.g.
/// `{"kind":"not_an_option","question":"roof","value":"Great"}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnswerProblem {
    /// The answer is not of the question's type (or the words do not read as one).
    #[error("question {question}: expected {expected}, got {got}")]
    WrongType {
        /// The question id.
        question: String,
        /// What the question takes.
        expected: String,
        /// What was given.
        got: String,
    },
    /// A choice that is not one of the question's options.
    #[error("question {question}: {value:?} is not one of its options")]
    NotAnOption {
        /// The question id.
        question: String,
        /// The value given.
        value: String,
    },
    /// The same option or photo given twice.
    #[error("question {question}: {value:?} is given twice")]
    Duplicate {
        /// The question id.
        question: String,
        /// The repeated option or photo.
        value: String,
    },
    /// A number outside the question's range, or not finite.
    #[error("question {question}: {value} is outside {}", range(*.min, *.max))]
    OutOfRange {
        /// The question id.
        question: String,
        /// The number given.
        value: f64,
        /// The smallest allowed.
        min: Option<f64>,
        /// The largest allowed.
        max: Option<f64>,
    },
    /// A date that is not a real `YYYY-MM-DD` date.
    #[error("question {question}: {value:?} is not a date (YYYY-MM-DD)")]
    BadDate {
        /// The question id.
        question: String,
        /// The value given.
        value: String,
    },
    /// A text longer than the limit.
    #[error("question {question}: the text has {chars} characters, more than {limit}")]
    TooLong {
        /// The question id.
        question: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        limit: usize,
    },
    /// Fewer photos than the question needs.
    #[error("question {question}: {have} photo(s), needs at least {need}")]
    TooFewPhotos {
        /// The question id.
        question: String,
        /// Photos given.
        have: u32,
        /// Photos needed.
        need: u32,
    },
    /// More photos than the question allows.
    #[error("question {question}: {have} photo(s), allows at most {max}")]
    TooManyPhotos {
        /// The question id.
        question: String,
        /// Photos given.
        have: u32,
        /// Photos allowed.
        max: u32,
    },
    /// A photo id that is not a UUID.
    #[error("question {question}: {value:?} is not a photo id (UUID)")]
    BadPhotoId {
        /// The question id.
        question: String,
        /// The value given.
        value: String,
    },
    /// A photo that is not usable in the project: unknown, of another project, or rejected.
    #[error("question {question}: photo {photo} is not a usable photo of this project")]
    UnknownPhoto {
        /// The question id.
        question: String,
        /// The photo UUID.
        photo: String,
    },
    /// An empty answer (blank text, no option, no photo, no words): no answer at all.
    #[error("question {question}: the answer is empty")]
    Empty {
        /// The question id.
        question: String,
    },
}

fn range(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("[{min}, {max}]"),
        (Some(min), None) => format!(">= {min}"),
        (None, Some(max)) => format!("<= {max}"),
        (None, None) => "the finite numbers".to_owned(),
    }
}

/// The project's photos an answer may use: those taken in this project and not rejected by QA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoFacts {
    usable: HashSet<String>,
}

impl PhotoFacts {
    /// The usable photos, by UUID (compared case-insensitively).
    pub fn new(usable: impl IntoIterator<Item = String>) -> Self {
        Self {
            usable: usable.into_iter().map(|uuid| uuid.to_ascii_lowercase()).collect(),
        }
    }

    /// No usable photo.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether the photo may be used in an answer.
    pub fn is_usable(&self, uuid: &str) -> bool {
        self.usable.contains(&uuid.to_ascii_lowercase())
    }
}

impl AnswerValue {
    /// Parses command-line words for a question: yes/no `yes|no|y|n|true|false`; text: the words joined by
    /// spaces; a number; a date `YYYY-MM-DD`; single choice: the words joined by spaces, matched to an option
    /// case-insensitively (the template's spelling is returned); multiple choice: one option per word
    /// (repeats dropped); photo: one UUID per word (normalized to lower-case hyphenated, repeats dropped).
    ///
    /// Parsing only: the number range, the text length and the photo count and ownership are left to
    /// [`check_answer`].
    pub fn from_words(question: &Question, words: &[String]) -> Result<Self, AnswerProblem> {
        let id = || question.id.clone();
        let words: Vec<&str> = words
            .iter()
            .map(|word| word.trim())
            .filter(|word| !word.is_empty())
            .collect();
        if words.is_empty() {
            return Err(AnswerProblem::Empty { question: id() });
        }
        let joined = words.join(" ");
        let wrong = |expected: &str| AnswerProblem::WrongType {
            question: id(),
            expected: expected.to_owned(),
            got: joined.clone(),
        };
        match &question.answer_type {
            AnswerType::YesNo => match words.as_slice() {
                [word] => parse_yes_no(word)
                    .map(Self::YesNo)
                    .ok_or_else(|| wrong("yes or no")),
                _ => Err(wrong("yes or no")),
            },
            AnswerType::Text | AnswerType::Other { .. } => Ok(Self::Text(joined)),
            AnswerType::Number => match words.as_slice() {
                [word] => parse_number(word)
                    .map(Self::Number)
                    .ok_or_else(|| wrong("a number")),
                _ => Err(wrong("a number")),
            },
            AnswerType::Date => match words.as_slice() {
                [word] if valid_date(word) => Ok(Self::Date((*word).to_owned())),
                _ => Err(AnswerProblem::BadDate {
                    question: id(),
                    value: joined,
                }),
            },
            AnswerType::SingleChoice => match find_option(question, &joined) {
                Some(option) => Ok(Self::SingleChoice(option.to_owned())),
                None => Err(AnswerProblem::NotAnOption {
                    question: id(),
                    value: joined,
                }),
            },
            AnswerType::MultipleChoice => {
                let index = OptionIndex::new(&question.options);
                let mut chosen: Vec<String> = Vec::new();
                for word in words {
                    let option = index.find(word).ok_or_else(|| AnswerProblem::NotAnOption {
                        question: id(),
                        value: word.to_owned(),
                    })?;
                    if !chosen.iter().any(|known| known == option) {
                        chosen.push(option.to_owned());
                    }
                }
                Ok(Self::MultipleChoice(chosen))
            }
            AnswerType::Photo => {
                let mut photos: Vec<String> = Vec::new();
                for word in words {
                    let uuid = uuid::Uuid::parse_str(word).map_err(|_| AnswerProblem::BadPhotoId {
                        question: id(),
                        value: word.to_owned(),
                    })?;
                    let uuid = uuid.hyphenated().to_string();
                    if !photos.contains(&uuid) {
                        photos.push(uuid);
                    }
                }
                Ok(Self::Photos(photos))
            }
        }
    }

    /// The name of the answer's kind, as in its serde tag (`yes_no`, `text`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::YesNo(_) => "yes_no",
            Self::Text(_) => "text",
            Self::Number(_) => "number",
            Self::Date(_) => "date",
            Self::SingleChoice(_) => "single_choice",
            Self::MultipleChoice(_) => "multiple_choice",
            Self::Photos(_) => "photos",
        }
    }

    /// Whether this is no answer at all: blank text, no option chosen, no photo.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Text(text) | Self::Date(text) | Self::SingleChoice(text) => text.trim().is_empty(),
            Self::MultipleChoice(values) | Self::Photos(values) => values.is_empty(),
            Self::YesNo(_) | Self::Number(_) => false,
        }
    }

    /// Whether the answer's kind is the one the answer type takes.
    pub fn fits(&self, answer_type: &AnswerType) -> bool {
        matches!(
            (answer_type, self),
            (AnswerType::YesNo, Self::YesNo(_))
                | (AnswerType::Text | AnswerType::Other { .. }, Self::Text(_))
                | (AnswerType::Number, Self::Number(_))
                | (AnswerType::Date, Self::Date(_))
                | (AnswerType::SingleChoice, Self::SingleChoice(_))
                | (AnswerType::MultipleChoice, Self::MultipleChoice(_))
                | (AnswerType::Photo, Self::Photos(_))
        )
    }

    /// The answer as the provider writes it: `"Yes"`/`"No"`, the number as a string written the shortest
    /// way (`12`, `12.5`), the date, the text or option, or an array of strings (options, photo UUIDs).
    pub fn to_wire(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::YesNo(yes) => Value::String(yes_no(*yes).to_owned()),
            Self::Text(text) | Self::Date(text) | Self::SingleChoice(text) => Value::String(text.clone()),
            Self::Number(number) => Value::String(number.to_string()),
            Self::MultipleChoice(values) | Self::Photos(values) => {
                Value::Array(values.iter().cloned().map(Value::String).collect())
            }
        }
    }

    /// Reads a previous answer as a template carries it (`"answer"`), for the question's type: `None` when
    /// it does not read as one. Accepts the wire form and JSON booleans and numbers.
    pub(crate) fn from_template(question: &Question, value: &serde_json::Value) -> Option<Self> {
        use serde_json::Value;
        let strings = |value: &Value| -> Option<Vec<String>> {
            match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect(),
                Value::String(text) => Some(vec![text.clone()]),
                _ => None,
            }
        };
        let answer = match (&question.answer_type, value) {
            (AnswerType::YesNo, Value::Bool(yes)) => Self::YesNo(*yes),
            (AnswerType::YesNo, Value::String(text)) => Self::YesNo(parse_yes_no(text)?),
            (AnswerType::Text | AnswerType::Other { .. }, Value::String(text)) => Self::Text(text.clone()),
            (AnswerType::Number, Value::Number(number)) => Self::Number(number.as_f64()?),
            (AnswerType::Number, Value::String(text)) => Self::Number(parse_number(text)?),
            (AnswerType::Date, Value::String(text)) => Self::Date(text.trim().to_owned()),
            (AnswerType::SingleChoice, Value::String(text)) => {
                Self::SingleChoice(find_option(question, text)?.to_owned())
            }
            (AnswerType::MultipleChoice, value) => {
                let index = OptionIndex::new(&question.options);
                Self::MultipleChoice(
                    strings(value)?
                        .iter()
                        .map(|text| index.find(text).map(str::to_owned))
                        .collect::<Option<_>>()?,
                )
            }
            (AnswerType::Photo, value) => Self::Photos(
                strings(value)?
                    .iter()
                    .map(|uuid| Some(uuid::Uuid::parse_str(uuid.trim()).ok()?.hyphenated().to_string()))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        };
        check(question, &answer, None).ok().map(|()| answer)
    }
}

/// Checks one answer against its question alone: its type, options (each once), number range, date, text
/// length, photo count bounds, and that each photo is usable in the project. An empty answer
/// ([`AnswerValue::is_empty`]) is refused as [`AnswerProblem::Empty`]: clear the answer instead.
pub fn check_answer(
    question: &Question,
    answer: &AnswerValue,
    photos: &PhotoFacts,
) -> Result<(), AnswerProblem> {
    check(question, answer, Some(photos))
}

/// [`check_answer`], with photo ownership checked only when `photos` is given.
pub(crate) fn check(
    question: &Question,
    answer: &AnswerValue,
    photos: Option<&PhotoFacts>,
) -> Result<(), AnswerProblem> {
    let id = || question.id.clone();
    if !answer.fits(&question.answer_type) {
        return Err(AnswerProblem::WrongType {
            question: id(),
            expected: question.answer_type.wire_name().to_owned(),
            got: answer.kind().to_owned(),
        });
    }
    if answer.is_empty() {
        return Err(AnswerProblem::Empty { question: id() });
    }
    match answer {
        AnswerValue::YesNo(_) => Ok(()),
        AnswerValue::Text(text) => {
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                return Err(AnswerProblem::TooLong {
                    question: id(),
                    chars,
                    limit: MAX_TEXT_CHARS,
                });
            }
            Ok(())
        }
        AnswerValue::Number(value) => {
            let below = question.min.is_some_and(|min| *value < min);
            let above = question.max.is_some_and(|max| *value > max);
            if !value.is_finite() || below || above {
                return Err(AnswerProblem::OutOfRange {
                    question: id(),
                    value: *value,
                    min: question.min,
                    max: question.max,
                });
            }
            Ok(())
        }
        AnswerValue::Date(date) => {
            if valid_date(date) {
                Ok(())
            } else {
                Err(AnswerProblem::BadDate {
                    question: id(),
                    value: date.clone(),
                })
            }
        }
        AnswerValue::SingleChoice(value) => check_options(question, std::slice::from_ref(value)),
        AnswerValue::MultipleChoice(values) => check_options(question, values),
        AnswerValue::Photos(uuids) => {
            let have = u32::try_from(uuids.len()).unwrap_or(u32::MAX);
            if have < question.min_photos {
                return Err(AnswerProblem::TooFewPhotos {
                    question: id(),
                    have,
                    need: question.min_photos,
                });
            }
            if let Some(max) = question.max_photos.filter(|max| have > *max) {
                return Err(AnswerProblem::TooManyPhotos {
                    question: id(),
                    have,
                    max,
                });
            }
            let mut seen = HashSet::with_capacity(uuids.len());
            for uuid in uuids {
                if !seen.insert(uuid.to_ascii_lowercase()) {
                    return Err(AnswerProblem::Duplicate {
                        question: id(),
                        value: uuid.clone(),
                    });
                }
                if photos.is_some_and(|photos| !photos.is_usable(uuid)) {
                    return Err(AnswerProblem::UnknownPhoto {
                        question: id(),
                        photo: uuid.clone(),
                    });
                }
            }
            Ok(())
        }
    }
}

fn check_options(question: &Question, values: &[String]) -> Result<(), AnswerProblem> {
    // Linear whatever the sizes: a set of the options once there are more than a few values.
    let options: Option<HashSet<&str>> =
        (values.len() > 16).then(|| question.options.iter().map(String::as_str).collect());
    let mut seen = HashSet::with_capacity(values.len());
    for value in values {
        let known = match &options {
            Some(options) => options.contains(value.as_str()),
            None => question.options.contains(value),
        };
        if !known {
            return Err(AnswerProblem::NotAnOption {
                question: question.id.clone(),
                value: value.clone(),
            });
        }
        if !seen.insert(value.as_str()) {
            return Err(AnswerProblem::Duplicate {
                question: question.id.clone(),
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// `Yes` or `No`.
pub(crate) fn yes_no(yes: bool) -> &'static str {
    if yes { "Yes" } else { "No" }
}

/// Reads yes/no words: `yes|no|y|n|true|false`, case-insensitive.
pub(crate) fn parse_yes_no(word: &str) -> Option<bool> {
    match word.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" => Some(true),
        "no" | "n" | "false" => Some(false),
        _ => None,
    }
}

/// Reads a finite number.
pub(crate) fn parse_number(word: &str) -> Option<f64> {
    word.trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
}

/// Whether the text is a real calendar date written `YYYY-MM-DD`.
pub(crate) fn valid_date(text: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    text.len() == 10 && time::Date::parse(text, format).is_ok()
}

/// The option matching the text case-insensitively (exact spelling first), as the template spells it.
pub(crate) fn find_option<'q>(question: &'q Question, text: &str) -> Option<&'q str> {
    let text = text.trim();
    question
        .options
        .iter()
        .find(|option| option.as_str() == text)
        .or_else(|| {
            let lower = text.to_lowercase();
            question
                .options
                .iter()
                .find(|option| option.to_lowercase() == lower)
        })
        .map(String::as_str)
}

/// Finds options by text like [`find_option`], in constant time per lookup once built: for many lookups
/// in one question's options (a multiple choice, the values of conditions).
pub(crate) struct OptionIndex<'q> {
    exact: HashMap<&'q str, &'q str>,
    folded: HashMap<String, &'q str>,
}

impl<'q> OptionIndex<'q> {
    pub(crate) fn new(options: &'q [String]) -> Self {
        let mut exact = HashMap::with_capacity(options.len());
        let mut folded = HashMap::with_capacity(options.len());
        for option in options {
            exact.entry(option.as_str()).or_insert(option.as_str());
            folded.entry(option.to_lowercase()).or_insert(option.as_str());
        }
        Self { exact, folded }
    }

    pub(crate) fn find(&self, text: &str) -> Option<&'q str> {
        let text = text.trim();
        self.exact
            .get(text)
            .or_else(|| self.folded.get(&text.to_lowercase()))
            .copied()
    }
}
