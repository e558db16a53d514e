//! Limits on what a provider (or anything between it and us) can make the client wait for.
//!
//! - `Retry-After` is parsed defensively ([`parse_retry_after`]): seconds or an HTTP date, capped at
//!   [`MAX_RETRY_AFTER`], garbage ignored. A hostile `18446744073709551615` must not become a delay that
//!   overflows `Instant + Duration` further down.
//! - A response body is read through [`Paced`]: it must keep a minimum rate (at least `min_bytes` in every
//!   `window`) and finish before an overall deadline. Per-read timeouts alone let a body that trickles one
//!   byte a second hold a refresh, or a `sync`, for as long as the server likes.

use std::io::Read;
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

/// Why a response body was abandoned (carried inside the `std::io::Error` its reader returns).
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

/// A body reader that fails with [`Stalled`] (as `ErrorKind::TimedOut`) when the body falls below the
/// minimum rate or passes the deadline. Checked on each read: a read that blocks is bounded by the
/// client's own idle timeout.
pub(crate) struct Paced<R> {
    inner: R,
    pace: Pace,
    window_start: Instant,
    window_bytes: u64,
}

impl<R: Read> Paced<R> {
    /// Starts the first window now.
    pub fn new(inner: R, pace: Pace) -> Self {
        Self {
            inner,
            pace,
            window_start: Instant::now(),
            window_bytes: 0,
        }
    }

    fn check(&mut self) -> std::io::Result<()> {
        let now = Instant::now();
        if now >= self.pace.deadline {
            return Err(stalled(Stalled::Deadline {
                limit: self.pace.limit,
            }));
        }
        if now.saturating_duration_since(self.window_start) >= self.pace.window {
            if self.window_bytes < self.pace.min_bytes {
                return Err(stalled(Stalled::TooSlow {
                    received: self.window_bytes,
                    window: self.pace.window,
                    min_bytes: self.pace.min_bytes,
                }));
            }
            self.window_start = now;
            self.window_bytes = 0;
        }
        Ok(())
    }
}

impl<R: Read> Read for Paced<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.check()?;
        let read = self.inner.read(buf)?;
        self.window_bytes = self.window_bytes.saturating_add(read as u64);
        if read > 0 {
            self.check()?;
        }
        Ok(read)
    }
}

fn stalled(why: Stalled) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, why)
}

/// The [`Stalled`] reason inside an I/O error from a [`Paced`] reader, if that is what it is.
pub(crate) fn stalled_reason(err: &std::io::Error) -> Option<&Stalled> {
    err.get_ref().and_then(|inner| inner.downcast_ref::<Stalled>())
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
        /// Gives one byte per read, slowly.
        struct Drip;
        impl Read for Drip {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_millis(20));
                buf[0] = b'x';
                Ok(1)
            }
        }
        let pace = Pace::new(
            1024,
            Duration::from_millis(100),
            Instant::now(),
            Duration::from_secs(5),
        );
        let err = std::io::copy(&mut Paced::new(Drip, pace), &mut std::io::sink()).unwrap_err();
        assert!(
            matches!(
                stalled_reason(&err),
                Some(Stalled::TooSlow { min_bytes: 1024, .. })
            ),
            "{err}"
        );
        let pace = Pace::new(
            1,
            Duration::from_secs(5),
            Instant::now(),
            Duration::from_millis(100),
        );
        let err = std::io::copy(&mut Paced::new(Drip, pace), &mut std::io::sink()).unwrap_err();
        assert!(
            matches!(stalled_reason(&err), Some(Stalled::Deadline { .. })),
            "{err}"
        );
        let huge = Pace::new(0, Duration::MAX, Instant::now(), Duration::MAX);
        let mut quick = Paced::new(&b"{}"[..], huge);
        let mut out = Vec::new();
        quick.read_to_end(&mut out).unwrap();
        assert_eq!(
            out, b"{}",
            "limits too large for Instant mean no limit, not a panic"
        );
    }
}
