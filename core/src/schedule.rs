//! When the auto-import loop tries an integration next: pure, so it is tested with a fake clock.
//!
//! After a success the next refresh is one interval later, jittered so that a fleet of phones does not hit
//! the provider in step. After a transient failure it backs off exponentially (and never sooner than the
//! provider's `Retry-After`). After an authentication failure it pauses until the credentials change.

use std::time::Duration;

/// How an attempt ended, as far as scheduling cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The refresh succeeded.
    Success,
    /// A failure worth retrying (network, 5xx); `retry_after` is the provider's wish.
    Transient {
        /// The provider's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The request or response is wrong: retrying soon will fail the same way, so wait a full interval.
    Permanent,
    /// The provider refused the credentials: wait for new ones.
    Auth,
}

/// The auto-import timing policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Time between successful refreshes.
    pub interval: Duration,
    /// Fraction of the interval added or removed at random (0.0 to 1.0).
    pub jitter: f64,
    /// First retry delay after a transient failure.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(15 * 60),
            jitter: 0.2,
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(30 * 60),
        }
    }
}

/// The longest delay [`next_delay`] derives from a schedule: a year. Huge intervals (`watch --interval
/// 18446744073709551615`) saturate here instead of panicking in `Duration::mul_f64`. A `Retry-After` is
/// passed on as given: whoever adds a delay to a clock does it saturating.
pub const MAX_DELAY: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `duration × factor`, saturating at [`MAX_DELAY`] (`Duration::mul_f64` panics on overflow).
fn scaled(duration: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(duration.as_secs_f64() * factor)
        .map_or(MAX_DELAY, |scaled| scaled.min(MAX_DELAY))
}

/// The delay before the next attempt, or `None` to pause until the credentials change. Never more than
/// [`MAX_DELAY`] unless a `Retry-After` asks for more.
///
/// `failures` counts consecutive failures including this one; `random` is uniform in `[0, 1)`.
pub fn next_delay(
    schedule: &Schedule,
    outcome: AttemptOutcome,
    failures: u32,
    random: f64,
) -> Option<Duration> {
    let random = random.clamp(0.0, 1.0);
    match outcome {
        AttemptOutcome::Success | AttemptOutcome::Permanent => {
            let spread = schedule.jitter.clamp(0.0, 1.0) * (2.0 * random - 1.0);
            Some(scaled(schedule.interval, 1.0 + spread))
        }
        AttemptOutcome::Transient { retry_after } => {
            let exponent = failures.saturating_sub(1).min(20);
            let ceiling = schedule
                .backoff_base
                .saturating_mul(1u32 << exponent)
                .min(schedule.backoff_max);
            // "Equal jitter": at least half the ceiling, so retries spread out but never hammer.
            let delay = scaled(ceiling, 0.5 + random / 2.0);
            // Retry-After is passed on whole (the transport already caps what it parses); callers add it to
            // their clocks saturating.
            Some(delay.max(retry_after.unwrap_or_default()))
        }
        AttemptOutcome::Auth => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn success_waits_one_jittered_interval() {
        let schedule = Schedule::default();
        assert_eq!(
            next_delay(&schedule, AttemptOutcome::Success, 0, 0.5),
            Some(15 * MINUTE)
        );
        assert_eq!(
            next_delay(&schedule, AttemptOutcome::Success, 0, 0.0),
            Some(12 * MINUTE)
        );
        let longest = next_delay(&schedule, AttemptOutcome::Success, 0, 0.999_999).unwrap();
        assert!(longest <= 18 * MINUTE && longest > 17 * MINUTE, "{longest:?}");
    }

    #[test]
    fn transient_failures_back_off_exponentially_up_to_the_cap() {
        let schedule = Schedule::default();
        let transient = AttemptOutcome::Transient { retry_after: None };
        let ceiling = |failures| {
            next_delay(&schedule, transient, failures, 0.999_999)
                .unwrap()
                .as_secs()
        };
        assert_eq!(
            [ceiling(1), ceiling(2), ceiling(3), ceiling(4)],
            [29, 59, 119, 239]
        );
        assert_eq!(ceiling(30), 1799, "capped at 30 minutes");
        let floor = next_delay(&schedule, transient, 3, 0.0).unwrap();
        assert_eq!(floor, Duration::from_secs(60), "never less than half the ceiling");
    }

    #[test]
    fn retry_after_is_honoured() {
        let schedule = Schedule::default();
        let outcome = AttemptOutcome::Transient {
            retry_after: Some(Duration::from_secs(600)),
        };
        assert_eq!(
            next_delay(&schedule, outcome, 1, 0.0),
            Some(Duration::from_secs(600))
        );
        let outcome = AttemptOutcome::Transient {
            retry_after: Some(Duration::from_secs(7200)),
        };
        assert_eq!(
            next_delay(&schedule, outcome, 1, 0.0),
            Some(Duration::from_secs(7200)),
            "even above the cap"
        );
    }

    #[test]
    fn item9_huge_intervals_and_retry_after_saturate_instead_of_panicking() {
        let huge = Schedule {
            interval: Duration::from_secs(u64::MAX),
            backoff_base: Duration::MAX,
            backoff_max: Duration::MAX,
            ..Schedule::default()
        };
        for random in [0.0, 0.5, 0.999_999] {
            assert_eq!(
                next_delay(&huge, AttemptOutcome::Success, 0, random),
                Some(MAX_DELAY)
            );
            assert_eq!(
                next_delay(&huge, AttemptOutcome::Transient { retry_after: None }, 40, random),
                Some(MAX_DELAY)
            );
        }
        let outcome = AttemptOutcome::Transient {
            retry_after: Some(Duration::MAX),
        };
        assert_eq!(
            next_delay(&Schedule::default(), outcome, 1, 0.5),
            Some(Duration::MAX),
            "passed on; adding it to a clock saturates"
        );
        assert!(std::time::Instant::now().checked_add(MAX_DELAY).is_some());
    }

    #[test]
    fn auth_failures_pause() {
        assert_eq!(
            next_delay(&Schedule::default(), AttemptOutcome::Auth, 1, 0.3),
            None
        );
    }

    #[test]
    fn a_fake_clock_walks_a_failure_streak_then_recovers() {
        let schedule = Schedule {
            jitter: 0.0,
            ..Schedule::default()
        };
        let mut now = Duration::ZERO;
        let outcomes = [
            AttemptOutcome::Transient { retry_after: None },
            AttemptOutcome::Transient { retry_after: None },
            AttemptOutcome::Transient {
                retry_after: Some(Duration::from_secs(300)),
            },
            AttemptOutcome::Success,
        ];
        let mut failures = 0;
        let mut times = Vec::new();
        for outcome in outcomes {
            failures = if outcome == AttemptOutcome::Success {
                0
            } else {
                failures + 1
            };
            now += next_delay(&schedule, outcome, failures, 0.5).unwrap();
            times.push(now.as_secs());
        }
        assert_eq!(times, [22, 67, 367, 1267]);
    }
}
