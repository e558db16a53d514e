//! Shared helpers for fieldsync's black-box tests and benchmarks: realistic getWorkOrders responses, the
//! photo fixtures and the one end-to-end test world ([`world`]).
//!
//! Responses are written as a stream so that a 100,000-order body never sits in memory.

pub mod photos;
pub mod world;

use std::io::{self, Write};

/// Streets, cities and services drawn from to make orders look like a provider's account.
const STREETS: &[&str] = &[
    "Elm St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Pine Ct",
    "Birch Rd",
    "Walnut Way",
    "Willow Pl",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Springfield", "IL", "62701"),
    ("Atlanta", "GA", "30301"),
    ("Columbus", "OH", "43004"),
    ("Tampa", "FL", "33601"),
    ("Phoenix", "AZ", "85001"),
    ("Dallas", "TX", "75201"),
];
const SERVICES: &[(&str, &str)] = &[
    (
        "Lawn Cut",
        "Cut front, back and sides; edge walks and driveway; blow off hard surfaces.",
    ),
    (
        "Winterization",
        "Drain all lines, blow out with air, add antifreeze to traps, post winterization notice.",
    ),
    (
        "Debris Removal",
        "Remove all interior and exterior debris; photos of each pile before and after, with a yardstick.",
    ),
    (
        "Inspection",
        "Exterior occupancy inspection; photos of address, front, both sides, rear and street view.",
    ),
    (
        "Lock Change",
        "Rekey front and rear doors to the provider key code; install lockbox on the front door.",
    ),
];

/// How a generated order differs between two versions of the same account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    /// The original account.
    Original,
    /// Every order changed (client instructions and due date).
    Changed,
}

/// Writes one realistic work order (about 700 bytes of JSON, two services).
pub fn write_order(out: &mut impl Write, index: u64, revision: Revision) -> io::Result<()> {
    let street = STREETS[(index % STREETS.len() as u64) as usize];
    let (city, state, zip) = CITIES[(index / 7 % CITIES.len() as u64) as usize];
    let first = SERVICES[(index % SERVICES.len() as u64) as usize];
    let second = SERVICES[((index + 2) % SERVICES.len() as u64) as usize];
    let (instructions, due_day) = match revision {
        Revision::Original => (
            "Photos of all sides before and after. Call the office if the property is occupied.",
            1,
        ),
        Revision::Changed => (
            "UPDATED: rush order. Photos of all sides before and after; note any damage found.",
            2,
        ),
    };
    let latitude = 33.0 + (index % 1000) as f64 / 1000.0;
    let longitude = -84.0 - (index % 777) as f64 / 1000.0;
    write!(
        out,
        r#"{{"workOrderNumber":"WO-{index:07}","workOrderInfo":"{} / {}","address1":"{} {street}","address2":"","city":"{city}","state":"{state}","zip":"{zip}","country":"US","assignedTo":"crew-{}","status":"","dueDate":"2026-12-{due_day:02}","instructions":"","clientStatus":"Open","clientDueDate":"2026-12-{:02}","clientInstructions":"{instructions}","description":"Recurring property preservation work order","reference":"LN-{:09}","gpsLatitude":{latitude:.6},"gpsLongitude":{longitude:.6},"options":{{"check_in_required":{}}},"services":[{{"serviceName":"{}","instructions":"{}"}},{{"serviceName":"{}","instructions":"{}"}}]}}"#,
        first.0,
        second.0,
        100 + index % 9800,
        index % 5,
        1 + index % 28,
        index * 7919 % 1_000_000_000,
        index.is_multiple_of(3),
        first.0,
        first.1,
        second.0,
        second.1,
    )
}

/// Writes a getWorkOrders response with the orders `range`, where orders in `changed` use
/// [`Revision::Changed`].
pub fn write_response(
    out: &mut impl Write,
    range: std::ops::Range<u64>,
    changed: std::ops::Range<u64>,
) -> io::Result<()> {
    out.write_all(br#"{"error":"","workOrders":["#)?;
    for (position, index) in range.enumerate() {
        if position > 0 {
            out.write_all(b",")?;
        }
        let revision = if changed.contains(&index) {
            Revision::Changed
        } else {
            Revision::Original
        };
        write_order(out, index, revision)?;
    }
    out.write_all(b"]}")
}

/// Writes a response to a file and returns its size in bytes.
pub fn write_response_file(
    path: &std::path::Path,
    range: std::ops::Range<u64>,
    changed: std::ops::Range<u64>,
) -> io::Result<u64> {
    let mut out = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    write_response(&mut out, range, changed)?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_orders_are_valid_work_orders_of_realistic_size() {
        let mut body = Vec::new();
        write_response(&mut body, 0..100, 50..60).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let orders = value["workOrders"].as_array().unwrap();
        assert_eq!(orders.len(), 100);
        assert_eq!(orders[0]["services"].as_array().unwrap().len(), 2);
        let average = body.len() / 100;
        assert!(
            (500..1000).contains(&average),
            "average order size {average} bytes"
        );
        assert_ne!(orders[55]["clientInstructions"], orders[45]["clientInstructions"]);
    }
}
