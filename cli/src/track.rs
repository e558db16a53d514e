//! Where the CLI's check-in fixes come from: the arguments (one fix) or a GPS track file replayed in real
//! time, through the core's `LocationSource` like a phone's GPS.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use fieldsync_core::checkin::LocationFix;
use serde::Deserialize;

use fieldsync_core::checkin::LocationSource;

/// The largest track file read: a day of one fix per second is a few MiB of JSON.
const MAX_TRACK_BYTES: u64 = 16 << 20;

#[derive(Debug, Deserialize)]
struct TrackPoint {
    latitude: f64,
    longitude: f64,
    accuracy_m: f64,
    #[serde(default)]
    altitude_m: Option<f64>,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default)]
    is_mock: bool,
}

/// Fixes delivered one after another, each after its delay; fix times are stamped on delivery.
pub struct TrackSource {
    points: Mutex<std::collections::VecDeque<(Duration, LocationFix)>>,
    single: bool,
}

impl TrackSource {
    /// One fix from the arguments.
    pub fn single(fix: LocationFix) -> Self {
        Self {
            points: Mutex::new([(Duration::ZERO, fix)].into()),
            single: true,
        }
    }

    /// A track file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = fieldsync_core::files::read_regular_text(path, MAX_TRACK_BYTES, "track")?;
        let points: Vec<TrackPoint> =
            serde_json::from_str(&text).with_context(|| format!("{} is not a GPS track", path.display()))?;
        let points = points
            .into_iter()
            .map(|point| {
                let fix = LocationFix {
                    latitude: point.latitude,
                    longitude: point.longitude,
                    accuracy_m: point.accuracy_m,
                    altitude_m: point.altitude_m,
                    fix_time_ms: 0,
                    is_mock: point.is_mock,
                };
                (Duration::from_millis(point.delay_ms), fix)
            })
            .collect();
        Ok(Self {
            points: Mutex::new(points),
            single: false,
        })
    }
}

impl TrackSource {
    /// The fix given on the command line, used without capture.
    pub fn given_fix(&self) -> Option<LocationFix> {
        if !self.single {
            return None;
        }
        self.points
            .lock()
            .ok()
            .and_then(|points| points.front().map(|(_, fix)| *fix))
    }
}

impl LocationSource for TrackSource {
    fn next_fix(&self, timeout: Duration) -> fieldsync_core::Result<Option<LocationFix>> {
        let next = self.points.lock().ok().and_then(|mut points| points.pop_front());
        let Some((delay, mut fix)) = next else {
            return Ok(None);
        };
        if delay > timeout {
            std::thread::sleep(timeout);
            return Ok(None);
        }
        std::thread::sleep(delay);
        fix.fix_time_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        Ok(Some(fix))
    }
}
