//! Which provider time becomes an integration's sync cursor after an import.
//!
//! The next Refresh asks for changes since the cursor (minus a small overlap). A cursor that is too late
//! silently skips changes forever; one that is too early only fetches orders again, which fingerprints make
//! cheap. So a `serverTime` is checked before it is trusted, and a doubtful one is never stored: the cursor
//! falls back to the response's HTTP `Date` (the same provider's clock, read by its HTTP stack) or stays
//! where it was.
//!
//! The device clock is used only to recognise an absurd time when the response has no `Date`: it is never
//! stored.

use crate::model::{Timestamp, format_timestamp};

/// How far `serverTime` and the HTTP `Date` header of the same response may differ. Both are the provider's
/// clock, read moments apart; units (milliseconds), years and time zones differ by far more.
pub(crate) const DATE_TOLERANCE_SECS: i64 = 24 * 60 * 60;

/// How far a cursor may go back before the previous one (a provider's clock corrected by a few hours is
/// fine; going back further means the value is not the clock the previous one came from).
pub(crate) const BACKWARD_TOLERANCE_SECS: i64 = 24 * 60 * 60;

/// How far ahead of the device clock a provider time may be when there is no `Date` to compare it with.
pub(crate) const AHEAD_OF_DEVICE_SECS: i64 = 24 * 60 * 60;

/// 2000-01-01T00:00:00Z: no provider answered before this, so an earlier time is not a clock reading.
pub(crate) const EARLIEST_PLAUSIBLE: Timestamp = 946_684_800;

/// The cursor to store and, when `serverTime` was not taken, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CursorChoice {
    /// The new cursor; `None` leaves the stored one as it is.
    pub cursor: Option<Timestamp>,
    /// Set when `serverTime` (or the `Date` header standing in for it) was refused.
    pub note: Option<String>,
}

/// Chooses the cursor from the response's `serverTime`, its HTTP `Date` header, the previous cursor and
/// the device clock (only to spot absurd values when there is no `Date`).
pub(crate) fn choose(
    server_time: Option<Timestamp>,
    date_header: Option<Timestamp>,
    previous: Option<Timestamp>,
    device_now: Timestamp,
) -> CursorChoice {
    // The Date header is only a fallback or a reference once it is itself a plausible time.
    let date = date_header.filter(|&date| doubt(date, None, previous, device_now).is_none());
    let Some(server_time) = server_time else {
        return match (date_header, date) {
            (_, Some(date)) => CursorChoice {
                cursor: Some(date),
                note: None,
            },
            (Some(refused), None) => CursorChoice {
                cursor: None,
                note: Some(format!(
                    "no serverTime, and the Date header {} is not plausible ({}); the cursor stays at {}",
                    describe(refused),
                    doubt(refused, None, previous, device_now).unwrap_or_default(),
                    describe_cursor(previous)
                )),
            },
            (None, None) => CursorChoice {
                cursor: None,
                note: None,
            },
        };
    };
    match doubt(server_time, date, previous, device_now) {
        None => CursorChoice {
            cursor: Some(server_time),
            note: None,
        },
        Some(reason) => {
            let (cursor, instead) = match date {
                Some(date) => (Some(date), format!("the Date header {} is used", describe(date))),
                None => (None, format!("the cursor stays at {}", describe_cursor(previous))),
            };
            CursorChoice {
                cursor,
                note: Some(format!(
                    "serverTime {} refused ({reason}); {instead}",
                    describe(server_time)
                )),
            }
        }
    }
}

/// Why `time` is not a plausible provider clock, or `None` when it is.
fn doubt(
    time: Timestamp,
    date: Option<Timestamp>,
    previous: Option<Timestamp>,
    device_now: Timestamp,
) -> Option<String> {
    if time < EARLIEST_PLAUSIBLE {
        return Some("before 2000".into());
    }
    match date {
        Some(date) => {
            let apart = time.checked_sub(date).map(i64::unsigned_abs);
            if apart.is_none_or(|apart| apart > DATE_TOLERANCE_SECS.unsigned_abs()) {
                return Some(format!(
                    "more than {} h from the Date header {}",
                    DATE_TOLERANCE_SECS / 3600,
                    describe(date)
                ));
            }
        }
        None => {
            if time > device_now.saturating_add(AHEAD_OF_DEVICE_SECS) {
                return Some(format!(
                    "more than {} h after the device clock, with no Date header to compare",
                    AHEAD_OF_DEVICE_SECS / 3600
                ));
            }
        }
    }
    // The previous cursor counts only when it is plausible itself: one stored by a version that took any
    // serverTime must be replaced by a good time, not defended against it.
    let reference = date.unwrap_or(device_now);
    if let Some(previous) = previous
        && previous >= EARLIEST_PLAUSIBLE
        && previous <= reference.saturating_add(DATE_TOLERANCE_SECS)
        && time < previous.saturating_sub(BACKWARD_TOLERANCE_SECS)
    {
        return Some(format!(
            "more than {} h before the previous cursor {}",
            BACKWARD_TOLERANCE_SECS / 3600,
            describe(previous)
        ));
    }
    None
}

fn describe(time: Timestamp) -> String {
    // `format_timestamp` falls back to the bare number for times `time` cannot represent.
    let text = format_timestamp(time);
    if text == time.to_string() {
        text
    } else {
        format!("{time} ({text})")
    }
}

fn describe_cursor(previous: Option<Timestamp>) -> String {
    previous.map_or_else(|| "none (the next Refresh asks for everything)".into(), describe)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23T12:00:00Z.
    const NOW: Timestamp = 1_795_435_200;

    #[test]
    fn a_server_time_matching_the_date_header_becomes_the_cursor() {
        let choice = choose(Some(NOW + 3), Some(NOW), Some(NOW - 900), NOW);
        assert_eq!(
            choice,
            CursorChoice {
                cursor: Some(NOW + 3),
                note: None
            }
        );
        // A provider clock pinned minutes ahead of its HTTP stack is still its clock.
        assert_eq!(
            choose(Some(NOW + 1800), Some(NOW), None, NOW).cursor,
            Some(NOW + 1800)
        );
    }

    #[test]
    fn bogus_server_time_never_becomes_the_cursor() {
        for bogus in [NOW * 1000, NOW + 3 * 365 * 86_400, i64::MIN, i64::MAX, 0, -1] {
            // With a Date header: the header is used instead.
            let choice = choose(Some(bogus), Some(NOW), Some(NOW - 900), NOW);
            assert_eq!(choice.cursor, Some(NOW), "{bogus}");
            let note = choice.note.unwrap();
            assert!(
                note.contains("refused") && note.contains(&bogus.to_string()),
                "{note}"
            );
            // Without one: the previous cursor stays (or none is stored).
            for previous in [Some(NOW - 900), None] {
                let choice = choose(Some(bogus), None, previous, NOW);
                assert_eq!(choice.cursor, None, "{bogus}");
                assert!(choice.note.unwrap().contains("stays"));
            }
        }
    }

    #[test]
    fn a_server_time_far_behind_the_previous_cursor_is_refused() {
        let choice = choose(Some(NOW - 10 * 86_400), None, Some(NOW), NOW);
        assert_eq!(choice.cursor, None);
        assert!(choice.note.unwrap().contains("previous cursor"));
        // A few hours back (a corrected provider clock) is taken.
        assert_eq!(
            choose(Some(NOW - 7200), None, Some(NOW), NOW).cursor,
            Some(NOW - 7200)
        );
    }

    #[test]
    fn an_implausible_previous_cursor_does_not_block_a_good_time() {
        // Stored by a version that took any serverTime.
        let choice = choose(Some(NOW), Some(NOW), Some(NOW * 1000), NOW);
        assert_eq!(
            choice,
            CursorChoice {
                cursor: Some(NOW),
                note: None
            }
        );
        assert_eq!(choose(Some(NOW), None, Some(i64::MAX), NOW).cursor, Some(NOW));
    }

    #[test]
    fn the_date_header_stands_in_for_a_missing_server_time_when_plausible() {
        assert_eq!(choose(None, Some(NOW), None, NOW).cursor, Some(NOW));
        assert_eq!(
            choose(None, None, Some(NOW), NOW),
            CursorChoice {
                cursor: None,
                note: None
            }
        );
        let choice = choose(None, Some(12), Some(NOW), NOW);
        assert_eq!(choice.cursor, None);
        assert!(choice.note.unwrap().contains("Date header"));
    }
}
