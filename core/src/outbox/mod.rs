//! The outbox state machine: what happens to an entry after a delivery attempt. Pure; the store persists
//! it and the sync engine drives it.
//!
//! States: `queued → in_flight → done | retry_wait | needs_attention`. `in_flight` is set before sending and
//! goes back to `queued` after a crash (the provider deduplicates by the entry's UUID, so sending again is
//! safe). Nothing is discarded automatically: a transient failure is retried with backoff forever, a
//! permanent one a few times and then waits in `needs_attention` with its reason until the user retries
//! or discards it. Entries are ordered per project: an entry waits while an earlier one of the same
//! project is not done, and a stuck project never blocks another.

use std::time::Duration;

use crate::model::Timestamp;
use crate::sync::{AttemptOutcome, Schedule, next_delay};

/// Permanent failures tolerated before an entry needs the user's attention.
pub const PERMANENT_ATTEMPTS: u32 = 3;

/// The state of an outbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// Waiting to be sent.
    Queued,
    /// Being sent.
    InFlight,
    /// The provider confirmed it.
    Done,
    /// Failed; waits until `next_attempt_at`.
    RetryWait,
    /// Failed for good; waits for the user.
    NeedsAttention,
}

impl EntryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::InFlight => "in_flight",
            Self::Done => "done",
            Self::RetryWait => "retry_wait",
            Self::NeedsAttention => "needs_attention",
        }
    }
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The provider confirmed (or already had it).
    Delivered,
    /// Worth retrying (network, 5xx).
    Transient {
        /// Why.
        message: String,
        /// The provider's Retry-After.
        retry_after: Option<Duration>,
    },
    /// The provider refused the entry itself.
    Permanent {
        /// Why.
        message: String,
    },
    /// The provider refused the credentials: not the entry's fault, so the attempt does not count.
    Auth {
        /// Why.
        message: String,
    },
}

/// What to store after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryUpdate {
    /// The new state.
    pub state: EntryState,
    /// Attempts after this one.
    pub attempts: u32,
    /// When to try again (for `RetryWait`).
    pub next_attempt_at: Option<Timestamp>,
    /// The error to show.
    pub last_error: Option<String>,
}

/// Backoff for deliveries: 30 s doubling to 30 min.
pub fn delivery_schedule() -> Schedule {
    Schedule::default()
}

/// Decides the entry's next state. `attempts` counts attempts before this one; `random` is in `[0, 1)`.
pub fn after_attempt(attempts: u32, outcome: &DeliveryOutcome, now: Timestamp, random: f64) -> EntryUpdate {
    let schedule = delivery_schedule();
    let later = |outcome: AttemptOutcome, failures: u32| {
        let delay = next_delay(&schedule, outcome, failures, random).unwrap_or(schedule.backoff_max);
        now + i64::try_from(delay.as_secs()).unwrap_or(i64::MAX / 2)
    };
    match outcome {
        DeliveryOutcome::Delivered => EntryUpdate {
            state: EntryState::Done,
            attempts: attempts + 1,
            next_attempt_at: None,
            last_error: None,
        },
        DeliveryOutcome::Transient { message, retry_after } => EntryUpdate {
            state: EntryState::RetryWait,
            attempts: attempts + 1,
            next_attempt_at: Some(later(
                AttemptOutcome::Transient {
                    retry_after: *retry_after,
                },
                attempts + 1,
            )),
            last_error: Some(message.clone()),
        },
        DeliveryOutcome::Permanent { message } if attempts + 1 >= PERMANENT_ATTEMPTS => EntryUpdate {
            state: EntryState::NeedsAttention,
            attempts: attempts + 1,
            next_attempt_at: None,
            last_error: Some(message.clone()),
        },
        DeliveryOutcome::Permanent { message } => EntryUpdate {
            state: EntryState::RetryWait,
            attempts: attempts + 1,
            next_attempt_at: Some(later(
                AttemptOutcome::Transient { retry_after: None },
                attempts + 1,
            )),
            last_error: Some(message.clone()),
        },
        DeliveryOutcome::Auth { message } => EntryUpdate {
            state: EntryState::Queued,
            attempts,
            next_attempt_at: None,
            last_error: Some(message.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_000_000;

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
}
