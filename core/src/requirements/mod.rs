//! What a task requires, and whether a project may be completed: pure rules over plain data.
//!
//! - [`options`]: configuration options by level (device < integration < work type < project < task), the
//!   most specific level winning, resolved into typed [`TaskOptions`] by one function that check-in,
//!   photos, surveys and completion all use.
//! - [`completion`]: what is still missing before a project may be completed, as a typed list.
//!
//! The store gathers the facts (options of each level, photo counts, submitted surveys, check-ins) and
//! calls these functions; nothing here reads SQLite.

pub mod completion;
pub mod options;

pub use completion::{CompletionFacts, TaskFacts, Unmet, UnmetRequirement, unmet_requirements};
pub use options::{CompleteMode, OptionLevel, OptionLevels, OptionProblem, TaskOptions, resolve};
