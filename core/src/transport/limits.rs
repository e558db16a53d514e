//! Limits on what a provider (or anything between it and us) can make the client wait for.
//!
//! - `Retry-After` is parsed defensively ([`parse_retry_after`]): seconds or an HTTP date, capped at
//!   [`MAX_RETRY_AFTER`], garbage ignored. A hostile `18446744073709551615` must not become a delay that
//!   overflows `Instant + Duration` further down.
//! - A response body is measured by a [`PaceMeter`]: it must keep a minimum rate (at least `min_bytes` in every
//!   `window`) and finish before an overall deadline. Per-read timeouts alone let a body that trickles one
//!   byte a second hold a refresh, or a `sync`, for as long as the server likes.

use std::time::{Duration, Instant, SystemTime};

/// The longest `Retry-After` honoured: a provider asking for more is asked again after a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The delay a `Retry-After` value asks for: delta-seconds or an HTTP date (relative to `now`, the
/// provider's clock when its `Date` header is known), at most [`MAX_RETRY_AFTER`]. A date in the past is
/// zero; anything else (negative, fractional, garbage) is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // All digits: too many of them for a u64 is still "very long", not garbage.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let date = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let now = time::OffsetDateTime::from(now);
    let delay = date - now;
    if delay.is_negative() {
        return Some(Duration::ZERO);
    }
    Some(Duration::try_from(delay).map_or(MAX_RETRY_AFTER, |delay| delay.min(MAX_RETRY_AFTER)))
}

/// Why a response body was abandoned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stalled {
    /// The body arrived slower than the minimum rate.
    #[error(
        "the answer arrived too slowly: {received} bytes in the last {window:?}, fewer than the minimum of {min_bytes} (a stalled or throttled connection)"
    )]
    TooSlow {
        /// Bytes received in the window.
        received: u64,
        /// The window.
        window: Duration,
        /// The minimum.
        min_bytes: u64,
    },
    /// The call took longer than its overall limit.
    #[error("the answer did not complete within the limit of {limit:?}")]
    Deadline {
        /// The overall limit.
        limit: Duration,
    },
}

/// The rate and deadline a body is read under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    /// At least this many bytes must arrive in every `window`.
    pub min_bytes: u64,
    /// The window of the minimum rate.
    pub window: Duration,
    /// The whole call must end by then.
    pub deadline: Instant,
    /// The overall limit the deadline came from (for the message).
    pub limit: Duration,
}

impl Pace {
    /// A pace whose overall limit `limit` counts from `started`. Saturating: a configured limit too large
    /// for `Instant` means "no limit" in practice.
    pub fn new(min_bytes: u64, window: Duration, started: Instant, limit: Duration) -> Self {
        let deadline = started.checked_add(limit).unwrap_or_else(|| far_future(started));
        Self {
            min_bytes,
            window,
            deadline,
            limit,
        }
    }
}

/// An instant that is later than any deadline a call could reach (a century; `Instant` cannot hold
/// `Duration::MAX`).
pub(crate) fn far_future(from: Instant) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    from.checked_add(CENTURY).unwrap_or(from)
}

/// Measures a response body against its [`Pace`] as chunks arrive: [`Self::check`] fails with [`Stalled`]
/// when the body falls below the minimum rate or passes the deadline. Checked at each chunk; waiting for a
/// chunk is bounded by the deadline and the client's own idle timeout.
#[derive(Debug)]
pub(crate) struct PaceMeter {
    pace: Pace,
    window_start: Instant,
    window_bytes: u64,
}

impl PaceMeter {
    /// Starts the first window at `now`.
    pub fn new(pace: Pace, now: Instant) -> Self {
        Self {
            pace,
            window_start: now,
            window_bytes: 0,
        }
    }

    /// Counts bytes received.
    pub fn add(&mut self, bytes: u64) {
        self.window_bytes = self.window_bytes.saturating_add(bytes);
    }

    /// Whether the body still keeps its pace at `now`.
    pub fn check(&mut self, now: Instant) -> Result<(), Stalled> {
        if now >= self.pace.deadline {
            return Err(Stalled::Deadline {
                limit: self.pace.limit,
            });
        }
        if now.saturating_duration_since(self.window_start) >= self.pace.window {
            if self.window_bytes < self.pace.min_bytes {
                return Err(Stalled::TooSlow {
                    received: self.window_bytes,
                    window: self.pace.window,
                    min_bytes: self.pace.min_bytes,
                });
            }
            self.window_start = now;
            self.window_bytes = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc2822)
            .unwrap()
            .into()
    }

    #[test]
    fn item9_retry_after_parsing_saturates_huge_values_and_ignores_garbage() {
        let now = at("Wed, 21 Oct 2015 07:28:00 GMT");
        let parse = |value| parse_retry_after(value, now);
        assert_eq!(parse("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse("18446744073709551615"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse("99999999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:30:00 GMT"),
            Some(Duration::from_secs(120)),
            "an HTTP date counts from the provider's clock"
        );
        assert_eq!(
            parse("Tue, 20 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "the past"
        );
        assert_eq!(parse("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        for garbage in [
            "",
            "-5",
            "1.5",
            "soon",
            "0x10",
            "Wed, 99 Oct 2015 07:28:00 GMT",
            "+3",
        ] {
            assert_eq!(parse(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn item10_a_trickle_below_the_minimum_rate_is_abandoned() {
        let start = Instant::now();
        let ms = |n: u64| start + Duration::from_millis(n);
        // One byte every 20 ms against 1 KiB per 100 ms: fails when the first window closes.
        let pace = Pace::new(1024, Duration::from_millis(100), start, Duration::from_secs(5));
        let mut meter = PaceMeter::new(pace, start);
        let mut failed = None;
        for tick in 1..=10 {
            meter.add(1);
            if let Err(err) = meter.check(ms(tick * 20)) {
                failed = Some((tick, err));
                break;
            }
        }
        assert!(
            matches!(
                failed,
                Some((
                    5,
                    Stalled::TooSlow {
                        received: 5,
                        min_bytes: 1024,
                        ..
                    }
                ))
            ),
            "{failed:?}"
        );
        // Fast enough for the rate, but past the overall limit.
        let pace = Pace::new(1, Duration::from_secs(5), start, Duration::from_millis(100));
        let mut meter = PaceMeter::new(pace, start);
        meter.add(1_000);
        assert!(meter.check(ms(99)).is_ok());
        assert!(matches!(meter.check(ms(100)), Err(Stalled::Deadline { .. })));
        // A window that keeps its rate starts a new one.
        let pace = Pace::new(10, Duration::from_millis(100), start, Duration::from_secs(5));
        let mut meter = PaceMeter::new(pace, start);
        meter.add(10);
        assert!(meter.check(ms(100)).is_ok());
        assert!(matches!(
            meter.check(ms(200)),
            Err(Stalled::TooSlow { received: 0, .. })
        ));
        let huge = Pace::new(0, Duration::MAX, start, Duration::MAX);
        assert!(
            PaceMeter::new(huge, start).check(ms(1)).is_ok(),
            "limits too large for Instant mean no limit, not a panic"
        );
    }
}
