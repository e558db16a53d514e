//! The provider's clock: real time by default, pinned or shifted by the admin for deterministic tests.
//!
//! Every timestamp the emulator stores (`updated_at`, unassign and delete events) and the `serverTime`
//! it answers come from this clock, so a test can pin the time, make a change, advance the time and
//! check exactly what an incremental `getWorkOrders` returns, without sleeping.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, Default)]
enum Mode {
    #[default]
    Real,
    /// Real time plus an offset in seconds.
    Offset(i64),
    /// A fixed instant that only moves when the admin advances it.
    Pinned(i64),
}

/// A settable clock in Unix seconds.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    mode: Mutex<Mode>,
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Clock {
    fn mode(&self) -> std::sync::MutexGuard<'_, Mode> {
        self.mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Current provider time in Unix seconds.
    pub(crate) fn now(&self) -> i64 {
        match *self.mode() {
            Mode::Real => real_now(),
            Mode::Offset(offset) => real_now().saturating_add(offset),
            Mode::Pinned(at) => at,
        }
    }

    /// Pins the clock at `at`, or returns to real time with `None`.
    pub(crate) fn set(&self, at: Option<i64>) {
        *self.mode() = at.map_or(Mode::Real, Mode::Pinned);
    }

    /// Moves the clock forward (or back, with a negative value) by `secs`.
    pub(crate) fn advance(&self, secs: i64) -> i64 {
        let mut mode = self.mode();
        *mode = match *mode {
            Mode::Real => Mode::Offset(secs),
            Mode::Offset(offset) => Mode::Offset(offset.saturating_add(secs)),
            Mode::Pinned(at) => Mode::Pinned(at.saturating_add(secs)),
        };
        drop(mode);
        self.now()
    }

    /// Whether the clock is pinned.
    pub(crate) fn is_pinned(&self) -> bool {
        matches!(*self.mode(), Mode::Pinned(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_clock_moves_only_when_advanced() {
        let clock = Clock::default();
        clock.set(Some(1_000));
        assert_eq!(clock.now(), 1_000);
        assert_eq!(clock.advance(5), 1_005);
        assert!(clock.is_pinned());
        clock.set(None);
        assert!(clock.now() > 1_600_000_000);
    }
}
