//! The retry policy of the outbox, whole: how a delivery attempt's outcome changes the entry, which
//! outcomes stop a delivery run, and how a transport failure is classified. Pure.
//!
//! - Delivered: `done`.
//! - Transient (network, 5xx, a captive portal): `retry_wait`, backing off from 30 s doubling to 30 min
//!   with jitter, never sooner than the provider's `Retry-After`; retried forever. The run stops: the
//!   network is probably down, and failing every entry in turn would only burn attempts.
//! - Permanent (the provider refused this entry): `retry_wait` like a transient failure, and after
//!   [`PERMANENT_ATTEMPTS`] attempts `needs_attention` with the reason, until the user retries or
//!   discards it. The run goes on with other projects.
//! - Auth (the provider refused the credentials): back to `queued`, the attempt not counted (it is not
//!   the entry's fault). The run stops.
//! - Stopped (the app cancelled, paused, or reached a background run's deadline, and the request was
//!   aborted): back to `queued`, not counted; the run stops. A run with a deadline starts no send that
//!   its longest send so far could not finish in time ([`may_start`]).

use std::time::{Duration, Instant};

use super::{DeliveryOutcome, EntryState, EntryUpdate};
use crate::model::Timestamp;
use crate::schedule::{AttemptOutcome, Schedule, next_delay};
use crate::transport::TransportError;

/// Permanent failures tolerated before an entry needs the user's attention.
pub const PERMANENT_ATTEMPTS: u32 = 3;

/// Backoff for deliveries: 30 s doubling to 30 min.
pub fn delivery_schedule() -> Schedule {
    Schedule::default()
}

/// Decides the entry's next state. `attempts` counts attempts before this one; `random` is in `[0, 1)`.
pub fn after_attempt(attempts: u32, outcome: &DeliveryOutcome, now: Timestamp, random: f64) -> EntryUpdate {
    let schedule = delivery_schedule();
    let attempts_after = attempts.saturating_add(1);
    let later = |retry_after: Option<Duration>| {
        let delay = next_delay(
            &schedule,
            AttemptOutcome::Transient { retry_after },
            attempts_after,
            random,
        )
        .unwrap_or(schedule.backoff_max);
        // A hostile Retry-After may be any size: saturate instead of overflowing.
        now.saturating_add(i64::try_from(delay.as_secs()).unwrap_or(i64::MAX))
    };
    match outcome {
        DeliveryOutcome::Delivered => EntryUpdate {
            state: EntryState::Done,
            attempts: attempts_after,
            next_attempt_at: None,
            last_error: None,
        },
        DeliveryOutcome::Transient { message, retry_after } => EntryUpdate {
            state: EntryState::RetryWait,
            attempts: attempts_after,
            next_attempt_at: Some(later(*retry_after)),
            last_error: Some(message.clone()),
        },
        DeliveryOutcome::Permanent { message } if attempts_after >= PERMANENT_ATTEMPTS => EntryUpdate {
            state: EntryState::NeedsAttention,
            attempts: attempts_after,
            next_attempt_at: None,
            last_error: Some(message.clone()),
        },
        DeliveryOutcome::Permanent { message } => EntryUpdate {
            state: EntryState::RetryWait,
            attempts: attempts_after,
            next_attempt_at: Some(later(None)),
            last_error: Some(message.clone()),
        },
        DeliveryOutcome::Auth { message } => EntryUpdate {
            state: EntryState::Queued,
            attempts,
            next_attempt_at: None,
            last_error: Some(message.clone()),
        },
        // Aborted by the app (cancel, pause, deadline): not an attempt. It goes again, same UUID.
        DeliveryOutcome::Stopped(_) => EntryUpdate {
            state: EntryState::Queued,
            attempts,
            next_attempt_at: None,
            last_error: None,
        },
    }
}

/// Why a delivery run stops taking new entries after this outcome, if it does (the network or the
/// credentials failed: every other entry would fail the same way).
pub fn stops_run(outcome: &DeliveryOutcome) -> Option<&str> {
    match outcome {
        DeliveryOutcome::Transient { message, .. } | DeliveryOutcome::Auth { message } => Some(message),
        DeliveryOutcome::Stopped(reason) => Some(reason.as_str()),
        DeliveryOutcome::Delivered | DeliveryOutcome::Permanent { .. } => None,
    }
}

/// Whether a delivery run with `deadline` may start another send at `now`, when its longest send so far
/// took `longest_send`: not once the deadline is reached, nor when that send would not end before it.
/// The first send always may start (nothing is known yet; a send that overruns is aborted at the
/// deadline and goes again later).
pub fn may_start(now: Instant, deadline: Option<Instant>, longest_send: Option<Duration>) -> bool {
    let Some(deadline) = deadline else {
        return true;
    };
    match longest_send {
        _ if now >= deadline => false,
        Some(longest) => now.checked_add(longest).is_some_and(|end| end <= deadline),
        None => true,
    }
}

impl From<TransportError> for DeliveryOutcome {
    fn from(err: TransportError) -> Self {
        match err {
            TransportError::Auth(message) => Self::Auth { message },
            TransportError::Transient { message, retry_after } => Self::Transient { message, retry_after },
            TransportError::Permanent(message) => Self::Permanent { message },
            TransportError::Stopped(reason) => Self::Stopped(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_000_000;

    #[test]
    fn a_run_with_a_deadline_starts_only_sends_it_can_finish() {
        let now = Instant::now();
        let deadline = now + Duration::from_secs(2);
        let half = Some(Duration::from_millis(500));
        assert!(may_start(now, None, half), "no deadline");
        assert!(may_start(now, Some(deadline), None), "the first send");
        assert!(may_start(
            now + Duration::from_millis(1_500),
            Some(deadline),
            half
        ));
        assert!(!may_start(
            now + Duration::from_millis(1_501),
            Some(deadline),
            half
        ));
        assert!(!may_start(deadline, Some(deadline), None), "at the deadline");
        assert!(
            !may_start(now, Some(deadline), Some(Duration::MAX)),
            "no overflow"
        );
    }

    #[test]
    fn a_stopped_send_is_not_an_attempt_and_goes_again() {
        let update = after_attempt(
            4,
            &DeliveryOutcome::Stopped(crate::cancel::StopReason::Paused),
            NOW,
            0.5,
        );
        assert_eq!(update.state, EntryState::Queued);
        assert_eq!(update.attempts, 4, "an aborted send does not count");
        assert_eq!(update.next_attempt_at, None);
        assert!(
            stops_run(&DeliveryOutcome::Stopped(crate::cancel::StopReason::Cancelled)).is_some(),
            "a cancelled run takes no new entry"
        );
    }

    #[test]
    fn a_delivered_entry_is_done() {
        let update = after_attempt(0, &DeliveryOutcome::Delivered, NOW, 0.5);
        assert_eq!(update.state, EntryState::Done);
        assert_eq!(update.attempts, 1);
    }

    #[test]
    fn transient_failures_retry_with_growing_delays_forever() {
        let transient = DeliveryOutcome::Transient {
            message: "503".into(),
            retry_after: None,
        };
        let delays: Vec<i64> = (0..12)
            .map(|attempts| {
                after_attempt(attempts, &transient, NOW, 0.999)
                    .next_attempt_at
                    .unwrap()
                    - NOW
            })
            .collect();
        assert!(delays.windows(2).all(|pair| pair[0] <= pair[1]), "{delays:?}");
        assert_eq!(delays[0], 29);
        assert_eq!(*delays.last().unwrap(), 1799, "capped at 30 minutes");
        assert_eq!(
            after_attempt(500, &transient, NOW, 0.5).state,
            EntryState::RetryWait,
            "never given up"
        );
    }

    #[test]
    fn retry_after_is_honoured() {
        let transient = DeliveryOutcome::Transient {
            message: "503".into(),
            retry_after: Some(Duration::from_secs(900)),
        };
        assert_eq!(
            after_attempt(0, &transient, NOW, 0.0).next_attempt_at,
            Some(NOW + 900)
        );
    }

    #[test]
    fn a_huge_retry_after_saturates_instead_of_overflowing() {
        let transient = DeliveryOutcome::Transient {
            message: "503".into(),
            retry_after: Some(Duration::from_secs(u64::MAX)),
        };
        assert_eq!(
            after_attempt(u32::MAX, &transient, NOW, 0.5).next_attempt_at,
            Some(i64::MAX)
        );
    }

    #[test]
    fn permanent_failures_need_attention_after_a_few_attempts() {
        let permanent = DeliveryOutcome::Permanent {
            message: "unknown work order".into(),
        };
        assert_eq!(
            after_attempt(0, &permanent, NOW, 0.5).state,
            EntryState::RetryWait
        );
        assert_eq!(
            after_attempt(1, &permanent, NOW, 0.5).state,
            EntryState::RetryWait
        );
        let update = after_attempt(2, &permanent, NOW, 0.5);
        assert_eq!(update.state, EntryState::NeedsAttention);
        assert_eq!(update.last_error.as_deref(), Some("unknown work order"));
    }

    #[test]
    fn auth_failures_do_not_count_as_attempts() {
        let update = after_attempt(
            2,
            &DeliveryOutcome::Auth {
                message: "401".into(),
            },
            NOW,
            0.5,
        );
        assert_eq!((update.state, update.attempts), (EntryState::Queued, 2));
    }

    #[test]
    fn the_network_and_the_credentials_stop_a_run_but_a_refused_entry_does_not() {
        let transient = DeliveryOutcome::from(TransportError::Transient {
            message: "connection refused".into(),
            retry_after: None,
        });
        assert_eq!(stops_run(&transient), Some("connection refused"));
        assert_eq!(
            stops_run(&DeliveryOutcome::from(TransportError::Auth("401".into()))),
            Some("401")
        );
        assert_eq!(
            stops_run(&DeliveryOutcome::from(TransportError::Permanent(
                "bad item".into()
            ))),
            None
        );
        assert_eq!(stops_run(&DeliveryOutcome::Delivered), None);
    }
}
