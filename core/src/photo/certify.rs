//! Photo certification **[ours, after Pruvan's]**: time is certified when the photo was taken within 12 hours
//! of its first upload; location when its fix lies within the project's geofence.

use crate::checkin::geodesic_distance_m;
use crate::model::Timestamp;

/// How far the capture time may be from the first upload.
pub const TIME_WINDOW_S: i64 = 12 * 3600;

/// True when `capture_time` is known and within [`TIME_WINDOW_S`] before (or a little after, for clock
/// drift) `first_upload`.
pub fn time_certified(capture_time: Option<Timestamp>, first_upload: Timestamp) -> bool {
    capture_time.is_some_and(|taken| (first_upload - taken).abs() <= TIME_WINDOW_S)
}

/// The distance from the photo's position to the property, and whether it is inside the geofence. `None`
/// when either position is unknown (not certified).
pub fn location(
    photo: Option<(f64, f64)>,
    property: Option<(f64, f64)>,
    radius_m: f64,
) -> Option<(f64, bool)> {
    let distance = geodesic_distance_m(photo?, property?);
    Some((distance, distance <= radius_m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_certified_within_twelve_hours_of_the_first_upload() {
        let upload = 1_800_000_000;
        assert!(time_certified(Some(upload - 3_600), upload));
        assert!(time_certified(Some(upload - TIME_WINDOW_S), upload));
        assert!(!time_certified(Some(upload - TIME_WINDOW_S - 1), upload));
        assert!(!time_certified(None, upload));
    }

    #[test]
    fn location_is_certified_inside_the_geofence() {
        let property = (39.78170, -89.65010);
        let (distance, inside) = location(Some((39.78170, -89.64893)), Some(property), 200.0).unwrap();
        assert!((distance - 100.2282).abs() < 0.5);
        assert!(inside);
        assert!(
            !location(Some((39.79, -89.65010)), Some(property), 200.0)
                .unwrap()
                .1
        );
        assert_eq!(location(None, Some(property), 200.0), None);
        assert_eq!(location(Some(property), None, 200.0), None);
    }
}
