//! The check-in rules: plain functions over plain data.

use geo::{Distance, Geodesic, Point};
use serde::{Deserialize, Serialize};

use crate::model::{CheckInSettings, InvalidInput, Timestamp};

/// One position from the device's location service.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocationFix {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Horizontal accuracy (radius, metres, 68% confidence as the platforms report it).
    pub accuracy_m: f64,
    /// Altitude in metres, if known.
    pub altitude_m: Option<f64>,
    /// When the fix was taken (GPS time), Unix milliseconds.
    pub fix_time_ms: i64,
    /// The OS flagged the fix as coming from a mock location provider.
    pub is_mock: bool,
}

impl LocationFix {
    /// Refuses values no real fix can have: NaN or infinite numbers, coordinates out of range, exactly
    /// (0, 0) (an uninitialised fix), a negative accuracy, an absurd altitude.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let finite = |value: f64, field: &str| {
            if value.is_finite() {
                Ok(())
            } else {
                Err(InvalidInput::new(field, format!("{value} is not a number")))
            }
        };
        finite(self.latitude, "latitude")?;
        finite(self.longitude, "longitude")?;
        finite(self.accuracy_m, "accuracy")?;
        if !(-90.0..=90.0).contains(&self.latitude) {
            return Err(InvalidInput::new(
                "latitude",
                format!("{} is outside -90..90", self.latitude),
            ));
        }
        if !(-180.0..=180.0).contains(&self.longitude) {
            return Err(InvalidInput::new(
                "longitude",
                format!("{} is outside -180..180", self.longitude),
            ));
        }
        if self.latitude == 0.0 && self.longitude == 0.0 {
            return Err(InvalidInput::new(
                "location",
                "exactly 0,0 is an uninitialised fix, not a position",
            ));
        }
        if self.accuracy_m < 0.0 {
            return Err(InvalidInput::new(
                "accuracy",
                format!("{} m cannot be negative", self.accuracy_m),
            ));
        }
        if let Some(altitude) = self.altitude_m {
            finite(altitude, "altitude")?;
            if !(-1_000.0..=10_000.0).contains(&altitude) {
                return Err(InvalidInput::new(
                    "altitude",
                    format!("{altitude} m is not on the ground"),
                ));
            }
        }
        if self.fix_time_ms <= 0 {
            return Err(InvalidInput::new("fix_time", "the fix has no time"));
        }
        Ok(())
    }
}

/// Why a check-in is not certified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// The fix is farther from the property than the geofence radius.
    OutsideGeofence {
        /// Distance to the property, metres.
        distance_m: f64,
        /// The radius, metres.
        radius_m: f64,
    },
    /// The fix is less accurate than the limit.
    AccuracyTooLow {
        /// The fix's accuracy, metres.
        accuracy_m: f64,
        /// The limit, metres.
        limit_m: f64,
    },
    /// The fix is older than the limit.
    StaleFix {
        /// Its age, seconds.
        age_s: i64,
        /// The limit, seconds.
        limit_s: u32,
    },
    /// The fix's time and the device clock disagree (a fix from the future, or a wrong device clock).
    ClockSkew {
        /// Fix time minus device time, seconds.
        skew_s: i64,
        /// The limit, seconds.
        limit_s: u32,
    },
    /// The OS flagged the fix as mocked.
    MockLocation,
    /// The project has no coordinates to compare with.
    LocationNotVerifiable,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OutsideGeofence { distance_m, radius_m } => {
                write!(
                    f,
                    "{distance_m:.0} m from the property, outside the {radius_m:.0} m geofence"
                )
            }
            Self::AccuracyTooLow { accuracy_m, limit_m } => {
                write!(
                    f,
                    "accuracy {accuracy_m:.0} m is worse than the {limit_m:.0} m limit"
                )
            }
            Self::StaleFix { age_s, limit_s } => write!(f, "the fix is {age_s} s old (limit {limit_s} s)"),
            Self::ClockSkew { skew_s, limit_s } => {
                write!(
                    f,
                    "the fix time is {skew_s} s off the device clock (limit {limit_s} s)"
                )
            }
            Self::MockLocation => f.write_str("the OS flagged the location as mocked"),
            Self::LocationNotVerifiable => {
                f.write_str("the project has no coordinates: location not verifiable")
            }
        }
    }
}

/// The verdict on a fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// True when no rule failed.
    pub certified: bool,
    /// Geodesic distance to the property, metres (none without property coordinates).
    pub distance_m: Option<f64>,
    /// Every rule that failed.
    pub reasons: Vec<Reason>,
}

/// Geodesic distance on the WGS84 ellipsoid (Karney's algorithm), metres.
pub fn geodesic_distance_m(from: (f64, f64), to: (f64, f64)) -> f64 {
    Geodesic.distance(Point::new(from.1, from.0), Point::new(to.1, to.0))
}

/// Checks a (valid) fix against the property at `property` (latitude, longitude), at device time `now`.
pub fn assess(
    fix: &LocationFix,
    property: Option<(f64, f64)>,
    settings: &CheckInSettings,
    now: Timestamp,
) -> Assessment {
    let mut reasons = Vec::new();
    let distance_m = property.map(|property| geodesic_distance_m((fix.latitude, fix.longitude), property));
    match distance_m {
        Some(distance_m) if distance_m > settings.geofence_radius_m => {
            reasons.push(Reason::OutsideGeofence {
                distance_m,
                radius_m: settings.geofence_radius_m,
            });
        }
        Some(_) => {}
        None => reasons.push(Reason::LocationNotVerifiable),
    }
    if fix.accuracy_m > settings.max_accuracy_m {
        reasons.push(Reason::AccuracyTooLow {
            accuracy_m: fix.accuracy_m,
            limit_m: settings.max_accuracy_m,
        });
    }
    let skew_s = fix.fix_time_ms.div_euclid(1000) - now;
    if skew_s > i64::from(settings.max_clock_skew_s) {
        reasons.push(Reason::ClockSkew {
            skew_s,
            limit_s: settings.max_clock_skew_s,
        });
    } else if -skew_s > i64::from(settings.max_fix_age_s) {
        reasons.push(Reason::StaleFix {
            age_s: -skew_s,
            limit_s: settings.max_fix_age_s,
        });
    }
    if fix.is_mock {
        reasons.push(Reason::MockLocation);
    }
    Assessment {
        certified: reasons.is_empty(),
        distance_m,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_795_000_000;
    const PROPERTY: (f64, f64) = (39.78170, -89.65010);

    fn fix(latitude: f64, longitude: f64) -> LocationFix {
        LocationFix {
            latitude,
            longitude,
            accuracy_m: 8.0,
            altitude_m: Some(180.0),
            fix_time_ms: NOW * 1000 - 5_000,
            is_mock: false,
        }
    }

    /// Reference distances from GeographicLib 2.0 (Karney's own implementation, Python), WGS84 inverse.
    #[test]
    fn distances_match_an_independent_geodesic_reference_within_half_a_metre() {
        let cases = [
            ((39.78170, -89.65010), (39.78170, -89.64893), 100.2282),
            ((33.98700, -84.47710), (33.98745, -84.47682), 56.2214),
            ((27.94700, -82.48100), (27.96000, -82.45000), 3373.5975),
            ((89.9, 0.0), (89.9, 180.0), 22338.7957),
            ((-16.8, 179.99), (-16.8, -179.99), 2131.9626),
            ((0.0, 10.0), (0.0, 11.0), 111319.4908),
        ];
        for (from, to, expected) in cases {
            let distance = geodesic_distance_m(from, to);
            assert!(
                (distance - expected).abs() < 0.5,
                "{from:?} -> {to:?}: {distance} vs {expected}"
            );
        }
    }

    #[test]
    fn a_fresh_accurate_fix_at_the_property_is_certified() {
        let assessment = assess(
            &fix(39.78175, -89.65005),
            Some(PROPERTY),
            &CheckInSettings::default(),
            NOW,
        );
        assert!(assessment.certified, "{assessment:?}");
        assert!(assessment.distance_m.unwrap() < 10.0);
    }

    #[test]
    fn a_fix_outside_the_geofence_is_not_certified() {
        let assessment = assess(
            &fix(39.78170, -89.64893),
            Some(PROPERTY),
            &CheckInSettings {
                geofence_radius_m: 50.0,
                ..Default::default()
            },
            NOW,
        );
        assert!(!assessment.certified);
        let Reason::OutsideGeofence { distance_m, radius_m } = assessment.reasons[0] else {
            panic!()
        };
        assert!((distance_m - 100.2282).abs() < 0.5);
        assert_eq!(radius_m, 50.0);
    }

    #[test]
    fn the_geofence_boundary_is_inclusive() {
        let settings = CheckInSettings {
            geofence_radius_m: 100.3,
            ..Default::default()
        };
        assert!(assess(&fix(39.78170, -89.64893), Some(PROPERTY), &settings, NOW).certified);
    }

    #[test]
    fn an_inaccurate_fix_is_not_certified() {
        let mut poor = fix(39.78170, -89.65010);
        poor.accuracy_m = 120.0;
        let assessment = assess(&poor, Some(PROPERTY), &CheckInSettings::default(), NOW);
        assert_eq!(
            assessment.reasons,
            [Reason::AccuracyTooLow {
                accuracy_m: 120.0,
                limit_m: 50.0
            }]
        );
    }

    #[test]
    fn a_stale_fix_is_not_certified() {
        let mut old = fix(39.78170, -89.65010);
        old.fix_time_ms = (NOW - 600) * 1000;
        let assessment = assess(&old, Some(PROPERTY), &CheckInSettings::default(), NOW);
        assert_eq!(
            assessment.reasons,
            [Reason::StaleFix {
                age_s: 600,
                limit_s: 120
            }]
        );
    }

    #[test]
    fn a_fix_from_the_future_reveals_clock_skew() {
        let mut future = fix(39.78170, -89.65010);
        future.fix_time_ms = (NOW + 3_600) * 1000;
        let assessment = assess(&future, Some(PROPERTY), &CheckInSettings::default(), NOW);
        assert_eq!(
            assessment.reasons,
            [Reason::ClockSkew {
                skew_s: 3_600,
                limit_s: 300
            }]
        );
        future.fix_time_ms = (NOW + 60) * 1000;
        assert!(
            assess(&future, Some(PROPERTY), &CheckInSettings::default(), NOW).certified,
            "small skew tolerated"
        );
    }

    #[test]
    fn a_mocked_fix_is_not_certified() {
        let mut mocked = fix(39.78170, -89.65010);
        mocked.is_mock = true;
        assert_eq!(
            assess(&mocked, Some(PROPERTY), &CheckInSettings::default(), NOW).reasons,
            [Reason::MockLocation]
        );
    }

    #[test]
    fn without_property_coordinates_the_location_is_not_verifiable() {
        let assessment = assess(&fix(39.78170, -89.65010), None, &CheckInSettings::default(), NOW);
        assert!(!assessment.certified);
        assert_eq!(assessment.distance_m, None);
        assert_eq!(assessment.reasons, [Reason::LocationNotVerifiable]);
    }

    #[test]
    fn every_failed_rule_is_reported() {
        let mut bad = fix(39.79, -89.65010);
        bad.accuracy_m = 300.0;
        bad.is_mock = true;
        bad.fix_time_ms = (NOW - 1_000) * 1000;
        let reasons = assess(&bad, Some(PROPERTY), &CheckInSettings::default(), NOW).reasons;
        assert_eq!(reasons.len(), 4, "{reasons:?}");
    }

    #[test]
    fn impossible_fixes_are_refused() {
        let good = fix(39.78170, -89.65010);
        let cases: [(&str, LocationFix); 9] = [
            (
                "latitude",
                LocationFix {
                    latitude: f64::NAN,
                    ..good
                },
            ),
            (
                "longitude",
                LocationFix {
                    longitude: f64::INFINITY,
                    ..good
                },
            ),
            (
                "latitude",
                LocationFix {
                    latitude: 90.5,
                    ..good
                },
            ),
            (
                "longitude",
                LocationFix {
                    longitude: -180.1,
                    ..good
                },
            ),
            (
                "location",
                LocationFix {
                    latitude: 0.0,
                    longitude: 0.0,
                    ..good
                },
            ),
            (
                "accuracy",
                LocationFix {
                    accuracy_m: -1.0,
                    ..good
                },
            ),
            (
                "accuracy",
                LocationFix {
                    accuracy_m: f64::NAN,
                    ..good
                },
            ),
            (
                "altitude",
                LocationFix {
                    altitude_m: Some(f64::NAN),
                    ..good
                },
            ),
            (
                "fix_time",
                LocationFix {
                    fix_time_ms: 0,
                    ..good
                },
            ),
        ];
        for (field, case) in cases {
            let err = case.validate().expect_err(field);
            assert_eq!(err.field, field, "{case:?}");
        }
        assert!(good.validate().is_ok());
        assert!(
            LocationFix {
                latitude: 0.0,
                longitude: 3.2,
                ..good
            }
            .validate()
            .is_ok(),
            "the equator is real"
        );
    }
}
