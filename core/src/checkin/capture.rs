//! Taking a fix from the host's location service: the best one within a time budget, stopping early when
//! one is accurate enough.

use std::time::Duration;

use super::rules::LocationFix;
use crate::Result;

/// The device's location service (Android FusedLocationProvider, iOS CoreLocation; the CLI and tests give
/// fixes from arguments or a GPS track).
pub trait LocationSource: Send + Sync {
    /// The next fix, waiting at most `timeout`; `None` when none arrived in time.
    fn next_fix(&self, timeout: Duration) -> Result<Option<LocationFix>>;
}

/// Monotonic time, so that tests can run the budget without sleeping.
pub trait Clock: Send + Sync {
    /// Time elapsed since an arbitrary origin.
    fn elapsed(&self) -> Duration;
}

/// The real monotonic clock.
#[derive(Debug)]
pub struct SystemClock(std::time::Instant);

impl Default for SystemClock {
    fn default() -> Self {
        Self(std::time::Instant::now())
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Asks `source` for fixes until one is at least `good_enough_m` accurate or `budget` is spent, and returns
/// the most accurate one seen (or `None`). Invalid fixes (NaN, 0,0...) are skipped.
pub fn capture_best_fix(
    source: &dyn LocationSource,
    clock: &dyn Clock,
    budget: Duration,
    good_enough_m: f64,
) -> Result<Option<LocationFix>> {
    let mut best: Option<LocationFix> = None;
    loop {
        let spent = clock.elapsed();
        if spent >= budget {
            return Ok(best);
        }
        let Some(fix) = source.next_fix(budget - spent)? else {
            return Ok(best);
        };
        if fix.validate().is_err() {
            continue;
        }
        if best.is_none_or(|best| fix.accuracy_m < best.accuracy_m) {
            best = Some(fix);
        }
        if fix.accuracy_m <= good_enough_m {
            return Ok(best);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A GPS track: each fix arrives after a delay on a fake clock.
    struct Track {
        fixes: Mutex<Vec<(Duration, LocationFix)>>,
        clock: FakeClock,
    }

    #[derive(Clone, Default)]
    struct FakeClock(std::sync::Arc<Mutex<Duration>>);

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            *self.0.lock().unwrap()
        }
    }

    impl LocationSource for Track {
        fn next_fix(&self, timeout: Duration) -> Result<Option<LocationFix>> {
            let mut fixes = self.fixes.lock().unwrap();
            if fixes.is_empty() {
                *self.clock.0.lock().unwrap() += timeout;
                return Ok(None);
            }
            let (delay, fix) = fixes.remove(0);
            if delay > timeout {
                *self.clock.0.lock().unwrap() += timeout;
                return Ok(None);
            }
            *self.clock.0.lock().unwrap() += delay;
            Ok(Some(fix))
        }
    }

    fn fix(accuracy_m: f64) -> LocationFix {
        LocationFix {
            latitude: 39.78,
            longitude: -89.65,
            accuracy_m,
            altitude_m: None,
            fix_time_ms: 1,
            is_mock: false,
        }
    }

    fn track(fixes: Vec<(u64, LocationFix)>) -> Track {
        let fixes = fixes
            .into_iter()
            .map(|(ms, fix)| (Duration::from_millis(ms), fix))
            .collect();
        Track {
            fixes: Mutex::new(fixes),
            clock: FakeClock::default(),
        }
    }

    #[test]
    fn stops_early_when_a_fix_is_good_enough() {
        let track = track(vec![(500, fix(60.0)), (500, fix(12.0)), (500, fix(3.0))]);
        let best = capture_best_fix(&track, &track.clock.clone(), Duration::from_secs(10), 15.0).unwrap();
        assert_eq!(best.unwrap().accuracy_m, 12.0);
        assert_eq!(track.clock.elapsed(), Duration::from_millis(1000));
    }

    #[test]
    fn keeps_the_best_fix_when_the_budget_runs_out() {
        let track = track(vec![
            (1000, fix(80.0)),
            (1000, fix(40.0)),
            (1000, fix(55.0)),
            (9000, fix(2.0)),
        ]);
        let best = capture_best_fix(&track, &track.clock.clone(), Duration::from_secs(5), 10.0).unwrap();
        assert_eq!(best.unwrap().accuracy_m, 40.0);
        assert_eq!(track.clock.elapsed(), Duration::from_secs(5));
    }

    #[test]
    fn skips_invalid_fixes_and_returns_none_without_any() {
        let mut zero = fix(1.0);
        zero.latitude = 0.0;
        zero.longitude = 0.0;
        let track = track(vec![(100, zero)]);
        assert_eq!(
            capture_best_fix(&track, &track.clock.clone(), Duration::from_secs(2), 10.0).unwrap(),
            None
        );
    }
}
