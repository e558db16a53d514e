//! Check-in: a field user proves presence at the property. The fix comes from the host's GPS through
//! [`LocationSource`]; [`assess`] validates it (pure, geodesic distance with `geo`); the store records the
//! check-in and its outbox entry in one durable transaction; the outbox delivers it later, exactly once in
//! effect, as an `uploadPictures` item with `fileType: "checkin"`.
//!
//! Defaults (per integration, `CheckInSettings`): geofence radius 200 m, accuracy limit 50 m, fix age
//! 120 s, clock skew 300 s, and a check-in outside the rules is recorded as *not certified* (or refused
//! when `refuse_uncertified` is on). A project without coordinates (from the provider or set by the host
//! from geocoding) records check-ins as "location not verifiable": never certified, never silently
//! accepted.

mod capture;
mod rules;

pub use capture::{Clock, LocationSource, SystemClock, capture_best_fix};
pub use rules::{Assessment, LocationFix, Reason, assess, geodesic_distance_m};
