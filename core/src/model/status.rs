//! The integration status state machine: idle → pending → running → idle | error.
//!
//! Pure: the store persists what this decides. A request while running is accepted and leaves the status
//! `running`; the engine coalesces such requests into one more run.

use super::IntegrationStatus;

/// Something that happens to an integration's import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusEvent {
    /// A refresh or full import was asked for.
    Requested,
    /// The worker picked it up.
    Started,
    /// The import succeeded.
    Succeeded,
    /// The import failed.
    Failed,
    /// The process stopped while the import was pending or running.
    Interrupted,
    /// The app stopped the run (cancelled, paused, deadline) and it rolled back: the integration goes
    /// back to where it was before the run, `idle` or `error` (never left `running`).
    Stopped {
        /// The status before the run was requested.
        before: IntegrationStatus,
    },
}

/// An event that cannot happen in the current status (a bug in the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an integration that is {from:?} cannot take the event {event:?}")]
pub struct InvalidTransition {
    /// The status before.
    pub from: IntegrationStatus,
    /// The event.
    pub event: StatusEvent,
}

/// The status after `event`.
pub fn next_status(
    from: IntegrationStatus,
    event: StatusEvent,
) -> Result<IntegrationStatus, InvalidTransition> {
    use IntegrationStatus::{Error, Idle, Pending, Running};
    use StatusEvent::{Failed, Interrupted, Requested, Started, Stopped, Succeeded};
    match (from, event) {
        (Idle | Error | Pending, Requested) => Ok(Pending),
        (Running, Requested) => Ok(Running),
        (Pending, Started) => Ok(Running),
        (Running, Succeeded) => Ok(Idle),
        (Pending | Running, Failed) => Ok(Error),
        (Pending | Running, Interrupted) => Ok(Error),
        (Idle | Error, Interrupted) => Ok(from),
        (Pending | Running, Stopped { before: Error }) => Ok(Error),
        (
            Pending | Running,
            Stopped {
                before: Idle | Pending | Running,
            },
        ) => Ok(Idle),
        _ => Err(InvalidTransition { from, event }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntegrationStatus::*;

    #[test]
    fn a_refresh_goes_pending_running_idle() {
        let pending = next_status(Idle, StatusEvent::Requested).unwrap();
        assert_eq!(pending, Pending);
        let running = next_status(pending, StatusEvent::Started).unwrap();
        assert_eq!(running, Running);
        assert_eq!(next_status(running, StatusEvent::Succeeded).unwrap(), Idle);
    }

    #[test]
    fn a_failure_goes_to_error_and_a_new_request_leaves_it() {
        assert_eq!(next_status(Running, StatusEvent::Failed).unwrap(), Error);
        assert_eq!(next_status(Error, StatusEvent::Requested).unwrap(), Pending);
    }

    #[test]
    fn a_request_while_running_stays_running() {
        assert_eq!(next_status(Running, StatusEvent::Requested).unwrap(), Running);
    }

    #[test]
    fn impossible_events_are_refused() {
        assert!(next_status(Idle, StatusEvent::Started).is_err());
        assert!(next_status(Idle, StatusEvent::Succeeded).is_err());
        assert!(next_status(Error, StatusEvent::Failed).is_err());
    }

    #[test]
    fn a_stopped_run_goes_back_to_where_it_was() {
        for running in [Pending, Running] {
            assert_eq!(
                next_status(running, StatusEvent::Stopped { before: Idle }).unwrap(),
                Idle
            );
            assert_eq!(
                next_status(running, StatusEvent::Stopped { before: Error }).unwrap(),
                Error
            );
        }
        assert!(next_status(Idle, StatusEvent::Stopped { before: Idle }).is_err());
    }

    #[test]
    fn an_interrupted_run_is_an_error() {
        assert_eq!(next_status(Running, StatusEvent::Interrupted).unwrap(), Error);
        assert_eq!(next_status(Idle, StatusEvent::Interrupted).unwrap(), Idle);
    }
}
