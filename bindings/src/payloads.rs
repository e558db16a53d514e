//! The payloads that errors carry and ordinary results share (a completion blocked by unmet requirements,
//! a survey refused for invalid answers, the evidence type they name). A leaf module: both `error` and
//! `records` use it, and it uses neither.

use fieldsync_core::requirements::{Unmet, UnmetRequirement as CoreUnmetRequirement};

/// What a photo shows of the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum EvidenceType {
    /// Before the work.
    Before,
    /// During the work.
    During,
    /// After the work.
    After,
}

impl From<fieldsync_core::photo::EvidenceType> for EvidenceType {
    fn from(evidence: fieldsync_core::photo::EvidenceType) -> Self {
        match evidence {
            fieldsync_core::photo::EvidenceType::Before => Self::Before,
            fieldsync_core::photo::EvidenceType::During => Self::During,
            fieldsync_core::photo::EvidenceType::After => Self::After,
        }
    }
}

impl From<EvidenceType> for fieldsync_core::photo::EvidenceType {
    fn from(evidence: EvidenceType) -> Self {
        match evidence {
            EvidenceType::Before => Self::Before,
            EvidenceType::During => Self::During,
            EvidenceType::After => Self::After,
        }
    }
}

/// An answer that does not fit its question.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvalidAnswer {
    /// The question id.
    pub question: String,
    /// Why.
    pub problem: String,
}

/// What kind of requirement is not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum RequirementKind {
    /// Too few photos of one evidence type (`evidence` says which).
    Photos,
    /// The task's survey is not submitted.
    Survey,
    /// No check-in on site.
    CheckIn,
}

/// A requirement that keeps a project from being completed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnmetRequirement {
    /// The task, or `None` for a requirement of the whole project (the check-in).
    pub task: Option<String>,
    /// What is missing.
    pub kind: RequirementKind,
    /// For `Photos`: which evidence type.
    pub evidence: Option<EvidenceType>,
    /// How many there are.
    pub have: u32,
    /// How many are needed.
    pub need: u32,
}

impl From<Unmet> for UnmetRequirement {
    fn from(unmet: Unmet) -> Self {
        let (kind, evidence) = match unmet.requirement {
            CoreUnmetRequirement::Photos { evidence } => (RequirementKind::Photos, Some(evidence.into())),
            CoreUnmetRequirement::Survey => (RequirementKind::Survey, None),
            CoreUnmetRequirement::CheckIn => (RequirementKind::CheckIn, None),
        };
        Self {
            task: unmet.task,
            kind,
            evidence,
            have: unmet.have,
            need: unmet.need,
        }
    }
}
