//! Surveys: the forms a crew answers for a task (an inspection, a bid), offline. Pure rules over plain data:
//! no I/O, no SQLite, no HTTP. `docs/SURVEYS.md` describes the format for people.
//!
//! The rules:
//!
//! - **Template** ([`SurveyTemplate::parse`]): Pruvan's dynamic template, `{"meta": {"surveyTemplateId", "version",
//!   "name"}, "questions": [...]}`. Sections (`"type": "section"`, named by `name` or `title`) nest up to
//!   [`MAX_SECTION_DEPTH`] deep and are flattened into one list of [`Question`]s in document order, each
//!   with its section path (names joined by [`SECTION_SEPARATOR`]).
//! - **Answer types** ([`AnswerType`]): yes/no, text, number, date, single choice, multiple choice, photo,
//!   each with case-insensitive aliases. Any other declared type is answered as text
//!   ([`AnswerType::Other`] keeps the declared name).
//! - **Limits**, refused at load time ([`TemplateError`]): input over [`MAX_TEMPLATE_BYTES`] (before parsing),
//!   over [`MAX_QUESTIONS`] questions, an id missing, empty or over [`MAX_ID_CHARS`] characters, a
//!   duplicate id, a choice question without options or with duplicate options, a condition on an unknown
//!   question, on itself or in a cycle, or with a value the controlling question can never have.
//! - **Conditions** ([`Condition`]): `showIf` is `equals`, `anyOf` or `answered`. A question is visible when
//!   it has no condition, or its controlling question is visible and that question's answer matches.
//!   Hidden questions are neither required, nor checked, nor sent.
//! - **Answers** ([`AnswerValue`], [`check_answer`]): an answer must have the question's type, be one of its
//!   options, lie in its number range, be a real date, hold at most [`MAX_TEXT_CHARS`] characters, and
//!   for photos hold between `min_photos` and `max_photos` distinct photos usable in the project
//!   ([`PhotoFacts`]). An empty answer (blank text, no choice, no photo) is no answer.
//! - **Evaluation** ([`evaluate`]): total and deterministic; `ready` when no visible required question is
//!   unanswered and no visible answer is invalid. Answers to ids not in the template are reported, not fatal.
//! - **Wire** ([`wire_answers`]): only visible, answered questions, in template order.
//! - **Rework** ([`previous_answers`]): a question's previous answer (`"answer"` in the template), when
//!   valid for its type, seeds the draft.

mod answer;
mod evaluate;
mod template;
mod wire;

pub use answer::{AnswerProblem, AnswerValue, PhotoFacts, check_answer};
pub use evaluate::{Evaluation, QuestionState, evaluate};
pub use template::{TemplateError, previous_answers};
pub use wire::wire_answers;

/// The largest template accepted, in bytes of JSON (10 MiB); larger input is refused before parsing.
pub const MAX_TEMPLATE_BYTES: usize = 10 * 1024 * 1024;
/// The most questions a template may hold (sections not counted).
pub const MAX_QUESTIONS: usize = 2_000;
/// The deepest nesting of sections (a section at the top level has depth 1).
pub const MAX_SECTION_DEPTH: usize = 8;
/// The longest question id, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// The longest text answer, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// What joins the names of nested sections in a question's section path.
pub const SECTION_SEPARATOR: &str = " / ";

/// A survey template, flattened: its questions in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyTemplate {
    /// The template id (`meta.surveyTemplateId`).
    pub id: String,
    /// The template's version (`meta.version`, a string or a number in the JSON).
    pub version: Option<String>,
    /// The template's display name (`meta.name`).
    pub name: Option<String>,
    /// Every question, in document order, sections flattened.
    pub questions: Vec<Question>,
}

/// One question of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The question id, unique in its template (1 to [`MAX_ID_CHARS`] characters).
    pub id: String,
    /// The question as shown to the crew.
    pub text: String,
    /// The answer's type.
    pub answer_type: AnswerType,
    /// The options of a choice question, in template order (empty for other types).
    pub options: Vec<String>,
    /// A hint shown under the question.
    pub hint: Option<String>,
    /// Whether a visible question must be answered before the survey is ready.
    pub required: bool,
    /// The section path, e.g. `Exterior` or `Exterior / Roof`; `None` outside any named section.
    pub section: Option<String>,
    /// When the question is shown; `None`: always.
    pub show_if: Option<Condition>,
    /// The fewest photos a photo answer holds (at least 1 when required; 0 for other types).
    pub min_photos: u32,
    /// The most photos a photo answer holds.
    pub max_photos: Option<u32>,
    /// The smallest number a number answer may be.
    pub min: Option<f64>,
    /// The largest number a number answer may be.
    pub max: Option<f64>,
    /// The provider's previous answer (rework), when it was valid for the question.
    pub previous: Option<AnswerValue>,
}

/// The type of a question's answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AnswerType {
    /// Yes or no (`yesno`, `yes_no`, `boolean`, `bool`).
    YesNo,
    /// Free text (`text`, `textarea`, `string`, `memo`).
    Text,
    /// A number (`number`, `numeric`, `decimal`, `integer`, `currency`).
    Number,
    /// A calendar date, `YYYY-MM-DD` (`date`).
    Date,
    /// One of the options (`select`, `single`, `singlechoice`, `single_choice`, `radio`, `dropdown`).
    SingleChoice,
    /// Any of the options (`multiselect`, `multi`, `multiplechoice`, `multiple_choice`, `checkboxes`,
    /// `checkbox`).
    MultipleChoice,
    /// Photos of the project (`photo`, `picture`, `photos`, `image`).
    Photo,
    /// A type we do not know: answered as text ([`AnswerValue::Text`]), its declared name kept for the wire.
    Other {
        /// The type as the template declared it.
        declared: String,
    },
}

impl AnswerType {
    /// Reads a declared type name (case-insensitive aliases); any other name is [`AnswerType::Other`].
    pub fn from_declared(name: &str) -> Self {
        match name.trim().to_ascii_lowercase().as_str() {
            "yesno" | "yes_no" | "boolean" | "bool" => Self::YesNo,
            "text" | "textarea" | "string" | "memo" => Self::Text,
            "number" | "numeric" | "decimal" | "integer" | "currency" => Self::Number,
            "date" => Self::Date,
            "select" | "single" | "singlechoice" | "single_choice" | "radio" | "dropdown" => {
                Self::SingleChoice
            }
            "multiselect" | "multi" | "multiplechoice" | "multiple_choice" | "checkboxes" | "checkbox" => {
                Self::MultipleChoice
            }
            "photo" | "picture" | "photos" | "image" => Self::Photo,
            _ => Self::Other {
                declared: name.to_owned(),
            },
        }
    }

    /// The type's name in canonical templates and in wire answers: `yesno`, `text`, `number`, `date`,
    /// `select`, `multiselect`, `photo`, or the declared name of an [`AnswerType::Other`].
    pub fn wire_name(&self) -> &str {
        match self {
            Self::YesNo => "yesno",
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::SingleChoice => "select",
            Self::MultipleChoice => "multiselect",
            Self::Photo => "photo",
            Self::Other { declared } => declared,
        }
    }

    /// Whether the answer is one of the question's options (single or multiple choice).
    pub fn is_choice(&self) -> bool {
        matches!(self, Self::SingleChoice | Self::MultipleChoice)
    }

    /// Whether answers of this type are text ([`AnswerType::Text`] and [`AnswerType::Other`]).
    pub fn answered_as_text(&self) -> bool {
        matches!(self, Self::Text | Self::Other { .. })
    }
}

/// When a question is shown: a test on another question's answer (`showIf`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The id of the controlling question.
    pub question: String,
    /// The test on its answer.
    pub test: ConditionTest,
}

/// The test of a [`Condition`]. Values are strings: `Yes`/`No` for yes/no questions, the option's spelling
/// in the template for choice questions, a number as written for number questions (compared numerically).
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionTest {
    /// The answer equals the value (a multiple choice answer matches when any selected option does).
    Equals(String),
    /// The answer equals any of the values.
    AnyOf(Vec<String>),
    /// The controlling question is answered (`true`) or not (`false`).
    Answered(bool),
}

#[cfg(test)]
mod tests;
