//! Bulk generation of realistic work orders (benchmarks, load tests).
//!
//! The constant parts of the documents (work types with their two services, cities) are serialized once;
//! each order is then assembled by appending those fragments and a few generated values to a buffer, and
//! inserted with one prepared statement in the caller's transaction. That keeps 100,000 orders at a few
//! seconds even in a debug build, where `serde_json` and a cryptographic RNG per field would dominate.

use std::fmt::Write as _;
use std::time::Instant;

use rusqlite::Connection;
use serde_json::json;

use super::calendar::date_after;
use crate::error::ProviderError;
use crate::model::{BulkReport, BulkSpec};
use crate::store::orders::{self, BulkInserter};
use crate::store::users;

const DEFAULT_PREFIX: &str = "BLK-";
const DEFAULT_SEED: u64 = 0x00f1_e1d5_0c0d_e5ee;

/// (city, state, zip, latitude, longitude)
const CITIES: [(&str, &str, &str, f64, f64); 16] = [
    ("Columbus", "OH", "43215", 39.9612, -82.9988),
    ("Dearborn", "MI", "48124", 42.3223, -83.1763),
    ("Atlanta", "GA", "30309", 33.8120, -84.3872),
    ("Dallas", "TX", "75217", 32.7157, -96.6870),
    ("Phoenix", "AZ", "85017", 33.5092, -112.1289),
    ("Aurora", "CO", "80010", 39.7294, -104.8319),
    ("Tampa", "FL", "33606", 27.9300, -82.4860),
    ("Charlotte", "NC", "28226", 35.0866, -80.8307),
    ("Memphis", "TN", "38109", 35.0456, -90.0490),
    ("Indianapolis", "IN", "46218", 39.8083, -86.1000),
    ("Jacksonville", "FL", "32208", 30.3941, -81.6818),
    ("Las Vegas", "NV", "89110", 36.1716, -115.0580),
    ("Cleveland", "OH", "44105", 41.4503, -81.6196),
    ("Sacramento", "CA", "95824", 38.5181, -121.4383),
    ("Birmingham", "AL", "35211", 33.4590, -86.8720),
    ("Baltimore", "MD", "21215", 39.3450, -76.6830),
];

const STREETS: [&str; 16] = [
    "Maple",
    "Oak",
    "Pine",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hillcrest",
    "Park",
    "Sunset",
    "Highland",
    "Jefferson",
    "Lincoln",
    "Walnut",
    "Willow",
    "Meadowbrook",
];

const SUFFIXES: [&str; 8] = [
    "Street",
    "Avenue",
    "Drive",
    "Court",
    "Lane",
    "Road",
    "Boulevard",
    "Way",
];

/// (workOrderInfo, clientInstructions, [(serviceName, instructions); 2])
type WorkType = (&'static str, &'static str, [(&'static str, &'static str); 2]);

const WORK_TYPES: [WorkType; 6] = [
    (
        "Grass Cut - Recurring",
        "Cut to 2 inches, edge walks, blow off clippings.",
        [
            ("Grass Cut", "Photos from all four corners."),
            ("Shrub Trim", "Clear windows and doors."),
        ],
    ),
    (
        "Winterization - Dry Heat",
        "Blow out lines at 35 PSI, antifreeze in traps.",
        [
            ("Winterization", "Gauge holding 35 PSI."),
            ("Post Notices", "At panel and fixtures."),
        ],
    ),
    (
        "Occupancy Inspection",
        "Exterior only; do not contact occupants.",
        [
            ("Occupancy Check", "Utilities, vehicles, property."),
            ("Street View", "Street, both ways."),
        ],
    ),
    (
        "Debris Removal - Interior",
        "Up to 12 CYD; over allowable needs a bid.",
        [
            ("Debris Removal", "Each room before and after."),
            ("Broom Clean", "Sweep all floors."),
        ],
    ),
    (
        "Lock Change and Secure",
        "Rekey to the client code, install a lockbox.",
        [
            ("Lock Change", "Each new lock and key code."),
            ("Secure Openings", "Windows latched."),
        ],
    ),
    (
        "Exterior Inspection and Debris",
        "Full exterior; up to 4 CYD; bid roof damage.",
        [
            ("Exterior Inspection", "All elevations and roof."),
            ("Debris Removal", "Same-angle photos."),
        ],
    ),
];

/// SplitMix64: tiny, fast even unoptimized, and reproducible from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    /// A jitter in `-0.05..0.05` degrees, in whole 1e-4 steps.
    fn jitter(&mut self) -> f64 {
        let steps = i32::try_from(self.next() % 1_001).unwrap_or(0) - 500;
        f64::from(steps) / 10_000.0
    }
}

/// The constant JSON fragments, serialized once.
struct Fragments {
    /// Per work type: `"workOrderInfo":..,` and `"clientInstructions":..,"services":[..]`.
    work: Vec<(String, String)>,
    /// Per city: `"city":..,"state":..,"zip":..,"country":"US",`.
    cities: Vec<String>,
}

fn fragments() -> Result<Fragments, ProviderError> {
    let mut work = Vec::new();
    for (info, client_instructions, services) in WORK_TYPES {
        let services: Vec<_> = services
            .iter()
            .map(|(name, instructions)| json!({"serviceName": name, "instructions": instructions, "options": {}}))
            .collect();
        work.push((
            format!(r#""workOrderInfo":{},"#, serde_json::to_string(info)?),
            format!(
                r#""clientInstructions":{},"services":{}"#,
                serde_json::to_string(client_instructions)?,
                serde_json::to_string(&services)?
            ),
        ));
    }
    let cities = CITIES
        .iter()
        .map(|(city, state, zip, _, _)| {
            format!(r#""city":"{city}","state":"{state}","zip":"{zip}","country":"US","#)
        })
        .collect();
    Ok(Fragments { work, cities })
}

/// Inserts `spec.count` generated orders assigned to `spec.username`.
pub(crate) fn bulk_insert(conn: &Connection, now: i64, spec: &BulkSpec) -> Result<BulkReport, ProviderError> {
    let started = Instant::now();
    let user = users::require(conn, &spec.username)?;
    let prefix = spec.prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
    if prefix.len() > 32 || prefix.chars().any(char::is_control) {
        return Err(ProviderError::invalid(
            "prefix must be at most 32 printable characters",
        ));
    }
    let sequence_key = format!("bulk_seq:{prefix}");
    let last: u64 = orders::meta_get(conn, &sequence_key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut rng = Rng(spec.seed.unwrap_or(DEFAULT_SEED) ^ last);
    let fragments = fragments()?;
    let dates: Vec<String> = (0..30).map(|d| date_after(now, d)).collect();
    // The prefix and login are escaped once; the rest of each document is known-safe ASCII.
    let prefix_json = serde_json::to_string(prefix)?;
    let prefix_inner = &prefix_json[1..prefix_json.len() - 1];
    let assigned_json = serde_json::to_string(&user.username)?;

    let mut inserter = BulkInserter::new(conn, now, user.id)?;
    let mut doc = String::with_capacity(1024);
    let mut number_json = String::with_capacity(48);
    let mut json_bytes = 0u64;
    let (mut first_number, mut last_number) = (None, None);
    for seq in last + 1..=last + u64::from(spec.count) {
        let number = format!("{prefix}{seq:07}");
        number_json.clear();
        let _ = write!(number_json, "\"{prefix_inner}{seq:07}\"");
        let city = rng.below(CITIES.len());
        let (city_name, state, _, lat, lon) = CITIES[city];
        let kind = rng.below(WORK_TYPES.len());
        let (info, client, services) = (
            &fragments.work[kind].0,
            &fragments.work[kind].1,
            WORK_TYPES[kind].0,
        );
        let (house, street, suffix) = (
            100 + rng.below(9_900),
            STREETS[rng.below(STREETS.len())],
            SUFFIXES[rng.below(SUFFIXES.len())],
        );
        let due = &dates[1 + rng.below(dates.len() - 1)];

        doc.clear();
        let _ = write!(doc, r#"{{"workOrderNumber":{number_json},"#);
        doc.push_str(info);
        let _ = write!(doc, r#""address1":"{house} {street} {suffix}","address2":"","#);
        doc.push_str(&fragments.cities[city]);
        let _ = write!(
            doc,
            r#""assignedTo":{assigned_json},"status":"{}","dueDate":"{due}","startDate":"{}","#,
            if rng.below(10) == 0 { "RUSH" } else { "" },
            dates[0]
        );
        doc.push_str(r#""instructions":"Check in on arrival.","#);
        let _ = write!(doc, r#""clientStatus":"Open","clientDueDate":"{due}","#);
        doc.push_str(client);
        let _ = write!(
            doc,
            r#","description":"{services}, {city_name} {state}","reference":"LN-{:07}","gpsLatitude":{:.4},"gpsLongitude":{:.4},"options":{{"check_in_required":{}}}}}"#,
            1_000_000 + rng.below(8_999_999),
            lat + rng.jitter(),
            lon + rng.jitter(),
            rng.below(2) == 0
        );
        inserter.insert(&number, &number_json, &doc)?;
        json_bytes += doc.len() as u64;
        if first_number.is_none() {
            first_number = Some(number.clone());
        }
        last_number = Some(number);
    }
    drop(inserter);
    orders::meta_set(conn, &sequence_key, &(last + u64::from(spec.count)).to_string())?;
    Ok(BulkReport {
        username: user.username,
        count: spec.count,
        first_number,
        last_number,
        json_bytes,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::store::Store;
    use std::sync::Arc;

    #[test]
    fn generated_documents_are_valid_json_of_realistic_size() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("p.db"), Arc::new(Clock::default())).unwrap();
        let spec = BulkSpec {
            username: "v".into(),
            count: 200,
            prefix: Some("Q\"-".into()),
            seed: Some(7),
        };
        let report = store
            .write(|tx, now| {
                users::insert(tx, now, "v", "x", "t")?;
                bulk_insert(tx, now, &spec)
            })
            .unwrap();
        assert_eq!(report.first_number.as_deref(), Some("Q\"-0000001"));
        let docs: Vec<String> = store
            .read(|conn| {
                let mut stmt = conn.prepare("SELECT doc FROM work_orders")?;
                let rows = stmt.query_map([], |row| row.get(0))?;
                Ok::<_, ProviderError>(rows.collect::<Result<_, _>>()?)
            })
            .unwrap();
        let average = report.json_bytes / 200;
        assert!(
            (600..=800).contains(&average),
            "average {average}, e.g. {}",
            docs[0]
        );
        for doc in docs {
            let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
            assert_eq!(value["services"].as_array().unwrap().len(), 2);
            assert!(value["gpsLatitude"].is_f64());
            assert!(value["workOrderNumber"].as_str().unwrap().starts_with("Q\"-"));
        }
    }
}
