//! The sync engine. Today: the per-integration import state machine.

mod status;

pub use status::{InvalidTransition, StatusEvent, next_status};
